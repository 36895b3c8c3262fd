//===- SpecReader.h - The layer specs of the GPU tests ----------*- C++ -*-===//
//
// The fields of a layer spec (examples/README.md) that the GPU tests and
// benchmarks need: selective-scan, decode-step, causal conv1d, SSD and gated
// RMSNorm layers, with defaults filled in as ssmc does.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_SPECREADER_H
#define SSMC_TEST_GPU_SPECREADER_H

#include "ssmc/Reference/Reference.h"
#include "ssmrt/ssmrt.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ssmc::gpu {

/// One selective-scan layer of a spec (examples/README.md), defaults filled
/// in as ssmc does.
struct ScanSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32;
  ref::Layout layout = ref::Layout::ChannelFirst;
  int64_t dim = 0;    ///< d_inner, D
  int64_t dstate = 0; ///< d_state, N
  ref::BCKind bc = ref::BCKind::Grouped;
  int64_t ngroups = 1;
  ssmrt_dtype bcDtype = SSMRT_F32;
  bool skip = false;
  bool gate = false;
  bool deltaBias = false;
  bool deltaSoftplus = false;
  bool initialState = false;
  bool finalState = false;
  bool reverse = false;
  /// Vim's pair of scans: the operands but z and y stack both directions.
  bool bidirectional = false;
  /// VMamba's SS2D scan ("cross_scan": {"height", "width"}): four directions
  /// over the crossHeight x crossWidth tokens, a static L; 0 if none.
  int64_t crossHeight = 0, crossWidth = 0;
  /// Whether the layer is a cross scan.
  bool crossScan() const { return crossHeight > 0 && crossWidth > 0; }
  /// The length a cross scan takes, H·W (0 if the layer is none).
  int64_t crossLen() const {
    return crossScan() ? crossHeight * crossWidth : 0;
  }
  /// The directions scanned: 4 for a cross scan, 2 for a bidirectional
  /// layer, else 1.
  int64_t directions() const { return crossScan() ? 4 : bidirectional ? 2 : 1; }
  /// The channels of u: D where the directions share it (one direction, or
  /// a cross scan), else one D a direction.
  int64_t uChannels() const { return crossScan() ? dim : directions() * dim; }
  /// The causal conv1d before the scan ("conv": {"width", "bias", "silu"}),
  /// which then reads u through it: its width K (0 if none), bias, silu.
  int64_t convWidth = 0;
  bool convBias = false, convSilu = false;
};

/// The two forms of a decode step.
enum class StepForm { Mamba1, Mamba2 };

/// One decode-step layer ("op": "scan_step") of a spec. Mamba-1 has D
/// channels of N states and A [D,N]; Mamba-2 has H heads of P channels, each
/// of N states, and one A per head.
struct StepSpec {
  std::string name;
  StepForm form = StepForm::Mamba2;
  ssmrt_dtype dtype = SSMRT_F32; ///< Of x, delta, B, C, z and y.
  int64_t dim = 0;               ///< d_inner, D (Mamba-1)
  int64_t nheads = 0;            ///< H (Mamba-2)
  int64_t headdim = 0;           ///< P (Mamba-2)
  int64_t dstate = 0;            ///< d_state, N
  int64_t ngroups = 1;           ///< G of B/C
  bool skip = false;
  bool gate = false;
  bool deltaBias = false;
  bool deltaSoftplus = false;
};

/// One causal depthwise conv1d layer ("op": "causal_conv1d") of a spec.
struct ConvSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32; ///< Of x and y; weight, bias, states f32.
  ref::Layout layout = ref::Layout::ChannelFirst;
  int64_t channels = 0; ///< C
  int64_t width = 0;    ///< K
  bool bias = false;
  bool silu = false;
  bool initialState = false;
  bool finalState = false;
  /// The final state is written over the initial one: one in-out tensor.
  bool stateInPlace = false;

  /// The names of the initial and the final state tensors.
  const char *initName() const { return stateInPlace ? "conv_state" : "init"; }
  const char *finalName() const {
    return stateInPlace ? "conv_state" : "final_state";
  }
};

/// One gated RMSNorm layer ("op": "rms_norm_gated") of a spec.
struct NormSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_F32;       ///< Of y, z and out.
  ssmrt_dtype weightDtype = SSMRT_F32; ///< Of weight [dim].
  int64_t dim = 0;                     ///< The normalized last dimension.
  int64_t groupSize = 0;               ///< dim unless the spec says.
  double eps = 1e-5;
  bool gate = true;
  bool normBeforeGate = false;
};

/// One Mamba-2 SSD layer ("op": "ssd_chunk") of a spec: x, z, y [B,L,H,P],
/// dt [B,L,H] and B, C [B,L,G,N] in the dtype; A, D, dt_bias [H] and the
/// states [B,H,P,N] f32.
struct SSDSpec {
  std::string name;
  ssmrt_dtype dtype = SSMRT_BF16;
  int64_t nheads = 0;  ///< H
  int64_t headdim = 0; ///< P
  int64_t dstate = 0;  ///< N
  int64_t ngroups = 1; ///< G
  int64_t chunkSize = 64;
  bool skip = false;
  bool gate = false;
  bool dtBias = false;
  bool dtSoftplus = false;
  bool initialState = false;
  bool finalState = false;
  /// The gated RMSNorm of y ("norm"), over dim = H·P, which takes the gate.
  std::optional<NormSpec> norm;
};

/// A spec file: the model name (which names its manifest) and its layers,
/// selective scans, decode steps, conv1d, SSD and norm layers apart.
struct SpecFile {
  std::string name;
  /// The spec's "arch" (ssmc's default where it has none).
  std::vector<std::string> archs;
  std::vector<ScanSpec> layers;
  std::vector<StepSpec> steps;
  std::vector<ConvSpec> convs;
  std::vector<SSDSpec> ssds;
  std::vector<NormSpec> norms;
};

/// Reads a spec file; throws std::runtime_error if it cannot. Validation is
/// ssmc's job: this only reads the fields the tests need.
SpecFile readSpec(const std::string &path);

/// The *.json files of `dir`, sorted.
std::vector<std::string> listSpecs(const std::string &dir);

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_SPECREADER_H
