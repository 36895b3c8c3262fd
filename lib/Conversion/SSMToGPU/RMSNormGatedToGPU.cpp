//===- RMSNormGatedToGPU.cpp - Gated RMSNorm to a kernel --------*- C++ -*-===//
//
// Builds the gated RMSNorm kernel, of ssm.rms_norm_gated or as the epilogue
// another lowering (the SSD scan) launches after its own kernel. The norm is
// memory-bound, so the kernel reads y and z once and writes the output once:
// a team of lanes owns one (row, group), loads the group with 128-bit vectors
// into registers, reduces its sum of squares (xor shuffles within a warp, then
// one workgroup-memory slot per warp), and scales the values it still holds.
// Teams are sized for at most 32 elements per lane: a team of more than a
// warp is a block of its own, smaller teams share blocks of 128 threads.
// Grid: x over the second-to-last dimension (by teams), y over the product
// of the dimensions before it, z over the groups of a row.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::ssm;

/// Elements of a group each lane aims to hold: 64 bytes of bf16 per tensor in
/// flight per lane, and few enough f32 registers that no variant spills.
static constexpr int64_t kLaneValues = 32;

/// Threads per block when several small-group teams share it.
static constexpr int64_t kSharedBlock = 128;

/// Largest team: one block.
static constexpr int64_t kMaxLanes = 1024;

/// Largest grid z, which counts the groups of a row.
static constexpr int64_t kMaxGroups = 65535;

namespace {
/// How a team of lanes covers one group of `vectors` vectors of `width`
/// elements (16 bytes of the narrowest element type): lane l holds vectors l, l
/// + lanes, ... so that each step of the team reads one contiguous run.
struct NormTiling {
  int64_t width;   // elements per vector access
  int64_t vectors; // vectors per group
  int64_t lanes;   // a power of two up to 32, or a multiple of 32
  int64_t items;   // vectors per lane; the last may be partial
  int64_t teams;   // teams per block: 128 / lanes up to a warp, else 1

  int64_t blockSize() const { return lanes * teams; }
  int64_t warps() const { return lanes / 32; }
  /// Whether vector slot `item` runs past the group for some lanes.
  bool isPartial(int64_t item) const { return (item + 1) * lanes > vectors; }
};

/// The kernel's static description, shared by the host and body builders.
struct NormKernel {
  NormTiling tiling;
  /// The shape of the output; all but the last dimension are rows.
  SmallVector<int64_t> shape;
  int64_t groupSize;
  double eps;
  bool normBeforeGate;
  bool gated;

  int64_t dim() const { return shape.back(); }
  int64_t groups() const { return dim() / groupSize; }
  /// The rows per grid-x block row: the second-to-last dimension.
  int64_t innerRows() const {
    return shape.size() >= 2 ? shape[shape.size() - 2] : 1;
  }
};
} // namespace

/// The smallest team (power of two up to a warp, else a multiple of 32) that
/// holds a group with at most kLaneValues elements per lane.
static NormTiling getTiling(int64_t groupSize, int64_t width) {
  NormTiling t;
  t.width = width;
  t.vectors = groupSize / width;
  int64_t lanes =
      llvm::divideCeil(t.vectors, std::max<int64_t>(1, kLaneValues / width));
  if (lanes <= 32) {
    t.lanes = llvm::PowerOf2Ceil(lanes);
    t.teams = kSharedBlock / t.lanes;
  } else {
    t.lanes = llvm::alignTo(lanes, 32);
    t.teams = 1;
  }
  t.items = llvm::divideCeil(t.vectors, t.lanes);
  return t;
}

/// Whether `v` is a contiguous memref of an element type the kernel reads.
/// A ranked tensor, or a memref of the identity layout, of f32, f16 or bf16.
static bool isSupportedOperand(ShapedType type) {
  auto memref = dyn_cast_or_null<MemRefType>(type);
  return (isa_and_nonnull<RankedTensorType>(type) ||
          (memref && memref.getLayout().isIdentity())) &&
         (type.getElementType().isF32() || type.getElementType().isF16() ||
          type.getElementType().isBF16());
}

/// Checks the operand types (tensors, or the buffers that hold them; a null
/// `z`: no gate) and sizes the kernel supports; returns its description or
/// emits an error at `loc`.
static FailureOr<NormKernel> getNormKernel(Location loc, ShapedType y,
                                           ShapedType z, ShapedType weight,
                                           ShapedType out, int64_t groupSize,
                                           double eps, bool normBeforeGate) {
  for (auto [name, type] : {std::pair<StringRef, ShapedType>{"y", y},
                            {"z", z},
                            {"weight", weight},
                            {"out", out}})
    if ((type || name != "z") && !isSupportedOperand(type))
      return emitError(loc) << "gated RMSNorm kernel: '" << name
                            << "' must be a ranked tensor or contiguous "
                               "memref of f32, f16 or bf16";
  ArrayRef<int64_t> shape = out.getShape();
  if (shape.empty() || ShapedType::isDynamic(shape.back()))
    return emitError(loc) << "gated RMSNorm kernel: the output must have a "
                             "static last dimension, got "
                          << out;
  for (ShapedType type : {y, z})
    if (type && type.getShape() != shape)
      return emitError(loc)
             << "gated RMSNorm kernel: y and z must have the output's shape "
             << "(" << out << "), got " << type;
  int64_t dim = shape.back();
  if (weight.getShape() != ArrayRef<int64_t>{dim})
    return emitError(loc) << "gated RMSNorm kernel: weight must be [" << dim
                          << "], got " << weight;
  if (groupSize <= 0 || dim % groupSize != 0)
    return emitError(loc) << "gated RMSNorm kernel: group size " << groupSize
                          << " must divide the last dimension " << dim;

  // One vector access is 16 bytes of the narrowest element type; wider types
  // take two 16-byte accesses per vector.
  int64_t width = vectorWidth(out);
  for (ShapedType type : {y, z})
    if (type)
      width = std::max(width, vectorWidth(type));
  if (groupSize % width != 0)
    return emitError(loc) << "gated RMSNorm kernel: group size " << groupSize
                          << " must be a multiple of " << width
                          << " (16-byte vectors of " << 128 / width
                          << "-bit elements)";
  if (dim / groupSize > kMaxGroups)
    return emitError(loc) << "gated RMSNorm kernel: at most " << kMaxGroups
                          << " groups per row, got " << dim / groupSize;
  NormTiling tiling = getTiling(groupSize, width);
  if (tiling.lanes > kMaxLanes)
    return emitError(loc) << "gated RMSNorm kernel: group size " << groupSize
                          << " is too large (at most "
                          << kMaxLanes * kLaneValues
                          << " elements: 1024 threads holding " << kLaneValues
                          << " each)";
  return NormKernel{tiling, llvm::to_vector(shape), groupSize,
                    eps,    normBeforeGate,         bool(z)};
}

/// The sum of `values`, added pairwise.
static Value sumTree(KernelBodyBuilder &b, SmallVector<Value> values) {
  while (values.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < values.size(); i += 2)
      next.push_back(b.add(values[i], values[i + 1]));
    if (values.size() % 2)
      next.push_back(values.back());
    values = std::move(next);
  }
  return values.front();
}

/// Emits the kernel body. `args` are y, [z], weight, out, then the dynamic
/// sizes of the output's row dimensions in order; `partials` is the
/// workgroup buffer of one sum per warp (null for teams of at most a warp).
static void emitNormBody(const NormKernel &k, KernelBodyBuilder &b,
                         ArrayRef<BlockArgument> args, Value partials) {
  const NormTiling &t = k.tiling;
  unsigned next = 0;
  auto nextArg = [&]() -> Value { return args[next++]; };
  Value yArg = nextArg();
  Value zArg = k.gated ? nextArg() : Value();
  Value wArg = nextArg(), outArg = nextArg();
  SmallVector<Value> rowDims;
  for (int64_t size : ArrayRef<int64_t>(k.shape).drop_back())
    rowDims.push_back(ShapedType::isDynamic(size) ? nextArg() : b.index(size));

  Value rows = b.index(1);
  for (Value size : rowDims)
    rows = b.mul(rows, size);
  Value inner = rowDims.empty() ? b.index(1) : rowDims.back();
  Value total = b.mul(rows, b.index(k.dim()));
  Value yMem = b.flatView(yArg, total), outMem = b.flatView(outArg, total);
  Value zMem = zArg ? b.flatView(zArg, total) : Value();
  Value wMem = b.flatView(wArg, b.index(k.dim()));

  // Grid: x runs over the inner rows (teams of a block on consecutive ones),
  // y over the outer rows, z over the groups of a row.
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = tid, team = b.index(0);
  if (t.teams > 1) {
    lane = b.rem(tid, b.index(t.lanes));
    team = b.div(tid, b.index(t.lanes));
  }
  Value innerRow = b.add(
      b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::x), b.index(t.teams)),
      team);
  // The spare teams of the last block redo its last row but store nothing,
  // so that every lane takes part in the shuffles.
  Value rowValid;
  if (t.teams > 1 &&
      (ShapedType::isDynamic(k.innerRows()) || k.innerRows() % t.teams != 0)) {
    rowValid = b.cmpLT(innerRow, inner);
    innerRow = arith::MinUIOp::create(b, innerRow, b.sub(inner, b.index(1)));
  }
  Value row = b.add(b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::y), inner),
                    innerRow);
  Value groupBase =
      b.mul(gpu::BlockIdOp::create(b, gpu::Dimension::z), b.index(k.groupSize));
  Value base = b.add(b.mul(row, b.index(k.dim())), groupBase);

  // Every load is issued before any use, so a lane has all its vectors of y
  // and z in flight at once. Lanes past the end of a partial slot reload the
  // group's last vector and count nothing.
  SmallVector<Value> offsets, addresses, slotValid, yVecs, zVecs;
  for (int64_t j = 0; j < t.items; ++j) {
    Value q = b.add(b.index(j * t.lanes), lane);
    Value valid;
    if (t.isPartial(j)) {
      valid = b.cmpLT(q, b.index(t.vectors));
      q = arith::MinUIOp::create(b, q, b.index(t.vectors - 1));
    }
    Value offset = b.mul(q, b.index(t.width));
    Value at = b.add(base, offset);
    offsets.push_back(offset);
    addresses.push_back(at);
    slotValid.push_back(valid);
    yVecs.push_back(b.loadVector(yMem, at, t.width, /*aligned=*/true));
    if (zMem)
      zVecs.push_back(b.loadVector(zMem, at, t.width, /*aligned=*/true));
  }

  // The values normalized: y·silu(z) gated before the norm, else y.
  bool gateFirst = k.gated && !k.normBeforeGate;
  SmallVector<SmallVector<Value>> values;
  SmallVector<Value> sums;
  for (int64_t j = 0; j < t.items; ++j) {
    SmallVector<Value> v = b.unpackF32(yVecs[j]);
    if (gateFirst) {
      SmallVector<Value> gate = b.unpackF32(zVecs[j]);
      for (int64_t e = 0; e < t.width; ++e)
        v[e] = b.mul(v[e], b.silu(gate[e]));
    }
    Value sum = b.mul(v[0], v[0]);
    for (Value x : ArrayRef<Value>(v).drop_front())
      sum = b.fma(x, x, sum);
    if (slotValid[j])
      sum = arith::SelectOp::create(b, slotValid[j], sum, b.f32(0.0));
    sums.push_back(sum);
    values.push_back(std::move(v));
  }

  // The team's sum of squares, known to every lane.
  Value sum = sumTree(b, sums);
  for (int64_t offset = std::min<int64_t>(t.lanes, 32) / 2; offset >= 1;
       offset /= 2) {
    sum = b.add(sum, b.shuffleXor(sum, offset));
  }
  if (partials) {
    // Each warp leaves its sum in a slot; after the barrier every lane adds
    // the slots in the same order, so all lanes agree on the result.
    Value warp = b.div(tid, b.index(32));
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq,
                                        b.rem(tid, b.index(32)), b.index(0));
    b.ifThen(first, [&] { memref::StoreOp::create(b, sum, partials, warp); });
    gpu::BarrierOp::create(b);
    SmallVector<Value> slots;
    for (int64_t w = 0; w < t.warps(); ++w)
      slots.push_back(memref::LoadOp::create(b, partials, b.index(w)));
    sum = sumTree(b, slots);
  }
  Value meanSq = b.fma(sum, b.f32(1.0 / double(k.groupSize)), b.f32(k.eps));
  Value rstd = math::RsqrtOp::create(b, meanSq);

  for (int64_t j = 0; j < t.items; ++j) {
    SmallVector<Value> w = b.unpackF32(b.loadVector(
        wMem, b.add(groupBase, offsets[j]), t.width, /*aligned=*/true));
    SmallVector<Value> gate;
    if (k.gated && k.normBeforeGate)
      gate = b.unpackF32(zVecs[j]);
    SmallVector<Value> result;
    for (int64_t e = 0; e < t.width; ++e) {
      Value o = b.mul(values[j][e], b.mul(rstd, w[e]));
      if (!gate.empty())
        o = b.mul(o, b.silu(gate[e]));
      result.push_back(o);
    }
    Value store = rowValid;
    if (slotValid[j])
      store = store ? arith::AndIOp::create(b, store, slotValid[j]).getResult()
                    : slotValid[j];
    b.ifThen(store, [&] {
      b.storeVectorF32(result, outMem, addresses[j], /*aligned=*/true);
    });
  }
}

FailureOr<KernelLaunch> mlir::ssm::buildRMSNormGatedKernel(
    OpBuilder &host, Location loc, gpu::GPUModuleOp module, StringRef name,
    Value y, Value z, Value weight, Value out, int64_t groupSize, double eps,
    bool normBeforeGate) {
  auto typeOf = [](Value v) {
    return v ? cast<ShapedType>(v.getType()) : ShapedType();
  };
  FailureOr<NormKernel> kernel =
      getNormKernel(loc, typeOf(y), typeOf(z), typeOf(weight), typeOf(out),
                    groupSize, eps, normBeforeGate);
  if (failed(kernel))
    return failure();
  const NormTiling &t = kernel->tiling;
  ArrayRef<int64_t> shape = kernel->shape;

  auto cst = [&](int64_t v) { return indexConstant(host, loc, v); };
  int64_t rank = shape.size();
  // The dynamic row sizes, read from `out` (a layer argument in the manifest
  // whenever the norm is an op of its own).
  SmallVector<Value> rowDims;
  for (int64_t d = 0; d + 1 < rank; ++d)
    rowDims.push_back(ShapedType::isDynamic(shape[d])
                          ? memref::DimOp::create(host, loc, out, d)
                          : Value());
  auto rowDim = [&](int64_t d) {
    return rowDims[d] ? rowDims[d] : cst(shape[d]);
  };
  KernelLaunch launch;
  launch.params.push_back({y});
  if (z)
    launch.params.push_back({z});
  launch.params.push_back({weight});
  launch.params.push_back({out, /*readOnly=*/false});
  for (Value size : rowDims)
    if (size)
      launch.params.push_back({size});

  // Grid x: the inner rows, by teams; y: the product of the outer rows,
  // folded where static; z: the groups of a row.
  int64_t inner = kernel->innerRows();
  Value gridX;
  if (ShapedType::isDynamic(inner))
    gridX = t.teams == 1 ? rowDim(rank - 2)
                         : arith::CeilDivUIOp::create(
                               host, loc, rowDim(rank - 2), cst(t.teams))
                               .getResult();
  else
    gridX = cst(llvm::divideCeil(inner, t.teams));
  int64_t staticOuter = 1;
  Value gridY;
  for (int64_t d = 0; d + 2 < rank; ++d) {
    if (!ShapedType::isDynamic(shape[d])) {
      staticOuter *= shape[d];
      continue;
    }
    Value size = rowDim(d);
    gridY = gridY ? arith::MulIOp::create(host, loc, gridY, size).getResult()
                  : size;
  }
  if (!gridY)
    gridY = cst(staticOuter);
  else if (staticOuter != 1)
    gridY = arith::MulIOp::create(host, loc, gridY, cst(staticOuter));
  launch.grid = {gridX, gridY, cst(kernel->groups())};
  launch.block = {t.blockSize(), 1, 1};
  launch.attrs = {
      host.getNamedAttr("ssm.op", host.getStringAttr("rms_norm_gated"))};

  SmallVector<MemRefType> workgroup;
  if (t.warps() > 1)
    workgroup.push_back(MemRefType::get(
        {t.warps()}, host.getF32Type(), MemRefLayoutAttrInterface(),
        gpu::AddressSpaceAttr::get(host.getContext(),
                                   gpu::AddressSpace::Workgroup)));
  launch.kernel = createKernel(host, loc, module, name, launch, workgroup);
  // Ask for half an SM's threads resident: enough loads in flight for HBM,
  // and a budget of about 64 registers. Without it ptxas picks its own
  // occupancy target for small blocks and spills (56 registers for 64).
  launch.kernel->setAttr(
      NVVM::NVVMDialect::getMinctasmAttrName(),
      host.getI32IntegerAttr(std::max<int64_t>(1, 1024 / t.blockSize())));

  KernelBodyBuilder body(loc, host.getContext());
  body.setInsertionPoint(launch.kernel.getBody().front().getTerminator());
  emitNormBody(*kernel, body, launch.kernel.getArguments(),
               workgroup.empty()
                   ? Value()
                   : Value(launch.kernel.getWorkgroupAttributions().front()));
  return launch;
}

LogicalResult mlir::ssm::checkRMSNormGatedKernel(Location loc, ShapedType y,
                                                 ShapedType z,
                                                 ShapedType weight,
                                                 ShapedType out,
                                                 int64_t groupSize) {
  return getNormKernel(loc, y, z, weight, out, groupSize, /*eps=*/0.0,
                       /*normBeforeGate=*/false);
}

LogicalResult mlir::ssm::checkKernels(RMSNormGatedOp op, const KernelTarget &) {
  RankedTensorType z = op.getZ() ? op.getZ().getType() : RankedTensorType();
  return checkRMSNormGatedKernel(op.getLoc(), op.getY().getType(), z,
                                 op.getWeight().getType(), op.getType(),
                                 op.getGroupSize());
}

FailureOr<LoweredOp> mlir::ssm::lowerToKernels(RMSNormGatedOp op,
                                               const IRMapping &buffers,
                                               OpBuilder &host,
                                               const KernelTarget &target,
                                               StringRef name) {
  Value z = op.getZ() ? buffers.lookup(op.getZ()) : Value();
  FailureOr<KernelLaunch> launch = buildRMSNormGatedKernel(
      host, op.getLoc(), target.module, name, buffers.lookup(op.getY()), z,
      buffers.lookup(op.getWeight()), buffers.lookup(op.getResult()),
      op.getGroupSize(), op.getEps().convertToDouble(), op.getNormBeforeGate());
  if (failed(launch))
    return failure();
  LoweredOp lowered;
  lowered.launches.push_back(std::move(*launch));
  return lowered;
}
