//===- SelectiveScanToGPU.cpp - ssm.selective_scan to a kernel --*- C++ -*-===//
//
// Builds the Mamba-1 selective-scan kernel from an ssm.selective_scan and its
// #ssm.tile. `lanes` threads (often one) own one channel (b, d), each keeping
// N / lanes of its states in registers; a block owns threads / lanes
// consecutive channels of one B/C group and walks L in tiles of `items`
// steps. With several lanes, a tile's partial output sums are reduced and
// scattered with warp shuffles, each lane finishing items / lanes steps. Per
// tile, the block stages the shared B/C values in workgroup memory once for all
// its channels, each thread loads its u, Δ (and z) run with 128-bit loads, runs
// the recurrence with exp2 on the SFU (log2 e folded into A), and applies the D
// skip and the silu gate before a single store of the output. The tile loop is
// software-pipelined (the next tile's loads are in flight during the
// recurrence, B/C double-buffered). Rows that are not 16-byte aligned (L not a
// multiple of the vector width) shift each thread's windows to aligned ones,
// and the windows that reach outside the sequence run masked in the same
// pipeline, on vectors clamped into the tensor (bench/HISTORY.md, session 15:
// S4 at L 197 0.045 -> 0.041 ms).
//
// Blocks split the sequence into segments, one block row per segment, for
// shapes with too few channels to fill the GPU (one batch row, say): of the
// tile's `chunk` steps, or, without one, of a length libssmrt picks at each
// launch (ssm.split_length; the whole sequence where the channels fill the
// GPU). A carry kernel scans each segment but the one scanned last from a
// zero state, keeping only B (no C, z or output), and records the segment's
// end state and its Σ Δ; the scan kernel then starts each segment from the
// state that the earlier segments carry in, exp(A·ΣΔ)·h + h_end segment by
// segment -- the same algebra as the SSD inter-chunk step -- and scans it
// fully.
//
// A bidirectional scan (Vim) runs both directions in the same blocks: each
// scans its channels forward, storing the ungated sums (skip included) in y,
// then, after a barrier, backward over the same segment, loading those sums
// with z and adding them before the gate. Its u, Δ, A, B/C, skip, bias and
// states stack the two directions' channels; z and y hold one direction's.
// A cross scan (VMamba's SS2D) runs its four directions the same way over
// the tokens of its H x W grid, whole (no L segments), sharing u: the
// column-major directions map their step t to the token (t mod H)·W + t / H
// in every load and store, so neither the cross-scanned input nor the
// per-direction outputs are ever copied.
//
// ScanKernelEmitter (SelectiveScanKernel.h) emits the kernel bodies: a
// tile's loads, recurrence and stores in SelectiveScanTile.cpp, the walk
// over windows, segments and directions in SelectiveScanWalk.cpp. This file
// chooses the kernels, their parameters and launches.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"
#include "SelectiveScanKernel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::scan;

/// The shortest L segment libssmrt may pick: a channel's carried-in state is
/// N floats, so short segments cost little (S1 at B 1 ran in 0.134 ms in 8
/// segments of 256 steps, 0.139 in 4 of 512).
static constexpr int64_t kScanMinSegmentSteps = 256;

/// Static workgroup memory a block may have.
static constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;

/// States a thread keeps in registers: N / lanes of its channel. The spec
/// allows d_state up to this.
static constexpr int64_t kMaxThreadStates = 64;

/// The f32 elements of workgroup memory a block of `role` stages its B (and
/// C) tiles in; 0 where they are per channel.
static int64_t stagedElements(SelectiveScanOp op, KernelRole role) {
  int64_t staged = getBCKind(op.getB().getType()) != BCKind::PerChannel;
  if (role != KernelRole::Carry)
    staged += getBCKind(op.getC().getType()) != BCKind::PerChannel;
  // Two buffers: one is read while the next tile lands in the other; a
  // channel-first tile holds one vector more for shifted windows.
  int64_t steps = op.getTileAttr().getItems();
  if (op.getLayout() == Layout::ChannelFirst)
    steps += std::min<int64_t>(vectorWidth(op.getU().getType()), steps);
  return 2 * staged * stagedStepStride(op) * steps;
}

/// Builds one kernel of the scan with the given role and parameters.
static KernelLaunch buildKernel(SelectiveScanOp op, KernelRole role,
                                SmallVector<KernelParam> params,
                                SmallVector<Value, 3> grid, OpBuilder &host,
                                gpu::GPUModuleOp module, StringRef name) {
  TileAttr tile = op.getTileAttr();
  int64_t threads = tile.getThreads();
  Location loc = op.getLoc();
  KernelLaunch launch;
  launch.params = std::move(params);
  launch.grid = std::move(grid);
  launch.block = {threads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("selective_scan")),
      host.getNamedAttr("ssm.tile", tile)};

  // Workgroup memory stages the B (and C) tile shared by the block.
  int64_t staged = stagedElements(op, role);
  SmallVector<MemRefType> workgroup;
  if (staged) {
    auto space = gpu::AddressSpaceAttr::get(host.getContext(),
                                            gpu::AddressSpace::Workgroup);
    workgroup.push_back(MemRefType::get({staged}, host.getF32Type(),
                                        MemRefLayoutAttrInterface(), space));
  }
  launch.kernel = createKernel(host, loc, module, name, launch, workgroup);
  // The recurrence is latency-bound: ask ptxas for a register budget of 168
  // per thread so that enough blocks stay resident to hide it, instead of
  // letting it take all 255 registers for scheduling freedom.
  launch.kernel->setAttr(
      NVVM::NVVMDialect::getMinctasmAttrName(),
      host.getI32IntegerAttr(std::max<int64_t>(1, 65536 / (168 * threads))));

  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  ScanKernelEmitter emitter(op, role, body);
  emitter.emit(launch.kernel.getArguments(),
               staged ? Value(launch.kernel.getWorkgroupAttributions().front())
                      : Value());
  return launch;
}

/// Threads of a block of the cross-scan merge kernel.
static constexpr int64_t kMergeThreads = 256;

/// Builds the kernel that finishes a cross scan: y = (Σ_k partials[b, k]) ·
/// silu(z), elementwise over each batch row's L·D values (static), a 16-byte
/// vector a thread where D allows.
static KernelLaunch buildCrossMerge(SelectiveScanOp op, Value partials,
                                    const IRMapping &buffers, Value batch,
                                    OpBuilder &host, gpu::GPUModuleOp module,
                                    StringRef name) {
  Location loc = op.getLoc();
  auto yType = cast<RankedTensorType>(op.getY().getType());
  int64_t rowSize = yType.getDimSize(1) * yType.getDimSize(2);
  int64_t width = vectorWidth(yType);
  if (yType.getDimSize(2) % width != 0)
    width = 1;
  int64_t directions = op.getNumDirections();
  KernelLaunch launch;
  launch.params.push_back({partials});
  if (op.getZ())
    launch.params.push_back({buffers.lookup(op.getZ())});
  launch.params.push_back({buffers.lookup(op.getY()), /*readOnly=*/false});
  launch.params.push_back({batch});
  launch.grid = {
      indexConstant(host, loc,
                    llvm::divideCeil(rowSize, kMergeThreads * width)),
      batch, indexConstant(host, loc, 1)};
  launch.block = {kMergeThreads, 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("selective_scan"))};
  launch.kernel = createKernel(host, loc, module, name, launch, {});

  KernelBodyBuilder b(loc, host.getContext());
  b.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  auto args = launch.kernel.getArguments();
  Value numRows = args.back();
  Value partialMem =
      b.flatView(args[0], b.mul(numRows, b.index(directions * rowSize)));
  Value zMem = op.getZ() ? b.flatView(args[1], b.mul(numRows, b.index(rowSize)))
                         : Value();
  Value yMem =
      b.flatView(args[op.getZ() ? 2 : 1], b.mul(numRows, b.index(rowSize)));
  Value row = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  Value element =
      b.mul(b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::x),
                        b.index(kMergeThreads)),
                  gpu::ThreadIdOp::create(b, gpu::Dimension::x)),
            b.index(width));
  b.ifThen(b.cmpLT(element, b.index(rowSize)), [&] {
    auto load = [&](Value mem, Value index) {
      if (width == 1)
        return SmallVector<Value>{b.loadF32(mem, index)};
      return b.unpackF32(b.loadVector(mem, index, width, /*aligned=*/true));
    };
    Value offset = b.add(b.mul(row, b.index(rowSize)), element);
    SmallVector<Value> sum(width, b.f32(0.0));
    for (int64_t k = 0; k < directions; ++k) {
      Value slab =
          b.add(b.mul(b.add(b.mul(row, b.index(directions)), b.index(k)),
                      b.index(rowSize)),
                element);
      for (auto [acc, value] : llvm::zip(sum, load(partialMem, slab)))
        acc = b.add(acc, value);
    }
    if (zMem)
      for (auto [acc, gate] : llvm::zip(sum, load(zMem, offset)))
        acc = b.mul(acc, siluOf16Bit(b, gate, yType));
    if (width == 1)
      b.storeF32(sum[0], yMem, offset);
    else
      b.storeVectorF32(sum, yMem, offset, /*aligned=*/true);
  });
  return launch;
}

LogicalResult mlir::ssm::checkKernels(SelectiveScanOp op,
                                      const KernelTarget &) {
  TileAttr tile = op.getTileAttr();
  if (!tile)
    return op.emitOpError("has no #ssm.tile; run ssm-tile first");
  // A block owns threads / lanes consecutive channels of one B/C group and
  // direction.
  int64_t blockChannels = tile.getThreads() / tile.getLanes();
  int64_t perGroup = op.getChannelsPerGroup();
  int64_t states = op.getStateSize();
  if (perGroup % blockChannels != 0)
    return op.emitOpError("tile threads / lanes = ")
           << blockChannels << " must divide the " << perGroup
           << " channels of each B/C group"
           << (op.getNumDirections() > 1 ? " and direction" : "");
  if (states / tile.getLanes() > kMaxThreadStates)
    return op.emitOpError("tile lanes = ")
           << tile.getLanes() << " leave " << states / tile.getLanes()
           << " states a thread, more than the " << kMaxThreadStates
           << " it keeps in registers";
  int64_t sharedBytes = stagedElements(op, KernelRole::Scan) * 4;
  if (sharedBytes > kMaxStaticSharedBytes)
    return op.emitOpError("tile items = ")
           << tile.getItems() << " stage B and C in " << sharedBytes
           << " bytes of workgroup memory, more than the "
           << kMaxStaticSharedBytes << " available; use fewer items";
  return success();
}

FailureOr<LoweredOp> mlir::ssm::lowerToKernels(SelectiveScanOp op,
                                               const IRMapping &buffers,
                                               OpBuilder &host,
                                               const KernelTarget &target,
                                               StringRef name) {
  TileAttr tile = op.getTileAttr();
  // A block owns channels of z and y, of one direction; those of the other
  // operands count every direction's.
  int64_t channels = op.getNumChannels(), threads = tile.getThreads();
  int64_t outChannels = channels / op.getNumDirections();
  int64_t states = op.getStateSize(), chunk = tile.getChunk();
  int64_t blockChannels = threads / tile.getLanes();
  Location loc = op.getLoc();
  bool cf = op.getLayout() == Layout::ChannelFirst;
  Value uBuf = buffers.lookup(op.getU());
  Value batch = memref::DimOp::create(host, loc, uBuf, 0);
  Value len = memref::DimOp::create(host, loc, uBuf, cf ? 2 : 1);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  SmallVector<Value, 3> grid = {cst(outChannels / blockChannels), batch,
                                cst(1)};
  LoweredOp lowered;
  // A cross scan's column-major directions read tokens of every part of L,
  // so none is split; its directions run in parallel blocks instead (block
  // row z), each storing its sums in a slab of a workspace that a second
  // kernel sums and gates: four times the blocks of one doing all four in
  // turn, which left most SMs idle (bench/HISTORY.md).
  if (op.getCrossScan()) {
    auto yType = cast<RankedTensorType>(op.getY().getType());
    SmallVector<int64_t> slabs = {ShapedType::kDynamic, op.getNumDirections(),
                                  yType.getDimSize(1), yType.getDimSize(2)};
    Value partials = lowered.addWorkspace(
        host, loc, MemRefType::get(slabs, yType.getElementType()), {batch},
        "cross_partials");
    SmallVector<KernelParam> params;
    for (Value operand : op->getOperands())
      if (operand != op.getZ())
        params.push_back({buffers.lookup(operand)});
    params.push_back({partials, /*readOnly=*/false});
    if (op.getLastState())
      params.push_back({buffers.lookup(op.getLastState()), /*readOnly=*/false});
    params.push_back({batch});
    grid[2] = cst(op.getNumDirections());
    lowered.launches.push_back(buildKernel(op, KernelRole::Direction, params,
                                           grid, host, target.module, name));
    lowered.launches.push_back(buildCrossMerge(op, partials, buffers, batch,
                                               host, target.module,
                                               (name + "_merge").str()));
    return lowered;
  }

  // Blocks split L into segments of whole tiles: the tile's chunk, or as
  // many steps as libssmrt picks at launch to fill the GPU. The segments'
  // carries live in workspaces [B, S - 1, D, N] and [B, S - 1, D].
  LSegments segments(host, loc, batch, len, chunk, tile.getItems(),
                     kScanMinSegmentSteps);
  grid[2] = segments.count;
  Value carryState =
      segments.addCarry(lowered, {channels, states}, "carry_state");
  Value carryDelta = segments.addCarry(lowered, {channels}, "carry_delta");

  SmallVector<KernelParam> carryParams;
  for (Value operand : {op.getU(), op.getDelta(), op.getA(), op.getB()})
    carryParams.push_back({buffers.lookup(operand)});
  for (Value operand :
       {op.getDeltaBias(), op.getConvWeight(), op.getConvBias()})
    if (operand)
      carryParams.push_back({buffers.lookup(operand)});
  carryParams.push_back({carryState, /*readOnly=*/false});
  carryParams.push_back({carryDelta, /*readOnly=*/false});
  segments.appendSizes(carryParams);
  // The carry kernel sums every segment but the one scanned last; with a
  // single segment its grid is empty and it is not launched.
  SmallVector<Value, 3> carryGrid = grid;
  carryGrid[2] = segments.carried;
  lowered.launches.push_back(buildKernel(op, KernelRole::Carry, carryParams,
                                         carryGrid, host, target.module,
                                         (name + "_carry").str()));

  SmallVector<KernelParam> params;
  for (Value operand : op->getOperands())
    params.push_back({buffers.lookup(operand)});
  for (Value result : op->getResults())
    params.push_back({buffers.lookup(result), /*readOnly=*/false});
  params.push_back({carryState});
  params.push_back({carryDelta});
  segments.appendSizes(params);
  lowered.launches.push_back(buildKernel(op, KernelRole::Scan, params, grid,
                                         host, target.module, name));
  return lowered;
}
