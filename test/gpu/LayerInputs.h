//===- LayerInputs.h - Inputs and device tensors of a launch ----*- C++ -*-===//
//
// Random inputs of a layer launch in fp64, their device copies and the
// launch on them.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_LAYERINPUTS_H
#define SSMC_TEST_GPU_LAYERINPUTS_H

#include "CudaDriver.h"
#include "HostValues.h"
#include "LayerTensors.h"

#include "ssmrt/ssmrt.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace ssmc::gpu {

/// Runs `body(i)` for i in [0, count) on all hardware threads.
template <typename Body> void parallelFor(int64_t count, Body body) {
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i = next++; i < count; i = next++)
      body(i);
  };
  const int64_t workers = std::min<int64_t>(
      count, std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int64_t w = 1; w < workers; ++w)
    threads.emplace_back(worker);
  worker();
  for (std::thread &thread : threads)
    thread.join();
}

/// 64-bit FNV-1a of `text`: a seed that is the same on every platform.
uint64_t seedOf(const std::string &text);

/// The values of every tensor of one launch by tensor name, in fp64. Inputs
/// hold exactly what a kernel reads; outputs are filled by a launch.
struct ScanData {
  int64_t batch = 0;
  int64_t len = 0;
  std::map<std::string, std::vector<double>> values;
};

/// The reference's input `name` of `data`, or of `magnitudes` (|input|) in
/// the magnitude pass where it has one; null if the layer has no `name`.
const double *
referenceInput(const ScanData &data,
               const std::map<std::string, std::vector<double>> &magnitudes,
               bool magnitude, const char *name);

/// Random values for the tensors of `tensors` that a kernel reads (inputs
/// and in-out tensors), for `batch` x `len`, from `seed`: A = -exp(U(-1,1));
/// with `deltaSoftplus`, raw delta (or dt) ~ U(-3,-1) and bias ~ U(-1,0) (Δ =
/// softplus(raw + bias) in about [0.02, 0.31]); without, raw delta ~
/// U(0.001,0.1) and bias ~ U(0,0.01), which keeps Δ positive; every other
/// tensor (u, x, z, B, C, D, h0, state) ~ N(0,1). Each tensor has its own
/// seed, derived from `seed` and its name.
ScanData makeInputs(const std::vector<TensorDesc> &tensors, bool deltaSoftplus,
                    int64_t batch, int64_t len, uint64_t seed);

/// Random inputs of the selective scan `spec` (see above).
ScanData makeInputs(const ScanSpec &spec, int64_t batch, int64_t len,
                    uint64_t seed);

/// Random inputs and initial state of the decode step `spec` for `batch`
/// (see above; len is 1).
ScanData makeInputs(const StepSpec &spec, int64_t batch, uint64_t seed);

/// Device copies of every tensor of one launch and the argument list that
/// launches the layer on them.
class DeviceTensors {
public:
  /// Allocates every tensor of `tensors` for the sizes of `data`, uploads
  /// what the kernel reads (inputs, in-out tensors) and fills the outputs
  /// with NaN. Inputs named in `encoded` are uploaded from its bytes (in
  /// their dtype) rather than from `data`: tensors too large for fp64
  /// copies.
  DeviceTensors(
      std::vector<TensorDesc> tensors, const ScanData &data,
      const std::map<std::string, std::vector<uint8_t>> &encoded = {});

  /// The tensors of the selective scan `spec`.
  DeviceTensors(const ScanSpec &spec, const ScanData &data)
      : DeviceTensors(layerTensors(spec), data) {}

  /// The tensors of the decode step `spec`.
  DeviceTensors(const StepSpec &spec, const ScanData &data)
      : DeviceTensors(stepTensors(spec), data) {}

  /// The tensors in launch order.
  const std::vector<ssmrt_tensor> &tensors() const { return args; }

  /// Fills the pure outputs (not the in-out tensors) with NaN.
  void poisonOutputs() const;

  /// Overwrites tensor `name` with `values`, e.g. the next step's inputs.
  void upload(const std::string &name, const std::vector<double> &values) const;

  /// The current contents of tensor `name`.
  std::vector<double> download(const std::string &name) const {
    return decode(downloadBytes(name), descs[indexOf(name)].dtype);
  }

  /// The current contents of tensor `name`, in its dtype.
  std::vector<uint8_t> downloadBytes(const std::string &name) const {
    return buffers[indexOf(name)].download();
  }

  /// Stores everything the kernel writes (outputs, in-out tensors) into
  /// `data`.
  void downloadOutputs(ScanData &data) const;

private:
  size_t indexOf(const std::string &name) const;

  std::vector<TensorDesc> descs;
  std::vector<DeviceBuffer> buffers;
  std::vector<ssmrt_tensor> args;
};

/// Launches `layer` on `device` on the default stream; a failed driver call
/// inside libssmrt becomes a CudaError, other failures stay ssmrt::Error.
void launchLayer(const ssmrt::Layer &layer, const DeviceTensors &device);

/// Launches `layer` on `device` and waits for it.
void launchAndWait(const ssmrt::Layer &layer, const DeviceTensors &device);

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_LAYERINPUTS_H
