//===- SelectiveScanKernel.h - The selective-scan emitter -------*- C++ -*-===//
//
// The emitter of the kernels ssm.selective_scan lowers to
// (SelectiveScanToGPU.cpp describes them): the tile modes, the B/C operand
// view and ScanKernelEmitter, whose per-tile work is in SelectiveScanTile.cpp
// and whose walk over windows, segments and directions is in
// SelectiveScanWalk.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_LIB_CONVERSION_SSMTOGPU_SELECTIVESCANKERNEL_H
#define SSMC_LIB_CONVERSION_SSMTOGPU_SELECTIVESCANKERNEL_H

#include "KernelBuilder.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

namespace mlir::ssm::scan {

/// The workgroup-memory stride between the staged B/C values of two steps:
/// N padded by one 16-byte vector, so that the eight shifted windows of a
/// warp read eight disjoint groups of banks instead of conflicting.
inline int64_t stagedStepStride(SelectiveScanOp op) {
  return op.getStateSize() + 4;
}

/// silu(v) for a value whose tensor has type `type`. Its second SFU op is
/// worth saving where the SFU bounds the scan and a 16-bit tensor rounds away
/// the cheaper sigmoid's error (the output gate z, or the conv's u, which the
/// unfused conv would store in 16 bits).
inline Value siluOf16Bit(KernelBodyBuilder &b, Value v, Type type) {
  if (getElementTypeOrSelf(type).getIntOrFloatBitWidth() < 32)
    return b.siluOneSFU(v);
  return b.silu(v);
}

/// How a tile reads and writes global memory.
enum class TileMode {
  /// Whole tile in range, rows 16-byte aligned: vector loads and stores.
  Vector,
  /// Whole tile in range: scalar loads and stores.
  Scalar,
  /// A whole tile of a channel-first row that is not 16-byte aligned: the
  /// thread's window is shifted by up to one vector so that its loads and
  /// stores are aligned 128-bit ones, and reads the block's B/C tile, staged
  /// one vector wider, at that shift.
  Shifted,
  /// A window that reaches outside the steps [lo, hi), where it cannot run
  /// masked in the pipeline: the last one of an unshifted row, the outer
  /// ones of a shifted row whose tensor size need not be a multiple of the
  /// vector width. Scalar loads at steps clamped into range; a step outside
  /// leaves the states as they are and stores nothing.
  Edge,
};

/// A B or C operand as the kernel reads it.
struct BCOperand {
  Value mem;                        // flat view in global memory
  BCKind kind = BCKind::PerChannel; // per channel, shared or grouped
  int64_t groups = 1;               // G (1 unless grouped)
  int64_t slot = -1;                // workgroup-memory slot when staged
  SmallVector<Value> perChannel;    // [N] registers when per channel
};

/// Which kernel of a selective scan is emitted.
enum class KernelRole {
  /// The scan itself: outputs and last state.
  Scan,
  /// Per L segment: the end state from a zero start and the sum of Δ.
  Carry,
  /// One direction of a cross scan per block row z: its ungated sums (skip
  /// included) into its slab of the partial sums [B, 4, L, D], and its last
  /// state; a second kernel sums and gates the slabs.
  Direction,
};

/// Emits the body of one selective-scan kernel.
class ScanKernelEmitter {
public:
  ScanKernelEmitter(SelectiveScanOp op, KernelRole role, KernelBodyBuilder &b)
      : op(op), role(role), b(b), tile(op.getTileAttr()),
        cf(op.getLayout() == Layout::ChannelFirst), threads(tile.getThreads()),
        items(tile.getItems()), chunk(tile.getChunk()),
        directions(op.getNumDirections()),
        channels(op.getNumChannels() / directions),
        inChannels(op.getNumChannels()), states(op.getStateSize()),
        sharedU(op.hasSharedInput()), lanes(tile.getLanes()),
        own(states / lanes), stepStride(stagedStepStride(op)) {}

  /// Emits the kernel body given the kernel arguments (in the order of
  /// the launch parameters lowerToKernels builds) and the workgroup staging
  /// buffer.
  void emit(ArrayRef<BlockArgument> args, Value smem);

private:
  /// The raw global loads of one tile: this thread's share of the B/C tile
  /// and its u, Δ (and z) runs, as loaded (vectors or scalars). A shifted
  /// tile's B/C vectors start up to one vector before the staged steps:
  /// `bcSkip` holds, per B/C load, how many elements of the row to skip.
  struct TileLoads {
    SmallVector<Value> bc, bcSkip, act;
  };

  // Each method is documented where it is defined. Indexing and the lanes
  // of a channel (SelectiveScanTile.cpp):
  Value position(Value t);
  Value seqIndex(Value row, Value channel, int64_t numChannels, Value t);
  Value inIndex(Value t);
  Value uIndex(Value t);
  Value outIndex(Value t);
  SmallVector<Value> runIndices(function_ref<Value(Value)> index,
                                int64_t numChannels, Value start,
                                int64_t count);
  Value ownStart(Value t0, int64_t steps);
  Value stateExp(int64_t n, Value x);
  Value blockChannel(Value slot);
  Value isLane(int64_t l);
  Value isUpperLane(int64_t bit);
  Value pickOwn(ArrayRef<Value> tileValues, int64_t j);
  SmallVector<Value> reduceScatter(ArrayRef<Value> partials);
  SmallVector<Value> allGather(ArrayRef<Value> share);
  // A tile's inputs, recurrence and stores (SelectiveScanTile.cpp):
  SmallVector<Value> stepDeltas(ArrayRef<Value> raw);
  SmallVector<Value> convInputs(ArrayRef<Value> halo, ArrayRef<Value> x,
                                Value t0, bool masked);
  Value zeroBeforeStart(Value value, Value t);
  Value clampToSequence(Value t);
  Value finishStep(Value acc, Value uValue, ArrayRef<Value> zv,
                   ArrayRef<Value> yv, int64_t j);
  Value bcIndex(const BCOperand &bc, Value n, Value t);
  int64_t bcWidth(const BCOperand &bc, TileMode mode);
  void forEachBCLoad(TileMode mode,
                     function_ref<void(const BCOperand &, int64_t width,
                                       Value valid, Value n, Value i)>
                         fn);
  TileLoads loadTile(Value t0, TileMode mode);
  void loadStage(Value t0, TileMode mode, TileLoads &loads);
  void loadRuns(Value t0, int64_t steps, TileMode mode, TileLoads &loads);
  void storeBC(const TileLoads &loads, Value bufBase, TileMode mode);
  Value bcValue(const BCOperand &bc, int64_t n, Value step, Value bufBase);
  void storeRun(ArrayRef<Value> values, Value t0, TileMode mode, bool masked);
  SmallVector<Value> computeTile(Value t0, int64_t steps, TileMode mode,
                                 bool masked, ArrayRef<Value> actLoads,
                                 Value bufBase, Value stagedStep,
                                 ValueRange carried);
  Value clampInto(Value mem, Value index, int64_t width);
  Value vectorAt(Value mem, Value index, int64_t width);
  Value clampStep(Value t);
  Value inRange(Value t);
  // The walk over windows, segments and directions (SelectiveScanWalk.cpp):
  SmallVector<Value> emitEdgeTiles(Value first, Value end,
                                   function_ref<Value(Value)> tileStart,
                                   ValueRange carried);
  SmallVector<Value>
  emitPipelinedTiles(TileMode mode, Value first, Value full,
                     function_ref<Value(Value)> tileStart, ValueRange carried,
                     function_ref<Value(Value)> isMasked = nullptr);
  SmallVector<Value> emitShiftedTiles(Value full,
                                      function_ref<Value(Value)> tileStart,
                                      ValueRange carried);
  SmallVector<Value> emitSegment(ValueRange carried);
  SmallVector<Value> carryIn(ValueRange h, Value carryState, Value carryDelta);
  Value carryIndex(Value segment);
  void emitDirection(int64_t k, Value blockSegment, Value segmentSteps);

  SelectiveScanOp op;
  KernelRole role;
  KernelBodyBuilder &b;
  TileAttr tile;
  bool cf;
  int64_t threads, items, chunk;
  /// Directions (two for a bidirectional scan), the channels of z and y (of
  /// one direction), those of the other operands (of all directions).
  int64_t directions, channels, inChannels, states;
  /// Whether the directions share u (of `channels` channels: a cross scan).
  bool sharedU;
  /// Threads per channel, and the states each of them keeps.
  int64_t lanes, own;
  /// Workgroup-memory elements between the staged B/C of two steps.
  int64_t stepStride;

  // Values of the kernel prologue.
  Value batch, len, tid, d0, d, bIdx, group0;
  /// Of the direction being scanned: whether it runs backward, whether it
  /// gates its sums with z (the last direction does), whether it adds the
  /// sums that the directions before stored, and this thread's channel of
  /// u, Δ, A, B/C, skip, bias and the states.
  bool reverse = false, gated = true, accumulate = false;
  Value c;
  /// Whether the direction walks a cross scan's grid column by column.
  bool columnMajor = false;
  /// The batch row of z and y this block writes: its batch, or the
  /// direction's slab of it in the partial sums.
  Value outRow;
  /// This thread's lane among its channel's and its first state.
  Value lane, stateBase;
  /// The steps [lo, hi) this block scans: its L segment, or all of L.
  Value lo, hi, segment, numSegments;
  Value u, delta, z, y, smem;
  /// Flat views of the per-channel operands and the states.
  Value aMem, skipMem, biasMem, carryState, carryDelta, init, last;
  /// Elements of one workgroup-memory tile buffer (two alternate) and the
  /// steps it holds (one vector more than a tile when windows are shifted).
  int64_t bufferSize = 0, stageSteps = 0;
  /// This thread's window shift in Shifted (and then Edge) mode, in steps.
  Value shift;
  /// Whether vector loads clamp their offsets into their operand: set where
  /// masked windows, which reach outside [lo, hi), run on vectors.
  bool clampVectors = false;
  BCOperand bOp, cOp;
  SmallVector<Value> a2;
  Value skip, bias;
  /// The folded conv1d: its width K (0: none), weight and bias rows, and
  /// this thread's taps of them.
  int64_t convWidth = 0;
  Value convMem, convBiasMem, convBias;
  SmallVector<Value> convTaps;
  /// Elements per 16-byte vector of the activations.
  int64_t actWidth = 1;
};

} // namespace mlir::ssm::scan

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_SELECTIVESCANKERNEL_H
