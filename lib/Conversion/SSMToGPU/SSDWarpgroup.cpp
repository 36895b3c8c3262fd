//===- SSDWarpgroup.cpp - The SSD kernel on warpgroup MMA -----------------===//
//
// The phases of the SSD kernel's warpgroup variant (#ssm.tile warpgroup,
// sm_90a): operands in workgroup memory as 8x8 core matrices, read by
// wgmma through shared-memory descriptors.
//
//===----------------------------------------------------------------------===//

#include "SSDKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::ssm::ssd;

// A chunk of Q = 32 steps on one warpgroup, with the state S [P = 64, N] in
// the m64nN accumulator (warp w holds rows 16w.., each n8 slice in the
// mma.sync C layout: the state's register layout is the other kernel's).
// The outputs are computed transposed, Yᵀ [P, Q], so that P is the M = 64
// of every product:
//   G   = C·Bᵀ        (wgmma; rows past Q are read and dropped)
//   Yᵀ  = S·Cᵀ        (mma.sync from the state registers, the previous
//                      chunk's S packed as A fragments), scaled per step l
//                      by exp2(Acum[l]); Yᵀ += xᵀ·Gᵀ (wgmma)
//   S   = exp2(end)·S + (w∘x)ᵀ·B  (wgmma, in place)
// x, B and C are staged as copied (t-major, so MN-major where t is the
// reduction); G and w∘x are written to fit. The pipeline runs a chunk
// ahead: while chunk c is finished, chunk c + 1's G and w∘x are computed
// and chunk c + 2 is copied (three stages), so the state update starts
// right after the one barrier a chunk, and Yᵀ's products overlap it.

/// Index of (row, col) in a tile of `width` columns stored as 8x8 core
/// matrices, column cores adjacent (16-byte rows, 128 bytes a core).
Value SSDKernelEmitter::coreIndex(Value row, Value col, int64_t width) {
  Value core = b.add(b.mul(b.div(row, b.index(8)), b.index(width / 8)),
                     b.div(col, b.index(8)));
  return b.add(
      b.mul(core, b.index(64)),
      b.add(b.mul(b.rem(row, b.index(8)), b.index(8)), b.rem(col, b.index(8))));
}

/// The row of 16-byte vector `v` of such a tile, filled in memory order
/// (eight consecutive vectors are one core, the rows of a core's column).
Value SSDKernelEmitter::coreRow(Value v, int64_t width) {
  Value core = b.div(v, b.index(8));
  return b.add(b.mul(b.div(core, b.index(width / kVector)), b.index(8)),
               b.rem(v, b.index(8)));
}

/// A shared-memory matrix descriptor without swizzle: `leading` bytes
/// between core matrices along K, `stride` bytes along M or N.
Value SSDKernelEmitter::descriptor(Value byteAddress, int64_t leading,
                                   int64_t stride) {
  Type i64 = b.getI64Type();
  Value address = arith::IndexCastUIOp::create(b, i64, byteAddress);
  Value start = arith::ShRUIOp::create(
      b,
      arith::AndIOp::create(b, address,
                            arith::ConstantIntOp::create(b, i64, 0x3FFFF)),
      arith::ConstantIntOp::create(b, i64, 4));
  int64_t fields = ((leading >> 4) << 16) | ((stride >> 4) << 32);
  return arith::OrIOp::create(b, start,
                              arith::ConstantIntOp::create(b, i64, fields));
}

/// One wgmma m64n`n`k16 with f32 accumulators; an MN-major operand is read
/// transposed.
Value SSDKernelEmitter::wgmma(Value acc, Value descA, Value descB, int64_t n,
                              bool aMNMajor, bool bMNMajor, bool accumulate) {
  auto type = isa<BFloat16Type>(s.elem) ? NVVM::WGMMATypes::bf16
                                        : NVVM::WGMMATypes::f16;
  return NVVM::WgmmaMmaAsyncOp::create(
      b, acc.getType(), acc, descA, descB,
      NVVM::MMAShapeAttr::get(b.getContext(), 64, n, 16), type, type,
      NVVM::WGMMATypes::f32,
      accumulate ? NVVM::WGMMAScaleOut::one : NVVM::WGMMAScaleOut::zero,
      NVVM::WGMMAScaleIn::one, NVVM::WGMMAScaleIn::one,
      aMNMajor ? NVVM::MMALayout::col : NVVM::MMALayout::row,
      bMNMajor ? NVVM::MMALayout::row : NVVM::MMALayout::col,
      /*satfinite=*/nullptr);
}

Value SSDKernelEmitter::toStruct(ArrayRef<Value> values) {
  auto type = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(values.size(), b.getF32Type()));
  Value packed = LLVM::PoisonOp::create(b, type);
  for (auto [i, v] : llvm::enumerate(values))
    packed = LLVM::InsertValueOp::create(b, packed, v, i);
  return packed;
}

SmallVector<Value> SSDKernelEmitter::fromStruct(Value packed) {
  auto type = cast<LLVM::LLVMStructType>(packed.getType());
  SmallVector<Value> values;
  for (int64_t i = 0, e = type.getBody().size(); i < e; ++i)
    values.push_back(LLVM::ExtractValueOp::create(b, packed, i));
  return values;
}

/// Starts the copies of the chunk at `t0` into stage `stage` of x, B and C
/// in core-matrix order: thread v's 16 bytes land at v·16, eight threads
/// filling one core, so a warp writes 512 contiguous bytes and reads 64 of
/// each of eight rows.
void SSDKernelEmitter::stageChunkCores(Value t0, Value stage) {
  auto copy = [&](Value mem, Value smem, int64_t width,
                  function_ref<Value(Value, Value)> index) {
    int64_t total = s.chunk * width / kVector, cores = width / kVector;
    for (int64_t j = 0; j * s.threads() < total; ++j) {
      Value v = b.add(tid, b.index(j * s.threads()));
      Value row = coreRow(v, width);
      Value col =
          b.mul(b.rem(b.div(v, b.index(8)), b.index(cores)), b.index(kVector));
      copyStep(mem, b.add(t0, row), col, index, smem, [&] {
        return SmallVector<Value>{b.add(b.mul(stage, b.index(s.chunk * width)),
                                        b.mul(v, b.index(kVector)))};
      });
    }
  };
  copy(xMem, sX, s.columns, [&](Value t, Value c) { return actIndex(t, c); });
  copy(bMem, sB, s.states, [&](Value t, Value c) { return bcIndex(t, c); });
  copy(cMem, sC, s.states, [&](Value t, Value c) { return bcIndex(t, c); });
}

/// w∘x of `chunk` with w[s] = exp2(end - Acum[s])·Δ[s], end = Acum[Q-1],
/// in x's layout into w∘x buffer `buffer`: each thread scales whole 16-byte
/// rows.
void SSDKernelEmitter::scaleInputs(const ChunkRows &chunk, Value buffer) {
  int64_t total = s.chunk * s.columns / kVector;
  Value end = acumAt(chunk.decay, b.index(s.chunk - 1));
  for (int64_t j = 0; j * s.threads() < total; ++j) {
    Value v = b.add(tid, b.index(j * s.threads()));
    Value row = coreRow(v, s.columns);
    Value w = stepWeight(chunk.decay, row, end);
    Value at = b.mul(v, b.index(kVector));
    SmallVector<Value> x = b.unpackF32(b.loadVector(
        sX, b.add(b.mul(chunk.stage, b.index(s.chunk * s.columns)), at),
        kVector, true));
    for (Value &e : x)
      e = b.mul(e, w);
    b.storeVectorF32(
        x, sXW, b.add(b.mul(buffer, b.index(s.chunk * s.columns)), at), true);
  }
}

/// G of `chunk` on the warps that hold chunk rows: masked to s <= l, scaled
/// by exp2(Acum[l] - Acum[s])·Δ[s] and stored 16-bit, K-major for Gᵀ, at
/// the chunk's G buffer.
void SSDKernelEmitter::finishGWarpgroup(ArrayRef<Value> g,
                                        const ChunkRows &chunk) {
  b.ifThen(b.cmpLT(warp, b.index(s.chunk / 16)), [&] {
    Value rows[2] = {b.add(b.mul(warp, b.index(16)), quad),
                     b.add(b.mul(warp, b.index(16)), b.add(quad, b.index(8)))};
    Value acumRow[2] = {acumAt(chunk.decay, rows[0]),
                        acumAt(chunk.decay, rows[1])};
    Value base = b.mul(chunk.g, b.index(s.chunk * s.chunk));
    for (int64_t nt = 0; nt < s.chunk / kTileCols; ++nt) {
      Value col = b.add(b.index(nt * kTileCols), pairCol);
      Value cols[2] = {col, b.add(col, b.index(1))};
      std::array<Value, 4> decay = decayPairAt(chunk.decay, col);
      for (int64_t h = 0; h < 2; ++h) {
        std::array<Value, 2> vals =
            maskGPair({g[nt * 4 + h * 2], g[nt * 4 + h * 2 + 1]}, rows[h], cols,
                      acumRow[h], decay, /*causal=*/true);
        storeRun(vals, sG, b.add(base, coreIndex(rows[h], col, s.chunk)));
      }
    }
  });
}

/// Yᵀ = S·Cᵀ of the current chunk on mma.sync: `a` is the previous state
/// packed as A fragments (its C layout is the A layout, two n8 slices a
/// k step), C's core matrices give the B fragments through ldmatrix; the
/// result has the layout of the m64nQ wgmma accumulator.
SmallVector<Value>
SSDKernelEmitter::computeStateTermWarpgroup(ArrayRef<Value> a) {
  int64_t lTiles = s.chunk / kTileCols, nCores = s.states / kVector;
  SmallVector<Fragment> y(lTiles, zeros());
  Value stage = b.mul(current.stage, b.index(s.chunk * s.states));
  Value m = b.div(lane, b.index(8));
  for (int64_t kk = 0; kk < s.states / 16; ++kk)
    for (int64_t j = 0; j < lTiles; j += 2) {
      // Matrices (l core j + m/2, n core 2kk + m%2): b0, b1 of l tiles j
      // and j + 1.
      Value core =
          b.add(b.mul(b.add(b.index(j), b.div(m, b.index(2))), b.index(nCores)),
                b.add(b.index(2 * kk), b.rem(m, b.index(2))));
      Value at =
          b.add(stage, b.add(b.mul(core, b.index(64)),
                             b.mul(b.rem(lane, b.index(8)), b.index(kVector))));
      Fragment regs = loadMatrix(sC, ValueRange{at}, /*transpose=*/false);
      ArrayRef<Value> frag = a.slice(kk * 4, 4);
      y[j] = mma(frag, {regs[0], regs[1]}, y[j]);
      y[j + 1] = mma(frag, {regs[2], regs[3]}, y[j + 1]);
    }
  SmallVector<Value> flat;
  for (const Fragment &tile : y)
    llvm::append_range(flat, tile);
  return flat;
}

/// Where this lane's output pair (j, h) of Yᵀ goes once lanes whose rows p
/// differ in the low bit have swapped a value: its step (row of the chunk)
/// in l tile j and its first head-dim column, in half h of the warp's 16.
std::pair<Value, Value> SSDKernelEmitter::outputPairAt(int64_t j, int64_t h) {
  Value odd = b.rem(quad, b.index(2));
  Value row = b.add(b.add(b.index(j * kTileCols), pairCol), odd);
  Value col =
      b.add(b.mul(warp, b.index(16)), b.add(b.index(h * 8), b.sub(quad, odd)));
  return {row, col};
}

/// D·x, the gate and the stores of Yᵀ: lanes whose rows p differ in the
/// low bit swap one value of each pair, so that every lane holds two
/// consecutive columns p of one step (y is [.., t, h, p]).
void SSDKernelEmitter::finishOutputsWarpgroup(ArrayRef<Value> y, Value t0,
                                              ArrayRef<Value> gate) {
  Value odd = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                    b.rem(quad, b.index(2)), b.index(0));
  Value stage = b.mul(current.stage, b.index(s.chunk * s.columns));
  SmallVector<OutputPair> pairs;
  for (int64_t j = 0; j < s.chunk / kTileCols; ++j)
    for (int64_t h = 0; h < 2; ++h) {
      Value v0 = y[j * 4 + h * 2], v1 = y[j * 4 + h * 2 + 1];
      Value other = b.shuffleXor(arith::SelectOp::create(b, odd, v0, v1), 4);
      auto [row, col] = outputPairAt(j, h);
      SmallVector<Value> v = {arith::SelectOp::create(b, odd, other, v0),
                              arith::SelectOp::create(b, odd, v1, other)};
      if (skip) {
        SmallVector<Value> x = b.unpackF32(vector::LoadOp::create(
            b, VectorType::get({2}, s.elem), sX,
            ValueRange{b.add(stage, coreIndex(row, col, s.columns))}));
        for (int64_t e = 0; e < 2; ++e)
          v[e] = b.fma(skip, x[e], v[e]);
      }
      if (!gate.empty()) {
        SmallVector<Value> z = b.unpackF32(gate[j * 2 + h]);
        for (int64_t e = 0; e < 2; ++e)
          v[e] = b.mul(v[e], b.silu(z[e]));
      }
      pairs.push_back({row, col, v});
    }
  storeOutputs(pairs, t0);
}

/// This lane's z pairs of the chunk at `t0`, in finishOutputsWarpgroup's
/// order (rows past L read the last row).
SmallVector<Value> SSDKernelEmitter::loadGateWarpgroup(Value t0) {
  SmallVector<Value> gate;
  if (!zMem)
    return gate;
  for (int64_t j = 0; j < s.chunk / kTileCols; ++j)
    for (int64_t h = 0; h < 2; ++h) {
      auto [row, col] = outputPairAt(j, h);
      Value clamped =
          arith::MinUIOp::create(b, b.add(t0, row), b.sub(len, b.index(1)));
      gate.push_back(b.loadVector(zMem, actIndex(clamped, col), 2, false));
    }
  return gate;
}

std::pair<SmallVector<Value>, Value>
SSDKernelEmitter::scanChunksWarpgroup(SmallVector<Value> init,
                                      const PipelineStart &start) {
  int64_t q = s.chunk, n = s.states, p = s.columns;
  Value numChunks =
      arith::CeilDivUIOp::create(b, b.sub(hi, lo), b.index(q)).getResult();
  // Chunk c's x, B, C stage and Acum, Δ buffer (three each), G and w∘x
  // buffer (two each).
  auto rowsOf = [&](Value chunk) {
    return ChunkRows{ringPosition(chunk, 3), chunkBuffer(chunk, 3),
                     ringPosition(chunk, 2)};
  };
  auto fence = [&] {
    NVVM::FenceProxyOp::create(
        b, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(b.getContext(),
                                   NVVM::SharedSpace::shared_cta));
  };
  auto address = [&](int64_t offset, Value index, int64_t bytes,
                     int64_t extra) {
    return b.add(b.add(sharedBase, b.index(offset + extra)),
                 b.mul(index, b.index(bytes)));
  };
  int64_t stageBC = q * n * 2, stageX = q * p * 2;
  // G = C·Bᵀ of `chunk`: K-major over N, 256 bytes a 16-state k slice, N·16
  // bytes a row of cores.
  auto issueG = [&](const ChunkRows &chunk) {
    Value g = toStruct(SmallVector<Value>(q / 2, b.f32(0.0)));
    for (int64_t kk = 0; kk < n / 16; ++kk)
      g = wgmma(g,
                descriptor(address(offC, chunk.stage, stageBC, kk * 256), 128,
                           n * 16),
                descriptor(address(offB, chunk.stage, stageBC, kk * 256), 128,
                           n * 16),
                q, false, false, kk > 0);
    NVVM::WgmmaGroupSyncAlignedOp::create(b);
    return g;
  };

  // Prologue: chunks 0 and 1 (staged by `start`) with their Acum and Δ;
  // chunk 0's G and w∘x.
  onDecayWarp([&] {
    for (int64_t k = 0; k < 2; ++k)
      stageDecay(start.dt[k], chunkStart(b.index(k)), b.index(k * q));
  });
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  fence();
  gpu::BarrierOp::create(b);
  ChunkRows first = rowsOf(b.index(0));
  NVVM::WgmmaFenceAlignedOp::create(b);
  Value g0 = issueG(first);
  scaleInputs(first, first.g);
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
  finishGWarpgroup(fromStruct(g0), first);
  fence();
  gpu::BarrierOp::create(b);

  int64_t numState = init.size();
  init.push_back(b.f32(0.0)); // the decay sum
  llvm::append_range(init, start.dt[2]);
  auto loop = scf::ForOp::create(b, b.index(0), numChunks, b.index(1), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value c = loop.getInductionVar();
  Value t0 = chunkStart(c);
  ValueRange carried = loop.getRegionIterArgs();
  SmallVector<Value> state(carried.take_front(numState));
  current = rowsOf(c);
  ChunkRows next = rowsOf(b.add(c, b.index(1)));

  // Chunk c + 2's copies, to the stage chunk c - 1 used.
  Value ahead = b.add(c, b.index(2));
  stageChunkCores(chunkStart(ahead), rowsOf(ahead).stage);
  NVVM::CpAsyncCommitGroupOp::create(b);
  SmallVector<Value> dtLater = loadDt(chunkStart(b.add(c, b.index(3))));
  SmallVector<Value> gate = loadGateWarpgroup(t0);

  // The previous state as A fragments of S·Cᵀ, then the update in place:
  // S = exp2(end)·S + (w∘x)ᵀ·B.
  // Per n8 slice its rows quad and quad + 8: slices 2kk and 2kk + 1 are
  // the A fragment of k step kk.
  SmallVector<Value> frags;
  for (int64_t nt = 0; nt < n / kTileCols; ++nt)
    for (int64_t h = 0; h < 2; ++h)
      frags.push_back(pack(state[nt * 4 + h * 2], state[nt * 4 + h * 2 + 1]));
  Value end = acum(b.index(q - 1));
  Value decay = b.exp2(end);
  for (Value &v : state)
    v = b.mul(v, decay);
  NVVM::WgmmaFenceAlignedOp::create(b);
  Value sAcc = toStruct(state);
  for (int64_t kk = 0; kk < q / 16; ++kk)
    sAcc =
        wgmma(sAcc,
              descriptor(address(offXW, current.g, stageX, kk * 2 * p * 16),
                         p * 16, 128),
              descriptor(address(offB, current.stage, stageBC, kk * 2 * n * 16),
                         n * 16, 128),
              n, true, true, true);
  NVVM::WgmmaGroupSyncAlignedOp::create(b);

  // Yᵀ = exp2(Acum[l])·S·Cᵀ on mma.sync while those run, then the next
  // chunk's w∘x and the decay warp's Acum and Δ of chunk c + 2.
  SmallVector<Value> y = computeStateTermWarpgroup(frags);
  for (int64_t j = 0; j < q / kTileCols; ++j)
    for (int64_t e = 0; e < 2; ++e) {
      Value scale = b.exp2(acum(b.add(b.index(j * kTileCols + e), pairCol)));
      for (int64_t h = 0; h < 2; ++h)
        y[j * 4 + h * 2 + e] = b.mul(y[j * 4 + h * 2 + e], scale);
    }
  scaleInputs(next, next.g);
  onDecayWarp([&] {
    stageDecay(SmallVector<Value>(carried.take_back(q / 32)), chunkStart(ahead),
               rowsOf(ahead).decay);
  });
  // Yᵀ += xᵀ·Gᵀ: x read transposed (MN-major over the steps, two rows of
  // cores a k slice).
  NVVM::WgmmaFenceAlignedOp::create(b);
  Value yAcc = toStruct(y);
  for (int64_t kk = 0; kk < q / 16; ++kk)
    yAcc = wgmma(
        yAcc,
        descriptor(address(offX, current.stage, stageX, kk * 2 * p * 16),
                   p * 16, 128),
        descriptor(address(offG, current.g, q * q * 2, kk * 256), 128, q * 16),
        q, true, false, true);
  NVVM::WgmmaGroupSyncAlignedOp::create(b);
  Value gNext = issueG(next);

  // The state, the outputs, and the next chunk's G.
  NVVM::WgmmaWaitGroupSyncOp::create(b, 2);
  state = fromStruct(sAcc);
  NVVM::WgmmaWaitGroupSyncOp::create(b, 1);
  finishOutputsWarpgroup(fromStruct(yAcc), t0, gate);
  NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
  finishGWarpgroup(fromStruct(gNext), next);
  // Chunk c + 2's copies land, and with them the next G and w∘x, for the
  // tensor cores' proxy.
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  fence();
  gpu::BarrierOp::create(b);

  SmallVector<Value> yielded(state);
  yielded.push_back(b.add(carried[numState], end));
  llvm::append_range(yielded, dtLater);
  scf::YieldOp::create(b, yielded);
  ValueRange results = loop.getResults();
  return {SmallVector<Value>(results.take_front(numState)), results[numState]};
}
