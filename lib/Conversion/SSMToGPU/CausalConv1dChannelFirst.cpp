//===- CausalConv1dChannelFirst.cpp - The channel-first conv1d kernel -----===//
//
// ConvEmitter's channel-first kernel over flat 16-byte vectors of [B, C, L]
// (CausalConv1dToGPU.cpp describes it).
//
//===----------------------------------------------------------------------===//

#include "CausalConv1dKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::conv;

/// The vector at flat index `flat` in the element type: one 128-bit load, or
/// for the last vector (not `full`) element loads clamped to the tensor.
Value ConvEmitter::loadFlat(Value flat, Value full, Value total) {
  int64_t vec = vectorWidth(elem);
  auto type = VectorType::get({vec}, elem);
  return b
      .ifThenElse(
          full, type,
          [&] {
            return SmallVector<Value>{
                b.loadVector(x, flat, vec, /*aligned=*/true)};
          },
          [&] {
            SmallVector<Value> values;
            Value last = b.sub(total, b.index(1));
            for (int64_t j = 0; j < vec; ++j)
              values.push_back(memref::LoadOp::create(
                  b, x,
                  b.asIndex(arith::MinUIOp::create(b, b.add(flat, b.index(j)),
                                                   last))));
            return SmallVector<Value>{
                vector::FromElementsOp::create(b, type, values)};
          })
      .front();
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
  return b.ifThenElse(
      arith::AndIOp::create(b, cond, inside), f32Types(width - 1),
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
  return b.ifThenElse(
      cond, f32Types(width - 1),
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
  SmallVector<Value> outs = b.ifThenElse(
      any, f32Types(vec),
      [&] {
        Value next = b.add(row, b.index(1));
        SmallVector<Value> nextWeights = b.ifThenElse(
            straddle, f32Types(weights.size()),
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
      SmallVector<Value> next = b.ifThenElse(
          wrap, types,
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
      window = b.ifThenElse(
          b.cmpLT(t, b.index(width - 1)), f32Types(width - 1), taps,
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
  b.ifThen(b.cmpLT(warpFirst, total), [&] {
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
      SmallVector<Value> outs = b.ifThenElse(
          b.cmpLT(len, b.index(vec)), f32Types(vec),
          [&] { return edgeOutputs(ext, weights, flat, row, t0, total); },
          [&] { return rowOutputs(ext, weights, flat, row, t0, total); });

      b.ifThenElse(
          fulls[r], [&] { b.storeVectorF32(outs, y, flat, /*aligned=*/true); },
          [&] {
            // Compared with the count left rather than flat + j, which LLVM
            // would otherwise share with the load's and keep in registers
            // throughout.
            Value left = b.sub(total, flat);
            for (int64_t j = 0; j < vec; ++j)
              b.ifThen(b.cmpLT(b.index(j), left), [&] {
                b.storeF32(outs[j], y, b.add(flat, b.index(j)));
              });
          });
    }
  });
}
