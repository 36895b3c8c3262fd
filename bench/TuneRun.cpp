//===- TuneRun.cpp - Time ssm-tune's candidates on a GPU ------------------===//
//
// The GPU half of ssm-tune, built without MLIR like the benchmarks: loads the
// binary ssmc built from a candidates spec, times every candidate layer on
// random inputs at one batch and length (cold L2, median of 30 calls after 5
// warm-ups, as the benchmarks), prints the table, and writes the spec it was
// tuned for with each tuned layer's "tile" set to its fastest candidate's.
//
//   ssmc-tune-run [--require-gpu] KERNEL_DIR --candidates FILE --spec FILE
//                 --batch B --len L -o TUNED_SPEC
//
//===----------------------------------------------------------------------===//

#include "BenchUtil.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// Separates a tuned layer's name from its candidate number (ssm-tune's
/// kCandidateSeparator).
constexpr const char *kSeparator = "__t";

struct Options {
  std::string kernelDir, candidates, spec, output;
  int64_t batch = 0, len = 0;
  bool requireGpu = false;
};

/// The fastest candidate of one tuned layer.
struct Best {
  std::string candidate;
  double ms = std::numeric_limits<double>::infinity();
};

/// The inputs, read and checked before any GPU work: the candidate layers,
/// their tiles, and the spec they tune.
struct Inputs {
  SpecFile candidates;
  std::map<std::string, nlohmann::json> tiles;
  nlohmann::json spec;
};

bool parseOptions(int argc, char **argv, Options &options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    std::string number;
    if (arg == "--require-gpu") {
      options.requireGpu = true;
    } else if (arg == "--candidates") {
      if (!value(options.candidates))
        return false;
    } else if (arg == "--spec") {
      if (!value(options.spec))
        return false;
    } else if (arg == "-o") {
      if (!value(options.output))
        return false;
    } else if (arg == "--batch" || arg == "--len") {
      if (!value(number))
        return false;
      char *end = nullptr;
      const long long parsed = std::strtoll(number.c_str(), &end, 10);
      if (*end != '\0' || parsed < 1)
        return false;
      (arg == "--batch" ? options.batch : options.len) = parsed;
    } else if (arg[0] != '-' && options.kernelDir.empty()) {
      options.kernelDir = arg;
    } else {
      return false;
    }
  }
  return !options.kernelDir.empty() && !options.candidates.empty() &&
         !options.spec.empty() && !options.output.empty() &&
         options.batch > 0 && options.len > 0;
}

nlohmann::json readJson(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read '" + path + "'");
  return nlohmann::json::parse(in);
}

/// The layer a candidate layer tunes.
std::string tunedLayer(const std::string &candidate) {
  const size_t at = candidate.rfind(kSeparator);
  if (at == std::string::npos)
    throw std::runtime_error("'" + candidate + "' is not a candidate layer");
  return candidate.substr(0, at);
}

/// Reads the candidates spec and the spec it tunes; every candidate must
/// tune a layer of the spec.
Inputs readInputs(const Options &options) {
  Inputs inputs{readSpec(options.candidates), {}, readJson(options.spec)};
  std::set<std::string> layers;
  for (const nlohmann::json &layer : inputs.spec.at("layers"))
    layers.insert(layer.at("name").get<std::string>());
  const nlohmann::json candidates = readJson(options.candidates);
  for (const nlohmann::json &layer : candidates.at("layers")) {
    const std::string name = layer.at("name").get<std::string>();
    if (!layers.count(tunedLayer(name)))
      throw std::runtime_error(options.spec + " has no layer '" +
                               tunedLayer(name) + "' for candidate '" + name +
                               "'");
    inputs.tiles[name] = layer.at("tile");
  }
  return inputs;
}

/// Times every candidate (loaded from `kernelDir`); returns the fastest per
/// tuned layer.
std::map<std::string, Best> timeCandidates(const Options &options,
                                           const SpecFile &file) {
  const ssmrt::Module module =
      ssmrt::Module::load((std::filesystem::path(options.kernelDir) /
                           (file.name + ".manifest.json"))
                              .string());
  DeviceBuffer flush(kFlushBytes);
  std::map<std::string, Best> best;
  auto time = [&](const auto &spec, const std::vector<TensorDesc> &tensors,
                  bool softplus) {
    const ssmrt::Layer layer = module.layer(spec.name);
    checkLayer(layer, spec);
    const double ms = coldLayerMs(layer, tensors, softplus, options.batch,
                                  options.len, spec.name, flush);
    std::printf("| %s | %.4f |\n", spec.name.c_str(), ms);
    std::fflush(stdout);
    Best &layerBest = best[tunedLayer(spec.name)];
    if (ms < layerBest.ms)
      layerBest = {spec.name, ms};
  };
  std::printf("| candidate | ms |\n|---|---|\n");
  for (const ScanSpec &spec : file.layers)
    time(spec, layerTensors(spec), spec.deltaSoftplus);
  for (const SSDSpec &spec : file.ssds)
    time(spec, ssdTensors(spec), spec.dtSoftplus);
  return best;
}

/// The spec with each tuned layer's tile set to its best candidate's.
nlohmann::json tunedSpec(const Inputs &inputs,
                         const std::map<std::string, Best> &best) {
  nlohmann::json spec = inputs.spec;
  for (nlohmann::json &layer : spec.at("layers")) {
    auto it = best.find(layer.at("name").get<std::string>());
    if (it == best.end())
      continue;
    layer["tile"] = inputs.tiles.at(it->second.candidate);
    std::printf("\n- %s: %s, %.4f ms (%s)", it->first.c_str(),
                layer["tile"].dump().c_str(), it->second.ms,
                it->second.candidate.c_str());
  }
  std::printf("\n");
  return spec;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  if (!parseOptions(argc, argv, options)) {
    std::fprintf(
        stderr,
        "usage: %s [--require-gpu] KERNEL_DIR --candidates FILE --spec FILE "
        "--batch B --len L -o TUNED_SPEC\n"
        "  KERNEL_DIR          ssmc's output for the candidates spec\n"
        "  --candidates FILE   the candidates spec ssm-tune wrote\n"
        "  --spec FILE         the spec it was written for\n"
        "  --batch, --len      the shape to tune for (positive)\n"
        "  -o TUNED_SPEC       the spec with the fastest tiles set\n"
        "  --require-gpu       exit 2 instead of 0 when there is no GPU\n",
        argv[0]);
    return 2;
  }
  try {
    const Inputs inputs = readInputs(options);
    const std::string noGpu = openDevice();
    if (!noGpu.empty()) {
      std::printf("no CUDA driver/GPU found: nothing timed (%s)\n",
                  noGpu.c_str());
      return options.requireGpu ? 2 : 0;
    }
    std::printf("# ssm-tune on %s, B = %lld, L = %lld (%s)\n\n",
                deviceName().c_str(), static_cast<long long>(options.batch),
                static_cast<long long>(options.len), utcNow().c_str());
    const nlohmann::json tuned =
        tunedSpec(inputs, timeCandidates(options, inputs.candidates));
    std::ofstream out(options.output);
    out << tuned.dump(2) << "\n";
    if (!out)
      throw std::runtime_error("cannot write '" + options.output + "'");
    return 0;
  } catch (const std::exception &error) {
    std::printf("\nerror: %s\n", error.what());
    return 1;
  }
}
