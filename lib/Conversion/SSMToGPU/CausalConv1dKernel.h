//===- CausalConv1dKernel.h - The causal conv1d emitter ---------*- C++ -*-===//
//
// The emitter of the kernels ssm.causal_conv1d lowers to
// (CausalConv1dToGPU.cpp describes them): the sizes its kernels and their
// launches share, and ConvEmitter, whose channel-first kernel is in
// CausalConv1dChannelFirst.cpp and whose channel-last, decode-step and
// final-state kernels are in CausalConv1dChannelLast.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_LIB_CONVERSION_SSMTOGPU_CAUSALCONV1DKERNEL_H
#define SSMC_LIB_CONVERSION_SSMTOGPU_CAUSALCONV1DKERNEL_H

#include "KernelBuilder.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <algorithm>

namespace mlir::ssm::conv {

/// Threads per block of a conv1d kernel.
inline constexpr int64_t kConvThreads = 128;

/// Vectors per channel-first thread, 32 vectors apart. Their loads are issued
/// together: 4 (64 bytes in flight per thread) measured 94 % of copy
/// bandwidth at (8, 5120, 2048) on an H100, 2 vectors 86 % and 1 vector 77 %;
/// on an H200, 3 and 6 vectors ran slower than 4.
inline constexpr int64_t kConvVectors = 4;

/// The kernels a conv1d layer may have.
enum class ConvKernel {
  /// The layer's kernel for any L (for L >= 2 where the others exist).
  General,
  /// A decode step, L = 1 (emitStep).
  Step,
  /// A channel-first layer's final state, for L >= 2 (emitFinalState).
  FinalState,
};

/// Elements of x a channel-first block covers.
inline int64_t channelFirstBlockSpan(Type elem) {
  return kConvThreads * kConvVectors * vectorWidth(elem);
}

/// Channels per thread of the decode-step kernel: a 16-byte vector of f32
/// weights per tap and of biases, 8 or 16 bytes of x and y. 8 channels (a
/// 16-byte vector of 16-bit x) ran 1.2-1.7x slower on an H200: half the
/// threads, twice the work each.
inline constexpr int64_t kStepGroup = 4;

/// Threads per block of the decode-step kernel. On an H200 (C 5376) 256 ran
/// as fast and 512 0.3-1 µs slower at B 1 / 64 / 256.
inline constexpr int64_t kStepThreads = 128;

/// Steps per thread of the channel-last kernel.
inline constexpr int64_t kConvRun = 32;

/// Steps of the channel-last kernel whose loads are issued together. 16
/// (128 registers) ran (4, 5376, 4096) and (1, 5376, 32768) on an H200 at
/// 91 % and 95 % of copy bandwidth, 8 (96 registers) at 87 % and 91 %: a
/// faster HBM needs more bytes in flight.
inline constexpr int64_t kConvChunk = 16;

/// Channels per channel-last thread: 4 (64-bit accesses for 16-bit types,
/// 128-bit for f32), or the largest power of two that divides C. A thread keeps
/// K+1 weights and K-1 inputs per channel in registers; 8 channels measured
/// slower (fewer threads per SM, so fewer loads in flight).
inline int64_t channelGroup(int64_t channels, Type elem) {
  int64_t group = std::min<int64_t>(vectorWidth(elem), 4);
  while (channels % group != 0)
    group /= 2;
  return group;
}

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

} // namespace mlir::ssm::conv

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_CAUSALCONV1DKERNEL_H
