//===- Spec.cpp - JSON layer spec parsing -----------------------*- C++ -*-===//
//
// Parses a layer spec with llvm::json and validates every field against what
// the ssm ops accept (reporting "<json path>: <problem>" for the first fault,
// so that a typo or an unsupported size is caught before any IR exists).
// LayerModule.cpp builds the layer functions from the parsed spec.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Spec/Spec.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::ssm;
using llvm::Error;
using llvm::Expected;

//===----------------------------------------------------------------------===//
// Parsing helpers
//===----------------------------------------------------------------------===//

/// An error located at a JSON path: "<path>: <message>".
static Error failAt(const Twine &path, const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + message);
}

/// `text` cut to a length that keeps messages readable whatever the input.
static std::string clip(StringRef text) {
  constexpr size_t maxChars = 40;
  if (text.size() <= maxChars)
    return text.str();
  return text.take_front(maxChars - 3).str() + "...";
}

/// A short rendering of a JSON value for messages.
static std::string describe(const llvm::json::Value &value) {
  std::string text;
  llvm::raw_string_ostream(text) << value;
  return clip(text);
}

/// Whether `name` matches [A-Za-z_][A-Za-z0-9_]*: it becomes a file and a
/// symbol name.
static bool isIdentifier(StringRef name) {
  if (name.empty() || llvm::isDigit(name.front()))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// "a, b or c", for the expected values of an enum field.
static std::string joinAlternatives(ArrayRef<StringRef> names) {
  if (names.size() == 1)
    return names.front().str();
  return llvm::join(names.drop_back(), ", ") + " or " + names.back().str();
}

/// Longest spec or layer name: with ".manifest.json" a file name stays well
/// within the 255 bytes file systems allow.
static constexpr size_t kMaxNameLength = 128;

namespace {
/// One named value of an enum-like string field.
template <typename T> struct EnumCase {
  StringRef name;
  T value;
};

/// Reads the fields of one JSON object, reporting each under "<path>.<key>".
class ObjectReader {
public:
  ObjectReader(const llvm::json::Object &object, std::string path)
      : object(object), path(std::move(path)) {}

  /// The path of a field of this object.
  std::string fieldPath(StringRef key) const { return path + "." + key.str(); }

  /// Fails on a key not in `known` (the first in sorted order, so that the
  /// message does not depend on hash order).
  Error checkKnownKeys(ArrayRef<StringRef> known) const {
    SmallVector<StringRef> unknown;
    for (const auto &entry : object)
      if (!llvm::is_contained(known, StringRef(entry.first)))
        unknown.push_back(entry.first);
    if (unknown.empty())
      return Error::success();
    return failAt(fieldPath(*llvm::min_element(unknown)), "unknown field");
  }

  /// Whether the object has `key`.
  bool has(StringRef key) const { return object.get(key) != nullptr; }

  /// The value of `key`, or null when it is absent and not `required`.
  Expected<const llvm::json::Value *> get(StringRef key, bool required) const {
    const llvm::json::Value *value = object.get(key);
    if (!value && required)
      return failAt(fieldPath(key), "missing required field");
    return value;
  }

  /// Reads a field that `convert` turns into a T (none: the wrong kind or
  /// value, which fails with "expected <expectation>, got <value>"); an
  /// absent optional field keeps `out`.
  template <typename T>
  Error
  readScalar(StringRef key, bool required, StringRef expectation,
             function_ref<std::optional<T>(const llvm::json::Value &)> convert,
             T &out) const {
    Expected<const llvm::json::Value *> value = get(key, required);
    if (!value)
      return value.takeError();
    if (!*value)
      return Error::success();
    std::optional<T> converted = convert(**value);
    if (!converted)
      return failAt(fieldPath(key),
                    "expected " + expectation + ", got " + describe(**value));
    out = std::move(*converted);
    return Error::success();
  }

  /// Reads a string field.
  Error readString(StringRef key, bool required, std::string &out) const {
    return readScalar<std::string>(
        key, required, "a string",
        [](const llvm::json::Value &v) -> std::optional<std::string> {
          if (std::optional<StringRef> text = v.getAsString())
            return text->str();
          return std::nullopt;
        },
        out);
  }

  /// Reads an identifier field ([A-Za-z_][A-Za-z0-9_]*).
  Error readIdentifier(StringRef key, std::string &out) const {
    if (Error err = readString(key, /*required=*/true, out))
      return err;
    if (!isIdentifier(out))
      return failAt(fieldPath(key),
                    "'" + clip(out) +
                        "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    // Names make file names (<spec>.manifest.json) and kernel symbols.
    if (out.size() > kMaxNameLength)
      return failAt(fieldPath(key), "'" + clip(out) + "' is longer than " +
                                        Twine(kMaxNameLength) + " characters");
    return Error::success();
  }

  /// Reads an optional boolean field.
  Error readBool(StringRef key, bool &out) const {
    return readScalar<bool>(
        key, /*required=*/false, "true or false",
        [](const llvm::json::Value &v) { return v.getAsBoolean(); }, out);
  }

  /// Reads an integer field that must satisfy `isValid`.
  Error readInteger(StringRef key, bool required, StringRef expectation,
                    llvm::function_ref<bool(int64_t)> isValid,
                    int64_t &out) const {
    return readScalar<int64_t>(
        key, required, expectation,
        [&](const llvm::json::Value &v) -> std::optional<int64_t> {
          std::optional<int64_t> number = v.getAsInteger();
          if (number && isValid(*number))
            return number;
          return std::nullopt;
        },
        out);
  }

  /// Reads a positive integer field.
  Error readPositive(StringRef key, bool required, int64_t &out) const {
    return readInteger(
        key, required, "a positive integer", [](int64_t v) { return v > 0; },
        out);
  }

  /// Reads a required positive integer field of at most `max`.
  Error readPositiveAtMost(StringRef key, int64_t max, int64_t &out) const {
    if (Error err = readPositive(key, /*required=*/true, out))
      return err;
    if (out > max)
      return failAt(fieldPath(key),
                    Twine(out) + " is too large (at most " + Twine(max) + ")");
    return Error::success();
  }

  /// Reads a string field naming one of `cases`; an unknown name fails with
  /// "<problem> '<name>' (expected ...)".
  template <typename T>
  Error readEnum(StringRef key, bool required, ArrayRef<EnumCase<T>> cases,
                 StringRef problem, T &out) const {
    std::string name;
    if (Error err = readString(key, required, name))
      return err;
    if (!has(key))
      return Error::success();
    for (const EnumCase<T> &c : cases) {
      if (c.name == name) {
        out = c.value;
        return Error::success();
      }
    }
    auto names = llvm::to_vector(
        llvm::map_range(cases, [](const EnumCase<T> &c) { return c.name; }));
    return failAt(fieldPath(key), problem + " '" + clip(name) + "' (expected " +
                                      joinAlternatives(names) + ")");
  }

private:
  const llvm::json::Object &object;
  std::string path;
};
} // namespace

/// The JSON object at `path`, or an error naming what was there instead.
static Expected<const llvm::json::Object *>
getObject(const llvm::json::Value &value, const Twine &path) {
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return failAt(path, "expected an object, got " + describe(value));
  return object;
}

//===----------------------------------------------------------------------===//
// Spec validation
//===----------------------------------------------------------------------===//

/// The SM targets ssmc compiles for.
static constexpr StringRef supportedArchs[] = {"sm_80", "sm_86", "sm_89",
                                               "sm_90", "sm_90a"};

Error mlir::ssm::checkArch(StringRef arch, ArrayRef<std::string> earlier) {
  if (!llvm::is_contained(supportedArchs, arch))
    return llvm::createStringError("unsupported arch '" + clip(arch) +
                                   "' (expected " +
                                   joinAlternatives(supportedArchs) + ")");
  if (llvm::is_contained(earlier, arch))
    return llvm::createStringError("duplicate arch '" + arch + "'");
  return Error::success();
}

bool mlir::ssm::allHaveTensorCopies(ArrayRef<std::string> archs) {
  return !archs.empty() && llvm::all_of(archs, [](StringRef arch) {
    unsigned sm = 0;
    return arch.consume_front("sm_") &&
           !arch.take_while(llvm::isDigit).getAsInteger(10, sm) && sm >= 90;
  });
}

static constexpr EnumCase<DType> dtypeCases[] = {
    {"f32", DType::F32}, {"f16", DType::F16}, {"bf16", DType::BF16}};

static constexpr EnumCase<Layout> layoutCases[] = {
    {"channel_first", Layout::ChannelFirst},
    {"channel_last", Layout::ChannelLast}};

static constexpr EnumCase<BCKind> bcCases[] = {
    {"shared", BCKind::Shared},
    {"grouped", BCKind::Grouped},
    {"per_channel", BCKind::PerChannel}};

/// The spelling of `dtype` in a spec.
static StringRef getDTypeName(DType dtype) {
  for (const EnumCase<DType> &c : dtypeCases)
    if (c.value == dtype)
      return c.name;
  llvm_unreachable("unknown dtype");
}

/// Largest d_inner a layer may have, and largest d_state the scan kernels
/// keep in registers.
static constexpr int64_t maxDInner = 65536;
static constexpr int64_t maxDState = 64;

/// Reads the optional object field `key` of `parent` with `read`, after
/// checking its keys against `known`; an absent field reads nothing.
static Error
readOptionalObject(const ObjectReader &parent, StringRef key,
                   ArrayRef<StringRef> known,
                   function_ref<Error(const ObjectReader &)> read) {
  Expected<const llvm::json::Value *> value =
      parent.get(key, /*required=*/false);
  if (!value)
    return value.takeError();
  if (!*value)
    return Error::success();
  std::string path = parent.fieldPath(key);
  Expected<const llvm::json::Object *> object = getObject(**value, path);
  if (!object)
    return object.takeError();
  ObjectReader reader(**object, path);
  if (Error err = reader.checkKnownKeys(known))
    return err;
  return read(reader);
}

/// Largest height or width of a cross scan's grid.
static constexpr int64_t maxCrossSide = 65536;

/// Reads a selective scan's optional "cross_scan": {"height", "width"}, the
/// grid of a VMamba SS2D scan, and checks what it excludes.
static Error parseCrossScan(const ObjectReader &layerReader, LayerSpec &layer) {
  return readOptionalObject(
      layerReader, "cross_scan", {"height", "width"},
      [&](const ObjectReader &grid) -> Error {
        for (auto [key, size] :
             {std::pair<StringRef, int64_t *>{"height", &layer.crossHeight},
              {"width", &layer.crossWidth}}) {
          // Bounded so that L = H·W fits in 64 bits with room to spare.
          if (Error err = grid.readPositiveAtMost(key, maxCrossSide, *size))
            return err;
        }
        std::string path = layerReader.fieldPath("cross_scan");
        if (layer.layout != Layout::ChannelLast)
          return failAt(path, "needs \"layout\": \"channel_last\" (its "
                              "column-major directions read whole rows of "
                              "channels a step)");
        if (layer.reverse || layer.bidirectional)
          return failAt(path,
                        "runs four fixed directions; drop \"" +
                            Twine(layer.reverse ? "reverse" : "bidirectional") +
                            "\"");
        return Error::success();
      });
}

/// Reads a conv1d's required "width" K (the kernels take 2..4).
static Error readConvWidth(const ObjectReader &reader, int64_t &width) {
  return reader.readInteger(
      "width", /*required=*/true, "an integer in [2, 4]",
      [](int64_t v) { return v >= 2 && v <= 4; }, width);
}

/// Reads a selective scan's optional "conv": {"width", "bias", "silu"}, the
/// causal depthwise conv1d that produces its u (Mamba's, before the scan;
/// ssm-fuse-conv folds it into the scan kernel), and checks what it needs.
static Error parseScanConv(const ObjectReader &layerReader, LayerSpec &layer) {
  return readOptionalObject(
      layerReader, "conv", {"width", "bias", "silu"},
      [&](const ObjectReader &conv) -> Error {
        if (Error err = readConvWidth(conv, layer.convWidth))
          return err;
        if (Error err = conv.readBool("bias", layer.convBias))
          return err;
        if (Error err = conv.readBool("silu", layer.silu))
          return err;
        std::string path = layerReader.fieldPath("conv");
        if (layer.layout != Layout::ChannelFirst)
          return failAt(path, "needs \"layout\": \"channel_first\"");
        if (layer.reverse || layer.bidirectional || layer.crossScan())
          return failAt(path, "needs a forward scan of one direction");
        return Error::success();
      });
}

/// Reads the optional "tile" object of a layer.
static Error parseTile(const ObjectReader &layer,
                       std::optional<TileSpec> &out) {
  return readOptionalObject(
      layer, "tile",
      {"threads", "items", "chunk", "lanes", "fma_exps", "stages", "steps",
       "warpgroup"},
      [&](const ObjectReader &tile) -> Error {
        TileSpec spec{0, 0, 0, 1, 0};
        // The ranges are those TileAttr::verify accepts.
        if (Error err = tile.readInteger(
                "threads", /*required=*/true, "a multiple of 32 in [32, 1024]",
                [](int64_t v) { return v >= 32 && v <= 1024 && v % 32 == 0; },
                spec.threads))
          return err;
        if (Error err = tile.readInteger(
                "items", /*required=*/true, "a power of two in [1, 64]",
                [](int64_t v) {
                  return v >= 1 && v <= 64 && llvm::isPowerOf2_64(v);
                },
                spec.items))
          return err;
        int64_t items = spec.items;
        if (Error err = tile.readInteger(
                "chunk", /*required=*/false,
                "0 or a positive multiple of items (the L segment length)",
                [&](int64_t v) { return v == 0 || (v > 0 && v % items == 0); },
                spec.chunk))
          return err;
        if (Error err = tile.readInteger(
                "lanes", /*required=*/false,
                "a power of two in [1, 32] dividing items (threads per "
                "channel)",
                [&](int64_t v) {
                  return v >= 1 && v <= 32 && llvm::isPowerOf2_64(v) &&
                         items % v == 0;
                },
                spec.lanes))
          return err;
        if (Error err = tile.readInteger(
                "fma_exps", /*required=*/false,
                "a count in [0, d_state] (state exps per step on the FMA pipe)",
                [](int64_t v) { return v >= 0; }, spec.fmaExps))
          return err;
        if (Error err = tile.readInteger(
                "stages", /*required=*/false,
                "2 or 3 (chunks staged in workgroup memory)",
                [](int64_t v) { return v == 2 || v == 3; }, spec.stages))
          return err;
        if (Error err = tile.readInteger(
                "steps", /*required=*/false,
                "a positive multiple of 32 (the kernel's chunk length)",
                [](int64_t v) { return v > 0 && v % 32 == 0; }, spec.steps))
          return err;
        if (Error err = tile.readBool("warpgroup", spec.warpgroup))
          return err;
        out = spec;
        return Error::success();
      });
}

/// Reads and validates one element of "layers".
/// Reads the fields every layer has: its name and dtype, and the activation
/// layout where the op has one.
static Error readLayerBasics(const ObjectReader &reader, LayerSpec &layer,
                             bool withLayout) {
  if (Error err = reader.readIdentifier("name", layer.name))
    return err;
  if (Error err = reader.readEnum<DType>("dtype", /*required=*/true, dtypeCases,
                                         "unsupported dtype", layer.dtype))
    return err;
  if (!withLayout)
    return Error::success();
  return reader.readEnum<Layout>("layout", /*required=*/false, layoutCases,
                                 "unknown layout", layer.layout);
}

/// Reads a channel count under `key`: positive and at most maxDInner.
static Error readChannels(const ObjectReader &reader, StringRef key,
                          int64_t &out) {
  return reader.readPositiveAtMost(key, maxDInner, out);
}

/// Reads a Mamba-2 layer's nheads and headdim, each a channel count, and
/// sets d_inner = H·P, which maxDInner bounds too.
static Error readHeadShape(const ObjectReader &reader, LayerSpec &layer) {
  if (Error err = readChannels(reader, "nheads", layer.nheads))
    return err;
  if (Error err = readChannels(reader, "headdim", layer.headdim))
    return err;
  // Both are at most maxDInner, so the product fits.
  layer.dInner = layer.nheads * layer.headdim;
  if (layer.dInner > maxDInner)
    return failAt(reader.fieldPath("nheads"),
                  "d_inner = " + Twine(layer.dInner) +
                      " is too large (at most " + Twine(maxDInner) + ")");
  return Error::success();
}

/// Largest state size of a decode step (a warp covers one state row).
static constexpr int64_t maxStepDState = 256;

/// Reads a decode-step layer ("op": "scan_step") after its op.
static Expected<LayerSpec> parseScanStepLayer(const ObjectReader &reader) {
  LayerSpec layer;
  layer.kind = LayerKind::ScanStep;
  if (Error err = reader.checkKnownKeys({"name", "op", "form", "dtype",
                                         "d_inner", "nheads", "headdim",
                                         "d_state", "ngroups", "skip", "gate",
                                         "delta_bias", "delta_softplus"}))
    return std::move(err);
  std::string form;
  if (Error err = reader.readString("form", /*required=*/true, form))
    return std::move(err);
  if (form != "mamba1" && form != "mamba2")
    return failAt(reader.fieldPath("form"), "unknown form '" + clip(form) +
                                                "' (expected mamba1 or "
                                                "mamba2)");
  layer.mamba2 = form == "mamba2";
  if (Error err = readLayerBasics(reader, layer, /*withLayout=*/false))
    return std::move(err);
  layer.bcDtype = layer.dtype;
  // The channels of the state: D (Mamba-1) or H heads of P (Mamba-2).
  int64_t channels;
  if (layer.mamba2) {
    if (reader.has("d_inner"))
      return failAt(reader.fieldPath("d_inner"),
                    "not used by form mamba2 (give nheads and headdim)");
    if (Error err = readHeadShape(reader, layer))
      return std::move(err);
    channels = layer.nheads;
  } else {
    for (StringRef key : {"nheads", "headdim"})
      if (reader.has(key))
        return failAt(reader.fieldPath(key),
                      "not used by form mamba1 (give d_inner)");
    if (Error err = readChannels(reader, "d_inner", layer.dInner))
      return std::move(err);
    channels = layer.dInner;
  }
  if (Error err =
          reader.readPositive("d_state", /*required=*/true, layer.dState))
    return std::move(err);
  if (layer.dState > maxStepDState || layer.dState % 4 != 0)
    return failAt(reader.fieldPath("d_state"),
                  "a decode step needs a multiple of 4 up to " +
                      Twine(maxStepDState) + " (got " + Twine(layer.dState) +
                      ")");
  if (Error err =
          reader.readPositive("ngroups", /*required=*/false, layer.ngroups))
    return std::move(err);
  if (channels % layer.ngroups != 0)
    return failAt(reader.fieldPath("ngroups"),
                  Twine(layer.ngroups) + " does not divide the " +
                      Twine(channels) +
                      (layer.mamba2 ? " heads" : " channels"));
  for (auto [key, flag] : {std::pair<StringRef, bool *>{"skip", &layer.skip},
                           {"gate", &layer.gate},
                           {"delta_bias", &layer.deltaBias},
                           {"delta_softplus", &layer.deltaSoftplus}})
    if (Error err = reader.readBool(key, *flag))
      return std::move(err);
  return layer;
}

/// Reads the heads of a Mamba-2 layer: nheads and headdim (D = H·P) and
/// ngroups, which must divide the heads.
static Error readHeads(const ObjectReader &reader, LayerSpec &layer) {
  if (Error err = readHeadShape(reader, layer))
    return err;
  if (Error err =
          reader.readPositive("ngroups", /*required=*/false, layer.ngroups))
    return err;
  if (layer.nheads % layer.ngroups != 0)
    return failAt(reader.fieldPath("ngroups"),
                  Twine(layer.ngroups) + " does not divide the " +
                      Twine(layer.nheads) + " heads");
  return Error::success();
}

/// Largest group a gated RMSNorm kernel keeps in registers (1024 threads of
/// 32 elements).
static constexpr int64_t maxNormGroup = 32768;

/// Reads the fields of a gated RMSNorm over `dim` channels from `reader` (a
/// rms_norm_gated layer, or the "norm" object of an SSD layer): group_size
/// (default `dim`; errors about a defaulted group name `dimPath`), eps,
/// norm_before_gate and weight_dtype. `dimName` names `dim` in messages.
static Error readNormFields(const ObjectReader &reader, int64_t dim,
                            StringRef dimName, const std::string &dimPath,
                            LayerSpec &layer) {
  layer.groupSize = dim;
  if (Error err = reader.readPositive("group_size", /*required=*/false,
                                      layer.groupSize))
    return err;
  std::string groupPath =
      reader.has("group_size") ? reader.fieldPath("group_size") : dimPath;
  if (dim % layer.groupSize != 0)
    return failAt(groupPath, Twine(layer.groupSize) + " does not divide " +
                                 dimName + " = " + Twine(dim));
  // The kernel moves 16-byte vectors and keeps a group in registers.
  int64_t width = layer.dtype == DType::F32 ? 4 : 8;
  if (layer.groupSize % width != 0)
    return failAt(groupPath, "a group of " + Twine(layer.groupSize) +
                                 " is not a multiple of " + Twine(width) +
                                 " (16-byte vectors of " +
                                 getDTypeName(layer.dtype) + ")");
  if (layer.groupSize > maxNormGroup)
    return failAt(groupPath, "a group of " + Twine(layer.groupSize) +
                                 " is too large (at most " +
                                 Twine(maxNormGroup) + ")");

  Expected<const llvm::json::Value *> eps =
      reader.get("eps", /*required=*/false);
  if (!eps)
    return eps.takeError();
  if (*eps) {
    std::optional<double> value = (*eps)->getAsNumber();
    if (!value || !isNormEpsilon(*value))
      return failAt(reader.fieldPath("eps"), Twine("expected ") +
                                                 kNormEpsilonRange + ", got " +
                                                 describe(**eps));
    layer.eps = *value;
  }
  if (Error err = reader.readBool("norm_before_gate", layer.normBeforeGate))
    return err;
  if (Error err =
          reader.readEnum<DType>("weight_dtype", /*required=*/false, dtypeCases,
                                 "unsupported dtype", layer.weightDtype))
    return err;
  if (layer.weightDtype != layer.dtype && layer.weightDtype != DType::F32)
    return failAt(reader.fieldPath("weight_dtype"),
                  "must be f32 or the layer's dtype (" +
                      getDTypeName(layer.dtype) + "), got " +
                      getDTypeName(layer.weightDtype));
  return Error::success();
}

/// Reads the optional "norm" object of an SSD layer: the gated RMSNorm of
/// y over groups of its H·P channels, which then takes the gate z.
static Error parseSSDNorm(const ObjectReader &layerReader, LayerSpec &layer) {
  return readOptionalObject(
      layerReader, "norm",
      {"group_size", "eps", "norm_before_gate", "weight_dtype"},
      [&](const ObjectReader &reader) {
        layer.norm = true;
        return readNormFields(reader, layer.nheads * layer.headdim, "H·P",
                              layerReader.fieldPath("norm"), layer);
      });
}

/// Largest state size of the SSD kernel (its state lives in registers).
static constexpr int64_t maxSSDDState = 256;

/// Reads a Mamba-2 SSD layer ("op": "ssd_chunk") after its op. The kernel
/// runs on tensor cores, so the activations are 16-bit and the sizes come in
/// multiples of the mma tile (16).
static Expected<LayerSpec> parseSSDLayer(const ObjectReader &reader) {
  LayerSpec layer;
  layer.kind = LayerKind::SSDChunk;
  if (Error err = reader.checkKnownKeys(
          {"name", "op", "dtype", "nheads", "headdim", "d_state", "ngroups",
           "chunk_size", "skip", "gate", "dt_bias", "dt_softplus",
           "initial_state", "final_state", "norm", "tile"}))
    return std::move(err);
  if (Error err = readLayerBasics(reader, layer, /*withLayout=*/false))
    return std::move(err);
  if (layer.dtype == DType::F32)
    return failAt(reader.fieldPath("dtype"),
                  "the SSD kernel runs on tensor cores and needs bf16 or f16 "
                  "(got f32)");
  layer.bcDtype = layer.dtype;
  layer.layout = Layout::ChannelLast;
  if (Error err = readHeads(reader, layer))
    return std::move(err);
  if (layer.headdim % 16 != 0)
    return failAt(reader.fieldPath("headdim"),
                  "must be a multiple of 16 (got " + Twine(layer.headdim) +
                      ")");
  if (Error err =
          reader.readPositive("d_state", /*required=*/true, layer.dState))
    return std::move(err);
  if (layer.dState % 16 != 0 || layer.dState > maxSSDDState)
    return failAt(reader.fieldPath("d_state"),
                  "must be a multiple of 16 up to " + Twine(maxSSDDState) +
                      " (got " + Twine(layer.dState) + ")");
  layer.chunkSize = 64;
  if (Error err = reader.readInteger(
          "chunk_size", /*required=*/false, "32, 64, 128 or 256",
          [](int64_t v) { return v == 32 || v == 64 || v == 128 || v == 256; },
          layer.chunkSize))
    return std::move(err);
  for (auto [key, flag] : {std::pair<StringRef, bool *>{"skip", &layer.skip},
                           {"gate", &layer.gate},
                           {"dt_bias", &layer.deltaBias},
                           {"dt_softplus", &layer.deltaSoftplus},
                           {"initial_state", &layer.initialState},
                           {"final_state", &layer.finalState}})
    if (Error err = reader.readBool(key, *flag))
      return std::move(err);
  if (Error err = parseTile(reader, layer.tile))
    return std::move(err);
  if (Error err = parseSSDNorm(reader, layer))
    return std::move(err);
  if (layer.tile && layer.tile->chunk % layer.chunkSize != 0)
    return failAt(reader.fieldPath("tile") + ".chunk",
                  "the L segment length must be a multiple of chunk_size = " +
                      Twine(layer.chunkSize) + " (got " +
                      Twine(layer.tile->chunk) + ")");
  if (layer.tile && layer.tile->steps &&
      layer.chunkSize % layer.tile->steps != 0)
    return failAt(reader.fieldPath("tile") + ".steps",
                  "the kernel's chunk length must divide chunk_size = " +
                      Twine(layer.chunkSize) + " (got " +
                      Twine(layer.tile->steps) + ")");
  if (layer.tile && layer.tile->warpgroup) {
    const TileSpec &t = *layer.tile;
    if (t.threads != 128 || t.items != 64 || (t.steps && t.steps != 32) ||
        (t.stages && t.stages != 3))
      return failAt(reader.fieldPath("tile") + ".warpgroup",
                    "the warpgroup kernel has threads 128, items 64, steps 32 "
                    "and stages 3");
    if (layer.headdim % 64 != 0 || layer.dState > 256)
      return failAt(reader.fieldPath("tile") + ".warpgroup",
                    "the warpgroup kernel needs headdim a multiple of 64 and "
                    "d_state up to 256 (got " +
                        Twine(layer.headdim) + " and " + Twine(layer.dState) +
                        ")");
  }
  // The selective scan's own tile fields must keep their defaults.
  if (layer.tile)
    for (auto [key, value, unset] : {std::tuple<StringRef, int64_t, int64_t>{
                                         "fma_exps", layer.tile->fmaExps, 0},
                                     {"lanes", layer.tile->lanes, 1}})
      if (value != unset)
        return failAt(reader.fieldPath("tile") + "." + key,
                      "applies to selective scans only (got " + Twine(value) +
                          ")");
  return layer;
}

/// Reads a causal depthwise conv1d layer ("op": "causal_conv1d").
static Expected<LayerSpec> parseConv1dLayer(const ObjectReader &reader) {
  LayerSpec layer;
  layer.kind = LayerKind::CausalConv1d;
  if (Error err = reader.checkKnownKeys(
          {"name", "op", "dtype", "layout", "channels", "width", "bias", "silu",
           "initial_state", "final_state", "state_in_place"}))
    return std::move(err);
  if (Error err = readLayerBasics(reader, layer, /*withLayout=*/true))
    return std::move(err);
  if (Error err = readChannels(reader, "channels", layer.dInner))
    return std::move(err);
  if (Error err = readConvWidth(reader, layer.convWidth))
    return std::move(err);
  for (auto [key, flag] :
       {std::pair<StringRef, bool *>{"bias", &layer.convBias},
        {"silu", &layer.silu},
        {"initial_state", &layer.initialState},
        {"final_state", &layer.finalState},
        {"state_in_place", &layer.stateInPlace}})
    if (Error err = reader.readBool(key, *flag))
      return std::move(err);
  if (!layer.stateInPlace)
    return layer;
  // One thread reads a channel's initial state and writes its final one
  // only where a thread owns whole channels: the channel-last kernel.
  std::string path = reader.fieldPath("state_in_place");
  if (!layer.initialState || !layer.finalState)
    return failAt(path, "needs \"initial_state\" and \"final_state\"");
  if (layer.layout != Layout::ChannelLast)
    return failAt(path, "needs \"layout\": \"channel_last\" (a decode "
                        "step's x is [B, C] in either layout)");
  return layer;
}

/// Reads a gated RMSNorm layer ("op": "rms_norm_gated").
static Expected<LayerSpec> parseRMSNormLayer(const ObjectReader &reader) {
  LayerSpec layer;
  layer.kind = LayerKind::RMSNormGated;
  layer.gate = true;
  if (Error err = reader.checkKnownKeys({"name", "op", "dtype", "dim",
                                         "group_size", "eps", "gate",
                                         "norm_before_gate", "weight_dtype"}))
    return std::move(err);
  if (Error err = readLayerBasics(reader, layer, /*withLayout=*/false))
    return std::move(err);
  if (Error err = readChannels(reader, "dim", layer.dInner))
    return std::move(err);
  if (Error err = readNormFields(reader, layer.dInner, "dim",
                                 reader.fieldPath("dim"), layer))
    return std::move(err);
  if (Error err = reader.readBool("gate", layer.gate))
    return std::move(err);
  return layer;
}

/// Reads a selective-scan layer ("op": "selective_scan": Mamba, Vim's
/// bidirectional and VMamba's cross scan) after its op.
static Expected<LayerSpec> parseSelectiveScanLayer(const ObjectReader &reader) {
  LayerSpec layer;
  layer.kind = LayerKind::SelectiveScan;

  if (Error err = reader.checkKnownKeys({"name",
                                         "op",
                                         "dtype",
                                         "layout",
                                         "d_inner",
                                         "d_state",
                                         "bc",
                                         "ngroups",
                                         "bc_dtype",
                                         "skip",
                                         "gate",
                                         "delta_bias",
                                         "delta_softplus",
                                         "initial_state",
                                         "final_state",
                                         "reverse",
                                         "bidirectional",
                                         "cross_scan",
                                         "conv",
                                         "tile"}))
    return std::move(err);
  if (Error err = readLayerBasics(reader, layer, /*withLayout=*/true))
    return std::move(err);

  if (Error err = readChannels(reader, "d_inner", layer.dInner))
    return std::move(err);
  if (Error err =
          reader.readPositive("d_state", /*required=*/true, layer.dState))
    return std::move(err);
  if (layer.dState > maxDState)
    return failAt(reader.fieldPath("d_state"),
                  "N > 64 is not supported (got " + Twine(layer.dState) + ")");

  if (Error err = reader.readEnum<BCKind>("bc", /*required=*/false, bcCases,
                                          "unknown bc", layer.bc))
    return std::move(err);
  if (Error err =
          reader.readPositive("ngroups", /*required=*/false, layer.ngroups))
    return std::move(err);
  if (reader.has("ngroups") && layer.bc != BCKind::Grouped)
    return failAt(reader.fieldPath("ngroups"),
                  "only allowed with bc = \"grouped\"");
  if (layer.dInner % layer.ngroups != 0)
    return failAt(reader.fieldPath("ngroups"),
                  Twine(layer.ngroups) +
                      " does not divide d_inner = " + Twine(layer.dInner));

  layer.bcDtype = layer.dtype;
  if (Error err =
          reader.readEnum<DType>("bc_dtype", /*required=*/false, dtypeCases,
                                 "unsupported dtype", layer.bcDtype))
    return std::move(err);
  // The scan ops accept B and C in the activation type or in f32 only.
  if (layer.bcDtype != layer.dtype && layer.bcDtype != DType::F32)
    return failAt(reader.fieldPath("bc_dtype"),
                  "must be f32 or the layer's dtype (" +
                      getDTypeName(layer.dtype) + "), got " +
                      getDTypeName(layer.bcDtype));

  for (auto [key, flag] : {std::pair<StringRef, bool *>{"skip", &layer.skip},
                           {"gate", &layer.gate},
                           {"delta_bias", &layer.deltaBias},
                           {"delta_softplus", &layer.deltaSoftplus},
                           {"initial_state", &layer.initialState},
                           {"final_state", &layer.finalState},
                           {"reverse", &layer.reverse},
                           {"bidirectional", &layer.bidirectional}})
    if (Error err = reader.readBool(key, *flag))
      return std::move(err);
  if (layer.reverse && layer.bidirectional)
    return failAt(reader.fieldPath("reverse"),
                  "a bidirectional scan runs both directions; drop "
                  "\"reverse\"");
  if (Error err = parseCrossScan(reader, layer))
    return std::move(err);
  if (Error err = parseScanConv(reader, layer))
    return std::move(err);

  if (Error err = parseTile(reader, layer.tile))
    return std::move(err);
  if (layer.crossScan() && layer.tile && layer.tile->chunk)
    return failAt(reader.fieldPath("tile") + ".chunk",
                  "does not apply to a cross scan, which is not split into L "
                  "segments (got " +
                      Twine(layer.tile->chunk) + ")");
  if (layer.tile && layer.dState % layer.tile->lanes != 0)
    return failAt(reader.fieldPath("tile") + ".lanes",
                  "must divide d_state = " + Twine(layer.dState) + " (got " +
                      Twine(layer.tile->lanes) + ")");
  if (layer.tile)
    for (auto [key, value] :
         {std::pair<StringRef, int64_t>{"stages", layer.tile->stages},
          {"steps", layer.tile->steps},
          {"warpgroup", layer.tile->warpgroup}})
      if (value)
        return failAt(reader.fieldPath("tile") + "." + key,
                      "applies to ssd_chunk layers only (got " + Twine(value) +
                          ")");
  if (layer.tile && layer.tile->fmaExps > layer.dState / layer.tile->lanes)
    return failAt(reader.fieldPath("tile") + ".fma_exps",
                  "exceeds the " + Twine(layer.dState / layer.tile->lanes) +
                      " states per thread (got " + Twine(layer.tile->fmaExps) +
                      ")");
  return layer;
}

/// Reads the layer `value` at `path` by its op.
static Expected<LayerSpec> parseLayer(const llvm::json::Value &value,
                                      const std::string &path) {
  Expected<const llvm::json::Object *> object = getObject(value, path);
  if (!object)
    return object.takeError();
  ObjectReader reader(**object, path);

  // The op decides which fields exist, so it is checked before the keys.
  std::string op;
  if (Error err = reader.readString("op", /*required=*/true, op))
    return std::move(err);
  if (op == "selective_scan")
    return parseSelectiveScanLayer(reader);
  if (op == "ssd_chunk")
    return parseSSDLayer(reader);
  if (op == "rms_norm_gated")
    return parseRMSNormLayer(reader);
  if (op == "scan_step")
    return parseScanStepLayer(reader);
  if (op == "causal_conv1d")
    return parseConv1dLayer(reader);
  return failAt(reader.fieldPath("op"),
                "unknown op '" + clip(op) +
                    "' (expected selective_scan, ssd_chunk, scan_step, "
                    "causal_conv1d or rms_norm_gated)");
}

/// Reads the optional "arch" list of the spec.
static Error parseArchs(const ObjectReader &reader,
                        std::vector<std::string> &archs) {
  Expected<const llvm::json::Value *> value =
      reader.get("arch", /*required=*/false);
  if (!value)
    return value.takeError();
  if (!*value) {
    archs = {"sm_80", "sm_90"};
    return Error::success();
  }
  std::string path = reader.fieldPath("arch");
  const llvm::json::Array *array = (*value)->getAsArray();
  if (!array)
    return failAt(path,
                  "expected an array of strings, got " + describe(**value));
  if (array->empty())
    return failAt(path, "expected at least one arch");
  for (auto [i, element] : llvm::enumerate(*array)) {
    std::string elementPath = path + "[" + std::to_string(i) + "]";
    std::optional<StringRef> arch = element.getAsString();
    if (!arch)
      return failAt(elementPath, "expected a string, got " + describe(element));
    if (Error err = checkArch(*arch, archs))
      return failAt(elementPath, llvm::toString(std::move(err)));
    archs.push_back(arch->str());
  }
  return Error::success();
}

/// Fails on a key repeated within one object, which llvm::json::parse accepts
/// silently (the last value wins) although it is a mistake as likely as a
/// typo. `json` must already have parsed.
static Error checkNoDuplicateKeys(StringRef json) {
  /// An open object or array, with the path of its members.
  struct Scope {
    std::string path;
    bool isObject = false;
    /// Whether the next string in this object is a key.
    bool expectKey = false;
    /// Members seen so far in an array.
    size_t index = 0;
    std::string lastKey;
    llvm::StringSet<> keys;
  };
  SmallVector<Scope> scopes;
  auto childPath = [&]() -> std::string {
    if (scopes.empty())
      return "spec";
    Scope &top = scopes.back();
    if (top.isObject)
      return top.path + "." + top.lastKey;
    return top.path + "[" + std::to_string(top.index) + "]";
  };
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '{' || c == '[') {
      Scope scope;
      scope.path = childPath();
      scope.isObject = scope.expectKey = c == '{';
      scopes.push_back(std::move(scope));
    } else if (c == '}' || c == ']') {
      scopes.pop_back();
    } else if (c == ',') {
      ++scopes.back().index;
      scopes.back().expectKey = scopes.back().isObject;
    } else if (c == '"') {
      size_t end = i + 1;
      while (json[end] != '"')
        end += json[end] == '\\' ? 2 : 1;
      StringRef token = json.slice(i, end + 1);
      i = end;
      Scope *top = scopes.empty() ? nullptr : &scopes.back();
      if (!top || !top->expectKey)
        continue;
      // Decoding through the parser makes escaped spellings compare equal.
      Expected<llvm::json::Value> key = llvm::json::parse(token);
      if (!key)
        return failAt("spec",
                      "invalid JSON: " + llvm::toString(key.takeError()));
      top->expectKey = false;
      top->lastKey = key->getAsString()->str();
      if (!top->keys.insert(top->lastKey).second)
        return failAt(top->path + "." + top->lastKey, "duplicate field");
    }
  }
  return Error::success();
}

Error mlir::ssm::checkWarpgroupArchs(const ModelSpec &spec,
                                     ArrayRef<std::string> archs,
                                     StringRef what) {
  bool sm90a = llvm::all_of(archs, [](StringRef a) { return a == "sm_90a"; });
  for (auto [i, layer] : llvm::enumerate(spec.layers))
    if (layer.tile && layer.tile->warpgroup && !sm90a)
      return failAt("spec.layers[" + Twine(i) + "].tile.warpgroup",
                    "wgmma needs every arch to be sm_90a (" + what + ": " +
                        llvm::join(archs, ", ") + ")");
  return Error::success();
}

/// Deepest nesting of arrays and objects a spec may have; a spec needs 4.
static constexpr int64_t maxJsonDepth = 64;

/// Fails on arrays and objects nested deeper than maxJsonDepth, before
/// llvm::json::parse, which recurses once a level and would overflow the
/// stack on deep enough input.
static Error checkNestingDepth(StringRef json) {
  int64_t depth = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '"') {
      // Skips the string; an unterminated one is the parser's to report.
      for (++i; i < json.size() && json[i] != '"'; ++i)
        i += json[i] == '\\';
    } else if (c == '{' || c == '[') {
      if (++depth > maxJsonDepth)
        return failAt("spec", "invalid JSON: nested deeper than " +
                                  Twine(maxJsonDepth) + " levels at byte " +
                                  Twine(i));
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return Error::success();
}

Expected<ModelSpec> mlir::ssm::parseSpec(StringRef json) {
  if (Error err = checkNestingDepth(json))
    return std::move(err);
  Expected<llvm::json::Value> root = llvm::json::parse(json);
  if (!root)
    return failAt("spec", "invalid JSON: " + llvm::toString(root.takeError()));
  if (Error err = checkNoDuplicateKeys(json))
    return std::move(err);
  Expected<const llvm::json::Object *> object = getObject(*root, "spec");
  if (!object)
    return object.takeError();
  ObjectReader reader(**object, "spec");
  ModelSpec spec;
  if (Error err = reader.checkKnownKeys({"name", "arch", "layers"}))
    return std::move(err);
  if (Error err = reader.readIdentifier("name", spec.name))
    return std::move(err);
  if (Error err = parseArchs(reader, spec.archs))
    return std::move(err);

  Expected<const llvm::json::Value *> layers =
      reader.get("layers", /*required=*/true);
  if (!layers)
    return layers.takeError();
  const llvm::json::Array *array = (*layers)->getAsArray();
  if (!array)
    return failAt("spec.layers",
                  "expected an array of layers, got " + describe(**layers));
  if (array->empty())
    return failAt("spec.layers", "expected at least one layer");
  // Layer names become function symbols, so they must be unique.
  llvm::StringMap<size_t> firstIndex;
  for (auto [i, element] : llvm::enumerate(*array)) {
    std::string path = "spec.layers[" + std::to_string(i) + "]";
    Expected<LayerSpec> layer = parseLayer(element, path);
    if (!layer)
      return layer.takeError();
    auto [it, inserted] = firstIndex.try_emplace(layer->name, i);
    if (!inserted)
      return failAt(path + ".name", "duplicate layer name '" + layer->name +
                                        "' (first at spec.layers[" +
                                        Twine(it->second) + "])");
    spec.layers.push_back(std::move(*layer));
  }
  if (Error err = checkWarpgroupArchs(spec, spec.archs, "spec.arch"))
    return std::move(err);
  return spec;
}
