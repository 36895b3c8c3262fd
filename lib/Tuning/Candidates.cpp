//===- Candidates.cpp - Tile candidates for ssm-tune ----------------------===//
//
// The candidates span what the heuristics chose between on the bench shapes
// (bench/HISTORY.md): block shape and lanes of a selective scan, the chunk
// length and stages of an SSD (and on sm_90a its warpgroup-MMA kernel), and
// for both an L segment length, which pays only where batch x channels
// cannot fill the GPU. A candidate is kept when
// its layer lowers to GPU kernels, so the set never holds a tile the lowering
// would reject (a block wider than a B/C group, too much workgroup memory).
//
//===----------------------------------------------------------------------===//

#include "ssmc/Tuning/Tuning.h"

#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Pipelines/Pipelines.h"
#include "ssmc/Spec/Spec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::ssm;
using llvm::json::Array;
using llvm::json::Object;
using JSON = llvm::json::Value;

/// Selective-scan block shapes: threads, items, lanes.
using BlockShape = std::array<int64_t, 3>;
static constexpr BlockShape kScanShapes16[] = {
    {128, 16, 2}, {64, 16, 2}, {256, 16, 2}, {128, 8, 2},
    {64, 16, 1},  {128, 8, 1}, {64, 8, 1}};
static constexpr BlockShape kScanShapes32[] = {
    {64, 8, 1}, {128, 8, 1}, {32, 8, 1}, {64, 16, 1}, {128, 16, 2}};
/// L segment lengths (0: the runtime's at launch); multiples of every
/// chunk_size and items.
static constexpr int64_t kSegments[] = {0, 1024, 2048};

/// The candidate tiles of one layer, before the check that they lower.
static SmallVector<Object> candidateTiles(const LayerSpec &layer) {
  SmallVector<Object> tiles;
  if (layer.kind == LayerKind::SelectiveScan) {
    ArrayRef<BlockShape> shapes = layer.dtype == DType::F32
                                      ? ArrayRef(kScanShapes32)
                                      : ArrayRef(kScanShapes16);
    // A cross scan is never split into L segments.
    ArrayRef<int64_t> segments =
        layer.crossScan() ? ArrayRef(kSegments).take_front() : kSegments;
    for (int64_t segment : segments)
      for (auto [threads, items, lanes] : shapes)
        tiles.push_back(Object{{"threads", threads},
                               {"items", items},
                               {"lanes", lanes},
                               {"chunk", segment}});
    return tiles;
  }
  // The heuristic's columns a block: the columns sweep in bench/HISTORY.md
  // found fewer slower everywhere.
  int64_t columns = getSSDBlockColumns(layer.headdim);
  for (int64_t segment : kSegments)
    for (int64_t steps : {32, 64})
      for (int64_t stages : {2, 3})
        if (layer.chunkSize % steps == 0)
          tiles.push_back(Object{{"threads", columns / 16 * 32},
                                 {"items", columns},
                                 {"chunk", segment},
                                 {"steps", steps},
                                 {"stages", stages}});
  // The warpgroup-MMA kernel; it lowers only for specs that target sm_90a
  // alone, elsewhere the check drops it.
  for (int64_t segment : kSegments)
    tiles.push_back(Object{{"threads", 128},
                           {"items", 64},
                           {"chunk", segment},
                           {"warpgroup", true}});
  return tiles;
}

/// Whether the one-layer spec `layer` of a spec with `archs` lowers to GPU
/// kernels; its diagnostics are dropped.
static bool lowers(const Object &layer, const JSON &archs, MLIRContext &ctx) {
  Object spec{{"name", "candidate"}, {"layers", Array{JSON(Object(layer))}}};
  if (archs.kind() != JSON::Null)
    spec["arch"] = archs;
  std::string text;
  llvm::raw_string_ostream(text) << JSON(std::move(spec));
  llvm::Expected<ModelSpec> parsed = parseSpec(text);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return false;
  }
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  OwningOpRef<ModuleOp> module = buildLayerModule(*parsed, ctx);
  if (!module)
    return false;
  PassManager pm(&ctx);
  buildSSMToGPUPipeline(pm);
  return succeeded(pm.run(*module));
}

llvm::Expected<JSON> mlir::ssm::buildTuningSpec(llvm::StringRef json,
                                                MLIRContext &ctx) {
  llvm::Expected<ModelSpec> spec = parseSpec(json);
  if (!spec)
    return spec.takeError();
  // parseSpec accepted it, so the JSON has the shape it checked.
  JSON raw = cantFail(llvm::json::parse(json));
  const Object &root = *raw.getAsObject();
  const Array &rawLayers = *root.getArray("layers");
  JSON archs = root.get("arch") ? *root.get("arch") : JSON(nullptr);

  Array candidates;
  for (auto [i, layer, rawLayer] : llvm::enumerate(spec->layers, rawLayers)) {
    bool tunable = layer.kind == LayerKind::SelectiveScan ||
                   layer.kind == LayerKind::SSDChunk;
    if (!tunable)
      continue;
    int64_t k = 0;
    for (Object &tile : candidateTiles(layer)) {
      Object candidate = *rawLayer.getAsObject();
      candidate["name"] =
          layer.name + kCandidateSeparator.str() + std::to_string(k);
      candidate["tile"] = std::move(tile);
      if (!lowers(candidate, archs, ctx))
        continue;
      candidates.push_back(std::move(candidate));
      ++k;
    }
    // Leaving the layer out would tune a different model.
    if (k == 0)
      return llvm::createStringError(
          "spec.layers[" + std::to_string(i) +
          "]: none of its tile candidates lowers (ssmc says why for the "
          "spec's own tile)");
  }
  if (candidates.empty())
    return llvm::createStringError(
        "spec: no layer to tune (a selective_scan or ssd_chunk)");
  Object out{{"name", spec->name + "_tune"}, {"layers", std::move(candidates)}};
  if (archs.kind() != JSON::Null)
    out["arch"] = archs;
  return JSON(std::move(out));
}
