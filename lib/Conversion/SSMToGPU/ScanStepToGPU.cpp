//===- ScanStepToGPU.cpp - ssm.scan_step to a decode kernel -----*- C++ -*-===//
//
// Builds the decode-step kernel from an ssm.scan_step. Decoding is pure
// bandwidth: the state is read and written once, so the kernel is laid out
// for coalesced 128-bit state accesses. A group of lanes owns one state row
// (one (b, h, p) of Mamba-2 or (b, d) of Mamba-1) and walks its N values
// lane-interleaved, four at a time, two vectors a lane; the row's output C·S
// is reduced across the group with shuffles. The state is updated in place:
// a lane loads all of its state, and the row's gate, before its first store.
// A Mamba-1 thread does so for two batch entries of its row, which share the
// row's A[d] (batchEntriesPerThread).
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::ssm;

/// Threads per block of a decode kernel.
static constexpr int64_t kStepThreads = 128;

/// State values per lane access: one 128-bit f32 vector.
static constexpr int64_t kStateVector = 4;

/// State vectors per lane: two, so that a lane has 32 bytes of state in
/// flight and a row's per-step work (Δ, its softplus, the gate) is repeated
/// by half as many lanes (H200: Mamba-1 at B 256 51.7 -> 50.6 us, Mamba-2
/// 335 -> 329 us, against one vector a lane; four lost).
static constexpr int64_t kVectorsPerLane = 2;

/// Lanes per state row: a power of two that divides N's vectors, with at
/// least kVectorsPerLane of them a lane where N has enough, and at most a
/// warp, so that rows tile a warp exactly and every vector has its lane.
static int64_t lanesPerRow(int64_t states) {
  int64_t vectors = states / kStateVector;
  int64_t lanes = 1;
  while (lanes * 2 <= 32 && lanes * 2 * kVectorsPerLane <= vectors &&
         vectors % (lanes * 2) == 0)
    lanes *= 2;
  return lanes;
}

namespace {
/// The kernel's view of a decode step: Mamba-2 rows are (h, p) with a scalar
/// decay per head, Mamba-1 rows are channels d with a decay per (d, n).
struct StepShape {
  bool mamba2;
  int64_t rows;     // rows per batch entry: H·P or D
  int64_t headdim;  // P (1 for Mamba-1)
  int64_t channels; // H or D: the length of A's first dimension, D and bias
  int64_t states;   // N
  int64_t groups;   // G
};
} // namespace

static StepShape getStepShape(ScanStepOp op) {
  auto state = op.getState().getType();
  bool mamba2 = state.getRank() == 4;
  int64_t channels = state.getDimSize(1);
  int64_t headdim = mamba2 ? state.getDimSize(2) : 1;
  return {mamba2,
          channels * headdim,
          headdim,
          channels,
          state.getDimSize(state.getRank() - 1),
          op.getB().getType().getDimSize(1)};
}

/// Batch entries each thread updates: two for Mamba-1, whose rows' A[d]
/// vectors are then loaded once for both (H200, B 64: 16.9 -> 16.0 us, 85
/// -> 89 % of the same-size copy; B 256 50.5 -> 49.8; four or eight entries
/// lost, bench/HISTORY.md session 29). Mamba-2's A is one scalar a head: two
/// entries gained nothing there.
static int64_t batchEntriesPerThread(const StepShape &shape) {
  return shape.mamba2 ? 1 : 2;
}

/// Emits the kernel body; `args` follow the parameter order of
/// the launch lowerToKernels builds.
static void emitStepBody(ScanStepOp op, const StepShape &shape,
                         KernelBodyBuilder &b, ArrayRef<BlockArgument> args) {
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value stateArg = nextArg(), xArg = nextArg(), deltaArg = nextArg(),
        aArg = nextArg(), bArg = nextArg(), cArg = nextArg();
  Value skipArg = op.getD() ? nextArg() : Value();
  Value zArg = op.getZ() ? nextArg() : Value();
  Value biasArg = op.getDeltaBias() ? nextArg() : Value();
  Value yArg = nextArg();
  Value batch = nextArg();

  int64_t lanes = lanesPerRow(shape.states);
  int64_t rowsPerBlock = kStepThreads / lanes;
  int64_t vectorsPerLane = shape.states / kStateVector / lanes;
  int64_t n = shape.states;
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = b.rem(tid, b.index(lanes));
  Value row = b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::x),
                          b.index(rowsPerBlock)),
                    b.div(tid, b.index(lanes)));
  // Spare rows of the last block redo the last row but store nothing, so
  // that every lane of a group takes part in the shuffles.
  Value valid = b.cmpLT(row, b.index(shape.rows));
  row = arith::MinUIOp::create(b, row, b.index(shape.rows - 1));
  Value channel = b.div(row, b.index(shape.headdim));
  Value group = b.div(channel, b.index(shape.channels / shape.groups));
  // Lane-interleaved vectors, so that a row's lanes read one contiguous run.
  SmallVector<Value> n0s;
  for (int64_t j = 0; j < vectorsPerLane; ++j)
    n0s.push_back(
        b.mul(b.add(b.index(j * lanes), lane), b.index(kStateVector)));

  // The row's weights: the Δ bias, the skip weight and A·log2 e (Mamba-2's
  // one scalar, or Mamba-1's A[d] vectors of the lane).
  Value perChannel = b.index(shape.channels);
  Value bias =
      biasArg ? b.loadF32(b.flatView(biasArg, perChannel), channel) : Value();
  Value skip =
      skipArg ? b.loadF32(b.flatView(skipArg, perChannel), channel) : Value();
  Value aMem = b.flatView(
      aArg, b.index(shape.mamba2 ? shape.channels : shape.channels * n));
  Value log2e = b.f32(M_LOG2E);
  Value rowALog2e =
      shape.mamba2 ? b.mul(b.loadF32(aMem, channel), log2e) : Value();
  SmallVector<SmallVector<Value>> aLog2e;
  if (!shape.mamba2) {
    for (Value n0 : n0s) {
      SmallVector<Value> a =
          b.unpackF32(b.loadVector(aMem, b.add(b.mul(channel, b.index(n)), n0),
                                   kStateVector, /*aligned=*/true));
      for (Value &v : a)
        v = b.mul(v, log2e);
      aLog2e.push_back(std::move(a));
    }
  }

  Value rowsV = b.mul(batch, b.index(shape.rows));
  Value bcSize = b.mul(batch, b.index(shape.groups * n));
  Value bMem = b.flatView(bArg, bcSize), cMem = b.flatView(cArg, bcSize);
  Value stateMem = b.flatView(stateArg, b.mul(rowsV, b.index(n)));
  Value xMem = b.flatView(xArg, rowsV);
  Value deltaMem = b.flatView(deltaArg, b.mul(batch, perChannel));
  Value zMem = zArg ? b.flatView(zArg, rowsV) : Value();
  Value yMem = b.flatView(yArg, rowsV);

  // The step's inputs first, for every batch entry of the thread: the
  // lane's state before any of it is stored (the loads could not pass the
  // in-place stores), and the gate, whose latency would otherwise follow the
  // reduction. A block row's first entry is in the batch (the grid's y is
  // ceil(B / perThread)); later ones past it load the last entry's and store
  // nothing.
  struct Entry {
    Value bIdx, at, store;
    SmallVector<Value> stateAts;
    SmallVector<SmallVector<Value>> states;
    Value x, dt, gate;
  };
  int64_t perThread = batchEntriesPerThread(shape);
  Value bFirst =
      b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::y), b.index(perThread));
  SmallVector<Entry> entries(perThread);
  for (auto [i, en] : llvm::enumerate(entries)) {
    en.bIdx = b.add(bFirst, b.index(i));
    en.store = valid;
    if (i > 0) {
      en.store = arith::AndIOp::create(b, valid, b.cmpLT(en.bIdx, batch));
      en.bIdx = arith::MinUIOp::create(b, en.bIdx, b.sub(batch, b.index(1)));
    }
    en.at = b.add(b.mul(en.bIdx, b.index(shape.rows)), row);
    Value stateRow = b.mul(en.at, b.index(n));
    for (Value n0 : n0s) {
      en.stateAts.push_back(b.add(stateRow, n0));
      en.states.push_back(b.unpackF32(b.loadVector(
          stateMem, en.stateAts.back(), kStateVector, /*aligned=*/true)));
    }
    en.x = b.loadF32(xMem, en.at);
    en.dt = b.loadF32(deltaMem, b.add(b.mul(en.bIdx, perChannel), channel));
    en.gate = zMem ? b.loadF32(zMem, en.at) : Value();
  }
  for (Entry &en : entries) {
    Value dt = en.dt;
    if (bias)
      dt = b.add(dt, bias);
    if (op.getDeltaSoftplus())
      dt = b.softplus(dt);
    Value dtx = b.mul(dt, en.x);
    // Mamba-2 decays the whole row by one factor.
    Value rowDecay = rowALog2e ? b.exp2(b.mul(dt, rowALog2e)) : Value();
    Value bcRow =
        b.mul(b.add(b.mul(en.bIdx, b.index(shape.groups)), group), b.index(n));

    Value acc = b.f32(0.0);
    for (auto [j, n0] : llvm::enumerate(n0s)) {
      SmallVector<Value> &s = en.states[j];
      // B and C of the lane's states: one 8- or 16-byte vector each.
      Value bcAt = b.add(bcRow, n0);
      SmallVector<Value> bv =
          b.unpackF32(b.loadVector(bMem, bcAt, kStateVector, /*aligned=*/true));
      SmallVector<Value> cv =
          b.unpackF32(b.loadVector(cMem, bcAt, kStateVector, /*aligned=*/true));
      for (int64_t e = 0; e < kStateVector; ++e) {
        Value decay = rowDecay ? rowDecay : b.exp2(b.mul(dt, aLog2e[j][e]));
        s[e] = b.fma(decay, s[e], b.mul(dtx, bv[e]));
        acc = b.fma(cv[e], s[e], acc);
      }
      Value stateAt = en.stateAts[j];
      b.ifThen(en.store, [&] {
        b.storeVectorF32(s, stateMem, stateAt, /*aligned=*/true);
      });
    }

    // Sum the row's partial outputs over its lanes.
    for (int64_t offset = lanes / 2; offset >= 1; offset /= 2)
      acc = b.add(acc, b.shuffleXor(acc, offset));
    Value first =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, b.index(0));
    b.ifThen(arith::AndIOp::create(b, en.store, first), [&] {
      Value y = acc;
      if (skip)
        y = b.fma(skip, en.x, y);
      if (en.gate)
        y = b.mul(y, b.silu(en.gate));
      b.storeF32(y, yMem, en.at);
    });
  }
}

LogicalResult mlir::ssm::checkKernels(ScanStepOp op, const KernelTarget &) {
  int64_t states = getStepShape(op).states;
  if (states % kStateVector != 0)
    return op.emitOpError("state size N = ")
           << states << " must be a multiple of " << kStateVector
           << " for the decode kernel";
  return success();
}

FailureOr<LoweredOp> mlir::ssm::lowerToKernels(ScanStepOp op,
                                               const IRMapping &buffers,
                                               OpBuilder &host,
                                               const KernelTarget &target,
                                               StringRef name) {
  StepShape shape = getStepShape(op);
  Location loc = op.getLoc();
  Value stateBuf = buffers.lookup(op.getState());
  Value batch = memref::DimOp::create(host, loc, stateBuf, 0);
  KernelLaunch launch;
  launch.params.push_back({stateBuf, /*readOnly=*/false});
  for (Value operand : {op.getX(), op.getDelta(), op.getA(), op.getB(),
                        op.getC(), op.getD(), op.getZ(), op.getDeltaBias()})
    if (operand)
      launch.params.push_back({buffers.lookup(operand)});
  launch.params.push_back({buffers.lookup(op.getY()), /*readOnly=*/false});
  launch.params.push_back({batch});

  int64_t rowsPerBlock = kStepThreads / lanesPerRow(shape.states);
  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  // The batch in y, batchEntriesPerThread entries a block.
  int64_t perThread = batchEntriesPerThread(shape);
  Value batchBlocks =
      perThread == 1
          ? batch
          : arith::CeilDivUIOp::create(host, loc, batch, cst(perThread))
                .getResult();
  launch.grid = {cst((shape.rows + rowsPerBlock - 1) / rowsPerBlock),
                 batchBlocks, cst(1)};
  launch.block = {kStepThreads, 1, 1};
  launch.attrs = {host.getNamedAttr("ssm.op", host.getStringAttr("scan_step"))};
  launch.kernel = createKernel(host, loc, target.module, name, launch, {});

  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  emitStepBody(op, shape, body, launch.kernel.getArguments());
  LoweredOp lowered;
  lowered.launches.push_back(std::move(launch));
  return lowered;
}
