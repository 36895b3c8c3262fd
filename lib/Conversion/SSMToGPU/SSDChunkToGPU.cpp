//===- SSDChunkToGPU.cpp - ssm.ssd_chunk to a tensor-core kernel ----------===//
//
// Builds the Mamba-2 SSD kernel from an ssm.ssd_chunk and its #ssm.tile. A
// unit of work is one (batch, head), `items` columns of the head dim and (see
// below) one L segment, which a block walks chunk by chunk (Q = the tile's
// steps) with the [P, N] state in fp32 mma accumulators: the per-chunk states
// of the Triton design never leave the chip, so the whole scan is one launch
// that reads every input once.
//
// The scan's blocks are persistent: libssmrt launches as many as saturate
// the SMs (two each, ssm.worker_count), and block k of W takes chunks
// [k·T/W, (k+1)·T/W) of the T of all units in order, so that every SM gets
// the same work where units alone (T1's 320 on 132 SMs) would leave some
// SMs a third block and others none. Where a share ends inside a unit, the
// block hands its state to the next one through global memory and a flag;
// it walks that unit first, and the next block the unit's rest last, so the
// state is ready long before it is needed (bench/README.md, session 21: T1
// 0.356 -> 0.311 ms).
//
// Per chunk, the block stages x, B and C in workgroup memory (zero rows past
// L, which with Δ = 0 leave the result unchanged), one chunk ahead; the last
// warp turns the next chunk's dt into Δ and the cumulative log2 decay Acum
// while it has the fewest G tiles. Then, on tensor cores (mma.sync m16n8k16,
// 16-bit operands, fp32 accumulation):
//   1. G = C·Bᵀ, one 16-row tile per warp, masked causally and scaled by
//      exp2(Acum[l] - Acum[s])·Δ[s], plus D on the diagonal (the skip term
//      D·x then comes with step 3's product), stored as 16-bit for step 3;
//   2. Y = diag(exp2(Acum))·C·S_prevᵀ with S taken straight from the
//      accumulator registers (its C-fragment layout is the B-fragment layout
//      of this product);
//   3. Y += G·x, then the silu(z) gate, stored;
//   4. S = exp2(Acum[Q-1])·S + (w∘x)ᵀ·B, w[s] = exp2(Acum[Q-1]-Acum[s])·Δ[s]
//      (for 32-step chunks, xᵀ is step 3's x fragments in another order).
// Warps split the head-dim columns for steps 2-4 (each owns 16-column
// blocks: its rows of S and its columns of Y) and the chunk rows for step 1.
// Step 2 runs before the barrier that publishes G, so that it fills the
// time warps with fewer G tiles would wait there: two barriers a chunk, and
// a third at its end where x, B and C have only two buffers (the next
// chunk's copies then overwrite the stage just read). With three stages
// the pipeline runs two chunks ahead and step 1 is done for the next
// chunk, into a second G buffer: the barrier at the top of each chunk is
// then the only one; on an H200 two stages in three buffers run faster. The
// kernel is bound by latency (a warp waits on its own mma, ldmatrix and ex2
// chains), so chunks of 32 steps interleave further: each warp's step 2 shares
// a straight line with its G tiles, step 4 comes before step 3's stores, and
// ptxas is held to the registers of two resident scan blocks an SM (three carry
// blocks). Operands reach the tensor cores through ldmatrix from rows padded by
// 16 bytes, which keeps the eight row addresses of each 8x8 matrix on distinct
// banks.
//
// Units also split L into segments of whole chunks, for shapes whose batch
// x heads cannot fill the GPU: a carry kernel runs step 4 alone over each
// segment but the last from a zero state and records the segment's end
// state and its decay sum Σ Δ·A; the scan kernel then starts each segment
// from S = 2^(Σ Δ·A·log2e)·S + S_end, segment by segment, as the
// selective-scan lowering does. The segment length is the tile's `chunk`,
// or, without one, a kernel parameter that libssmrt picks at each launch
// (ssm.split_length): the whole sequence where batch x heads fill the
// persistent scan's blocks (the carry kernel's grid is then empty), else
// the fewest segments that do.
//
// Where every target is sm_90 or newer (`tensor-copies`) and the kernel does
// not gate its output, the scan stages B and C by TMA: per chunk thread 0
// issues one tensor copy of each (a box of the chunk's rows) on the stage's
// mbarrier, which every thread waits on before the chunk's barrier; libssmrt
// encodes the two tensor maps into a workspace at each launch. x keeps its
// per-thread cp.async. On an H200 T1 went from 0.263 to 0.247 ms, T3 from 0.730
// to 0.697 (bench/README.md, session 28).
//
// A tile with `warpgroup` (sm_90a) runs the scan's chunks on warpgroup MMA
// instead (SSDWarpgroup.cpp); the setup, the state and the carry kernel
// are this file's.
//
//===----------------------------------------------------------------------===//

#include "SSDKernel.h"
#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>
#include <map>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::ssd;

/// Resident blocks an SM that the carry kernel's register budget is for
/// (170 registers a thread), where its chunks are of up to 64 steps.
static constexpr int64_t kBlocksPerSM = 3;
/// Blocks of the scan kernel that keep an SM busy: on an H200 an SM ran T1
/// (B 4, H 80, L 4096) at 0.90 chunks/µs with one block, 1.06 with two and
/// 1.08 with three (bench/README.md, session 21), so the persistent scan
/// launches two an SM, which its shares balance exactly, and ptxas may give
/// it their registers: held to three blocks' 170, it ran T1 in 0.343 ms
/// against 0.311, and 200 registers 0.312.
static constexpr int64_t kSaturatingBlocksPerSM = 2;
/// The most workgroup memory a block may use on sm_80 and sm_90, and an
/// sm_90 SM's (with 1 KB of it reserved a block; sm_80 has 164 KB).
static constexpr int64_t kMaxSharedBytes = 227 * 1024;
static constexpr int64_t kSharedBytesPerSM = 228 * 1024;
/// The workgroup memory a scan block takes at least, which holds an SM to
/// kSaturatingBlocksPerSM of them (as it does kBlocksPerSM carry blocks).
static constexpr int64_t kScanSharedBytes =
    kSharedBytesPerSM / (kSaturatingBlocksPerSM + 1);

/// The shortest L segment libssmrt may pick. A segment's block carries in
/// the [P, N] f32 state of every segment before it (32 KB a block at P 64,
/// N 128), about what 50 steps of x, dt, B and C weigh: at 320-step
/// segments (B 1, H 80, L 4096 split 13 ways) the carry-ins outweighed the
/// scan, and 4 segments of 1024 ran 1.47x faster on an H200 (0.134 ms
/// against 0.197, bench/README.md).
static constexpr int64_t kSSDMinSegmentSteps = 1024;

/// The x, B and C stage buffers of a kernel of `role`: with two stages, three
/// where they fit in kScanSharedBytes (then they cost no occupancy), so
/// that no barrier ends a chunk: the next chunk's copies, issued at the top
/// of each, land on the stage of the chunk before last, which every warp
/// has left, rather than on the last one, which a slower warp may still
/// read. On an H200: T1 0.269 -> 0.266 ms, T1 + final state 0.274 -> 0.265,
/// T3 0.763 -> 0.734, B2 L8192 0.395 -> 0.380 (bench/README.md, session 26).
static int64_t chooseBuffers(SSDShape shape, SSDRole role) {
  if (shape.stages != 2 || shape.warpgroup)
    return shape.stages;
  shape.buffers = 3;
  return shape.sharedBytes(role) <= kScanSharedBytes ? 3 : 2;
}

/// Output tiles as the flat list of f32 values a region yields, and back.
static SmallVector<Value> flattenOutputs(ArrayRef<OutputTiles> outputs) {
  SmallVector<Value> values;
  for (const OutputTiles &y : outputs)
    for (const std::array<Fragment, 2> &tile : y)
      for (const Fragment &half : tile)
        llvm::append_range(values, half);
  return values;
}

static SmallVector<OutputTiles> unflattenOutputs(ArrayRef<Value> values,
                                                 int64_t rowTiles) {
  SmallVector<OutputTiles> outputs;
  for (size_t at = 0; at < values.size();)
    for (std::array<Fragment, 2> &tile : outputs.emplace_back(rowTiles))
      for (Fragment &half : tile) {
        half.assign(values.begin() + at, values.begin() + at + 4);
        at += 4;
      }
  return outputs;
}

/// The name of the layer tensor `buffer` is (its argument's ssm.name), or
/// null for another buffer.
static StringAttr tensorName(Value buffer) {
  auto arg = dyn_cast<BlockArgument>(buffer);
  if (!arg)
    return {};
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  return func
             ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "ssm.name")
             : StringAttr();
}

/// Whether the scan's epilogue applies the z gate: without a norm; with one
/// the norm kernel takes z.
static bool gatesInKernel(SSDChunkOp op) { return op.getZ() && !op.getNorm(); }

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
      OpBuilder::InsertionGuard guard(b);
      if (guarded) {
        auto inRange = scf::IfOp::create(b, b.cmpLT(t, len));
        b.setInsertionPointToStart(inRange.thenBlock());
      }
      storeRun(pair.values, yMem, actIndex(t, pair.col));
    }
  };
  auto whole =
      scf::IfOp::create(b, b.cmpLT(b.add(t0, b.index(s.chunk - 1)), len),
                        /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(whole.thenBlock());
  storeRuns(false);
  b.setInsertionPointToStart(whole.elseBlock());
  storeRuns(true);
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

Value SSDKernelEmitter::blockColumn(int64_t j) {
  return b.mul(b.add(warp, b.index(j * s.warps)), b.index(kTileRows));
}

//===----------------------------------------------------------------------===//
// Chunk phases
//===----------------------------------------------------------------------===//

/// Starts the asynchronous copy of the 16 bytes of step `t` at column `col`
/// of `mem` (addressed by `index`) to the indices `dst` gives in `smem`; a
/// step past L reads the last one's address and copies nothing, leaving
/// zeros. (`dst` is built after the source's clamp, in the order the
/// measured kernels were emitted.) The copy bypasses L1 (cp.async.cg)
/// unless `throughL1` (cp.async.ca).
void SSDKernelEmitter::copyStep(Value mem, Value t, Value col,
                                function_ref<Value(Value, Value)> index,
                                Value smem,
                                function_ref<SmallVector<Value>()> dst,
                                bool throughL1) {
  Value clamped = arith::MinUIOp::create(b, t, b.sub(len, b.index(1)));
  Value srcElements =
      arith::SelectOp::create(b, b.cmpLT(t, len), b.index(kVector), b.index(0));
  nvgpu::DeviceAsyncCopyOp::create(
      b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), smem, dst(), mem,
      ValueRange{index(clamped, col)}, b.getIndexAttr(kVector), srcElements,
      throughL1 ? UnitAttr() : b.getUnitAttr());
}

/// Starts the asynchronous copies of the chunk at `t0` into stage `stage`
/// (its first row) of x, B and C, 16 bytes each; rows past L are zero-filled.
/// The head's own x bypasses L1; B and C, which every head of the group
/// reads, go through it: on an H200 T1 0.266 -> 0.261 ms, T1 + z 0.348 ->
/// 0.339, B1 L4096 0.118 -> 0.112 (x through L1 as well gained nothing
/// more, and the warpgroup kernel's copies lost 4 %: bench/README.md,
/// session 28).
void SSDKernelEmitter::stageChunk(Value t0, Value stage) {
  auto copy = [&](Value mem, Value smem, int64_t width,
                  function_ref<Value(Value, Value)> index) {
    bool throughL1 = mem != xMem;
    int64_t perRow = width / kVector, total = s.chunk * perRow;
    for (int64_t j = 0; j * s.threads() < total; ++j) {
      Value v = b.add(tid, b.index(j * s.threads()));
      OpBuilder::InsertionGuard guard(b);
      if ((j + 1) * s.threads() > total) {
        auto partial = scf::IfOp::create(b, b.cmpLT(v, b.index(total)));
        b.setInsertionPointToStart(partial.thenBlock());
      }
      Value row = b.div(v, b.index(perRow));
      Value col = b.mul(b.rem(v, b.index(perRow)), b.index(kVector));
      copyStep(
          mem, b.add(t0, row), col, index, smem,
          [&] {
            return SmallVector<Value>{b.add(stage, row), col};
          },
          throughL1);
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
  onlyIf(b.cmpEQ(tid, b.index(0)), [&] {
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
  onlyIf(b.cmpEQ(tid, b.index(0)), [&] {
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
/// its Acum and Δ are computed. The values stay in dt's type until then:
/// widening them here would wait for the load.
SmallVector<Value> SSDKernelEmitter::loadDt(Value t0) {
  int64_t perLane = s.chunk / 32;
  Type elem = cast<MemRefType>(dtMem.getType()).getElementType();
  SmallVector<Type> types(perLane, elem);
  auto ifOp =
      scf::IfOp::create(b, types, isDecayWarp(), /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.elseBlock());
  Value zero = arith::ConstantOp::create(b, b.getZeroAttr(elem));
  scf::YieldOp::create(b, SmallVector<Value>(perLane, zero));
  b.setInsertionPointToStart(ifOp.thenBlock());
  SmallVector<Value> dt;
  for (int64_t k = 0; k < perLane; ++k) {
    Value t = b.add(t0, b.add(b.mul(lane, b.index(perLane)), b.index(k)));
    Value clamped = arith::MinUIOp::create(b, t, b.sub(len, b.index(1)));
    dt.push_back(memref::LoadOp::create(
        b, dtMem,
        b.add(b.mul(b.add(b.mul(bIdx, len), clamped), b.index(s.heads)),
              head)));
  }
  scf::YieldOp::create(b, dt);
  return SmallVector<Value>(ifOp.getResults());
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
  onlyIf(isDecayWarp(), fn);
}

/// Emits `fn` under `scf.if` of `condition`.
void SSDKernelEmitter::onlyIf(Value condition, function_ref<void()> fn) {
  auto ifOp = scf::IfOp::create(b, condition);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  fn();
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
    Value dt = b.unpackF32(raw[k]).front();
    if (dtBias)
      dt = b.add(dt, dtBias);
    if (op.getDtSoftplus())
      dt = b.softplus(dt);
    dt = arith::SelectOp::create(b, b.cmpLT(b.add(t0, l), len), dt, b.f32(0.0));
    deltas.push_back(dt);
    total = b.add(total, b.mul(dt, aLog2));
    run.push_back(total);
  }
  // Inclusive scan of the lane totals across the warp.
  Value inclusive = total;
  for (int64_t offset = 1; offset < 32; offset *= 2) {
    auto shuffle = gpu::ShuffleOp::create(
        b, inclusive, arith::ConstantIntOp::create(b, offset, 32),
        arith::ConstantIntOp::create(b, 32, 32), gpu::ShuffleMode::UP);
    Value add = arith::SelectOp::create(b, shuffle.getValid(),
                                        shuffle.getShuffleResult(), b.f32(0.0));
    inclusive = b.add(inclusive, add);
  }
  Value exclusive = b.sub(inclusive, total);
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
/// end = Acum[Q-1]. `xTiles`, if given, are finishOutputs' x fragments of
/// the chunk: the xᵀ operands are those registers in another order, which
/// saves their ldmatrix (4 % of a 32-step chunk's workgroup-memory reads).
SmallVector<Fragment> SSDKernelEmitter::updateState(ArrayRef<Fragment> state,
                                                    Value end,
                                                    ArrayRef<Fragment> xTiles) {
  int64_t kSteps = s.chunk / 16, nSteps = s.states / 16;
  int64_t nTiles = s.states / kTileCols;
  Value decay = b.exp2(end);
  SmallVector<Fragment> next;
  for (const Fragment &tile : state) {
    Fragment scaled;
    for (Value v : tile)
      scaled.push_back(b.mul(v, decay));
    next.push_back(scaled);
  }
  for (int64_t kk = 0; kk < kSteps; ++kk) {
    // The weights of this lane's steps: k = 2·(lane % 4) + {0, 1} (+8).
    Value w[4];
    for (int64_t h = 0; h < 2; ++h) {
      Value step = b.add(b.index(kk * 16 + h * 8), pairCol);
      std::array<Value, 2> pair = stepWeights(current.decay, step, end);
      w[2 * h] = pair[0];
      w[2 * h + 1] = pair[1];
    }
    for (int64_t j = 0; j < s.blocksPerWarp(); ++j) {
      Value pcol = blockColumn(j);
      // xᵀ rows pcol.. (m), steps kk·16.. (k): matrices 0/1 are the two
      // row halves at k 0..7, 2/3 the same at k 8..15.
      Fragment xf;
      if (xTiles.empty()) {
        xf = loadMatrix(sX, staged(b.add(b.index(kk * 16), ldRowHi)),
                        b.add(pcol, ldColLo), true);
      } else {
        // G·x's B fragments hold matrices (steps, columns) 0/1 = (lo, lo),
        // (hi, lo); 2/3 = (lo, hi), (hi, hi).
        const Fragment &t = xTiles[j * kSteps + kk];
        xf = {t[0], t[2], t[1], t[3]};
      }
      Fragment a;
      for (int64_t r = 0; r < 4; ++r) {
        auto [lo, hi] = unpack(xf[r]);
        int64_t k = (r / 2) * 2; // registers 2 and 3 hold k + 8
        a.push_back(pack(b.mul(lo, w[k]), b.mul(hi, w[k + 1])));
      }
      for (int64_t nn = 0; nn < nSteps; ++nn) {
        Fragment bf = loadMatrix(sB, staged(b.add(b.index(kk * 16), ldRowLo)),
                                 b.add(b.index(nn * 16), ldColHi), true);
        Fragment &lo = next[j * nTiles + 2 * nn];
        Fragment &hi = next[j * nTiles + 2 * nn + 1];
        lo = mma(a, {bf[0], bf[1]}, lo);
        hi = mma(a, {bf[2], bf[3]}, hi);
      }
    }
  }
  return next;
}

//===----------------------------------------------------------------------===//
// Kernel body
//===----------------------------------------------------------------------===//

void SSDKernelEmitter::setup(Value batch, Value segmentSteps, Value xArg,
                             Value dtArg, Value aArg, Value bArg, Value cArg,
                             Value zArg, Value yArg, Value skipArg,
                             Value biasArg) {
  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  warp = b.div(tid, b.index(32));
  lane = b.rem(tid, b.index(32));
  quad = b.div(lane, b.index(4));
  pairCol = b.mul(b.rem(lane, b.index(4)), b.index(2));
  ldRow16 = b.rem(lane, b.index(16));
  ldHalf = b.mul(b.div(lane, b.index(16)), b.index(8));
  Value ldRow8 = b.rem(lane, b.index(8)), ldMat = b.div(lane, b.index(8));
  ldColHi = b.mul(b.div(ldMat, b.index(2)), b.index(8));
  ldColLo = b.mul(b.rem(ldMat, b.index(2)), b.index(8));
  ldRowHi = b.add(ldRow8, ldColHi);
  ldRowLo = b.add(ldRow8, ldColLo);

  this->segmentSteps = segmentSteps;
  numSegments = arith::CeilDivUIOp::create(b, len, segmentSteps);

  Value actSize = b.mul(b.mul(batch, len), b.index(s.heads * s.headdim));
  Value bcSize = b.mul(b.mul(batch, len), b.index(s.groups * s.states));
  xMem = b.flatView(xArg, actSize);
  yMem = yArg ? b.flatView(yArg, actSize) : Value();
  zMem = zArg ? b.flatView(zArg, actSize) : Value();
  dtMem = b.flatView(dtArg, b.mul(b.mul(batch, len), b.index(s.heads)));
  bMem = b.flatView(bArg, bcSize);
  cMem = cArg ? b.flatView(cArg, bcSize) : Value();
  Value heads = b.index(s.heads);
  aMem = b.flatView(aArg, heads);
  skipMem = skipArg ? b.flatView(skipArg, heads) : Value();
  biasMem = biasArg ? b.flatView(biasArg, heads) : Value();
  carveWorkgroupMemory();
  if (s.tma) {
    initTmaBarriers(/*reinit=*/false);
    gpu::BarrierOp::create(b);
  }
}

void SSDKernelEmitter::setUnit(Value tileHead, Value seg, Value batchIndex) {
  int64_t tiles = s.headdim / s.columns;
  head = b.div(tileHead, b.index(tiles));
  col0 = b.mul(b.rem(tileHead, b.index(tiles)), b.index(s.columns));
  segment = seg;
  bIdx = batchIndex;
  group = b.div(head, b.index(s.heads / s.groups));
  std::tie(std::ignore, lo, hi) = b.segmentBounds(segment, segmentSteps, len);
  aLog2 = b.mul(b.loadF32(aMem, head), b.f32(M_LOG2E));
  skip = skipMem ? b.loadF32(skipMem, head) : Value();
  dtBias = biasMem ? b.loadF32(biasMem, head) : Value();
}

/// Carves the dynamic workgroup memory into the staged tiles, in the order
/// SSDShape::sharedBytes counts them.
void SSDKernelEmitter::carveWorkgroupMemory() {
  auto wg =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value raw = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr, wg));
  int64_t offset = 0;
  auto carve = [&](ArrayRef<int64_t> shape, Type elem) {
    auto type = MemRefType::get(shape, elem, nullptr, wg);
    Value view =
        memref::ViewOp::create(b, type, raw, b.index(offset), ValueRange{});
    offset += type.getNumElements() * elem.getIntOrFloatBitWidth() / 8;
    return view;
  };
  int64_t q = s.chunk;
  bool scan = role == SSDRole::Scan;
  if (s.warpgroup) {
    sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, raw);
    auto operand = [&](int64_t elems, int64_t &at) {
      at = offset;
      return carve({elems}, s.elem);
    };
    int64_t n = s.states, p = s.columns;
    sC = operand(s.stages * q * n, offC);
    sB = operand(s.stages * q * n, offB);
    sX = operand(s.stages * q * p, offX);
    sXW = operand(2 * q * p, offXW);
    sG = operand(2 * q * q, offG);
  } else {
    sX = carve({s.buffers * q, s.xStride()}, s.elem);
    offB = offset;
    sB = carve({s.buffers * q, s.bcStride()}, s.elem);
    offC = offset;
    sC = scan ? carve({s.buffers * q, s.bcStride()}, s.elem) : Value();
    sG = scan ? carve({s.ahead() * q, s.gStride()}, s.elem) : Value();
  }
  // Every size before is a multiple of 16 bytes, as its 16-byte loads need.
  sDecay = carve({(s.ahead() + 1) * q * 2}, b.getF32Type());
  if (s.tma) {
    sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, raw);
    offBar = offset;
  }
}

/// This lane's state tiles: per owned column block, N/8 accumulators of
/// rows pcol + lane/4 (+8) and columns 8·nt + 2·(lane%4) (+1), a pair each.
void SSDKernelEmitter::forEachStatePair(
    function_ref<void(Value row, Value col, int64_t at)> fn) {
  int64_t at = 0;
  for (int64_t j = 0; j < s.blocksPerWarp(); ++j)
    for (int64_t nt = 0; nt < s.states / kTileCols; ++nt)
      for (int64_t h = 0; h < 2; ++h, at += 2)
        fn(b.add(blockColumn(j), b.add(quad, b.index(h * 8))),
           b.add(b.index(nt * kTileCols), pairCol), at);
}

SmallVector<Value> SSDKernelEmitter::loadState(Value mem, Value slab) {
  SmallVector<Value> state;
  forEachStatePair([&](Value row, Value col, int64_t) {
    llvm::append_range(state, b.unpackF32(b.loadVector(
                                  mem, stateIndex(slab, row, col), 2, false)));
  });
  return state;
}

void SSDKernelEmitter::storeState(ValueRange state, Value mem, Value slab) {
  forEachStatePair([&](Value row, Value col, int64_t at) {
    b.storeVectorF32({state[at], state[at + 1]}, mem,
                     stateIndex(slab, row, col), /*aligned=*/false);
  });
}

/// Starts the segment from the state the earlier segments carry in: per
/// earlier segment k, S = exp2(Σ_k Δ·A·log2e)·S + S_end[k].
SmallVector<Value> SSDKernelEmitter::carryIn(SmallVector<Value> state) {
  auto loop = scf::ForOp::create(b, b.index(0), segment, b.index(1), state);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value slab = carrySlab(loop.getInductionVar());
  Value decay = b.exp2(b.loadF32(carryDecay, slab));
  SmallVector<Value> end = loadState(carryState, slab);
  SmallVector<Value> next;
  for (auto [prev, add] : llvm::zip(loop.getRegionIterArgs(), end))
    next.push_back(b.fma(decay, prev, add));
  scf::YieldOp::create(b, next);
  return SmallVector<Value>(loop.getResults());
}

Value SSDKernelEmitter::chunkStart(Value chunk) {
  return b.add(lo, b.mul(chunk, b.index(s.chunk)));
}

Value SSDKernelEmitter::ringPosition(Value chunk, int64_t buffers) {
  if (buffers == 1)
    return b.index(0);
  // In 32 bits, where the index remainder would cost a 64-bit multiply-high
  // on every use (T1 0.308 -> 0.299 ms, T1 wgmma 0.506 -> 0.493,
  // bench/README.md sessions 23-24). Chunk indices fit: 2^32 chunks would
  // be terabytes of x.
  Value position = arith::RemUIOp::create(
      b, arith::IndexCastUIOp::create(b, b.getI32Type(), chunk),
      arith::ConstantIntOp::create(b, buffers, 32));
  return arith::IndexCastUIOp::create(b, b.getIndexType(), position);
}

Value SSDKernelEmitter::chunkBuffer(Value chunk, int64_t buffers) {
  return b.mul(ringPosition(chunk, buffers), b.index(s.chunk));
}

PipelineStart SSDKernelEmitter::startPipeline() {
  PipelineStart start;
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  for (int64_t k = 0; k <= s.ahead(); ++k) {
    Value chunk = b.index(k), t = chunkStart(chunk);
    if (k < s.ahead()) {
      if (s.warpgroup)
        stageChunkCores(t, chunk);
      else
        stageChunk(t, chunkBuffer(chunk, s.buffers));
      start.token =
          nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, ValueRange{});
    }
    start.dt.push_back(loadDt(t));
  }
  return start;
}

std::pair<SmallVector<Value>, Value>
SSDKernelEmitter::scanChunks(SmallVector<Value> init,
                             const PipelineStart &start) {
  // Software pipeline, s.ahead() chunks deep: while chunk c is finished,
  // the copies of chunk c + ahead are in flight and the decay warp computes
  // its Acum and Δ from dt loaded a chunk earlier still. Two chunks ahead,
  // G of chunk c + 1 is computed during chunk c too, which leaves the
  // barrier at the top of each chunk the only one.
  int64_t ahead = s.ahead(), perLane = s.chunk / 32;
  bool scan = role == SSDRole::Scan;
  Value numChunks =
      arith::CeilDivUIOp::create(b, b.sub(hi, lo), b.index(s.chunk))
          .getResult();
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  auto rowsOf = [&](Value chunk) {
    return ChunkRows{chunkBuffer(chunk, s.buffers),
                     chunkBuffer(chunk, ahead + 1), chunkBuffer(chunk, ahead)};
  };
  for (int64_t k = 0; k < ahead; ++k) {
    Value chunk = b.index(k), t = chunkStart(chunk);
    onDecayWarp(
        [&] { stageDecay(start.dt[k], t, chunkBuffer(chunk, ahead + 1)); });
  }
  Value token = start.token;
  if (scan && ahead == 2) {
    // The first chunk's G, for the loop's first iteration.
    nvgpu::DeviceAsyncWaitOp::create(b, token, b.getI32IntegerAttr(1));
    gpu::BarrierOp::create(b);
    computeG(rowsOf(b.index(0)), [] {});
  }
  int64_t numState = init.size();
  init.push_back(b.f32(0.0)); // the decay sum
  llvm::append_range(init, start.dt[ahead]);
  auto loop = scf::ForOp::create(b, b.index(0), numChunks, b.index(1), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value c = loop.getInductionVar();
  Value t0 = b.add(lo, b.mul(c, b.index(s.chunk)));
  ValueRange carried = loop.getRegionIterArgs();
  SmallVector<Fragment> state;
  for (int64_t i = 0; i < numState; i += 4)
    state.push_back(Fragment(carried.slice(i, 4)));

  Value cAhead = b.add(c, b.index(ahead));
  Value tAhead = b.add(t0, b.index(ahead * s.chunk));
  SmallVector<Value> dtLater;
  if (ahead == 1) {
    stageChunk(tAhead, chunkBuffer(cAhead, s.buffers));
    Value next =
        nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, ValueRange{});
    dtLater = loadDt(b.add(tAhead, b.index(s.chunk)));
    // All groups but the newest (the next chunk's) have landed.
    nvgpu::DeviceAsyncWaitOp::create(b, next, b.getI32IntegerAttr(1));
    if (s.tma)
      awaitTma(c);
    current = rowsOf(c);
    gpu::BarrierOp::create(b);
  } else {
    dtLater = loadDt(b.add(tAhead, b.index(s.chunk)));
    // The next chunk's copies, issued a chunk ago, have landed; the barrier
    // publishes them with its G and Acum, and ends every read of the stage
    // that chunk c + 2 takes over.
    nvgpu::DeviceAsyncWaitOp::create(b, token, b.getI32IntegerAttr(0));
    current = rowsOf(c);
    gpu::BarrierOp::create(b);
  }
  // Two chunks ahead, the copies of chunk c + 2 may start anywhere past the
  // barrier. Where their ~100 integer instructions go moves the 32-step
  // scan by up to 10 % (bench/README.md, session 23): in each warp's
  // straight line after its state term (T1 0.313 -> 0.309 ms), or, where
  // the epilogue loads z, just before the state update (T1 + z 0.392 ->
  // 0.383); elsewhere right after the barrier.
  enum class CopyPoint { AfterBarrier, AfterStateTerm, BeforeUpdate };
  CopyPoint copyPoint = CopyPoint::AfterBarrier;
  if (ahead == 2 && scan && s.interleaved())
    copyPoint =
        gatesInKernel(op) ? CopyPoint::BeforeUpdate : CopyPoint::AfterStateTerm;
  auto stageAhead = [&](CopyPoint point) {
    if (ahead == 1 || point != copyPoint)
      return;
    stageChunk(tAhead, chunkBuffer(cAhead, s.stages));
    nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, ValueRange{});
  };
  stageAhead(CopyPoint::AfterBarrier);
  // Chunk c + ahead's Acum and Δ go to the buffer of chunk c - 1, which
  // every warp is done with once past the barrier.
  auto stageAheadDecay = [&] {
    stageDecay(SmallVector<Value>(carried.take_back(perLane)), tAhead,
               chunkBuffer(cAhead, ahead + 1));
  };
  Value end = acum(b.index(s.chunk - 1));
  if (scan) {
    // The state term reads no G: it runs before the barrier that publishes
    // G, overlapping the warps' uneven G work; for 32-step chunks in the
    // same straight line as each warp's G tiles.
    ChunkRows gRows = ahead == 1 ? current : rowsOf(b.add(c, b.index(1)));
    SmallVector<OutputTiles> outputs;
    if (s.interleaved()) {
      int64_t rowTiles = s.chunk / kTileRows;
      SmallVector<Value> flat = computeG(
          gRows, stageAheadDecay, s.blocksPerWarp() * rowTiles * 2 * 4, [&] {
            SmallVector<Value> stateTerm =
                flattenOutputs(computeStateTerm(state));
            stageAhead(CopyPoint::AfterStateTerm);
            return stateTerm;
          });
      outputs = unflattenOutputs(flat, rowTiles);
    } else {
      computeG(gRows, stageAheadDecay);
      outputs = computeStateTerm(state);
    }
    if (ahead == 1)
      gpu::BarrierOp::create(b);
    // The state update follows the causal term (with the output
    // accumulators live across it, Q = 64 ran 9 % slower); for 32-step
    // chunks it precedes the stores, which then wait for the z loads no
    // longer.
    auto update = [&](ArrayRef<Fragment> xTiles) {
      stageAhead(CopyPoint::BeforeUpdate);
      state = updateState(state, end, xTiles);
    };
    if (s.interleaved()) {
      finishOutputs(outputs, t0, update);
    } else {
      finishOutputs(outputs, t0, [](ArrayRef<Fragment>) {});
      update({});
    }
  } else {
    onDecayWarp(stageAheadDecay);
    state = updateState(state, end);
  }
  // One chunk ahead in two buffers, the next iteration's copies overwrite
  // this chunk's stage; in three, the stage of the chunk before, which every
  // warp left before the barrier at the top of this one.
  if (ahead == 1 && s.buffers == 2)
    gpu::BarrierOp::create(b);
  SmallVector<Value> yielded;
  for (const Fragment &tile : state)
    llvm::append_range(yielded, tile);
  yielded.push_back(b.add(carried[numState], end));
  llvm::append_range(yielded, dtLater);
  scf::YieldOp::create(b, yielded);

  ValueRange results = loop.getResults();
  if (s.tma) {
    OpBuilder::InsertionGuard after(b);
    b.setInsertionPointAfter(loop);
    awaitTma(numChunks);
    gpu::BarrierOp::create(b);
    initTmaBarriers(/*reinit=*/true);
  }
  return {SmallVector<Value>(results.take_front(numState)), results[numState]};
}

/// Zeros the state, or loads `init` where the layer has one, and carries in
/// the earlier segments' states: the state a unit starts from.
SmallVector<Value> SSDKernelEmitter::unitStart(Value init) {
  SmallVector<Value> state =
      init ? loadState(init, stateSlab())
           : SmallVector<Value>(s.stateValues(), b.f32(0.0));
  return carryIn(state);
}

/// Waits until block `from` has handed over the state at the end of its
/// share (thread 0 spins on its flag and clears it for the next launch),
/// then loads the state.
SmallVector<Value> SSDKernelEmitter::awaitHandoff(Value from) {
  onlyIf(b.cmpEQ(tid, b.index(0)), [&] {
    Value flag = b.asIndex(from), zero = b.f32(0.0);
    scf::WhileOp::create(
        b, TypeRange{}, ValueRange{},
        [&](OpBuilder &nested, Location loc, ValueRange) {
          // An atomic read, at L2 where the flag is set.
          Value ready = memref::AtomicRMWOp::create(
              nested, loc, arith::AtomicRMWKind::addf, zero, handoffReady,
              ValueRange{flag});
          Value unset = arith::CmpFOp::create(
              nested, loc, arith::CmpFPredicate::OEQ, ready, zero);
          scf::ConditionOp::create(nested, loc, unset, ValueRange{});
        },
        [&](OpBuilder &nested, Location loc, ValueRange) {
          scf::YieldOp::create(nested, loc);
        });
    memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::assign, zero,
                                handoffReady, ValueRange{flag});
    NVVM::MembarOp::create(b, NVVM::MemScopeKind::GPU);
  });
  gpu::BarrierOp::create(b);
  return loadState(handoffState, from);
}

/// Hands the state at the end of this block's share to block `worker` + 1,
/// which continues the unit: the state first, then the flag.
void SSDKernelEmitter::handOff(ValueRange state, Value worker) {
  storeState(state, handoffState, worker);
  gpu::BarrierOp::create(b);
  // The barrier orders every thread's stores before thread 0's fence, which
  // is cumulative: one fence publishes them all before the flag.
  onlyIf(b.cmpEQ(tid, b.index(0)), [&] {
    NVVM::MembarOp::create(b, NVVM::MemScopeKind::GPU);
    memref::AtomicRMWOp::create(b, arith::AtomicRMWKind::assign, b.f32(1.0),
                                handoffReady, ValueRange{b.asIndex(worker)});
  });
}

void SSDKernelEmitter::scanShare(Value batch, Value init, Value final) {
  Value worker = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value workers = gpu::GridDimOp::create(b, gpu::Dimension::x);
  int64_t tileHeads = s.headdim / s.columns * s.heads;
  Value perUnit = arith::CeilDivUIOp::create(b, segmentSteps, b.index(s.chunk));
  Value units = b.mul(b.mul(b.index(tileHeads), numSegments), batch);
  Value total = b.mul(units, perUnit);
  Value first = b.div(b.mul(worker, total), workers);
  Value last = b.div(b.mul(b.add(worker, b.index(1)), total), workers);
  Value unitFirst = b.div(first, perUnit);
  Value unitLast = b.div(b.sub(last, b.index(1)), perUnit);
  auto pieces = scf::ForOp::create(
      b, b.index(0), b.add(b.sub(unitLast, unitFirst), b.index(1)), b.index(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(pieces.getBody());
  // The last unit first: where the share ends inside it, the next block
  // waits for its state, which is then ready long before that block gets
  // to it (shares are at least a unit long). The first unit, which may
  // wait for the previous block's, comes last.
  Value unit = b.sub(unitLast, pieces.getInductionVar());
  Value base = b.mul(unit, perUnit);
  Value chunkLo = b.sub(arith::MaxUIOp::create(b, first, base), base);
  Value chunkHi = arith::MinUIOp::create(b, b.sub(last, base), perUnit);
  setUnit(b.rem(unit, b.index(tileHeads)),
          b.rem(b.div(unit, b.index(tileHeads)), numSegments),
          b.div(unit, b.mul(b.index(tileHeads), numSegments)));
  // Chunks past the last segment's end run nothing.
  Value segmentLo = lo;
  auto stepOf = [&](Value chunk) {
    return arith::MinUIOp::create(
        b, b.add(segmentLo, b.mul(chunk, b.index(s.chunk))), hi);
  };
  lo = stepOf(chunkLo);
  hi = stepOf(chunkHi);

  // The previous unit's last copies (of chunks past its share) must land
  // before this one's are issued to the same stages.
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  Value token =
      nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, ValueRange{});
  nvgpu::DeviceAsyncWaitOp::create(b, token, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b);
  // This piece's first loads, in flight while its state is awaited.
  PipelineStart pipeline = startPipeline();

  SmallVector<Type> stateTypes(s.stateValues(), b.getF32Type());
  auto start = scf::IfOp::create(b, stateTypes, b.cmpEQ(chunkLo, b.index(0)),
                                 /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard branch(b);
    b.setInsertionPointToStart(start.thenBlock());
    scf::YieldOp::create(b, unitStart(init));
    b.setInsertionPointToStart(start.elseBlock());
    scf::YieldOp::create(b, awaitHandoff(b.sub(worker, b.index(1))));
  }
  SmallVector<Value> state(start.getResults());
  SmallVector<Value> end = (s.warpgroup ? scanChunksWarpgroup(state, pipeline)
                                        : scanChunks(state, pipeline))
                               .first;

  auto handOver = scf::IfOp::create(b, b.cmpLT(chunkHi, perUnit),
                                    /*withElseRegion=*/final != nullptr);
  b.setInsertionPointToStart(handOver.thenBlock());
  handOff(end, worker);
  if (!final)
    return;
  // Only the last segment ends with the final state.
  b.setInsertionPointToStart(handOver.elseBlock());
  auto lastSegment =
      scf::IfOp::create(b, b.cmpEQ(segment, b.sub(numSegments, b.index(1))));
  b.setInsertionPointToStart(lastSegment.thenBlock());
  storeState(end, final, stateSlab());
}

void SSDKernelEmitter::emit(ArrayRef<BlockArgument> args) {
  bool scan = role == SSDRole::Scan;
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value xArg = nextArg(), dtArg = nextArg(), aArg = nextArg(), bArg = nextArg();
  Value cArg = scan ? nextArg() : Value();
  Value skipArg = scan && op.getD() ? nextArg() : Value();
  Value zArg = scan && gatesInKernel(op) ? nextArg() : Value();
  Value biasArg = op.getDtBias() ? nextArg() : Value();
  Value initArg = scan && op.getInit() ? nextArg() : Value();
  Value yArg = scan ? nextArg() : Value();
  Value finalArg = scan && op.getFinalState() ? nextArg() : Value();
  Value carryStateArg = nextArg(), carryDecayArg = nextArg();
  Value handoffStateArg = scan ? nextArg() : Value();
  Value handoffReadyArg = scan ? nextArg() : Value();
  tmaMaps = scan && s.tma ? nextArg() : Value();
  Value batch = nextArg();
  len = nextArg();
  Value segmentSteps = s.segment ? b.index(s.segment) : nextArg();
  setup(batch, segmentSteps, xArg, dtArg, aArg, bArg, cArg, zArg, yArg, skipArg,
        biasArg);

  Value stateSize = b.mul(batch, b.index(s.heads * s.headdim * s.states));
  Value slabs =
      b.mul(b.mul(batch, b.sub(numSegments, b.index(1))), b.index(s.heads));
  carryState =
      b.flatView(carryStateArg, b.mul(slabs, b.index(s.headdim * s.states)));
  carryDecay = b.flatView(carryDecayArg, slabs);

  if (scan) {
    Value workers = gpu::GridDimOp::create(b, gpu::Dimension::x);
    handoffState = b.flatView(handoffStateArg,
                              b.mul(workers, b.index(s.headdim * s.states)));
    handoffReady = b.flatView(handoffReadyArg, workers);
    auto flat = [&](Value arg) {
      return arg ? b.flatView(arg, stateSize) : Value();
    };
    scanShare(batch, flat(initArg), flat(finalArg));
    return;
  }

  // Grid: (head-dim tile, head) in x, the L segment in y, the batch in z;
  // it leaves out the last segment, which carries nothing on.
  setUnit(gpu::BlockIdOp::create(b, gpu::Dimension::x),
          gpu::BlockIdOp::create(b, gpu::Dimension::y),
          gpu::BlockIdOp::create(b, gpu::Dimension::z));
  auto [end, decaySum] = scanChunks(
      SmallVector<Value>(s.stateValues(), b.f32(0.0)), startPipeline());
  Value slab = carrySlab(segment);
  storeState(end, carryState, slab);
  // One thread of the block's first head-dim tile writes the decay sum.
  Value writer = b.cmpEQ(b.add(tid, col0), b.index(0));
  OpBuilder::InsertionGuard guard(b);
  auto write = scf::IfOp::create(b, writer);
  b.setInsertionPointToStart(write.thenBlock());
  b.storeF32(decaySum, carryDecay, slab);
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

/// Builds one kernel of the layer with the given role and parameters.
static KernelLaunch buildKernel(SSDChunkOp op, SSDRole role,
                                const SSDShape &shape,
                                SmallVector<KernelParam> params,
                                SmallVector<Value, 3> grid, OpBuilder &host,
                                gpu::GPUModuleOp module, StringRef name) {
  Location loc = op.getLoc();
  KernelLaunch launch;
  launch.params = std::move(params);
  launch.grid = std::move(grid);
  launch.block = {shape.threads(), 1, 1};
  launch.sharedBytes = shape.sharedBytes(role);
  // The scan's workgroup memory also holds an SM to kSaturatingBlocksPerSM
  // of its blocks, the number libssmrt launches an SM, where the registers
  // would admit more: the block scheduler would then leave some SMs one.
  if (role == SSDRole::Scan)
    launch.sharedBytes = std::max(launch.sharedBytes, kScanSharedBytes);
  launch.attrs = {host.getNamedAttr("ssm.op", host.getStringAttr("ssd_chunk")),
                  host.getNamedAttr("ssm.tile", op.getTileAttr())};
  launch.kernel = createKernel(host, loc, module, name, launch, {});
  if (shape.boundedRegisters())
    launch.kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                           host.getI32IntegerAttr(role == SSDRole::Scan
                                                      ? kSaturatingBlocksPerSM
                                                      : kBlocksPerSM));
  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  SSDKernelEmitter(op, role, shape, body).emit(launch.kernel.getArguments());
  return launch;
}

FailureOr<LoweredOp>
mlir::ssm::lowerSSDChunk(SSDChunkOp op, const IRMapping &buffers,
                         OpBuilder &host, gpu::GPUModuleOp module,
                         StringRef name, bool tensorCopies) {
  TileAttr tile = op.getTileAttr();
  if (!tile)
    return op.emitOpError("has no #ssm.tile; run ssm-tile first");
  auto xType = op.getX().getType();
  SSDShape shape{xType.getDimSize(2), xType.getDimSize(3),
                 op.getB().getType().getDimSize(3),
                 static_cast<int64_t>(op.getNgroups()),
                 // The output does not depend on Q beyond rounding: the
                 // tile's steps choose it.
                 tile.getSteps() ? tile.getSteps()
                                 : static_cast<int64_t>(op.getChunkSize()),
                 tile.getThreads() / 32, tile.getItems(), tile.getChunk(),
                 // The next chunk's loads are always in flight: one stage
                 // means two.
                 std::max<int64_t>(tile.getStages(), 2), xType.getElementType(),
                 tile.getWarpgroup()};
  if (!isa<BFloat16Type, Float16Type>(shape.elem))
    return op.emitOpError("the tensor-core kernel needs bf16 or f16 x, got ")
           << shape.elem;
  for (Value operand : {op.getB(), op.getC(), op.getZ()})
    if (operand && cast<RankedTensorType>(operand.getType()).getElementType() !=
                       shape.elem)
      return op.emitOpError("B, C and the gate must have the element type of "
                            "x (")
             << shape.elem << ")";
  if (shape.stages > 3)
    return op.emitOpError("tile stages = ")
           << shape.stages << " is not supported; the SSD kernel stages 2 or 3 "
           << "chunks";
  if (shape.chunk % 32 != 0)
    return op.emitOpError("the kernel's chunk length ")
           << shape.chunk << " (tile steps, else chunk_size) must be a "
           << "multiple of 32";
  if (shape.states % 16 != 0)
    return op.emitOpError("state size N = ")
           << shape.states << " must be a multiple of 16";
  if (tile.getThreads() % 32 != 0 || shape.columns % 16 != 0 ||
      shape.headdim % shape.columns != 0 ||
      shape.columns % (kTileRows * shape.warps) != 0)
    return op.emitOpError("tile items = ")
           << shape.columns
           << " (head-dim columns per block) must divide P = " << shape.headdim
           << " and be a multiple of 16 × the " << tile.getThreads()
           << " / 32 warps";
  if (shape.warpgroup && shape.states > 256)
    return op.emitOpError("state size N = ")
           << shape.states << " exceeds the warpgroup kernel's 256 (the n of "
           << "its m64nNk16 state update)";
  if (shape.warpgroup && shape.stages != 3)
    return op.emitOpError("the warpgroup kernel stages three chunks, not ")
           << shape.stages;
  shape.buffers = chooseBuffers(shape, SSDRole::Scan);
  // Tensor copies read B and C as the layer's [B, L, G·N] tensors (so both
  // must be layer arguments, which the manifest names), a box of N + 8
  // columns (the padded row) and a chunk's rows each. A kernel that gates
  // its output keeps cp.async: there the tensor copies lost (H200, T1 + z
  // 0.338 -> 0.347 ms, while T1 + z + norm, gated by the norm kernel, went
  // 0.380 -> 0.364; bench/README.md, sessions 28-29).
  StringAttr bName = tensorName(buffers.lookup(op.getB()));
  StringAttr cName = tensorName(buffers.lookup(op.getC()));
  shape.tma = tensorCopies && !shape.warpgroup && shape.stages == 2 &&
              !gatesInKernel(op) && shape.bcStride() <= kMaxBoxElements &&
              shape.chunk <= kMaxBoxElements && bName && cName;
  if (shape.sharedBytes(SSDRole::Scan) > kMaxSharedBytes)
    return op.emitOpError("chunks of ")
           << shape.chunk << " steps with " << shape.stages << " stages need "
           << shape.sharedBytes(SSDRole::Scan)
           << " bytes of workgroup memory per block, more than the "
           << kMaxSharedBytes
           << " available; use fewer tile steps or stages, or fewer "
              "head-dim columns per block";

  Location loc = op.getLoc();
  Value xBuf = buffers.lookup(op.getX());
  Value batch = memref::DimOp::create(host, loc, xBuf, 0);
  Value len = memref::DimOp::create(host, loc, xBuf, 1);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  SmallVector<Value, 3> grid = {
      cst(shape.headdim / shape.columns * shape.heads), cst(1), batch};

  // Blocks split L into segments of whole chunks: the tile's, or as many
  // steps as libssmrt picks at launch, the fewest segments whose units give
  // each of the persistent scan's blocks at least one (runtime/lib/Split.h).
  // The segments' carries live in workspaces [B, S - 1, H, P, N] and
  // [B, S - 1, H].
  LoweredOp lowered;
  LSegments segments(host, loc, batch, len, shape.segment, shape.chunk,
                     kSSDMinSegmentSteps, kSaturatingBlocksPerSM);
  grid[1] = segments.count;
  Value carryState = segments.addCarry(
      lowered, {shape.heads, shape.headdim, shape.states}, "carry_state");
  Value carryDecay = segments.addCarry(lowered, {shape.heads}, "carry_decay");

  SmallVector<KernelParam> carryParams;
  for (Value operand :
       {op.getX(), op.getDt(), op.getA(), op.getB(), op.getDtBias()})
    if (operand)
      carryParams.push_back({buffers.lookup(operand)});
  carryParams.push_back({carryState, /*readOnly=*/false});
  carryParams.push_back({carryDecay, /*readOnly=*/false});
  segments.appendSizes(carryParams);
  // The carry kernel (step 4 alone, on mma.sync) sums every segment but the
  // last; with a single segment its grid is empty and it is not launched.
  // It stages two chunks: with three, T3 in 2048-step segments took 0.923
  // ms against 0.905 on an H200, and T3 split at launch 0.934 against 0.930
  // (bench/README.md, sessions 11 and 12).
  SSDShape carryShape = shape;
  carryShape.warpgroup = false;
  carryShape.stages = 2;
  carryShape.tma = false;
  carryShape.buffers = chooseBuffers(carryShape, SSDRole::Carry);
  SmallVector<Value, 3> carryGrid = grid;
  carryGrid[1] = segments.carried;
  lowered.launches.push_back(buildKernel(op, SSDRole::Carry, carryShape,
                                         carryParams, carryGrid, host, module,
                                         (name + "_carry").str()));

  // With a norm the scan writes y, ungated, to a workspace the norm reads.
  NormAttr norm = op.getNormAttr();
  Value y = buffers.lookup(op.getY());
  Value scanned = y;
  if (norm) {
    scanned = lowered.addWorkspace(host, loc, cast<MemRefType>(y.getType()),
                                   {batch, len}, "y_unnormed");
  }

  SmallVector<KernelParam> params;
  for (Value operand : SmallVector<Value>{
           op.getX(), op.getDt(), op.getA(), op.getB(), op.getC(), op.getD(),
           gatesInKernel(op) ? op.getZ() : Value(), op.getDtBias(),
           op.getInit()})
    if (operand)
      params.push_back({buffers.lookup(operand)});
  params.push_back({scanned, /*readOnly=*/false});
  if (Value finalState = op.getFinalState())
    params.push_back({buffers.lookup(finalState), /*readOnly=*/false});
  params.push_back({carryState});
  params.push_back({carryDecay});
  // The scan's blocks are persistent: libssmrt launches as many as the SMs
  // run at once, and each takes an even share of the units' chunks, handing
  // its state on where its share ends inside a unit.
  Value workers = WorkerCountOp::create(
      host, loc, ValueRange{grid[0], grid[1], batch}, kSaturatingBlocksPerSM);
  auto f32 = host.getF32Type();
  params.push_back(
      {lowered.addWorkspace(
           host, loc,
           MemRefType::get({ShapedType::kDynamic, shape.headdim, shape.states},
                           f32),
           workers, "handoff_state"),
       /*readOnly=*/false});
  params.push_back({lowered.addWorkspace(
                        host, loc, MemRefType::get({ShapedType::kDynamic}, f32),
                        workers, "handoff_ready", /*zeroed=*/true),
                    /*readOnly=*/false});
  if (shape.tma) {
    Value maps = lowered.addWorkspace(
        host, loc, MemRefType::get({2 * kTensorMapBytes / 4}, f32),
        ValueRange{}, "tensor_maps");
    auto box = host.getDenseI64ArrayAttr({shape.bcStride(), shape.chunk, 1});
    auto map = [&](StringAttr tensor) -> Attribute {
      return host.getDictionaryAttr(
          {host.getNamedAttr("tensor", tensor), host.getNamedAttr("box", box)});
    };
    maps.getDefiningOp()->setAttr(kTensorMapsAttr,
                                  host.getArrayAttr({map(bName), map(cName)}));
    params.push_back({maps});
  }
  segments.appendSizes(params);
  lowered.launches.push_back(buildKernel(op, SSDRole::Scan, shape, params,
                                         {workers, cst(1), cst(1)}, host,
                                         module, name));
  if (!norm)
    return lowered;

  // The norm runs over the H·P channels of a step, as [B, L, H·P].
  auto channels = [&](Value buffer) -> Value {
    if (!buffer)
      return buffer;
    return memref::CollapseShapeOp::create(
        host, loc, buffer, ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
  };
  Value z = op.getZ() ? buffers.lookup(op.getZ()) : Value();
  FailureOr<KernelLaunch> normLaunch = buildRMSNormGatedKernel(
      host, loc, module, (name + "_norm").str(), channels(scanned), channels(z),
      buffers.lookup(op.getNormWeight()), channels(y), norm.getGroupSize(),
      norm.getEps().getValueAsDouble(), norm.getBeforeGate());
  if (failed(normLaunch))
    return failure();
  // The manifest names the layer's op after its launches.
  normLaunch->attrs = lowered.launches.back().attrs;
  lowered.launches.push_back(std::move(*normLaunch));
  return lowered;
}
