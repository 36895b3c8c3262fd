//===- CausalConv1dToGPU.cpp - ssm.causal_conv1d to kernels -----*- C++ -*-===//
//
// Builds the causal depthwise conv1d kernels. The op is a K-tap stencil along
// L (K <= 4) with a few flops per element, so it is bound by HBM bandwidth:
// both layouts read every input from HBM once, in wide vectors, and issue a
// thread's loads before its first use so that a warp waits for memory once
// per batch of loads rather than once per load.
//
// Channel-first ([B, C, L]): the tensor is cut into flat 16-byte vectors (8
// 16-bit or 4 f32 elements) wherever rows begin: rows are not 16-byte
// aligned when L·size is not a multiple of 16 (L = 197), and short rows
// would leave lanes idle if a warp stayed within one. A warp takes
// 32·kConvVectors consecutive vectors, lane l the l-th of each 32, so that
// every load is coalesced and a thread has kConvVectors loads in flight; the
// index arithmetic (one division by L) is shared by a thread's vectors. The
// K-1 inputs before a vector are the last ones of lane l - 1's (a shuffle),
// where lane 31 passes lane 0 those of its previous vector, or for the
// first the tail of the vector before the warp's (one more 16-byte load).
// Offsets are 32-bit where the grid spans fewer than ~2^31 elements (a
// second copy of the body takes larger grids). When L >= V a vector holds at
// most one row start: taps before its row's step 0 take the initial state
// (or zero) by a select on the halo, and a warp in which no vector crosses
// into the next row (every warp when L is a multiple of V) computes every
// output from one channel's weights and the window. Only warps with a
// crossing vector (a warp vote) select, per output, the next channel's
// weights and its initial state. When L < V (several rows per vector) a
// general path walks the steps. The final state (the last K-1 inputs of
// each row) is copied by a kernel of its own after this one, a thread a
// row: written here, by the vector that holds a row's end, it took the
// kernel from 64 to 128 registers (8 to 4 blocks an SM).
//
// Channel-last ([B, L, C]): a thread owns 4 consecutive channels and walks a
// run of kConvRun steps, one vector load and store per step, with its last
// K-1 inputs in registers; consecutive threads own consecutive channel
// groups, so every step is coalesced. The loads of kConvChunk steps are
// issued together. Only the K-1 inputs before a run are read twice (from
// L2). The first run's thread reads its channels' initial state and writes
// their final state (re-reading the last K-1 inputs), as whole vectors: so
// the final state may overwrite the initial one (a conv state updated in
// place, a final_state result tied to `init` by the layer function's
// `ssm.tied`).
//
// Decode step: with a conv state (and C a multiple of 4), L = 1 launches a
// kernel of its own (the host's scf.if, the manifest's `when`), in which x
// and y are [B, C] in either layout and a thread takes 4 channels: its
// loads of x, weights, biases and state are issued together, and B·C/4
// threads share the latency. The kernels above would round L up to whole
// runs or splits and give a thread several channels' work.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::ssm;

/// Threads per block of a conv1d kernel.
static constexpr int64_t kConvThreads = 128;

/// Vectors per channel-first thread, 32 vectors apart. Their loads are issued
/// together: 4 (64 bytes in flight per thread) measured 94 % of copy
/// bandwidth at (8, 5120, 2048) on an H100, 2 vectors 86 % and 1 vector 77 %;
/// on an H200, 3 and 6 vectors ran slower than 4.
static constexpr int64_t kConvVectors = 4;

/// The largest grid span (in elements; see emit) for which the
/// channel-first kernel computes its offsets in 32 bits: 2^31 less 2^16 of
/// headroom for the few elements offsets reach past it. Its index math (a
/// division by L per thread, row and step updates per vector) was ~40 % of
/// its instructions in 64 bits.
static constexpr int64_t kMaxNarrowSize = (int64_t(1) << 31) - (1 << 16);

/// Resident channel-first blocks an SM that ptxas budgets registers for (64
/// registers; the 64-bit copy of the body spills a little, the 32-bit one
/// does not). On an H200, (8, 5120, 2048) took 86 µs (92 % of copy
/// bandwidth) against 99 µs with 64-bit offsets; with 9 blocks 88 µs, with
/// ptxas's choice (72 registers) 92 µs. Channel-last, whose offsets are a
/// few adds a step, ran 2 % slower with the two copies and keeps `index`.
/// With an initial state the kernel spills (188 bytes) but still gains:
/// (8, 5376, 2048) with both states took 111 µs against 120 with 6 blocks
/// (80 registers) and 148 with 4 (122).
static constexpr int64_t kConvBlocksPerSM = 8;
/// The same for a channel-last kernel with a conv state: the loads of its
/// weights and first-run state ahead of the steps took it to 174 registers
/// with the state in place (two blocks an SM; 167 with two buffers), which
/// 3 blocks hold at 168 without spills. On an H200 the in-place prefill
/// (4, 5376, 4096) took 101 µs against 123 with two blocks an SM.
static constexpr int64_t kConvLastStateBlocksPerSM = 3;

namespace {
/// The kernels a conv1d layer may have.
enum class ConvKernel {
  /// The layer's kernel for any L (for L >= 2 where the others exist).
  General,
  /// A decode step, L = 1 (emitStep).
  Step,
  /// A channel-first layer's final state, for L >= 2 (emitFinalState).
  FinalState,
};
} // namespace

/// The resident blocks an SM ptxas is to budget registers for in kernel
/// `kind` of `op`, if bounded.
static std::optional<int64_t> residentBlocks(CausalConv1dOp op,
                                             ConvKernel kind) {
  if (kind != ConvKernel::General)
    return std::nullopt;
  if (op.getLayout() == Layout::ChannelFirst)
    return kConvBlocksPerSM;
  if (op.getInit() || op.getFinalState())
    return kConvLastStateBlocksPerSM;
  return std::nullopt;
}

/// Elements of x a channel-first block covers.
static int64_t channelFirstBlockSpan(Type elem) {
  return kConvThreads * kConvVectors * vectorWidth(elem);
}

/// Channels per thread of the decode-step kernel: a 16-byte vector of f32
/// weights per tap and of biases, 8 or 16 bytes of x and y. 8 channels (a
/// 16-byte vector of 16-bit x) ran 1.2-1.7x slower on an H200: half the
/// threads, twice the work each.
static constexpr int64_t kStepGroup = 4;

/// Threads per block of the decode-step kernel. On an H200 (C 5376) 256 ran
/// as fast and 512 0.3-1 µs slower at B 1 / 64 / 256.
static constexpr int64_t kStepThreads = 128;

/// Steps per thread of the channel-last kernel.
static constexpr int64_t kConvRun = 32;

/// Steps of the channel-last kernel whose loads are issued together. 16
/// (128 registers) ran (4, 5376, 4096) and (1, 5376, 32768) on an H200 at
/// 91 % and 95 % of copy bandwidth, 8 (96 registers) at 87 % and 91 %: a
/// faster HBM needs more bytes in flight.
static constexpr int64_t kConvChunk = 16;

/// Channels per channel-last thread: 4 (64-bit accesses for 16-bit types,
/// 128-bit for f32), or the largest power of two that divides C. A thread keeps
/// K+1 weights and K-1 inputs per channel in registers; 8 channels measured
/// slower (fewer threads per SM, so fewer loads in flight).
static int64_t channelGroup(int64_t channels, Type elem) {
  int64_t group = std::min<int64_t>(vectorWidth(elem), 4);
  while (channels % group != 0)
    group /= 2;
  return group;
}

/// The grid split of n·C work items (n = L, or L / kConvRun, and C a
/// constant) over blocks of `perBlock` items, with grid x = ceil(n / split) and
/// y = ceil(C·split / perBlock) (the manifest's launch sizes are a dimension or
/// a constant): the smallest split that makes C·split a multiple of perBlock,
/// so that no block idles, capped so that grid x stays close to n / split.
static int64_t gridSplit(int64_t c, int64_t perBlock) {
  return std::min<int64_t>(perBlock / std::gcd(c, perBlock), 64);
}

/// Builds `scf.if cond` with results of `types`, yielding `thenValues()` or
/// `elseValues()`.
static SmallVector<Value>
emitIf(KernelBodyBuilder &b, Value cond, TypeRange types,
       function_ref<SmallVector<Value>()> thenValues,
       function_ref<SmallVector<Value>()> elseValues) {
  auto ifOp = scf::IfOp::create(b, types, cond, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(b, thenValues());
  b.setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(b, elseValues());
  return SmallVector<Value>(ifOp.getResults());
}

/// Emits `body` under `scf.if cond`.
static void emitGuarded(KernelBodyBuilder &b, Value cond,
                        function_ref<void()> body) {
  auto ifOp = scf::IfOp::create(b, cond);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body();
}

namespace {
/// Emits the body of one conv1d kernel.
class ConvEmitter {
public:
  ConvEmitter(CausalConv1dOp op, KernelBodyBuilder &b, bool inPlace)
      : op(op), b(b), inPlace(inPlace),
        elem(op.getX().getType().getElementType()),
        channels(op.getWeight().getType().getDimSize(0)),
        width(op.getWeight().getType().getDimSize(1)) {}

  /// Emits the body of kernel `kind` over its arguments (the same for all).
  void emit(ArrayRef<BlockArgument> args, ConvKernel kind);

private:
  Value cmp(arith::CmpIPredicate pred, Value lhs, Value rhs);
  Value select(Value cond, Value ifTrue, Value ifFalse);
  SmallVector<Type> f32Types(int64_t count);
  SmallVector<Value> loadWeights(Value c);
  Value output(ArrayRef<Value> window, ArrayRef<Value> weights);
  Value before(Value row, Value t);

  void emitChannelFirst();
  Value loadFlat(Value flat, Value full, Value total);
  SmallVector<Value> loadHalo(Value cond, Value flat, Value total);
  SmallVector<Value> loadState(Value cond, Value row);
  Value stateAt(ArrayRef<Value> state, Value i);
  SmallVector<Value> rowOutputs(ArrayRef<Value> ext, ArrayRef<Value> weights,
                                Value flat, Value row, Value t0, Value total);
  SmallVector<Value> edgeOutputs(ArrayRef<Value> ext, ArrayRef<Value> weights,
                                 Value flat, Value row, Value t0, Value total);

  void emitPerRow(int64_t threads, int64_t count,
                  function_ref<void(Value c, Value row)> body);
  void emitStep();
  void emitFinalState();

  void emitChannelLast();
  SmallVector<SmallVector<Value>> loadWeightGroup(Value c, int64_t group);
  SmallVector<Value> loadStateGroup(Value cond, Value row, int64_t group);
  SmallVector<Value> inputGroup(Value bIdx, Value t, Value c, int64_t group,
                                ArrayRef<Value> state);

  CausalConv1dOp op;
  KernelBodyBuilder &b;
  /// Whether the final state is written over the initial state (its buffer).
  bool inPlace;
  Type elem;
  int64_t channels, width;
  Value batch, len, x, y, w, bias, init, finalState;
};
} // namespace

Value ConvEmitter::cmp(arith::CmpIPredicate pred, Value lhs, Value rhs) {
  return b.createOrFold<arith::CmpIOp>(pred, lhs, rhs);
}

Value ConvEmitter::select(Value cond, Value ifTrue, Value ifFalse) {
  return b.createOrFold<arith::SelectOp>(cond, ifTrue, ifFalse);
}

SmallVector<Type> ConvEmitter::f32Types(int64_t count) {
  return SmallVector<Type>(count, b.getF32Type());
}

/// The K weights of channel `c`, then its bias if the op has one.
SmallVector<Value> ConvEmitter::loadWeights(Value c) {
  SmallVector<Value> weights;
  for (int64_t k = 0; k < width; ++k)
    weights.push_back(
        b.loadF32(w, b.add(b.mul(c, b.index(width)), b.index(k))));
  if (bias)
    weights.push_back(b.loadF32(bias, c));
  return weights;
}

/// act(bias + Σ_k w[k]·window[k]) over the K inputs ending at the step.
Value ConvEmitter::output(ArrayRef<Value> window, ArrayRef<Value> weights) {
  Value acc = bias ? weights[width] : b.f32(0.0);
  for (int64_t k = 0; k < width; ++k)
    acc = b.fma(weights[k], window[k], acc);
  if (op.getActivation() == Activation::Silu)
    acc = b.silu(acc);
  return acc;
}

/// The input at step t in [-(K-1), -1] of row (b, c) `row`: the initial
/// state, or zero. The load's indices are clamped, so any t and row are safe.
Value ConvEmitter::before(Value row, Value t) {
  if (!init)
    return b.f32(0.0);
  Value rows = b.mul(batch, b.index(channels));
  row = arith::MinUIOp::create(b, row, b.sub(rows, b.index(1)));
  Value j = arith::MaxSIOp::create(b, b.add(t, b.index(width - 1)), b.index(0));
  j = arith::MinSIOp::create(b, j, b.index(width - 2));
  return b.loadF32(init, b.add(b.mul(row, b.index(width - 1)), j));
}

//===----------------------------------------------------------------------===//
// Channel-first
//===----------------------------------------------------------------------===//

/// The vector at flat index `flat` in the element type: one 128-bit load, or
/// for the last vector (not `full`) element loads clamped to the tensor.
Value ConvEmitter::loadFlat(Value flat, Value full, Value total) {
  int64_t vec = vectorWidth(elem);
  auto type = VectorType::get({vec}, elem);
  auto ifOp = scf::IfOp::create(b, type, full, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(b, b.loadVector(x, flat, vec, /*aligned=*/true));
  b.setInsertionPointToStart(ifOp.elseBlock());
  SmallVector<Value> values;
  Value last = b.sub(total, b.index(1));
  for (int64_t j = 0; j < vec; ++j)
    values.push_back(memref::LoadOp::create(
        b, x,
        b.asIndex(arith::MinUIOp::create(b, b.add(flat, b.index(j)), last))));
  Value packed = vector::FromElementsOp::create(b, type, values);
  scf::YieldOp::create(b, packed);
  return ifOp.getResult(0);
}

/// The K-1 inputs before the vector at `flat`, loaded where `cond` holds (by
/// one lane; the others take them from it): the last ones of the vector
/// before, in one 128-bit load. Zero at flat 0, where they are never used,
/// and past the tensor, where nothing is stored.
SmallVector<Value> ConvEmitter::loadHalo(Value cond, Value flat, Value total) {
  int64_t vec = vectorWidth(elem);
  Value inside = arith::AndIOp::create(
      b, cmp(arith::CmpIPredicate::uge, flat, b.index(vec)),
      cmp(arith::CmpIPredicate::ult, flat, total));
  return emitIf(
      b, arith::AndIOp::create(b, cond, inside), f32Types(width - 1),
      [&] {
        SmallVector<Value> before = b.unpackF32(
            b.loadVector(x, b.sub(flat, b.index(vec)), vec, /*aligned=*/true));
        return SmallVector<Value>(before.end() - (width - 1), before.end());
      },
      [&] { return SmallVector<Value>(width - 1, b.f32(0.0)); });
}

/// The K-1 initial-state inputs of row `row` (clamped to the rows) where
/// `cond` holds, else zeros; none without an initial state.
SmallVector<Value> ConvEmitter::loadState(Value cond, Value row) {
  if (!init)
    return {};
  return emitIf(
      b, cond, f32Types(width - 1),
      [&] {
        Value rows = b.mul(batch, b.index(channels));
        Value r = arith::MinUIOp::create(b, row, b.sub(rows, b.index(1)));
        SmallVector<Value> values;
        for (int64_t i = 0; i < width - 1; ++i)
          values.push_back(
              b.loadF32(init, b.add(b.mul(r, b.index(width - 1)), b.index(i))));
        return values;
      },
      [&] { return SmallVector<Value>(width - 1, b.f32(0.0)); });
}

/// The input at step i - (K-1) (i in [0, K-2]) of a row whose initial state
/// is `state` (from loadState): state[i], or zero without an initial state.
Value ConvEmitter::stateAt(ArrayRef<Value> state, Value i) {
  if (state.empty())
    return b.f32(0.0);
  Value value = state.back();
  for (int64_t k = width - 3; k >= 0; --k)
    value =
        select(cmp(arith::CmpIPredicate::eq, i, b.index(k)), state[k], value);
  return value;
}

/// The outputs of the vector at `flat` when L >= V, so that it holds at most
/// one row start: it starts at step `t0` of row `row` and may end in row
/// `row` + 1 (it "straddles"). `ext` is its K-1 inputs before it and its own,
/// `weights` those of row `row`'s channel. Taps before row `row`'s step 0 take
/// its initial state (or zero) in place of the halo. A warp with no
/// straddling vector computes every output from one channel's weights and the
/// window; one with any switches, per output, to the next row's weights and
/// to its initial state for taps before its step 0.
SmallVector<Value> ConvEmitter::rowOutputs(ArrayRef<Value> ext,
                                           ArrayRef<Value> weights, Value flat,
                                           Value row, Value t0, Value total) {
  int64_t vec = vectorWidth(elem);
  // Steps of row `row` in the vector (>= 1).
  Value left = b.sub(len, t0);
  Value straddle = cmp(arith::CmpIPredicate::ult, left, b.index(vec));
  // Halo step t0 - (K-1) + p of row `row` is before its step 0 when
  // t0 + p < K-1.
  SmallVector<Value> state = loadState(b.cmpLT(t0, b.index(width - 1)), row);
  SmallVector<Value> window(ext);
  for (int64_t p = 0; p < width - 1; ++p) {
    Value at = b.add(t0, b.index(p));
    window[p] = select(cmp(arith::CmpIPredicate::sge, at, b.index(width - 1)),
                       ext[p], stateAt(state, at));
  }
  Value any = NVVM::VoteSyncOp::create(b, b.getI1Type(),
                                       arith::ConstantIntOp::create(b, -1, 32),
                                       straddle, NVVM::VoteSyncKind::any);
  SmallVector<Value> outs = emitIf(
      b, any, f32Types(vec),
      [&] {
        Value next = b.add(row, b.index(1));
        SmallVector<Value> nextWeights = emitIf(
            b, straddle, f32Types(weights.size()),
            [&] { return loadWeights(b.rem(next, b.index(channels))); },
            [&] { return SmallVector<Value>(weights); });
        SmallVector<Value> nextState = loadState(straddle, next);
        SmallVector<Value> values;
        for (int64_t j = 0; j < vec; ++j) {
          // Output j is step j - left of the next row when left <= j; its
          // tap k reads position p = j + k, before the next row's step 0
          // when p - left < K-1.
          Value inNext = cmp(arith::CmpIPredicate::ule, left, b.index(j));
          SmallVector<Value> taps, wts;
          for (int64_t k = 0; k < width; ++k) {
            int64_t p = j + k;
            Value before = arith::AndIOp::create(
                b, inNext,
                cmp(arith::CmpIPredicate::ugt, b.add(left, b.index(width - 1)),
                    b.index(p)));
            taps.push_back(
                k == width - 1
                    ? window[p]
                    : select(before,
                             stateAt(nextState, b.sub(b.index(p), left)),
                             window[p]));
          }
          for (auto [w, nw] : llvm::zip(weights, nextWeights))
            wts.push_back(select(inNext, nw, w));
          values.push_back(output(taps, wts));
        }
        return values;
      },
      [&] {
        SmallVector<Value> values;
        for (int64_t j = 0; j < vec; ++j)
          values.push_back(
              output(ArrayRef<Value>(window).slice(j, width), weights));
        return values;
      });
  return outs;
}

/// The outputs of a vector when L < V (it may hold several rows). `ext` is the
/// vector's K-1 inputs before it and its own, `weights` those of the channel
/// of row `row`, where the vector starts at step `t0`. Walks the steps,
/// moving to the next row (and channel) after step L-1; taps before a row's
/// step 0 come from `before`.
SmallVector<Value> ConvEmitter::edgeOutputs(ArrayRef<Value> ext,
                                            ArrayRef<Value> weights, Value flat,
                                            Value row, Value t0, Value total) {
  int64_t vec = vectorWidth(elem);
  Value t = t0, r = row, c = b.rem(row, b.index(channels));
  SmallVector<Value> wts(weights);
  SmallVector<Value> outs;
  for (int64_t j = 0; j < vec; ++j) {
    if (j > 0) {
      t = b.add(t, b.index(1));
      Value wrap = cmp(arith::CmpIPredicate::eq, t, len);
      t = select(wrap, b.index(0), t);
      r = select(wrap, b.add(r, b.index(1)), r);
      SmallVector<Type> types = f32Types(wts.size());
      types.insert(types.begin(), b.getOffsetType());
      SmallVector<Value> next = emitIf(
          b, wrap, types,
          [&] {
            Value nc = b.add(c, b.index(1));
            nc = select(cmp(arith::CmpIPredicate::eq, nc, b.index(channels)),
                        b.index(0), nc);
            SmallVector<Value> values = loadWeights(nc);
            values.insert(values.begin(), nc);
            return values;
          },
          [&] {
            SmallVector<Value> values(wts);
            values.insert(values.begin(), c);
            return values;
          });
      c = next.front();
      wts.assign(next.begin() + 1, next.end());
    }
    // Tap k reads step t - d, d = K-1-k: ext[j + k] when t >= d.
    auto taps = [&] {
      SmallVector<Value> values;
      for (int64_t k = 0; k < width - 1; ++k) {
        int64_t d = width - 1 - k;
        values.push_back(select(cmp(arith::CmpIPredicate::sge, t, b.index(d)),
                                ext[j + k], before(r, b.sub(t, b.index(d)))));
      }
      return values;
    };
    SmallVector<Value> window;
    if (init)
      window =
          emitIf(b, b.cmpLT(t, b.index(width - 1)), f32Types(width - 1), taps,
                 [&] { return SmallVector<Value>(ext.slice(j, width - 1)); });
    else
      window = taps();
    window.push_back(ext[j + width - 1]);
    outs.push_back(output(window, wts));
  }
  return outs;
}

void ConvEmitter::emitChannelFirst() {
  int64_t vec = vectorWidth(elem);
  Value total = b.mul(b.mul(batch, b.index(channels)), len);
  // Blocks in launch order take consecutive spans of vectors; the grid may
  // cover more than B·C·L (it rounds L up to whole splits). A warp takes
  // 32·kConvVectors consecutive vectors, lane l the vectors l, l + 32, ... of
  // them.
  Value tid = b.offset(gpu::ThreadIdOp::create(b, gpu::Dimension::x));
  Value block = b.offset(
      b.add(b.mul(b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::z),
                              gpu::GridDimOp::create(b, gpu::Dimension::y)),
                        gpu::BlockIdOp::create(b, gpu::Dimension::y)),
                  gpu::GridDimOp::create(b, gpu::Dimension::x)),
            gpu::BlockIdOp::create(b, gpu::Dimension::x)));
  Value lane = b.rem(tid, b.index(32));
  Value warpFirst =
      b.mul(b.add(b.mul(block, b.index(kConvThreads)), b.sub(tid, lane)),
            b.index(kConvVectors * vec));
  Value step = b.index(32 * vec);
  // Warps wholly past the tensor leave at once: the grid rounds L up to
  // whole splits, which for short rows leaves much of it idle.
  auto active = scf::IfOp::create(b, b.cmpLT(warpFirst, total),
                                  /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(active.thenBlock());

  // The loads of x and lane 31's halo are issued before the first use, so
  // that a warp waits for HBM once; each vector's weights (cached after the
  // first) are loaded just before it is computed.
  SmallVector<Value> flats, fulls, packed;
  for (int64_t r = 0; r < kConvVectors; ++r) {
    flats.push_back(b.add(b.add(warpFirst, b.mul(lane, b.index(vec))),
                          b.index(r * 32 * vec)));
    fulls.push_back(cmp(arith::CmpIPredicate::ule,
                        b.add(flats.back(), b.index(vec)), total));
    packed.push_back(loadFlat(flats.back(), fulls.back(), total));
  }
  Value lane31 = cmp(arith::CmpIPredicate::eq, lane, b.index(31));
  SmallVector<Value> prev = loadHalo(lane31, warpFirst, total);
  Value row = b.div(flats[0], len);
  Value t0 = b.sub(flats[0], b.mul(row, len));
  Value c = b.rem(row, b.index(channels));
  // A thread's vectors are 32·V elements apart: qs rows (qc channels, mod
  // C) and rs steps.
  Value qs = b.div(step, len);
  Value rs = b.sub(step, b.mul(qs, len));
  Value qc = b.rem(qs, b.index(channels));
  // gpu.shuffle takes its lane as an i32.
  Value srcLane = b.rem(b.add(lane, b.index(31)), b.index(32));
  if (srcLane.getType().isIndex())
    srcLane = arith::IndexCastOp::create(b, b.getI32Type(), srcLane);
  Value warpSize = arith::ConstantIntOp::create(b, 32, 32);
  for (int64_t r = 0; r < kConvVectors; ++r) {
    Value flat = flats[r];
    if (r > 0) {
      // 32·V elements ahead: qs rows and rs steps further, and one more row
      // if the steps pass L.
      Value t = b.add(t0, rs);
      Value wrap = cmp(arith::CmpIPredicate::uge, t, len);
      t0 = select(wrap, b.sub(t, len), t);
      Value up = select(wrap, b.index(1), b.index(0));
      row = b.add(b.add(row, qs), up);
      c = b.add(b.add(c, qc), up);
      c = select(cmp(arith::CmpIPredicate::uge, c, b.index(channels)),
                 b.sub(c, b.index(channels)), c);
    }
    // The vector's channel's weights, loaded ahead of the shuffles.
    SmallVector<Value> weights = loadWeights(c);
    // The K-1 inputs before the vector, then its own: lane l - 1's last
    // ones; lane 31 sends lane 0 the last ones of its previous vector (for
    // the first, the loaded halo).
    SmallVector<Value> cur = b.unpackF32(packed[r]);
    SmallVector<Value> ext;
    for (int64_t i = 0; i < width - 1; ++i) {
      Value tail = cur[vec - (width - 1) + i];
      ext.push_back(gpu::ShuffleOp::create(b, b.getF32Type(), b.getI1Type(),
                                           select(lane31, prev[i], tail),
                                           srcLane, warpSize,
                                           gpu::ShuffleMode::IDX)
                        .getShuffleResult());
      prev[i] = tail;
    }
    ext.append(cur);
    SmallVector<Value> outs = emitIf(
        b, b.cmpLT(len, b.index(vec)), f32Types(vec),
        [&] { return edgeOutputs(ext, weights, flat, row, t0, total); },
        [&] { return rowOutputs(ext, weights, flat, row, t0, total); });

    auto store = scf::IfOp::create(b, fulls[r], /*withElseRegion=*/true);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(store.thenBlock());
    b.storeVectorF32(outs, y, flat, /*aligned=*/true);
    b.setInsertionPointToStart(store.elseBlock());
    // Compared with the count left rather than flat + j, which LLVM would
    // otherwise share with the load's and keep in registers throughout.
    Value left = b.sub(total, flat);
    for (int64_t j = 0; j < vec; ++j)
      emitGuarded(b, b.cmpLT(b.index(j), left),
                  [&] { b.storeF32(outs[j], y, b.add(flat, b.index(j))); });
  }
}

//===----------------------------------------------------------------------===//
// Channel-last
//===----------------------------------------------------------------------===//

/// The weights of the `group` channels from `c`, as loadWeights gives them:
/// for 4 channels, whose K weights and biases are contiguous and 16-byte
/// aligned, in whole vectors.
SmallVector<SmallVector<Value>> ConvEmitter::loadWeightGroup(Value c,
                                                             int64_t group) {
  SmallVector<SmallVector<Value>> weights;
  if (group != 4) {
    for (int64_t i = 0; i < group; ++i)
      weights.push_back(loadWeights(b.add(c, b.index(i))));
    return weights;
  }
  SmallVector<Value> all = b.unpackF32(
      b.loadVector(w, b.mul(c, b.index(width)), group * width, true));
  SmallVector<Value> biases;
  if (bias)
    biases = b.unpackF32(b.loadVector(bias, c, group, true));
  for (int64_t i = 0; i < group; ++i) {
    weights.emplace_back(all.begin() + i * width,
                         all.begin() + (i + 1) * width);
    if (bias)
      weights.back().push_back(biases[i]);
  }
  return weights;
}

/// The K-1 initial-state inputs of the `group` channels of row `row` (c's
/// row in [B, C]), channel by channel, where `cond` holds (always without
/// one), else zeros; none without an initial state. They are contiguous, and
/// for 4 channels 16-byte aligned: whole vectors.
SmallVector<Value> ConvEmitter::loadStateGroup(Value cond, Value row,
                                               int64_t group) {
  if (!init)
    return {};
  int64_t count = group * (width - 1);
  auto load = [&] {
    return b.unpackF32(
        b.loadVector(init, b.mul(row, b.index(width - 1)), count, group == 4));
  };
  if (!cond)
    return load();
  return emitIf(b, cond, f32Types(count), load,
                [&] { return SmallVector<Value>(count, b.f32(0.0)); });
}

/// The inputs at step t (t < L) of the `group` channels from `c` of batch
/// entry `bIdx`: one vector of x, or before t = 0 the initial state, taken
/// from `state` (loadStateGroup's, loaded where t0 < K-1).
SmallVector<Value> ConvEmitter::inputGroup(Value bIdx, Value t, Value c,
                                           int64_t group,
                                           ArrayRef<Value> state) {
  bool aligned = group == vectorWidth(elem);
  return emitIf(
      b, cmp(arith::CmpIPredicate::sge, t, b.index(0)), f32Types(group),
      [&] {
        Value at =
            b.add(b.mul(b.add(b.mul(bIdx, len), t), b.index(channels)), c);
        return b.unpackF32(b.loadVector(x, at, group, aligned));
      },
      [&] {
        SmallVector<Value> values;
        Value j = b.add(t, b.index(width - 1));
        for (int64_t i = 0; i < group; ++i)
          values.push_back(stateAt(
              state.empty() ? state : state.slice(i * (width - 1), width - 1),
              j));
        return values;
      });
}

void ConvEmitter::emitChannelLast() {
  int64_t group = channelGroup(channels, elem);
  bool aligned = group == vectorWidth(elem);
  // Batch entry z; the blocks (x, y) in launch order take consecutive
  // threads of its runs × groups, a few more than it needs.
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value block = b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::y),
                            gpu::GridDimOp::create(b, gpu::Dimension::x)),
                      gpu::BlockIdOp::create(b, gpu::Dimension::x));
  Value id = b.add(b.mul(block, b.index(kConvThreads)), tid);
  Value groups = b.index(channels / group);
  Value run = b.div(id, groups);
  Value c = b.mul(b.rem(id, groups), b.index(group));
  Value t0 = b.mul(run, b.index(kConvRun));
  Value bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::z);

  emitGuarded(b, b.cmpLT(t0, len), [&] {
    // The weights, the first run's initial state and the first chunk of
    // steps are loaded before any is used, so that a short run waits for
    // memory once.
    SmallVector<SmallVector<Value>> weights = loadWeightGroup(c, group);
    Value row = b.add(b.mul(bIdx, b.index(channels)), c);
    Value firstRun = b.cmpLT(t0, b.index(width - 1));
    SmallVector<Value> state = loadStateGroup(firstRun, row, group);
    // Steps past L (in the last run) load step L-1 and store nothing. The
    // loads of a chunk of steps are issued together, ahead of the stores'
    // branches, which would otherwise make each step wait for its load.
    Value lastStep = b.sub(len, b.index(1));
    SmallVector<Value> at;
    SmallVector<SmallVector<Value>> loaded;
    auto loadChunk = [&](int64_t first) {
      for (int64_t s = first; s < std::min(first + kConvChunk, kConvRun); ++s) {
        Value t = arith::MinUIOp::create(b, b.add(t0, b.index(s)), lastStep);
        at.push_back(
            b.add(b.mul(b.add(b.mul(bIdx, len), t), b.index(channels)), c));
        loaded.push_back(
            b.unpackF32(b.loadVector(x, at.back(), group, aligned)));
      }
    };
    loadChunk(0);
    // window[k][i]: channel c + i at step t - (K-1) + k.
    SmallVector<SmallVector<Value>> window;
    for (int64_t d = width - 1; d > 0; --d)
      window.push_back(
          inputGroup(bIdx, b.sub(t0, b.index(d)), c, group, state));
    for (int64_t s = 0; s < kConvRun; ++s) {
      if (s > 0 && s % kConvChunk == 0)
        loadChunk(s);
      window.push_back(loaded[s]);
      SmallVector<Value> outs;
      for (int64_t i = 0; i < group; ++i) {
        SmallVector<Value> taps;
        for (const SmallVector<Value> &step : window)
          taps.push_back(step[i]);
        outs.push_back(output(taps, weights[i]));
      }
      emitGuarded(b, b.cmpLT(b.add(t0, b.index(s)), len),
                  [&] { b.storeVectorF32(outs, y, at[s], aligned); });
      window.erase(window.begin());
    }
    if (!finalState)
      return;
    // The first run's threads, which read the initial state, write the final
    // state of their channels (so it may overwrite the initial one), one
    // contiguous run of f32 (whole vectors for 4 channels).
    emitGuarded(b, firstRun, [&] {
      SmallVector<Value> values(group * (width - 1));
      for (int64_t j = 0; j < width - 1; ++j) {
        SmallVector<Value> step =
            inputGroup(bIdx, b.add(b.sub(len, b.index(width - 1)), b.index(j)),
                       c, group, state);
        for (int64_t i = 0; i < group; ++i)
          values[i * (width - 1) + j] = step[i];
      }
      b.storeVectorF32(values, finalState, b.mul(row, b.index(width - 1)),
                       group == 4);
    });
  });
}

//===----------------------------------------------------------------------===//
// Decode step
//===----------------------------------------------------------------------===//

/// Emits `body(c, row)` for the `count` channels from c that thread
/// blockIdx.x·`threads` + threadIdx.x takes of batch entry blockIdx.y, where
/// c < C; row is c's row in [B, C]. The decode-step and final-state kernels'
/// grids are ceil(C / (`threads`·`count`)) x B.
void ConvEmitter::emitPerRow(int64_t threads, int64_t count,
                             function_ref<void(Value c, Value row)> body) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value c = b.mul(b.add(b.mul(block, b.index(threads)), tid), b.index(count));
  emitGuarded(b, b.cmpLT(c, b.index(channels)), [&] {
    Value bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    body(c, b.add(b.mul(bIdx, b.index(channels)), c));
  });
}

/// The decode-step kernel (L = 1, C a multiple of 4; see the file comment).
/// A thread takes the kStepGroup channels from c of batch entry blockIdx.y:
/// their weights, biases and states as whole vectors, their final states
/// stored as one run, as channel-last threads do.
void ConvEmitter::emitStep() {
  constexpr int64_t group = kStepGroup;
  emitPerRow(kStepThreads, group, [&](Value c, Value row) {
    // At L = 1, row is also c's offset in x and y.
    SmallVector<Value> inputs =
        b.unpackF32(b.loadVector(x, row, group, /*aligned=*/true));
    SmallVector<SmallVector<Value>> weights = loadWeightGroup(c, group);
    SmallVector<Value> state = loadStateGroup(Value(), row, group);
    SmallVector<Value> outs, next;
    for (int64_t i = 0; i < group; ++i) {
      SmallVector<Value> window =
          state.empty() ? SmallVector<Value>(width - 1, b.f32(0.0))
                        : SmallVector<Value>(ArrayRef<Value>(state).slice(
                              i * (width - 1), width - 1));
      window.push_back(inputs[i]);
      outs.push_back(output(window, weights[i]));
      next.append(window.begin() + 1, window.end());
    }
    if (finalState)
      b.storeVectorF32(next, finalState, b.mul(row, b.index(width - 1)),
                       /*aligned=*/true);
    b.storeVectorF32(outs, y, row, /*aligned=*/true);
  });
}

/// The final-state kernel of a channel-first layer (see the file comment):
/// thread c of batch entry blockIdx.y copies row (b, c)'s last K-1 inputs,
/// from x, or before step 0 from the initial state (or zero).
void ConvEmitter::emitFinalState() {
  emitPerRow(kConvThreads, 1, [&](Value, Value row) {
    Value rowStart = b.mul(row, len);
    for (int64_t i = 0; i < width - 1; ++i) {
      // Step L - (K-1) + i; its x load is clamped to the row's step 0.
      Value t = b.add(len, b.index(i - (width - 1)));
      Value inRow = cmp(arith::CmpIPredicate::sge, t, b.index(0));
      Value at = b.add(rowStart, select(inRow, t, b.index(0)));
      b.storeF32(select(inRow, b.loadF32(x, at), before(row, t)), finalState,
                 b.add(b.mul(row, b.index(width - 1)), b.index(i)));
    }
  });
}

void ConvEmitter::emit(ArrayRef<BlockArgument> args, ConvKernel kind) {
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value xArg = nextArg(), wArg = nextArg();
  Value biasArg = op.getBias() ? nextArg() : Value();
  Value initArg = op.getInit() ? nextArg() : Value();
  Value yArg = nextArg();
  Value finalArg =
      inPlace ? initArg : (op.getFinalState() ? nextArg() : Value());
  Value batchArg = nextArg(), lenArg = nextArg();

  Value size = b.mul(b.mul(batchArg, b.index(channels)), lenArg);
  x = b.flatView(xArg, size);
  y = b.flatView(yArg, size);
  w = b.flatView(wArg, b.index(channels * width));
  if (biasArg)
    bias = b.flatView(biasArg, b.index(channels));
  Value stateSize = b.mul(batchArg, b.index(channels * (width - 1)));
  if (initArg)
    init = b.flatView(initArg, stateSize);
  bool cf = op.getLayout() == Layout::ChannelFirst;
  // A channel-first layer's final state is the final-state kernel's.
  if (finalArg && (kind != ConvKernel::General || !cf))
    finalState = b.flatView(finalArg, stateSize);

  if (kind != ConvKernel::General || !cf) {
    batch = batchArg;
    len = lenArg;
    switch (kind) {
    case ConvKernel::General:
      return emitChannelLast();
    case ConvKernel::Step:
      return emitStep();
    case ConvKernel::FinalState:
      return emitFinalState();
    }
    llvm_unreachable("unknown conv kernel");
  }
  // Channel-first: the body twice, with 32-bit offsets where every offset
  // fits, else with `index` ones. Flat offsets stay below the grid's span,
  // its blocks times the elements a block covers (at least B·C·L: the grid
  // rounds L up to whole splits), plus a vector or two.
  Value blocks = b.mul(b.mul(gpu::GridDimOp::create(b, gpu::Dimension::x),
                             gpu::GridDimOp::create(b, gpu::Dimension::y)),
                       gpu::GridDimOp::create(b, gpu::Dimension::z));
  Value span = b.mul(blocks, b.index(channelFirstBlockSpan(elem)));
  Value limit = b.index(kMaxNarrowSize);
  Value fits = cmp(arith::CmpIPredicate::ule, span, limit);
  if (init)
    fits = arith::AndIOp::create(
        b, fits, cmp(arith::CmpIPredicate::ule, stateSize, limit));
  auto ifOp = scf::IfOp::create(b, fits, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard g(b);
  for (Block *body : {ifOp.thenBlock(), ifOp.elseBlock()}) {
    b.setInsertionPointToStart(body);
    b.setOffsetType(body == ifOp.thenBlock() ? b.getI32Type() : Type());
    batch = b.offset(batchArg);
    len = b.offset(lenArg);
    emitChannelFirst();
  }
}

FailureOr<LoweredOp> mlir::ssm::lowerCausalConv1d(CausalConv1dOp op,
                                                  const IRMapping &buffers,
                                                  OpBuilder &host,
                                                  gpu::GPUModuleOp module,
                                                  StringRef name) {
  Location loc = op.getLoc();
  bool cf = op.getLayout() == Layout::ChannelFirst;
  int64_t channels = op.getWeight().getType().getDimSize(0);
  Type elem = op.getX().getType().getElementType();
  Value xBuf = buffers.lookup(op.getX());
  Value batch = memref::DimOp::create(host, loc, xBuf, 0);
  Value len = memref::DimOp::create(host, loc, xBuf, cf ? 2 : 1);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  auto ceilDiv = [&](Value a, int64_t d) -> Value {
    return arith::CeilDivUIOp::create(host, loc, a, cst(d));
  };

  KernelLaunch launch;
  for (Value operand : op->getOperands())
    launch.params.push_back({buffers.lookup(operand)});
  // A final state written over the initial state (one in-out buffer) is
  // the init parameter, no longer read-only.
  bool inPlace =
      op.getFinalState() && op.getInit() &&
      buffers.lookup(op.getFinalState()) == buffers.lookup(op.getInit());
  if (inPlace)
    launch.params.back().readOnly = false;
  for (Value result : op->getResults())
    if (!inPlace || result != op.getFinalState())
      launch.params.push_back({buffers.lookup(result), /*readOnly=*/false});
  launch.params.push_back({batch});
  launch.params.push_back({len});
  // Channel-first blocks take kConvThreads·kConvVectors vectors of B·C·L;
  // channel-last blocks kConvThreads (run, channel group) pairs of a batch
  // entry, ceil(L / kConvRun) × C / group of them.
  if (cf) {
    int64_t perBlock = channelFirstBlockSpan(elem);
    int64_t split = gridSplit(channels, perBlock);
    launch.grid = {ceilDiv(len, split),
                   cst(llvm::divideCeil(channels * split, perBlock)), batch};
  } else {
    int64_t groups = channels / channelGroup(channels, elem);
    int64_t split = gridSplit(groups, kConvThreads);
    launch.grid = {ceilDiv(len, kConvRun * split),
                   cst(llvm::divideCeil(groups * split, kConvThreads)), batch};
  }
  launch.block = {kConvThreads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("causal_conv1d"))};
  // A decode step of a layer with a conv state has a kernel of its own, and
  // so has a channel-first layer's final state (after the general kernel,
  // under the same condition). The three take the same parameters.
  bool decodeStep =
      (op.getInit() || op.getFinalState()) && channels % kStepGroup == 0;
  bool finalKernel = cf && op.getFinalState();
  KernelLaunch step = launch;
  if (decodeStep) {
    Value one = cst(1);
    launch.when =
        arith::CmpIOp::create(host, loc, arith::CmpIPredicate::ugt, len, one);
    step.when =
        arith::CmpIOp::create(host, loc, arith::CmpIPredicate::ule, len, one);
    step.grid = {cst(llvm::divideCeil(channels, kStepGroup * kStepThreads)),
                 batch, one};
    step.block = {kStepThreads, 1, 1};
  }
  KernelLaunch finalCopy = launch;
  if (finalKernel)
    finalCopy.grid = {cst(llvm::divideCeil(channels, kConvThreads)), batch,
                      cst(1)};

  LoweredOp lowered;
  auto build = [&](KernelLaunch &kernel, const Twine &kernelName,
                   ConvKernel kind) {
    kernel.kernel =
        createKernel(host, loc, module, kernelName.str(), kernel, {});
    if (std::optional<int64_t> blocks = residentBlocks(op, kind))
      kernel.kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                             host.getI32IntegerAttr(*blocks));
    KernelBodyBuilder body(loc, host.getContext());
    body.setInsertionPoint(kernel.kernel.getBody().front().getTerminator());
    ConvEmitter(op, body, inPlace).emit(kernel.kernel.getArguments(), kind);
    lowered.launches.push_back(std::move(kernel));
  };
  build(launch, name, ConvKernel::General);
  if (finalKernel)
    build(finalCopy, name + "_final", ConvKernel::FinalState);
  if (decodeStep)
    build(step, name + "_step", ConvKernel::Step);
  return lowered;
}
