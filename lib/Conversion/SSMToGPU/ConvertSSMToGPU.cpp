//===- ConvertSSMToGPU.cpp - Layer functions to GPU launches ----*- C++ -*-===//
//
// Converts each function holding ssm ops (a layer function on tensors) into
// a host function on memrefs in destination-passing style that launches one
// kernel per ssm op. Tensors become buffers: arguments stay arguments,
// returned tensors become trailing output arguments (keeping their
// `ssm.name`), and no other tensor may live between ops yet. The kernels of
// all layer functions go into one `gpu.module @ssm_kernels`, so that a model
// is one binary.
//
//===----------------------------------------------------------------------===//

#include "SSMToGPU.h"

#include "ssmc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

/// The gpu.module that holds the kernels of every layer function of
/// `module`: one, so that a model compiles to one binary per target. Created
/// at the end of `module` on first use.
static gpu::GPUModuleOp getKernelModule(ModuleOp module, SymbolTable &symbols,
                                        gpu::GPUModuleOp &kernels) {
  if (kernels)
    return kernels;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  kernels = gpu::GPUModuleOp::create(builder, module.getLoc(), "ssm_kernels");
  symbols.insert(kernels);
  addFtzFlag(builder, kernels);
  return kernels;
}

/// Rewrites `func` in place; kernels go into `module` (SSD scans staging
/// by tensor copies where `tensorCopies`).
static LogicalResult convertLayerFunction(func::FuncOp func,
                                          gpu::GPUModuleOp module,
                                          bool tensorCopies) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  MLIRContext *ctx = func.getContext();
  OpBuilder builder(ctx);

  // What can be checked without lowering is checked before the signature
  // changes. A lowering that fails later fails the pass, and the module is
  // left half-converted, as after any failed pass.
  for (Operation &op : func.getBody().front().without_terminator()) {
    if (!isa<SSMDialect>(op.getDialect()))
      return op.emitOpError("is not an ssm op; a layer function holds ssm "
                            "ops and its return only");
    if (!isa<SelectiveScanOp, ScanStepOp, CausalConv1dOp, SSDChunkOp,
             RMSNormGatedOp>(op))
      return op.emitOpError("has no GPU lowering yet")
             << (isa<DiscretizeOp, ScanOp, SkipOp, GateOp>(op)
                     ? " (run ssm-fuse-discretize and ssm-fuse-gating first)"
                     : "");
    for (Value result : op.getResults())
      if (!llvm::all_of(result.getUsers(),
                        [&](Operation *user) { return user == ret; }))
        return op.emitOpError(
            "result feeds another op; only returned results are supported");
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

  // New signature: the arguments as memrefs, then one output per result.
  // The tensor arguments stay until the ssm ops that use them are lowered.
  Block &entry = func.getBody().front();
  IRMapping buffers;
  unsigned numInputs = func.getNumArguments();
  unsigned numResults = func.getNumResults();
  for (unsigned i = 0; i < numInputs; ++i) {
    BlockArgument arg = func.getArgument(i);
    if (failed(func.insertArgument(func.getNumArguments(),
                                   toMemRef(arg.getType()),
                                   func.getArgAttrDict(i), arg.getLoc())))
      return func.emitOpError("could not add a buffer argument");
    buffers.map(arg, func.getArguments().back());
  }
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    // A state updated in place is the buffer of its argument, now in-out.
    if (Value tied = tiedOperands[i]) {
      Value buffer = buffers.lookup(tied);
      func.setArgAttr(cast<BlockArgument>(buffer).getArgNumber(), kInOutAttr,
                      builder.getUnitAttr());
      buffers.map(value, buffer);
      continue;
    }
    NamedAttrList attrs(func.getResultAttrDict(i));
    attrs.set(kOutputAttr, builder.getUnitAttr());
    if (failed(func.insertArgument(func.getNumArguments(),
                                   toMemRef(value.getType()),
                                   attrs.getDictionary(ctx), func.getLoc())))
      return func.emitOpError("could not add an output argument");
    buffers.map(value, func.getArguments().back());
  }

  SmallVector<Operation *> lowered;
  for (Operation &op : entry.without_terminator()) {
    if (!isa<SSMDialect>(op.getDialect()))
      continue;
    builder.setInsertionPoint(&op);
    std::string name = (func.getName() + "_" + op.getName().stripDialect() +
                        "_" + Twine(lowered.size()))
                           .str();
    FailureOr<LoweredOp> result =
        TypeSwitch<Operation *, FailureOr<LoweredOp>>(&op)
            .Case([&](SelectiveScanOp scan) {
              return lowerSelectiveScan(scan, buffers, builder, module, name);
            })
            .Case([&](ScanStepOp step) {
              return lowerScanStep(step, buffers, builder, module, name);
            })
            .Case([&](CausalConv1dOp conv) {
              return lowerCausalConv1d(conv, buffers, builder, module, name);
            })
            .Case([&](SSDChunkOp ssd) {
              return lowerSSDChunk(ssd, buffers, builder, module, name,
                                   tensorCopies);
            })
            .Case([&](RMSNormGatedOp norm) {
              return lowerRMSNormGated(norm, buffers, builder, module, name);
            });
    if (failed(result))
      return failure();
    for (const KernelLaunch &launch : result->launches)
      emitLaunch(builder, op.getLoc(), launch);
    for (Value workspace : result->workspaces)
      memref::DeallocOp::create(builder, op.getLoc(), workspace);
    lowered.push_back(&op);
  }
  builder.setInsertionPoint(ret);
  func::ReturnOp::create(builder, ret.getLoc());
  ret.erase();
  for (Operation *op : llvm::reverse(lowered))
    op->erase();
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
    SymbolTable symbols(module);
    gpu::GPUModuleOp kernels;
    SmallVector<func::FuncOp> layers;
    for (auto func : module.getOps<func::FuncOp>()) {
      bool hasSSM = false;
      func.walk(
          [&](Operation *op) { hasSSM |= isa<SSMDialect>(op->getDialect()); });
      if (hasSSM)
        layers.push_back(func);
    }
    for (func::FuncOp func : layers) {
      if (!func.getBody().hasOneBlock()) {
        func.emitOpError("layer functions must have a single block");
        return signalPassFailure();
      }
      if (failed(convertLayerFunction(
              func, getKernelModule(module, symbols, kernels), tensorCopies)))
        return signalPassFailure();
    }
    if (!layers.empty())
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      UnitAttr::get(&getContext()));
  }
};
} // namespace
