//===- SSMDialect.cpp - SSM dialect -----------------------------*- C++ -*-===//
//
// Registration of the ssm dialect's ops and attributes, and the verifiers of
// its attributes.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/SSMDialect.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ssm;

#include "ssmc/Dialect/SSM/SSMOpsDialect.cpp.inc"

#include "ssmc/Dialect/SSM/SSMEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ssmc/Dialect/SSM/SSMAttrs.cpp.inc"

void SSMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ssmc/Dialect/SSM/SSMOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ssmc/Dialect/SSM/SSMAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Attribute verifiers
//===----------------------------------------------------------------------===//

LogicalResult TileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t threads, int64_t items, int64_t chunk,
                               int64_t stages, int64_t lanes, int64_t fmaExps,
                               int64_t steps, bool warpgroup) {
  if (threads < 32 || threads > 1024 || threads % 32 != 0)
    return emitError() << "threads = " << threads
                       << " must be a multiple of 32 in [32, 1024]";
  if (items < 1 || items > 64 || !llvm::isPowerOf2_64(items))
    return emitError() << "items = " << items
                       << " must be a power of two in [1, 64]";
  if (chunk < 0 || (chunk > 0 && chunk % items != 0))
    return emitError() << "chunk = " << chunk
                       << " must be 0 (set at launch) or a positive multiple "
                          "of items = "
                       << items;
  if (stages < 1 || stages > 3)
    return emitError() << "stages = " << stages << " must be in [1, 3]";
  if (lanes < 1 || lanes > 32 || !llvm::isPowerOf2_64(lanes) ||
      items % lanes != 0)
    return emitError() << "lanes = " << lanes
                       << " must be a power of two in [1, 32] dividing items = "
                       << items;
  if (fmaExps < 0)
    return emitError() << "fma_exps = " << fmaExps << " must not be negative";
  if (steps < 0)
    return emitError() << "steps = " << steps << " must not be negative";
  if (warpgroup && (threads != 128 || items != 64 || steps != 32))
    return emitError() << "a warpgroup tile has threads = 128, items = 64 "
                          "and steps = 32";
  return success();
}

TileAttr TileAttr::getWarpgroupTile(MLIRContext *context, int64_t chunk) {
  return get(context, 128, 64, chunk, 3, 1, 0, 32, /*warpgroup=*/true);
}

LogicalResult NormAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               int64_t groupSize, FloatAttr eps, bool) {
  if (groupSize < 1)
    return emitError() << "group_size = " << groupSize << " must be positive";
  if (!eps || !isNormEpsilon(eps.getValueAsDouble()))
    return emitError() << "eps = " << eps << " must be " << kNormEpsilonRange;
  return success();
}
