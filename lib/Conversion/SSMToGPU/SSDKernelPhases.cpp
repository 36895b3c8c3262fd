//===- SSDKernelPhases.cpp - The SSD kernel's per-chunk phases ------------===//
//
// SSDKernelEmitter's mma.sync building blocks and the phases of one chunk
// (SSDChunkToGPU.cpp describes the kernel): fragments and ldmatrix, the
// indexing of the layer tensors, the copies that stage x, B and C (cp.async
// or tensor copies), dt to Δ and Acum, G = C·Bᵀ, the outputs and their
// stores, and the state update.
//
//===----------------------------------------------------------------------===//

#include "SSDKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <map>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::ssd;

//===----------------------------------------------------------------------===//
// Tensor-core primitives
//===----------------------------------------------------------------------===//

/// ldmatrix.x4: four 8x8 matrices whose rows lanes 8m..8m+7 address (at
/// `indices` of `buffer`); returns this lane's four b32 registers.
Fragment SSDKernelEmitter::loadMatrix(Value buffer, ValueRange indices,
                                      bool transpose) {
  auto type = VectorType::get({4, 2}, s.elem);
  Value m = nvgpu::LdMatrixOp::create(b, type, buffer, indices, transpose,
                                      /*numTiles=*/4);
  // Row by row: 1-D bitcasts are what the LLVM lowering of vectors takes.
  auto word = VectorType::get({1}, b.getI32Type());
  Fragment regs;
  for (int64_t i = 0; i < 4; ++i) {
    Value pair = vector::ExtractOp::create(b, m, i);
    regs.push_back(vector::ExtractOp::create(
        b, vector::BitCastOp::create(b, word, pair), 0));
  }
  return regs;
}

Fragment SSDKernelEmitter::mma(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                               ArrayRef<Value> c) {
  Type f32 = b.getF32Type();
  auto result =
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
  bool bf16 = isa<BFloat16Type>(s.elem);
  NVVM::MMATypes type = bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  // The f16 intrinsic takes its pairs as vector<2xf16>, bf16 as b32.
  auto operands = [&](ArrayRef<Value> regs) {
    SmallVector<Value, 4> typed(regs);
    if (!bf16)
      for (Value &reg : typed)
        reg = vector::BitCastOp::create(
            b, VectorType::get({2}, s.elem),
            vector::FromElementsOp::create(
                b, VectorType::get({1}, b.getI32Type()), reg));
    return typed;
  };
  auto op = NVVM::MmaOp::create(
      b, result, operands(a), operands(bFrag), c, {kTileRows, kTileCols, 16},
      std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  Fragment d;
  for (int64_t i = 0; i < 4; ++i)
    d.push_back(LLVM::ExtractValueOp::create(b, op, i));
  return d;
}

/// Two f32 as one b32 register of the operand type (lo in the low half).
Value SSDKernelEmitter::pack(Value lo, Value hi) {
  Value pair = vector::FromElementsOp::create(
      b, VectorType::get({2}, b.getF32Type()), ValueRange{lo, hi});
  Value narrow = arith::TruncFOp::create(b, VectorType::get({2}, s.elem), pair);
  Value word = vector::BitCastOp::create(
      b, VectorType::get({1}, b.getI32Type()), narrow);
  return vector::ExtractOp::create(b, word, 0);
}

std::pair<Value, Value> SSDKernelEmitter::unpack(Value packed) {
  Value word = vector::FromElementsOp::create(
      b, VectorType::get({1}, b.getI32Type()), packed);
  Value pair = vector::BitCastOp::create(b, VectorType::get({2}, s.elem), word);
  SmallVector<Value> values = b.unpackF32(pair);
  return {values[0], values[1]};
}

Fragment SSDKernelEmitter::zeros() { return Fragment(4, b.f32(0.0)); }

/// Stores consecutive elements of the operand type at `index`, aligned to
/// their size: f32 values, narrowed, or b32 words of two packed elements.
/// One access, also where a merged address no longer tells LLVM so.
void SSDKernelEmitter::storeRun(ArrayRef<Value> values, Value mem,
                                Value index) {
  auto count = static_cast<int64_t>(values.size());
  Value run;
  if (values.front().getType().isF32()) {
    Value wide = vector::FromElementsOp::create(
        b, VectorType::get({count}, b.getF32Type()), values);
    run = arith::TruncFOp::create(b, VectorType::get({count}, s.elem), wide);
  } else {
    Value words = vector::FromElementsOp::create(
        b, VectorType::get({count}, b.getI32Type()), values);
    run = vector::BitCastOp::create(b, VectorType::get({2 * count}, s.elem),
                                    words);
  }
  auto type = cast<VectorType>(run.getType());
  vector::StoreOp::create(b, run, mem, index)
      .setAlignment(type.getNumElements() * s.elemBytes());
}

/// Stores the outputs of the chunk at `t0` to y. A chunk that ends inside L
/// stores without guards, so that the values are not sunk into per-row
/// branches that wait one at a time.
void SSDKernelEmitter::storeOutputs(ArrayRef<OutputPair> pairs, Value t0) {
  auto storeRuns = [&](bool guarded) {
    for (const OutputPair &pair : pairs) {
      Value t = b.add(t0, pair.row);
      b.ifThen(guarded ? b.cmpLT(t, len) : Value(),
               [&] { storeRun(pair.values, yMem, actIndex(t, pair.col)); });
    }
  };
  b.ifThenElse(
      b.cmpLT(b.add(t0, b.index(s.chunk - 1)), len), [&] { storeRuns(false); },
      [&] { storeRuns(true); });
}

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

// The step's term comes last, so that the rest is loop-invariant for LICM
// (the copies' addresses are most of a chunk's integer work).

/// x, z, y: [B, L, H, P].
Value SSDKernelEmitter::actIndex(Value t, Value col) {
  Value base = b.mul(b.add(b.mul(b.mul(bIdx, len), b.index(s.heads)), head),
                     b.index(s.headdim));
  return b.add(b.mul(t, b.index(s.heads * s.headdim)),
               b.add(base, b.add(col0, col)));
}

/// B, C: [B, L, G, N].
Value SSDKernelEmitter::bcIndex(Value t, Value col) {
  Value base = b.mul(b.add(b.mul(b.mul(bIdx, len), b.index(s.groups)), group),
                     b.index(s.states));
  return b.add(b.mul(t, b.index(s.groups * s.states)), b.add(base, col));
}

Value SSDKernelEmitter::stateIndex(Value slab, Value row, Value col) {
  Value p = b.add(b.mul(slab, b.index(s.headdim)), b.add(col0, row));
  return b.add(b.mul(p, b.index(s.states)), col);
}

/// Warp w owns column blocks w / split + j·(W / split): with a state
/// split, the warps of a pair own the same blocks.
Value SSDKernelEmitter::blockColumn(int64_t j) {
  Value first = b.div(warp, b.index(s.stateSplit));
  return b.mul(b.add(first, b.index(j * s.warps / s.stateSplit)),
               b.index(kTileRows));
}

Value SSDKernelEmitter::stateBase() {
  return b.mul(b.rem(warp, b.index(s.stateSplit)), b.index(s.warpStates()));
}

//===----------------------------------------------------------------------===//
// Chunk phases
//===----------------------------------------------------------------------===//

/// Starts the asynchronous copy of the 16 bytes of step `t` at column `col`
/// of `mem` (addressed by `index`) to the indices `dst` gives in `smem`;
/// unless `inL` (the caller knows `t` < L), a step past L reads the last
/// one's address and copies nothing, leaving zeros. (`dst` is built after
/// the source's clamp, in the order the measured kernels were emitted.) The
/// copy bypasses L1 (cp.async.cg) unless `throughL1` (cp.async.ca). Its
/// token is dropped: a group's copies are issued in loops and branches no
/// token leaves, so the kernels commit and await groups with
/// nvvm.cp.async.commit.group / wait.group, the instructions nvgpu's group
/// ops lower to.
void SSDKernelEmitter::copyStep(Value mem, Value t, Value col,
                                function_ref<Value(Value, Value)> index,
                                Value smem,
                                function_ref<SmallVector<Value>()> dst,
                                bool throughL1, bool inL) {
  Value srcElements;
  if (!inL) {
    Value clamped = arith::MinUIOp::create(b, t, b.sub(len, b.index(1)));
    srcElements = arith::SelectOp::create(b, b.cmpLT(t, len), b.index(kVector),
                                          b.index(0));
    t = clamped;
  }
  nvgpu::DeviceAsyncCopyOp::create(
      b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), smem, dst(), mem,
      ValueRange{index(t, col)}, b.getIndexAttr(kVector), srcElements,
      throughL1 ? UnitAttr() : b.getUnitAttr());
}

/// Starts the asynchronous copies of the chunk at `t0` into stage `stage`
/// (its first row) of x, B and C, 16 bytes each; rows past L are zero-filled.
/// The head's own x bypasses L1; B and C, which every head of the group
/// reads, go through it: on an H200 T1 0.266 -> 0.261 ms, T1 + z 0.348 ->
/// 0.339, B1 L4096 0.118 -> 0.112 (x through L1 as well gained nothing
/// more, and the warpgroup kernel's copies lost 4 %: bench/HISTORY.md,
/// session 28).
///
/// The carry kernel's chunks lie whole inside L: its segments are whole
/// chunks and all precede the last one. So its rows need neither a clamp nor
/// a zero fill, and a thread's rows of an operand are one address plus
/// immediate offsets: a fifth fewer instructions in its loop, and on an H100
/// its T3 launch 199 -> 191 us, T3 0.688 -> 0.680 ms (bench/HISTORY.md,
/// session 41). The chunks it stages past its segment, which it never
/// reads, start at L's last whole chunk instead.
void SSDKernelEmitter::stageChunk(Value t0, Value stage) {
  bool inL = role == SSDRole::Carry;
  if (inL)
    t0 = arith::MinUIOp::create(b, t0, b.sub(len, b.index(s.chunk)));
  auto copy = [&](Value mem, Value smem, int64_t width,
                  function_ref<Value(Value, Value)> index) {
    bool throughL1 = mem != xMem;
    int64_t perRow = width / kVector, total = s.chunk * perRow;
    for (int64_t j = 0; j * s.threads() < total; ++j) {
      Value v = b.add(tid, b.index(j * s.threads()));
      bool partial = (j + 1) * s.threads() > total;
      b.ifThen(partial ? b.cmpLT(v, b.index(total)) : Value(), [&] {
        // In L, where each pass of the threads covers whole rows, the
        // thread's rows are its first one plus constants, added last so
        // that each operand's copies share one address and differ by
        // immediate offsets.
        bool wholeRows = inL && s.threads() % perRow == 0;
        Value first = wholeRows ? tid : v;
        Value row = b.div(first, b.index(perRow));
        Value col = b.mul(b.rem(first, b.index(perRow)), b.index(kVector));
        auto at = [&](Value base) {
          Value r = b.add(base, row);
          return wholeRows ? b.add(r, b.index(j * s.threads() / perRow)) : r;
        };
        copyStep(
            mem, at(t0), col, index, smem,
            [&] {
              return SmallVector<Value>{at(stage), col};
            },
            throughL1, inL);
      });
    }
  };
  copy(xMem, sX, s.columns, [&](Value t, Value c) { return actIndex(t, c); });
  if (s.tma)
    return tmaStage(t0, stage);
  copy(bMem, sB, s.states, [&](Value t, Value c) { return bcIndex(t, c); });
  if (sC)
    copy(cMem, sC, s.states, [&](Value t, Value c) { return bcIndex(t, c); });
}

/// The LLVM pointer of address space `addressSpace` to index `address`.
Value SSDKernelEmitter::pointerAt(Value address, unsigned addressSpace) {
  return LLVM::IntToPtrOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext(), addressSpace),
      arith::IndexCastOp::create(b, b.getI64Type(), address).getResult());
}

/// The workgroup-memory pointer `byteOffset` bytes into the block's.
Value SSDKernelEmitter::sharedPtr(Value byteOffset) {
  return pointerAt(b.add(sharedBase, byteOffset), /*addressSpace=*/3);
}

/// The mbarrier of x, B, C buffer `position`.
Value SSDKernelEmitter::tmaBarrier(Value position) {
  return sharedPtr(b.add(b.index(offBar), b.mul(position, b.index(8))));
}

/// Thread 0 (re)initializes the buffers' mbarriers, one arrival each (its
/// expect_tx); the caller's barrier publishes them. Each run of chunks starts
/// them anew, after its last copies (of the chunk past it) have landed.
void SSDKernelEmitter::initTmaBarriers(bool reinit) {
  b.ifThen(b.cmpEQ(tid, b.index(0)), [&] {
    for (int64_t k = 0; k < s.buffers; ++k) {
      Value bar = tmaBarrier(b.index(k));
      if (reinit)
        NVVM::MBarrierInvalOp::create(b, bar);
      NVVM::MBarrierInitOp::create(
          b, bar, arith::ConstantIntOp::create(b, 1, 32), Value());
    }
  });
}

/// Thread 0 stages the chunk at `t0`'s B and C by one tensor copy each: a
/// box of Q rows of N + 8 columns (the padded row; the 8 past N are the next
/// group's or zeros, never read), rows past L zero-filled, into the stage's
/// rows, which start at multiples of 128 bytes as the copies need (Q is a
/// multiple of 32 and every row stride an even number of elements; the
/// dynamic workgroup memory starts the block's).
void SSDKernelEmitter::tmaStage(Value t0, Value stage) {
  int64_t q = s.chunk, rowBytes = s.bcStride() * s.elemBytes();
  Value position = b.div(stage, b.index(q));
  b.ifThen(b.cmpEQ(tid, b.index(0)), [&] {
    Value bar = tmaBarrier(position);
    NVVM::MBarrierArriveExpectTxOp::create(
        b, Type(), bar, arith::ConstantIntOp::create(b, 2 * q * rowBytes, 32),
        NVVM::MemScopeKind::CTA, false, Value());
    auto i32 = [&](Value v) {
      return arith::IndexCastOp::create(b, b.getI32Type(), v).getResult();
    };
    SmallVector<Value> coords = {i32(b.mul(group, b.index(s.states))), i32(t0),
                                 i32(bIdx)};
    Value maps = memref::ExtractAlignedPointerAsIndexOp::create(b, tmaMaps);
    for (int64_t m = 0; m < 2; ++m) {
      Value map = pointerAt(b.add(maps, b.index(kTensorMapBytes * m)),
                            /*addressSpace=*/0);
      Value dst = sharedPtr(
          b.add(b.index(m ? offC : offB), b.mul(stage, b.index(rowBytes))));
      NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          b, dst, map, coords, bar, ValueRange{}, Value(), Value(),
          NVVM::TMALoadMode::TILE, /*isCTAOnly=*/true, nullptr, Value());
    }
  });
}

/// Waits until the tensor copies of run-local `chunk` have landed: buffer
/// k's mbarrier completes a phase per chunk staged there.
void SSDKernelEmitter::awaitTma(Value chunk) {
  Value position = ringPosition(chunk, s.buffers);
  Value phase = arith::IndexCastUIOp::create(
      b, b.getI32Type(), b.rem(b.div(chunk, b.index(s.buffers)), b.index(2)));
  NVVM::MBarrierTryWaitParityOp::create(
      b, tmaBarrier(position), phase,
      arith::ConstantIntOp::create(b, 10000000, 32));
}

/// The decay warp's raw dt of the chunk at `t0` (lane-major runs of Q/32
/// steps; the other warps load nothing and get zeros), issued a chunk before
/// its Acum and Δ are computed; with splitDecay every warp's, one step of
/// its run a lane. The values stay in dt's type until then: widening them
/// here would wait for the load.
SmallVector<Value> SSDKernelEmitter::loadDt(Value t0) {
  int64_t perLane = s.dtPerLane(role);
  Type elem = cast<MemRefType>(dtMem.getType()).getElementType();
  // Steps t0 + first + k, k < perLane.
  auto load = [&](Value first) {
    SmallVector<Value> dt;
    for (int64_t k = 0; k < perLane; ++k) {
      Value t = b.add(t0, b.add(first, b.index(k)));
      Value clamped = arith::MinUIOp::create(b, t, b.sub(len, b.index(1)));
      dt.push_back(memref::LoadOp::create(
          b, dtMem,
          b.add(b.mul(b.add(b.mul(bIdx, len), clamped), b.index(s.heads)),
                head)));
    }
    return dt;
  };
  if (s.splitDecay(role))
    return load(b.add(b.mul(warp, b.index(s.decayRunSteps(role))), lane));
  return b.ifThenElse(
      isDecayWarp(), SmallVector<Type>(perLane, elem),
      [&] { return load(b.mul(lane, b.index(perLane))); },
      [&] {
        Value zero = arith::ConstantOp::create(b, b.getZeroAttr(elem));
        return SmallVector<Value>(perLane, zero);
      });
}

/// This lane's z runs of the chunk at `t0`, per owned column block, 16-row
/// tile and row half: the four columns it stores (runColumn), one 8-byte
/// load each (rows past L read the last row).
SmallVector<Value> SSDKernelEmitter::loadGate(Value t0) {
  SmallVector<Value> gate;
  if (!zMem)
    return gate;
  for (int64_t j = 0; j < s.blocksPerWarp(); ++j)
    for (int64_t i = 0; i < s.chunk / kTileRows; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        Value t = b.add(t0, b.add(b.index(i * kTileRows + h * 8), quad));
        Value clamped = arith::MinUIOp::create(b, t, b.sub(len, b.index(1)));
        gate.push_back(
            b.loadVector(zMem, actIndex(clamped, runColumn(j)), 4, true));
      }
  return gate;
}

/// The first of the four consecutive columns of owned column block `j` that
/// this lane stores: lanes 2k and 2k + 1 hold columns 4k.. and 4k + 2.. of
/// a row in each 8-column half, and swap one pair (finishOutputs), so that
/// lane 2k stores 4k..4k+3 and lane 2k + 1 8 + 4k..8 + 4k + 3.
Value SSDKernelEmitter::runColumn(int64_t j) {
  return b.add(b.add(blockColumn(j), pairCol),
               arith::SelectOp::create(b, isOddLane(), b.index(6), b.index(0)));
}

/// Whether this lane is the second of its pair (2k + 1), which stores the
/// run of a row's second 8-column half.
Value SSDKernelEmitter::isOddLane() {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                               b.rem(lane, b.index(2)), b.index(0));
}

/// Runs `fn` on the decay warp only.
void SSDKernelEmitter::onDecayWarp(function_ref<void()> fn) {
  b.ifThen(isDecayWarp(), fn);
}

/// Every warp's part of splitDecay: Δ and the Acum of the steps of its run
/// (one a lane, summed from the run's start), and the run's total, of the
/// chunk at `t0`, to the buffers of `buffer`.
void SSDKernelEmitter::stageDecayRuns(Value raw, Value t0, Value buffer) {
  int64_t runSteps = s.decayRunSteps(role);
  Value l = b.add(b.mul(warp, b.index(runSteps)), lane);
  Value delta = deltaOf(raw, t0, l);
  // Lanes past the run add only to lanes above them, and store nothing.
  Value acum = inclusiveSum(b.mul(delta, aLog2), runSteps);
  b.ifThen(b.cmpLT(lane, b.index(runSteps)), [&] {
    b.storeVectorF32({acum, delta}, sDecay, decayIndex(buffer, l),
                     /*aligned=*/true);
  });
  b.ifThen(b.cmpEQ(lane, b.index(runSteps - 1)),
           [&] { b.storeF32(acum, sRunTotals, runTotalIndex(buffer, warp)); });
}

/// Stages Acum and Δ of the chunk at `t0` from its raw dt: on the decay
/// warp, or with splitDecay on every warp.
void SSDKernelEmitter::stageChunkDecay(ArrayRef<Value> raw, Value t0,
                                       Value buffer) {
  if (s.splitDecay(role))
    return stageDecayRuns(raw.front(), t0, buffer);
  onDecayWarp([&] { stageDecay(raw, t0, buffer); });
}

/// The current chunk's decay per run of decayRunSteps: the chunk's end
/// Acum[Q-1] as the run's Acum sees it, i.e. less the runs before. The
/// first is the chunk's decay.
SmallVector<Value> SSDKernelEmitter::runEnds() {
  if (!s.splitDecay(role))
    return {acum(b.index(s.chunk - 1))};
  SmallVector<Value> totals = b.unpackF32(
      b.loadVector(sRunTotals, runTotalIndex(current.decay, b.index(0)),
                   s.warps, /*aligned=*/true));
  Value end = totals.front();
  for (Value total : ArrayRef<Value>(totals).drop_front())
    end = b.add(end, total);
  SmallVector<Value> ends = {end};
  for (Value total : ArrayRef<Value>(totals).drop_back())
    ends.push_back(b.sub(ends.back(), total));
  return ends;
}

/// Δ = softplus(dt + bias) of step `l` of the chunk at `t0`, 0 past L.
Value SSDKernelEmitter::deltaOf(Value raw, Value t0, Value l) {
  Value dt = b.unpackF32(raw).front();
  if (dtBias)
    dt = b.add(dt, dtBias);
  if (op.getDtSoftplus())
    dt = b.softplus(dt);
  return arith::SelectOp::create(b, b.cmpLT(b.add(t0, l), len), dt, b.f32(0.0));
}

/// The inclusive sum of `value` over this lane and the `lanes` - 1 below it
/// (fewer at the warp's bottom).
Value SSDKernelEmitter::inclusiveSum(Value value, int64_t lanes) {
  for (int64_t offset = 1; offset < lanes; offset *= 2) {
    auto shuffle = gpu::ShuffleOp::create(
        b, value, arith::ConstantIntOp::create(b, offset, 32),
        arith::ConstantIntOp::create(b, 32, 32), gpu::ShuffleMode::UP);
    Value add = arith::SelectOp::create(b, shuffle.getValid(),
                                        shuffle.getShuffleResult(), b.f32(0.0));
    value = b.add(value, add);
  }
  return value;
}

/// The decay warp: Δ = softplus(dt + bias) (0 past L) and the inclusive
/// cumulative sum of Δ·A·log2(e) over the chunk at `t0`, to the Acum and Δ
/// buffer starting at `buffer`.
void SSDKernelEmitter::stageDecay(ArrayRef<Value> raw, Value t0, Value buffer) {
  int64_t perLane = s.chunk / 32;
  SmallVector<Value> deltas, run;
  Value total = b.f32(0.0);
  for (int64_t k = 0; k < perLane; ++k) {
    Value l = b.add(b.mul(lane, b.index(perLane)), b.index(k));
    Value dt = deltaOf(raw[k], t0, l);
    deltas.push_back(dt);
    total = b.add(total, b.mul(dt, aLog2));
    run.push_back(total);
  }
  // Inclusive scan of the lane totals across the warp.
  Value exclusive = b.sub(inclusiveSum(total, 32), total);
  for (int64_t k = 0; k < perLane; ++k) {
    Value l = b.add(b.mul(lane, b.index(perLane)), b.index(k));
    b.storeVectorF32({b.add(exclusive, run[k]), deltas[k]}, sDecay,
                     decayIndex(buffer, l), /*aligned=*/true);
  }
}

/// G = C·Bᵀ masked to s <= l and scaled by exp2(Acum[l] - Acum[s])·Δ[s],
/// in 16x16 tiles on or below the diagonal (step 3 reads no others). The
/// tiles are dealt to the warps in turn and each warp's are emitted as
/// straight-line code, so that its independent accumulator chains overlap.
/// `alongside` (which yields `numResults` f32 values, returned) is emitted
/// first in the same straight line, so that its chains overlap the G tiles'
/// too; it must not read what G writes. The decay warp, which has the fewest
/// tiles, then runs `decayWarpWork`.
SmallVector<Value> SSDKernelEmitter::computeG(
    const ChunkRows &chunk, function_ref<void()> decayWarpWork,
    int64_t numResults, function_ref<SmallVector<Value>()> alongside) {
  SmallVector<SmallVector<std::pair<int64_t, int64_t>>> perWarp(s.warps);
  int64_t next = 0;
  for (int64_t i = 0; i < s.chunk / 16; ++i)
    for (int64_t j = 0; j <= i; ++j)
      perWarp[next++ % s.warps].push_back({i, j});
  SmallVector<int64_t> cases = llvm::to_vector(llvm::seq<int64_t>(s.warps));
  SmallVector<Type> types(numResults, b.getF32Type());
  auto dispatch =
      scf::IndexSwitchOp::create(b, types, warp, cases, cases.size());
  OpBuilder::InsertionGuard guard(b);
  for (auto [w, region] : llvm::enumerate(dispatch.getCaseRegions())) {
    b.setInsertionPointToStart(b.createBlock(&region));
    SmallVector<Value> results = alongside();
    computeGTile(perWarp[w], chunk);
    if (static_cast<int64_t>(w) == decayWarp())
      decayWarpWork();
    scf::YieldOp::create(b, results);
  }
  // Every thread's warp has a case.
  b.setInsertionPointToStart(b.createBlock(&dispatch.getDefaultRegion()));
  SmallVector<Value> none;
  if (numResults)
    none.assign(numResults, ub::PoisonOp::create(b, b.getF32Type()));
  scf::YieldOp::create(b, none);
  return SmallVector<Value>(dispatch.getResults());
}

/// Entry (row, col) of G = C·Bᵀ scaled by exp2(Acum[row] - Acum[col])·Δ[col]
/// (`acumRow`, `acumCol`, `deltaCol`); with `causal`, zero where col > row,
/// and `diagonal` (if any) added where col = row.
Value SSDKernelEmitter::maskG(Value g, Value row, Value col, Value acumRow,
                              Value acumCol, Value deltaCol, bool causal,
                              Value diagonal) {
  Value decay = b.exp2(b.sub(acumRow, acumCol));
  Value scaled = b.mul(g, b.mul(decay, deltaCol));
  if (!causal)
    return scaled;
  if (diagonal)
    scaled = b.add(scaled, arith::SelectOp::create(b, b.cmpEQ(col, row),
                                                   diagonal, b.f32(0.0)));
  return arith::SelectOp::create(
      b, arith::CmpIOp::create(b, arith::CmpIPredicate::ule, col, row), scaled,
      b.f32(0.0));
}

/// maskG of entries (row, cols[0]) and (row, cols[1]) = (row, cols[0] + 1),
/// `decay` the two columns' Acum, Δ (decayPairAt).
std::array<Value, 2> SSDKernelEmitter::maskGPair(
    std::array<Value, 2> g, Value row, ArrayRef<Value> cols, Value acumRow,
    const std::array<Value, 4> &decay, bool causal, Value diagonal) {
  std::array<Value, 2> vals;
  for (int64_t e = 0; e < 2; ++e)
    vals[e] = maskG(g[e], row, cols[e], acumRow, decay[2 * e], decay[2 * e + 1],
                    causal, diagonal);
  return vals;
}

/// One warp's G tiles (row tile, column tile) of `chunk`.
void SSDKernelEmitter::computeGTile(ArrayRef<std::pair<int64_t, int64_t>> tiles,
                                    const ChunkRows &chunk) {
  int64_t kSteps = s.states / 16;
  SmallVector<std::array<Fragment, 2>> acc(tiles.size(), {zeros(), zeros()});
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    Value k0 = b.index(kk * 16);
    std::map<int64_t, Fragment> cRows;
    for (auto [t, tile] : llvm::enumerate(tiles)) {
      auto [i, j] = tile;
      Fragment &cf = cRows[i];
      if (cf.empty())
        cf = loadMatrix(sC,
                        stagedAt(chunk.stage, b.add(b.index(i * 16), ldRow16)),
                        b.add(k0, ldHalf), false);
      // B rows j·16.. as B fragments: matrices 0/1 give columns j·16..+7 (k
      // halves), 2/3 columns j·16+8..+15.
      Fragment bf =
          loadMatrix(sB, stagedAt(chunk.stage, b.add(b.index(j * 16), ldRowHi)),
                     b.add(k0, ldColLo), false);
      acc[t][0] = mma(cf, {bf[0], bf[1]}, acc[t][0]);
      acc[t][1] = mma(cf, {bf[2], bf[3]}, acc[t][1]);
    }
  }
  for (auto [t, tile] : llvm::enumerate(tiles)) {
    auto [i, j] = tile;
    Value rows[2] = {b.add(b.index(i * 16), quad),
                     b.add(b.index(i * 16 + 8), quad)};
    Value acumRow[2] = {acumAt(chunk.decay, rows[0]),
                        acumAt(chunk.decay, rows[1])};
    for (int64_t nt = 0; nt < 2; ++nt) {
      Value col = b.add(b.index(j * 16 + nt * kTileCols), pairCol);
      Value cols[2] = {col, b.add(col, b.index(1))};
      std::array<Value, 4> decay = decayPairAt(chunk.decay, col);
      for (int64_t h = 0; h < 2; ++h) {
        // Only the diagonal tile has entries above the diagonal.
        std::array<Value, 2> vals =
            maskGPair({acc[t][nt][2 * h], acc[t][nt][2 * h + 1]}, rows[h], cols,
                      acumRow[h], decay, /*causal=*/i == j, skip);
        Value pair = vector::FromElementsOp::create(
            b, VectorType::get({2}, b.getF32Type()),
            ValueRange{vals[0], vals[1]});
        Value narrow =
            arith::TruncFOp::create(b, VectorType::get({2}, s.elem), pair);
        vector::StoreOp::create(b, narrow, sG,
                                ValueRange{b.add(chunk.g, rows[h]), col});
      }
    }
  }
}

/// Y = diag(exp2(Acum))·C·S_prevᵀ, the part of the outputs that needs no G.
SmallVector<OutputTiles>
SSDKernelEmitter::computeStateTerm(ArrayRef<Fragment> state) {
  assert(s.stateSplit == 1 && "the state term sums over every state");
  int64_t rowTiles = s.chunk / kTileRows, kSteps = s.states / 16;
  int64_t nTiles = s.states / kTileCols;
  SmallVector<OutputTiles> outputs;
  for (int64_t j = 0; j < s.blocksPerWarp(); ++j) {
    OutputTiles &y = outputs.emplace_back(
        rowTiles, std::array<Fragment, 2>{zeros(), zeros()});
    // The state term: S's C fragments (rows p, columns n) are B fragments of
    // C·Sᵀ (k = n, columns p) once packed.
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      ArrayRef<Value> lo = state[j * nTiles + 2 * kk];
      ArrayRef<Value> hi = state[j * nTiles + 2 * kk + 1];
      Value sFrag[2][2] = {{pack(lo[0], lo[1]), pack(hi[0], hi[1])},
                           {pack(lo[2], lo[3]), pack(hi[2], hi[3])}};
      for (int64_t i = 0; i < rowTiles; ++i) {
        Fragment cf =
            loadMatrix(sC, staged(b.add(b.index(i * kTileRows), ldRow16)),
                       b.add(b.index(kk * 16), ldHalf), false);
        for (int64_t ph = 0; ph < 2; ++ph)
          y[i][ph] = mma(cf, {sFrag[ph][0], sFrag[ph][1]}, y[i][ph]);
      }
    }
    for (int64_t i = 0; i < rowTiles; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        Value row = b.add(b.index(i * kTileRows + h * 8), quad);
        Value scale = b.exp2(acum(row));
        for (int64_t ph = 0; ph < 2; ++ph)
          for (int64_t e = 0; e < 2; ++e)
            y[i][ph][2 * h + e] = b.mul(y[i][ph][2 * h + e], scale);
      }
  }
  return outputs;
}

/// Y += G·x: the causal part, and D·x through G's diagonal (computeGTile);
/// then `beforeStores`, whose latency covers the z loads issued first, given
/// the x fragments that G·x read (per owned column block, per 16 steps);
/// then the gate, and the stores of the rows inside L.
void SSDKernelEmitter::finishOutputs(
    MutableArrayRef<OutputTiles> outputs, Value t0,
    function_ref<void(ArrayRef<Fragment>)> beforeStores) {
  int64_t rowTiles = s.chunk / kTileRows;
  SmallVector<Value> gate = loadGate(t0);
  SmallVector<Fragment> xTiles;
  // Per output pair of this lane: its row, column and values.
  SmallVector<OutputPair> pairs;
  for (auto [j, y] : llvm::enumerate(outputs)) {
    Value pcol = blockColumn(j);
    auto columnOf = [&](int64_t ph) {
      return b.add(pcol, b.add(b.index(ph * kTileCols), pairCol));
    };
    // x rows kk·16.. (k) transposed: matrices 0/1 give columns pcol..+7,
    // 2/3 columns pcol+8..+15.
    for (int64_t kk = 0; kk < rowTiles; ++kk)
      xTiles.push_back(loadMatrix(sX, staged(b.add(b.index(kk * 16), ldRowLo)),
                                  b.add(pcol, ldColHi), true));
    // The causal term, over the column tiles up to the diagonal.
    for (int64_t i = 0; i < rowTiles; ++i)
      for (int64_t kk = 0; kk <= i; ++kk) {
        Fragment gf = loadMatrix(
            sG, b.add(current.g, b.add(b.index(i * kTileRows), ldRow16)),
            b.add(b.index(kk * 16), ldHalf), false);
        const Fragment &xf = xTiles[j * rowTiles + kk];
        y[i][0] = mma(gf, {xf[0], xf[1]}, y[i][0]);
        y[i][1] = mma(gf, {xf[2], xf[3]}, y[i][1]);
      }
    for (int64_t i = 0; i < rowTiles; ++i)
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t ph = 0; ph < 2; ++ph) {
          pairs.push_back({b.add(b.index(i * kTileRows + h * 8), quad),
                           columnOf(ph),
                           {y[i][ph][2 * h], y[i][ph][2 * h + 1]}});
        }
  }
  beforeStores(xTiles);
  // Each lane stores four consecutive columns of a row in one 8-byte access
  // (runColumn): pairs k and k + 1 of `pairs` are a row's two 8-column
  // halves, of which lanes 2k and 2k + 1 swap one. With a gate the swap is
  // of the f32 pairs, so that the z runs load as the outputs store; without,
  // of one packed pair.
  Value odd = isOddLane();
  auto pick = [&](Value ifOdd, Value ifEven) {
    return arith::SelectOp::create(b, odd, ifOdd, ifEven).getResult();
  };
  SmallVector<OutputPair> runs;
  for (size_t k = 0; k < pairs.size(); k += 2) {
    const OutputPair &lo = pairs[k], &hi = pairs[k + 1];
    Value col = pick(b.sub(hi.col, b.index(2)), lo.col);
    if (gate.empty()) {
      Value own[2] = {pack(lo.values[0], lo.values[1]),
                      pack(hi.values[0], hi.values[1])};
      Value other = b.shuffleXor(pick(own[0], own[1]), 1);
      runs.push_back({lo.row, col, {pick(other, own[0]), pick(own[1], other)}});
      continue;
    }
    SmallVector<Value> run(4);
    for (int64_t e = 0; e < 2; ++e) {
      Value other = b.shuffleXor(pick(lo.values[e], hi.values[e]), 1);
      run[e] = pick(other, lo.values[e]);
      run[2 + e] = pick(hi.values[e], other);
    }
    SmallVector<Value> z = b.unpackF32(gate[k / 2]);
    for (int64_t e = 0; e < 4; ++e)
      run[e] = b.mul(run[e], b.silu(z[e]));
    runs.push_back({lo.row, col, run});
  }
  storeOutputs(runs, t0);
}

std::array<Value, 4> SSDKernelEmitter::decayPairAt(Value decay, Value step) {
  SmallVector<Value> v = b.unpackF32(
      b.loadVector(sDecay, decayIndex(decay, step), 4, /*aligned=*/true));
  return {v[0], v[1], v[2], v[3]};
}

/// w[s] = exp2(end - Acum[s])·Δ[s] of step `step` of the chunk whose Acum,
/// Δ buffer starts at `decay`: the weight of a step's input in the state at
/// the chunk's end, `end` = Acum[Q-1].
Value SSDKernelEmitter::stepWeight(Value decay, Value step, Value end) {
  SmallVector<Value> d = b.unpackF32(
      b.loadVector(sDecay, decayIndex(decay, step), 2, /*aligned=*/true));
  return weightOf(end, d[0], d[1]);
}

/// The weights of steps `step` (even) and `step` + 1, from one load.
std::array<Value, 2> SSDKernelEmitter::stepWeights(Value decay, Value step,
                                                   Value end) {
  std::array<Value, 4> d = decayPairAt(decay, step);
  return {weightOf(end, d[0], d[1]), weightOf(end, d[2], d[3])};
}

Value SSDKernelEmitter::weightOf(Value end, Value acum, Value delta) {
  return b.mul(b.exp2(b.sub(end, acum)), delta);
}

/// S = exp2(end)·S + (w∘x)ᵀ·B with w[s] = exp2(end - Acum[s])·Δ[s], where
/// end = Acum[Q-1], over this warp's states; `ends` holds end per run of
/// Acum (runEnds), the first the chunk's. `xTiles`, if given, are
/// finishOutputs' x fragments of the chunk: the xᵀ operands are those
/// registers in another order, which saves their ldmatrix (4 % of a 32-step
/// chunk's workgroup-memory reads).
SmallVector<Fragment> SSDKernelEmitter::updateState(ArrayRef<Fragment> state,
                                                    ArrayRef<Value> ends,
                                                    ArrayRef<Fragment> xTiles) {
  int64_t kSteps = s.chunk / 16, nSteps = s.warpStates() / 16;
  int64_t nTiles = s.warpStates() / kTileCols, blocks = s.blocksPerWarp();
  int64_t runSteps = s.chunk / static_cast<int64_t>(ends.size());
  Value decay = b.exp2(ends.front()), n0 = stateBase();
  SmallVector<Fragment> next;
  for (const Fragment &tile : state) {
    Fragment scaled;
    for (Value v : tile)
      scaled.push_back(b.mul(v, decay));
    next.push_back(scaled);
  }
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    // Runs are of 16 steps or more: this tile's lie in one.
    Value end = ends[kk * 16 / runSteps];
    // The weights of this lane's steps: k = 2·(lane % 4) + {0, 1} (+8).
    Value w[4];
    for (int64_t h = 0; h < 2; ++h) {
      Value step = b.add(b.index(kk * 16 + h * 8), pairCol);
      std::array<Value, 2> pair = stepWeights(current.decay, step, end);
      w[2 * h] = pair[0];
      w[2 * h + 1] = pair[1];
    }
    SmallVector<Fragment> a(blocks);
    for (int64_t j = 0; j < blocks; ++j) {
      // xᵀ rows pcol.. (m), steps kk·16.. (k): matrices 0/1 are the two
      // row halves at k 0..7, 2/3 the same at k 8..15.
      Fragment xf;
      if (xTiles.empty()) {
        xf = loadMatrix(sX, staged(b.add(b.index(kk * 16), ldRowHi)),
                        b.add(blockColumn(j), ldColLo), true);
      } else {
        // G·x's B fragments hold matrices (steps, columns) 0/1 = (lo, lo),
        // (hi, lo); 2/3 = (lo, hi), (hi, hi).
        const Fragment &t = xTiles[j * kSteps + kk];
        xf = {t[0], t[2], t[1], t[3]};
      }
      for (int64_t r = 0; r < 4; ++r) {
        auto [lo, hi] = unpack(xf[r]);
        int64_t k = (r / 2) * 2; // registers 2 and 3 hold k + 8
        a[j].push_back(pack(b.mul(lo, w[k]), b.mul(hi, w[k + 1])));
      }
    }
    for (int64_t nn = 0; nn < nSteps; ++nn) {
      Fragment bf =
          loadMatrix(sB, staged(b.add(b.index(kk * 16), ldRowLo)),
                     b.add(n0, b.add(b.index(nn * 16), ldColHi)), true);
      for (int64_t j = 0; j < blocks; ++j) {
        Fragment &lo = next[j * nTiles + 2 * nn];
        Fragment &hi = next[j * nTiles + 2 * nn + 1];
        lo = mma(a[j], {bf[0], bf[1]}, lo);
        hi = mma(a[j], {bf[2], bf[3]}, hi);
      }
    }
  }
  return next;
}
