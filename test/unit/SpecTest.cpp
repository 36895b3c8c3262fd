//===- SpecTest.cpp - Tests of the JSON spec front end --------------------===//
//
// The example specs parse and build verifying modules with the expected ops,
// types and attributes; every class of spec error gives its located message;
// every combination of layer options builds a verifying module; and a
// fixed-seed fuzzer mutates the mamba1 example to check that no input
// crashes the parser or the builder.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Spec/Spec.h"

#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::ssm;
namespace json = llvm::json;

namespace {

/// The text of an example spec under examples/.
std::string readExample(llvm::StringRef name) {
  std::string path = std::string(SSMC_SOURCE_DIR) + "/examples/" + name.str();
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  return (*buffer)->getBuffer().str();
}

/// A context with the dialects the layer functions use.
struct SpecTest : ::testing::Test {
  SpecTest() { ctx.loadDialect<SSMDialect, func::FuncDialect>(); }

  /// Parses `text`, expecting success.
  ModelSpec parseOk(llvm::StringRef text) {
    llvm::Expected<ModelSpec> spec = parseSpec(text);
    if (!spec) {
      ADD_FAILURE() << llvm::toString(spec.takeError());
      return {};
    }
    return std::move(*spec);
  }

  /// Builds `spec` and expects the module to verify.
  OwningOpRef<ModuleOp> buildOk(const ModelSpec &spec) {
    OwningOpRef<ModuleOp> module = buildLayerModule(spec, ctx);
    EXPECT_TRUE(module);
    if (module)
      EXPECT_TRUE(succeeded(verify(*module)));
    return module;
  }

  MLIRContext ctx;
};

std::string printOp(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

std::string serialize(const json::Value &value) {
  std::string text;
  llvm::raw_string_ostream(text) << value;
  return text;
}

/// A minimal valid spec with one layer, to be edited by a test.
json::Object baseSpec() {
  return json::Object{
      {"name", "m"},
      {"layers", json::Array{json::Object{{"name", "l"},
                                          {"op", "selective_scan"},
                                          {"dtype", "bf16"},
                                          {"d_inner", 64},
                                          {"d_state", 16}}}}};
}

json::Object &firstLayer(json::Object &spec) {
  return *(*spec.getArray("layers"))[0].getAsObject();
}

/// The names (ssm.name) of a function's arguments or results.
std::vector<std::string> argNames(func::FuncOp func) {
  std::vector<std::string> names;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    names.push_back(
        func.getArgAttrOfType<StringAttr>(i, "ssm.name").getValue().str());
  return names;
}

std::vector<std::string> resultNames(func::FuncOp func) {
  std::vector<std::string> names;
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    names.push_back(
        func.getResultAttrOfType<StringAttr>(i, "ssm.name").getValue().str());
  return names;
}

/// The op names of a function body, in order.
std::vector<std::string> bodyOps(func::FuncOp func) {
  std::vector<std::string> names;
  for (Operation &op : func.getBody().front())
    names.push_back(op.getName().getStringRef().str());
  return names;
}

//===----------------------------------------------------------------------===//
// Examples
//===----------------------------------------------------------------------===//

TEST_F(SpecTest, Mamba1ExampleParses) {
  ModelSpec spec = parseOk(readExample("mamba1.json"));
  EXPECT_EQ(spec.name, "mamba1");
  EXPECT_EQ(spec.archs, (std::vector<std::string>{"sm_80", "sm_90"}));
  ASSERT_EQ(spec.layers.size(), 1u);
  const LayerSpec &l = spec.layers[0];
  EXPECT_EQ(l.name, "mamba1");
  EXPECT_EQ(l.kind, LayerKind::SelectiveScan);
  EXPECT_EQ(l.dtype, DType::BF16);
  EXPECT_EQ(l.layout, Layout::ChannelFirst);
  EXPECT_EQ(l.dInner, 5120);
  EXPECT_EQ(l.dState, 16);
  EXPECT_EQ(l.bc, BCKind::Grouped);
  EXPECT_EQ(l.ngroups, 1);
  EXPECT_EQ(l.bcDtype, DType::BF16);
  EXPECT_TRUE(l.skip && l.gate && l.deltaBias && l.deltaSoftplus);
  EXPECT_FALSE(l.initialState || l.finalState || l.reverse);
  ASSERT_TRUE(l.tile);
  EXPECT_EQ(l.tile->threads, 64);
  EXPECT_EQ(l.tile->items, 8);
}

TEST_F(SpecTest, Mamba1ExampleBuildsUnfusedLayer) {
  OwningOpRef<ModuleOp> module = buildOk(parseOk(readExample("mamba1.json")));
  ASSERT_TRUE(module);
  EXPECT_EQ(module->getSymName(), "mamba1");
  auto archs = (*module)->getAttrOfType<ArrayAttr>("ssm.archs");
  ASSERT_TRUE(archs);
  ASSERT_EQ(archs.size(), 2u);
  EXPECT_EQ(cast<StringAttr>(archs[0]).getValue(), "sm_80");
  EXPECT_EQ(cast<StringAttr>(archs[1]).getValue(), "sm_90");

  auto func = module->lookupSymbol<func::FuncOp>("mamba1");
  ASSERT_TRUE(func);
  EXPECT_TRUE(func->hasAttr("ssm.layer"));
  EXPECT_EQ(func->getAttr("ssm.tile"),
            TileAttr::get(&ctx, 64, 8, 0, 1, 1, 0, 0, false));
  EXPECT_EQ(argNames(func),
            (std::vector<std::string>{"u", "delta", "A", "B", "C", "D", "z",
                                      "delta_bias"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"y"}));
  EXPECT_EQ(bodyOps(func),
            (std::vector<std::string>{"ssm.discretize", "ssm.scan", "ssm.skip",
                                      "ssm.gate", "func.return"}));

  // The unfused chain: discretize -> scan -> skip -> gate -> return.
  Block &body = func.getBody().front();
  auto arg = [&](unsigned i) -> Value { return body.getArgument(i); };
  auto ops = llvm::map_range(body, [](Operation &op) { return &op; });
  std::vector<Operation *> chain(ops.begin(), ops.end());
  ASSERT_EQ(chain.size(), 5u);
  auto disc = cast<DiscretizeOp>(chain[0]);
  EXPECT_EQ(disc.getDelta(), arg(1));
  EXPECT_EQ(disc.getA(), arg(2));
  EXPECT_EQ(disc.getB(), arg(3));
  EXPECT_EQ(disc.getDeltaBias(), arg(7));
  EXPECT_TRUE(disc.getDeltaSoftplus());
  EXPECT_EQ(disc.getLayout(), Layout::ChannelFirst);
  EXPECT_EQ(disc.getMode(), DiscretizeMode::ZohSimplified);
  auto scan = cast<ScanOp>(chain[1]);
  EXPECT_EQ(scan.getAbar(), disc.getAbar());
  EXPECT_EQ(scan.getBbar(), disc.getBbar());
  EXPECT_EQ(scan.getU(), arg(0));
  EXPECT_EQ(scan.getC(), arg(4));
  EXPECT_FALSE(scan.getInit());
  EXPECT_FALSE(scan.getLastState());
  EXPECT_FALSE(scan.getReverse());
  auto skip = cast<SkipOp>(chain[2]);
  EXPECT_EQ(skip.getY(), scan.getY());
  EXPECT_EQ(skip.getU(), arg(0));
  EXPECT_EQ(skip.getD(), arg(5));
  auto gate = cast<GateOp>(chain[3]);
  EXPECT_EQ(gate.getY(), skip.getResult());
  EXPECT_EQ(gate.getZ(), arg(6));
  EXPECT_EQ(cast<func::ReturnOp>(chain[4]).getOperand(0), gate.getResult());

  std::string text = printOp(*module);
  for (const char *expected :
       {"module @mamba1 attributes {ssm.archs = [\"sm_80\", \"sm_90\"]}",
        "func.func @mamba1(%arg0: tensor<?x5120x?xbf16> {ssm.name = \"u\"}",
        "%arg2: tensor<5120x16xf32> {ssm.name = \"A\"}",
        "%arg3: tensor<?x1x16x?xbf16> {ssm.name = \"B\"}",
        "%arg5: tensor<5120xf32> {ssm.name = \"D\"}",
        "-> (tensor<?x5120x?xbf16> {ssm.name = \"y\"})",
        "attributes {ssm.layer, ssm.tile = #ssm.tile<threads = 64, items = "
        "8>}",
        "-> (tensor<?x5120x?x16xf32>, tensor<?x5120x?x16xf32>)"})
    EXPECT_NE(text.find(expected), std::string::npos)
        << "missing: " << expected << "\nin:\n"
        << text;
}

TEST_F(SpecTest, VimBidirExampleIsOneBidirectionalScan) {
  ModelSpec spec = parseOk(readExample("vim_bidir.json"));
  EXPECT_EQ(spec.archs,
            (std::vector<std::string>{"sm_80", "sm_86", "sm_89", "sm_90"}));
  ASSERT_EQ(spec.layers.size(), 1u);
  const LayerSpec &l = spec.layers[0];
  // Unset fields take their defaults.
  EXPECT_EQ(l.layout, Layout::ChannelFirst);
  EXPECT_EQ(l.bc, BCKind::Grouped);
  EXPECT_EQ(l.ngroups, 1);
  EXPECT_EQ(l.bcDtype, DType::BF16);
  EXPECT_FALSE(l.tile);
  EXPECT_FALSE(l.reverse);
  EXPECT_TRUE(l.bidirectional);

  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = module->lookupSymbol<func::FuncOp>("vim_bidir");
  ASSERT_TRUE(func);
  ScanOp scan;
  func.walk([&](ScanOp op) { scan = op; });
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan.getBidirectional());
  EXPECT_FALSE(scan.getReverse());
  // u stacks both directions' channels; y has one direction's; B/C one
  // group per direction.
  Type bf16 = BFloat16Type::get(&ctx);
  constexpr int64_t dyn = ShapedType::kDynamic;
  EXPECT_EQ(scan.getU().getType(),
            RankedTensorType::get({dyn, 1536, dyn}, bf16));
  EXPECT_EQ(scan.getY().getType(),
            RankedTensorType::get({dyn, 768, dyn}, bf16));
  EXPECT_EQ(scan.getC().getType(),
            RankedTensorType::get({dyn, 2, 16, dyn}, bf16));
}

//===----------------------------------------------------------------------===//
// IR for the layer options
//===----------------------------------------------------------------------===//

TEST_F(SpecTest, OptionalInputsOutputsAndLayouts) {
  json::Object spec = baseSpec();
  json::Object &layer = firstLayer(spec);
  layer["dtype"] = "f16";
  layer["layout"] = "channel_last";
  layer["bc"] = "shared";
  layer["bc_dtype"] = "f32";
  layer["initial_state"] = true;
  layer["final_state"] = true;
  layer["reverse"] = true;
  OwningOpRef<ModuleOp> module =
      buildOk(parseOk(serialize(json::Value(std::move(spec)))));
  ASSERT_TRUE(module);
  auto func = module->lookupSymbol<func::FuncOp>("l");
  ASSERT_TRUE(func);
  EXPECT_EQ(argNames(func),
            (std::vector<std::string>{"u", "delta", "A", "B", "C", "h0"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"y", "last_state"}));
  EXPECT_EQ(bodyOps(func), (std::vector<std::string>{
                               "ssm.discretize", "ssm.scan", "func.return"}));
  auto disc = cast<DiscretizeOp>(func.getBody().front().front());
  EXPECT_FALSE(disc.getDeltaBias());
  EXPECT_FALSE(disc.getDeltaSoftplus());
  EXPECT_EQ(disc.getLayout(), Layout::ChannelLast);
  auto scan = cast<ScanOp>(disc->getNextNode());
  EXPECT_EQ(scan.getInit(), func.getArgument(5));
  EXPECT_TRUE(scan.getReverse());
  EXPECT_EQ(scan.getLayout(), Layout::ChannelLast);
  std::string text = printOp(func);
  for (const char *expected :
       {"%arg0: tensor<?x?x64xf16> {ssm.name = \"u\"}",
        "%arg3: tensor<?x?x16xf32> {ssm.name = \"B\"}",
        "%arg5: tensor<?x64x16xf32> {ssm.name = \"h0\"}",
        "tensor<?x64x16xf32> {ssm.name = \"last_state\"}",
        "-> (tensor<?x?x64x16xf32>, tensor<?x?x64x16xf32>)",
        "-> (tensor<?x?x64xf16>, tensor<?x64x16xf32>)"})
    EXPECT_NE(text.find(expected), std::string::npos)
        << "missing: " << expected << "\nin:\n"
        << text;
}

TEST_F(SpecTest, PerChannelAndGroupedBCTypes) {
  struct Case {
    const char *layout, *bc;
    int64_t ngroups;
    const char *expected;
  };
  for (const Case &c :
       {Case{"channel_first", "per_channel", 0, "tensor<64x16xbf16>"},
        Case{"channel_last", "per_channel", 0, "tensor<64x16xbf16>"},
        Case{"channel_first", "grouped", 4, "tensor<?x4x16x?xbf16>"},
        Case{"channel_last", "grouped", 4, "tensor<?x?x4x16xbf16>"},
        Case{"channel_first", "shared", 0, "tensor<?x16x?xbf16>"}}) {
    SCOPED_TRACE(std::string(c.layout) + " " + c.bc);
    json::Object spec = baseSpec();
    json::Object &layer = firstLayer(spec);
    layer["layout"] = c.layout;
    layer["bc"] = c.bc;
    if (c.ngroups)
      layer["ngroups"] = c.ngroups;
    OwningOpRef<ModuleOp> module =
        buildOk(parseOk(serialize(json::Value(std::move(spec)))));
    ASSERT_TRUE(module);
    auto func = module->lookupSymbol<func::FuncOp>("l");
    std::string type;
    llvm::raw_string_ostream(type) << func.getArgumentTypes()[3];
    EXPECT_EQ(type, c.expected);
    EXPECT_EQ(func.getArgumentTypes()[4], func.getArgumentTypes()[3]);
  }
}

/// Every combination of layout, B/C kind, dtypes and the seven flags gives a
/// module that verifies, with one argument per enabled input.
TEST_F(SpecTest, AllOptionCombinationsVerify) {
  const char *flags[] = {"skip",           "gate",          "delta_bias",
                         "delta_softplus", "initial_state", "final_state",
                         "reverse"};
  int built = 0;
  for (const char *layout : {"channel_first", "channel_last"})
    for (const char *bc : {"shared", "grouped", "per_channel"})
      for (const char *dtype : {"f32", "f16", "bf16"})
        for (bool bcF32 : {false, true})
          for (unsigned mask = 0; mask < 128; ++mask) {
            json::Object spec = baseSpec();
            json::Object &layer = firstLayer(spec);
            layer["layout"] = layout;
            layer["bc"] = bc;
            layer["dtype"] = dtype;
            if (bcF32)
              layer["bc_dtype"] = "f32";
            if (std::string(bc) == "grouped")
              layer["ngroups"] = 2;
            for (unsigned i = 0; i < 7; ++i)
              layer[flags[i]] = ((mask >> i) & 1) != 0;
            std::string text = serialize(json::Value(std::move(spec)));
            SCOPED_TRACE(text);
            OwningOpRef<ModuleOp> module = buildOk(parseOk(text));
            ASSERT_TRUE(module);
            auto func = module->lookupSymbol<func::FuncOp>("l");
            unsigned inputs = 5 + ((mask >> 0) & 1) + ((mask >> 1) & 1) +
                              ((mask >> 2) & 1) + ((mask >> 4) & 1);
            EXPECT_EQ(func.getNumArguments(), inputs);
            EXPECT_EQ(func.getNumResults(), 1u + ((mask >> 5) & 1));
            ++built;
          }
  EXPECT_EQ(built, 2 * 3 * 3 * 2 * 128);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// The error message of parsing `text`, or "<no error>".
std::string errorOf(llvm::StringRef text) {
  llvm::Expected<ModelSpec> spec = parseSpec(text);
  if (spec)
    return "<no error>";
  return llvm::toString(spec.takeError());
}

TEST(SpecErrors, BidirectionalExcludesReverse) {
  EXPECT_EQ(errorOf(R"({"name": "m", "layers": [{"name": "l",
      "op": "selective_scan", "dtype": "f32", "d_inner": 64, "d_state": 16,
      "reverse": true, "bidirectional": true}]})"),
            "spec.layers[0].reverse: a bidirectional scan runs both "
            "directions; drop \"reverse\"");
}

TEST_F(SpecTest, DecodeStepLayersBothForms) {
  ModelSpec spec = parseOk(R"({"name": "dec", "layers": [
    {"name": "m2", "op": "scan_step", "form": "mamba2", "dtype": "bf16",
     "nheads": 8, "headdim": 64, "d_state": 128, "ngroups": 2, "skip": true,
     "gate": true, "delta_bias": true, "delta_softplus": true},
    {"name": "m1", "op": "scan_step", "form": "mamba1", "dtype": "f32",
     "d_inner": 256, "d_state": 16}]})");
  ASSERT_EQ(spec.layers.size(), 2u);
  EXPECT_EQ(spec.layers[0].kind, LayerKind::ScanStep);
  EXPECT_TRUE(spec.layers[0].mamba2);
  EXPECT_EQ(spec.layers[0].dInner, 512);
  EXPECT_FALSE(spec.layers[1].mamba2);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto funcs = llvm::to_vector(module->getOps<func::FuncOp>());
  ASSERT_EQ(funcs.size(), 2u);
  EXPECT_EQ(argNames(funcs[0]),
            (std::vector<std::string>{"state", "x", "delta", "A", "B", "C", "D",
                                      "z", "delta_bias"}));
  // The new state is returned under the state's name: updated in place.
  EXPECT_EQ(resultNames(funcs[0]), (std::vector<std::string>{"y", "state"}));
  EXPECT_EQ(bodyOps(funcs[0]),
            (std::vector<std::string>{"ssm.scan_step", "func.return"}));
  std::string text = printOp(funcs[0]);
  EXPECT_NE(text.find("tensor<?x8x64x128xf32>"), std::string::npos);
  EXPECT_NE(text.find("tensor<?x2x128xbf16>"), std::string::npos);
  EXPECT_EQ(argNames(funcs[1]),
            (std::vector<std::string>{"state", "x", "delta", "A", "B", "C"}));
  EXPECT_NE(printOp(funcs[1]).find("tensor<256x16xf32>"), std::string::npos);
}

TEST(SpecErrors, DecodeStepFieldsAreChecked) {
  auto errorOf = [](const char *layer) {
    std::string text =
        std::string(R"({"name": "m", "layers": [)") + layer + "]}";
    llvm::Expected<ModelSpec> spec = parseSpec(text);
    if (spec)
      return std::string("<no error>");
    return llvm::toString(spec.takeError());
  };
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "scan_step", "form": "mamba3",
                        "dtype": "f32", "d_inner": 64, "d_state": 16})"),
            "spec.layers[0].form: unknown form 'mamba3' (expected mamba1 or "
            "mamba2)");
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "scan_step", "form": "mamba2",
                        "dtype": "f32", "d_inner": 64, "d_state": 16})"),
            "spec.layers[0].d_inner: not used by form mamba2 (give nheads and "
            "headdim)");
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "scan_step", "form": "mamba1",
                        "dtype": "f32", "d_inner": 64, "d_state": 6})"),
            "spec.layers[0].d_state: a decode step needs a multiple of 4 up "
            "to 256 (got 6)");
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "scan_step", "form": "mamba2",
                        "dtype": "f32", "nheads": 6, "headdim": 8,
                        "d_state": 16, "ngroups": 4})"),
            "spec.layers[0].ngroups: 4 does not divide the 6 heads");
  // H and P are bounded before D = H·P is formed, which would wrap to 0.
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "scan_step", "form": "mamba2",
                        "dtype": "f32", "nheads": 4294967296,
                        "headdim": 4294967296, "d_state": 16})"),
            "spec.layers[0].nheads: 4294967296 is too large (at most 65536)");
}

TEST_F(SpecTest, CausalConv1dLayer) {
  ModelSpec spec = parseOk(R"({"name": "conv", "layers": [
    {"name": "c", "op": "causal_conv1d", "dtype": "bf16",
     "layout": "channel_last", "channels": 384, "width": 4, "bias": true,
     "silu": true, "initial_state": true, "final_state": true}]})");
  ASSERT_EQ(spec.layers.size(), 1u);
  EXPECT_EQ(spec.layers[0].kind, LayerKind::CausalConv1d);
  EXPECT_EQ(spec.layers[0].convWidth, 4);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(argNames(func),
            (std::vector<std::string>{"x", "weight", "bias", "init"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"y", "final_state"}));
  std::string text = printOp(func);
  EXPECT_NE(text.find("activation = silu"), std::string::npos);
  EXPECT_NE(text.find("channel_last"), std::string::npos);
  EXPECT_NE(text.find("tensor<?x384x3xf32>"), std::string::npos);
}

TEST_F(SpecTest, CausalConv1dStateInPlace) {
  ModelSpec spec = parseOk(R"({"name": "conv", "layers": [
    {"name": "c", "op": "causal_conv1d", "dtype": "bf16",
     "layout": "channel_last", "channels": 384, "width": 4,
     "initial_state": true, "final_state": true, "state_in_place": true}]})");
  EXPECT_TRUE(spec.layers[0].stateInPlace);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(argNames(func),
            (std::vector<std::string>{"x", "weight", "conv_state"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"y", "final_state"}));
  // The final state is tied to argument 2, the conv state.
  auto tied = func.getResultAttrOfType<IntegerAttr>(1, "ssm.tied");
  ASSERT_TRUE(tied);
  EXPECT_EQ(tied.getInt(), 2);
}

TEST(SpecErrors, CausalConv1dStateInPlaceIsChecked) {
  auto errorOf = [](const char *layer) {
    llvm::Expected<ModelSpec> spec = parseSpec(
        (R"({"name": "m", "layers": [)" + std::string(layer) + "]}").c_str());
    return spec ? std::string("no error") : llvm::toString(spec.takeError());
  };
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "causal_conv1d", "dtype": "f32",
                        "layout": "channel_last", "channels": 8, "width": 4,
                        "initial_state": true, "state_in_place": true})"),
            "spec.layers[0].state_in_place: needs \"initial_state\" and "
            "\"final_state\"");
  EXPECT_EQ(errorOf(R"({"name": "l", "op": "causal_conv1d", "dtype": "f32",
                        "layout": "channel_first", "channels": 8, "width": 4,
                        "initial_state": true, "final_state": true,
                        "state_in_place": true})"),
            "spec.layers[0].state_in_place: needs \"layout\": "
            "\"channel_last\" (a decode step's x is [B, C] in either "
            "layout)");
}

TEST_F(SpecTest, SSDLayer) {
  ModelSpec spec = parseOk(R"({"name": "m2", "layers": [
    {"name": "s", "op": "ssd_chunk", "dtype": "bf16", "nheads": 80,
     "headdim": 64, "d_state": 128, "ngroups": 8, "chunk_size": 128,
     "skip": true, "gate": true, "dt_bias": true, "dt_softplus": true,
     "initial_state": true, "final_state": true}]})");
  ASSERT_EQ(spec.layers.size(), 1u);
  EXPECT_EQ(spec.layers[0].kind, LayerKind::SSDChunk);
  EXPECT_EQ(spec.layers[0].chunkSize, 128);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(argNames(func),
            (std::vector<std::string>{"x", "dt", "A", "B", "C", "D", "z",
                                      "dt_bias", "init"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"y", "final_state"}));
  std::string text = printOp(func);
  EXPECT_NE(text.find("chunk_size = 128 headdim = 64 ngroups = 8"),
            std::string::npos);
  EXPECT_NE(text.find("tensor<?x?x8x128xbf16>"), std::string::npos);
  EXPECT_NE(text.find("tensor<?x80x64x128xf32>"), std::string::npos);
}

TEST(SpecErrors, SSDFieldsAreChecked) {
  auto errorOf = [](const char *fields) {
    std::string text = std::string(R"({"name": "m", "layers": [{"name": "l",
        "op": "ssd_chunk", )") +
                       fields + "}]}";
    llvm::Expected<ModelSpec> spec = parseSpec(text);
    if (spec)
      return std::string("<no error>");
    return llvm::toString(spec.takeError());
  };
  EXPECT_EQ(errorOf(R"("dtype": "f32", "nheads": 8, "headdim": 64,
                       "d_state": 128)"),
            "spec.layers[0].dtype: the SSD kernel runs on tensor cores and "
            "needs bf16 or f16 (got f32)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 40,
                       "d_state": 128)"),
            "spec.layers[0].headdim: must be a multiple of 16 (got 40)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 100)"),
            "spec.layers[0].d_state: must be a multiple of 16 up to 256 (got "
            "100)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 512)"),
            "spec.layers[0].chunk_size: expected 32, 64, 128 or 256, got 512");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 6, "headdim": 64,
                       "d_state": 128, "ngroups": 4)"),
            "spec.layers[0].ngroups: 4 does not divide the 6 heads");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 80,
                       "headdim": 4611686018427387904, "d_state": 128)"),
            "spec.layers[0].headdim: 4611686018427387904 is too large (at "
            "most 65536)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 2048, "headdim": 64,
                       "d_state": 128)"),
            "spec.layers[0].nheads: d_inner = 131072 is too large (at most "
            "65536)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "layout": "channel_first")"),
            "spec.layers[0].layout: unknown field");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "chunk": 96})"),
            "spec.layers[0].tile.chunk: the L segment length must be a "
            "multiple of chunk_size = 64 (got 96)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "fma_exps": 1})"),
            "spec.layers[0].tile.fma_exps: applies to selective scans only "
            "(got 1)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "lanes": 2})"),
            "spec.layers[0].tile.lanes: applies to selective scans only "
            "(got 2)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "steps": 128})"),
            "spec.layers[0].tile.steps: the kernel's chunk length must divide "
            "chunk_size = 64 (got 128)");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "steps": 48})"),
            "spec.layers[0].tile.steps: expected a positive multiple of 32 "
            "(the kernel's chunk length), got 48");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "chunk_size": 64,
                       "tile": {"threads": 128, "items": 32, "stages": 4})"),
            "spec.layers[0].tile.stages: expected 2 or 3 (chunks staged in "
            "workgroup memory), got 4");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "norm": {"group_size": 100})"),
            "spec.layers[0].norm.group_size: 100 does not divide H·P = 512");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "norm": {"eps": 0})"),
            "spec.layers[0].norm.eps: expected a positive normal f32 (1.2e-38 "
            "to 3.4e38), got 0");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "norm": {"gate": true})"),
            "spec.layers[0].norm.gate: unknown field");
  EXPECT_EQ(errorOf(R"("dtype": "bf16", "nheads": 8, "headdim": 64,
                       "d_state": 128, "norm": 1)"),
            "spec.layers[0].norm: expected an object, got 1");
}

TEST(SpecLayers, SSDNormAndSegments) {
  llvm::Expected<ModelSpec> spec = parseSpec(
      R"({"name": "m", "layers": [{"name": "l", "op": "ssd_chunk",
          "dtype": "bf16", "nheads": 8, "headdim": 64, "d_state": 128,
          "gate": true, "tile": {"threads": 128, "items": 64, "chunk": 1024},
          "norm": {"norm_before_gate": true, "weight_dtype": "bf16"}}]})");
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  const LayerSpec &layer = spec->layers[0];
  EXPECT_TRUE(layer.norm);
  EXPECT_EQ(layer.groupSize, 512); // H·P by default
  EXPECT_TRUE(layer.normBeforeGate);
  EXPECT_EQ(layer.weightDtype, DType::BF16);
  EXPECT_EQ(layer.tile->chunk, 1024);
}

TEST_F(SpecTest, SSDTileStepsAndStages) {
  ModelSpec spec = parseOk(R"({"name": "m", "layers": [{"name": "l",
      "op": "ssd_chunk", "dtype": "bf16", "nheads": 8, "headdim": 64,
      "d_state": 128, "chunk_size": 256,
      "tile": {"threads": 128, "items": 64, "steps": 64, "stages": 3}}]})");
  EXPECT_EQ(spec.layers[0].tile->steps, 64);
  EXPECT_EQ(spec.layers[0].tile->stages, 3);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(func->getAttr("ssm.tile"),
            TileAttr::get(&ctx, 128, 64, 0, 3, 1, 0, 64, false));
}

TEST_F(SpecTest, SSDTileWarpgroup) {
  ModelSpec spec = parseOk(R"({"name": "m", "arch": ["sm_90a"], "layers": [
      {"name": "l", "op": "ssd_chunk", "dtype": "bf16", "nheads": 8,
       "headdim": 64, "d_state": 128, "chunk_size": 256,
       "tile": {"threads": 128, "items": 64, "chunk": 1024,
                "warpgroup": true}}]})");
  EXPECT_TRUE(spec.layers[0].tile->warpgroup);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(func->getAttr("ssm.tile"),
            TileAttr::get(&ctx, 128, 64, 1024, 3, 1, 0, 32, true));
}

TEST(SpecErrors, SSDTileWarpgroupIsChecked) {
  auto errorOf = [](const char *arch, const char *tile) {
    std::string text = std::string(R"({"name": "m", "arch": )") + arch +
                       R"(, "layers": [{"name": "l", "op": "ssd_chunk",
        "dtype": "bf16", "nheads": 8, "headdim": 64, "d_state": 128,
        "tile": )" + tile +
                       "}]}";
    llvm::Expected<ModelSpec> spec = parseSpec(text);
    if (spec)
      return std::string("<no error>");
    return llvm::toString(spec.takeError());
  };
  EXPECT_EQ(errorOf(R"(["sm_80", "sm_90"])",
                    R"({"threads": 128, "items": 64, "warpgroup": true})"),
            "spec.layers[0].tile.warpgroup: wgmma needs every arch to be "
            "sm_90a (spec.arch: sm_80, sm_90)");
  EXPECT_EQ(errorOf(R"(["sm_90a"])",
                    R"({"threads": 64, "items": 32, "warpgroup": true})"),
            "spec.layers[0].tile.warpgroup: the warpgroup kernel has threads "
            "128, items 64, steps 32 and stages 3");
  EXPECT_EQ(errorOf(R"(["sm_90a"])",
                    R"({"threads": 128, "items": 64, "warpgroup": 1})"),
            "spec.layers[0].tile.warpgroup: expected true or false, got 1");
}

TEST(SpecErrors, CausalConv1dWidthIsChecked) {
  llvm::Expected<ModelSpec> spec = parseSpec(
      R"({"name": "m", "layers": [{"name": "l", "op": "causal_conv1d",
          "dtype": "f32", "channels": 8, "width": 5}]})");
  ASSERT_FALSE(static_cast<bool>(spec));
  EXPECT_EQ(llvm::toString(spec.takeError()),
            "spec.layers[0].width: expected an integer in [2, 4], got 5");
}

TEST_F(SpecTest, SelectiveScanWithConv) {
  llvm::Expected<ModelSpec> spec = parseSpec(
      R"({"name": "m", "layers": [{"name": "l", "op": "selective_scan",
          "dtype": "bf16", "d_inner": 64, "d_state": 16, "skip": true,
          "conv": {"width": 3, "bias": true, "silu": true}}]})");
  ASSERT_TRUE(static_cast<bool>(spec)) << llvm::toString(spec.takeError());
  const LayerSpec &l = spec->layers[0];
  EXPECT_EQ(l.convWidth, 3);
  EXPECT_TRUE(l.convBias);
  EXPECT_TRUE(l.silu);
  OwningOpRef<ModuleOp> module = buildLayerModule(*spec, ctx);
  ASSERT_TRUE(succeeded(verify(*module)));
  auto func = *module->getOps<func::FuncOp>().begin();
  // The conv's weights and bias follow the scan's inputs; u feeds the conv,
  // whose output is the scan's u and the skip's.
  ASSERT_EQ(func.getNumArguments(), 8u);
  EXPECT_EQ(func.getArgAttrOfType<StringAttr>(6, "ssm.name").getValue(),
            "conv_weight");
  EXPECT_EQ(func.getArgAttrOfType<StringAttr>(7, "ssm.name").getValue(),
            "conv_bias");
  auto conv = *func.getOps<CausalConv1dOp>().begin();
  EXPECT_EQ(conv.getX(), func.getArgument(0));
  EXPECT_EQ(conv.getActivation(), Activation::Silu);
  auto scan = *func.getOps<ScanOp>().begin();
  EXPECT_EQ(scan.getU(), conv.getResult());
}

TEST_F(SpecTest, RMSNormGatedLayer) {
  ModelSpec spec = parseOk(readExample("rms_norm_gated.json"));
  ASSERT_EQ(spec.layers.size(), 1u);
  const LayerSpec &l = spec.layers[0];
  EXPECT_EQ(l.kind, LayerKind::RMSNormGated);
  EXPECT_EQ(l.dInner, 5120);
  EXPECT_EQ(l.groupSize, 5120);
  EXPECT_EQ(l.eps, 1e-5);
  EXPECT_TRUE(l.gate);
  EXPECT_FALSE(l.normBeforeGate);
  OwningOpRef<ModuleOp> module = buildOk(spec);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(argNames(func), (std::vector<std::string>{"y", "z", "weight"}));
  EXPECT_EQ(resultNames(func), (std::vector<std::string>{"out"}));
  EXPECT_EQ(bodyOps(func),
            (std::vector<std::string>{"ssm.rms_norm_gated", "func.return"}));
  EXPECT_NE(printOp(func).find("tensor<?x?x5120xbf16>"), std::string::npos);

  // Defaults: the group is the whole dim, gated, norm after the gate, f32
  // weight; without the gate there is no z.
  spec = parseOk(R"({"name": "m", "layers": [
    {"name": "n", "op": "rms_norm_gated", "dtype": "f32", "dim": 256,
     "gate": false, "norm_before_gate": true, "group_size": 64,
     "weight_dtype": "f32", "eps": 1e-6}]})");
  ASSERT_EQ(spec.layers.size(), 1u);
  EXPECT_EQ(spec.layers[0].groupSize, 64);
  EXPECT_EQ(spec.layers[0].eps, 1e-6);
  module = buildOk(spec);
  ASSERT_TRUE(module);
  func = *module->getOps<func::FuncOp>().begin();
  EXPECT_EQ(argNames(func), (std::vector<std::string>{"y", "weight"}));
  std::string text = printOp(func);
  EXPECT_NE(text.find("group_size = 64"), std::string::npos);
  EXPECT_NE(text.find("norm_before_gate"), std::string::npos);
}

TEST(SpecErrors, RMSNormGatedFieldsAreChecked) {
  auto errorOf = [](const std::string &fields) {
    std::string text = R"({"name": "m", "layers": [{"name": "l",
        "op": "rms_norm_gated", "dtype": "bf16", )" +
                       fields + "}]}";
    llvm::Expected<ModelSpec> spec = parseSpec(text);
    if (spec)
      return std::string("<no error>");
    return llvm::toString(spec.takeError());
  };
  EXPECT_EQ(errorOf(R"("dim": 5120, "group_size": 5120)"), "<no error>");
  EXPECT_EQ(errorOf(R"("group_size": 64)"),
            "spec.layers[0].dim: missing required field");
  EXPECT_EQ(errorOf(R"("dim": 5120, "group_size": 1000)"),
            "spec.layers[0].group_size: 1000 does not divide dim = 5120");
  EXPECT_EQ(errorOf(R"("dim": 5120, "group_size": 20)"),
            "spec.layers[0].group_size: a group of 20 is not a multiple of 8 "
            "(16-byte vectors of bf16)");
  EXPECT_EQ(errorOf(R"("dim": 36)"),
            "spec.layers[0].dim: a group of 36 is not a multiple of 8 "
            "(16-byte vectors of bf16)");
  EXPECT_EQ(errorOf(R"("dim": 65536)"),
            "spec.layers[0].dim: a group of 65536 is too large (at most "
            "32768)");
  EXPECT_EQ(errorOf(R"("dim": 512, "group_size": 0)"),
            "spec.layers[0].group_size: expected a positive integer, got 0");
  EXPECT_EQ(errorOf(R"("dim": 512, "eps": 0)"),
            "spec.layers[0].eps: expected a positive normal f32 (1.2e-38 to "
            "3.4e38), got 0");
  EXPECT_EQ(errorOf(R"("dim": 512, "eps": 1e-40)"),
            "spec.layers[0].eps: expected a positive normal f32 (1.2e-38 to "
            "3.4e38), got 9.9999999999999993e-41");
  EXPECT_EQ(errorOf(R"("dim": 512, "eps": 1e39)"),
            "spec.layers[0].eps: expected a positive normal f32 (1.2e-38 to "
            "3.4e38), got 9.9999999999999994e+38");
  EXPECT_EQ(errorOf(R"("dim": 512, "eps": "1e-5")"),
            "spec.layers[0].eps: expected a positive normal f32 (1.2e-38 to "
            "3.4e38), got \"1e-5\"");
  EXPECT_EQ(errorOf(R"("dim": 512, "gate": 1)"),
            "spec.layers[0].gate: expected true or false, got 1");
  EXPECT_EQ(errorOf(R"("dim": 512, "norm_before_gate": "yes")"),
            "spec.layers[0].norm_before_gate: expected true or false, got "
            "\"yes\"");
  EXPECT_EQ(errorOf(R"("dim": 512, "weight_dtype": "f16")"),
            "spec.layers[0].weight_dtype: must be f32 or the layer's dtype "
            "(bf16), got f16");
  EXPECT_EQ(errorOf(R"("dim": 512, "d_state": 16)"),
            "spec.layers[0].d_state: unknown field");
}

TEST(SpecErrors, MalformedJsonReportsLineAndColumn) {
  std::string message = errorOf("{\n  \"name\": \"m\",\n  \"layers\": [}\n");
  EXPECT_EQ(message.rfind("spec: invalid JSON: [3:", 0), 0u) << message;
  EXPECT_EQ(errorOf(""), "spec: invalid JSON: [1:0, byte=0]: Unexpected EOF");
}

/// llvm::json::parse recurses once a level: deep input is rejected before
/// it overflows the stack, and brackets inside strings do not count.
TEST(SpecErrors, DeepNestingIsRejected) {
  EXPECT_EQ(errorOf(std::string(50000, '[') + std::string(50000, ']')),
            "spec: invalid JSON: nested deeper than 64 levels at byte 64");
  // Parsed, then rejected as a name.
  std::string message = errorOf(R"({"name": ")" + std::string(100, '[') +
                                R"(\"[", "layers": []})");
  EXPECT_EQ(message.rfind("spec.name: '[[[", 0), 0u) << message;
}

/// llvm::json keeps the last of repeated keys; the spec reader rejects them.
TEST(SpecErrors, RepeatedKeysAreRejected) {
  EXPECT_EQ(errorOf(R"({"name": "m", "name": "n", "layers": []})"),
            "spec.name: duplicate field");
  // Escaped spellings of one key are the same key.
  EXPECT_EQ(errorOf(R"({"name": "m", "n\u0061me": "n", "layers": []})"),
            "spec.name: duplicate field");
  EXPECT_EQ(errorOf(R"({"name": "m", "layers": [{"op": "selective_scan"},
                        {"tile": {"items": 1, "threads": 32, "items": 2}}]})"),
            "spec.layers[1].tile.items: duplicate field");
  // The same key in different objects is fine.
  EXPECT_EQ(errorOf(R"({"name": "m", "layers": [{"name": "m"}]})"),
            "spec.layers[0].op: missing required field");
}

TEST(SpecErrors, TopLevelMustBeAnObject) {
  EXPECT_EQ(errorOf("[1, 2]"), "spec: expected an object, got [1,2]");
  EXPECT_EQ(errorOf("null"), "spec: expected an object, got null");
}

/// Each error class: an edit of the base spec and the message it must give.
TEST(SpecErrors, EachErrorNamesItsJsonPath) {
  using Edit = std::function<void(json::Object & spec, json::Object & layer)>;
  struct Case {
    const char *what;
    Edit edit;
    std::string message;
  };
  const Case cases[] = {
      // Missing required fields.
      {"missing name", [](auto &s, auto &) { s.erase("name"); },
       "spec.name: missing required field"},
      {"missing layers", [](auto &s, auto &) { s.erase("layers"); },
       "spec.layers: missing required field"},
      {"missing op", [](auto &, auto &l) { l.erase("op"); },
       "spec.layers[0].op: missing required field"},
      {"missing dtype", [](auto &, auto &l) { l.erase("dtype"); },
       "spec.layers[0].dtype: missing required field"},
      {"missing d_inner", [](auto &, auto &l) { l.erase("d_inner"); },
       "spec.layers[0].d_inner: missing required field"},
      {"missing d_state", [](auto &, auto &l) { l.erase("d_state"); },
       "spec.layers[0].d_state: missing required field"},
      {"missing layer name", [](auto &, auto &l) { l.erase("name"); },
       "spec.layers[0].name: missing required field"},
      // Wrong JSON types.
      {"name not a string", [](auto &s, auto &) { s["name"] = 5; },
       "spec.name: expected a string, got 5"},
      {"flag not a bool", [](auto &, auto &l) { l["skip"] = "yes"; },
       "spec.layers[0].skip: expected true or false, got \"yes\""},
      {"size as string", [](auto &, auto &l) { l["d_inner"] = "64"; },
       "spec.layers[0].d_inner: expected a positive integer, got \"64\""},
      {"fractional size", [](auto &, auto &l) { l["d_state"] = 1.5; },
       "spec.layers[0].d_state: expected a positive integer, got 1.5"},
      {"layers not an array",
       [](auto &s, auto &) { s["layers"] = json::Object{}; },
       "spec.layers: expected an array of layers, got {}"},
      {"layer not an object",
       [](auto &s, auto &) { s["layers"] = json::Array{3}; },
       "spec.layers[0]: expected an object, got 3"},
      {"arch not an array", [](auto &s, auto &) { s["arch"] = "sm_80"; },
       "spec.arch: expected an array of strings, got \"sm_80\""},
      {"arch element not a string",
       [](auto &s, auto &) { s["arch"] = json::Array{"sm_80", 90}; },
       "spec.arch[1]: expected a string, got 90"},
      {"tile not an object", [](auto &, auto &l) { l["tile"] = 5; },
       "spec.layers[0].tile: expected an object, got 5"},
      {"long values are cut",
       [](auto &, auto &l) { l["dtype"] = std::string(100, 'x'); },
       "spec.layers[0].dtype: unsupported dtype '" + std::string(37, 'x') +
           "...' (expected f32, f16 or bf16)"},
      // Non-positive and too large sizes.
      {"negative d_state", [](auto &, auto &l) { l["d_state"] = -4; },
       "spec.layers[0].d_state: expected a positive integer, got -4"},
      {"zero d_inner", [](auto &, auto &l) { l["d_inner"] = 0; },
       "spec.layers[0].d_inner: expected a positive integer, got 0"},
      {"zero ngroups",
       [](auto &, auto &l) { l["ngroups"] = 0; },
       "spec.layers[0].ngroups: expected a positive integer, got 0"},
      {"d_inner too large", [](auto &, auto &l) { l["d_inner"] = 70000; },
       "spec.layers[0].d_inner: 70000 is too large (at most 65536)"},
      {"d_inner beyond int64",
       [](auto &, auto &l) {
         l["d_inner"] = std::numeric_limits<uint64_t>::max();
       },
       "spec.layers[0].d_inner: expected a positive integer, got "
       "18446744073709551615"},
      {"N > 64", [](auto &, auto &l) { l["d_state"] = 128; },
       "spec.layers[0].d_state: N > 64 is not supported (got 128)"},
      // Unknown enum strings and unsupported types.
      {"unknown layout", [](auto &, auto &l) { l["layout"] = "nchw"; },
       "spec.layers[0].layout: unknown layout 'nchw' (expected "
       "channel_first or channel_last)"},
      {"unknown bc", [](auto &, auto &l) { l["bc"] = "full"; },
       "spec.layers[0].bc: unknown bc 'full' (expected shared, grouped or "
       "per_channel)"},
      {"unsupported dtype", [](auto &, auto &l) { l["dtype"] = "f64"; },
       "spec.layers[0].dtype: unsupported dtype 'f64' (expected f32, f16 or "
       "bf16)"},
      {"unsupported bc_dtype", [](auto &, auto &l) { l["bc_dtype"] = "int8"; },
       "spec.layers[0].bc_dtype: unsupported dtype 'int8' (expected f32, f16 "
       "or bf16)"},
      {"bc_dtype neither dtype nor f32",
       [](auto &, auto &l) { l["bc_dtype"] = "f16"; },
       "spec.layers[0].bc_dtype: must be f32 or the layer's dtype (bf16), got "
       "f16"},
      {"unknown op", [](auto &, auto &l) { l["op"] = "attention"; },
       "spec.layers[0].op: unknown op 'attention' (expected selective_scan, "
       "ssd_chunk, scan_step, causal_conv1d or rms_norm_gated)"},
      // Architectures.
      {"unsupported arch",
       [](auto &s, auto &) { s["arch"] = json::Array{"sm_80", "sm_70"}; },
       "spec.arch[1]: unsupported arch 'sm_70' (expected sm_80, sm_86, sm_89, "
       "sm_90 or sm_90a)"},
      {"empty arch", [](auto &s, auto &) { s["arch"] = json::Array{}; },
       "spec.arch: expected at least one arch"},
      {"duplicate arch",
       [](auto &s, auto &) { s["arch"] = json::Array{"sm_90", "sm_90"}; },
       "spec.arch[1]: duplicate arch 'sm_90'"},
      // Groups.
      {"ngroups does not divide d_inner",
       [](auto &, auto &l) { l["ngroups"] = 3; },
       "spec.layers[0].ngroups: 3 does not divide d_inner = 64"},
      {"ngroups without grouped B/C",
       [](auto &, auto &l) {
         l["bc"] = "shared";
         l["ngroups"] = 2;
       },
       "spec.layers[0].ngroups: only allowed with bc = \"grouped\""},
      // Names.
      {"duplicate layer names",
       [](auto &s, auto &l) {
         json::Object copy = l;
         s.getArray("layers")->push_back(std::move(copy));
       },
       "spec.layers[1].name: duplicate layer name 'l' (first at "
       "spec.layers[0])"},
      {"model name too long",
       [](auto &s, auto &) { s["name"] = std::string(129, 'm'); },
       "spec.name: '" + std::string(37, 'm') +
           "...' is longer than 128 characters"},
      {"model name not an identifier",
       [](auto &s, auto &) { s["name"] = "my-model"; },
       "spec.name: 'my-model' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)"},
      {"layer name starts with a digit",
       [](auto &, auto &l) { l["name"] = "1st"; },
       "spec.layers[0].name: '1st' is not an identifier "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {"empty layer name", [](auto &, auto &l) { l["name"] = ""; },
       "spec.layers[0].name: '' is not an identifier "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {"empty layers",
       [](auto &s, auto &) { s["layers"] = json::Array{}; },
       "spec.layers: expected at least one layer"},
      // Unknown fields.
      {"typo in a layer field",
       [](auto &, auto &l) {
         l["d_stat"] = 16;
         l.erase("d_state");
       },
       "spec.layers[0].d_stat: unknown field"},
      {"unknown top-level field", [](auto &s, auto &) { s["layer"] = 1; },
       "spec.layer: unknown field"},
      {"unknown tile field",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 64}, {"items", 4}, {"stage", 0}};
       },
       "spec.layers[0].tile.stage: unknown field"},
      {"chunk not a multiple of items",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 64}, {"items", 8}, {"chunk", 12}};
       },
       "spec.layers[0].tile.chunk: expected 0 or a positive multiple of items "
       "(the L segment length), got 12"},
      {"fma_exps above d_state",
       [](auto &, auto &l) {
         l["tile"] =
             json::Object{{"threads", 64}, {"items", 8}, {"fma_exps", 17}};
       },
       "spec.layers[0].tile.fma_exps: exceeds the 16 states per thread (got "
       "17)"},
      {"fma_exps above the states per lane",
       [](auto &, auto &l) {
         l["tile"] = json::Object{
             {"threads", 64}, {"items", 8}, {"lanes", 4}, {"fma_exps", 5}};
       },
       "spec.layers[0].tile.fma_exps: exceeds the 4 states per thread (got "
       "5)"},
      {"lanes not dividing items",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 64}, {"items", 4}, {"lanes", 8}};
       },
       "spec.layers[0].tile.lanes: expected a power of two in [1, 32] dividing "
       "items (threads per channel), got 8"},
      {"lanes not dividing d_state",
       [](auto &, auto &l) {
         l["tile"] =
             json::Object{{"threads", 64}, {"items", 32}, {"lanes", 32}};
       },
       "spec.layers[0].tile.lanes: must divide d_state = 16 (got 32)"},
      {"stages on a selective scan",
       [](auto &, auto &l) {
         l["tile"] =
             json::Object{{"threads", 64}, {"items", 8}, {"stages", 3}};
       },
       "spec.layers[0].tile.stages: applies to ssd_chunk layers only (got 3)"},
      {"steps on a selective scan",
       [](auto &, auto &l) {
         l["tile"] =
             json::Object{{"threads", 64}, {"items", 8}, {"steps", 32}};
       },
       "spec.layers[0].tile.steps: applies to ssd_chunk layers only (got 32)"},
      {"warpgroup on a selective scan",
       [](auto &, auto &l) {
         l["tile"] = json::Object{
             {"threads", 64}, {"items", 8}, {"warpgroup", true}};
       },
       "spec.layers[0].tile.warpgroup: applies to ssd_chunk layers only (got "
       "1)"},
      {"fma_exps negative",
       [](auto &, auto &l) {
         l["tile"] =
             json::Object{{"threads", 64}, {"items", 8}, {"fma_exps", -1}};
       },
       "spec.layers[0].tile.fma_exps: expected a count in [0, d_state] (state "
       "exps per step on the FMA pipe), got -1"},
      // Tiles out of range.
      {"threads not a multiple of 32",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 48}, {"items", 4}};
       },
       "spec.layers[0].tile.threads: expected a multiple of 32 in [32, 1024], "
       "got 48"},
      {"threads too large",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 2048}, {"items", 4}};
       },
       "spec.layers[0].tile.threads: expected a multiple of 32 in [32, 1024], "
       "got 2048"},
      {"items not a power of two",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 64}, {"items", 3}};
       },
       "spec.layers[0].tile.items: expected a power of two in [1, 64], got 3"},
      {"items too large",
       [](auto &, auto &l) {
         l["tile"] = json::Object{{"threads", 64}, {"items", 128}};
       },
       "spec.layers[0].tile.items: expected a power of two in [1, 64], got "
       "128"},
      {"tile without items",
       [](auto &, auto &l) { l["tile"] = json::Object{{"threads", 64}}; },
       "spec.layers[0].tile.items: missing required field"},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    json::Object spec = baseSpec();
    c.edit(spec, firstLayer(spec));
    EXPECT_EQ(errorOf(serialize(json::Value(std::move(spec)))), c.message);
  }
}

TEST(SpecErrors, LaterLayersAreLocatedByIndex) {
  json::Object spec = baseSpec();
  json::Object second = firstLayer(spec);
  second["name"] = "l2";
  second["d_state"] = -1;
  spec.getArray("layers")->push_back(std::move(second));
  EXPECT_EQ(errorOf(serialize(json::Value(std::move(spec)))),
            "spec.layers[1].d_state: expected a positive integer, got -1");
}

//===----------------------------------------------------------------------===//
// Fuzzing
//===----------------------------------------------------------------------===//

/// Fixed-seed mutations of a JSON spec: structural edits of the parsed value
/// and byte-level edits of its text.
class SpecMutator {
public:
  explicit SpecMutator(uint32_t seed) : rng(seed) {}

  /// A mutated version of `original` (its text and parsed value).
  std::string mutate(llvm::StringRef text, const json::Value &original) {
    switch (pick(7)) {
    case 0:
      return truncate(text);
    case 1:
      return insertBytes(text);
    case 2:
      return duplicateLine(text);
    default: {
      json::Value value = original;
      // One to three structural edits, then maybe a byte edit on top.
      for (size_t edits = 1 + pick(3); edits > 0; --edits)
        editStructure(value);
      std::string mutated = serialize(value);
      return pick(8) == 0 ? insertBytes(mutated) : mutated;
    }
    }
  }

private:
  size_t pick(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  }

  std::string truncate(llvm::StringRef text) {
    return text.take_front(pick(text.size() + 1)).str();
  }

  /// Repeats one line: in the pretty-printed example most lines hold one
  /// key, so this mostly repeats a key.
  std::string duplicateLine(llvm::StringRef text) {
    llvm::SmallVector<llvm::StringRef> lines;
    text.split(lines, '\n');
    size_t line = pick(lines.size());
    std::string result;
    for (size_t i = 0; i < lines.size(); ++i) {
      result += lines[i].str() + "\n";
      if (i == line)
        result += lines[i].str() + "\n";
    }
    return result;
  }

  std::string insertBytes(llvm::StringRef text) {
    std::string result = text.str();
    for (size_t count = 1 + pick(4); count > 0; --count)
      result.insert(result.begin() + pick(result.size() + 1),
                    static_cast<char>(pick(256)));
    return result;
  }

  /// A random JSON value: other types, negative, huge, empty, and a few
  /// valid-looking ones so that some mutants still parse.
  json::Value randomValue() {
    switch (pick(22)) {
    case 0:
      return nullptr;
    case 1:
      return true;
    case 2:
      return false;
    case 3:
      return 0;
    case 4:
      return -4;
    case 5:
      return std::numeric_limits<int64_t>::max();
    case 6:
      return std::numeric_limits<int64_t>::min();
    case 7:
      return 1e300;
    case 8:
      return 2.5;
    case 9:
      return "";
    case 10:
      return std::string(1000, 'a');
    case 11:
      return json::Array{};
    case 12:
      return json::Object{};
    case 13:
      return json::Array{1, "x", nullptr};
    case 14:
      return int64_t(1) << pick(20);
    case 15:
      return int64_t(32) * (1 + pick(40));
    case 16:
      return "f32";
    case 17:
      return "channel_last";
    case 18:
      return "per_channel";
    case 19:
      return "sm_86";
    case 20:
      return json::Object{{"threads", 32}, {"items", 1}};
    default:
      return "shared";
    }
  }

  /// Every array and object in `value`, and every value below the root.
  void collect(json::Value &value, bool isRoot,
               std::vector<json::Object *> &objects,
               std::vector<json::Array *> &arrays,
               std::vector<json::Value *> &values) {
    if (!isRoot)
      values.push_back(&value);
    if (json::Object *object = value.getAsObject()) {
      objects.push_back(object);
      for (auto &entry : *object)
        collect(entry.second, false, objects, arrays, values);
    } else if (json::Array *array = value.getAsArray()) {
      arrays.push_back(array);
      for (json::Value &element : *array)
        collect(element, false, objects, arrays, values);
    }
  }

  void editStructure(json::Value &root) {
    std::vector<json::Object *> objects;
    std::vector<json::Array *> arrays;
    std::vector<json::Value *> values;
    collect(root, true, objects, arrays, values);
    switch (pick(4)) {
    case 0: { // Delete a key.
      if (objects.empty())
        return;
      json::Object &object = *objects[pick(objects.size())];
      if (object.empty())
        return;
      auto it = object.begin();
      std::advance(it, pick(object.size()));
      object.erase(it);
      return;
    }
    case 1: // Duplicate an array element.
    {
      if (arrays.empty())
        return;
      json::Array &array = *arrays[pick(arrays.size())];
      if (array.empty())
        return;
      json::Value copy = array[pick(array.size())];
      array.insert(array.begin() + pick(array.size() + 1), std::move(copy));
      return;
    }
    default: // Replace a value.
      if (values.empty())
        return;
      *values[pick(values.size())] = randomValue();
      return;
    }
  }

  std::mt19937 rng;
};

TEST_F(SpecTest, FuzzedSpecsNeverCrash) {
  // The Mamba-1 example, and the same layer with its conv1d (a nested
  // object of its own), each mutated and parsed; the accepted ones built
  // and verified.
  for (auto [example, count] :
       {std::pair<const char *, int>{"mamba1.json", 3000},
        {"mamba1_conv.json", 1000}}) {
    std::string text = readExample(example);
    llvm::Expected<json::Value> original = json::parse(text);
    ASSERT_TRUE(static_cast<bool>(original));
    SpecMutator mutator(20240611);
    int accepted = 0, rejected = 0;
    for (int i = 0; i < count; ++i) {
      std::string mutant = mutator.mutate(text, *original);
      SCOPED_TRACE(std::string(example) + " mutant " + std::to_string(i) +
                   ": " + mutant);
      llvm::Expected<ModelSpec> spec = parseSpec(mutant);
      if (!spec) {
        std::string message = llvm::toString(spec.takeError());
        EXPECT_EQ(message.rfind("spec", 0), 0u) << message;
        ++rejected;
        continue;
      }
      OwningOpRef<ModuleOp> module = buildLayerModule(*spec, ctx);
      ASSERT_TRUE(module);
      EXPECT_TRUE(succeeded(verify(*module)));
      ++accepted;
    }
    RecordProperty(std::string(example) + " accepted", accepted);
    RecordProperty(std::string(example) + " rejected", rejected);
    // Both outcomes must occur, or the mutations are not exercising
    // anything.
    EXPECT_GT(accepted, count / 60) << example;
    EXPECT_GT(rejected, count / 3) << example;
  }
}

} // namespace

TEST(SpecArchs, TensorCopiesNeedEveryArchSm90) {
  using Archs = std::vector<std::string>;
  EXPECT_TRUE(allHaveTensorCopies(Archs{"sm_90"}));
  EXPECT_TRUE(allHaveTensorCopies(Archs{"sm_90", "sm_90a"}));
  EXPECT_FALSE(allHaveTensorCopies(Archs{"sm_80", "sm_90"}));
  EXPECT_FALSE(allHaveTensorCopies(Archs{"sm_89"}));
  EXPECT_FALSE(allHaveTensorCopies(Archs{}));
}
