//===- LayerTensors.cpp - The tensors of a compiled layer -----------------===//

#include "LayerTensors.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ssmc::gpu {

std::vector<TensorDesc> layerTensors(const ScanSpec &spec, int64_t len) {
  const int64_t dim = spec.dim, n = spec.dstate,
                g = spec.directions() * spec.ngroups,
                inDim = spec.directions() * dim;
  const bool channelFirst = spec.layout == ref::Layout::ChannelFirst;
  auto sequence = [&](int64_t channels) {
    return channelFirst ? std::vector<int64_t>{kBatchDim, channels, len}
                        : std::vector<int64_t>{kBatchDim, len, channels};
  };
  const std::vector<int64_t> seq = sequence(dim), inSeq = sequence(inDim),
                             uSeq = sequence(spec.uChannels());
  std::vector<int64_t> bc;
  switch (spec.bc) {
  case ref::BCKind::PerChannel:
    bc = {inDim, n};
    break;
  case ref::BCKind::Shared:
    bc = channelFirst ? std::vector<int64_t>{kBatchDim, n, len}
                      : std::vector<int64_t>{kBatchDim, len, n};
    break;
  case ref::BCKind::Grouped:
    bc = channelFirst ? std::vector<int64_t>{kBatchDim, g, n, len}
                      : std::vector<int64_t>{kBatchDim, len, g, n};
    break;
  }
  const std::vector<int64_t> state = {kBatchDim, inDim, n};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {{"u", in, spec.dtype, uSeq},
                                     {"delta", in, spec.dtype, inSeq},
                                     {"A", in, SSMRT_F32, {inDim, n}},
                                     {"B", in, spec.bcDtype, bc},
                                     {"C", in, spec.bcDtype, bc}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {inDim}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, seq});
  if (spec.deltaBias)
    tensors.push_back({"delta_bias", in, SSMRT_F32, {inDim}});
  if (spec.initialState)
    tensors.push_back({"h0", in, SSMRT_F32, state});
  if (spec.convWidth) {
    tensors.push_back({"conv_weight", in, SSMRT_F32, {inDim, spec.convWidth}});
    if (spec.convBias)
      tensors.push_back({"conv_bias", in, SSMRT_F32, {inDim}});
  }
  tensors.push_back({"y", out, spec.dtype, seq});
  if (spec.finalState)
    tensors.push_back({"last_state", out, SSMRT_F32, state});
  return tensors;
}

std::vector<TensorDesc> layerTensors(const ScanSpec &spec) {
  return layerTensors(spec, spec.crossScan() ? spec.crossLen() : kLenDim);
}

std::vector<TensorDesc> stepTensors(const StepSpec &spec) {
  const bool mamba2 = spec.form == StepForm::Mamba2;
  const int64_t n = spec.dstate, g = spec.ngroups;
  // The channels that own a Δ, an A row, a D and a bias: heads or D.
  const int64_t channels = mamba2 ? spec.nheads : spec.dim;
  const std::vector<int64_t> seq =
      mamba2 ? std::vector<int64_t>{kBatchDim, spec.nheads, spec.headdim}
             : std::vector<int64_t>{kBatchDim, spec.dim};
  std::vector<int64_t> state = seq;
  state.push_back(n);
  const std::vector<int64_t> a = mamba2 ? std::vector<int64_t>{channels}
                                        : std::vector<int64_t>{channels, n};
  const Role in = Role::Input;
  std::vector<TensorDesc> tensors = {
      {"state", Role::InOut, SSMRT_F32, state},
      {"x", in, spec.dtype, seq},
      {"delta", in, spec.dtype, {kBatchDim, channels}},
      {"A", in, SSMRT_F32, a},
      {"B", in, spec.dtype, {kBatchDim, g, n}},
      {"C", in, spec.dtype, {kBatchDim, g, n}}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {channels}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, seq});
  if (spec.deltaBias)
    tensors.push_back({"delta_bias", in, SSMRT_F32, {channels}});
  tensors.push_back({"y", Role::Output, spec.dtype, seq});
  return tensors;
}

std::vector<TensorDesc> convTensors(const ConvSpec &spec) {
  const int64_t c = spec.channels, k = spec.width;
  const std::vector<int64_t> seq =
      spec.layout == ref::Layout::ChannelFirst
          ? std::vector<int64_t>{kBatchDim, c, kLenDim}
          : std::vector<int64_t>{kBatchDim, kLenDim, c};
  const std::vector<int64_t> state = {kBatchDim, c, k - 1};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {{"x", in, spec.dtype, seq},
                                     {"weight", in, SSMRT_F32, {c, k}}};
  if (spec.bias)
    tensors.push_back({"bias", in, SSMRT_F32, {c}});
  if (spec.initialState)
    tensors.push_back({spec.initName(), spec.stateInPlace ? Role::InOut : in,
                       SSMRT_F32, state});
  tensors.push_back({"y", out, spec.dtype, seq});
  if (spec.finalState && !spec.stateInPlace)
    tensors.push_back({"final_state", out, SSMRT_F32, state});
  return tensors;
}

std::vector<TensorDesc> ssdTensors(const SSDSpec &spec) {
  const int64_t h = spec.nheads, p = spec.headdim, n = spec.dstate;
  const std::vector<int64_t> act = {kBatchDim, kLenDim, h, p};
  const std::vector<int64_t> bc = {kBatchDim, kLenDim, spec.ngroups, n};
  const std::vector<int64_t> state = {kBatchDim, h, p, n};
  const Role in = Role::Input, out = Role::Output;
  std::vector<TensorDesc> tensors = {
      {"x", in, spec.dtype, act},
      {"dt", in, spec.dtype, {kBatchDim, kLenDim, h}},
      {"A", in, SSMRT_F32, {h}},
      {"B", in, spec.dtype, bc},
      {"C", in, spec.dtype, bc}};
  if (spec.skip)
    tensors.push_back({"D", in, SSMRT_F32, {h}});
  if (spec.gate)
    tensors.push_back({"z", in, spec.dtype, act});
  if (spec.dtBias)
    tensors.push_back({"dt_bias", in, SSMRT_F32, {h}});
  if (spec.initialState)
    tensors.push_back({"init", in, SSMRT_F32, state});
  if (spec.norm)
    tensors.push_back({"norm_weight", in, spec.norm->weightDtype, {h * p}});
  tensors.push_back({"y", out, spec.dtype, act});
  if (spec.finalState)
    tensors.push_back({"final_state", out, SSMRT_F32, state});
  return tensors;
}

std::vector<TensorDesc> normTensors(const NormSpec &spec) {
  const std::vector<int64_t> rows = {kBatchDim, kLenDim, spec.dim};
  std::vector<TensorDesc> tensors = {{"y", Role::Input, spec.dtype, rows}};
  if (spec.gate)
    tensors.push_back({"z", Role::Input, spec.dtype, rows});
  tensors.push_back({"weight", Role::Input, spec.weightDtype, {spec.dim}});
  tensors.push_back({"out", Role::Output, spec.dtype, rows});
  return tensors;
}

std::vector<int64_t> bindShape(const std::vector<int64_t> &shape, int64_t batch,
                               int64_t len) {
  std::vector<int64_t> bound = shape;
  for (int64_t &size : bound)
    size = size == kBatchDim ? batch : size == kLenDim ? len : size;
  return bound;
}

std::vector<int64_t> tensorShape(const std::vector<TensorDesc> &tensors,
                                 const std::string &name, int64_t batch,
                                 int64_t len) {
  for (const TensorDesc &t : tensors)
    if (t.name == name)
      return bindShape(t.shape, batch, len);
  throw std::logic_error("no tensor " + name);
}

std::vector<double> absolute(std::vector<double> values) {
  for (double &v : values)
    v = std::fabs(v);
  return values;
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

static std::string describeTensor(int32_t role, ssmrt_dtype dtype,
                                  const std::vector<int64_t> &shape) {
  std::string text = role == 0 ? "input " : role == 1 ? "output " : "inout ";
  text += std::string(ssmrt_dtype_name(dtype)) + " [";
  for (size_t d = 0; d < shape.size(); ++d)
    text += (d ? "," : "") + (shape[d] < 0 ? "?" : std::to_string(shape[d]));
  return text + "]";
}

void checkLayer(const ssmrt::Layer &layer,
                const std::vector<TensorDesc> &want) {
  if (layer.numTensors() != static_cast<int32_t>(want.size()))
    throw std::runtime_error(
        "manifest has " + std::to_string(layer.numTensors()) +
        " tensors, the spec implies " + std::to_string(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const char *name = nullptr;
    int32_t isOutput = 0, rank = 0;
    ssmrt_dtype dtype = SSMRT_F32;
    int64_t shape[8] = {};
    ssmrt::check(ssmrt_layer_tensor_info(layer.get(), static_cast<int32_t>(i),
                                         &name, &isOutput, &dtype, &rank,
                                         shape));
    const TensorDesc &t = want[i];
    bool same = t.name == name && isOutput == static_cast<int32_t>(t.role) &&
                dtype == t.dtype &&
                rank == static_cast<int32_t>(t.shape.size());
    // The runtime reports every symbol as -1.
    for (int32_t d = 0; same && d < rank; ++d)
      same = t.shape[d] < 0 ? shape[d] == -1 : shape[d] == t.shape[d];
    if (!same)
      throw std::runtime_error(
          "manifest tensor " + std::to_string(i) + " '" + name + "' (" +
          describeTensor(
              isOutput, dtype,
              std::vector<int64_t>(shape, shape + std::clamp(rank, 0, 8))) +
          ") does not match the spec's '" + t.name + "' (" +
          describeTensor(static_cast<int32_t>(t.role), t.dtype, t.shape) + ")");
  }
}

void checkLayer(const ssmrt::Layer &layer, const ScanSpec &spec) {
  checkLayer(layer, layerTensors(spec));
}

void checkLayer(const ssmrt::Layer &layer, const StepSpec &spec) {
  checkLayer(layer, stepTensors(spec));
}

void checkLayer(const ssmrt::Layer &layer, const ConvSpec &spec) {
  checkLayer(layer, convTensors(spec));
}

void checkLayer(const ssmrt::Layer &layer, const SSDSpec &spec) {
  checkLayer(layer, ssdTensors(spec));
}

void checkLayer(const ssmrt::Layer &layer, const NormSpec &spec) {
  checkLayer(layer, normTensors(spec));
}

} // namespace ssmc::gpu
