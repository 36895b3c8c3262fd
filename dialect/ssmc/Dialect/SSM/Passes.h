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

} // namespace mlir::ssm

#endif // SSMC_DIALECT_SSM_PASSES_H
