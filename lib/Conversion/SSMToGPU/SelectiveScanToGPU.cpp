//===- SelectiveScanToGPU.cpp - ssm.selective_scan to a kernel --*- C++ -*-===//
//
// Builds the Mamba-1 selective-scan kernel from an ssm.selective_scan and its
// #ssm.tile. `lanes` threads (often one) own one channel (b, d), each keeping
// N / lanes of its states in registers; a block owns threads / lanes
// consecutive channels of one B/C group and walks L in tiles of `items`
// steps. With several lanes, a tile's partial output sums are reduced and
// scattered with warp shuffles, each lane finishing items / lanes steps. Per
// tile, the block stages the shared B/C values in workgroup memory once for all
// its channels, each thread loads its u, Δ (and z) run with 128-bit loads, runs
// the recurrence with exp2 on the SFU (log2 e folded into A), and applies the D
// skip and the silu gate before a single store of the output. The tile loop is
// software-pipelined (the next tile's loads are in flight during the
// recurrence, B/C double-buffered). Rows that are not 16-byte aligned (L not a
// multiple of the vector width) shift each thread's windows to aligned ones,
// and the windows that reach outside the sequence run masked in the same
// pipeline, on vectors clamped into the tensor (bench/README.md, session 15:
// S4 at L 197 0.045 -> 0.041 ms).
//
// Blocks split the sequence into segments, one block row per segment, for
// shapes with too few channels to fill the GPU (one batch row, say): of the
// tile's `chunk` steps, or, without one, of a length libssmrt picks at each
// launch (ssm.split_length; the whole sequence where the channels fill the
// GPU). A carry kernel scans each segment but the one scanned last from a
// zero state, keeping only B (no C, z or output), and records the segment's
// end state and its Σ Δ; the scan kernel then starts each segment from the
// state that the earlier segments carry in, exp(A·ΣΔ)·h + h_end segment by
// segment -- the same algebra as the SSD inter-chunk step -- and scans it
// fully.
//
// A bidirectional scan (Vim) runs both directions in the same blocks: each
// scans its channels forward, storing the ungated sums (skip included) in y,
// then, after a barrier, backward over the same segment, loading those sums
// with z and adding them before the gate. Its u, Δ, A, B/C, skip, bias and
// states stack the two directions' channels; z and y hold one direction's.
// A cross scan (VMamba's SS2D) runs its four directions the same way over
// the tokens of its H x W grid, whole (no L segments), sharing u: the
// column-major directions map their step t to the token (t mod H)·W + t / H
// in every load and store, so neither the cross-scanned input nor the
// per-direction outputs are ever copied.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ssm;

/// The shortest L segment libssmrt may pick: a channel's carried-in state is
/// N floats, so short segments cost little (S1 at B 1 ran in 0.134 ms in 8
/// segments of 256 steps, 0.139 in 4 of 512).
static constexpr int64_t kScanMinSegmentSteps = 256;

/// The workgroup-memory stride between the staged B/C values of two steps:
/// N padded by one 16-byte vector, so that the eight shifted windows of a
/// warp read eight disjoint groups of banks instead of conflicting.
static int64_t stagedStepStride(SelectiveScanOp op) {
  return op.getStateSize() + 4;
}

/// silu(v) for a value whose tensor has type `type`. Its second SFU op is
/// worth saving where the SFU bounds the scan and a 16-bit tensor rounds away
/// the cheaper sigmoid's error (the output gate z, or the conv's u, which the
/// unfused conv would store in 16 bits).
static Value siluOf16Bit(KernelBodyBuilder &b, Value v, Type type) {
  if (getElementTypeOrSelf(type).getIntOrFloatBitWidth() < 32)
    return b.siluOneSFU(v);
  return b.silu(v);
}

namespace {

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
  /// `lowerSelectiveScan`'s parameters) and the workgroup staging buffer.
  void emit(ArrayRef<BlockArgument> args, Value smem);

private:
  /// The raw global loads of one tile: this thread's share of the B/C tile
  /// and its u, Δ (and z) runs, as loaded (vectors or scalars). A shifted
  /// tile's B/C vectors start up to one vector before the staged steps:
  /// `bcSkip` holds, per B/C load, how many elements of the row to skip.
  struct TileLoads {
    SmallVector<Value> bc, bcSkip, act;
  };

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

} // namespace

/// The token that step `t` of the direction being scanned reads and writes:
/// t, or on a column-major walk of a cross scan's H x W grid (w outer, h
/// inner) the row-major index (t mod H)·W + t / H, in 32-bit arithmetic
/// (L = H·W is static and small) that ptxas turns into a multiply-high.
Value ScanKernelEmitter::position(Value t) {
  if (!columnMajor)
    return t;
  ArrayRef<int64_t> grid = *op.getCrossScan();
  Type i32 = b.getI32Type();
  Value t32 = arith::IndexCastUIOp::create(b, i32, t);
  Value height = arith::ConstantIntOp::create(b, i32, grid[0]);
  Value width = arith::ConstantIntOp::create(b, i32, grid[1]);
  Value column = arith::DivUIOp::create(b, t32, height);
  Value row = arith::RemUIOp::create(b, t32, height);
  Value token =
      arith::AddIOp::create(b, arith::MulIOp::create(b, row, width), column);
  return arith::IndexCastUIOp::create(b, b.getIndexType(), token);
}

/// The offset of step `t` of `channel` in batch row `row` of an activation
/// of `numChannels` channels, [B, D, L] or [B, L, D].
Value ScanKernelEmitter::seqIndex(Value row, Value channel, int64_t numChannels,
                                  Value t) {
  t = position(t);
  Value width = b.index(numChannels);
  if (cf)
    return b.add(b.mul(b.add(b.mul(row, width), channel), len), t);
  return b.add(b.mul(b.add(b.mul(row, len), t), width), channel);
}

/// Step `t` of this thread's channel in Δ (and in u unless it is shared).
Value ScanKernelEmitter::inIndex(Value t) {
  return seqIndex(bIdx, c, inChannels, t);
}

/// Step `t` of this thread's channel in u.
Value ScanKernelEmitter::uIndex(Value t) {
  return sharedU ? seqIndex(bIdx, d, channels, t) : inIndex(t);
}

/// The offsets `index` gives the `count` steps of a run from `start` (inside
/// [lo, hi)) in a channel-last activation of `numChannels` channels. A
/// column-major walk of a cross scan's grid moves W tokens a step, and back
/// H·W - 1 where its column ends, which a run of at most H steps passes at
/// most once: the run's offsets are its first one plus constants, two
/// candidates a step, instead of a division per step (which cost SS2D 28 x 28
/// a quarter of its time).
SmallVector<Value>
ScanKernelEmitter::runIndices(function_ref<Value(Value)> index,
                              int64_t numChannels, Value start, int64_t count) {
  SmallVector<Value> offsets;
  int64_t height = columnMajor ? (*op.getCrossScan())[0] : 0;
  if (!columnMajor || count > height) {
    for (int64_t i = 0; i < count; ++i)
      offsets.push_back(index(b.add(start, b.index(i))));
    return offsets;
  }
  int64_t width = (*op.getCrossScan())[1];
  Value first = index(start);
  // Steps of the run before its column ends.
  Value inColumn = b.sub(b.index(height), b.rem(start, b.index(height)));
  for (int64_t i = 0; i < count; ++i) {
    Value next = b.add(first, b.index(i * width * numChannels));
    Value wrapped = arith::CmpIOp::create(b, arith::CmpIPredicate::uge,
                                          b.index(i), inColumn);
    Value back = b.sub(next, b.index((height * width - 1) * numChannels));
    offsets.push_back(i == 0 ? first
                             : arith::SelectOp::create(b, wrapped, back, next));
  }
  return offsets;
}

/// Step `t` of this thread's channel in z and y.
Value ScanKernelEmitter::outIndex(Value t) {
  return seqIndex(outRow, d, channels, t);
}

Value ScanKernelEmitter::bcIndex(const BCOperand &bc, Value n, Value t) {
  t = position(t);
  Value row = bc.kind == BCKind::Grouped
                  ? b.add(b.mul(bIdx, b.index(bc.groups)), group0)
                  : bIdx;
  if (cf) // [B, (G,) N, L]
    return b.add(b.mul(b.add(b.mul(row, b.index(states)), n), len), t);
  // [B, L, (G,) N]
  Value bt = b.add(b.mul(bIdx, len), t);
  if (bc.kind == BCKind::Grouped)
    bt = b.add(b.mul(bt, b.index(bc.groups)), group0);
  return b.add(b.mul(bt, b.index(states)), n);
}

/// 2^x for the decay of this thread's state `n`: its last `fma_exps` states
/// on the FMA pipe, the others on the SFU.
Value ScanKernelEmitter::stateExp(int64_t n, Value x) {
  if (n >= own - tile.getFmaExps())
    return b.exp2OnFMA(x);
  return b.exp2(x);
}

/// The channel of the block that its `slot`-th group of lanes owns. Where
/// windows may be shifted, the block's channels are dealt out column-wise
/// from a [channels / V][V] grid (V steps per 16-byte vector): channels
/// d and d + V start their rows at the same misalignment, so a warp then
/// meets V / (warps per block) shifts instead of all V, and its lanes read
/// fewer distinct workgroup-memory addresses (S1 with two lanes at L 2047:
/// 8 wavefronts per 128-bit load, 4x those of aligned rows).
Value ScanKernelEmitter::blockChannel(Value slot) {
  int64_t blockChannels = threads / lanes;
  if (!cf || actWidth == 1 || blockChannels % actWidth != 0)
    return slot;
  Value rows = b.index(blockChannels / actWidth);
  return b.add(b.mul(b.rem(slot, rows), b.index(actWidth)), b.div(slot, rows));
}

/// Whether this thread's lane has bit `bit` set: the upper partner of its
/// butterfly exchange at that distance.
Value ScanKernelEmitter::isUpperLane(int64_t bit) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                               arith::AndIOp::create(b, lane, b.index(bit)),
                               b.index(0));
}

/// Whether this thread is lane `l` of its channel.
Value ScanKernelEmitter::isLane(int64_t l) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, b.index(l));
}

/// Of the per-step values of a tile, the `j`-th of the steps this lane
/// finishes: lane l finishes steps [l, l + 1) · steps / lanes.
Value ScanKernelEmitter::pickOwn(ArrayRef<Value> tileValues, int64_t j) {
  int64_t share = tileValues.size() / lanes;
  Value value = tileValues[j];
  for (int64_t l = 1; l < lanes; ++l)
    value =
        arith::SelectOp::create(b, isLane(l), tileValues[l * share + j], value);
  return value;
}

/// Sums the lanes' partial outputs of a tile and leaves lane l the sums of
/// steps [l, l + 1) · items / lanes: at each halving, a lane keeps the half
/// its lane bit selects and trades the other half with its partner, so the
/// tile costs items · (1 - 1/lanes) shuffles instead of items · log2(lanes).
/// Every thread of the warp runs the tiles, so the shuffles name the whole
/// warp (a group mask made ptxas serialize them: S1 0.570 -> 0.633 ms).
SmallVector<Value> ScanKernelEmitter::reduceScatter(ArrayRef<Value> partials) {
  SmallVector<Value> cur(partials.begin(), partials.end());
  for (int64_t bit = lanes / 2; bit >= 1; bit /= 2) {
    Value upper = isUpperLane(bit);
    int64_t half = cur.size() / 2;
    SmallVector<Value> kept;
    for (int64_t j = 0; j < half; ++j) {
      Value lo = cur[j], hi = cur[j + half];
      Value send = arith::SelectOp::create(b, upper, lo, hi);
      Value keep = arith::SelectOp::create(b, upper, hi, lo);
      kept.push_back(b.add(keep, b.shuffleXor(send, bit)));
    }
    cur = std::move(kept);
  }
  return cur;
}

/// The inverse of `reduceScatter`: each lane holds the values of its
/// items / lanes steps and gets those of all the tile's steps, in step order.
SmallVector<Value> ScanKernelEmitter::allGather(ArrayRef<Value> share) {
  SmallVector<Value> cur(share.begin(), share.end());
  for (int64_t bit = 1; bit < lanes; bit *= 2) {
    Value upper = isUpperLane(bit);
    SmallVector<Value> lower, higher;
    for (Value mine : cur) {
      Value theirs = b.shuffleXor(mine, bit);
      lower.push_back(arith::SelectOp::create(b, upper, theirs, mine));
      higher.push_back(arith::SelectOp::create(b, upper, mine, theirs));
    }
    cur = std::move(lower);
    cur.append(higher.begin(), higher.end());
  }
  return cur;
}

/// The Δ of each step of a tile from its loaded values: bias and softplus
/// applied. With several lanes, each lane takes the softplus (an ex2 and a
/// polynomial) of the steps it finishes and gathers the others' (one
/// shuffle each).
SmallVector<Value> ScanKernelEmitter::stepDeltas(ArrayRef<Value> raw) {
  auto delta = [&](Value x) {
    if (bias)
      x = b.add(x, bias);
    return op.getDeltaSoftplus() ? b.softplus(x) : x;
  };
  if (lanes == 1 || !op.getDeltaSoftplus())
    return llvm::map_to_vector(raw, delta);
  SmallVector<Value> share;
  for (int64_t j = 0, e = raw.size() / lanes; j < e; ++j)
    share.push_back(delta(pickOwn(raw, j)));
  return allGather(share);
}

/// The scan's inputs u of a tile's steps from the conv1d folded into it:
/// act(bias + Σ_k w[k]·x[t-K+1+k]) over `halo` (the K-1 steps before the
/// tile, as loaded) and the tile's `x` from `t0`. Steps before 0 read zero:
/// the halo's were clamped into the row, and a masked tile may hold the
/// previous row's tail there. With several lanes, each lane takes the silu
/// of the steps it finishes and gathers the others', as for Δ; the taps are
/// cheaper to repeat than to gather.
SmallVector<Value> ScanKernelEmitter::convInputs(ArrayRef<Value> halo,
                                                 ArrayRef<Value> x, Value t0,
                                                 bool masked) {
  SmallVector<Value> ext;
  int64_t first = -static_cast<int64_t>(halo.size());
  for (auto [j, value] : llvm::enumerate(halo))
    ext.push_back(
        zeroBeforeStart(value, b.add(t0, b.index(first + int64_t(j)))));
  for (auto [i, value] : llvm::enumerate(x))
    ext.push_back(masked ? zeroBeforeStart(value, b.add(t0, b.index(i)))
                         : value);
  SmallVector<Value> sums;
  for (size_t i = 0; i < x.size(); ++i) {
    Value acc = convBias ? convBias : b.f32(0.0);
    for (int64_t k = 0; k < convWidth; ++k)
      acc = b.fma(convTaps[k], ext[i + k], acc);
    sums.push_back(acc);
  }
  if (!op.getConvSilu())
    return sums;
  Type uType = op.getU().getType();
  if (lanes == 1)
    return llvm::map_to_vector(
        sums, [&](Value v) { return siluOf16Bit(b, v, uType); });
  SmallVector<Value> share;
  for (int64_t j = 0, e = sums.size() / lanes; j < e; ++j)
    share.push_back(siluOf16Bit(b, pickOwn(sums, j), uType));
  return allGather(share);
}

/// `value`, the x of step `t`, or zero if t is before step 0.
Value ScanKernelEmitter::zeroBeforeStart(Value value, Value t) {
  return arith::SelectOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t, b.index(0)),
      value, b.f32(0.0));
}

/// Step `t` clamped into [0, L): where a conv's halo loads from.
Value ScanKernelEmitter::clampToSequence(Value t) {
  return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, t, b.index(0)),
                                b.sub(len, b.index(1)));
}

/// The offset of this thread's row of a carry buffer, [B, S - 1, D(, N)],
/// for segment `seg`: one row per segment but the one scanned last (the
/// last, or the first of a reverse scan).
Value ScanKernelEmitter::carryIndex(Value seg) {
  Value carried = b.sub(numSegments, b.index(1));
  Value slab = reverse ? b.sub(seg, b.index(1)) : seg;
  return b.add(b.mul(b.add(b.mul(bIdx, carried), slab), b.index(inChannels)),
               c);
}

/// Elements per global load of a staged B/C operand: channel-first rows run
/// along t (a vector covers `width` steps of one state), channel-last rows
/// along N. The misaligned rows of a shifted tile are read with the aligned
/// vectors that cover them, which stay inside the operand when N is a
/// multiple of the vector width.
int64_t ScanKernelEmitter::bcWidth(const BCOperand &bc, TileMode mode) {
  if (mode == TileMode::Edge)
    return 1;
  int64_t width = vectorWidth(bc.mem.getType());
  if (mode == TileMode::Shifted)
    return states % width == 0 ? width : 1;
  if (mode == TileMode::Vector && cf)
    return std::min(width, items);
  if (!cf && states % width == 0)
    return width;
  return 1;
}

/// Calls `fn` for each global load of this thread's share of the staged B/C
/// tile, with its state `n` and step `i`. In a partial last round `valid`
/// tells the threads that own an element (the others re-load the last one
/// and must not store it); it is null where every thread owns one.
void ScanKernelEmitter::forEachBCLoad(
    TileMode mode,
    function_ref<void(const BCOperand &, int64_t, Value, Value, Value)> fn) {
  for (const BCOperand *bc : {&bOp, &cOp}) {
    if (bc->slot < 0)
      continue;
    int64_t width = bcWidth(*bc, mode);
    // Shifted windows stage the tile and one vector more, whose misaligned
    // rows straddle one more aligned vector.
    int64_t runs = states / width;
    if (shift)
      runs = llvm::divideCeil(stageSteps, width) + (width > 1);
    else if (cf)
      runs = items / width;
    int64_t loads = cf ? states * runs : items * runs;
    for (int64_t j = 0; j * threads < loads; ++j) {
      Value e = b.add(tid, b.index(j * threads));
      Value valid;
      if ((j + 1) * threads > loads) {
        valid = b.cmpLT(e, b.index(loads));
        e = arith::MinUIOp::create(b, e, b.index(loads - 1));
      }
      Value major = b.div(e, b.index(runs));
      Value minor = b.mul(b.rem(e, b.index(runs)), b.index(width));
      fn(*bc, width, valid, cf ? major : minor, cf ? minor : major);
    }
  }
}

/// Issues the global loads of the tile starting at `t0`.
ScanKernelEmitter::TileLoads ScanKernelEmitter::loadTile(Value t0,
                                                         TileMode mode) {
  TileLoads loads;
  loadStage(t0, mode, loads);
  loadRuns(t0, items, mode, loads);
  return loads;
}

/// Issues this thread's share of the loads of the B/C tile that the block
/// stages for the tile at `t0`.
void ScanKernelEmitter::loadStage(Value t0, TileMode mode, TileLoads &loads) {
  bool edge = mode == TileMode::Edge;
  // A shifted window reads B/C up to one vector before (forward) or after
  // (reverse) the block's tile.
  Value stageStart = t0;
  if (shift && !reverse)
    stageStart = b.sub(t0, b.index(actWidth));
  forEachBCLoad(
      mode, [&](const BCOperand &bc, int64_t width, Value, Value n, Value i) {
        if (width == 1) {
          Value t = b.add(stageStart, i);
          Value src = bcIndex(bc, n, edge ? clampStep(t) : t);
          loads.bc.push_back(
              memref::LoadOp::create(b, bc.mem, clampInto(bc.mem, src, 1)));
          return;
        }
        if (mode != TileMode::Shifted) {
          Value src = bcIndex(bc, n, b.add(stageStart, i));
          loads.bc.push_back(vectorAt(bc.mem, src, width));
          return;
        }
        // Vector i of the aligned ones that cover the staged steps of row n; a
        // vector past them (when the row start happens to be aligned) re-loads
        // the first, and its elements are not stored.
        Value first = bcIndex(bc, n, stageStart);
        Value skip = b.rem(first, b.index(width));
        Value base = b.sub(first, skip);
        Value src = b.add(base, i);
        Value needed = b.cmpLT(src, b.add(first, b.index(stageSteps)));
        src = arith::SelectOp::create(b, needed, src, base);
        loads.bc.push_back(vectorAt(bc.mem, src, width));
        loads.bcSkip.push_back(skip);
      });
}

/// `index` of a `width`-element load from `mem`, clamped into the operand
/// where masked windows run on vectors: a window at either end of the tensor
/// may reach past it, and since the operand's size is then a multiple of
/// `width`, a load it moves holds only masked steps.
Value ScanKernelEmitter::clampInto(Value mem, Value index, int64_t width) {
  if (!clampVectors)
    return index;
  // Every operand is a flat view (`flatView`) of dynamic size.
  Value size =
      cast<memref::ReinterpretCastOp>(mem.getDefiningOp()).getSizes().front();
  return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, index, b.index(0)),
                                b.sub(size, b.index(width)));
}

/// The `width`-element vector at `index` of `mem` (clamped by `clampInto`).
Value ScanKernelEmitter::vectorAt(Value mem, Value index, int64_t width) {
  return b.loadVector(mem, clampInto(mem, index, width), width,
                      /*aligned=*/true);
}

/// Issues the loads of this thread's u, Δ (and z) runs over the `steps`
/// steps from `t0`.
void ScanKernelEmitter::loadRuns(Value t0, int64_t steps, TileMode mode,
                                 TileLoads &loads) {
  bool edge = mode == TileMode::Edge;
  bool scan = role != KernelRole::Carry;
  if (shift)
    t0 = b.add(t0, shift);
  // Every lane needs u and Δ of the whole tile; z, and the sums of the
  // directions before, only of the steps it finishes.
  for (Value mem : {u, delta, scan && gated ? z : Value(),
                    scan && accumulate ? y : Value()}) {
    if (!mem)
      continue;
    bool finished = mem == z || mem == y;
    Value start = finished ? ownStart(t0, steps) : t0;
    int64_t count = finished ? steps / lanes : steps;
    auto index = [&](Value t) {
      return finished ? outIndex(t) : mem == u ? uIndex(t) : inIndex(t);
    };
    if (mode == TileMode::Vector || mode == TileMode::Shifted) {
      int64_t width = std::min(actWidth, count);
      Value base = index(start);
      for (int64_t i = 0; i < count; i += width)
        loads.act.push_back(vectorAt(mem, b.add(base, b.index(i)), width));
      continue;
    }
    if (edge) {
      // A conv's taps read x before lo too: clamp into the sequence only.
      for (int64_t i = 0; i < count; ++i) {
        Value t = b.add(start, b.index(i));
        t = mem == u && convWidth ? clampToSequence(t) : clampStep(t);
        loads.act.push_back(memref::LoadOp::create(b, mem, index(t)));
      }
      continue;
    }
    int64_t memChannels =
        finished || (mem == u && sharedU) ? channels : inChannels;
    for (Value offset : runIndices(index, memChannels, start, count))
      loads.act.push_back(memref::LoadOp::create(b, mem, offset));
  }
  // A folded conv's halo, the K-1 steps of x before the run, last: they
  // were the previous run's, so L1 or L2 holds them.
  for (int64_t j = 1 - convWidth; j < 0; ++j)
    loads.act.push_back(memref::LoadOp::create(
        b, u, uIndex(clampToSequence(b.add(t0, b.index(j))))));
}

/// Stores this thread's share of a B/C tile into the workgroup buffer at
/// `bufBase`, laid out [slot][items][N]: step-major, so that the values one
/// step reads are contiguous (and vector-loaded), while the values of later
/// steps are not loaded early and kept live.
void ScanKernelEmitter::storeBC(const TileLoads &loads, Value bufBase,
                                TileMode mode) {
  unsigned next = 0;
  forEachBCLoad(mode, [&](const BCOperand &bc, int64_t width, Value valid,
                          Value n, Value i) {
    Value skip = loads.bcSkip.empty() ? Value() : loads.bcSkip[next];
    Value raw = loads.bc[next++];
    OpBuilder::InsertionGuard g(b);
    if (valid) {
      auto guard = scf::IfOp::create(b, valid);
      b.setInsertionPointToStart(guard.thenBlock());
    }
    Value slotBase = b.add(bufBase, b.index(bc.slot * stepStride * stageSteps));
    SmallVector<Value> v = b.unpackF32(raw);
    if (skip) {
      // Element j lands on staged step i + j - skip if that is one.
      for (auto [j, value] : llvm::enumerate(v)) {
        Value step = b.sub(b.add(i, b.index(j)), skip);
        Value staged = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, step,
                                             b.index(stageSteps));
        OpBuilder::InsertionGuard inElement(b);
        b.setInsertionPointToStart(scf::IfOp::create(b, staged).thenBlock());
        memref::StoreOp::create(
            b, value, smem,
            b.add(slotBase, b.add(b.mul(step, b.index(stepStride)), n)));
      }
      return;
    }
    Value dst = b.add(slotBase, b.add(b.mul(i, b.index(stepStride)), n));
    if (v.size() == 1) {
      memref::StoreOp::create(b, v[0], smem, dst);
      return;
    }
    if (!cf) {
      b.storeVectorF32(v, smem, dst, /*aligned=*/true);
      return;
    }
    // A channel-first vector runs along t: transpose it into the tile.
    for (auto [j, value] : llvm::enumerate(v))
      memref::StoreOp::create(b, value, smem,
                              b.add(dst, b.index(int64_t(j) * stepStride)));
  });
}

/// The value of B or C for state `n` at `step` of the tile staged at
/// `bufBase` (at this thread's shift for a shifted window).
Value ScanKernelEmitter::bcValue(const BCOperand &bc, int64_t n, Value step,
                                 Value bufBase) {
  if (bc.slot < 0)
    return bc.perChannel[n];
  if (shift) // The staged tile starts one vector early going forward.
    step = b.add(step, reverse ? shift : b.add(shift, b.index(actWidth)));
  Value off = b.add(b.index(bc.slot * stepStride * stageSteps + n),
                    b.mul(step, b.index(stepStride)));
  if (lanes > 1)
    off = b.add(off, stateBase);
  return memref::LoadOp::create(b, smem, b.add(bufBase, off));
}

/// The first of the steps of the `steps`-step tile at `t0` that this lane
/// finishes.
Value ScanKernelEmitter::ownStart(Value t0, int64_t steps) {
  if (lanes == 1)
    return t0;
  return b.add(t0, b.mul(lane, b.index(steps / lanes)));
}

/// Stores the outputs this lane finishes of the tile at `t0`.
void ScanKernelEmitter::storeRun(ArrayRef<Value> values, Value t0,
                                 TileMode mode, bool masked) {
  int64_t count = values.size();
  Value start = ownStart(t0, count * lanes);
  if (masked) {
    for (int64_t i = 0; i < count; ++i) {
      Value t = b.add(start, b.index(i));
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(scf::IfOp::create(b, inRange(t)).thenBlock());
      b.storeF32(values[i], y, outIndex(t));
    }
    return;
  }
  if (mode == TileMode::Vector || mode == TileMode::Shifted) {
    int64_t width = std::min(actWidth, count);
    Value base = outIndex(start);
    for (int64_t i = 0; i < count; i += width)
      b.storeVectorF32(values.slice(i, width), y, b.add(base, b.index(i)),
                       true);
    return;
  }
  auto index = [&](Value t) { return outIndex(t); };
  for (auto [value, offset] :
       llvm::zip(values, runIndices(index, channels, start, count)))
    b.storeF32(value, y, offset);
}

/// Runs one tile of `steps` steps from `t0` on its loaded u, Δ (z) and the
/// B/C tile staged at `bufBase`, whose step `stagedStep` is the tile's first,
/// and stores its outputs. `carried` holds the N states and, in the carry
/// kernel, the running Σ Δ; returns them after the tile. A `masked` tile
/// may reach outside [lo, hi): its steps there change nothing.
SmallVector<Value> ScanKernelEmitter::computeTile(Value t0, int64_t steps,
                                                  TileMode mode, bool masked,
                                                  ArrayRef<Value> actLoads,
                                                  Value bufBase,
                                                  Value stagedStep,
                                                  ValueRange carried) {
  bool scan = role != KernelRole::Carry;
  if (shift)
    t0 = b.add(t0, shift);
  SmallVector<Value> act;
  for (Value loaded : actLoads) {
    SmallVector<Value> values = b.unpackF32(loaded);
    act.append(values.begin(), values.end());
  }
  int64_t haloCount = convWidth ? convWidth - 1 : 0;
  ArrayRef<Value> runs = ArrayRef(act).drop_back(haloCount);
  ArrayRef<Value> uv = runs.slice(0, steps);
  ArrayRef<Value> dv = runs.slice(steps, steps);
  int64_t zCount = scan && gated && z ? steps / lanes : 0;
  ArrayRef<Value> zv = runs.slice(2 * steps, zCount);
  ArrayRef<Value> yv = runs.drop_front(2 * steps + zCount);
  SmallVector<Value> convolved;
  if (convWidth) {
    convolved = convInputs(ArrayRef(act).take_back(haloCount), uv, t0, masked);
    uv = convolved;
  }

  SmallVector<Value> deltas = stepDeltas(dv);
  SmallVector<Value> h(carried.begin(), carried.end());
  SmallVector<Value> partial(steps);
  for (int64_t s = 0; s < steps; ++s) {
    int64_t i = reverse ? steps - 1 - s : s;
    Value staged = b.add(stagedStep, b.index(i));
    Value dt = deltas[i];
    // A step outside [lo, hi) adds nothing to Σ Δ and keeps the states.
    Value valid;
    if (masked) {
      valid = inRange(b.add(t0, b.index(i)));
      dt = arith::SelectOp::create(b, valid, dt, b.f32(0.0));
    }
    Value du = b.mul(dt, uv[i]);
    Value acc = b.f32(0.0);
    for (int64_t n = 0; n < own; ++n) {
      Value decay = stateExp(n, b.mul(dt, a2[n]));
      Value next =
          b.fma(decay, h[n], b.mul(du, bcValue(bOp, n, staged, bufBase)));
      h[n] = valid ? arith::SelectOp::create(b, valid, next, h[n]) : next;
      if (scan)
        acc = b.fma(bcValue(cOp, n, staged, bufBase), h[n], acc);
    }
    if (!scan)
      h[own] = b.add(h[own], dt);
    // A lone lane finishes each step as it goes (ptxas schedules that
    // better than a finishing pass after the tile).
    partial[i] = lanes == 1 ? finishStep(acc, uv[i], zv, yv, i) : acc;
  }
  if (!scan)
    return h;
  if (lanes == 1) {
    storeRun(partial, t0, mode, masked);
    return h;
  }
  // The lanes' partial sums become whole ones, each lane finishing its
  // share of the steps: skip and gate run once per step, not once per lane.
  SmallVector<Value> out = reduceScatter(partial);
  for (int64_t j = 0, e = out.size(); j < e; ++j)
    out[j] = finishStep(out[j], pickOwn(uv, j), zv, yv, j);
  storeRun(out, t0, mode, masked);
  return h;
}

/// Adds the D skip to a step's output sum, and the sum that the directions
/// before stored (`yv[j]`, where this one accumulates), and gates it with the
/// step's z (`zv[j]`, where this one gates and the layer has z).
Value ScanKernelEmitter::finishStep(Value acc, Value uValue, ArrayRef<Value> zv,
                                    ArrayRef<Value> yv, int64_t j) {
  if (skip)
    acc = b.fma(skip, uValue, acc);
  if (!yv.empty())
    acc = b.add(acc, yv[j]);
  if (zv.empty())
    return acc;
  return b.mul(acc, siluOf16Bit(b, zv[j], y.getType()));
}

/// Step `t` clamped into [lo, hi): where an edge window loads from.
Value ScanKernelEmitter::clampStep(Value t) {
  return arith::MinSIOp::create(b, arith::MaxSIOp::create(b, t, lo),
                                b.sub(hi, b.index(1)));
}

/// Whether step `t` lies in [lo, hi).
Value ScanKernelEmitter::inRange(Value t) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, b.sub(t, lo),
                               b.sub(hi, lo));
}

/// Runs the windows [first, end) as edge tiles, one at a time. The block
/// stages a window's B/C once; each thread then runs it in sub-tiles of a
/// few steps, whose loads are not pipelined but expose their latency once
/// per sub-tile (not per step), and whose registers stay few (a whole
/// unrolled window made ptxas spill). Every thread of the block runs the
/// same count (they stage B/C together and shuffle across the warp); a
/// window wholly outside [lo, hi) changes nothing.
SmallVector<Value>
ScanKernelEmitter::emitEdgeTiles(Value first, Value end,
                                 function_ref<Value(Value)> tileStart,
                                 ValueRange carried) {
  auto windows = scf::ForOp::create(b, first, end, b.index(1), carried);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(windows.getBody());
  Value t0 = tileStart(windows.getInductionVar());
  TileLoads stage;
  loadStage(t0, TileMode::Edge, stage);
  if (!stage.bc.empty()) {
    // Other threads may still read the buffer of an earlier tile.
    gpu::BarrierOp::create(b);
    storeBC(stage, b.index(0), TileMode::Edge);
    gpu::BarrierOp::create(b);
  }
  // Sub-tiles of 64 state-steps a thread (8 steps ran S1 f32 into spills).
  int64_t sub = std::max<int64_t>(lanes, 64 / own);
  if (items % sub != 0)
    sub = items;
  int64_t count = items / sub;
  auto subTiles = scf::ForOp::create(b, b.index(0), b.index(count), b.index(1),
                                     windows.getRegionIterArgs());
  {
    OpBuilder::InsertionGuard inSub(b);
    b.setInsertionPointToStart(subTiles.getBody());
    // A reverse scan walks the window's sub-tiles backwards.
    Value j = subTiles.getInductionVar();
    if (reverse)
      j = b.sub(b.index(count - 1), j);
    Value offset = b.mul(j, b.index(sub));
    Value start = b.add(t0, offset);
    TileLoads runs;
    loadRuns(start, sub, TileMode::Edge, runs);
    scf::YieldOp::create(b, computeTile(start, sub, TileMode::Edge,
                                        /*masked=*/true, runs.act, b.index(0),
                                        offset, subTiles.getRegionIterArgs()));
  }
  scf::YieldOp::create(b, subTiles.getResults());
  return SmallVector<Value>(windows.getResults());
}

/// The tiles [first, full), software-pipelined: while a tile is computed from
/// registers and one workgroup buffer, the global loads of the next tile are
/// in flight and land in registers and the other buffer, so their latency
/// hides behind the recurrence. One barrier per tile. The tiles `isMasked`
/// names (block-uniformly) run masked.
SmallVector<Value>
ScanKernelEmitter::emitPipelinedTiles(TileMode mode, Value first, Value full,
                                      function_ref<Value(Value)> tileStart,
                                      ValueRange carried,
                                      function_ref<Value(Value)> isMasked) {
  SmallVector<Value> h(carried.begin(), carried.end());
  Value any = b.cmpLT(first, full);
  auto ifOp = scf::IfOp::create(b, ValueRange(h).getTypes(), any,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, h);

  b.setInsertionPointToStart(ifOp.thenBlock());
  // Other threads may still read the buffer of an earlier tile.
  TileLoads start = loadTile(tileStart(first), mode);
  if (!start.bc.empty())
    gpu::BarrierOp::create(b);
  storeBC(start, b.index(0), mode);
  SmallVector<Value> init = h;
  init.append(start.act.begin(), start.act.end());
  auto loop = scf::ForOp::create(b, first, full, b.index(1), init);
  {
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value k = loop.getInductionVar();
    ValueRange args = loop.getRegionIterArgs();
    if (!start.bc.empty())
      gpu::BarrierOp::create(b);
    // The last iteration re-loads its own tile instead of reading past it.
    Value last = b.sub(full, b.index(1));
    Value kNext = arith::MinUIOp::create(b, b.add(k, b.index(1)), last);
    TileLoads next = loadTile(tileStart(kNext), mode);
    Value parity = b.rem(b.sub(k, first), b.index(2));
    Value buf = b.mul(parity, b.index(bufferSize));
    SmallVector<Value> actLoads(args.drop_front(h.size()));
    auto compute = [&](bool masked) {
      return computeTile(tileStart(k), items, mode, masked, actLoads, buf,
                         b.index(0), args.take_front(h.size()));
    };
    SmallVector<Value> out;
    if (!isMasked) {
      out = compute(/*masked=*/false);
    } else {
      auto branch = scf::IfOp::create(b, ValueRange(h).getTypes(), isMasked(k),
                                      /*withElseRegion=*/true);
      OpBuilder::InsertionGuard inBranch(b);
      b.setInsertionPointToStart(branch.thenBlock());
      scf::YieldOp::create(b, compute(/*masked=*/true));
      b.setInsertionPointToStart(branch.elseBlock());
      scf::YieldOp::create(b, compute(/*masked=*/false));
      out = SmallVector<Value>(branch.getResults());
    }
    if (!next.bc.empty())
      storeBC(next, b.mul(b.sub(b.index(1), parity), b.index(bufferSize)),
              mode);
    out.append(next.act.begin(), next.act.end());
    scf::YieldOp::create(b, out);
  }
  scf::YieldOp::create(b, loop.getResults().take_front(h.size()));
  return SmallVector<Value>(ifOp.getResults());
}

/// The windows of a channel-first row that is not 16-byte aligned. Each
/// thread shifts its windows by up to one vector (forward: back to the
/// aligned element at or before lo; reverse: forward from hi) so that its u,
/// Δ, z and y accesses stay 128-bit ones. Window 0 reaches past the segment,
/// windows 1 .. full-1 lie inside it, the rest (as many as the most shifted
/// channel needs) reach past it again; all run on the block's B/C tile,
/// staged one vector wider. Where the operands' sizes are multiples of the
/// vector width, every window runs pipelined on vectors, the outer ones
/// masked (their vectors lie in the tensor, or hold only masked steps where
/// they are clamped into it); else the outer ones run as edge tiles.
SmallVector<Value> ScanKernelEmitter::emitShiftedTiles(
    Value full, function_ref<Value(Value)> tileStart, ValueRange carried) {
  Value width = b.index(actWidth), one = b.index(1);
  Value misalign = b.rem(inIndex(reverse ? hi : lo), width);
  // Forward windows start m steps early; reverse ones end (V-m) % V late.
  shift = reverse ? b.rem(b.sub(width, misalign), width)
                  : b.sub(b.index(0), misalign);
  Value windows = arith::CeilDivUIOp::create(
      b, b.add(b.sub(hi, lo), b.sub(width, one)), b.index(items));
  SmallVector<Value> h;
  if (channels % actWidth == 0) {
    clampVectors = true;
    auto isMasked = [&](Value k) {
      return arith::OrIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, k, b.index(0)),
          arith::CmpIOp::create(b, arith::CmpIPredicate::uge, k, full));
    };
    h = emitPipelinedTiles(TileMode::Shifted, b.index(0), windows, tileStart,
                           carried, isMasked);
    clampVectors = false;
  } else {
    h = emitEdgeTiles(b.index(0), one, tileStart, carried);
    h = emitPipelinedTiles(TileMode::Shifted, one, full, tileStart, h);
    h = emitEdgeTiles(arith::MaxUIOp::create(b, full, one), windows, tileStart,
                      h);
  }
  shift = Value();
  return h;
}

/// Scans the steps [lo, hi): whole tiles (walked backwards for a reverse
/// scan), then the window they leave as an edge tile.
SmallVector<Value> ScanKernelEmitter::emitSegment(ValueRange carried) {
  SmallVector<Value> h(carried.begin(), carried.end());
  Value itemsV = b.index(items);
  Value steps = b.sub(hi, lo);
  Value full = b.div(steps, itemsV);
  Value windows = arith::CeilDivUIOp::create(b, steps, itemsV);
  auto tileStart = [&](Value k) {
    if (!reverse)
      return b.add(lo, b.mul(k, itemsV));
    return b.sub(hi, b.mul(b.add(k, b.index(1)), itemsV));
  };
  // Channel-first rows are 16-byte aligned when L is a multiple of the
  // vector width (segments start at multiples of the tile): then 128-bit
  // loads from aligned tiles, else from per-thread shifted windows.
  int64_t vecAlign = actWidth;
  for (const BCOperand *bc : {&bOp, &cOp})
    if (bc->slot >= 0)
      vecAlign = std::max(vecAlign, vectorWidth(bc->mem.getType()));
  // A bidirectional scan shifts the windows of u and Δ (2D channels) as
  // those of z and y (D): row starts agree on their misalignment when D is
  // a multiple of the vector width.
  if (!cf || items % vecAlign != 0 || actWidth == 1 ||
      (directions > 1 && channels % actWidth != 0)) {
    h = emitPipelinedTiles(TileMode::Scalar, b.index(0), full, tileStart, h);
    return emitEdgeTiles(full, windows, tileStart, h);
  }
  Value aligned = arith::CmpIOp::create(
      b, arith::CmpIPredicate::eq, b.rem(len, b.index(vecAlign)), b.index(0));
  auto ifOp = scf::IfOp::create(b, ValueRange(h).getTypes(), aligned,
                                /*withElseRegion=*/true);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  SmallVector<Value> tiled =
      emitPipelinedTiles(TileMode::Vector, b.index(0), full, tileStart, h);
  scf::YieldOp::create(b, emitEdgeTiles(full, windows, tileStart, tiled));
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, emitShiftedTiles(full, tileStart, h));
  return SmallVector<Value>(ifOp.getResults());
}

/// Starts the segment from the state the earlier segments carry in (the later
/// ones for a reverse scan): per earlier segment s, h = 2^(A·log2e·ΣΔ_s)·h +
/// h_end[s].
SmallVector<Value> ScanKernelEmitter::carryIn(ValueRange hIn, Value state,
                                              Value deltaSum) {
  Value count =
      reverse ? b.sub(b.sub(numSegments, segment), b.index(1)) : segment;
  auto loop = scf::ForOp::create(b, b.index(0), count, b.index(1), hIn);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(loop.getBody());
  Value k = loop.getInductionVar();
  Value seg = reverse ? b.sub(b.sub(numSegments, k), b.index(1)) : k;
  Value row = carryIndex(seg);
  Value sum = b.loadF32(deltaSum, row);
  Value base = b.add(b.mul(row, b.index(states)), stateBase);
  SmallVector<Value> h(loop.getRegionIterArgs());
  for (int64_t n = 0; n < own; ++n)
    h[n] = b.fma(b.exp2(b.mul(sum, a2[n])), h[n],
                 b.loadF32(state, b.add(base, b.index(n))));
  scf::YieldOp::create(b, h);
  return SmallVector<Value>(loop.getResults());
}

void ScanKernelEmitter::emit(ArrayRef<BlockArgument> args, Value smemBuf) {
  bool scan = role != KernelRole::Carry;
  smem = smemBuf;
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value uArg = nextArg(), deltaArg = nextArg(), aArg = nextArg(),
        bArg = nextArg();
  Value cArg = scan ? nextArg() : Value();
  Value skipArg = scan && op.getD() ? nextArg() : Value();
  Value zArg = role == KernelRole::Scan && op.getZ() ? nextArg() : Value();
  Value biasArg = op.getDeltaBias() ? nextArg() : Value();
  Value initArg = scan && op.getInit() ? nextArg() : Value();
  Value convArg = op.getConvWeight() ? nextArg() : Value();
  Value convBiasArg = op.getConvBias() ? nextArg() : Value();
  Value yArg = scan ? nextArg() : Value();
  Value lastArg = scan && op.getLastState() ? nextArg() : Value();
  // A cross scan is one segment of its static L = H·W: no carries.
  std::optional<ArrayRef<int64_t>> grid = op.getCrossScan();
  Value stateArg = grid ? Value() : nextArg();
  Value deltaSumArg = grid ? Value() : nextArg();
  batch = nextArg();
  len = grid ? b.index((*grid)[0] * (*grid)[1]) : nextArg();
  Value segmentSteps = grid ? len : chunk ? b.index(chunk) : nextArg();

  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  actWidth = std::min(vectorWidth(uArg.getType()), items);
  // `lanes` consecutive threads share a channel, lane l keeping states
  // [l, l + 1) · N / lanes.
  d0 = b.mul(block, b.index(threads / lanes));
  d = b.add(d0, blockChannel(b.div(tid, b.index(lanes))));
  lane = b.rem(tid, b.index(lanes));
  stateBase = b.mul(lane, b.index(own));
  Value blockSegment = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  numSegments = std::get<0>(b.segmentBounds(blockSegment, segmentSteps, len));

  Value dN = b.index(inChannels * states);
  Value inSize = b.mul(b.mul(batch, b.index(inChannels)), len);
  Value outSize = b.mul(b.mul(batch, b.index(channels)), len);
  u = b.flatView(uArg, sharedU ? outSize : inSize);
  delta = b.flatView(deltaArg, inSize);
  // A direction kernel writes its slab of the partial sums [B, K, L, D].
  outRow = bIdx;
  if (yArg)
    y = b.flatView(yArg, role == KernelRole::Direction
                             ? b.mul(outSize, b.index(directions))
                             : outSize);
  if (zArg)
    z = b.flatView(zArg, outSize);
  aMem = b.flatView(aArg, dN);
  if (skipArg)
    skipMem = b.flatView(skipArg, b.index(inChannels));
  if (biasArg)
    biasMem = b.flatView(biasArg, b.index(inChannels));
  convWidth = op.getConvWidth();
  if (convArg)
    convMem = b.flatView(convArg, b.index(inChannels * convWidth));
  if (convBiasArg)
    convBiasMem = b.flatView(convBiasArg, b.index(inChannels));

  int64_t slots = 0;
  auto setupBC = [&](Value arg, Value operand, BCOperand &bc) {
    bc.kind = getBCKind(operand.getType());
    bc.groups = getNumGroups(operand.getType(), op.getLayout());
    if (bc.kind == BCKind::PerChannel) {
      bc.mem = b.flatView(arg, dN);
      return;
    }
    bc.slot = slots++;
    bc.mem = b.flatView(
        arg,
        b.mul(b.mul(b.mul(batch, b.index(bc.groups)), b.index(states)), len));
  };
  setupBC(bArg, op.getB(), bOp);
  if (cArg)
    setupBC(cArg, op.getC(), cOp);
  // Shifted windows need the tile plus one vector of B/C.
  stageSteps = cf && actWidth > 1 ? items + actWidth : items;
  bufferSize = slots * stepStride * stageSteps;

  Value stateSize = b.mul(batch, dN);
  if (stateArg) {
    Value carrySize = b.mul(b.mul(batch, b.sub(numSegments, b.index(1))),
                            b.index(inChannels));
    carryState = b.flatView(stateArg, b.mul(carrySize, b.index(states)));
    carryDelta = b.flatView(deltaSumArg, carrySize);
  }
  if (initArg)
    init = b.flatView(initArg, stateSize);
  if (lastArg)
    last = b.flatView(lastArg, stateSize);

  if (role == KernelRole::Direction) {
    // Block row z scans direction z: one case per direction, each
    // specialized (its walk, reversal and index map are static).
    SmallVector<int64_t> cases =
        llvm::to_vector(llvm::seq<int64_t>(directions));
    auto dispatch = scf::IndexSwitchOp::create(b, TypeRange(), blockSegment,
                                               cases, cases.size());
    OpBuilder::InsertionGuard g(b);
    b.createBlock(&dispatch.getDefaultRegion());
    scf::YieldOp::create(b);
    for (auto [k, region] : llvm::enumerate(dispatch.getCaseRegions())) {
      b.createBlock(&region);
      emitDirection(k, b.index(0), segmentSteps);
      scf::YieldOp::create(b);
    }
    return;
  }
  for (int64_t k = 0; k < directions; ++k) {
    // The next direction reads the sums this one stored, other threads'
    // where their windows differ.
    if (k > 0 && scan)
      gpu::BarrierOp::create(b);
    emitDirection(k, blockSegment, segmentSteps);
  }
}

/// Scans direction `k` (of a bidirectional scan; else the only one) of the
/// block's channels over its segment: from block row `blockSegment` of the
/// grid, of `segmentSteps` steps.
void ScanKernelEmitter::emitDirection(int64_t k, Value blockSegment,
                                      Value segmentSteps) {
  bool scan = role != KernelRole::Carry;
  // Directions in the order of the stacked operands: forward, then backward
  // (bidirectional); rows, columns, rows backward, columns backward (cross).
  reverse = op.getReverse() || (directions == 2 && k == 1) ||
            (directions == 4 && k >= 2);
  columnMajor = directions == 4 && k % 2 == 1;
  // A direction kernel leaves the sum and the gate to the merge kernel.
  bool alone = role == KernelRole::Direction;
  gated = !alone && k == directions - 1;
  accumulate = !alone && k > 0;
  if (alone)
    outRow = b.add(b.mul(bIdx, b.index(directions)), b.index(k));
  c = b.add(d, b.index(k * channels));
  // The carry kernel's grid leaves out the segment scanned last, which
  // carries nothing on: the first of a reverse scan.
  segment = blockSegment;
  if (!scan && reverse)
    segment = b.add(segment, b.index(1));
  std::tie(std::ignore, lo, hi) = b.segmentBounds(segment, segmentSteps, len);

  Value aRow = b.add(b.mul(c, b.index(states)), stateBase);
  a2.clear();
  for (int64_t n = 0; n < own; ++n)
    a2.push_back(
        b.mul(b.loadF32(aMem, b.add(aRow, b.index(n))), b.f32(M_LOG2E)));
  skip = skipMem ? b.loadF32(skipMem, c) : Value();
  bias = biasMem ? b.loadF32(biasMem, c) : Value();
  convTaps.clear();
  for (int64_t k = 0; k < convWidth; ++k)
    convTaps.push_back(
        b.loadF32(convMem, b.add(b.mul(c, b.index(convWidth)), b.index(k))));
  convBias = convBiasMem ? b.loadF32(convBiasMem, c) : Value();
  for (BCOperand *bc : {&bOp, &cOp}) {
    if (!bc->mem || bc->kind != BCKind::PerChannel)
      continue;
    bc->perChannel.clear();
    for (int64_t n = 0; n < own; ++n)
      bc->perChannel.push_back(b.loadF32(bc->mem, b.add(aRow, b.index(n))));
  }
  // Every channel of a block belongs to one group (the tile guarantees it).
  int64_t groups = std::max(bOp.groups, cOp.mem ? cOp.groups : 1);
  group0 =
      b.div(b.add(d0, b.index(k * channels)), b.index(inChannels / groups));

  Value stateRow =
      b.add(b.mul(b.add(b.mul(bIdx, b.index(inChannels)), c), b.index(states)),
            stateBase);
  SmallVector<Value> h;
  for (int64_t n = 0; n < own; ++n)
    h.push_back(init ? b.loadF32(init, b.add(stateRow, b.index(n)))
                     : b.f32(0.0));

  if (!scan) {
    OpBuilder::InsertionGuard g(b);
    h.push_back(b.f32(0.0)); // Σ Δ
    h = emitSegment(h);
    Value row = carryIndex(segment);
    Value base = b.add(b.mul(row, b.index(states)), stateBase);
    for (int64_t n = 0; n < own; ++n)
      b.storeF32(h[n], carryState, b.add(base, b.index(n)));
    if (lanes > 1) // Every lane summed the same Δ.
      b.setInsertionPointToStart(scf::IfOp::create(b, isLane(0)).thenBlock());
    b.storeF32(h[own], carryDelta, row);
    return;
  }

  if (carryState)
    h = carryIn(h, carryState, carryDelta);
  h = emitSegment(h);
  if (!last)
    return;
  // Only the segment scanned last holds the final state.
  Value lastSeg = reverse ? b.index(0) : b.sub(numSegments, b.index(1));
  auto isLast = scf::IfOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, segment, lastSeg));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(isLast.thenBlock());
  for (int64_t n = 0; n < own; ++n)
    b.storeF32(h[n], last, b.add(stateRow, b.index(n)));
}

/// Builds one kernel of the scan with the given role and parameters.
static KernelLaunch buildKernel(SelectiveScanOp op, KernelRole role,
                                SmallVector<KernelParam> params,
                                SmallVector<Value, 3> grid, OpBuilder &host,
                                gpu::GPUModuleOp module, StringRef name) {
  TileAttr tile = op.getTileAttr();
  int64_t threads = tile.getThreads();
  Location loc = op.getLoc();
  KernelLaunch launch;
  launch.params = std::move(params);
  launch.grid = std::move(grid);
  launch.block = {threads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("selective_scan")),
      host.getNamedAttr("ssm.tile", tile)};

  // Workgroup memory stages the B (and C) tile shared by the block.
  int64_t staged = getBCKind(op.getB().getType()) != BCKind::PerChannel;
  if (role != KernelRole::Carry)
    staged += getBCKind(op.getC().getType()) != BCKind::PerChannel;
  SmallVector<MemRefType> workgroup;
  if (staged) {
    auto space = gpu::AddressSpaceAttr::get(host.getContext(),
                                            gpu::AddressSpace::Workgroup);
    // Two buffers: one is read while the next tile lands in the other; a
    // channel-first tile holds one vector more for shifted windows.
    int64_t steps = tile.getItems();
    if (op.getLayout() == Layout::ChannelFirst)
      steps +=
          std::min<int64_t>(vectorWidth(op.getU().getType()), tile.getItems());
    workgroup.push_back(
        MemRefType::get({2 * staged * stagedStepStride(op) * steps},
                        host.getF32Type(), MemRefLayoutAttrInterface(), space));
  }
  launch.kernel = createKernel(host, loc, module, name, launch, workgroup);
  // The recurrence is latency-bound: ask ptxas for a register budget of 168
  // per thread so that enough blocks stay resident to hide it, instead of
  // letting it take all 255 registers for scheduling freedom.
  launch.kernel->setAttr(
      NVVM::NVVMDialect::getMinctasmAttrName(),
      host.getI32IntegerAttr(std::max<int64_t>(1, 65536 / (168 * threads))));

  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  ScanKernelEmitter emitter(op, role, body);
  emitter.emit(launch.kernel.getArguments(),
               staged ? Value(launch.kernel.getWorkgroupAttributions().front())
                      : Value());
  return launch;
}

/// Threads of a block of the cross-scan merge kernel.
static constexpr int64_t kMergeThreads = 256;

/// Builds the kernel that finishes a cross scan: y = (Σ_k partials[b, k]) ·
/// silu(z), elementwise over each batch row's L·D values (static), a 16-byte
/// vector a thread where D allows.
static KernelLaunch buildCrossMerge(SelectiveScanOp op, Value partials,
                                    const IRMapping &buffers, Value batch,
                                    OpBuilder &host, gpu::GPUModuleOp module,
                                    StringRef name) {
  Location loc = op.getLoc();
  auto yType = cast<RankedTensorType>(op.getY().getType());
  int64_t rowSize = yType.getDimSize(1) * yType.getDimSize(2);
  int64_t width = vectorWidth(yType);
  if (yType.getDimSize(2) % width != 0)
    width = 1;
  int64_t directions = op.getNumDirections();
  KernelLaunch launch;
  launch.params.push_back({partials});
  if (op.getZ())
    launch.params.push_back({buffers.lookup(op.getZ())});
  launch.params.push_back({buffers.lookup(op.getY()), /*readOnly=*/false});
  launch.params.push_back({batch});
  launch.grid = {
      indexConstant(host, loc,
                    llvm::divideCeil(rowSize, kMergeThreads * width)),
      batch, indexConstant(host, loc, 1)};
  launch.block = {kMergeThreads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("selective_scan"))};
  launch.kernel = createKernel(host, loc, module, name, launch, {});

  KernelBodyBuilder b(loc, host.getContext());
  b.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  auto args = launch.kernel.getArguments();
  Value numRows = args.back();
  Value partialMem =
      b.flatView(args[0], b.mul(numRows, b.index(directions * rowSize)));
  Value zMem = op.getZ() ? b.flatView(args[1], b.mul(numRows, b.index(rowSize)))
                         : Value();
  Value yMem =
      b.flatView(args[op.getZ() ? 2 : 1], b.mul(numRows, b.index(rowSize)));
  Value row = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value element =
      b.mul(b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::x),
                        b.index(kMergeThreads)),
                  gpu::ThreadIdOp::create(b, gpu::Dimension::x)),
            b.index(width));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(
      scf::IfOp::create(b, b.cmpLT(element, b.index(rowSize))).thenBlock());
  auto load = [&](Value mem, Value index) {
    if (width == 1)
      return SmallVector<Value>{b.loadF32(mem, index)};
    return b.unpackF32(b.loadVector(mem, index, width, /*aligned=*/true));
  };
  Value offset = b.add(b.mul(row, b.index(rowSize)), element);
  SmallVector<Value> sum(width, b.f32(0.0));
  for (int64_t k = 0; k < directions; ++k) {
    Value slab = b.add(b.mul(b.add(b.mul(row, b.index(directions)), b.index(k)),
                             b.index(rowSize)),
                       element);
    for (auto [acc, value] : llvm::zip(sum, load(partialMem, slab)))
      acc = b.add(acc, value);
  }
  if (zMem)
    for (auto [acc, gate] : llvm::zip(sum, load(zMem, offset)))
      acc = b.mul(acc, siluOf16Bit(b, gate, yType));
  if (width == 1)
    b.storeF32(sum[0], yMem, offset);
  else
    b.storeVectorF32(sum, yMem, offset, /*aligned=*/true);
  return launch;
}

FailureOr<LoweredOp> mlir::ssm::lowerSelectiveScan(SelectiveScanOp op,
                                                   const IRMapping &buffers,
                                                   OpBuilder &host,
                                                   gpu::GPUModuleOp module,
                                                   StringRef name) {
  TileAttr tile = op.getTileAttr();
  if (!tile)
    return op.emitOpError("has no #ssm.tile; run ssm-tile first");
  // A block owns channels of z and y, of one direction; those of the other
  // operands count every direction's.
  int64_t channels = op.getNumChannels(), threads = tile.getThreads();
  int64_t outChannels = channels / op.getNumDirections();
  int64_t states = op.getStateSize(), chunk = tile.getChunk();
  // A block owns threads / lanes consecutive channels of one B/C group and
  // direction.
  int64_t blockChannels = threads / tile.getLanes();
  int64_t perGroup = op.getChannelsPerGroup();
  if (perGroup % blockChannels != 0)
    return op.emitOpError("tile threads / lanes = ")
           << blockChannels << " must divide the " << perGroup
           << " channels of each B/C group"
           << (op.getBidirectional() ? " and direction" : "");

  Location loc = op.getLoc();
  bool cf = op.getLayout() == Layout::ChannelFirst;
  Value uBuf = buffers.lookup(op.getU());
  Value batch = memref::DimOp::create(host, loc, uBuf, 0);
  Value len = memref::DimOp::create(host, loc, uBuf, cf ? 2 : 1);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  SmallVector<Value, 3> grid = {cst(outChannels / blockChannels), batch,
                                cst(1)};
  LoweredOp lowered;
  // A cross scan's column-major directions read tokens of every part of L,
  // so none is split; its directions run in parallel blocks instead (block
  // row z), each storing its sums in a slab of a workspace that a second
  // kernel sums and gates: four times the blocks of one doing all four in
  // turn, which left most SMs idle (bench/README.md).
  if (op.getCrossScan()) {
    auto yType = cast<RankedTensorType>(op.getY().getType());
    SmallVector<int64_t> slabs = {ShapedType::kDynamic, op.getNumDirections(),
                                  yType.getDimSize(1), yType.getDimSize(2)};
    Value partials = lowered.addWorkspace(
        host, loc, MemRefType::get(slabs, yType.getElementType()), {batch},
        "cross_partials");
    SmallVector<KernelParam> params;
    for (Value operand : op->getOperands())
      if (operand != op.getZ())
        params.push_back({buffers.lookup(operand)});
    params.push_back({partials, /*readOnly=*/false});
    if (op.getLastState())
      params.push_back({buffers.lookup(op.getLastState()), /*readOnly=*/false});
    params.push_back({batch});
    grid[2] = cst(op.getNumDirections());
    lowered.launches.push_back(buildKernel(op, KernelRole::Direction, params,
                                           grid, host, module, name));
    lowered.launches.push_back(buildCrossMerge(
        op, partials, buffers, batch, host, module, (name + "_merge").str()));
    return lowered;
  }

  // Blocks split L into segments of whole tiles: the tile's chunk, or as
  // many steps as libssmrt picks at launch to fill the GPU. The segments'
  // carries live in workspaces [B, S - 1, D, N] and [B, S - 1, D].
  LSegments segments(host, loc, batch, len, chunk, tile.getItems(),
                     kScanMinSegmentSteps);
  grid[2] = segments.count;
  Value carryState =
      segments.addCarry(lowered, {channels, states}, "carry_state");
  Value carryDelta = segments.addCarry(lowered, {channels}, "carry_delta");

  SmallVector<KernelParam> carryParams;
  for (Value operand : {op.getU(), op.getDelta(), op.getA(), op.getB()})
    carryParams.push_back({buffers.lookup(operand)});
  for (Value operand :
       {op.getDeltaBias(), op.getConvWeight(), op.getConvBias()})
    if (operand)
      carryParams.push_back({buffers.lookup(operand)});
  carryParams.push_back({carryState, /*readOnly=*/false});
  carryParams.push_back({carryDelta, /*readOnly=*/false});
  segments.appendSizes(carryParams);
  // The carry kernel sums every segment but the one scanned last; with a
  // single segment its grid is empty and it is not launched.
  SmallVector<Value, 3> carryGrid = grid;
  carryGrid[2] = segments.carried;
  lowered.launches.push_back(buildKernel(op, KernelRole::Carry, carryParams,
                                         carryGrid, host, module,
                                         (name + "_carry").str()));

  SmallVector<KernelParam> params;
  for (Value operand : op->getOperands())
    params.push_back({buffers.lookup(operand)});
  for (Value result : op->getResults())
    params.push_back({buffers.lookup(result), /*readOnly=*/false});
  params.push_back({carryState});
  params.push_back({carryDelta});
  segments.appendSizes(params);
  lowered.launches.push_back(
      buildKernel(op, KernelRole::Scan, params, grid, host, module, name));
  return lowered;
}
