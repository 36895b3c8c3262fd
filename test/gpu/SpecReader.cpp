//===- SpecReader.cpp - The layer specs of the GPU tests ------------------===//

#include "SpecReader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace ssmc::gpu {

static ssmrt_dtype parseDtype(const std::string &name) {
  if (name == "f32")
    return SSMRT_F32;
  if (name == "f16")
    return SSMRT_F16;
  if (name == "bf16")
    return SSMRT_BF16;
  throw std::runtime_error("unknown dtype '" + name + "'");
}

/// A layer's "layout" (default channel_first, as ssmc reads it).
static ref::Layout readLayout(const nlohmann::json &entry) {
  return entry.value("layout", "channel_first") == "channel_last"
             ? ref::Layout::ChannelLast
             : ref::Layout::ChannelFirst;
}

/// The norm fields of a rms_norm_gated layer or of an SSD layer's "norm"
/// object; `norm.dim` is set.
static void readNormFields(const nlohmann::json &fields, NormSpec &norm) {
  norm.weightDtype =
      parseDtype(fields.value("weight_dtype", std::string("f32")));
  norm.groupSize = fields.value("group_size", norm.dim);
  norm.eps = fields.value("eps", 1e-5);
  norm.normBeforeGate = fields.value("norm_before_gate", false);
}

SpecFile readSpec(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  try {
    nlohmann::json json = nlohmann::json::parse(in);
    SpecFile file;
    file.name = json.at("name").get<std::string>();
    file.archs = json.value("arch", std::vector<std::string>{"sm_80", "sm_90"});
    for (const nlohmann::json &entry : json.at("layers")) {
      const std::string op = entry.at("op").get<std::string>();
      if (op == "scan_step") {
        StepSpec step;
        step.name = entry.at("name").get<std::string>();
        step.form = entry.at("form").get<std::string>() == "mamba1"
                        ? StepForm::Mamba1
                        : StepForm::Mamba2;
        step.dtype = parseDtype(entry.at("dtype").get<std::string>());
        if (step.form == StepForm::Mamba1) {
          step.dim = entry.at("d_inner").get<int64_t>();
        } else {
          step.nheads = entry.at("nheads").get<int64_t>();
          step.headdim = entry.at("headdim").get<int64_t>();
        }
        step.dstate = entry.at("d_state").get<int64_t>();
        step.ngroups = entry.value("ngroups", int64_t(1));
        step.skip = entry.value("skip", false);
        step.gate = entry.value("gate", false);
        step.deltaBias = entry.value("delta_bias", false);
        step.deltaSoftplus = entry.value("delta_softplus", false);
        file.steps.push_back(step);
        continue;
      }
      if (op == "causal_conv1d") {
        ConvSpec conv;
        conv.name = entry.at("name").get<std::string>();
        conv.dtype = parseDtype(entry.at("dtype").get<std::string>());
        conv.layout = readLayout(entry);
        conv.channels = entry.at("channels").get<int64_t>();
        conv.width = entry.at("width").get<int64_t>();
        conv.bias = entry.value("bias", false);
        conv.silu = entry.value("silu", false);
        conv.initialState = entry.value("initial_state", false);
        conv.finalState = entry.value("final_state", false);
        conv.stateInPlace = entry.value("state_in_place", false);
        file.convs.push_back(conv);
        continue;
      }
      if (op == "ssd_chunk") {
        SSDSpec ssd;
        ssd.name = entry.at("name").get<std::string>();
        ssd.dtype = parseDtype(entry.at("dtype").get<std::string>());
        ssd.nheads = entry.at("nheads").get<int64_t>();
        ssd.headdim = entry.at("headdim").get<int64_t>();
        ssd.dstate = entry.at("d_state").get<int64_t>();
        ssd.ngroups = entry.value("ngroups", int64_t(1));
        ssd.chunkSize = entry.value("chunk_size", int64_t(64));
        ssd.skip = entry.value("skip", false);
        ssd.gate = entry.value("gate", false);
        ssd.dtBias = entry.value("dt_bias", false);
        ssd.dtSoftplus = entry.value("dt_softplus", false);
        ssd.initialState = entry.value("initial_state", false);
        ssd.finalState = entry.value("final_state", false);
        if (entry.contains("norm")) {
          NormSpec norm;
          norm.name = ssd.name;
          norm.dtype = ssd.dtype;
          norm.dim = ssd.nheads * ssd.headdim;
          norm.gate = ssd.gate;
          readNormFields(entry.at("norm"), norm);
          ssd.norm = norm;
        }
        file.ssds.push_back(ssd);
        continue;
      }
      if (op == "rms_norm_gated") {
        NormSpec norm;
        norm.name = entry.at("name").get<std::string>();
        norm.dtype = parseDtype(entry.at("dtype").get<std::string>());
        norm.dim = entry.at("dim").get<int64_t>();
        norm.gate = entry.value("gate", true);
        readNormFields(entry, norm);
        file.norms.push_back(norm);
        continue;
      }
      if (op != "selective_scan")
        throw std::runtime_error("only selective_scan, scan_step, "
                                 "causal_conv1d, ssd_chunk and rms_norm_gated "
                                 "layers are tested");
      ScanSpec layer;
      layer.name = entry.at("name").get<std::string>();
      layer.dtype = parseDtype(entry.at("dtype").get<std::string>());
      layer.layout = readLayout(entry);
      layer.dim = entry.at("d_inner").get<int64_t>();
      layer.dstate = entry.at("d_state").get<int64_t>();
      const std::string bc = entry.value("bc", "grouped");
      layer.bc = bc == "shared"        ? ref::BCKind::Shared
                 : bc == "per_channel" ? ref::BCKind::PerChannel
                                       : ref::BCKind::Grouped;
      layer.ngroups = entry.value("ngroups", int64_t(1));
      layer.bcDtype = entry.contains("bc_dtype")
                          ? parseDtype(entry["bc_dtype"].get<std::string>())
                          : layer.dtype;
      layer.skip = entry.value("skip", false);
      layer.gate = entry.value("gate", false);
      layer.deltaBias = entry.value("delta_bias", false);
      layer.deltaSoftplus = entry.value("delta_softplus", false);
      layer.initialState = entry.value("initial_state", false);
      layer.finalState = entry.value("final_state", false);
      layer.reverse = entry.value("reverse", false);
      layer.bidirectional = entry.value("bidirectional", false);
      if (entry.contains("cross_scan")) {
        const nlohmann::json &cross = entry.at("cross_scan");
        layer.crossHeight = cross.at("height").get<int64_t>();
        layer.crossWidth = cross.at("width").get<int64_t>();
      }
      if (entry.contains("conv")) {
        const nlohmann::json &conv = entry.at("conv");
        layer.convWidth = conv.at("width").get<int64_t>();
        layer.convBias = conv.value("bias", false);
        layer.convSilu = conv.value("silu", false);
      }
      file.layers.push_back(layer);
    }
    return file;
  } catch (const nlohmann::json::exception &error) {
    throw std::runtime_error(path + ": " + error.what());
  }
}

std::vector<std::string> listSpecs(const std::string &dir) {
  std::vector<std::string> paths;
  for (const auto &entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json")
      paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

} // namespace ssmc::gpu
