//===- Manifest.cpp - The launch manifest of a compiled layer ---*- C++ -*-===//
//
// Reads the host functions that convert-ssm-to-gpu produced and describes
// them for libssmrt (runtime/MANIFEST.md): the tensors of each layer with
// their symbolic shapes, and each kernel launch with its grid rule,
// parameters and condition. The IR is the single source of truth: grid sizes,
// parameters and conditions are read back from the launch operands and the
// scf.if around a launch, so the manifest cannot drift from the kernels.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Target/Target.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "ssmc/Dialect/SSM/SSMDialect.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

using namespace mlir;
using namespace mlir::ssm;
namespace json = llvm::json;

/// The symbol of a dynamic dimension. The ssm ops are dynamic only in the
/// batch (always the leading dimension) and the sequence length (any later
/// one, by layout); describeLayer rejects a tensor with more.
static StringRef symbolOfDim(int64_t dim) { return dim == 0 ? "B" : "L"; }

static llvm::Expected<StringRef> dtypeName(Type type) {
  if (type.isF32())
    return StringRef("f32");
  if (type.isF16())
    return StringRef("f16");
  if (type.isBF16())
    return StringRef("bf16");
  std::string text;
  llvm::raw_string_ostream(text) << type;
  return llvm::createStringError("unsupported element type " + text);
}

static std::string argName(func::FuncOp func, unsigned i) {
  if (auto name = func.getArgAttrOfType<StringAttr>(i, "ssm.name"))
    return name.str();
  return ("arg" + llvm::Twine(i)).str();
}

/// The symbol of the L segment length libssmrt picks (ssm.split_length).
static constexpr StringLiteral kSplitSymbol = "S";
/// The symbol of a persistent kernel's block count (ssm.worker_count).
static constexpr StringLiteral kWorkersSymbol = "W";

/// Describes a host size feeding a launch as `{"size": N | symbol}`, with
/// `"div": k` for `ceil(size / k)` and `"minus": m` for that less m: a
/// constant, a `memref.dim` of a layer argument, ssm.split_length or
/// ssm.worker_count;
/// `arith.ceildivui` of those by a constant or the split length; and that
/// quotient less a constant.
static llvm::Expected<json::Object> describeExtent(Value value) {
  APInt constant;
  if (matchPattern(value, m_ConstantInt(&constant)))
    return json::Object{{"size", constant.getSExtValue()}};
  if (value.getDefiningOp<SplitLengthOp>())
    return json::Object{{"size", kSplitSymbol}};
  if (value.getDefiningOp<WorkerCountOp>())
    return json::Object{{"size", kWorkersSymbol}};
  if (auto sub = value.getDefiningOp<arith::SubIOp>()) {
    auto size = describeExtent(sub.getLhs());
    if (!size)
      return size.takeError();
    if (matchPattern(sub.getRhs(), m_ConstantInt(&constant)) &&
        size->get("div") && !size->get("minus")) {
      (*size)["minus"] = constant.getSExtValue();
      return size;
    }
  }
  if (auto dim = value.getDefiningOp<memref::DimOp>()) {
    std::optional<int64_t> index = dim.getConstantIndex();
    Value source = dim.getSource();
    // A dimension a collapse_shape keeps as it is (a group of one) is the
    // source's.
    if (auto collapse = source.getDefiningOp<memref::CollapseShapeOp>();
        collapse && index) {
      ReassociationIndices group = collapse.getReassociationIndices()[*index];
      if (group.size() == 1) {
        index = group.front();
        source = collapse.getSrc();
      }
    }
    if (index && isa<BlockArgument>(source))
      return json::Object{{"size", symbolOfDim(*index).str()}};
  }
  if (auto div = value.getDefiningOp<arith::CeilDivUIOp>()) {
    APInt divisor;
    auto size = describeExtent(div.getLhs());
    if (!size)
      return size.takeError();
    if (size->get("div"))
      return llvm::createStringError("a launch size divides a quotient");
    if (matchPattern(div.getRhs(), m_ConstantInt(&divisor)))
      return json::Object{{"size", std::move((*size)["size"])},
                          {"div", divisor.getSExtValue()}};
    if (div.getRhs().getDefiningOp<SplitLengthOp>())
      return json::Object{{"size", std::move((*size)["size"])},
                          {"div", kSplitSymbol}};
  }
  return llvm::createStringError(
      "a launch size is neither a constant nor a dimension of a layer tensor "
      "(divided by a constant or the split length, less a constant)");
}

/// The name of the layer argument or workspace a kernel buffer views.
static llvm::Expected<json::Object> describeBuffer(Value buffer,
                                                   func::FuncOp func) {
  // A collapsed view is its source's memory.
  if (auto collapse = buffer.getDefiningOp<memref::CollapseShapeOp>())
    buffer = collapse.getSrc();
  if (auto arg = dyn_cast<BlockArgument>(buffer))
    return json::Object{{"tensor", argName(func, arg.getArgNumber())}};
  if (auto alloc = buffer.getDefiningOp<memref::AllocOp>())
    if (auto name = alloc->getAttrOfType<StringAttr>("ssm.name"))
      return json::Object{{"workspace", name.str()}};
  return llvm::createStringError(
      "a kernel buffer is neither a layer argument nor a named workspace");
}

/// The `when` of a launch under `scf.if` (without else, in the layer
/// function) of a layer size compared with a constant: the range of the
/// size's values for which it runs. Null for a launch in the function itself.
static llvm::Expected<json::Value> describeCondition(gpu::LaunchFuncOp launch,
                                                     func::FuncOp func) {
  Operation *parent = launch->getParentOp();
  if (parent == func)
    return nullptr;
  auto ifOp = dyn_cast<scf::IfOp>(parent);
  if (!ifOp || ifOp->getParentOp() != func || !ifOp.getElseRegion().empty())
    return llvm::createStringError(
        "a launch is nested in something other than one scf.if");
  auto cmp = ifOp.getCondition().getDefiningOp<arith::CmpIOp>();
  APInt bound;
  auto error = [] {
    return llvm::createStringError(
        "a launch's condition is not a layer size compared with a constant");
  };
  if (!cmp || !matchPattern(cmp.getRhs(), m_ConstantInt(&bound)))
    return error();
  auto size = describeExtent(cmp.getLhs());
  if (!size)
    return size.takeError();
  if (size->get("div") || !size->getString("size"))
    return error();
  int64_t k = bound.getSExtValue();
  json::Object when{{"symbol", std::move((*size)["size"])}};
  switch (cmp.getPredicate()) {
  case arith::CmpIPredicate::eq:
    when["min"] = k;
    when["max"] = k;
    break;
  case arith::CmpIPredicate::ult:
    when["max"] = k - 1;
    break;
  case arith::CmpIPredicate::ule:
    when["max"] = k;
    break;
  case arith::CmpIPredicate::ugt:
    when["min"] = k + 1;
    break;
  case arith::CmpIPredicate::uge:
    when["min"] = k;
    break;
  default:
    return error();
  }
  // Sizes are at least 1: a lower bound under that always holds.
  if (std::optional<int64_t> max = when.getInteger("max"); max && *max < 1)
    return llvm::createStringError("a launch's condition never holds");
  if (std::optional<int64_t> min = when.getInteger("min"); min && *min < 1) {
    when.erase("min");
    if (!when.get("max"))
      return nullptr;
  }
  return json::Value(std::move(when));
}

static llvm::Expected<json::Object> describeLaunch(gpu::LaunchFuncOp launch,
                                                   func::FuncOp func) {
  json::Array block, grid, params;
  for (Value v : {launch.getBlockSizeX(), launch.getBlockSizeY(),
                  launch.getBlockSizeZ()}) {
    APInt size;
    if (!matchPattern(v, m_ConstantInt(&size)))
      return llvm::createStringError("block sizes must be constants");
    block.push_back(size.getSExtValue());
  }
  int64_t sharedBytes = 0;
  if (Value shared = launch.getDynamicSharedMemorySize()) {
    APInt bytes;
    if (!matchPattern(shared, m_ConstantInt(&bytes)))
      return llvm::createStringError("shared memory sizes must be constants");
    sharedBytes = bytes.getSExtValue();
  }
  for (Value v :
       {launch.getGridSizeX(), launch.getGridSizeY(), launch.getGridSizeZ()}) {
    auto extent = describeExtent(v);
    if (!extent)
      return extent.takeError();
    grid.push_back(std::move(*extent));
  }
  for (Value operand : launch.getKernelOperands()) {
    // A buffer goes to a kernel as a flat view of its memory; where the
    // buffer already has that type ([1] elements, e.g. A of one head), the
    // view folds away and the buffer itself is the operand.
    if (isa<MemRefType>(operand.getType())) {
      if (auto cast = operand.getDefiningOp<memref::ReinterpretCastOp>())
        operand = cast.getSource();
      auto buffer = describeBuffer(operand, func);
      if (!buffer)
        return buffer.takeError();
      params.push_back(std::move(*buffer));
      continue;
    }
    auto extent = describeExtent(operand);
    if (!extent)
      return extent.takeError();
    if (extent->get("div") || !extent->getString("size"))
      return llvm::createStringError(
          "a kernel size parameter is not a layer size");
    params.push_back(json::Object{{"symbol", std::move((*extent)["size"])}});
  }
  auto when = describeCondition(launch, func);
  if (!when)
    return when.takeError();
  json::Object described{{"kernel", launch.getKernelName().getValue().str()},
                         {"block", std::move(block)},
                         {"shared_bytes", sharedBytes},
                         {"grid", std::move(grid)},
                         {"params", std::move(params)}};
  if (when->getAsObject())
    described["when"] = std::move(*when);
  return described;
}

static llvm::Expected<json::Object> describeLayer(func::FuncOp func,
                                                  ModuleOp module) {
  json::Array tensors;
  llvm::SetVector<StringRef> symbols;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto type = dyn_cast<MemRefType>(func.getArgument(i).getType());
    if (!type)
      return llvm::createStringError("layer argument %u is not a memref", i);
    auto dtype = dtypeName(type.getElementType());
    if (!dtype)
      return dtype.takeError();
    if (type.getRank() > 1 &&
        llvm::count_if(type.getShape().drop_front(), ShapedType::isDynamic) > 1)
      return llvm::createStringError(
          "layer argument %u has a dynamic dimension besides the batch and "
          "the sequence length",
          i);
    json::Array shape;
    for (auto [d, size] : llvm::enumerate(type.getShape())) {
      if (ShapedType::isDynamic(size)) {
        symbols.insert(symbolOfDim(d));
        shape.push_back(symbolOfDim(d).str());
      } else {
        shape.push_back(size);
      }
    }
    StringRef role = func.getArgAttr(i, "ssm.output")  ? "output"
                     : func.getArgAttr(i, "ssm.inout") ? "inout"
                                                       : "input";
    tensors.push_back(json::Object{{"name", argName(func, i)},
                                   {"role", role},
                                   {"dtype", *dtype},
                                   {"shape", std::move(shape)}});
  }

  json::Array workspaces;
  for (auto alloc : func.getOps<memref::AllocOp>()) {
    auto name = alloc->getAttrOfType<StringAttr>("ssm.name");
    if (!name)
      return llvm::createStringError("a workspace has no ssm.name");
    auto dtype = dtypeName(alloc.getType().getElementType());
    if (!dtype)
      return dtype.takeError();
    json::Array shape;
    auto dynamicSizes = alloc.getDynamicSizes().begin();
    for (int64_t size : alloc.getType().getShape()) {
      if (!ShapedType::isDynamic(size)) {
        shape.push_back(size);
        continue;
      }
      auto extent = describeExtent(*dynamicSizes++);
      if (!extent)
        return extent.takeError();
      // A plain symbol is written as its name, ceil(symbol / k) as an object.
      if (extent->get("div"))
        shape.push_back(std::move(*extent));
      else
        shape.push_back(std::move((*extent)["size"]));
    }
    json::Object workspace{
        {"name", name.str()}, {"dtype", *dtype}, {"shape", std::move(shape)}};
    if (alloc->hasAttr("ssm.zeroed"))
      workspace["zeroed"] = true;
    if (auto maps = alloc->getAttrOfType<ArrayAttr>("ssm.tensor_maps")) {
      json::Array tensorMaps;
      for (auto map : maps.getAsRange<DictionaryAttr>()) {
        auto tensor = map.getAs<StringAttr>("tensor");
        auto box = map.getAs<DenseI64ArrayAttr>("box");
        if (!tensor || !box)
          return llvm::createStringError(
              "a tensor map is not {tensor = name, box = array<i64>}");
        tensorMaps.push_back(json::Object{
            {"tensor", tensor.str()}, {"box", json::Array(box.asArrayRef())}});
      }
      workspace["tensor_maps"] = std::move(tensorMaps);
    }
    workspaces.push_back(std::move(workspace));
  }

  json::Array launches;
  StringRef op;
  json::Value tile = nullptr;
  SmallVector<gpu::LaunchFuncOp> launchOps;
  func.walk([&](gpu::LaunchFuncOp launch) { launchOps.push_back(launch); });
  for (gpu::LaunchFuncOp launch : launchOps) {
    auto described = describeLaunch(launch, func);
    if (!described)
      return described.takeError();
    launches.push_back(std::move(*described));
    if (auto name = launch->getAttrOfType<StringAttr>("ssm.op"))
      op = name.getValue();
    if (auto t = launch->getAttrOfType<TileAttr>("ssm.tile"))
      tile = json::Object{
          {"threads", t.getThreads()},  {"items", t.getItems()},
          {"chunk", t.getChunk()},      {"lanes", t.getLanes()},
          {"fma_exps", t.getFmaExps()}, {"stages", t.getStages()},
          {"steps", t.getSteps()},      {"warpgroup", t.getWarpgroup()}};
  }
  // The split length (CSE leaves one per layer) binds symbol S at launch.
  json::Value split = nullptr;
  for (auto length : func.getOps<SplitLengthOp>()) {
    auto over = describeExtent(length.getLength());
    if (!over)
      return over.takeError();
    if (split.getAsObject() || over->get("div") || !over->getString("size"))
      return llvm::createStringError(
          "a layer splits L once, by a length that is a layer size");
    symbols.insert(kSplitSymbol);
    json::Object rule{{"symbol", kSplitSymbol},
                      {"over", std::move((*over)["size"])},
                      {"quantum", length.getQuantum()},
                      {"min_steps", length.getMinSteps()}};
    if (std::optional<uint64_t> fill = length.getFill())
      rule["fill"] = static_cast<int64_t>(*fill);
    else
      rule["waves"] = length.getWaves();
    split = std::move(rule);
  }
  // The worker count (one per layer) binds symbol W at launch, after S.
  json::Value workers = nullptr;
  for (auto count : func.getOps<WorkerCountOp>()) {
    if (workers.getAsObject())
      return llvm::createStringError("a layer has one worker count");
    json::Array units;
    for (Value unit : count.getUnits()) {
      auto extent = describeExtent(unit);
      if (!extent)
        return extent.takeError();
      units.push_back(std::move(*extent));
    }
    symbols.insert(kWorkersSymbol);
    workers = json::Object{{"symbol", kWorkersSymbol},
                           {"units", std::move(units)},
                           {"per_sm", count.getPerSm()}};
  }
  json::Object layer{
      {"name", func.getName().str()},
      {"op", op.str()},
      {"symbols",
       json::Array(llvm::map_range(
           symbols, [](StringRef s) { return json::Value(s.str()); }))},
      {"tensors", std::move(tensors)},
      {"launches", std::move(launches)}};
  if (!workspaces.empty())
    layer["workspace"] = std::move(workspaces);
  if (split.getAsObject())
    layer["split"] = std::move(split);
  if (workers.getAsObject())
    layer["workers"] = std::move(workers);
  if (tile.getAsObject())
    layer["tile"] = std::move(tile);
  return layer;
}

llvm::Expected<json::Value>
mlir::ssm::buildManifest(ModuleOp module, StringRef binaryName,
                         ArrayRef<std::string> archs) {
  json::Array layers;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!func.walk([](gpu::LaunchFuncOp) { return WalkResult::interrupt(); })
             .wasInterrupted())
      continue;
    auto layer = describeLayer(func, module);
    if (!layer)
      return llvm::createStringError("layer '" + func.getName().str() +
                                     "': " + llvm::toString(layer.takeError()));
    layers.push_back(std::move(*layer));
  }
  if (layers.empty())
    return llvm::createStringError("the module launches no kernels");
  return json::Object{{"format", "ssmc-manifest"},
                      {"version", 1},
                      {"binary", binaryName.str()},
                      {"archs", json::Array(archs)},
                      {"layers", std::move(layers)}};
}
