//===- Tile.cpp - Choose the tiling of every scan ---------------*- C++ -*-===//
//
// Attaches a #ssm.tile to each ssm.selective_scan and ssm.ssd_chunk that
// lacks one: from the pass options where set, else from a heuristic on the
// static sizes. Like
// IREE's lowering configs, the choice is made here once and the lowering only
// reads it.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

namespace mlir::ssm {
#define GEN_PASS_DEF_SSMTILEPASS
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"
} // namespace mlir::ssm

using namespace mlir;
using namespace mlir::ssm;

/// A tile set on the enclosing function (by the spec front end) applies to
/// every scan in it that has none of its own.
static constexpr StringLiteral kLayerTileAttr = "ssm.tile";

/// Threads, items and lanes of a selective scan. The recurrence is bound by
/// latency, so small blocks keep many of them per SM. 16-bit activations
/// take two lanes per channel (twice the resident warps) and 16 steps per
/// tile (one 128-bit load per lane-half), with 64 channels a block so that
/// a warp meets two row misalignments when L is ragged. On an H100 that ran
/// S1 in 0.575 ms instead of 0.679 (L 2047: 0.596), S2 0.099 instead of
/// 0.105 and S4 0.054 instead of 0.062; four lanes, 8 or 32 items, or 32
/// channels a block were slower (bench/HISTORY.md). A cross scan's tiles
/// take 8 steps: on an H200 SS2D 56 x 56 (B 32, D 192) ran in 0.640 ms
/// instead of 0.821, 28 x 28 (D 384) in 0.314 instead of 0.305. One lane
/// and eight steps otherwise.
static std::optional<std::tuple<int64_t, int64_t, int64_t>>
chooseScanTile(SelectiveScanOp op) {
  // A block owns consecutive channels of one B/C group (and direction), so
  // its channel count must divide them.
  int64_t perGroup = op.getChannelsPerGroup();
  unsigned bits = op.getU().getType().getElementTypeBitWidth();
  int64_t items = op.getCrossScan() ? 8 : 16;
  if (bits <= 16 && op.getStateSize() % 2 == 0)
    for (int64_t blockChannels : {64, 32})
      if (perGroup % blockChannels == 0)
        return std::make_tuple(2 * blockChannels, items, 2);
  for (int64_t threads : {64, 128, 32})
    if (perGroup % threads == 0)
      return std::make_tuple(threads, 8, 1);
  // Groups of fewer channels than a warp or of no multiple of 32: a warp's
  // lanes split each channel's states, as few as make its channels divide
  // the group (the GPU tests run D 36 as blocks of 4 channels on 8 lanes).
  int64_t states = op.getStateSize();
  for (int64_t lanes = 2; lanes <= std::min<int64_t>(32, states); lanes *= 2)
    if (states % lanes == 0 && perGroup % (32 / lanes) == 0)
      return std::make_tuple(32, std::max<int64_t>(8, lanes), lanes);
  return std::nullopt;
}

/// SSD: a block owns `items` head-dim columns with one warp per 16 of them.
/// 64 columns (four warps) keep the per-thread state at N/2 registers for
/// N = 128; narrower heads take what divides them.
int64_t mlir::ssm::getSSDBlockColumns(int64_t headdim) {
  for (int64_t columns : {64, 32})
    if (headdim % columns == 0)
      return columns;
  return 16; // where it does not divide P, the lowering says why
}

static std::pair<int64_t, int64_t> chooseSSDTile(SSDChunkOp op) {
  int64_t columns = getSSDBlockColumns(op.getHeaddim());
  return {columns / 16 * 32, columns};
}

/// The chunk length an SSD kernel works in: the tile's `steps`, else 32
/// where it divides chunk_size. The output does not depend on it beyond
/// rounding, and on an H200 T1 ran in 0.35 ms at 32, 0.57 at 64 and 0.65 at
/// 128 (bench/HISTORY.md): a longer chunk adds more causal-term work than it
/// saves state updates, and needs more workgroup memory per block.
///
/// The stages are the tile's: unset, the kernel stages two chunks (the
/// next one's copies land while one is finished). On an H200 three (two
/// chunks ahead, one barrier a chunk instead of three) ran T1 in 0.287 ms
/// against 0.271, T2 in 0.098 against 0.089 and T3 in 0.796 against 0.764,
/// and only T1 + z faster, 0.348 against 0.351 (bench/HISTORY.md, session
/// 26).
static int64_t chooseSSDSteps(SSDChunkOp op, int64_t steps) {
  constexpr int64_t kSteps = 32;
  if (steps)
    return steps;
  return op.getChunkSize() % kSteps == 0 ? kSteps : 0;
}

/// Whether an SSD fits the warpgroup kernel: 64-column blocks, N an n of
/// wgmma m64nNk16, and 32-step chunks.
static bool fitsWarpgroup(SSDChunkOp op) {
  int64_t states = op.getB().getType().getDimSize(3);
  return op.getHeaddim() % 64 == 0 && states % 16 == 0 && states <= 256 &&
         op.getChunkSize() % 32 == 0;
}

/// Whether a tile's or the options' steps leave the warpgroup kernel's 32.
static bool allowsWarpgroupSteps(int64_t steps) {
  return steps == 0 || steps == 32;
}

namespace {
struct SSMTilePass : ssm::impl::SSMTilePassBase<SSMTilePass> {
  using Base::Base;

  void runOnOperation() override {
    // Options for one kind of scan are ignored by the other, so their
    // ranges are checked up front, whatever ops the function holds.
    for (auto [name, value, least] :
         {std::tuple<StringRef, int64_t, int64_t>{"threads", threads, 0},
          {"items", items, 0},
          {"chunk", chunk, 0},
          {"lanes", lanes, 0},
          {"fma-exps", fmaExps, -1},
          {"stages", stages, 1},
          {"steps", steps, 0}}) {
      if (value >= least)
        continue;
      getOperation().emitError() << "ssm-tile option " << name << " = " << value
                                 << " must be at least " << least;
      return signalPassFailure();
    }
    WalkResult result = getOperation().walk([&](Operation *op) {
      auto scan = dyn_cast<SelectiveScanOp>(op);
      auto ssd = dyn_cast<SSDChunkOp>(op);
      if ((!scan && !ssd) || (scan ? scan.getTileAttr() : ssd.getTileAttr()))
        return WalkResult::advance();
      // Sets `tile` (from `source`) where it applies to the op.
      auto setTile = [&](TileAttr tile, StringRef source) {
        auto emitError = [&] {
          return op->emitOpError()
                 << "the tile from " << source << " does not apply: ";
        };
        if (failed(scan ? scan.verifyTile(tile, emitError)
                        : ssd.verifyTile(tile, emitError)))
          return WalkResult::interrupt();
        if (scan)
          scan.setTileAttr(tile);
        else
          ssd.setTileAttr(tile);
        return WalkResult::advance();
      };
      // A tile the spec chose for the whole layer function; an SSD's
      // chunk length is the heuristic's unless it says.
      if (auto layerTile =
              getOperation()->getAttrOfType<TileAttr>(kLayerTileAttr)) {
        bool blockShape = layerTile.getThreads() == 128 &&
                          layerTile.getItems() == 64 &&
                          allowsWarpgroupSteps(layerTile.getSteps());
        if (ssd && warpgroup && fitsWarpgroup(ssd) && blockShape) {
          layerTile =
              TileAttr::getWarpgroupTile(&getContext(), layerTile.getChunk());
        } else if (ssd && !layerTile.getWarpgroup()) {
          layerTile = TileAttr::get(
              &getContext(), layerTile.getThreads(), layerTile.getItems(),
              layerTile.getChunk(), layerTile.getStages(), layerTile.getLanes(),
              layerTile.getFmaExps(), chooseSSDSteps(ssd, layerTile.getSteps()),
              /*warpgroup=*/false);
        }
        return setTile(layerTile, "the layer function");
      }
      if (ssd && warpgroup && fitsWarpgroup(ssd) && !threads && !items &&
          allowsWarpgroupSteps(steps))
        return setTile(TileAttr::getWarpgroupTile(&getContext(), chunk),
                       "the pass options");
      int64_t t, i, l = 1, e = 0;
      if (scan) {
        auto choice = chooseScanTile(scan);
        // Only a block shape that the options give in full needs none.
        if (!choice && !(threads && items)) {
          op->emitOpError()
              << "has no tile: a block holds 32 threads or more, and owns "
                 "channels of one B/C group, 32 / lanes of them where lanes "
                 "(a power of two) split the "
              << scan.getStateSize() << " states of a channel; none divides "
              << "the " << scan.getChannelsPerGroup()
              << " channels of each group";
          return WalkResult::interrupt();
        }
        std::tie(t, i, l) = choice.value_or(std::make_tuple(32, 8, 1));
        // All exps on the SFU: on an H100, moving 1-4 of 16 to the FMA pipe
        // made S1/S2/S4 0-10 % slower (bench/HISTORY.md), as the scan is
        // bound by latency more than by SFU throughput.
      } else {
        std::tie(t, i) = chooseSSDTile(ssd);
      }
      // A block shape from the options has one lane unless they say more.
      if (threads || items)
        l = 1;
      t = threads ? int64_t(threads) : t;
      i = items ? int64_t(items) : i;
      l = scan && lanes ? int64_t(lanes) : l;
      e = scan && fmaExps >= 0 ? int64_t(fmaExps) : e;
      int64_t st = ssd ? chooseSSDSteps(ssd, steps) : 0;
      auto emitError = [&] { return op->emitOpError("invalid tile: "); };
      TileAttr tile = TileAttr::getChecked(
          function_ref<InFlightDiagnostic()>(emitError), &getContext(), t, i,
          int64_t(chunk), int64_t(stages), l, e, st, /*warpgroup=*/false);
      if (!tile)
        return WalkResult::interrupt();
      return setTile(tile, "the pass options and heuristic");
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
