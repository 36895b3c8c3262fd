//===- Manifest.cpp - manifest parsing and validation -----------*- C++ -*-===//
//
// Reads the manifest with nlohmann/json and checks it field by field, carrying
// the JSON path of the value at hand (e.g. "layers[0].launches[0].grid[1]")
// into every error. The informational fields (archs, op, tile) and unknown
// keys are not read, so newer compilers may add fields.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include "Failure.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ssmrt::detail {

std::size_t dtypeSize(ssmrt_dtype dtype) { return dtype == SSMRT_F32 ? 4 : 2; }

const char *dtypeName(ssmrt_dtype dtype) {
  switch (dtype) {
  case SSMRT_F32:
    return "f32";
  case SSMRT_F16:
    return "f16";
  case SSMRT_BF16:
    return "bf16";
  }
  return nullptr;
}

namespace {

using nlohmann::json;

/// Throws Failure(SSMRT_ERROR_MANIFEST) about the value at `path`.
[[noreturn]] void bad(const std::string &path, const std::string &problem) {
  fail(SSMRT_ERROR_MANIFEST, "manifest: " + path + ": " + problem);
}

/// The path of field `key` of the object at `path` ("" for the root).
std::string member(const std::string &path, const char *key) {
  return path.empty() ? key : path + "." + key;
}

/// The path of element `i` of the array at `path`.
std::string element(const std::string &path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

/// A value as an error shows it: scalars verbatim, containers by type.
std::string describe(const json &value) {
  return value.is_primitive() ? value.dump() : value.type_name();
}

/// Field `key` of the object `object` (at `path`), which must be present.
const json &field(const json &object, const std::string &path,
                  const char *key) {
  auto it = object.find(key);
  if (it == object.end())
    bad(member(path, key), "required field is missing");
  return *it;
}

/// `value`, which must be an object.
const json &asObject(const json &value, const std::string &path) {
  if (!value.is_object())
    bad(path, "expected an object, got " + describe(value));
  return value;
}

/// `value`, which must be an array.
const json &asArray(const json &value, const std::string &path) {
  if (!value.is_array())
    bad(path, "expected an array, got " + describe(value));
  return value;
}

/// A non-empty string.
std::string asName(const json &value, const std::string &path) {
  if (!value.is_string())
    bad(path, "expected a string, got " + describe(value));
  std::string name = value.get<std::string>();
  if (name.empty())
    bad(path, "must not be empty");
  return name;
}

/// An integer in [min, max], where max >= 0.
int64_t asInt(const json &value, const std::string &path, int64_t min,
              int64_t max) {
  if (!value.is_number_integer())
    bad(path, "expected an integer, got " + describe(value));
  // The parser stores non-negative integers as unsigned, maybe > INT64_MAX.
  if (value.is_number_unsigned()
          ? value.get<uint64_t>() > static_cast<uint64_t>(max)
          : value.get<int64_t>() > max)
    bad(path, "must be <= " + std::to_string(max) + ", got " + value.dump());
  int64_t v = value.get<int64_t>();
  if (v < min)
    bad(path,
        "must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  return v;
}

/// A dtype name.
ssmrt_dtype asDtype(const json &value, const std::string &path) {
  std::string name = asName(value, path);
  for (ssmrt_dtype dtype : {SSMRT_F32, SSMRT_F16, SSMRT_BF16})
    if (name == dtypeName(dtype))
      return dtype;
  bad(path, "unknown dtype '" + name + "' (expected f32, f16 or bf16)");
}

/// A role name.
Role asRole(const json &value, const std::string &path) {
  std::string name = asName(value, path);
  if (name == "input")
    return Role::Input;
  if (name == "output")
    return Role::Output;
  if (name == "inout")
    return Role::InOut;
  bad(path, "unknown role '" + name + "' (expected input, output or inout)");
}

/// What `lookup` matches: a symbol, or a tensor's or workspace's name.
const std::string &nameOf(const std::string &symbol) { return symbol; }
const std::string &nameOf(const BufferDesc &buffer) { return buffer.name; }

/// Index of the entry of `entries` that `value` names; `what` says what an
/// entry is in the error.
template <typename T>
int32_t lookup(const std::vector<T> &entries, const json &value,
               const std::string &path, const char *what) {
  std::string name = asName(value, path);
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (nameOf(entries[i]) == name)
      return static_cast<int32_t>(i);
  bad(path, std::string("unknown ") + what + " '" + name + "'");
}

/// What an extent may be besides a size or a symbol.
enum class ExtentForm { Plain, Quotient, GridSize };

/// A static size (>= 1) or a symbol name; as a `Quotient` (workspace
/// dimensions) also `{"size": size-or-symbol, "div": k-or-symbol, "minus":
/// m}` for ceil(size / div) - m (both optional), and as a `GridSize` always
/// such an object.
Extent asExtent(const LayerDesc &layer, const json &value,
                const std::string &path, ExtentForm form = ExtentForm::Plain) {
  Extent extent;
  if (form != ExtentForm::Plain &&
      (value.is_object() || form == ExtentForm::GridSize)) {
    asObject(value, path);
    extent = asExtent(layer, field(value, path, "size"), member(path, "size"));
    if (auto it = value.find("div"); it != value.end()) {
      if (it->is_string())
        extent.divSymbol =
            lookup(layer.symbols, *it, member(path, "div"), "symbol");
      else
        extent.div = asInt(*it, member(path, "div"), 1,
                           std::numeric_limits<int64_t>::max());
    }
    if (auto it = value.find("minus"); it != value.end())
      extent.minus = asInt(*it, member(path, "minus"), 0,
                           std::numeric_limits<int64_t>::max());
    return extent;
  }
  if (value.is_string())
    extent.symbol = lookup(layer.symbols, value, path, "symbol");
  else if (value.is_number_integer())
    extent.value = asInt(value, path, 1, std::numeric_limits<int64_t>::max());
  else
    bad(path, "expected an integer or a symbol name, got " + describe(value));
  return extent;
}

/// The name, dtype and shape shared by tensors and workspaces; checks that the
/// name is new among `taken`.
void parseBuffer(const LayerDesc &layer, const json &value,
                 const std::string &path, const char *what,
                 std::unordered_set<std::string> &taken, BufferDesc &buffer) {
  asObject(value, path);
  std::string namePath = member(path, "name");
  buffer.name = asName(field(value, path, "name"), namePath);
  if (!taken.insert(buffer.name).second)
    bad(namePath, std::string("duplicate ") + what + " '" + buffer.name + "'");
  buffer.dtype = asDtype(field(value, path, "dtype"), member(path, "dtype"));
  std::string shapePath = member(path, "shape");
  const json &shape = asArray(field(value, path, "shape"), shapePath);
  if (shape.size() > kMaxRank)
    bad(shapePath, "rank " + std::to_string(shape.size()) +
                       " exceeds the maximum of " + std::to_string(kMaxRank));
  // Only workspaces may size a dimension as ceil(symbol / k): a tensor's
  // dimensions bind the symbols.
  ExtentForm form = std::string(what) == "workspace" ? ExtentForm::Quotient
                                                     : ExtentForm::Plain;
  for (std::size_t i = 0; i < shape.size(); ++i)
    buffer.shape.push_back(
        asExtent(layer, shape[i], element(shapePath, i), form));
}

/// A workspace's `tensor_maps`: [{"tensor": name, "box": [int, ...]}, ...],
/// boxes of 1 to 5 dimensions (no more than the tensor's rank) of 1 to 256
/// elements, the innermost a multiple of 16 bytes, in a workspace of static
/// shape with 128 bytes for each.
void parseTensorMaps(const LayerDesc &layer, const json &value,
                     const std::string &path, WorkspaceDesc &workspace) {
  const json &maps = asArray(value, path);
  for (std::size_t i = 0; i < maps.size(); ++i) {
    std::string mapPath = element(path, i);
    asObject(maps[i], mapPath);
    TensorMapDesc map;
    map.tensor = lookup(layer.tensors, field(maps[i], mapPath, "tensor"),
                        member(mapPath, "tensor"), "tensor");
    const TensorDesc &tensor = layer.tensors[map.tensor];
    std::string boxPath = member(mapPath, "box");
    const json &box = asArray(field(maps[i], mapPath, "box"), boxPath);
    if (box.empty() || box.size() > 5 || box.size() > tensor.shape.size())
      bad(boxPath, "expected 1 to 5 dimensions and no more than the rank " +
                       std::to_string(tensor.shape.size()) + " of tensor '" +
                       tensor.name + "'");
    for (std::size_t d = 0; d < box.size(); ++d)
      map.box.push_back(
          static_cast<uint32_t>(asInt(box[d], element(boxPath, d), 1, 256)));
    if (map.box[0] * dtypeSize(tensor.dtype) % 16 != 0)
      bad(element(boxPath, 0), "the innermost box dimension must be a "
                               "multiple of 16 bytes");
    workspace.tensorMaps.push_back(std::move(map));
  }
  std::size_t bytes = dtypeSize(workspace.dtype);
  for (const Extent &extent : workspace.shape) {
    if (!extent.isStatic())
      bad(path, "a workspace with tensor maps must have a static shape");
    if (!multiply(bytes, extent.valueWith({}), bytes))
      bad(path, "the workspace size overflows size_t");
  }
  if (bytes < kTensorMapBytes * workspace.tensorMaps.size())
    bad(path, "the workspace holds " + std::to_string(bytes) +
                  " bytes, fewer than 128 for each tensor map");
}

/// A kernel parameter: {"tensor" | "workspace" | "symbol": name}.
Param asParam(const LayerDesc &layer, const json &value,
              const std::string &path) {
  asObject(value, path);
  Param param;
  int kinds = 0;
  if (auto it = value.find("tensor"); it != value.end()) {
    param = {Param::Kind::Tensor,
             lookup(layer.tensors, *it, member(path, "tensor"), "tensor")};
    ++kinds;
  }
  if (auto it = value.find("workspace"); it != value.end()) {
    param = {
        Param::Kind::Workspace,
        lookup(layer.workspaces, *it, member(path, "workspace"), "workspace")};
    ++kinds;
  }
  if (auto it = value.find("symbol"); it != value.end()) {
    param = {Param::Kind::Symbol,
             lookup(layer.symbols, *it, member(path, "symbol"), "symbol")};
    ++kinds;
  }
  if (kinds != 1)
    bad(path, "expected exactly one of 'tensor', 'workspace' or 'symbol'");
  return param;
}

/// A launch's `when`: {"symbol": name, "min": int, "max": int}, at least one
/// of the bounds, with 1 <= min <= max.
Condition asCondition(const LayerDesc &layer, const json &value,
                      const std::string &path) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  asObject(value, path);
  Condition when;
  when.symbol = lookup(layer.symbols, field(value, path, "symbol"),
                       member(path, "symbol"), "symbol");
  auto min = value.find("min"), max = value.find("max");
  if (min == value.end() && max == value.end())
    bad(path, "expected 'min', 'max' or both");
  if (min != value.end())
    when.min = asInt(*min, member(path, "min"), 1, kMax);
  if (max != value.end())
    when.max = asInt(*max, member(path, "max"), when.min, kMax);
  return when;
}

/// An entry of a layer's `launches`.
LaunchDesc parseLaunch(const LayerDesc &layer, const json &value,
                       const std::string &path) {
  asObject(value, path);
  LaunchDesc launch;
  launch.kernel = asName(field(value, path, "kernel"), member(path, "kernel"));

  std::string blockPath = member(path, "block");
  const json &block = asArray(field(value, path, "block"), blockPath);
  if (block.size() != 3)
    bad(blockPath, "expected 3 entries, got " + std::to_string(block.size()));
  // The driver's limits: x and y up to 1024, z up to 64, 1024 threads.
  int64_t threads = 1;
  for (std::size_t i = 0; i < 3; ++i) {
    launch.block[i] = static_cast<uint32_t>(
        asInt(block[i], element(blockPath, i), 1, i < 2 ? 1024 : 64));
    threads *= launch.block[i];
  }
  if (threads > 1024)
    bad(blockPath,
        std::to_string(threads) + " threads, more than a block holds (1024)");

  // The driver takes the dynamic shared size as an int attribute.
  launch.sharedBytes = static_cast<uint32_t>(
      asInt(field(value, path, "shared_bytes"), member(path, "shared_bytes"), 0,
            std::numeric_limits<int32_t>::max()));

  std::string gridPath = member(path, "grid");
  const json &grid = asArray(field(value, path, "grid"), gridPath);
  if (grid.size() != 3)
    bad(gridPath, "expected 3 entries, got " + std::to_string(grid.size()));
  for (std::size_t i = 0; i < 3; ++i)
    launch.grid[i] =
        asExtent(layer, grid[i], element(gridPath, i), ExtentForm::GridSize);

  std::string paramsPath = member(path, "params");
  const json &params = asArray(field(value, path, "params"), paramsPath);
  for (std::size_t i = 0; i < params.size(); ++i)
    launch.params.push_back(asParam(layer, params[i], element(paramsPath, i)));

  if (auto it = value.find("when"); it != value.end())
    launch.when = asCondition(layer, *it, member(path, "when"));
  return launch;
}

/// An entry of `layers`.
LayerDesc parseLayer(const json &value, const std::string &path) {
  asObject(value, path);
  LayerDesc layer;
  layer.name = asName(field(value, path, "name"), member(path, "name"));

  std::string symbolsPath = member(path, "symbols");
  const json &symbols = asArray(field(value, path, "symbols"), symbolsPath);
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    std::string symbolPath = element(symbolsPath, i);
    std::string name = asName(symbols[i], symbolPath);
    for (const std::string &other : layer.symbols)
      if (other == name)
        bad(symbolPath, "duplicate symbol '" + name + "'");
    layer.symbols.push_back(name);
  }

  std::string tensorsPath = member(path, "tensors");
  const json &tensors = asArray(field(value, path, "tensors"), tensorsPath);
  std::unordered_set<std::string> tensorNames;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    std::string tensorPath = element(tensorsPath, i);
    TensorDesc tensor;
    parseBuffer(layer, tensors[i], tensorPath, "tensor", tensorNames, tensor);
    tensor.role = asRole(field(tensors[i], tensorPath, "role"),
                         member(tensorPath, "role"));
    layer.tensors.push_back(std::move(tensor));
  }

  // A launch binds symbols from the tensor shapes, but for the split and
  // workers symbols, which it chooses.
  if (auto it = value.find("split"); it != value.end()) {
    std::string splitPath = member(path, "split");
    asObject(*it, splitPath);
    layer.split.symbol = lookup(layer.symbols, field(*it, splitPath, "symbol"),
                                member(splitPath, "symbol"), "symbol");
    layer.split.over = lookup(layer.symbols, field(*it, splitPath, "over"),
                              member(splitPath, "over"), "symbol");
    layer.split.quantum =
        asInt(field(*it, splitPath, "quantum"), member(splitPath, "quantum"), 1,
              std::numeric_limits<int32_t>::max());
    if (auto min = it->find("min_steps"); min != it->end())
      layer.split.minSteps = asInt(*min, member(splitPath, "min_steps"), 1,
                                   std::numeric_limits<int32_t>::max());
    if (auto waves = it->find("waves"); waves != it->end())
      layer.split.waves = asInt(*waves, member(splitPath, "waves"), 1, 64);
    if (auto fill = it->find("fill"); fill != it->end()) {
      // The two rules size the segments differently; ssmc writes one.
      if (it->contains("waves"))
        bad(member(splitPath, "fill"), "a split has waves or fill, not both");
      layer.split.fill = asInt(*fill, member(splitPath, "fill"), 1, 64);
    }
    if (layer.split.over == layer.split.symbol)
      bad(member(splitPath, "over"), "the split symbol cannot split itself");
  }
  // The workers' units may use the split symbol, which is chosen first.
  if (auto it = value.find("workers"); it != value.end()) {
    std::string workersPath = member(path, "workers");
    asObject(*it, workersPath);
    std::string symbolPath = member(workersPath, "symbol");
    layer.workers.symbol = lookup(
        layer.symbols, field(*it, workersPath, "symbol"), symbolPath, "symbol");
    if (layer.workers.symbol == layer.split.symbol)
      bad(symbolPath, "the split symbol cannot be the workers symbol");
    std::string unitsPath = member(workersPath, "units");
    const json &units = asArray(field(*it, workersPath, "units"), unitsPath);
    if (units.empty())
      bad(unitsPath, "must not be empty");
    for (std::size_t i = 0; i < units.size(); ++i) {
      std::string unitPath = element(unitsPath, i);
      Extent unit = asExtent(layer, units[i], unitPath, ExtentForm::GridSize);
      if (unit.symbol == layer.workers.symbol ||
          unit.divSymbol == layer.workers.symbol)
        bad(unitPath, "the workers symbol cannot size its own units");
      layer.workers.units.push_back(unit);
    }
    layer.workers.perSM =
        asInt(field(*it, workersPath, "per_sm"), member(workersPath, "per_sm"),
              1, std::numeric_limits<int32_t>::max());
    if (layer.split.symbol >= 0 && layer.split.over == layer.workers.symbol)
      bad(member(member(path, "split"), "over"),
          "the split cannot be over the workers symbol, which is chosen "
          "after it");
  }
  for (std::size_t s = 0; s < layer.symbols.size(); ++s) {
    bool bound = false;
    for (const TensorDesc &tensor : layer.tensors)
      for (const Extent &extent : tensor.shape)
        bound |= extent.symbol == static_cast<int32_t>(s);
    const char *chosen = nullptr;
    if (layer.split.symbol == static_cast<int32_t>(s))
      chosen = "split";
    else if (layer.workers.symbol == static_cast<int32_t>(s))
      chosen = "workers";
    if (bound == (chosen != nullptr))
      bad(element(symbolsPath, s),
          "symbol '" + layer.symbols[s] +
              (chosen ? "' is the " + std::string(chosen) +
                            " symbol but sizes a tensor"
                      : "' is used by no tensor shape"));
  }

  if (auto it = value.find("workspace"); it != value.end()) {
    std::string workspacesPath = member(path, "workspace");
    const json &workspaces = asArray(*it, workspacesPath);
    std::unordered_set<std::string> workspaceNames;
    for (std::size_t i = 0; i < workspaces.size(); ++i) {
      std::string workspacePath = element(workspacesPath, i);
      WorkspaceDesc workspace;
      parseBuffer(layer, workspaces[i], workspacePath, "workspace",
                  workspaceNames, workspace);
      if (auto zeroed = workspaces[i].find("zeroed");
          zeroed != workspaces[i].end()) {
        if (!zeroed->is_boolean())
          bad(member(workspacePath, "zeroed"),
              "expected a boolean, got " + describe(*zeroed));
        workspace.zeroed = zeroed->get<bool>();
      }
      if (auto maps = workspaces[i].find("tensor_maps");
          maps != workspaces[i].end())
        parseTensorMaps(layer, *maps, member(workspacePath, "tensor_maps"),
                        workspace);
      layer.workspaces.push_back(std::move(workspace));
    }
  }

  std::string launchesPath = member(path, "launches");
  const json &launches = asArray(field(value, path, "launches"), launchesPath);
  for (std::size_t i = 0; i < launches.size(); ++i)
    layer.launches.push_back(
        parseLaunch(layer, launches[i], element(launchesPath, i)));
  // The split symbol is chosen for a launch whose grid it divides.
  if (layer.split.symbol >= 0) {
    for (std::size_t i = 0; i < layer.launches.size(); ++i)
      for (const Extent &dim : layer.launches[i].grid)
        if (dim.divSymbol == layer.split.symbol)
          layer.split.launch = static_cast<int32_t>(i);
    if (layer.split.launch < 0)
      bad(member(member(path, "split"), "symbol"),
          "symbol '" + layer.symbols[layer.split.symbol] +
              "' divides no launch grid");
    // That grid's other dimensions size the choice, so none may be the
    // symbol being chosen.
    for (const Extent &dim : layer.launches[layer.split.launch].grid)
      if (dim.symbol == layer.split.symbol)
        bad(element(launchesPath, layer.split.launch),
            "the grid that the split symbol '" +
                layer.symbols[layer.split.symbol] +
                "' divides cannot also be sized by it");
  }
  // The workers symbol is chosen for a launch whose grid x it is.
  if (layer.workers.symbol >= 0) {
    for (std::size_t i = 0; i < layer.launches.size(); ++i) {
      const Extent &x = layer.launches[i].grid[0];
      if (x.symbol == layer.workers.symbol && x.divSymbol < 0 && x.div == 1 &&
          x.minus == 0)
        layer.workers.launch = static_cast<int32_t>(i);
    }
    const std::string &symbol = layer.symbols[layer.workers.symbol];
    if (layer.workers.launch < 0)
      bad(member(member(path, "workers"), "symbol"),
          "symbol '" + symbol + "' is no launch's grid x");
    // The split is chosen first, from a grid that must not need the workers.
    if (layer.split.launch >= 0)
      for (const Extent &dim : layer.launches[layer.split.launch].grid)
        if (dim.symbol == layer.workers.symbol ||
            dim.divSymbol == layer.workers.symbol)
          bad(member(member(path, "split"), "symbol"),
              "symbol '" + layer.symbols[layer.split.symbol] +
                  "' is decided by a grid that uses symbol '" + symbol + "'");
  }
  return layer;
}

} // namespace

Manifest parseManifest(std::string_view text) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::exception &e) {
    // A syntax error, or a number no double holds (out_of_range).
    fail(SSMRT_ERROR_MANIFEST,
         std::string("manifest: invalid JSON: ") + e.what());
  }
  asObject(root, "(root)");

  const json &format = field(root, "", "format");
  if (format != "ssmc-manifest")
    bad("format", "expected \"ssmc-manifest\", got " + describe(format));
  const json &version = field(root, "", "version");
  if (!version.is_number_integer() || version != 1)
    bad("version", "unsupported version " + describe(version) +
                       " (this runtime reads version 1)");

  Manifest manifest;
  manifest.binary = asName(field(root, "", "binary"), "binary");
  // Relative to the manifest and below it, so that a manifest names only
  // files shipped with it.
  std::filesystem::path binary(manifest.binary);
  if (binary.is_absolute() ||
      std::any_of(
          binary.begin(), binary.end(),
          [](const std::filesystem::path &part) { return part == ".."; }))
    bad("binary", "must be a path below the manifest's directory, got '" +
                      manifest.binary + "'");

  const json &layers = asArray(field(root, "", "layers"), "layers");
  std::unordered_set<std::string> layerNames;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string layerPath = element("layers", i);
    LayerDesc layer = parseLayer(layers[i], layerPath);
    if (!layerNames.insert(layer.name).second)
      bad(member(layerPath, "name"), "duplicate layer '" + layer.name + "'");
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

} // namespace ssmrt::detail
