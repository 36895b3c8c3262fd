//===- SelectiveScanTile.cpp - The selective scan's per-tile work ---------===//
//
// ScanKernelEmitter's indexing, lane exchanges, the loads and stores of a
// tile (vector, scalar, shifted or edge) and the recurrence over its steps
// (SelectiveScanToGPU.cpp describes the kernel).
//
//===----------------------------------------------------------------------===//

#include "SelectiveScanKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::scan;

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
    b.ifThen(valid, [&] {
      Value slotBase =
          b.add(bufBase, b.index(bc.slot * stepStride * stageSteps));
      SmallVector<Value> v = b.unpackF32(raw);
      if (skip) {
        // Element j lands on staged step i + j - skip if that is one.
        for (auto [j, element] : llvm::enumerate(v)) {
          Value step = b.sub(b.add(i, b.index(j)), skip);
          Value staged = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                               step, b.index(stageSteps));
          Value value = element;
          b.ifThen(staged, [&] {
            memref::StoreOp::create(
                b, value, smem,
                b.add(slotBase, b.add(b.mul(step, b.index(stepStride)), n)));
          });
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
      b.ifThen(inRange(t), [&] { b.storeF32(values[i], y, outIndex(t)); });
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
