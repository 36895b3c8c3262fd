//===- Tuning.h - Tile candidates for ssm-tune ------------------*- C++ -*-===//
//
// The tiles ssm-tune times on a GPU: for each selective_scan and ssd_chunk
// layer of a spec, the tiles around the ssm-tile heuristic's that compile,
// as one spec of candidate layers ssmc builds into one binary.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TUNING_TUNING_H
#define SSMC_TUNING_TUNING_H

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace mlir::ssm {

/// Separates a tuned layer's name from its candidate number in candidate
/// layer names: "<layer>__t<k>".
inline constexpr llvm::StringLiteral kCandidateSeparator = "__t";

/// Builds the candidates spec of the spec `json`: named "<name>_tune", with
/// the spec's arch list and, for every selective_scan and ssd_chunk layer,
/// one copy per candidate tile that lowers to GPU kernels (its own "tile"
/// replaced), named "<layer>__t<k>". Other layers are left out. Fails with
/// the spec's own error on a bad spec, and when no layer can be tuned.
llvm::Expected<llvm::json::Value> buildTuningSpec(llvm::StringRef json,
                                                  MLIRContext &ctx);

} // namespace mlir::ssm

#endif // SSMC_TUNING_TUNING_H
