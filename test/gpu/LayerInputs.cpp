//===- LayerInputs.cpp - Inputs and device tensors of a launch ------------===//

#include "LayerInputs.h"

#include <cmath>
#include <random>
#include <stdexcept>

namespace ssmc::gpu {

uint64_t seedOf(const std::string &text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

const double *
referenceInput(const ScanData &data,
               const std::map<std::string, std::vector<double>> &magnitudes,
               bool magnitude, const char *name) {
  if (magnitude && magnitudes.count(name))
    return magnitudes.at(name).data();
  auto it = data.values.find(name);
  return it == data.values.end() ? nullptr : it->second.data();
}

/// `count` draws of `dist`, mapped through `transform` if given, rounded to
/// `dtype`. Blocks of 2^20 elements have their own generator, seeded from
/// (seed, block), and their own copy of `dist`, so the values do not depend
/// on the number of threads.
template <typename Dist>
static std::vector<double> randomTensor(int64_t count, ssmrt_dtype dtype,
                                        uint64_t seed, const Dist &dist,
                                        double (*transform)(double) = nullptr) {
  constexpr int64_t blockSize = int64_t(1) << 20;
  std::vector<double> values(count);
  parallelFor((count + blockSize - 1) / blockSize, [&](int64_t block) {
    std::mt19937_64 generator(seed + 0x9e3779b97f4a7c15ull * (block + 1));
    Dist local = dist;
    const int64_t end = std::min(count, (block + 1) * blockSize);
    for (int64_t i = block * blockSize; i < end; ++i) {
      const double value = local(generator);
      values[i] = quantize(transform ? transform(value) : value, dtype);
    }
  });
  return values;
}

ScanData makeInputs(const std::vector<TensorDesc> &tensors, bool deltaSoftplus,
                    int64_t batch, int64_t len, uint64_t seed) {
  using Uniform = std::uniform_real_distribution<double>;
  const Uniform rawDelta =
      deltaSoftplus ? Uniform(-3.0, -1.0) : Uniform(0.001, 0.1);
  const Uniform bias = deltaSoftplus ? Uniform(-1.0, 0.0) : Uniform(0.0, 0.01);
  ScanData data;
  data.batch = batch;
  data.len = len;
  for (const TensorDesc &t : tensors) {
    if (!t.read())
      continue;
    const int64_t count = numElements(bindShape(t.shape, batch, len));
    const uint64_t tensorSeed = seedOf(std::to_string(seed) + "/" + t.name);
    std::vector<double> &values = data.values[t.name];
    if (t.name == "delta" || t.name == "dt")
      values = randomTensor(count, t.dtype, tensorSeed, rawDelta);
    else if (t.name == "delta_bias" || t.name == "dt_bias")
      values = randomTensor(count, t.dtype, tensorSeed, bias);
    else if (t.name == "A")
      values = randomTensor(count, t.dtype, tensorSeed, Uniform(-1.0, 1.0),
                            [](double x) { return -std::exp(x); });
    else
      values = randomTensor(count, t.dtype, tensorSeed,
                            std::normal_distribution<double>());
  }
  return data;
}

ScanData makeInputs(const ScanSpec &spec, int64_t batch, int64_t len,
                    uint64_t seed) {
  return makeInputs(layerTensors(spec), spec.deltaSoftplus, batch, len, seed);
}

ScanData makeInputs(const StepSpec &spec, int64_t batch, uint64_t seed) {
  return makeInputs(stepTensors(spec), spec.deltaSoftplus, batch, 1, seed);
}

DeviceTensors::DeviceTensors(
    std::vector<TensorDesc> tensors, const ScanData &data,
    const std::map<std::string, std::vector<uint8_t>> &encoded)
    : descs(std::move(tensors)) {
  buffers.reserve(descs.size());
  for (const TensorDesc &t : descs) {
    const std::vector<int64_t> shape = bindShape(t.shape, data.batch, data.len);
    buffers.emplace_back(numElements(shape) * ssmrt_dtype_size(t.dtype));
    if (t.read() && encoded.count(t.name))
      buffers.back().upload(encoded.at(t.name));
    else if (t.read())
      buffers.back().upload(encode(data.values.at(t.name), t.dtype));
    ssmrt_tensor tensor = {};
    tensor.data = reinterpret_cast<void *>(buffers.back().get());
    tensor.dtype = t.dtype;
    tensor.rank = static_cast<int32_t>(shape.size());
    std::copy(shape.begin(), shape.end(), tensor.shape);
    args.push_back(tensor);
  }
  poisonOutputs();
}

void DeviceTensors::poisonOutputs() const {
  for (size_t i = 0; i < descs.size(); ++i)
    if (!descs[i].read())
      // All-ones bytes are NaN in every dtype: an element the kernel does
      // not write cannot pass for a stale correct value.
      check(driver().memsetD8(buffers[i].get(), 0xff, buffers[i].size()),
            "cuMemsetD8");
}

void DeviceTensors::upload(const std::string &name,
                           const std::vector<double> &values) const {
  const size_t i = indexOf(name);
  if (values.size() * ssmrt_dtype_size(descs[i].dtype) != buffers[i].size())
    throw std::logic_error("wrong number of values for " + name);
  buffers[i].upload(encode(values, descs[i].dtype));
}

void DeviceTensors::downloadOutputs(ScanData &data) const {
  for (size_t i = 0; i < descs.size(); ++i)
    if (descs[i].written())
      data.values[descs[i].name] =
          decode(buffers[i].download(), descs[i].dtype);
}

size_t DeviceTensors::indexOf(const std::string &name) const {
  for (size_t i = 0; i < descs.size(); ++i)
    if (descs[i].name == name)
      return i;
  throw std::logic_error("no tensor " + name);
}

void launchLayer(const ssmrt::Layer &layer, const DeviceTensors &device) {
  try {
    layer.launch(device.tensors());
  } catch (const ssmrt::Error &error) {
    if (error.status() == SSMRT_ERROR_CUDA)
      throw CudaError(error.what());
    throw;
  }
}

void launchAndWait(const ssmrt::Layer &layer, const DeviceTensors &device) {
  launchLayer(layer, device);
  check(driver().ctxSynchronize(), "cuCtxSynchronize after the launch");
}

} // namespace ssmc::gpu
