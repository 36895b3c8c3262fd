//===- SSMDialect.h - SSM dialect -------------------------------*- C++ -*-===//
//
// The ssm dialect, its enums and attributes, and the kinds of B/C operands
// and scan directions and the norm epsilon range that the ops and the spec
// front end share.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMDIALECT_H
#define SSMC_DIALECT_SSM_SSMDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

#include <limits>

#include "ssmc/Dialect/SSM/SSMOpsDialect.h.inc"

#include "ssmc/Dialect/SSM/SSMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ssmc/Dialect/SSM/SSMAttrs.h.inc"

namespace mlir::ssm {

/// How the B or C operand of a scan varies, told apart by its rank: per
/// channel [D, N], shared by all channels [B, N, L] / [B, L, N], or per group
/// of channels [B, G, N, L] / [B, L, G, N].
enum class BCKind { PerChannel = 2, Shared = 3, Grouped = 4 };

/// The directions a Mamba-1 scan runs: four for a cross scan (VMamba's SS2D),
/// two for a bidirectional one (Vim), else one.
inline int64_t getDirectionCount(bool bidirectional, bool crossScan) {
  return crossScan ? 4 : bidirectional ? 2 : 1;
}

/// Whether `eps` suits a gated RMSNorm: a positive normal f32, as the kernels
/// add it to an f32 mean square (a smaller one flushes to zero, and a zero
/// group divides by zero; a larger one is infinite).
inline bool isNormEpsilon(double eps) {
  return eps >= std::numeric_limits<float>::min() &&
         eps <= std::numeric_limits<float>::max();
}

/// What isNormEpsilon asks, for messages.
inline constexpr llvm::StringLiteral kNormEpsilonRange =
    "a positive normal f32 (1.2e-38 to 3.4e38)";

} // namespace mlir::ssm

#endif // SSMC_DIALECT_SSM_SSMDIALECT_H
