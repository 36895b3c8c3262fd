//===- SSDKernelWalk.cpp - The SSD kernel's walk over its work ------------===//
//
// SSDKernelEmitter's kernel body (SSDChunkToGPU.cpp describes the kernel):
// the setup and workgroup memory, the state's loads, stores and carry-ins,
// the software-pipelined walk over a unit's chunks, the persistent scan's
// shares and hand-offs, and the entry of both kernels.
//
//===----------------------------------------------------------------------===//

#include "SSDKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ssm;
using namespace mlir::ssm::ssd;

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
  if (s.splitDecay(role)) {
    sRunTotals = carve({(s.ahead() + 1) * s.warps}, b.getF32Type());
    offset = llvm::alignTo(offset, 16);
  }
  if (s.tma) {
    sharedBase = memref::ExtractAlignedPointerAsIndexOp::create(b, raw);
    offBar = offset;
  }
}

/// This lane's state tiles: per owned column block, warpStates() / 8
/// accumulators of rows pcol + lane/4 (+8) and columns n0 + 8·nt +
/// 2·(lane%4) (+1), n0 = stateBase(), a pair each.
void SSDKernelEmitter::forEachStatePair(
    function_ref<void(Value row, Value col, int64_t at)> fn) {
  int64_t at = 0;
  Value n0 = stateBase();
  for (int64_t j = 0; j < s.blocksPerWarp(); ++j)
    for (int64_t nt = 0; nt < s.warpStates() / kTileCols; ++nt)
      for (int64_t h = 0; h < 2; ++h, at += 2)
        fn(b.add(blockColumn(j), b.add(quad, b.index(h * 8))),
           b.add(n0, b.add(b.index(nt * kTileCols), pairCol)), at);
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
  // bench/HISTORY.md sessions 23-24). Chunk indices fit: 2^32 chunks would
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
  for (int64_t k = 0; k <= s.ahead(); ++k) {
    Value chunk = b.index(k), t = chunkStart(chunk);
    if (k < s.ahead()) {
      if (s.warpgroup)
        stageChunkCores(t, chunk);
      else
        stageChunk(t, chunkBuffer(chunk, s.buffers));
      NVVM::CpAsyncCommitGroupOp::create(b);
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
  int64_t ahead = s.ahead(), perLane = s.dtPerLane(role);
  bool scan = role == SSDRole::Scan;
  Value numChunks =
      arith::CeilDivUIOp::create(b, b.sub(hi, lo), b.index(s.chunk))
          .getResult();
  auto rowsOf = [&](Value chunk) {
    return ChunkRows{chunkBuffer(chunk, s.buffers),
                     chunkBuffer(chunk, ahead + 1), chunkBuffer(chunk, ahead)};
  };
  for (int64_t k = 0; k < ahead; ++k) {
    Value chunk = b.index(k), t = chunkStart(chunk);
    stageChunkDecay(start.dt[k], t, chunkBuffer(chunk, ahead + 1));
  }
  if (scan && ahead == 2) {
    // The first chunk's G, for the loop's first iteration.
    NVVM::CpAsyncWaitGroupOp::create(b, 1);
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
    NVVM::CpAsyncCommitGroupOp::create(b);
    dtLater = loadDt(b.add(tAhead, b.index(s.chunk)));
    // All groups but the newest (the next chunk's) have landed.
    NVVM::CpAsyncWaitGroupOp::create(b, 1);
    if (s.tma)
      awaitTma(c);
    current = rowsOf(c);
    gpu::BarrierOp::create(b);
  } else {
    dtLater = loadDt(b.add(tAhead, b.index(s.chunk)));
    // The next chunk's copies, issued a chunk ago, have landed; the barrier
    // publishes them with its G and Acum, and ends every read of the stage
    // that chunk c + 2 takes over.
    NVVM::CpAsyncWaitGroupOp::create(b, 0);
    current = rowsOf(c);
    gpu::BarrierOp::create(b);
  }
  // Two chunks ahead, the copies of chunk c + 2 may start anywhere past the
  // barrier. Where their ~100 integer instructions go moves the 32-step
  // scan by up to 10 % (bench/HISTORY.md, session 23): in each warp's
  // straight line after its state term (T1 0.313 -> 0.309 ms), or, where
  // the epilogue loads z, just before the state update (T1 + z 0.392 ->
  // 0.383); in the carry after its decay staging, also just before the
  // update (T3 0.665 -> 0.658, session 42); elsewhere right after the
  // barrier.
  enum class CopyPoint { AfterBarrier, AfterStateTerm, BeforeUpdate };
  CopyPoint copyPoint = CopyPoint::AfterBarrier;
  if (ahead == 2 && scan && s.interleaved())
    copyPoint =
        gatesInKernel(op) ? CopyPoint::BeforeUpdate : CopyPoint::AfterStateTerm;
  if (ahead == 2 && !scan)
    copyPoint = CopyPoint::BeforeUpdate;
  auto stageAhead = [&](CopyPoint point) {
    if (ahead == 1 || point != copyPoint)
      return;
    stageChunk(tAhead, chunkBuffer(cAhead, s.stages));
    NVVM::CpAsyncCommitGroupOp::create(b);
  };
  stageAhead(CopyPoint::AfterBarrier);
  // Chunk c + ahead's Acum and Δ go to the buffer of chunk c - 1, which
  // every warp is done with once past the barrier.
  SmallVector<Value> dtAhead(carried.take_back(perLane));
  auto stageAheadDecay = [&] {
    stageDecay(dtAhead, tAhead, chunkBuffer(cAhead, ahead + 1));
  };
  SmallVector<Value> ends = runEnds();
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
      state = updateState(state, ends, xTiles);
    };
    if (s.interleaved()) {
      finishOutputs(outputs, t0, update);
    } else {
      finishOutputs(outputs, t0, [](ArrayRef<Fragment>) {});
      update({});
    }
  } else {
    stageChunkDecay(dtAhead, tAhead, chunkBuffer(cAhead, ahead + 1));
    stageAhead(CopyPoint::BeforeUpdate);
    state = updateState(state, ends);
  }
  // One chunk ahead in two buffers, the next iteration's copies overwrite
  // this chunk's stage; in three, the stage of the chunk before, which every
  // warp left before the barrier at the top of this one.
  if (ahead == 1 && s.buffers == 2)
    gpu::BarrierOp::create(b);
  SmallVector<Value> yielded;
  for (const Fragment &tile : state)
    llvm::append_range(yielded, tile);
  yielded.push_back(b.add(carried[numState], ends.front()));
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
  b.ifThen(b.cmpEQ(tid, b.index(0)), [&] {
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
  b.ifThen(b.cmpEQ(tid, b.index(0)), [&] {
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
  NVVM::CpAsyncCommitGroupOp::create(b);
  NVVM::CpAsyncWaitGroupOp::create(b, 0);
  gpu::BarrierOp::create(b);
  // This piece's first loads, in flight while its state is awaited.
  PipelineStart pipeline = startPipeline();

  // A unit's first piece starts from the unit's state; a later one from
  // the state the previous block hands on.
  SmallVector<Type> stateTypes(s.stateValues(), b.getF32Type());
  SmallVector<Value> state = b.ifThenElse(
      b.cmpEQ(chunkLo, b.index(0)), stateTypes, [&] { return unitStart(init); },
      [&] { return awaitHandoff(b.sub(worker, b.index(1))); });
  SmallVector<Value> end = (s.warpgroup ? scanChunksWarpgroup(state, pipeline)
                                        : scanChunks(state, pipeline))
                               .first;

  // A piece that ends inside its unit hands its state on.
  Value handsOver = b.cmpLT(chunkHi, perUnit);
  auto handOn = [&] { handOff(end, worker); };
  if (!final) {
    b.ifThen(handsOver, handOn);
    return;
  }
  // Only the last segment ends with the final state.
  b.ifThenElse(handsOver, handOn, [&] {
    b.ifThen(b.cmpEQ(segment, b.sub(numSegments, b.index(1))),
             [&] { storeState(end, final, stateSlab()); });
  });
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
  SmallVector<Value> end;
  Value decaySum;
  std::tie(end, decaySum) = scanChunks(
      SmallVector<Value>(s.stateValues(), b.f32(0.0)), startPipeline());
  Value slab = carrySlab(segment);
  storeState(end, carryState, slab);
  // One thread of the block's first head-dim tile writes the decay sum.
  b.ifThen(b.cmpEQ(b.add(tid, col0), b.index(0)),
           [&] { b.storeF32(decaySum, carryDecay, slab); });
}
