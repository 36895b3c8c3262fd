//===- CausalConv1dChannelLast.cpp - The per-channel conv1d kernels -------===//
//
// ConvEmitter's kernels in which a thread owns a group of channels: the
// channel-last kernel over runs of steps of [B, L, C], and the decode-step
// and final-state kernels, one row of [B, C] (or a group) a thread
// (CausalConv1dToGPU.cpp describes them).
//
//===----------------------------------------------------------------------===//

#include "CausalConv1dKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::conv;

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
  return b.ifThenElse(cond, f32Types(count), load,
                      [&] { return SmallVector<Value>(count, b.f32(0.0)); });
}

/// The inputs at step t (t < L) of the `group` channels from `c` of batch
/// entry `bIdx`: one vector of x, or before t = 0 the initial state, taken
/// from `state` (loadStateGroup's, loaded where t0 < K-1).
SmallVector<Value> ConvEmitter::inputGroup(Value bIdx, Value t, Value c,
                                           int64_t group,
                                           ArrayRef<Value> state) {
  bool aligned = group == vectorWidth(elem);
  return b.ifThenElse(
      cmp(arith::CmpIPredicate::sge, t, b.index(0)), f32Types(group),
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

  b.ifThen(b.cmpLT(t0, len), [&] {
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
      b.ifThen(b.cmpLT(b.add(t0, b.index(s)), len),
               [&] { b.storeVectorF32(outs, y, at[s], aligned); });
      window.erase(window.begin());
    }
    if (!finalState)
      return;
    // The first run's threads, which read the initial state, write the final
    // state of their channels (so it may overwrite the initial one), one
    // contiguous run of f32 (whole vectors for 4 channels).
    b.ifThen(firstRun, [&] {
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
  b.ifThen(b.cmpLT(c, b.index(channels)), [&] {
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
