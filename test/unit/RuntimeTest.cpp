//===- RuntimeTest.cpp - unit tests of libssmrt -----------------*- C++ -*-===//
//
// Host-side tests of libssmrt for machines without a GPU or libcuda: manifest
// validation, layer introspection, launch-argument validation (which must
// fail before any driver call) and the C++ wrapper. Manifests are written to
// a fresh temporary directory per test. Tensor pointers are fake addresses;
// the host never dereferences them.
//
//===----------------------------------------------------------------------===//

#include "ssmrt/ssmrt.h"
#include "ssmrt/ssmrt.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

/// The example of MANIFEST.md plus a workspace parameter, and a second layer
/// with an in-out tensor and more than 48 KiB of shared memory.
constexpr const char *kManifest = R"json({
  "format": "ssmc-manifest",
  "version": 1,
  "binary": "mamba1.fatbin",
  "archs": ["sm_80", "sm_90"],
  "layers": [
    {
      "name": "mamba1",
      "op": "selective_scan",
      "symbols": ["B", "L"],
      "tensors": [
        {"name": "u", "role": "input", "dtype": "bf16",
         "shape": ["B", 5120, "L"]},
        {"name": "delta", "role": "input", "dtype": "bf16",
         "shape": ["B", 5120, "L"]},
        {"name": "A", "role": "input", "dtype": "f32", "shape": [5120, 16]},
        {"name": "y", "role": "output", "dtype": "bf16",
         "shape": ["B", 5120, "L"]}
      ],
      "workspace": [
        {"name": "carry", "dtype": "f32", "shape": ["B", 5120, 16]}
      ],
      "launches": [
        {
          "kernel": "mamba1_selective_scan",
          "block": [64, 1, 1],
          "shared_bytes": 0,
          "grid": [{"size": 5120, "div": 64}, {"size": "B"}, {"size": 1}],
          "params": [{"tensor": "u"}, {"tensor": "delta"}, {"tensor": "A"},
                     {"tensor": "y"}, {"workspace": "carry"},
                     {"symbol": "B"}, {"symbol": "L"}]
        }
      ],
      "tile": {"threads": 64, "items": 16, "chunk": 2048}
    },
    {
      "name": "norm",
      "op": "gated_rmsnorm",
      "symbols": ["T"],
      "tensors": [
        {"name": "x", "role": "inout", "dtype": "f16", "shape": ["T", 256]}
      ],
      "launches": [
        {
          "kernel": "norm_kernel",
          "block": [256, 1, 1],
          "shared_bytes": 65536,
          "grid": [{"size": "T"}, {"size": 1, "div": 1}, {"size": 1, "div": 1}],
          "params": [{"tensor": "x"}, {"symbol": "T"}]
        }
      ]
    }
  ]
})json";

/// `text` with its only occurrence of `from` replaced by `to`.
std::string edit(std::string text, const std::string &from,
                 const std::string &to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "no '" << from << "' to edit";
  EXPECT_EQ(text.find(from, at + 1), std::string::npos)
      << "'" << from << "' is ambiguous";
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

using ModulePtr = std::unique_ptr<ssmrt_module_st, void (*)(ssmrt_module)>;

ModulePtr own(ssmrt_module module) {
  return ModulePtr(module, [](ssmrt_module m) { ssmrt_module_destroy(m); });
}

ssmrt_tensor tensor(std::uintptr_t address, ssmrt_dtype dtype,
                    std::vector<int64_t> shape) {
  ssmrt_tensor t = {reinterpret_cast<void *>(address),
                    dtype,
                    static_cast<int32_t>(shape.size()),
                    {}};
  for (std::size_t d = 0; d < shape.size(); ++d)
    t.shape[d] = shape[d];
  return t;
}

/// Valid tensors for layer mamba1 with B = 2 and L = 200.
std::vector<ssmrt_tensor> mambaTensors() {
  return {tensor(0x10000, SSMRT_BF16, {2, 5120, 200}),
          tensor(0x20000, SSMRT_BF16, {2, 5120, 200}),
          tensor(0x30000, SSMRT_F32, {5120, 16}),
          tensor(0x40000, SSMRT_BF16, {2, 5120, 200})};
}

/// Expects a launch of a valid layer to fail only for the lack of a usable
/// driver: SSMRT_ERROR_NO_DRIVER without libcuda, else the CUDA error that a
/// bogus kernel image (or a missing GPU) gives.
void expectDriverFailure(ssmrt_status status) {
  if (status == SSMRT_ERROR_NO_DRIVER)
    EXPECT_EQ(std::string(ssmrt_last_error())
                  .rfind("no CUDA driver found (libcuda.so.1: ", 0),
              0u)
        << ssmrt_last_error();
  else
    EXPECT_NE(status, SSMRT_SUCCESS);
}

class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char &c : name)
      if (c == '/')
        c = '_';
    dir = fs::temp_directory_path() /
          ("ssmrt-test-" + std::to_string(getpid()) + "-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
  }

  void TearDown() override { fs::remove_all(dir); }

  fs::path write(const std::string &name, const std::string &text) {
    fs::path path = dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  /// Writes `manifest` and a fake binary, then loads the manifest.
  ssmrt_status load(const std::string &manifest, ssmrt_module *out) {
    write("mamba1.fatbin", "not a fatbin");
    return ssmrt_module_load(write("m.manifest.json", manifest).c_str(), out);
  }

  /// Loads `manifest` and returns its layer `name` (null if either fails),
  /// owned by `module`.
  ssmrt_layer loadLayer(const char *name,
                        const std::string &manifest = kManifest) {
    ssmrt_module raw = nullptr;
    EXPECT_EQ(load(manifest, &raw), SSMRT_SUCCESS) << ssmrt_last_error();
    module = own(raw);
    ssmrt_layer layer = nullptr;
    EXPECT_EQ(ssmrt_module_get_layer(raw, name, &layer), SSMRT_SUCCESS)
        << ssmrt_last_error();
    return layer;
  }

  fs::path dir;
  ModulePtr module = own(nullptr);
};

TEST_F(RuntimeTest, ValidManifestListsTensors) {
  ssmrt_layer layer = loadLayer("mamba1");
  ASSERT_NE(layer, nullptr);
  ASSERT_EQ(ssmrt_layer_num_tensors(layer), 4);

  struct Expected {
    const char *name;
    int32_t isOutput;
    ssmrt_dtype dtype;
    std::vector<int64_t> shape;
  };
  const Expected expected[] = {{"u", 0, SSMRT_BF16, {-1, 5120, -1}},
                               {"delta", 0, SSMRT_BF16, {-1, 5120, -1}},
                               {"A", 0, SSMRT_F32, {5120, 16}},
                               {"y", 1, SSMRT_BF16, {-1, 5120, -1}}};
  for (int32_t i = 0; i < 4; ++i) {
    const char *name = nullptr;
    int32_t isOutput = -1, rank = -1;
    ssmrt_dtype dtype = SSMRT_F16;
    int64_t shape[8] = {};
    ASSERT_EQ(ssmrt_layer_tensor_info(layer, i, &name, &isOutput, &dtype, &rank,
                                      shape),
              SSMRT_SUCCESS);
    EXPECT_STREQ(name, expected[i].name);
    EXPECT_EQ(isOutput, expected[i].isOutput);
    EXPECT_EQ(dtype, expected[i].dtype);
    EXPECT_EQ(std::vector<int64_t>(shape, shape + rank), expected[i].shape);
  }

  ssmrt_layer norm = nullptr;
  ASSERT_EQ(ssmrt_module_get_layer(module.get(), "norm", &norm), SSMRT_SUCCESS);
  int32_t isOutput = -1;
  ssmrt_dtype dtype = SSMRT_F32;
  // Every output pointer is optional.
  ASSERT_EQ(ssmrt_layer_tensor_info(norm, 0, nullptr, &isOutput, &dtype,
                                    nullptr, nullptr),
            SSMRT_SUCCESS);
  EXPECT_EQ(isOutput, 2);
  EXPECT_EQ(dtype, SSMRT_F16);
}

TEST_F(RuntimeTest, TensorInfoIndexOutOfRange) {
  ssmrt_layer layer = loadLayer("norm");
  const char *name = nullptr;
  EXPECT_EQ(ssmrt_layer_tensor_info(layer, 1, &name, nullptr, nullptr, nullptr,
                                    nullptr),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_STREQ(ssmrt_last_error(), "ssmrt_layer_tensor_info: index 1 is out "
                                   "of range for layer 'norm' with 1 tensors");
  EXPECT_EQ(ssmrt_layer_tensor_info(layer, -1, &name, nullptr, nullptr, nullptr,
                                    nullptr),
            SSMRT_ERROR_INVALID_VALUE);
}

TEST_F(RuntimeTest, UnknownLayerIsNotFound) {
  loadLayer("mamba1");
  ssmrt_layer layer = reinterpret_cast<ssmrt_layer>(0x1);
  EXPECT_EQ(ssmrt_module_get_layer(module.get(), "mamba2", &layer),
            SSMRT_ERROR_NOT_FOUND);
  EXPECT_EQ(layer, nullptr);
  EXPECT_STREQ(ssmrt_last_error(),
               "no layer 'mamba2' in the module (it has: 'mamba1', 'norm')");
}

TEST_F(RuntimeTest, LayersAreListedInManifestOrder) {
  loadLayer("mamba1");
  ASSERT_EQ(ssmrt_module_num_layers(module.get()), 2);
  const char *names[] = {"mamba1", "norm"};
  for (int32_t i = 0; i < 2; ++i) {
    ssmrt_layer layer = nullptr;
    ASSERT_EQ(ssmrt_module_layer_at(module.get(), i, &layer), SSMRT_SUCCESS);
    EXPECT_STREQ(ssmrt_layer_name(layer), names[i]);
    ssmrt_layer byName = nullptr;
    ASSERT_EQ(ssmrt_module_get_layer(module.get(), names[i], &byName),
              SSMRT_SUCCESS);
    EXPECT_EQ(layer, byName);
  }
  ssmrt_layer layer = reinterpret_cast<ssmrt_layer>(0x1);
  EXPECT_EQ(ssmrt_module_layer_at(module.get(), 2, &layer),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(layer, nullptr);
  EXPECT_STREQ(ssmrt_last_error(), "ssmrt_module_layer_at: index 2 is out of "
                                   "range for a module with 2 layers");
  EXPECT_EQ(ssmrt_module_layer_at(module.get(), -1, &layer),
            SSMRT_ERROR_INVALID_VALUE);
  // A module the driver never saw has nothing to release.
  EXPECT_EQ(ssmrt_module_destroy(module.release()), SSMRT_SUCCESS);
}

TEST_F(RuntimeTest, NullArgumentsAreInvalid) {
  ssmrt_module raw = nullptr;
  EXPECT_EQ(ssmrt_module_load(nullptr, &raw), SSMRT_ERROR_INVALID_VALUE);
  EXPECT_STREQ(ssmrt_last_error(), "ssmrt_module_load: manifestPath is null");
  EXPECT_EQ(ssmrt_module_load("x.json", nullptr), SSMRT_ERROR_INVALID_VALUE);
  ssmrt_layer layer = nullptr;
  EXPECT_EQ(ssmrt_module_get_layer(nullptr, "mamba1", &layer),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(ssmrt_layer_num_tensors(nullptr), 0);
  EXPECT_EQ(ssmrt_layer_tensor_info(nullptr, 0, nullptr, nullptr, nullptr,
                                    nullptr, nullptr),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(ssmrt_layer_launch(nullptr, nullptr, 0, nullptr),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(ssmrt_module_num_layers(nullptr), 0);
  EXPECT_EQ(ssmrt_module_layer_at(nullptr, 0, &layer),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(ssmrt_layer_name(nullptr), nullptr);
  EXPECT_EQ(ssmrt_module_destroy(nullptr), SSMRT_SUCCESS);
}

TEST_F(RuntimeTest, UnreadableManifest) {
  std::string path = (dir / "absent.manifest.json").string();
  ssmrt_module raw = nullptr;
  EXPECT_EQ(ssmrt_module_load(path.c_str(), &raw), SSMRT_ERROR_MANIFEST);
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(std::string(ssmrt_last_error()),
            "manifest: cannot read '" + path + "': No such file or directory");
}

TEST_F(RuntimeTest, InvalidJson) {
  ssmrt_module raw = nullptr;
  EXPECT_EQ(load(R"({"format": "ssmc-manifest",)", &raw), SSMRT_ERROR_MANIFEST);
  EXPECT_EQ(
      std::string(ssmrt_last_error()).rfind("manifest: invalid JSON: ", 0), 0u)
      << ssmrt_last_error();
}

TEST_F(RuntimeTest, RootMustBeAnObject) {
  ssmrt_module raw = nullptr;
  EXPECT_EQ(load("[]", &raw), SSMRT_ERROR_MANIFEST);
  EXPECT_STREQ(ssmrt_last_error(),
               "manifest: (root): expected an object, got array");
}

TEST_F(RuntimeTest, MissingBinaryIsIoError) {
  fs::path manifest = write("m.manifest.json", kManifest);
  ssmrt_module raw = nullptr;
  EXPECT_EQ(ssmrt_module_load(manifest.c_str(), &raw), SSMRT_ERROR_IO);
  EXPECT_EQ(raw, nullptr);
  EXPECT_EQ(std::string(ssmrt_last_error()),
            "cannot read the manifest's binary '" +
                (dir / "mamba1.fatbin").string() +
                "': No such file or directory");
}

TEST_F(RuntimeTest, EmptyBinaryIsIoError) {
  fs::path manifest = write("m.manifest.json", kManifest);
  write("mamba1.fatbin", "");
  ssmrt_module raw = nullptr;
  EXPECT_EQ(ssmrt_module_load(manifest.c_str(), &raw), SSMRT_ERROR_IO);
}

TEST_F(RuntimeTest, LoadFromMemory) {
  const char image[] = "not a fatbin";
  ssmrt_module raw = nullptr;
  ASSERT_EQ(ssmrt_module_load_from_memory(
                kManifest, std::char_traits<char>::length(kManifest), image,
                sizeof(image), &raw),
            SSMRT_SUCCESS)
      << ssmrt_last_error();
  ModulePtr owned = own(raw);
  ssmrt_layer layer = nullptr;
  EXPECT_EQ(ssmrt_module_get_layer(raw, "norm", &layer), SSMRT_SUCCESS);

  EXPECT_EQ(
      ssmrt_module_load_from_memory(kManifest, 10, image, sizeof(image), &raw),
      SSMRT_ERROR_MANIFEST);
  EXPECT_EQ(ssmrt_module_load_from_memory(kManifest, 10, nullptr, 0, &raw),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_EQ(ssmrt_module_load_from_memory(kManifest, 10, image, 0, &raw),
            SSMRT_ERROR_INVALID_VALUE);
}

TEST_F(RuntimeTest, StatusStrings) {
  std::vector<std::string> seen;
  for (int s = SSMRT_SUCCESS; s <= SSMRT_ERROR_CUDA; ++s) {
    std::string text = ssmrt_status_string(static_cast<ssmrt_status>(s));
    EXPECT_FALSE(text.empty());
    for (const std::string &other : seen)
      EXPECT_NE(text, other);
    seen.push_back(text);
  }
}

TEST_F(RuntimeTest, DtypeNamesAndSizes) {
  EXPECT_STREQ(ssmrt_dtype_name(SSMRT_F32), "f32");
  EXPECT_STREQ(ssmrt_dtype_name(SSMRT_F16), "f16");
  EXPECT_STREQ(ssmrt_dtype_name(SSMRT_BF16), "bf16");
  EXPECT_EQ(ssmrt_dtype_size(SSMRT_F32), 4u);
  EXPECT_EQ(ssmrt_dtype_size(SSMRT_F16), 2u);
  EXPECT_EQ(ssmrt_dtype_size(SSMRT_BF16), 2u);
  auto outside = static_cast<ssmrt_dtype>(7);
  EXPECT_EQ(ssmrt_dtype_name(outside), nullptr);
  EXPECT_EQ(ssmrt_dtype_size(outside), 0u);
}

TEST_F(RuntimeTest, LastErrorIsPerThread) {
  ssmrt_module raw = nullptr;
  ASSERT_NE(load("[]", &raw), SSMRT_SUCCESS);
  std::string mine = ssmrt_last_error();
  std::string before, after;
  std::thread([&] {
    before = ssmrt_last_error();
    ssmrt_module_load(nullptr, &raw);
    after = ssmrt_last_error();
  }).join();
  EXPECT_EQ(before, "");
  EXPECT_EQ(after, "ssmrt_module_load: manifestPath is null");
  EXPECT_EQ(ssmrt_last_error(), mine);
}

//===----------------------------------------------------------------------===//
// Manifest errors: each edit of kManifest gives SSMRT_ERROR_MANIFEST and a
// message naming the JSON path.
//===----------------------------------------------------------------------===//

struct ManifestCase {
  const char *name;
  const char *from;
  const char *to;
  const char *message;
};

void PrintTo(const ManifestCase &c, std::ostream *os) { *os << c.name; }

class ManifestErrorTest : public RuntimeTest,
                          public ::testing::WithParamInterface<ManifestCase> {};

TEST_P(ManifestErrorTest, NamesTheJsonPath) {
  const ManifestCase &c = GetParam();
  ssmrt_module raw = nullptr;
  EXPECT_EQ(load(edit(kManifest, c.from, c.to), &raw), SSMRT_ERROR_MANIFEST);
  EXPECT_EQ(raw, nullptr);
  EXPECT_STREQ(ssmrt_last_error(), c.message);
}

const ManifestCase kManifestCases[] = {
    {"WrongFormat", R"("format": "ssmc-manifest")", R"("format": "ssmc")",
     R"(manifest: format: expected "ssmc-manifest", got "ssmc")"},
    {"WrongVersion", R"("version": 1,)", R"("version": 2,)",
     "manifest: version: unsupported version 2 (this runtime reads version "
     "1)"},
    {"FloatVersion", R"("version": 1,)", R"("version": 1.0,)",
     "manifest: version: unsupported version 1.0 (this runtime reads version "
     "1)"},
    {"MissingBinary", R"("binary": "mamba1.fatbin",)", "",
     "manifest: binary: required field is missing"},
    {"MissingKernel", R"("kernel": "mamba1_selective_scan",)", "",
     "manifest: layers[0].launches[0].kernel: required field is missing"},
    {"MissingDtype", R"("dtype": "f32", "shape": [5120, 16])",
     R"("shape": [5120, 16])",
     "manifest: layers[0].tensors[2].dtype: required field is missing"},
    {"MissingGridSize", R"({"size": 1}])", R"({"div": 1}])",
     "manifest: layers[0].launches[0].grid[2].size: required field is "
     "missing"},
    {"StringSharedBytes", R"("shared_bytes": 0,)", R"("shared_bytes": "0",)",
     "manifest: layers[0].launches[0].shared_bytes: expected an integer, "
     "got \"0\""},
    {"NegativeSharedBytes", R"("shared_bytes": 0,)", R"("shared_bytes": -4,)",
     "manifest: layers[0].launches[0].shared_bytes: must be >= 0, got -4"},
    {"HugeSharedBytes", R"("shared_bytes": 0,)",
     R"("shared_bytes": 18446744073709551615,)",
     "manifest: layers[0].launches[0].shared_bytes: must be <= 2147483647, "
     "got 18446744073709551615"},
    {"BlockNotArray", R"("block": [64, 1, 1])", R"("block": 64)",
     "manifest: layers[0].launches[0].block: expected an array, got 64"},
    {"ZeroBlock", R"("block": [64, 1, 1])", R"("block": [64, 0, 1])",
     "manifest: layers[0].launches[0].block[1]: must be >= 1, got 0"},
    {"BlockZTooLarge", R"("block": [64, 1, 1])", R"("block": [1, 1, 128])",
     "manifest: layers[0].launches[0].block[2]: must be <= 64, got 128"},
    {"BlockTooManyThreads", R"("block": [64, 1, 1])",
     R"("block": [1024, 2, 1])",
     "manifest: layers[0].launches[0].block: 2048 threads, more than a block "
     "holds (1024)"},
    {"AbsoluteBinary", R"("binary": "mamba1.fatbin")",
     R"("binary": "/etc/hostname")",
     "manifest: binary: must be a path below the manifest's directory, got "
     "'/etc/hostname'"},
    {"BinaryAboveTheManifest", R"("binary": "mamba1.fatbin")",
     R"("binary": "lib/../../m.fatbin")",
     "manifest: binary: must be a path below the manifest's directory, got "
     "'lib/../../m.fatbin'"},
    {"NumberBeyondDouble", R"("version": 1,)", R"("version": 1e999,)",
     "manifest: invalid JSON: [json.exception.out_of_range.406] number "
     "overflow parsing '1e999'"},
    {"BoolInShape", R"("shape": [5120, 16])", R"("shape": [5120, true])",
     "manifest: layers[0].tensors[2].shape[1]: expected an integer or a "
     "symbol name, got true"},
    {"ZeroInShape", R"("shape": [5120, 16])", R"("shape": [5120, 0])",
     "manifest: layers[0].tensors[2].shape[1]: must be >= 1, got 0"},
    {"RankAboveEight", R"("shape": [5120, 16])",
     R"("shape": [1, 1, 1, 1, 1, 1, 1, 5120, 16])",
     "manifest: layers[0].tensors[2].shape: rank 9 exceeds the maximum of 8"},
    {"UnknownDtype", R"("dtype": "f32", "shape": [5120, 16])",
     R"("dtype": "f64", "shape": [5120, 16])",
     "manifest: layers[0].tensors[2].dtype: unknown dtype 'f64' (expected "
     "f32, f16 or bf16)"},
    {"UnknownRole", R"("role": "output")", R"("role": "result")",
     "manifest: layers[0].tensors[3].role: unknown role 'result' (expected "
     "input, output or inout)"},
    {"EmptyKernelName", R"("kernel": "mamba1_selective_scan")",
     R"("kernel": "")",
     "manifest: layers[0].launches[0].kernel: must not be empty"},
    {"UnknownSymbolInShape", R"("shape": [5120, 16])",
     R"("shape": [5120, "T"])",
     "manifest: layers[0].tensors[2].shape[1]: unknown symbol 'T'"},
    {"UnknownSymbolInWorkspace", R"("shape": ["B", 5120, 16])",
     R"("shape": ["Q", 5120, 16])",
     "manifest: layers[0].workspace[0].shape[0]: unknown symbol 'Q'"},
    {"DivInTensorShape", R"("shape": [5120, 16])",
     R"("shape": [5120, {"size": 16, "div": 2}])",
     "manifest: layers[0].tensors[2].shape[1]: expected an integer or a "
     "symbol name, got object"},
    {"ZeroWorkspaceDiv", R"("shape": ["B", 5120, 16])",
     R"("shape": ["B", {"size": "L", "div": 0}, 16])",
     "manifest: layers[0].workspace[0].shape[1].div: must be >= 1, got 0"},
    {"UnknownSymbolInGrid", R"({"size": "B"})", R"({"size": "T"})",
     "manifest: layers[0].launches[0].grid[1].size: unknown symbol 'T'"},
    {"UnknownTensorParam", R"({"tensor": "A"})", R"({"tensor": "X"})",
     "manifest: layers[0].launches[0].params[2].tensor: unknown tensor 'X'"},
    {"UnknownWorkspaceParam", R"({"workspace": "carry"})",
     R"({"workspace": "scratch"})",
     "manifest: layers[0].launches[0].params[4].workspace: unknown workspace "
     "'scratch'"},
    {"UnknownSymbolParam", R"({"symbol": "L"})", R"({"symbol": "T"})",
     "manifest: layers[0].launches[0].params[6].symbol: unknown symbol 'T'"},
    {"AmbiguousParam", R"({"tensor": "A"})",
     R"({"tensor": "A", "symbol": "B"})",
     "manifest: layers[0].launches[0].params[2]: expected exactly one of "
     "'tensor', 'workspace' or 'symbol'"},
    {"TwoGridEntries",
     R"([{"size": 5120, "div": 64}, {"size": "B"}, {"size": 1}])",
     R"([{"size": 5120, "div": 64}, {"size": "B"}])",
     "manifest: layers[0].launches[0].grid: expected 3 entries, got 2"},
    {"GridEntryNotObject", R"({"size": 1}])", "1]",
     "manifest: layers[0].launches[0].grid[2]: expected an object, got 1"},
    {"ZeroDiv", R"("div": 64)", R"("div": 0)",
     "manifest: layers[0].launches[0].grid[0].div: must be >= 1, got 0"},
    {"NegativeDiv", R"("div": 64)", R"("div": -64)",
     "manifest: layers[0].launches[0].grid[0].div: must be >= 1, got -64"},
    {"DuplicateTensor", R"({"name": "delta",)", R"({"name": "u",)",
     "manifest: layers[0].tensors[1].name: duplicate tensor 'u'"},
    {"DuplicateSymbol", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "B"])",
     "manifest: layers[0].symbols[2]: duplicate symbol 'B'"},
    {"UnboundSymbol", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "D"])",
     "manifest: layers[0].symbols[2]: symbol 'D' is used by no tensor shape"},
    {"DuplicateLayer", R"("name": "norm",)", R"("name": "mamba1",)",
     "manifest: layers[1].name: duplicate layer 'mamba1'"},
    {"ZeroSplitQuantum", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 0})",
     "manifest: layers[0].split.quantum: must be >= 1, got 0"},
    {"ZeroSplitMinSteps", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32, "min_steps": 0})",
     "manifest: layers[0].split.min_steps: must be >= 1, got 0"},
    {"ZeroSplitWaves", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32, "waves": 0})",
     "manifest: layers[0].split.waves: must be >= 1, got 0"},
    {"ZeroSplitFill", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32, "fill": 0})",
     "manifest: layers[0].split.fill: must be >= 1, got 0"},
    {"SplitWavesAndFill", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32, "waves": 3,
                  "fill": 2})",
     "manifest: layers[0].split.fill: a split has waves or fill, not both"},
    {"UnknownSplitSymbol", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L"],
        "split": {"symbol": "S", "over": "L", "quantum": 32})",
     "manifest: layers[0].split.symbol: unknown symbol 'S'"},
    {"SplitOverItself", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "S", "quantum": 32})",
     "manifest: layers[0].split.over: the split symbol cannot split itself"},
    {"SplitSymbolSizesATensor", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L"],
        "split": {"symbol": "L", "over": "B", "quantum": 32})",
     "manifest: layers[0].symbols[1]: symbol 'L' is the split symbol but "
     "sizes a tensor"},
    {"SplitDividesNoGrid", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32})",
     "manifest: layers[0].split.symbol: symbol 'S' divides no launch grid"},
    {"UnknownSymbolDiv", R"({"size": "B"})", R"({"size": "L", "div": "S"})",
     "manifest: layers[0].launches[0].grid[1].div: unknown symbol 'S'"},
    {"NegativeMinus", R"({"size": "B"})", R"({"size": "B", "minus": -1})",
     "manifest: layers[0].launches[0].grid[1].minus: must be >= 0, got -1"},
    {"WhenUnknownSymbol", R"({"symbol": "L"}])",
     R"({"symbol": "L"}], "when": {"symbol": "T", "max": 1})",
     "manifest: layers[0].launches[0].when.symbol: unknown symbol 'T'"},
    {"WhenWithoutBounds", R"({"symbol": "L"}])",
     R"({"symbol": "L"}], "when": {"symbol": "L"})",
     "manifest: layers[0].launches[0].when: expected 'min', 'max' or both"},
    {"WhenZeroMin", R"({"symbol": "L"}])",
     R"({"symbol": "L"}], "when": {"symbol": "L", "min": 0})",
     "manifest: layers[0].launches[0].when.min: must be >= 1, got 0"},
    {"WhenMaxBelowMin", R"({"symbol": "L"}])",
     R"({"symbol": "L"}], "when": {"symbol": "L", "min": 4, "max": 2})",
     "manifest: layers[0].launches[0].when.max: must be >= 4, got 2"},
    {"NegativeWorkspaceMinus", R"("shape": ["B", 5120, 16])",
     R"("shape": ["B", {"size": "L", "div": 2, "minus": -1}, 16])",
     "manifest: layers[0].workspace[0].shape[1].minus: must be >= 0, got -1"},
    {"WorkspaceZeroedNotBool", R"("shape": ["B", 5120, 16])",
     R"("shape": ["B", 5120, 16], "zeroed": 1)",
     "manifest: layers[0].workspace[0].zeroed: expected a boolean, got 1"},
    {"TensorMapUnknownTensor", R"("shape": ["B", 5120, 16])",
     R"("shape": [64], "tensor_maps": [{"tensor": "B", "box": [8, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps[0].tensor: unknown tensor "
     "'B'"},
    {"TensorMapBoxTooWide", R"("shape": ["B", 5120, 16])",
     R"("shape": [64], "tensor_maps": [{"tensor": "u", "box": [512, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps[0].box[0]: must be <= 256, "
     "got 512"},
    {"TensorMapBoxPastTheRank", R"("shape": ["B", 5120, 16])",
     R"("shape": [64],
        "tensor_maps": [{"tensor": "u", "box": [8, 1, 1, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps[0].box: expected 1 to 5 "
     "dimensions and no more than the rank 3 of tensor 'u'"},
    {"TensorMapInnermostBoxBytes", R"("shape": ["B", 5120, 16])",
     R"("shape": [64], "tensor_maps": [{"tensor": "u", "box": [4, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps[0].box[0]: the innermost "
     "box dimension must be a multiple of 16 bytes"},
    {"TensorMapDynamicWorkspace", R"("shape": ["B", 5120, 16])",
     R"("shape": ["B", 5120, 16],
        "tensor_maps": [{"tensor": "u", "box": [8, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps: a workspace with tensor "
     "maps must have a static shape"},
    {"TensorMapWorkspaceTooSmall", R"("shape": ["B", 5120, 16])",
     R"("shape": [16], "tensor_maps": [{"tensor": "u", "box": [8, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps: the workspace holds 64 "
     "bytes, fewer than 128 for each tensor map"},
    {"TensorMapWorkspaceDividedTooSmall", R"("shape": ["B", 5120, 16])",
     R"("shape": [{"size": 64, "div": 2}],
        "tensor_maps": [{"tensor": "u", "box": [8, 1]},
                        {"tensor": "u", "box": [8, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps: the workspace holds 128 "
     "bytes, fewer than 128 for each tensor map"},
    {"TensorMapWorkspaceOverflows", R"("shape": ["B", 5120, 16])",
     R"("shape": [4611686018427387905, 64],
        "tensor_maps": [{"tensor": "u", "box": [8, 1]}])",
     "manifest: layers[0].workspace[0].tensor_maps: the workspace size "
     "overflows size_t"},
    {"WorkersNotObject", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"], "workers": 4)",
     "manifest: layers[0].workers: expected an object, got 4"},
    {"WorkersSymbolSizesATensor", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L"],
        "workers": {"symbol": "L", "units": [{"size": "B"}], "per_sm": 2})",
     "manifest: layers[0].symbols[1]: symbol 'L' is the workers symbol but "
     "sizes a tensor"},
    {"WorkersSymbolIsTheSplitSymbol", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S"],
        "split": {"symbol": "S", "over": "L", "quantum": 32},
        "workers": {"symbol": "S", "units": [{"size": "B"}], "per_sm": 2})",
     "manifest: layers[0].workers.symbol: the split symbol cannot be the "
     "workers symbol"},
    {"SplitOverTheWorkersSymbol", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "S", "W"],
        "split": {"symbol": "S", "over": "W", "quantum": 32},
        "workers": {"symbol": "W", "units": [{"size": "B"}], "per_sm": 2})",
     "manifest: layers[0].split.over: the split cannot be over the workers "
     "symbol, which is chosen after it"},
    {"WorkersWithoutUnits", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "per_sm": 2})",
     "manifest: layers[0].workers.units: required field is missing"},
    {"WorkersUnitsNotArray", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": 320, "per_sm": 2})",
     "manifest: layers[0].workers.units: expected an array, got 320"},
    {"WorkersUnitsEmpty", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": [], "per_sm": 2})",
     "manifest: layers[0].workers.units: must not be empty"},
    {"WorkersUnitNotObject", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": ["B"], "per_sm": 2})",
     "manifest: layers[0].workers.units[0]: expected an object, got \"B\""},
    {"WorkersUnitsUseWorkers", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "per_sm": 2,
                    "units": [{"size": "B"}, {"size": "L", "div": "W"}]})",
     "manifest: layers[0].workers.units[1]: the workers symbol cannot size "
     "its own units"},
    {"WorkersZeroPerSM", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": [{"size": "B"}], "per_sm": 0})",
     "manifest: layers[0].workers.per_sm: must be >= 1, got 0"},
    {"WorkersFloatPerSM", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": [{"size": "B"}], "per_sm": 2.5})",
     "manifest: layers[0].workers.per_sm: expected an integer, got 2.5"},
    {"WorkersAreNoGridX", R"("symbols": ["B", "L"])",
     R"("symbols": ["B", "L", "W"],
        "workers": {"symbol": "W", "units": [{"size": "B"}], "per_sm": 2})",
     "manifest: layers[0].workers.symbol: symbol 'W' is no launch's grid x"},
};

INSTANTIATE_TEST_SUITE_P(
    Runtime, ManifestErrorTest, ::testing::ValuesIn(kManifestCases),
    [](const ::testing::TestParamInfo<ManifestCase> &info) {
      return std::string(info.param.name);
    });

//===----------------------------------------------------------------------===//
// Launch validation: each bad tensor list gives SSMRT_ERROR_SHAPE, before the
// driver is loaded.
//===----------------------------------------------------------------------===//

struct LaunchCase {
  const char *name;
  std::function<void(std::vector<ssmrt_tensor> &)> spoil;
  const char *message;
};

void PrintTo(const LaunchCase &c, std::ostream *os) { *os << c.name; }

class LaunchErrorTest : public RuntimeTest,
                        public ::testing::WithParamInterface<LaunchCase> {};

TEST_P(LaunchErrorTest, FailsBeforeTheDriver) {
  ssmrt_layer layer = loadLayer("mamba1");
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  GetParam().spoil(tensors);
  EXPECT_EQ(ssmrt_layer_launch(layer, tensors.data(),
                               static_cast<int32_t>(tensors.size()), nullptr),
            SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(), GetParam().message);
}

const LaunchCase kLaunchCases[] = {
    {"TooFewTensors", [](auto &t) { t.pop_back(); },
     "launch: layer 'mamba1' takes 4 tensors, got 3"},
    {"TooManyTensors", [](auto &t) { t.push_back(t[0]); },
     "launch: layer 'mamba1' takes 4 tensors, got 5"},
    {"WrongDtype", [](auto &t) { t[0].dtype = SSMRT_F16; },
     "launch: tensor 'u' dtype is f16, expected bf16"},
    {"InvalidDtype", [](auto &t) { t[2].dtype = static_cast<ssmrt_dtype>(7); },
     "launch: tensor 'A' dtype is invalid (7), expected f32"},
    {"WrongRank", [](auto &t) { t[2].rank = 3; },
     "launch: tensor 'A' rank is 3, expected 2"},
    {"WrongStaticDim", [](auto &t) { t[0].shape[1] = 4096; },
     "launch: tensor 'u' dim 1 is 4096, expected 5120"},
    {"InconsistentL", [](auto &t) { t[0].shape[2] = 197; },
     "launch: symbol 'L' is 197 from 'u' but 200 from 'delta'"},
    {"InconsistentB", [](auto &t) { t[3].shape[0] = 3; },
     "launch: symbol 'B' is 2 from 'u' but 3 from 'y'"},
    {"ZeroSymbol",
     [](auto &t) {
       for (ssmrt_tensor &x : t)
         if (x.rank == 3)
           x.shape[0] = 0;
     },
     "launch: tensor 'u' dim 0 binds symbol 'B' to 0, expected >= 1"},
    {"NegativeSymbol", [](auto &t) { t[0].shape[2] = -200; },
     "launch: tensor 'u' dim 2 binds symbol 'L' to -200, expected >= 1"},
    {"NullData", [](auto &t) { t[1].data = nullptr; },
     "launch: tensor 'delta' data is null"},
    {"MisalignedData",
     [](auto &t) { t[3].data = reinterpret_cast<void *>(0x40008); },
     "launch: tensor 'y' data 0x40008 is not 16-byte aligned"},
    {"TensorTooLarge",
     [](auto &t) {
       for (ssmrt_tensor &x : t)
         if (x.rank == 3)
           x.shape[0] = int64_t(1) << 50;
     },
     "launch: tensor 'u' holds more than 2^48 bytes"},
    {"TensorSizeOverflows",
     [](auto &t) {
       for (ssmrt_tensor &x : t)
         if (x.rank == 3)
           x.shape[2] = std::numeric_limits<int64_t>::max();
     },
     "launch: tensor 'u' holds more than 2^48 bytes"},
};

INSTANTIATE_TEST_SUITE_P(Runtime, LaunchErrorTest,
                         ::testing::ValuesIn(kLaunchCases),
                         [](const ::testing::TestParamInfo<LaunchCase> &info) {
                           return std::string(info.param.name);
                         });

TEST_F(RuntimeTest, GridTooLarge) {
  ssmrt_layer layer = loadLayer("norm");
  ssmrt_tensor x = tensor(0x10000, SSMRT_F16, {int64_t(1) << 33, 256});
  EXPECT_EQ(ssmrt_layer_launch(layer, &x, 1, nullptr), SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(),
               "launch: kernel 'norm_kernel' grid[0] is 8589934592, more than "
               "the driver accepts (2147483647)");
}

TEST_F(RuntimeTest, LaunchOutsideItsConditionIsNotSized) {
  // GridTooLarge's shape, with the launch only for T <= 1: it is skipped,
  // so nothing fails before the driver.
  ssmrt_module raw = nullptr;
  ASSERT_EQ(load(edit(kManifest, R"({"tensor": "x"}, {"symbol": "T"}])",
                      R"({"tensor": "x"}, {"symbol": "T"}],
                         "when": {"symbol": "T", "max": 1})"),
                 &raw),
            SSMRT_SUCCESS)
      << ssmrt_last_error();
  ModulePtr module = own(raw);
  ssmrt_layer layer = nullptr;
  ASSERT_EQ(ssmrt_module_get_layer(raw, "norm", &layer), SSMRT_SUCCESS);
  ssmrt_tensor x = tensor(0x10000, SSMRT_F16, {int64_t(1) << 33, 256});
  expectDriverFailure(ssmrt_layer_launch(layer, &x, 1, nullptr));
}

TEST_F(RuntimeTest, TensorMapsLoad) {
  // A workspace of two 128-byte tensor maps of u; they are encoded at
  // launch, which needs the driver.
  ssmrt_module raw = nullptr;
  ASSERT_EQ(load(edit(kManifest, R"("shape": ["B", 5120, 16])",
                      R"("shape": [64],
                         "tensor_maps": [{"tensor": "u", "box": [16, 8, 1]},
                                         {"tensor": "u", "box": [8]}])"),
                 &raw),
            SSMRT_SUCCESS)
      << ssmrt_last_error();
  ModulePtr module = own(raw);
  ssmrt_layer layer = nullptr;
  ASSERT_EQ(ssmrt_module_get_layer(raw, "mamba1", &layer), SSMRT_SUCCESS);
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  expectDriverFailure(ssmrt_layer_launch(
      layer, tensors.data(), static_cast<int32_t>(tensors.size()), nullptr));
}

TEST_F(RuntimeTest, GridYTooLarge) {
  // Layer mamba1's grid y is B, at most 65535 blocks.
  ssmrt_layer layer = loadLayer("mamba1");
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  for (ssmrt_tensor &t : tensors)
    if (t.rank == 3)
      t.shape[0] = 65536;
  EXPECT_EQ(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr),
            SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(),
               "launch: kernel 'mamba1_selective_scan' grid[1] is 65536, more "
               "than the driver accepts (65535)");
}

/// Layer mamba1 with its L split by the runtime: a carry-like launch over
/// all segments but the last, then the scan, both taking S.
std::string splitManifest() {
  std::string text = edit(kManifest, R"("symbols": ["B", "L"])",
                          R"("symbols": ["B", "L", "S"],
                             "split": {"symbol": "S", "over": "L",
                                       "quantum": 32})");
  text = edit(text, R"("shape": ["B", 5120, 16])",
              R"("shape": ["B", {"size": "L", "div": "S", "minus": 1}, 16])");
  text = edit(text, R"({"size": "B"}, {"size": 1}])",
              R"({"size": "L", "div": "S", "minus": 1}, {"size": "B"}])");
  return edit(text, R"({"symbol": "L"}])", R"({"symbol": "S"}])");
}

TEST_F(RuntimeTest, SplitLayerValidatesShapesBeforeTheDriver) {
  ssmrt_layer layer = loadLayer("mamba1", splitManifest());
  ASSERT_NE(layer, nullptr);
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  tensors[3].shape[2] = 100;
  EXPECT_EQ(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr),
            SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(),
               "launch: symbol 'L' is 200 from 'u' but 100 from 'y'");
  // The split length needs the device.
  tensors[3].shape[2] = 200;
  expectDriverFailure(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr));
}

/// Layer mamba1 as a persistent kernel: W blocks, as many as the SMs run at
/// once but at most B * 80 (its old grid), each with a zeroed workspace row.
std::string workersManifest() {
  std::string text = edit(kManifest, R"("symbols": ["B", "L"])",
                          R"("symbols": ["B", "L", "W"],
                             "workers": {"symbol": "W", "per_sm": 2,
                                         "units": [{"size": 5120, "div": 64},
                                                   {"size": "B"}]})");
  text = edit(text, R"("shape": ["B", 5120, 16])",
              R"("shape": ["W", 16], "zeroed": true)");
  text =
      edit(text, R"([{"size": 5120, "div": 64}, {"size": "B"}, {"size": 1}])",
           R"([{"size": "W"}, {"size": 1}, {"size": 1}])");
  return edit(text, R"({"symbol": "L"}])",
              R"({"symbol": "L"}, {"symbol": "W"}])");
}

/// splitManifest() plus a persistent launch over W blocks for the
/// ceil(L / S) segments of each of B * 80 rows: `grid` its grid.
std::string splitWorkersManifest(const std::string &grid) {
  std::string text = edit(splitManifest(), R"("quantum": 32})",
                          R"("quantum": 32},
                             "workers": {"symbol": "W", "per_sm": 2,
                                         "units": [{"size": "L", "div": "S"},
                                                   {"size": "B"}, {"size": 80}]})");
  text = edit(text, R"("symbols": ["B", "L", "S"])",
              R"("symbols": ["B", "L", "S", "W"])");
  return edit(text, R"({"symbol": "S"}])",
              R"({"symbol": "S"}]},
                 {"kernel": "persistent", "block": [128, 1, 1],
                  "shared_bytes": 0, "grid": )" +
                  grid + R"(,
                  "params": [{"workspace": "carry"}, {"symbol": "W"}])");
}

TEST_F(RuntimeTest, WorkersLayerValidatesShapesBeforeTheDriver) {
  ssmrt_layer layer = loadLayer("mamba1", workersManifest());
  ASSERT_NE(layer, nullptr);
  // W sizes no tensor.
  EXPECT_EQ(ssmrt_layer_num_tensors(layer), 4);
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  tensors[1].shape[0] = 3;
  EXPECT_EQ(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr),
            SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(),
               "launch: symbol 'B' is 2 from 'u' but 3 from 'delta'");
  // The worker count needs the device.
  tensors[1].shape[0] = 2;
  expectDriverFailure(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr));
}

TEST_F(RuntimeTest, WorkersUnitsMayUseTheSplitSymbol) {
  ssmrt_layer layer = loadLayer(
      "mamba1",
      splitWorkersManifest(R"([{"size": "W"}, {"size": 1}, {"size": 1}])"));
  ASSERT_NE(layer, nullptr);
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  expectDriverFailure(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr));
}

TEST_F(RuntimeTest, WorkersAreDecidedByAGridXOfTheSymbolAlone) {
  ssmrt_module raw = nullptr;
  EXPECT_EQ(load(splitWorkersManifest(
                     R"([{"size": "W", "div": 2}, {"size": 1}, {"size": 1}])"),
                 &raw),
            SSMRT_ERROR_MANIFEST);
  EXPECT_STREQ(ssmrt_last_error(),
               "manifest: layers[0].workers.symbol: symbol 'W' is no launch's "
               "grid x");
  EXPECT_EQ(
      load(splitWorkersManifest(R"([{"size": 1}, {"size": "W"}, {"size": 1}])"),
           &raw),
      SSMRT_ERROR_MANIFEST);
  EXPECT_STREQ(ssmrt_last_error(),
               "manifest: layers[0].workers.symbol: symbol 'W' is no launch's "
               "grid x");
}

/// S is chosen before W, from the grid that S divides: that grid may be
/// sized by neither.
TEST_F(RuntimeTest, SplitIsDecidedBeforeTheChosenSymbols) {
  auto errorOf = [&](const char *grid) {
    ssmrt_module raw = nullptr;
    EXPECT_EQ(load(splitWorkersManifest(grid), &raw), SSMRT_ERROR_MANIFEST);
    return std::string(ssmrt_last_error());
  };
  EXPECT_EQ(
      errorOf(R"([{"size": "W"}, {"size": "L", "div": "S"}, {"size": 1}])"),
      "manifest: layers[0].split.symbol: symbol 'S' is decided by a "
      "grid that uses symbol 'W'");
  EXPECT_EQ(
      errorOf(R"([{"size": "S"}, {"size": "L", "div": "S"}, {"size": 1}])"),
      "manifest: layers[0].launches[1]: the grid that the split symbol "
      "'S' divides cannot also be sized by it");
}

TEST_F(RuntimeTest, NullTensorList) {
  ssmrt_layer layer = loadLayer("mamba1");
  EXPECT_EQ(ssmrt_layer_launch(layer, nullptr, 4, nullptr),
            SSMRT_ERROR_INVALID_VALUE);
  EXPECT_STREQ(ssmrt_last_error(), "launch: tensors is null");
}

TEST_F(RuntimeTest, ValidLaunchNeedsTheDriver) {
  ssmrt_layer layer = loadLayer("mamba1");
  std::vector<ssmrt_tensor> tensors = mambaTensors();
  expectDriverFailure(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr));
  // The driver's absence does not hide later shape errors.
  tensors[0].shape[1] = 4096;
  EXPECT_EQ(ssmrt_layer_launch(layer, tensors.data(), 4, nullptr),
            SSMRT_ERROR_SHAPE);
  // The module is destroyed by the fixture, after the driver was tried.
}

//===----------------------------------------------------------------------===//
// C++ wrapper.
//===----------------------------------------------------------------------===//

/// The status of the ssmrt::Error that `body` throws, after checking its
/// message is the thread's last error.
ssmrt_status thrownStatus(const std::function<void()> &body) {
  try {
    body();
  } catch (const ssmrt::Error &e) {
    EXPECT_STREQ(e.what(), ssmrt_last_error());
    return e.status();
  }
  ADD_FAILURE() << "no ssmrt::Error thrown";
  return SSMRT_SUCCESS;
}

TEST_F(RuntimeTest, WrapperThrowsErrors) {
  std::string absent = (dir / "absent.manifest.json").string();
  EXPECT_EQ(thrownStatus([&] { ssmrt::Module::load(absent); }),
            SSMRT_ERROR_MANIFEST);

  write("mamba1.fatbin", "not a fatbin");
  std::string path = write("m.manifest.json", kManifest).string();
  ssmrt::Module module = ssmrt::Module::load(path);
  EXPECT_EQ(thrownStatus([&] { module.layer("mamba2"); }),
            SSMRT_ERROR_NOT_FOUND);

  ssmrt::Layer layer = module.layer("mamba1");
  EXPECT_EQ(layer.numTensors(), 4);
  EXPECT_EQ(thrownStatus([&] { layer.launch({}); }), SSMRT_ERROR_SHAPE);
  EXPECT_STREQ(ssmrt_last_error(),
               "launch: layer 'mamba1' takes 4 tensors, got 0");

  std::vector<ssmrt_tensor> tensors = mambaTensors();
  tensors[3].data = nullptr;
  EXPECT_EQ(thrownStatus([&] { layer.launch(tensors); }), SSMRT_ERROR_SHAPE);

  try {
    layer.launch(mambaTensors());
    ADD_FAILURE() << "a launch of a bogus image succeeded";
  } catch (const ssmrt::Error &e) {
    expectDriverFailure(e.status());
  }
}

TEST_F(RuntimeTest, WrapperModuleIsMoveOnly) {
  static_assert(!std::is_copy_constructible_v<ssmrt::Module>);
  static_assert(std::is_nothrow_move_constructible_v<ssmrt::Module>);
  const char image[] = "not a fatbin";
  ssmrt::Module a =
      ssmrt::Module::loadFromMemory(kManifest, image, sizeof(image));
  ssmrt_module handle = a.get();
  ssmrt::Module b = std::move(a);
  EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(b.get(), handle);
  ssmrt::Module c =
      ssmrt::Module::loadFromMemory(kManifest, image, sizeof(image));
  c = std::move(b);
  EXPECT_EQ(c.get(), handle);
  EXPECT_EQ(c.layer("norm").numTensors(), 1);
}

TEST_F(RuntimeTest, WrapperListsLayersAndCloses) {
  const char image[] = "not a fatbin";
  ssmrt::Module module =
      ssmrt::Module::loadFromMemory(kManifest, image, sizeof(image));
  ASSERT_EQ(module.numLayers(), 2);
  EXPECT_EQ(module.layerAt(0).name(), "mamba1");
  EXPECT_EQ(module.layerAt(1).name(), "norm");
  EXPECT_EQ(thrownStatus([&] { module.layerAt(2); }),
            SSMRT_ERROR_INVALID_VALUE);
  module.close();
  EXPECT_EQ(module.get(), nullptr);
  EXPECT_EQ(module.numLayers(), 0);
  // Closing again, like destroying null, does nothing.
  module.close();
}

} // namespace
