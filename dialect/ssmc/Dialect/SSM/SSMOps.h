//===- SSMOps.h - SSM dialect operations ------------------------*- C++ -*-===//
//
// The ops of the ssm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMOPS_H
#define SSMC_DIALECT_SSM_SSMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "ssmc/Dialect/SSM/SSMDialect.h"

namespace mlir::ssm {

/// The kind of a B/C operand of the given type.
BCKind getBCKind(Type type);

/// The number of groups of a B/C operand (1 unless grouped).
int64_t getNumGroups(Type type, Layout layout);

/// Whether B and C of the given types can be read at one group index: both
/// grouped with the same count, or either one not grouped.
bool haveSameGroups(Type b, Type c, Layout layout);

/// Whether a B/C operand serves a scan of `directions` directions: shared and
/// per-channel ones always do, grouped ones when each direction has as many
/// groups of its own.
bool splitsIntoDirections(Type type, Layout layout, int64_t directions);

} // namespace mlir::ssm

#define GET_OP_CLASSES
#include "ssmc/Dialect/SSM/SSMOps.h.inc"

#endif // SSMC_DIALECT_SSM_SSMOPS_H
