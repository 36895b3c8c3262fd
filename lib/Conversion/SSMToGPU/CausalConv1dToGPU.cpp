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
// The emitter (CausalConv1dKernel.h) builds the channel-first kernel in
// CausalConv1dChannelFirst.cpp and the others in CausalConv1dChannelLast.cpp;
// this file holds what they share, the choice of kernel and the launches.
//
//===----------------------------------------------------------------------===//

#include "CausalConv1dKernel.h"
#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <numeric>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::conv;

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

/// The grid split of n·C work items (n = L, or L / kConvRun, and C a
/// constant) over blocks of `perBlock` items, with grid x = ceil(n / split) and
/// y = ceil(C·split / perBlock) (the manifest's launch sizes are a dimension or
/// a constant): the smallest split that makes C·split a multiple of perBlock,
/// so that no block idles, capped so that grid x stays close to n / split.
static int64_t gridSplit(int64_t c, int64_t perBlock) {
  return std::min<int64_t>(perBlock / std::gcd(c, perBlock), 64);
}

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
  auto emitWithOffsets = [&](Type offsetType) {
    b.setOffsetType(offsetType);
    batch = b.offset(batchArg);
    len = b.offset(lenArg);
    emitChannelFirst();
  };
  b.ifThenElse(
      fits, [&] { emitWithOffsets(b.getI32Type()); },
      [&] { emitWithOffsets(Type()); });
}

LogicalResult mlir::ssm::checkKernels(CausalConv1dOp, const KernelTarget &) {
  // Each conv1d the verifier accepts has its kernels.
  return success();
}

FailureOr<LoweredOp> mlir::ssm::lowerToKernels(CausalConv1dOp op,
                                               const IRMapping &buffers,
                                               OpBuilder &host,
                                               const KernelTarget &target,
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
        createKernel(host, loc, target.module, kernelName.str(), kernel, {});
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
