//===- Passes.h - Conversions out of the SSM dialect ------------*- C++ -*-===//
//
// Declarations and registration of the conversion passes.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_CONVERSION_PASSES_H
#define SSMC_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::ssm {

#define GEN_PASS_DECL
#include "ssmc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ssmc/Conversion/Passes.h.inc"

} // namespace mlir::ssm

#endif // SSMC_CONVERSION_PASSES_H
