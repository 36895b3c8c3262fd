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
// state is ready long before it is needed (bench/HISTORY.md, session 21: T1
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
// segment but the last from a zero state (in 64-step chunks of its own where
// the segments allow, each warp pair holding two column blocks' state split
// by N, every warp staging Δ and Acum of its own run of a chunk's steps, as
// no G tiles even out the work of one decay warp: T3 0.681 -> 0.662 ms,
// bench/HISTORY.md session 42) and records the segment's end state and its
// decay sum
// Σ Δ·A; the scan kernel then starts each segment from
// S = 2^(Σ Δ·A·log2e)·S + S_end, segment by segment, as the selective-scan
// lowering does. The segment length is the tile's `chunk`, or, without one,
// a kernel parameter that libssmrt picks at each launch (ssm.split_length):
// the whole sequence where batch x heads fill the persistent scan's blocks
// (the carry kernel's grid is then empty), else the fewest segments that
// do.
//
// Where every target is sm_90 or newer (`tensor-copies`) and the kernel does
// not gate its output, the scan stages B and C by TMA: per chunk thread 0
// issues one tensor copy of each (a box of the chunk's rows) on the stage's
// mbarrier, which every thread waits on before the chunk's barrier; libssmrt
// encodes the two tensor maps into a workspace at each launch. x keeps its
// per-thread cp.async. On an H200 T1 went from 0.263 to 0.247 ms, T3 from 0.730
// to 0.697 (bench/HISTORY.md, session 28).
//
// A tile with `warpgroup` (sm_90a) runs the scan's chunks on warpgroup MMA
// instead (SSDWarpgroup.cpp). The emitter (SSDKernel.h) builds the rest of
// both kernels: the per-chunk phases in SSDKernelPhases.cpp, the setup, the
// walk over chunks and units and the kernels' entry in SSDKernelWalk.cpp.
// This file chooses the kernels' shapes and launches.
//
//===----------------------------------------------------------------------===//

#include "SSDKernel.h"
#include "SSMToGPU.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <numeric>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::ssd;

/// The most resident carry blocks an SM that its register budget is for
/// (three: 170 registers a thread), where its chunks are of up to 64 steps;
/// fewer where fewer fit in workgroup memory (carryBlocksPerSM).
static constexpr int64_t kBlocksPerSM = 3;
/// Blocks of the scan kernel that keep an SM busy: on an H200 an SM ran T1
/// (B 4, H 80, L 4096) at 0.90 chunks/µs with one block, 1.06 with two and
/// 1.08 with three (bench/HISTORY.md, session 21), so the persistent scan
/// launches two an SM, which its shares balance exactly, and ptxas may give
/// it their registers: held to three blocks' 170, it ran T1 in 0.343 ms
/// against 0.311, and 200 registers 0.312.
static constexpr int64_t kSaturatingBlocksPerSM = 2;
/// The most workgroup memory a block may use on sm_80 and sm_90, and an
/// sm_90 SM's, of which the driver reserves 1 KB a resident block (sm_80
/// has 164 KB).
static constexpr int64_t kMaxSharedBytes = 227 * 1024;
static constexpr int64_t kSharedBytesPerSM = 228 * 1024;
static constexpr int64_t kReservedSharedBytes = 1024;
/// The workgroup memory a scan block takes at least, which holds an SM to
/// kSaturatingBlocksPerSM of them.
static constexpr int64_t kScanSharedBytes =
    kSharedBytesPerSM / (kSaturatingBlocksPerSM + 1);

/// The carry blocks an SM holds: kBlocksPerSM, or as many as fit in its
/// workgroup memory. ptxas is held to their registers only: with 64-step
/// chunks three stages deep two blocks fit, and the carry at 186 registers
/// rather than 168 ran T3 in 0.673-0.674 ms against 0.676-0.680 on an H200
/// (bench/HISTORY.md, session 31).
static int64_t carryBlocksPerSM(int64_t sharedBytes) {
  return std::min(kBlocksPerSM,
                  kSharedBytesPerSM / (sharedBytes + kReservedSharedBytes));
}

/// The shortest L segment libssmrt may pick. A segment's block carries in
/// the [P, N] f32 state of every segment before it (32 KB a block at P 64,
/// N 128), about what 50 steps of x, dt, B and C weigh: at 320-step
/// segments (B 1, H 80, L 4096 split 13 ways) the carry-ins outweighed the
/// scan, and 4 segments of 1024 ran 1.47x faster on an H200 (0.134 ms
/// against 0.197, bench/HISTORY.md).
static constexpr int64_t kSSDMinSegmentSteps = 1024;

/// The carry kernel's chunk length where the L segments allow it. Its
/// state update has no causal term to grow with Q, so longer chunks only
/// put more copies in flight and halve the per-chunk state decay: on an
/// H200, 64-step chunks three stages deep ran T3 in 0.681 ms against 0.692
/// with the scan's 32-step chunks two deep, B2 L8192 in 0.350 against 0.359
/// (128-step chunks two deep: 0.724, 0.372; bench/HISTORY.md, session 31).
static constexpr int64_t kCarrySteps = 64;

/// The x, B and C stage buffers of a kernel of `role`: with two stages, three
/// where they fit in kScanSharedBytes (then they cost no occupancy), so
/// that no barrier ends a chunk: the next chunk's copies, issued at the top
/// of each, land on the stage of the chunk before last, which every warp
/// has left, rather than on the last one, which a slower warp may still
/// read. On an H200: T1 0.269 -> 0.266 ms, T1 + final state 0.274 -> 0.265,
/// T3 0.763 -> 0.734, B2 L8192 0.395 -> 0.380 (bench/HISTORY.md, session 26).
static int64_t chooseBuffers(SSDShape shape, SSDRole role) {
  if (shape.stages != 2 || shape.warpgroup)
    return shape.stages;
  shape.buffers = 3;
  return shape.sharedBytes(role) <= kScanSharedBytes ? 3 : 2;
}

/// The name of the layer tensor that `value` is, or whose buffer it is (its
/// argument's ssm.name), or null for another value.
static StringAttr tensorName(Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg)
    return {};
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  return func
             ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "ssm.name")
             : StringAttr();
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
    launch.kernel->setAttr(
        NVVM::NVVMDialect::getMinctasmAttrName(),
        host.getI32IntegerAttr(role == SSDRole::Scan
                                   ? kSaturatingBlocksPerSM
                                   : carryBlocksPerSM(launch.sharedBytes)));
  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  SSDKernelEmitter(op, role, shape, body).emit(launch.kernel.getArguments());
  return launch;
}

/// The scan kernel's shape for `op`, whose B and C have the layer tensor
/// names `bName` and `cName` (null where they are not layer arguments; tensor
/// copies need both); emits an error at `op` for tiles and sizes the kernel
/// does not support.
static FailureOr<SSDShape> getScanShape(SSDChunkOp op,
                                        const KernelTarget &target,
                                        StringAttr bName, StringAttr cName) {
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
  // 0.380 -> 0.364; bench/HISTORY.md, sessions 28-29).
  shape.tma = target.tensorCopies && !shape.warpgroup && shape.stages == 2 &&
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
  return shape;
}

/// [B, L, H, P] as the [B, L, H·P] rows a norm kernel normalizes.
static RankedTensorType headsAsChannels(RankedTensorType type) {
  ArrayRef<int64_t> dims = type.getShape();
  return RankedTensorType::get({dims[0], dims[1], dims[2] * dims[3]},
                               type.getElementType());
}

LogicalResult mlir::ssm::checkKernels(SSDChunkOp op,
                                      const KernelTarget &target) {
  if (failed(getScanShape(op, target, tensorName(op.getB()),
                          tensorName(op.getC()))))
    return failure();
  NormAttr norm = op.getNormAttr();
  if (!norm)
    return success();
  // The scan writes y, ungated, to a workspace of y's type that the norm
  // reads.
  RankedTensorType y = headsAsChannels(op.getY().getType());
  RankedTensorType z =
      op.getZ() ? headsAsChannels(op.getZ().getType()) : RankedTensorType();
  return checkRMSNormGatedKernel(
      op.getLoc(), y, z, op.getNormWeight().getType(), y, norm.getGroupSize());
}

FailureOr<LoweredOp> mlir::ssm::lowerToKernels(SSDChunkOp op,
                                               const IRMapping &buffers,
                                               OpBuilder &host,
                                               const KernelTarget &target,
                                               StringRef name) {
  StringAttr bName = tensorName(buffers.lookup(op.getB()));
  StringAttr cName = tensorName(buffers.lookup(op.getC()));
  FailureOr<SSDShape> scanShape = getScanShape(op, target, bName, cName);
  if (failed(scanShape))
    return failure();
  SSDShape shape = *scanShape;

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
  LSegments segments(host, loc, batch, len, shape.segment,
                     std::lcm(shape.chunk, kCarrySteps), kSSDMinSegmentSteps,
                     kSaturatingBlocksPerSM);
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
  // Its chunks need not be the scan's: it walks kCarrySteps-step chunks,
  // three stages deep, where the segments are made of them, else the scan's
  // chunks two stages deep. The deep carry fits two blocks an SM, not
  // three. libssmrt's split leaves fewer carry blocks than the persistent
  // scan's two an SM, so they still run in one wave. A fixed segment length
  // that leaves more may take a second wave: T3 in 6592-step segments (320
  // carry blocks) went from 0.720 to 0.785 ms on an H200. The warps of a
  // pair split the state's columns N between them, so that each B fragment
  // serves two column blocks: on an H100 T3 0.692 -> 0.688-0.689 ms, B 2,
  // L 8192 0.356-0.358 -> 0.353-0.354 (bench/HISTORY.md, session 40).
  SSDShape carryShape = shape;
  carryShape.warpgroup = false;
  carryShape.tma = false;
  carryShape.stateSplit =
      shape.warps % 2 == 0 && shape.states % (2 * 16) == 0 ? 2 : 1;
  bool deepCarry = shape.segment % kCarrySteps == 0;
  carryShape.chunk = deepCarry ? kCarrySteps : shape.chunk;
  carryShape.stages = deepCarry ? 3 : 2;
  carryShape.buffers = chooseBuffers(carryShape, SSDRole::Carry);
  SmallVector<Value, 3> carryGrid = grid;
  carryGrid[1] = segments.carried;
  lowered.launches.push_back(
      buildKernel(op, SSDRole::Carry, carryShape, carryParams, carryGrid, host,
                  target.module, (name + "_carry").str()));

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
                                         target.module, name));
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
      host, loc, target.module, (name + "_norm").str(), channels(scanned),
      channels(z), buffers.lookup(op.getNormWeight()), channels(y),
      norm.getGroupSize(), norm.getEps().getValueAsDouble(),
      norm.getBeforeGate());
  if (failed(normLaunch))
    return failure();
  // The manifest names the layer's op after its launches.
  normLaunch->attrs = lowered.launches.back().attrs;
  lowered.launches.push_back(std::move(*normLaunch));
  return lowered;
}
