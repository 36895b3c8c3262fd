//===- ConvertSSMToGPU.cpp - Layer functions to GPU launches ----*- C++ -*-===//
//
// Converts each function holding ssm ops (a layer function on tensors) into
// a host function on memrefs in destination-passing style that launches the
// kernels of its ssm ops, in two steps:
//  1. Its boundary moves to buffers. Each tensor argument becomes a memref
//     read by `bufferization.to_tensor`; each returned tensor is written by
//     `bufferization.materialize_in_destination` into a trailing output
//     argument (keeping its `ssm.name`), or into its argument's buffer where
//     the op updates that in place. No other tensor may live between ops yet.
//  2. A partial conversion lowers each ssm op, now between buffers, to its
//     kernels and their launches, one pattern per op. No type is left to
//     convert, so the patterns are plain rewrite patterns that find an op's
//     buffers through the reads and writes of step 1; the reads, dead then,
//     are erased after.
// The kernels of all layer functions go into one `gpu.module @ssm_kernels`,
// so that a model is one binary.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "ssmc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::ssm {
#define GEN_PASS_DEF_CONVERTSSMTOGPUPASS
#include "ssmc/Conversion/Passes.h.inc"
} // namespace mlir::ssm

using namespace mlir;
using namespace mlir::ssm;

/// Mark the output and the updated-in-place arguments of a converted layer
/// function (read by the manifest writer, like the `ssm.name` the spec front
/// end sets).
static constexpr StringLiteral kOutputAttr = "ssm.output";
static constexpr StringLiteral kInOutAttr = "ssm.inout";
/// A layer function result that its spec asks to write over an argument
/// (that argument's index).
static constexpr StringLiteral kTiedAttr = "ssm.tied";

/// The operand whose buffer result `i` of `func` (`result`) updates in
/// place, if any: the state of a decode step, or a conv1d's final state
/// tied to its initial state by `ssm.tied`.
static FailureOr<Value> getTiedOperand(func::FuncOp func, unsigned i,
                                       Value result) {
  if (auto step = result.getDefiningOp<ScanStepOp>())
    if (result == step.getNewState())
      return step.getState();
  auto tied = func.getResultAttrOfType<IntegerAttr>(i, kTiedAttr);
  if (!tied)
    return Value();
  auto conv = result.getDefiningOp<CausalConv1dOp>();
  int64_t arg = tied.getInt();
  if (!conv || result != conv.getFinalState() || arg < 0 ||
      arg >= func.getNumArguments() || conv.getInit() != func.getArgument(arg))
    return func.emitOpError("result ")
           << i << " is tied to argument " << arg
           << ", which is not the initial state of the conv1d that computes it";
  // Only the channel-last kernel reads a channel's initial state and writes
  // its final state in one thread.
  if (conv.getLayout() != Layout::ChannelLast)
    return conv.emitOpError("can update its state in place only with "
                            "layout = channel_last");
  return conv.getInit();
}

Value LoweredOp::addWorkspace(OpBuilder &host, Location loc, MemRefType type,
                              ValueRange sizes, StringRef name, bool zeroed) {
  auto alloc = memref::AllocOp::create(host, loc, type, sizes);
  alloc->setAttr("ssm.name", host.getStringAttr(name));
  if (zeroed)
    alloc->setAttr("ssm.zeroed", host.getUnitAttr());
  workspaces.push_back(alloc);
  return alloc;
}

LSegments::LSegments(OpBuilder &host, Location loc, Value batch, Value len,
                     int64_t chunk, int64_t quantum, int64_t minSteps,
                     std::optional<int64_t> fill)
    : host(host), loc(loc), batch(batch), len(len), atLaunch(chunk == 0) {
  // Without fill, waves keeps its default.
  IntegerAttr fillAttr = fill ? host.getI64IntegerAttr(*fill) : IntegerAttr();
  steps = atLaunch
              ? Value(SplitLengthOp::create(host, loc, len,
                                            host.getI64IntegerAttr(quantum),
                                            host.getI64IntegerAttr(minSteps),
                                            /*waves=*/IntegerAttr(), fillAttr))
              : indexConstant(host, loc, chunk);
  count = arith::CeilDivUIOp::create(host, loc, len, steps);
  carried =
      arith::SubIOp::create(host, loc, count, indexConstant(host, loc, 1));
}

Value LSegments::addCarry(LoweredOp &lowered, ArrayRef<int64_t> trailing,
                          StringRef name) {
  SmallVector<int64_t> dims = {ShapedType::kDynamic, ShapedType::kDynamic};
  dims.append(trailing.begin(), trailing.end());
  return lowered.addWorkspace(host, loc,
                              MemRefType::get(dims, host.getF32Type()),
                              {batch, carried}, name);
}

void LSegments::appendSizes(SmallVector<KernelParam> &params) const {
  params.push_back({batch});
  params.push_back({len});
  if (atLaunch)
    params.push_back({steps});
}

static MemRefType toMemRef(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// A module-level flag that makes libdevice's exp2/log2 use FTZ variants,
/// like -fcuda-flush-denormals-to-zero.
static void addFtzFlag(OpBuilder &builder, gpu::GPUModuleOp module) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(module.getBody());
  MLIRContext *ctx = builder.getContext();
  auto flag = LLVM::ModuleFlagAttr::get(
      ctx, LLVM::ModFlagBehavior::Override,
      StringAttr::get(ctx, "nvvm-reflect-ftz"), builder.getI32IntegerAttr(1));
  LLVM::ModuleFlagsOp::create(builder, module.getLoc(),
                              builder.getArrayAttr({flag}));
}

/// Creates, at the end of `module`, the gpu.module that holds the kernels of
/// every layer function: one, so that a model compiles to one binary per
/// target.
static gpu::GPUModuleOp createKernelModule(ModuleOp module) {
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto kernels =
      gpu::GPUModuleOp::create(builder, module.getLoc(), "ssm_kernels");
  SymbolTable(module).insert(kernels);
  addFtzFlag(builder, kernels);
  return kernels;
}

namespace {
/// Step 2: lowers an ssm op between the buffers of step 1 to its kernels and,
/// in its place, their launches. checkLayerFunction has checked the op, so
/// that its lowering does not fail (were it to, the driver would roll back
/// what it built).
template <typename OpTy> struct LowerToKernels : OpRewritePattern<OpTy> {
  LowerToKernels(MLIRContext *ctx, KernelTarget target,
                 const DenseMap<Operation *, std::string> &names)
      : OpRewritePattern<OpTy>(ctx), target(target), names(names) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    IRMapping buffers;
    for (Value operand : op->getOperands()) {
      auto read = operand.getDefiningOp<bufferization::ToTensorOp>();
      if (!read)
        return rewriter.notifyMatchFailure(op, "an operand is not a buffer");
      buffers.map(operand, read.getBuffer());
    }
    SmallVector<Operation *> writes;
    for (Value result : op->getResults()) {
      auto write = result.hasOneUse()
                       ? dyn_cast<bufferization::MaterializeInDestinationOp>(
                             *result.user_begin())
                       : nullptr;
      if (!write)
        return rewriter.notifyMatchFailure(op, "a result has no buffer");
      buffers.map(result, write.getDest());
      writes.push_back(write);
    }
    rewriter.setInsertionPoint(op);
    FailureOr<LoweredOp> lowered =
        lowerToKernels(op, buffers, rewriter, target, names.at(op));
    if (failed(lowered))
      return failure();
    for (const KernelLaunch &launch : lowered->launches)
      emitLaunch(rewriter, op.getLoc(), launch);
    for (Value workspace : lowered->workspaces)
      memref::DeallocOp::create(rewriter, op.getLoc(), workspace);
    for (Operation *write : writes)
      rewriter.eraseOp(write);
    rewriter.eraseOp(op);
    return success();
  }

  /// Where the kernels go, and what the targets allow.
  KernelTarget target;
  /// The kernel names of each op: its function's, the op's and its place.
  const DenseMap<Operation *, std::string> &names;
};

/// The ssm ops `OpTys` that lower to kernels, one pattern each.
template <typename... OpTys> struct KernelOps {
  static bool contains(Operation *op) { return isa<OpTys...>(op); }

  /// checkKernels of `op`, one of them.
  static LogicalResult check(Operation *op, const KernelTarget &target) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .template Case<OpTys...>(
            [&](auto typed) { return checkKernels(typed, target); });
  }

  /// Adds the patterns that lower the ops, which `legality` marks illegal.
  static void populate(RewritePatternSet &patterns, ConversionTarget &legality,
                       KernelTarget target,
                       const DenseMap<Operation *, std::string> &names) {
    patterns.add<LowerToKernels<OpTys>...>(patterns.getContext(), target,
                                           names);
    legality.addIllegalOp<OpTys...>();
  }
};
using LoweredOps = KernelOps<SelectiveScanOp, ScanStepOp, CausalConv1dOp,
                             SSDChunkOp, RMSNormGatedOp>;
} // namespace

/// Checks layer function `func` before anything changes: what step 1 needs
/// (ranked tensors in, every op result returned once) and that step 2 can
/// build the kernels of each op for `target`. Returns, for each result, the
/// operand whose buffer it updates in place (or null).
static FailureOr<SmallVector<Value>>
checkLayerFunction(func::FuncOp func, const KernelTarget &target) {
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("layer functions must have a single block");
  for (BlockArgument arg : func.getArguments())
    if (!isa<RankedTensorType>(arg.getType()))
      return emitError(arg.getLoc(), "layer function argument ")
             << arg.getArgNumber() << " is " << arg.getType()
             << "; layer functions take ranked tensors only";
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (Operation &op : func.getBody().front().without_terminator()) {
    if (!isa<SSMDialect>(op.getDialect()))
      return op.emitOpError("is not an ssm op; a layer function holds ssm "
                            "ops and its return only");
    if (!LoweredOps::contains(&op))
      return op.emitOpError("has no GPU lowering yet")
             << (isa<DiscretizeOp, ScanOp, SkipOp, GateOp>(op)
                     ? " (run ssm-fuse-discretize and ssm-fuse-gating first)"
                     : "");
    // Each result needs a buffer, which only the return gives it. (A result
    // that feeds an op is the likelier mistake, so it is reported first.)
    for (OpResult result : op.getResults())
      if (!llvm::all_of(result.getUsers(),
                        [&](Operation *user) { return user == ret; }))
        return op.emitOpError(
            "result feeds another op; only returned results are supported");
    for (OpResult result : op.getResults())
      if (result.use_empty())
        return op.emitOpError("result ")
               << result.getResultNumber()
               << " is not returned; a layer function returns every result "
                  "of its ssm ops";
    if (failed(LoweredOps::check(&op, target)))
      return failure();
  }
  // With every ssm result returned, a state updated in place is always a
  // layer argument.
  for (Value v : ret.getOperands()) {
    Operation *def = v.getDefiningOp();
    if (!def || !isa<SSMDialect>(def->getDialect()))
      return ret.emitOpError("layer functions must return ssm op results");
  }
  if (ret.getNumOperands() !=
      llvm::SmallPtrSet<Value, 4>(ret.getOperands().begin(),
                                  ret.getOperands().end())
          .size())
    return ret.emitOpError("a layer function returns each result once");
  SmallVector<Value> tiedOperands;
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    FailureOr<Value> tied = getTiedOperand(func, i, value);
    if (failed(tied))
      return failure();
    // Its buffer is overwritten: no other op may read the old value.
    if (*tied && !tied->hasOneUse())
      return value.getDefiningOp()->emitOpError("updates argument ")
             << cast<BlockArgument>(*tied).getArgNumber()
             << " in place, which another op also reads";
    tiedOperands.push_back(*tied);
  }
  return tiedOperands;
}

/// Step 1: moves the boundary of `func` to buffers. The arguments become
/// memrefs, read as tensors by `bufferization.to_tensor`; each result is
/// materialized into a new trailing output argument, or into the buffer of
/// its entry of `tiedOperands`, which becomes in-out. The read of an in-out
/// buffer is not `restrict`, as the write goes to it too (a write to a
/// memref must be); nothing bufferizes these ops, the patterns consume them.
static LogicalResult bufferizeBoundary(func::FuncOp func,
                                       ArrayRef<Value> tiedOperands) {
  Block &entry = func.getBody().front();
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  MLIRContext *ctx = func.getContext();
  OpBuilder builder = OpBuilder::atBlockBegin(&entry);
  unsigned numInputs = func.getNumArguments();
  unsigned numResults = func.getNumResults();
  SmallVector<Value> argBuffers;
  for (unsigned i = 0; i < numInputs; ++i) {
    BlockArgument arg = func.getArgument(i);
    if (failed(func.insertArgument(func.getNumArguments(),
                                   toMemRef(arg.getType()),
                                   func.getArgAttrDict(i), arg.getLoc())))
      return func.emitOpError("could not add a buffer argument");
    Value buffer = func.getArguments().back();
    auto read = bufferization::ToTensorOp::create(
        builder, arg.getLoc(), arg.getType(), buffer,
        /*restrict=*/!llvm::is_contained(tiedOperands, arg));
    arg.replaceAllUsesWith(read);
    argBuffers.push_back(buffer);
  }
  builder.setInsertionPoint(ret);
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    Value dest;
    if (Value tied = tiedOperands[i]) {
      dest = argBuffers[cast<BlockArgument>(tied).getArgNumber()];
      func.setArgAttr(cast<BlockArgument>(dest).getArgNumber(), kInOutAttr,
                      builder.getUnitAttr());
    } else {
      NamedAttrList attrs(func.getResultAttrDict(i));
      attrs.set(kOutputAttr, builder.getUnitAttr());
      if (failed(func.insertArgument(func.getNumArguments(),
                                     toMemRef(value.getType()),
                                     attrs.getDictionary(ctx), func.getLoc())))
        return func.emitOpError("could not add an output argument");
      dest = func.getArguments().back();
    }
    bufferization::MaterializeInDestinationOp::create(
        builder, ret.getLoc(), /*result=*/Type(), value, dest,
        /*restrict=*/true, /*writable=*/true);
  }
  func::ReturnOp::create(builder, ret.getLoc());
  ret.erase();
  llvm::BitVector inputs(func.getNumArguments());
  inputs.set(0, numInputs);
  llvm::BitVector results(numResults, true);
  if (failed(func.eraseArguments(inputs)) || failed(func.eraseResults(results)))
    return func.emitOpError("could not rewrite the signature");
  return success();
}

namespace {
struct ConvertSSMToGPUPass
    : ssm::impl::ConvertSSMToGPUPassBase<ConvertSSMToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<func::FuncOp> layers;
    for (auto func : module.getOps<func::FuncOp>()) {
      bool hasSSM = false;
      func.walk(
          [&](Operation *op) { hasSSM |= isa<SSMDialect>(op->getDialect()); });
      if (hasSSM)
        layers.push_back(func);
    }
    if (layers.empty())
      return;

    // Every layer function is checked before any changes.
    KernelTarget target{/*module=*/nullptr, tensorCopies};
    SmallVector<SmallVector<Value>> tiedOperands;
    for (func::FuncOp func : layers) {
      FailureOr<SmallVector<Value>> tied = checkLayerFunction(func, target);
      if (failed(tied))
        return signalPassFailure();
      tiedOperands.push_back(std::move(*tied));
    }
    DenseMap<Operation *, std::string> names;
    for (auto [func, tied] : llvm::zip_equal(layers, tiedOperands)) {
      for (auto [i, op] :
           llvm::enumerate(func.getBody().front().without_terminator()))
        names[&op] = (func.getName() + "_" + op.getName().stripDialect() + "_" +
                      Twine(i))
                         .str();
      if (failed(bufferizeBoundary(func, tied)))
        return signalPassFailure();
    }

    RewritePatternSet patterns(ctx);
    ConversionTarget legality(*ctx);
    // What the patterns create (host launches, kernels) is legal.
    legality.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    target.module = createKernelModule(module);
    LoweredOps::populate(patterns, legality, target, names);
    SmallVector<Operation *> roots(layers.begin(), layers.end());
    if (failed(applyPartialConversion(roots, legality, std::move(patterns))))
      return signalPassFailure();
    for (Operation *root : roots)
      root->walk([](bufferization::ToTensorOp read) {
        if (read.use_empty())
          read.erase();
      });
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
  }
};
} // namespace
