//===- LayerModule.cpp - Parsed layer spec to ssm IR ------------*- C++ -*-===//
//
// Builds the unfused layer functions that the fusion passes start from, one
// per layer of a parsed spec (Spec.cpp): the layer's tensors as named
// function arguments and results around its ssm op.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Spec/Spec.h"

#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

using namespace mlir;
using namespace mlir::ssm;

/// The MLIR element type of a spec dtype.
static Type getElementType(DType dtype, MLIRContext &ctx) {
  switch (dtype) {
  case DType::F32:
    return Float32Type::get(&ctx);
  case DType::F16:
    return Float16Type::get(&ctx);
  case DType::BF16:
    return BFloat16Type::get(&ctx);
  }
  llvm_unreachable("unknown dtype");
}

/// The L of a selective scan's tensors: dynamic, or the H·W tokens of a
/// cross scan's grid, which its kernels index as such.
static int64_t getScanLength(const LayerSpec &layer) {
  return layer.crossScan() ? layer.crossHeight * layer.crossWidth
                           : ShapedType::kDynamic;
}

/// The shape of a layer's B and C: [D, N] per channel, [B, N, L] / [B, L, N]
/// shared, [B, G, N, L] / [B, L, G, N] grouped (B and L dynamic); a
/// bidirectional scan's per-channel and grouped ones hold both directions'
/// (2D channels, 2G groups).
static SmallVector<int64_t> getBCShape(const LayerSpec &layer) {
  constexpr int64_t dyn = ShapedType::kDynamic;
  bool cf = layer.layout == Layout::ChannelFirst;
  int64_t k = layer.directions(), len = getScanLength(layer);
  switch (layer.bc) {
  case BCKind::PerChannel:
    return {k * layer.dInner, layer.dState};
  case BCKind::Shared:
    return cf ? SmallVector<int64_t>{dyn, layer.dState, len}
              : SmallVector<int64_t>{dyn, len, layer.dState};
  case BCKind::Grouped:
    return cf ? SmallVector<int64_t>{dyn, k * layer.ngroups, layer.dState, len}
              : SmallVector<int64_t>{dyn, len, k * layer.ngroups, layer.dState};
  }
  llvm_unreachable("unknown B/C kind");
}

namespace {
/// A layer function's signature as it is built: named arguments, some of
/// them optional, then named results. `begin` declares the function; `arg`
/// then gives an argument's value, null for an absent optional one.
class LayerSignature {
public:
  /// Appends argument `name` and returns its position.
  int64_t add(StringRef name, Type type) {
    args.push_back({name, type});
    return args.size() - 1;
  }
  /// Appends the leading arguments, which every layer of the kind has.
  void addAll(ArrayRef<std::pair<StringRef, Type>> named) {
    llvm::append_range(args, named);
  }
  /// Appends it where `present`; returns its position, or -1.
  int64_t addIf(bool present, StringRef name, Type type) {
    return present ? add(name, type) : -1;
  }
  void addResult(StringRef name, Type type) { results.push_back({name, type}); }

  /// Declares the layer function `layer.name` with an entry block, and sets
  /// `b` to its start.
  func::FuncOp begin(OpBuilder &b, const LayerSpec &layer, Location loc) {
    auto types = [](ArrayRef<std::pair<StringRef, Type>> named) {
      return llvm::to_vector(llvm::make_second_range(named));
    };
    auto func = func::FuncOp::create(
        b, loc, layer.name, b.getFunctionType(types(args), types(results)));
    for (auto [i, arg] : llvm::enumerate(args))
      func.setArgAttr(i, "ssm.name", b.getStringAttr(arg.first));
    for (auto [i, result] : llvm::enumerate(results))
      func.setResultAttr(i, "ssm.name", b.getStringAttr(result.first));
    func->setAttr("ssm.layer", b.getUnitAttr());
    entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    return func;
  }
  Value arg(int64_t position) const {
    return position < 0 ? Value() : entry->getArgument(position);
  }

private:
  SmallVector<std::pair<StringRef, Type>> args, results;
  Block *entry = nullptr;
};
} // namespace

/// A decode step: `scan_step` on the state, which the function returns
/// under the state's own name (it is updated in place once bufferized).
static void buildScanStepFunction(OpBuilder &b, const LayerSpec &layer,
                                  Location loc) {
  MLIRContext &ctx = *b.getContext();
  constexpr int64_t dyn = ShapedType::kDynamic;
  Type f32 = b.getF32Type(), elem = getElementType(layer.dtype, ctx);
  int64_t n = layer.dState;
  SmallVector<int64_t> rows =
      layer.mamba2 ? SmallVector<int64_t>{dyn, layer.nheads, layer.headdim}
                   : SmallVector<int64_t>{dyn, layer.dInner};
  int64_t channels = layer.mamba2 ? layer.nheads : layer.dInner;
  SmallVector<int64_t> stateShape(rows);
  stateShape.push_back(n);
  auto state = RankedTensorType::get(stateShape, f32);
  auto x = RankedTensorType::get(rows, elem);
  auto delta = RankedTensorType::get({dyn, channels}, elem);
  auto a = layer.mamba2 ? RankedTensorType::get({channels}, f32)
                        : RankedTensorType::get({channels, n}, f32);
  auto bc = RankedTensorType::get({dyn, layer.ngroups, n}, elem);
  auto vec = RankedTensorType::get({channels}, f32);

  LayerSignature sig;
  sig.addAll({{"state", state},
              {"x", x},
              {"delta", delta},
              {"A", a},
              {"B", bc},
              {"C", bc}});
  int64_t skip = sig.addIf(layer.skip, "D", vec);
  int64_t z = sig.addIf(layer.gate, "z", x);
  int64_t bias = sig.addIf(layer.deltaBias, "delta_bias", vec);
  sig.addResult("y", x);
  sig.addResult("state", state);
  OpBuilder::InsertionGuard guard(b);
  sig.begin(b, layer, loc);
  auto step =
      ScanStepOp::create(b, loc, x, state, sig.arg(0), sig.arg(1), sig.arg(2),
                         sig.arg(3), sig.arg(4), sig.arg(5), sig.arg(skip),
                         sig.arg(z), sig.arg(bias), layer.deltaSoftplus);
  func::ReturnOp::create(b, loc, step.getResults());
}

/// A causal depthwise conv1d over the activation layout.
static void buildConv1dFunction(OpBuilder &b, const LayerSpec &layer,
                                Location loc) {
  MLIRContext &ctx = *b.getContext();
  constexpr int64_t dyn = ShapedType::kDynamic;
  Type f32 = b.getF32Type();
  int64_t c = layer.dInner, k = layer.convWidth;
  bool cf = layer.layout == Layout::ChannelFirst;
  auto act = RankedTensorType::get(cf ? SmallVector<int64_t>{dyn, c, dyn}
                                      : SmallVector<int64_t>{dyn, dyn, c},
                                   getElementType(layer.dtype, ctx));
  auto state = RankedTensorType::get({dyn, c, k - 1}, f32);
  LayerSignature sig;
  sig.add("x", act);
  sig.add("weight", RankedTensorType::get({c, k}, f32));
  int64_t bias =
      sig.addIf(layer.convBias, "bias", RankedTensorType::get({c}, f32));
  int64_t init = sig.addIf(layer.initialState,
                           layer.stateInPlace ? "conv_state" : "init", state);
  sig.addResult("y", act);
  if (layer.finalState)
    sig.addResult("final_state", state);
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp func = sig.begin(b, layer, loc);
  if (layer.stateInPlace)
    func.setResultAttr(1, "ssm.tied", b.getI64IntegerAttr(init));
  auto conv = CausalConv1dOp::create(
      b, loc, act, layer.finalState ? Type(state) : Type(), sig.arg(0),
      sig.arg(1), sig.arg(bias), sig.arg(init),
      ActivationAttr::get(&ctx,
                          layer.silu ? Activation::Silu : Activation::None),
      LayoutAttr::get(&ctx, layer.layout));
  func::ReturnOp::create(b, loc, conv.getResults());
}

/// A Mamba-2 SSD scan: `ssd_chunk` over [B, L, H, P] activations.
static func::FuncOp buildSSDFunction(OpBuilder &b, const LayerSpec &layer,
                                     Location loc) {
  MLIRContext &ctx = *b.getContext();
  constexpr int64_t dyn = ShapedType::kDynamic;
  Type f32 = b.getF32Type(), elem = getElementType(layer.dtype, ctx);
  int64_t h = layer.nheads, p = layer.headdim, n = layer.dState;
  auto act = RankedTensorType::get({dyn, dyn, h, p}, elem);
  auto bc = RankedTensorType::get({dyn, dyn, layer.ngroups, n}, elem);
  auto head = RankedTensorType::get({h}, f32);
  auto state = RankedTensorType::get({dyn, h, p, n}, f32);
  LayerSignature sig;
  sig.addAll({{"x", act},
              {"dt", RankedTensorType::get({dyn, dyn, h}, elem)},
              {"A", head},
              {"B", bc},
              {"C", bc}});
  int64_t skip = sig.addIf(layer.skip, "D", head);
  int64_t z = sig.addIf(layer.gate, "z", act);
  int64_t bias = sig.addIf(layer.deltaBias, "dt_bias", head);
  int64_t init = sig.addIf(layer.initialState, "init", state);
  int64_t normWeight = sig.addIf(
      layer.norm, "norm_weight",
      RankedTensorType::get({h * p}, getElementType(layer.weightDtype, ctx)));
  sig.addResult("y", act);
  if (layer.finalState)
    sig.addResult("final_state", state);
  OpBuilder::InsertionGuard guard(b);
  func::FuncOp func = sig.begin(b, layer, loc);
  NormAttr norm = layer.norm ? NormAttr::get(b.getContext(), layer.groupSize,
                                             b.getF64FloatAttr(layer.eps),
                                             layer.normBeforeGate)
                             : NormAttr();
  auto ssd = SSDChunkOp::create(
      b, loc, act, layer.finalState ? Type(state) : Type(), sig.arg(0),
      sig.arg(1), sig.arg(2), sig.arg(3), sig.arg(4), sig.arg(skip), sig.arg(z),
      sig.arg(bias), sig.arg(init), sig.arg(normWeight), layer.chunkSize, p,
      layer.ngroups, layer.deltaSoftplus, norm,
      /*tile=*/TileAttr());
  func::ReturnOp::create(b, loc, ssd.getResults());
  return func;
}

/// A gated RMSNorm over the last dimension of [B, L, dim] activations.
static void buildRMSNormFunction(OpBuilder &b, const LayerSpec &layer,
                                 Location loc) {
  MLIRContext &ctx = *b.getContext();
  constexpr int64_t dyn = ShapedType::kDynamic;
  auto act = RankedTensorType::get({dyn, dyn, layer.dInner},
                                   getElementType(layer.dtype, ctx));
  auto weight = RankedTensorType::get({layer.dInner},
                                      getElementType(layer.weightDtype, ctx));
  LayerSignature sig;
  int64_t y = sig.add("y", act);
  int64_t z = sig.addIf(layer.gate, "z", act);
  int64_t w = sig.add("weight", weight);
  sig.addResult("out", act);
  OpBuilder::InsertionGuard guard(b);
  sig.begin(b, layer, loc);
  auto norm = RMSNormGatedOp::create(
      b, loc, act, sig.arg(y), sig.arg(z), sig.arg(w),
      b.getI64IntegerAttr(layer.groupSize), b.getF64FloatAttr(layer.eps),
      layer.normBeforeGate ? b.getUnitAttr() : UnitAttr());
  func::ReturnOp::create(b, loc, norm.getResult());
}

/// The #ssm.tile of a layer's "tile" (a stages of 0, unset, is TileAttr's
/// default 1; the parser keeps stages and steps 0 for selective scans).
static TileAttr getTileAttr(const TileSpec &tile, MLIRContext *ctx) {
  if (tile.warpgroup) // the parser checked the block shape it implies
    return TileAttr::getWarpgroupTile(ctx, tile.chunk);
  return TileAttr::get(ctx, tile.threads, tile.items, tile.chunk,
                       std::max<int64_t>(tile.stages, 1), tile.lanes,
                       tile.fmaExps, tile.steps, /*warpgroup=*/false);
}

static void buildLayerFunction(OpBuilder &b, const LayerSpec &layer,
                               Location loc) {
  if (layer.kind == LayerKind::SSDChunk) {
    func::FuncOp func = buildSSDFunction(b, layer, loc);
    if (layer.tile)
      func->setAttr("ssm.tile", getTileAttr(*layer.tile, b.getContext()));
    return;
  }
  if (layer.kind == LayerKind::ScanStep)
    return buildScanStepFunction(b, layer, loc);
  if (layer.kind == LayerKind::CausalConv1d)
    return buildConv1dFunction(b, layer, loc);
  if (layer.kind == LayerKind::RMSNormGated)
    return buildRMSNormFunction(b, layer, loc);
  MLIRContext &ctx = *b.getContext();
  constexpr int64_t dyn = ShapedType::kDynamic;
  bool cf = layer.layout == Layout::ChannelFirst;
  int64_t d = layer.dInner, n = layer.dState, len = getScanLength(layer);
  // A bidirectional or cross scan's per-channel operands stack every
  // direction's (2D or 4D channels); z and y keep D, and so does the u that
  // a cross scan's directions share.
  int64_t kd = layer.directions() * d;
  Type f32 = b.getF32Type();
  Type elem = getElementType(layer.dtype, ctx);
  auto activation = [&](int64_t channels) {
    return RankedTensorType::get(cf ? SmallVector<int64_t>{dyn, channels, len}
                                    : SmallVector<int64_t>{dyn, len, channels},
                                 elem);
  };
  auto act = activation(d), in = activation(kd);
  Type uType = layer.crossScan() ? act : in;
  auto full = RankedTensorType::get(cf ? SmallVector<int64_t>{dyn, kd, len, n}
                                       : SmallVector<int64_t>{dyn, len, kd, n},
                                    f32);
  auto aType = RankedTensorType::get({kd, n}, f32);
  auto bcType = RankedTensorType::get(getBCShape(layer),
                                      getElementType(layer.bcDtype, ctx));
  auto vecType = RankedTensorType::get({kd}, f32);
  auto stateType = RankedTensorType::get({dyn, kd, n}, f32);

  LayerSignature sig;
  sig.addAll({{"u", uType},
              {"delta", in},
              {"A", aType},
              {"B", bcType},
              {"C", bcType}});
  int64_t skipAt = sig.addIf(layer.skip, "D", vecType);
  int64_t zAt = sig.addIf(layer.gate, "z", act);
  int64_t biasAt = sig.addIf(layer.deltaBias, "delta_bias", vecType);
  int64_t h0At = sig.addIf(layer.initialState, "h0", stateType);
  // A conv before the scan: u is the conv's input.
  int64_t convWeightAt =
      sig.addIf(layer.convWidth, "conv_weight",
                RankedTensorType::get({kd, layer.convWidth}, f32));
  int64_t convBiasAt =
      sig.addIf(layer.convWidth && layer.convBias, "conv_bias", vecType);
  sig.addResult("y", act);
  if (layer.finalState)
    sig.addResult("last_state", stateType);

  OpBuilder::InsertionGuard guard(b);
  func::FuncOp func = sig.begin(b, layer, loc);
  if (layer.tile)
    func->setAttr("ssm.tile", getTileAttr(*layer.tile, &ctx));

  Value u = sig.arg(0), delta = sig.arg(1), a = sig.arg(2), bIn = sig.arg(3),
        c = sig.arg(4);
  Value skip = sig.arg(skipAt), z = sig.arg(zAt), bias = sig.arg(biasAt),
        h0 = sig.arg(h0At);
  if (layer.convWidth) {
    Value weight = sig.arg(convWeightAt), convBias = sig.arg(convBiasAt);
    u = CausalConv1dOp::create(
            b, loc, uType, Type(), u, weight, convBias, /*init=*/Value(),
            ActivationAttr::get(&ctx, layer.silu ? Activation::Silu
                                                 : Activation::None),
            LayoutAttr::get(&ctx, layer.layout))
            .getResult();
  }

  auto disc = DiscretizeOp::create(b, loc, full, full, delta, a, bIn, bias,
                                   layer.layout, DiscretizeMode::ZohSimplified,
                                   layer.deltaSoftplus);
  auto scan = ScanOp::create(
      b, loc, act, layer.finalState ? Type(stateType) : Type(), disc.getAbar(),
      disc.getBbar(), u, c, h0, layer.layout, layer.reverse,
      layer.bidirectional,
      layer.crossScan()
          ? b.getDenseI64ArrayAttr({layer.crossHeight, layer.crossWidth})
          : DenseI64ArrayAttr());
  Value y = scan.getY();
  if (skip)
    y = SkipOp::create(b, loc, act, y, u, skip, layer.layout);
  if (z)
    y = GateOp::create(b, loc, act, y, z);
  SmallVector<Value> returned = {y};
  if (layer.finalState)
    returned.push_back(scan.getLastState());
  func::ReturnOp::create(b, loc, returned);
}

OwningOpRef<ModuleOp> mlir::ssm::buildLayerModule(const ModelSpec &spec,
                                                  MLIRContext &ctx) {
  ctx.loadDialect<SSMDialect, func::FuncDialect>();
  OpBuilder b(&ctx);
  // Locations name the JSON paths, so diagnostics of later passes point back
  // into the spec.
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(NameLoc::get(b.getStringAttr("spec")), spec.name);
  module->getOperation()->setAttr(
      "ssm.archs",
      b.getStrArrayAttr(llvm::to_vector_of<StringRef>(spec.archs)));
  b.setInsertionPointToEnd(module->getBody());
  for (auto [i, layer] : llvm::enumerate(spec.layers)) {
    auto loc =
        NameLoc::get(b.getStringAttr("spec.layers[" + std::to_string(i) + "]"));
    buildLayerFunction(b, layer, loc);
  }
  return module;
}
