//===- SSDKernel.h - The Mamba-2 SSD kernel emitter -------------*- C++ -*-===//
//
// The emitter of the kernels ssm.ssd_chunk lowers to (SSDChunkToGPU.cpp):
// the kernel's static shape, and the phases of a chunk on mma.sync
// (SSDKernelPhases.cpp) or on warpgroup MMA (SSDWarpgroup.cpp), walked by
// SSDKernelWalk.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_LIB_CONVERSION_SSMTOGPU_SSDKERNEL_H
#define SSMC_LIB_CONVERSION_SSMTOGPU_SSDKERNEL_H

#include "KernelBuilder.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/Support/MathExtras.h"

#include <array>

namespace mlir::ssm::ssd {

/// The m16n8k16 shape: a warp's tile is 16 rows, 8 columns, 16 deep.
inline constexpr int64_t kTileRows = 16;
inline constexpr int64_t kTileCols = 8;
/// Elements of a 16-bit type per 128-bit access and per row padding.
inline constexpr int64_t kVector = 8;
/// A TMA box spans at most 256 elements a dimension.
inline constexpr int64_t kMaxBoxElements = 256;
/// The bytes of an encoded tensor map (CUtensorMap).
inline constexpr int64_t kTensorMapBytes = 128;
/// The attribute of the workspace libssmrt writes tensor maps into: an array
/// of {tensor = name, box = [elements, innermost first]}.
inline constexpr StringLiteral kTensorMapsAttr = "ssm.tensor_maps";

/// The two kernels of a segmented scan: the scan proper, and the carry
/// kernel that only sums each L segment's state.
enum class SSDRole { Scan, Carry };

/// The static sizes of the kernel.
struct SSDShape {
  int64_t heads, headdim, states, groups;
  int64_t chunk;   // Q
  int64_t warps;   // W
  int64_t columns; // head-dim columns per block
  int64_t segment; // steps per L segment (0: a parameter set at launch)
  int64_t stages;  // chunks in the pipeline: 2, or 3 to drop two barriers
  Type elem;       // the 16-bit operand type
  bool warpgroup;  // warpgroup MMA (sm_90a) instead of mma.sync
  /// x, B and C stage buffers: `stages`, or 3 with two stages where they fit
  /// (chooseBuffers in SSDChunkToGPU.cpp), which drops a barrier. Two, the
  /// fewest the pipeline runs with, until chooseBuffers sets them.
  int64_t buffers = 2;
  /// B and C staged by tensor copies (sm_90 TMA, one box each a chunk)
  /// completing on one mbarrier a buffer, instead of cp.async.
  bool tma = false;

  /// Warps that share each column block's state, each holding states /
  /// stateSplit of it: with 2, the warps of a pair own two column blocks
  /// together and each B fragment read from workgroup memory serves both.
  /// The carry kernel's only (a split scan would add up the pair's partial
  /// state terms, which cost more than it saved: bench/HISTORY.md, session
  /// 40).
  int64_t stateSplit = 1;

  /// Whether every warp stages Acum and Δ of its own run of a chunk's steps
  /// (decayRunSteps), each run's Acum summed from the run's start, its total
  /// beside: the carry kernel's, whose warps have no G tiles that would even
  /// out the decay warp's extra work (they waited for it at each chunk's
  /// barrier). Runs span whole 16-step mma tiles and a warp's lanes at most.
  bool splitDecay(SSDRole role) const {
    return role == SSDRole::Carry && !warpgroup && chunk % (16 * warps) == 0 &&
           chunk / warps <= 32;
  }
  /// The steps of a chunk whose Acum sums from one start: a warp's, or all.
  int64_t decayRunSteps(SSDRole role) const {
    return splitDecay(role) ? chunk / warps : chunk;
  }
  /// The raw dt values each lane loads a chunk.
  int64_t dtPerLane(SSDRole role) const {
    return splitDecay(role) ? 1 : chunk / 32;
  }

  int64_t threads() const { return warps * 32; }
  /// Chunks staged ahead of the one being finished.
  int64_t ahead() const { return stages - 1; }
  /// f32 state values per thread: per column block, the warp's states / 8
  /// mma tiles of 4.
  int64_t stateValues() const {
    return blocksPerWarp() * warpStates() / kTileCols * 4;
  }
  /// 16-column blocks of the head dim whose state (part) each warp holds.
  int64_t blocksPerWarp() const {
    return columns * stateSplit / (kTileRows * warps);
  }
  /// The states of a column block that each warp holds.
  int64_t warpStates() const { return states / stateSplit; }
  /// Row strides (elements) of the staged x, B/C and G tiles.
  int64_t xStride() const { return columns + kVector; }
  int64_t bcStride() const { return states + kVector; }
  int64_t gStride() const { return chunk + kVector; }
  int64_t elemBytes() const { return 2; }
  /// Whether ptxas is held to the registers of the resident blocks (the
  /// scan's two, up to three carry blocks: 170 registers a thread): chunks
  /// of up to 64 steps fit them; longer ones hold more output accumulators
  /// and would spill.
  bool boundedRegisters() const { return chunk <= 64; }
  /// Whether a chunk's phases are interleaved further (the state term in the
  /// G tiles' straight line, the state update before the stores): within
  /// the bound only for 32 steps (unbounded, ptxas took 218 registers).
  bool interleaved() const { return chunk == 32; }
  /// x, B and C have `buffers` buffers (the copies of the chunks ahead land
  /// while one is finished), Acum and Δ one more than the chunks ahead (the
  /// decay warp computes the last chunk ahead's; with splitDecay each buffer
  /// has its runs' totals beside), G one per chunk ahead (two
  /// ahead, the next chunk's G is computed during this one), and with tensor
  /// copies an 8-byte mbarrier a buffer. The carry kernel needs no C or G.
  int64_t sharedBytes(SSDRole role) const {
    int64_t elems = warpgroup ? warpgroupOperandElems()
                    : role == SSDRole::Scan
                        ? chunk * (buffers * (xStride() + 2 * bcStride()) +
                                   ahead() * gStride())
                        : chunk * buffers * (xStride() + bcStride());
    int64_t runTotals =
        splitDecay(role) ? llvm::alignTo((ahead() + 1) * warps * 4, 16) : 0;
    return elems * elemBytes() + (ahead() + 1) * 2 * chunk * 4 + runTotals +
           (tma ? static_cast<int64_t>(llvm::alignTo(buffers * 8, 16)) : 0);
  }
  /// The warpgroup kernel's 16-bit operands, in carving order: C's stages
  /// (G's 64-row reads of the last one run into B's), B's and x's, two of
  /// w∘x and of G.
  int64_t warpgroupOperandElems() const {
    return stages * chunk * (2 * states + columns) + 2 * chunk * columns +
           2 * chunk * chunk;
  }
};

/// Whether the scan's epilogue applies the z gate: without a norm; with one
/// the norm kernel takes z.
inline bool gatesInKernel(SSDChunkOp op) { return op.getZ() && !op.getNorm(); }

/// An mma fragment: four b32 registers of packed pairs (A), two (B), or four
/// f32 values (C, D).
using Fragment = SmallVector<Value, 4>;
/// A warp's output tiles of one owned column block: per 16-row tile of the
/// chunk, the accumulators of its two 8-column halves.
using OutputTiles = SmallVector<std::array<Fragment, 2>>;

/// Where one chunk's data sits in workgroup memory: the first row of its
/// x, B, C stage, the first entry of its Acum, Δ buffer and the first row of
/// its G buffer (the warpgroup kernel: the index of its stage, the first
/// entry of its Acum, Δ buffer, the index of its G and w∘x buffers).
struct ChunkRows {
  Value stage, decay, g;
};

/// The global loads that open a run of chunks: the copies of its first
/// `ahead` chunks (one cp.async group a chunk) and the raw dt of its first
/// `ahead` + 1. They are issued before the run's state is awaited, so that
/// their latencies overlap its load.
struct PipelineStart {
  SmallVector<SmallVector<Value>> dt;
};

/// Consecutive outputs of a step: its row in the chunk, the first of their
/// head-dim columns within the block, and their values (storeRun's: f32,
/// or b32 words of two packed outputs).
struct OutputPair {
  Value row, col;
  SmallVector<Value> values;
};

/// Emits the body of the SSD kernel.
class SSDKernelEmitter {
public:
  SSDKernelEmitter(SSDChunkOp op, SSDRole role, const SSDShape &shape,
                   KernelBodyBuilder &b)
      : op(op), role(role), s(shape), b(b) {}

  /// Emits the body given the kernel arguments in the order of
  /// the launch parameters lowerToKernels builds.
  void emit(ArrayRef<BlockArgument> args);

private:
  // Tensor-core primitives (SSDKernelPhases.cpp).
  Fragment loadMatrix(Value buffer, ValueRange indices, bool transpose);
  Fragment loadMatrix(Value buffer, Value row, Value col, bool transpose) {
    return loadMatrix(buffer, ValueRange{row, col}, transpose);
  }
  Fragment mma(ArrayRef<Value> a, ArrayRef<Value> bFrag, ArrayRef<Value> c);
  Value pack(Value lo, Value hi);
  std::pair<Value, Value> unpack(Value packed);
  Fragment zeros();
  void storeRun(ArrayRef<Value> values, Value mem, Value index);
  void storeOutputs(ArrayRef<OutputPair> pairs, Value t0);

  // The phases of one chunk (SSDKernelPhases.cpp).
  void copyStep(Value mem, Value t, Value col,
                function_ref<Value(Value, Value)> index, Value smem,
                function_ref<SmallVector<Value>()> dst, bool throughL1 = false,
                bool inL = false);
  void stageChunk(Value t0, Value stage);
  Value pointerAt(Value address, unsigned addressSpace);
  Value sharedPtr(Value byteOffset);
  Value tmaBarrier(Value position);
  void initTmaBarriers(bool reinit);
  void tmaStage(Value t0, Value stage);
  void awaitTma(Value chunk);
  SmallVector<Value> loadDt(Value t0);
  Value deltaOf(Value raw, Value t0, Value l);
  Value inclusiveSum(Value value, int64_t lanes);
  void stageDecay(ArrayRef<Value> raw, Value t0, Value buffer);
  void stageDecayRuns(Value raw, Value t0, Value buffer);
  void onDecayWarp(function_ref<void()> fn);
  void stageChunkDecay(ArrayRef<Value> raw, Value t0, Value buffer);
  SmallVector<Value> runEnds();
  SmallVector<Value> loadGate(Value t0);
  Value runColumn(int64_t j);
  Value isOddLane();
  SmallVector<Value> computeG(
      const ChunkRows &chunk, function_ref<void()> decayWarpWork,
      int64_t numResults = 0,
      function_ref<SmallVector<Value>()> alongside = [] {
        return SmallVector<Value>();
      });
  Value maskG(Value g, Value row, Value col, Value acumRow, Value acumCol,
              Value deltaCol, bool causal, Value diagonal = Value());
  std::array<Value, 2> maskGPair(std::array<Value, 2> g, Value row,
                                 ArrayRef<Value> cols, Value acumRow,
                                 const std::array<Value, 4> &decay, bool causal,
                                 Value diagonal = Value());
  void computeGTile(ArrayRef<std::pair<int64_t, int64_t>> tiles,
                    const ChunkRows &chunk);
  SmallVector<OutputTiles> computeStateTerm(ArrayRef<Fragment> state);
  void finishOutputs(MutableArrayRef<OutputTiles> y, Value t0,
                     function_ref<void(ArrayRef<Fragment>)> beforeStores);
  Value stepWeight(Value decay, Value step, Value end);
  Value weightOf(Value end, Value acum, Value delta);
  std::array<Value, 2> stepWeights(Value decay, Value step, Value end);
  SmallVector<Fragment> updateState(ArrayRef<Fragment> state,
                                    ArrayRef<Value> ends,
                                    ArrayRef<Fragment> xTiles = {});

  // Warpgroup MMA (sm_90a): the block is one warpgroup, and every operand
  // sits in workgroup memory as 8x8 core matrices of 16-byte rows, without
  // swizzle, where wgmma reads it through a descriptor (SSDWarpgroup.cpp).
  Value coreIndex(Value row, Value col, int64_t width);
  Value coreRow(Value v, int64_t width);
  Value descriptor(Value byteAddress, int64_t leading, int64_t stride);
  Value wgmma(Value acc, Value descA, Value descB, int64_t n, bool aMNMajor,
              bool bMNMajor, bool accumulate);
  Value toStruct(ArrayRef<Value> values);
  SmallVector<Value> fromStruct(Value packed);
  void stageChunkCores(Value t0, Value stage);
  void scaleInputs(const ChunkRows &chunk, Value buffer);
  void finishGWarpgroup(ArrayRef<Value> g, const ChunkRows &chunk);
  SmallVector<Value> computeStateTermWarpgroup(ArrayRef<Value> a);
  std::pair<Value, Value> outputPairAt(int64_t j, int64_t h);
  SmallVector<Value> loadGateWarpgroup(Value t0);
  void finishOutputsWarpgroup(ArrayRef<Value> y, Value t0,
                              ArrayRef<Value> gate);
  std::pair<SmallVector<Value>, Value>
  scanChunksWarpgroup(SmallVector<Value> state, const PipelineStart &start);

  // Setup and the walk over the block's chunks (SSDKernelWalk.cpp).
  void setup(Value batch, Value segmentSteps, Value xArg, Value dtArg,
             Value aArg, Value bArg, Value cArg, Value zArg, Value yArg,
             Value skipArg, Value biasArg);
  void carveWorkgroupMemory();
  /// Points the per-unit values (head, columns, segment and its steps
  /// [lo, hi), batch entry, A, skip, bias) at one unit of work: head-dim
  /// tile and head `tileHead`, L segment `seg`, batch entry `batchIndex`.
  void setUnit(Value tileHead, Value seg, Value batchIndex);
  /// The first step of chunk `chunk` of [lo, hi), its position in a ring of
  /// `buffers` chunk buffers, and the first entry of its buffer there.
  Value chunkStart(Value chunk);
  Value ringPosition(Value chunk, int64_t buffers);
  Value chunkBuffer(Value chunk, int64_t buffers);
  PipelineStart startPipeline();
  /// Runs the chunks of [lo, hi) from `state`, whose first loads `start`
  /// issued; returns the end state and the decay sum Σ Δ·A·log2e.
  std::pair<SmallVector<Value>, Value> scanChunks(SmallVector<Value> state,
                                                  const PipelineStart &start);
  /// The scan kernel's walk: this block's share of every unit's chunks.
  void scanShare(Value batch, Value init, Value final);
  SmallVector<Value> unitStart(Value init);
  SmallVector<Value> awaitHandoff(Value from);
  void handOff(ValueRange state, Value worker);

  // The state as a flat list of this lane's accumulator values.
  void forEachStatePair(function_ref<void(Value row, Value col, int64_t at)>);
  SmallVector<Value> loadState(Value mem, Value slab);
  void storeState(ValueRange state, Value mem, Value slab);
  SmallVector<Value> carryIn(SmallVector<Value> state);

  Value actIndex(Value t, Value col);
  Value bcIndex(Value t, Value col);
  /// [..., P, N] states: `slab` indexes the [P, N] matrix, `row` is the
  /// head-dim column within the block.
  Value stateIndex(Value slab, Value row, Value col);
  /// The slab of (batch, head) in a [B, H, ...] tensor, and of (batch,
  /// `seg`, head) in the [B, S - 1, H, ...] carries (the last segment
  /// carries nothing on).
  Value stateSlab() { return b.add(b.mul(bIdx, b.index(s.heads)), head); }
  Value carrySlab(Value seg) {
    Value carried = b.sub(numSegments, b.index(1));
    return b.add(b.mul(b.add(b.mul(bIdx, carried), seg), b.index(s.heads)),
                 head);
  }
  /// The first head-dim column (within the block) of warp-owned block `j`.
  Value blockColumn(int64_t j);
  /// The first of the states of each column block that this warp holds.
  Value stateBase();
  /// `row` of the chunk whose stage starts at `stage` in the staged x, B, C
  /// tiles.
  Value stagedAt(Value stage, Value row) { return b.add(row, stage); }
  Value staged(Value row) { return stagedAt(current.stage, row); }
  Value decayIndex(Value decay, Value step) {
    return b.mul(b.add(decay, step), b.index(2));
  }
  /// Acum of `step` of the chunk whose Acum, Δ buffer starts at `decay`.
  Value acumAt(Value decay, Value step) {
    return memref::LoadOp::create(b, sDecay, decayIndex(decay, step));
  }
  /// Acum, Δ of steps `step` (even) and `step` + 1 in one 16-byte load.
  std::array<Value, 4> decayPairAt(Value decay, Value step);
  Value acum(Value step) { return acumAt(current.decay, step); }
  /// With splitDecay, the total of run `run` of the chunk whose Acum, Δ
  /// buffer starts at `decay`.
  Value runTotalIndex(Value decay, Value run) {
    return b.add(b.mul(b.div(decay, b.index(s.chunk)), b.index(s.warps)), run);
  }
  /// The warp that loads dt and stages Acum and Δ: the last, which gets the
  /// fewest G tiles (they are dealt from warp 0).
  int64_t decayWarp() const { return s.warps - 1; }
  Value isDecayWarp() { return b.cmpEQ(warp, b.index(decayWarp())); }

  SSDChunkOp op;
  SSDRole role;
  const SSDShape &s;
  KernelBodyBuilder &b;

  // Global memory (flat views) and the values of the unit being scanned.
  Value xMem, dtMem, aMem, bMem, cMem, zMem, yMem, skipMem, biasMem;
  Value len, bIdx, head, group, col0, aLog2, skip, dtBias;
  // The unit's steps [lo, hi) (of L segment `segment`, whose length is
  // `segmentSteps`); the segments' end states [B, S, H, P, N] and decay sums
  // [B, S, H].
  Value lo, hi, segment, segmentSteps, numSegments, carryState, carryDecay;
  // The states the scan's blocks hand on where a share ends inside a unit,
  // [W, P, N], and their flags [W] (0: not yet handed over).
  Value handoffState, handoffReady;
  // Thread coordinates: warp, lane, its mma row (lane / 4) and column pair
  // (lane % 4), and the row / matrix it addresses for ldmatrix.
  Value tid, warp, lane, quad, pairCol, ldRow16, ldHalf;
  // For four 8x8 matrices m = lane / 8 laid out 2x2: this lane's row and
  // column offsets when m / 2 picks the row half (ldRowHi, ldColLo) or the
  // column half (ldRowLo, ldColHi).
  Value ldRowHi, ldRowLo, ldColHi, ldColLo;
  // Workgroup memory, and where the chunk being finished sits in it.
  /// The staged x, B, C and G tiles, and the Acum, Δ buffers: Acum and Δ
  /// of a step side by side (decayIndex), so that one load reads both of two
  /// steps.
  Value sX, sB, sC, sG, sDecay;
  /// With splitDecay, the Acum total of each run, per Acum, Δ buffer.
  Value sRunTotals;
  // The warpgroup kernel's w∘x; the address of the dynamic workgroup memory
  // (for wgmma descriptors and tensor copies) and the offsets in it of each
  // wgmma operand, of the x, B, C stages and of the mbarriers.
  Value sXW, sharedBase;
  int64_t offC = 0, offB = 0, offX = 0, offXW = 0, offG = 0, offBar = 0;
  // The B and C tensor maps (TMA), in global memory.
  Value tmaMaps;
  ChunkRows current;
};

} // namespace mlir::ssm::ssd

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_SSDKERNEL_H
