//===- LayerTensors.h - The tensors of a compiled layer ---------*- C++ -*-===//
//
// The tensors of each kind of compiled layer as its manifest describes them,
// in launch order, and the check that a loaded layer has exactly those.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_LAYERTENSORS_H
#define SSMC_TEST_GPU_LAYERTENSORS_H

#include "SpecReader.h"

#include "ssmrt/ssmrt.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ssmc::gpu {

/// Placeholders for the symbolic sizes of a TensorDesc shape.
constexpr int64_t kBatchDim = -1;
constexpr int64_t kLenDim = -2;

/// How a layer uses a tensor; the values are those of the `isOutput` of
/// ssmrt_layer_tensor_info.
enum class Role : int32_t { Input = 0, Output = 1, InOut = 2 };

/// A tensor of a compiled layer as the manifest contract describes it.
struct TensorDesc {
  std::string name;
  Role role = Role::Input;
  ssmrt_dtype dtype = SSMRT_F32;
  /// Static sizes, kBatchDim or kLenDim.
  std::vector<int64_t> shape;

  /// The kernel reads it: an input or an in-out tensor.
  bool read() const { return role != Role::Output; }
  /// The kernel writes it: an output or an in-out tensor.
  bool written() const { return role != Role::Input; }
};

/// The tensors of the layer compiled from `spec`, in launch order: u, delta,
/// A, B, C, [D], [z], [delta_bias], [h0], [conv_weight, [conv_bias]], y,
/// [last_state]. A bidirectional
/// layer's tensors but z and y stack both directions (2D channels, 2G
/// groups); a cross scan's but u, z and y the four directions' (4D, 4G).
/// `len` stands for the length in every shape: kLenDim, or a cross scan's
/// static H·W.
std::vector<TensorDesc> layerTensors(const ScanSpec &spec, int64_t len);

/// The tensors of the layer compiled from `spec`, as its manifest has them:
/// a cross scan's length is its static H·W, any other layer's the symbol.
std::vector<TensorDesc> layerTensors(const ScanSpec &spec);

/// The tensors of the decode step compiled from `spec`, in launch order:
/// state (in-out, f32), x, delta, A, B, C, [D], [z], [delta_bias], y.
/// Mamba-2: state [B,H,P,N], x, z, y [B,H,P], delta [B,H], A, D, delta_bias
/// [H]. Mamba-1: state [B,D,N], x, delta, z, y [B,D], A [D,N], D, delta_bias
/// [D]. B and C are [B,G,N] in both.
std::vector<TensorDesc> stepTensors(const StepSpec &spec);

/// The tensors of the causal conv1d compiled from `spec`, in launch order:
/// x, weight [C,K], [bias [C]], [init [B,C,K-1]], y, [final_state
/// [B,C,K-1]]; x and y are [B,C,L] or [B,L,C] in the dtype, the rest f32.
std::vector<TensorDesc> convTensors(const ConvSpec &spec);

/// The tensors of the SSD layer compiled from `spec`, in launch order: x, dt,
/// A, B, C, [D], [z], [dt_bias], [init], y, [final_state].
std::vector<TensorDesc> ssdTensors(const SSDSpec &spec);

/// The tensors of the gated RMSNorm compiled from `spec`, in launch order:
/// y, [z], weight [dim], out; y, z and out are [B,L,dim] in the dtype.
std::vector<TensorDesc> normTensors(const NormSpec &spec);

/// `shape` with the symbols bound to `batch` and `len`.
std::vector<int64_t> bindShape(const std::vector<int64_t> &shape, int64_t batch,
                               int64_t len);

/// The shape of tensor `name` of `tensors` for `batch` x `len`.
std::vector<int64_t> tensorShape(const std::vector<TensorDesc> &tensors,
                                 const std::string &name, int64_t batch,
                                 int64_t len);

/// The element-wise absolute values of `values`.
std::vector<double> absolute(std::vector<double> values);

int64_t numElements(const std::vector<int64_t> &shape);

/// Throws std::runtime_error naming the first way in which the manifest of
/// `layer` differs from the tensors `want` its spec compiles to: kernels
/// built from another version of a spec must not be tested against this one.
void checkLayer(const ssmrt::Layer &layer, const std::vector<TensorDesc> &want);

/// checkLayer for the selective-scan layer compiled from `spec`.
void checkLayer(const ssmrt::Layer &layer, const ScanSpec &spec);

/// checkLayer for the decode step compiled from `spec`.
void checkLayer(const ssmrt::Layer &layer, const StepSpec &spec);

/// checkLayer for the causal conv1d compiled from `spec`.
void checkLayer(const ssmrt::Layer &layer, const ConvSpec &spec);

/// checkLayer for the SSD layer compiled from `spec`.
void checkLayer(const ssmrt::Layer &layer, const SSDSpec &spec);

/// checkLayer for the gated RMSNorm compiled from `spec`.
void checkLayer(const ssmrt::Layer &layer, const NormSpec &spec);

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_LAYERTENSORS_H
