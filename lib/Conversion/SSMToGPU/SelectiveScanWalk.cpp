//===- SelectiveScanWalk.cpp - The selective scan's walk over its steps ---===//
//
// ScanKernelEmitter's walk (SelectiveScanToGPU.cpp describes the kernel): the
// edge, pipelined and shifted windows of a segment, the carry-in of earlier
// segments, the directions of a bidirectional or cross scan, and the
// kernel's entry.
//
//===----------------------------------------------------------------------===//

#include "SelectiveScanKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::scan;

/// Runs the windows [first, end) as edge tiles, one at a time. The block
/// stages a window's B/C once; each thread then runs it in sub-tiles of a
/// few steps, whose loads are not pipelined but expose their latency once
/// per sub-tile (not per step), and whose registers stay few (a whole
/// unrolled window made ptxas spill). Every thread of the block runs the
/// same count (they stage B/C together and shuffle across the warp); a
/// window wholly outside [lo, hi) changes nothing.
SmallVector<Value>
ScanKernelEmitter::emitEdgeTiles(Value first, Value end,
                                 function_ref<Value(Value)> tileStart,
                                 ValueRange carried) {
  auto windows = scf::ForOp::create(b, first, end, b.index(1), carried);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(windows.getBody());
  Value t0 = tileStart(windows.getInductionVar());
  TileLoads stage;
  loadStage(t0, TileMode::Edge, stage);
  if (!stage.bc.empty()) {
    // Other threads may still read the buffer of an earlier tile.
    gpu::BarrierOp::create(b);
    storeBC(stage, b.index(0), TileMode::Edge);
    gpu::BarrierOp::create(b);
  }
  // Sub-tiles of 64 state-steps a thread (8 steps ran S1 f32 into spills).
  int64_t sub = std::max<int64_t>(lanes, 64 / own);
  if (items % sub != 0)
    sub = items;
  int64_t count = items / sub;
  auto subTiles = scf::ForOp::create(b, b.index(0), b.index(count), b.index(1),
                                     windows.getRegionIterArgs());
  {
    OpBuilder::InsertionGuard inSub(b);
    b.setInsertionPointToStart(subTiles.getBody());
    // A reverse scan walks the window's sub-tiles backwards.
    Value j = subTiles.getInductionVar();
    if (reverse)
      j = b.sub(b.index(count - 1), j);
    Value offset = b.mul(j, b.index(sub));
    Value start = b.add(t0, offset);
    TileLoads runs;
    loadRuns(start, sub, TileMode::Edge, runs);
    scf::YieldOp::create(b, computeTile(start, sub, TileMode::Edge,
                                        /*masked=*/true, runs.act, b.index(0),
                                        offset, subTiles.getRegionIterArgs()));
  }
  scf::YieldOp::create(b, subTiles.getResults());
  return SmallVector<Value>(windows.getResults());
}

/// The tiles [first, full), software-pipelined: while a tile is computed from
/// registers and one workgroup buffer, the global loads of the next tile are
/// in flight and land in registers and the other buffer, so their latency
/// hides behind the recurrence. One barrier per tile. The tiles `isMasked`
/// names (block-uniformly) run masked.
SmallVector<Value>
ScanKernelEmitter::emitPipelinedTiles(TileMode mode, Value first, Value full,
                                      function_ref<Value(Value)> tileStart,
                                      ValueRange carried,
                                      function_ref<Value(Value)> isMasked) {
  SmallVector<Value> h(carried.begin(), carried.end());
  auto pipelined = [&] {
    // Other threads may still read the buffer of an earlier tile.
    TileLoads start = loadTile(tileStart(first), mode);
    if (!start.bc.empty())
      gpu::BarrierOp::create(b);
    storeBC(start, b.index(0), mode);
    SmallVector<Value> init = h;
    init.append(start.act.begin(), start.act.end());
    auto loop = scf::ForOp::create(b, first, full, b.index(1), init);
    {
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(loop.getBody());
      Value k = loop.getInductionVar();
      ValueRange args = loop.getRegionIterArgs();
      if (!start.bc.empty())
        gpu::BarrierOp::create(b);
      // The last iteration re-loads its own tile instead of reading past it.
      Value last = b.sub(full, b.index(1));
      Value kNext = arith::MinUIOp::create(b, b.add(k, b.index(1)), last);
      TileLoads next = loadTile(tileStart(kNext), mode);
      Value parity = b.rem(b.sub(k, first), b.index(2));
      Value buf = b.mul(parity, b.index(bufferSize));
      SmallVector<Value> actLoads(args.drop_front(h.size()));
      auto compute = [&](bool masked) {
        return computeTile(tileStart(k), items, mode, masked, actLoads, buf,
                           b.index(0), args.take_front(h.size()));
      };
      SmallVector<Value> out;
      if (!isMasked) {
        out = compute(/*masked=*/false);
      } else {
        out = b.ifThenElse(
            isMasked(k), ValueRange(h).getTypes(),
            [&] { return compute(/*masked=*/true); },
            [&] { return compute(/*masked=*/false); });
      }
      if (!next.bc.empty())
        storeBC(next, b.mul(b.sub(b.index(1), parity), b.index(bufferSize)),
                mode);
      out.append(next.act.begin(), next.act.end());
      scf::YieldOp::create(b, out);
    }
    return SmallVector<Value>(loop.getResults().take_front(h.size()));
  };
  return b.ifThenElse(b.cmpLT(first, full), ValueRange(h).getTypes(), pipelined,
                      [&] { return h; });
}

/// The windows of a channel-first row that is not 16-byte aligned. Each
/// thread shifts its windows by up to one vector (forward: back to the
/// aligned element at or before lo; reverse: forward from hi) so that its u,
/// Δ, z and y accesses stay 128-bit ones. Window 0 reaches past the segment,
/// windows 1 .. full-1 lie inside it, the rest (as many as the most shifted
/// channel needs) reach past it again; all run on the block's B/C tile,
/// staged one vector wider. Where the operands' sizes are multiples of the
/// vector width, every window runs pipelined on vectors, the outer ones
/// masked (their vectors lie in the tensor, or hold only masked steps where
/// they are clamped into it); else the outer ones run as edge tiles.
SmallVector<Value> ScanKernelEmitter::emitShiftedTiles(
    Value full, function_ref<Value(Value)> tileStart, ValueRange carried) {
  Value width = b.index(actWidth), one = b.index(1);
  Value misalign = b.rem(inIndex(reverse ? hi : lo), width);
  // Forward windows start m steps early; reverse ones end (V-m) % V late.
  shift = reverse ? b.rem(b.sub(width, misalign), width)
                  : b.sub(b.index(0), misalign);
  Value windows = arith::CeilDivUIOp::create(
      b, b.add(b.sub(hi, lo), b.sub(width, one)), b.index(items));
  SmallVector<Value> h;
  if (channels % actWidth == 0) {
    clampVectors = true;
    auto isMasked = [&](Value k) {
      return arith::OrIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, k, b.index(0)),
          arith::CmpIOp::create(b, arith::CmpIPredicate::uge, k, full));
    };
    h = emitPipelinedTiles(TileMode::Shifted, b.index(0), windows, tileStart,
                           carried, isMasked);
    clampVectors = false;
  } else {
    h = emitEdgeTiles(b.index(0), one, tileStart, carried);
    h = emitPipelinedTiles(TileMode::Shifted, one, full, tileStart, h);
    h = emitEdgeTiles(arith::MaxUIOp::create(b, full, one), windows, tileStart,
                      h);
  }
  shift = Value();
  return h;
}

/// Scans the steps [lo, hi): whole tiles (walked backwards for a reverse
/// scan), then the window they leave as an edge tile.
SmallVector<Value> ScanKernelEmitter::emitSegment(ValueRange carried) {
  SmallVector<Value> h(carried.begin(), carried.end());
  Value itemsV = b.index(items);
  Value steps = b.sub(hi, lo);
  Value full = b.div(steps, itemsV);
  Value windows = arith::CeilDivUIOp::create(b, steps, itemsV);
  auto tileStart = [&](Value k) {
    if (!reverse)
      return b.add(lo, b.mul(k, itemsV));
    return b.sub(hi, b.mul(b.add(k, b.index(1)), itemsV));
  };
  // Channel-first rows are 16-byte aligned when L is a multiple of the
  // vector width (segments start at multiples of the tile): then 128-bit
  // loads from aligned tiles, else from per-thread shifted windows.
  int64_t vecAlign = actWidth;
  for (const BCOperand *bc : {&bOp, &cOp})
    if (bc->slot >= 0)
      vecAlign = std::max(vecAlign, vectorWidth(bc->mem.getType()));
  // A bidirectional scan shifts the windows of u and Δ (2D channels) as
  // those of z and y (D): row starts agree on their misalignment when D is
  // a multiple of the vector width.
  if (!cf || items % vecAlign != 0 || actWidth == 1 ||
      (directions > 1 && channels % actWidth != 0)) {
    h = emitPipelinedTiles(TileMode::Scalar, b.index(0), full, tileStart, h);
    return emitEdgeTiles(full, windows, tileStart, h);
  }
  Value aligned = arith::CmpIOp::create(
      b, arith::CmpIPredicate::eq, b.rem(len, b.index(vecAlign)), b.index(0));
  return b.ifThenElse(
      aligned, ValueRange(h).getTypes(),
      [&] {
        SmallVector<Value> tiled = emitPipelinedTiles(
            TileMode::Vector, b.index(0), full, tileStart, h);
        return emitEdgeTiles(full, windows, tileStart, tiled);
      },
      [&] { return emitShiftedTiles(full, tileStart, h); });
}

/// Starts the segment from the state the earlier segments carry in (the later
/// ones for a reverse scan): per earlier segment s, h = 2^(A·log2e·ΣΔ_s)·h +
/// h_end[s].
SmallVector<Value> ScanKernelEmitter::carryIn(ValueRange hIn, Value state,
                                              Value deltaSum) {
  Value count =
      reverse ? b.sub(b.sub(numSegments, segment), b.index(1)) : segment;
  auto loop = scf::ForOp::create(b, b.index(0), count, b.index(1), hIn);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(loop.getBody());
  Value k = loop.getInductionVar();
  Value seg = reverse ? b.sub(b.sub(numSegments, k), b.index(1)) : k;
  Value row = carryIndex(seg);
  Value sum = b.loadF32(deltaSum, row);
  Value base = b.add(b.mul(row, b.index(states)), stateBase);
  SmallVector<Value> h(loop.getRegionIterArgs());
  for (int64_t n = 0; n < own; ++n)
    h[n] = b.fma(b.exp2(b.mul(sum, a2[n])), h[n],
                 b.loadF32(state, b.add(base, b.index(n))));
  scf::YieldOp::create(b, h);
  return SmallVector<Value>(loop.getResults());
}

void ScanKernelEmitter::emit(ArrayRef<BlockArgument> args, Value smemBuf) {
  bool scan = role != KernelRole::Carry;
  smem = smemBuf;
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value uArg = nextArg(), deltaArg = nextArg(), aArg = nextArg(),
        bArg = nextArg();
  Value cArg = scan ? nextArg() : Value();
  Value skipArg = scan && op.getD() ? nextArg() : Value();
  Value zArg = role == KernelRole::Scan && op.getZ() ? nextArg() : Value();
  Value biasArg = op.getDeltaBias() ? nextArg() : Value();
  Value initArg = scan && op.getInit() ? nextArg() : Value();
  Value convArg = op.getConvWeight() ? nextArg() : Value();
  Value convBiasArg = op.getConvBias() ? nextArg() : Value();
  Value yArg = scan ? nextArg() : Value();
  Value lastArg = scan && op.getLastState() ? nextArg() : Value();
  // A cross scan is one segment of its static L = H·W: no carries.
  std::optional<ArrayRef<int64_t>> grid = op.getCrossScan();
  Value stateArg = grid ? Value() : nextArg();
  Value deltaSumArg = grid ? Value() : nextArg();
  batch = nextArg();
  len = grid ? b.index((*grid)[0] * (*grid)[1]) : nextArg();
  Value segmentSteps = grid ? len : chunk ? b.index(chunk) : nextArg();

  tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  bIdx = gpu::BlockIdOp::create(b, gpu::Dimension::y);
  actWidth = std::min(vectorWidth(uArg.getType()), items);
  // `lanes` consecutive threads share a channel, lane l keeping states
  // [l, l + 1) · N / lanes.
  d0 = b.mul(block, b.index(threads / lanes));
  d = b.add(d0, blockChannel(b.div(tid, b.index(lanes))));
  lane = b.rem(tid, b.index(lanes));
  stateBase = b.mul(lane, b.index(own));
  Value blockSegment = gpu::BlockIdOp::create(b, gpu::Dimension::z);
  numSegments = std::get<0>(b.segmentBounds(blockSegment, segmentSteps, len));

  Value dN = b.index(inChannels * states);
  Value inSize = b.mul(b.mul(batch, b.index(inChannels)), len);
  Value outSize = b.mul(b.mul(batch, b.index(channels)), len);
  u = b.flatView(uArg, sharedU ? outSize : inSize);
  delta = b.flatView(deltaArg, inSize);
  // A direction kernel writes its slab of the partial sums [B, K, L, D].
  outRow = bIdx;
  if (yArg)
    y = b.flatView(yArg, role == KernelRole::Direction
                             ? b.mul(outSize, b.index(directions))
                             : outSize);
  if (zArg)
    z = b.flatView(zArg, outSize);
  aMem = b.flatView(aArg, dN);
  if (skipArg)
    skipMem = b.flatView(skipArg, b.index(inChannels));
  if (biasArg)
    biasMem = b.flatView(biasArg, b.index(inChannels));
  convWidth = op.getConvWidth();
  if (convArg)
    convMem = b.flatView(convArg, b.index(inChannels * convWidth));
  if (convBiasArg)
    convBiasMem = b.flatView(convBiasArg, b.index(inChannels));

  int64_t slots = 0;
  auto setupBC = [&](Value arg, Value operand, BCOperand &bc) {
    bc.kind = getBCKind(operand.getType());
    bc.groups = getNumGroups(operand.getType(), op.getLayout());
    if (bc.kind == BCKind::PerChannel) {
      bc.mem = b.flatView(arg, dN);
      return;
    }
    bc.slot = slots++;
    bc.mem = b.flatView(
        arg,
        b.mul(b.mul(b.mul(batch, b.index(bc.groups)), b.index(states)), len));
  };
  setupBC(bArg, op.getB(), bOp);
  if (cArg)
    setupBC(cArg, op.getC(), cOp);
  // Shifted windows need the tile plus one vector of B/C.
  stageSteps = cf && actWidth > 1 ? items + actWidth : items;
  bufferSize = slots * stepStride * stageSteps;

  Value stateSize = b.mul(batch, dN);
  if (stateArg) {
    Value carrySize = b.mul(b.mul(batch, b.sub(numSegments, b.index(1))),
                            b.index(inChannels));
    carryState = b.flatView(stateArg, b.mul(carrySize, b.index(states)));
    carryDelta = b.flatView(deltaSumArg, carrySize);
  }
  if (initArg)
    init = b.flatView(initArg, stateSize);
  if (lastArg)
    last = b.flatView(lastArg, stateSize);

  if (role == KernelRole::Direction) {
    // Block row z scans direction z: one case per direction, each
    // specialized (its walk, reversal and index map are static).
    SmallVector<int64_t> cases =
        llvm::to_vector(llvm::seq<int64_t>(directions));
    auto dispatch = scf::IndexSwitchOp::create(b, TypeRange(), blockSegment,
                                               cases, cases.size());
    OpBuilder::InsertionGuard g(b);
    b.createBlock(&dispatch.getDefaultRegion());
    scf::YieldOp::create(b);
    for (auto [k, region] : llvm::enumerate(dispatch.getCaseRegions())) {
      b.createBlock(&region);
      emitDirection(k, b.index(0), segmentSteps);
      scf::YieldOp::create(b);
    }
    return;
  }
  for (int64_t k = 0; k < directions; ++k) {
    // The next direction reads the sums this one stored, other threads'
    // where their windows differ.
    if (k > 0 && scan)
      gpu::BarrierOp::create(b);
    emitDirection(k, blockSegment, segmentSteps);
  }
}

/// Scans direction `k` (of a bidirectional scan; else the only one) of the
/// block's channels over its segment: from block row `blockSegment` of the
/// grid, of `segmentSteps` steps.
void ScanKernelEmitter::emitDirection(int64_t k, Value blockSegment,
                                      Value segmentSteps) {
  bool scan = role != KernelRole::Carry;
  // Directions in the order of the stacked operands: forward, then backward
  // (bidirectional); rows, columns, rows backward, columns backward (cross).
  reverse = op.getReverse() || (directions == 2 && k == 1) ||
            (directions == 4 && k >= 2);
  columnMajor = directions == 4 && k % 2 == 1;
  // A direction kernel leaves the sum and the gate to the merge kernel.
  bool alone = role == KernelRole::Direction;
  gated = !alone && k == directions - 1;
  accumulate = !alone && k > 0;
  if (alone)
    outRow = b.add(b.mul(bIdx, b.index(directions)), b.index(k));
  c = b.add(d, b.index(k * channels));
  // The carry kernel's grid leaves out the segment scanned last, which
  // carries nothing on: the first of a reverse scan.
  segment = blockSegment;
  if (!scan && reverse)
    segment = b.add(segment, b.index(1));
  std::tie(std::ignore, lo, hi) = b.segmentBounds(segment, segmentSteps, len);

  Value aRow = b.add(b.mul(c, b.index(states)), stateBase);
  a2.clear();
  for (int64_t n = 0; n < own; ++n)
    a2.push_back(
        b.mul(b.loadF32(aMem, b.add(aRow, b.index(n))), b.f32(M_LOG2E)));
  skip = skipMem ? b.loadF32(skipMem, c) : Value();
  bias = biasMem ? b.loadF32(biasMem, c) : Value();
  convTaps.clear();
  for (int64_t k = 0; k < convWidth; ++k)
    convTaps.push_back(
        b.loadF32(convMem, b.add(b.mul(c, b.index(convWidth)), b.index(k))));
  convBias = convBiasMem ? b.loadF32(convBiasMem, c) : Value();
  for (BCOperand *bc : {&bOp, &cOp}) {
    if (!bc->mem || bc->kind != BCKind::PerChannel)
      continue;
    bc->perChannel.clear();
    for (int64_t n = 0; n < own; ++n)
      bc->perChannel.push_back(b.loadF32(bc->mem, b.add(aRow, b.index(n))));
  }
  // Every channel of a block belongs to one group (the tile guarantees it).
  int64_t groups = std::max(bOp.groups, cOp.mem ? cOp.groups : 1);
  group0 =
      b.div(b.add(d0, b.index(k * channels)), b.index(inChannels / groups));

  Value stateRow =
      b.add(b.mul(b.add(b.mul(bIdx, b.index(inChannels)), c), b.index(states)),
            stateBase);
  SmallVector<Value> h;
  for (int64_t n = 0; n < own; ++n)
    h.push_back(init ? b.loadF32(init, b.add(stateRow, b.index(n)))
                     : b.f32(0.0));

  if (!scan) {
    OpBuilder::InsertionGuard g(b);
    h.push_back(b.f32(0.0)); // Σ Δ
    h = emitSegment(h);
    Value row = carryIndex(segment);
    Value base = b.add(b.mul(row, b.index(states)), stateBase);
    for (int64_t n = 0; n < own; ++n)
      b.storeF32(h[n], carryState, b.add(base, b.index(n)));
    // Every lane summed the same Δ.
    b.ifThen(lanes > 1 ? isLane(0) : Value(),
             [&] { b.storeF32(h[own], carryDelta, row); });
    return;
  }

  if (carryState)
    h = carryIn(h, carryState, carryDelta);
  h = emitSegment(h);
  if (!last)
    return;
  // Only the segment scanned last holds the final state.
  Value lastSeg = reverse ? b.index(0) : b.sub(numSegments, b.index(1));
  b.ifThen(b.cmpEQ(segment, lastSeg), [&] {
    for (int64_t n = 0; n < own; ++n)
      b.storeF32(h[n], last, b.add(stateRow, b.index(n)));
  });
}
