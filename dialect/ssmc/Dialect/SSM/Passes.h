//===- Passes.h - SSM dialect passes ----------------------------*- C++ -*-===//
//
// Declarations and registration of the ssm -> ssm passes.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_PASSES_H
#define SSMC_DIALECT_SSM_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ssm {

#define GEN_PASS_DECL
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"

#define GEN_PASS_REGISTRATION
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"

/// The head-dim columns an ssd_chunk block owns by ssm-tile's heuristic
/// (one warp per 16): 64 where they divide `headdim`, else 32 or 16.
int64_t getSSDBlockColumns(int64_t headdim);

} // namespace mlir::ssm

#endif // SSMC_DIALECT_SSM_PASSES_H
