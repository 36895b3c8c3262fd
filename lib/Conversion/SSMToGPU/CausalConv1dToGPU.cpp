//===- CausalConv1dToGPU.cpp - ssm.causal_conv1d to a kernel ----*- C++ -*-===//
//
// Builds the causal depthwise conv1d kernel, a memory-bound stencil over L.
// Channel-first ([B, C, L]): one output per thread, consecutive threads on
// consecutive steps, so every load and store is coalesced and the K-1 halo
// loads hit L1. Channel-last ([B, L, C]): consecutive threads on consecutive
// channels, each walking a run of steps with its K-1 previous inputs in
// registers, so every input is loaded once. Inputs before t = 0 come from the
// initial conv state (or are zero); the last K-1 inputs form the final state.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::ssm;

/// Threads per block of a conv1d kernel.
static constexpr int64_t kConvThreads = 128;

/// Steps per thread of the channel-last kernel.
static constexpr int64_t kConvRun = 16;

namespace {
/// Emits the body of one conv1d kernel.
class ConvEmitter {
public:
  ConvEmitter(CausalConv1dOp op, KernelBodyBuilder &b)
      : op(op), b(b), cf(op.getLayout() == Layout::ChannelFirst),
        channels(op.getWeight().getType().getDimSize(0)),
        width(op.getWeight().getType().getDimSize(1)) {}

  void emit(ArrayRef<BlockArgument> args);

private:
  Value xIndex(Value t);
  Value input(Value t);
  Value output(ArrayRef<Value> window);
  void storeFinalState();

  CausalConv1dOp op;
  KernelBodyBuilder &b;
  bool cf;
  int64_t channels, width;
  Value batch, len, bIdx, c, x, y, init, finalState, bias;
  SmallVector<Value> w;
};
} // namespace

Value ConvEmitter::xIndex(Value t) {
  if (cf) // [B, C, L]
    return b.add(b.mul(b.add(b.mul(bIdx, b.index(channels)), c), len), t);
  return b.add(b.mul(b.add(b.mul(bIdx, len), t), b.index(channels)), c);
}

/// The input at step `t` (any t < L): x, or before t = 0 the initial state
/// (or zero). Loads use clamped indices so that they are always in bounds.
Value ConvEmitter::input(Value t) {
  Value zero = b.index(0);
  Value inX = arith::CmpIOp::create(b, arith::CmpIPredicate::sge, t, zero);
  Value xt = arith::MaxSIOp::create(b, t, zero);
  xt = arith::MinSIOp::create(b, xt, b.sub(len, b.index(1)));
  Value fromX = b.loadF32(x, xIndex(xt));
  Value before = b.f32(0.0);
  if (init) {
    // init[b, c, K-1+t] for t in [-(K-1), -1].
    Value j = arith::MaxSIOp::create(b, b.add(t, b.index(width - 1)), zero);
    j = arith::MinSIOp::create(b, j, b.index(width - 2));
    Value row = b.add(b.mul(bIdx, b.index(channels)), c);
    before = b.loadF32(init, b.add(b.mul(row, b.index(width - 1)), j));
  }
  return arith::SelectOp::create(b, inX, fromX, before);
}

/// act(bias + Σ_k w[k]·window[k]) over the K inputs ending at the step.
Value ConvEmitter::output(ArrayRef<Value> window) {
  Value acc = bias ? bias : b.f32(0.0);
  for (int64_t k = 0; k < width; ++k)
    acc = b.fma(w[k], window[k], acc);
  if (op.getActivation() == Activation::Silu)
    acc = b.silu(acc);
  return acc;
}

/// Writes the last K-1 inputs of this thread's channel.
void ConvEmitter::storeFinalState() {
  Value row = b.add(b.mul(bIdx, b.index(channels)), c);
  for (int64_t j = 0; j < width - 1; ++j) {
    Value t = b.add(b.sub(len, b.index(width - 1)), b.index(j));
    b.storeF32(input(t), finalState,
               b.add(b.mul(row, b.index(width - 1)), b.index(j)));
  }
}

void ConvEmitter::emit(ArrayRef<BlockArgument> args) {
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value xArg = nextArg(), wArg = nextArg();
  Value biasArg = op.getBias() ? nextArg() : Value();
  Value initArg = op.getInit() ? nextArg() : Value();
  Value yArg = nextArg();
  Value finalArg = op.getFinalState() ? nextArg() : Value();
  batch = nextArg();
  len = nextArg();

  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value bx = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  Value size = b.mul(b.mul(batch, b.index(channels)), len);
  x = b.flatView(xArg, size);
  y = b.flatView(yArg, size);
  Value stateSize = b.mul(batch, b.index(channels * (width - 1)));
  if (initArg)
    init = b.flatView(initArg, stateSize);
  if (finalArg)
    finalState = b.flatView(finalArg, stateSize);

  // Channel-first blocks run along t (grid x) per channel (grid y);
  // channel-last blocks run along C (grid x) per run of steps (grid y).
  Value t0, valid;
  if (cf) {
    c = by;
    t0 = b.add(b.mul(bx, b.index(kConvThreads)), tid);
    valid = b.cmpLT(t0, len);
    t0 = arith::MinUIOp::create(b, t0, b.sub(len, b.index(1)));
  } else {
    Value ch = b.add(b.mul(bx, b.index(kConvThreads)), tid);
    valid = b.cmpLT(ch, b.index(channels));
    c = arith::MinUIOp::create(b, ch, b.index(channels - 1));
    t0 = b.mul(by, b.index(kConvRun));
  }
  Value wMem = b.flatView(wArg, b.index(channels * width));
  for (int64_t k = 0; k < width; ++k)
    w.push_back(b.loadF32(wMem, b.add(b.mul(c, b.index(width)), b.index(k))));
  if (biasArg)
    bias = b.loadF32(b.flatView(biasArg, b.index(channels)), c);

  // The K-1 inputs before the first step.
  SmallVector<Value> window;
  for (int64_t k = 0; k < width - 1; ++k)
    window.push_back(input(b.sub(t0, b.index(width - 1 - k))));

  int64_t steps = cf ? 1 : kConvRun;
  for (int64_t r = 0; r < steps; ++r) {
    Value t = b.add(t0, b.index(r));
    Value inRange = arith::AndIOp::create(b, valid, b.cmpLT(t, len));
    window.push_back(input(t));
    Value out = output(window);
    {
      auto guard = scf::IfOp::create(b, inRange);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(guard.thenBlock());
      b.storeF32(out, y, xIndex(t));
    }
    window.erase(window.begin());
  }

  if (!finalState)
    return;
  // One thread per channel writes its final state: the first of the row
  // (channel-first) or the threads of the first run (channel-last).
  Value first = cf ? arith::AndIOp::create(
                         b,
                         arith::CmpIOp::create(b, arith::CmpIPredicate::eq, bx,
                                               b.index(0)),
                         arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid,
                                               b.index(0)))
                   : arith::AndIOp::create(
                         b, valid,
                         arith::CmpIOp::create(b, arith::CmpIPredicate::eq, by,
                                               b.index(0)));
  auto guard = scf::IfOp::create(b, first);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(guard.thenBlock());
  storeFinalState();
}

FailureOr<LoweredOp> mlir::ssm::lowerCausalConv1d(CausalConv1dOp op,
                                                  const IRMapping &buffers,
                                                  OpBuilder &host,
                                                  gpu::GPUModuleOp module,
                                                  StringRef name) {
  Location loc = op.getLoc();
  bool cf = op.getLayout() == Layout::ChannelFirst;
  int64_t channels = op.getWeight().getType().getDimSize(0);
  Value xBuf = buffers.lookup(op.getX());
  Value batch = memref::DimOp::create(host, loc, xBuf, 0);
  Value len = memref::DimOp::create(host, loc, xBuf, cf ? 2 : 1);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };

  KernelLaunch launch;
  for (Value operand : op->getOperands())
    launch.params.push_back({buffers.lookup(operand)});
  for (Value result : op->getResults())
    launch.params.push_back({buffers.lookup(result), /*readOnly=*/false});
  launch.params.push_back({batch});
  launch.params.push_back({len});
  if (cf)
    launch.grid = {
        arith::CeilDivUIOp::create(host, loc, len, cst(kConvThreads)),
        cst(channels), batch};
  else
    launch.grid = {cst((channels + kConvThreads - 1) / kConvThreads),
                   arith::CeilDivUIOp::create(host, loc, len, cst(kConvRun)),
                   batch};
  launch.block = {kConvThreads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("causal_conv1d"))};
  launch.kernel = createKernel(host, loc, module, name, launch, {});

  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  ConvEmitter(op, body).emit(launch.kernel.getArguments());
  LoweredOp lowered;
  lowered.launches.push_back(std::move(launch));
  return lowered;
}
