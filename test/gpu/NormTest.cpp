//===- NormTest.cpp - GPU correctness test of the gated RMSNorm -----------===//
//
// Runs every gated RMSNorm layer ("op": "rms_norm_gated") of the specs in
// test/gpu/specs (the norm_*.json files; the other binaries run the rest),
// compiled ahead of time by build_kernels.sh, through libssmrt on the GPU and
// compares out with the fp64 reference (ssmc::ref::rmsNormGated) on random
// inputs (y, z, weight ~ N(0,1), rounded to their dtypes) for 1, 7, 15 and
// 4096 rows: a single row, fewer rows than a block's teams, several batch
// entries, and many blocks. Prints one line per case and a final
// "N passed, N failed"; exits non-zero if a case failed. Without a driver or
// GPU it says so and exits 0, or 2 with --require-gpu.
//
// Tolerance. out = v · rstd · w (· silu(z)) is a product: nothing cancels,
// so each element is checked relative to itself, |gpu - ref| <= r·|ref| +
// kEps·|ref| (r: the output rounding, 0 for f32, 2^-8 bf16, 2^-11 f16).
// The fp32 error before that rounding, with u = 2^-24:
// - the sum of squares adds positive terms: at most 32 per lane in sequence,
//   5 shuffle levels and up to 32 warp slots, so <= 69·u relative (4.1e-6),
//   and rstd = rsqrt(sum/n + eps) halves it, plus rsqrt.approx (2^-22.9) and
//   two roundings: <= 2.3e-6;
// - silu(z) = z / (1 + 2^(-z·log2 e)): the argument rounds (|z·log2 e|·u <=
//   6e-7 for |z| < 7), ex2.approx (2^-22), the add and div.approx (2 ulp):
//   <= 1e-6, entering once (before the gate) or twice (as v², which moves
//   rstd by the same 1e-6);
// - the final products: 3 roundings, 2e-7.
// Together <= 5e-6; kEps = 2e-5 leaves a margin of 4 and is well inside the
// 1e-4 of REFERENCE.md §9 (bf16/f16 outputs are held to their rounding plus
// the same kEps, far inside its 1e-2 of the RMS). A wrong group, row or
// weight index changes rstd or w by O(1) and fails by orders of magnitude.
//
//===----------------------------------------------------------------------===//

#include "GpuTestMain.h"
#include "LayerInputs.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// The error budget of out, relative to itself (see the header).
constexpr double kEps = 2e-5;

/// "<layer> B=<batch> L=<len>".
std::string caseName(const NormSpec &spec, int64_t batch, int64_t len) {
  return spec.name + " B=" + std::to_string(batch) +
         " L=" + std::to_string(len);
}

/// One launch of `spec` on `batch` x `len` rows against the reference.
void runCase(const ssmrt::Layer &layer, const NormSpec &spec, int64_t batch,
             int64_t len, Tally &tally) {
  const std::vector<TensorDesc> tensors = normTensors(spec);
  ScanData data = makeInputs(tensors, false, batch, len,
                             seedOf(spec.name + "/" + std::to_string(batch) +
                                    "/" + std::to_string(len)));
  DeviceTensors device(tensors, data);
  launchAndWait(layer, device);
  device.downloadOutputs(data);

  const int64_t rows = batch * len;
  std::vector<double> want(rows * spec.dim);
  const auto z = data.values.find("z");
  ref::rmsNormGated(rows, spec.dim, spec.groupSize, data.values.at("y").data(),
                    z == data.values.end() ? nullptr : z->second.data(),
                    data.values.at("weight").data(), spec.eps,
                    spec.normBeforeGate, want.data());
  std::vector<double> mag = want;
  for (double &m : mag)
    m = std::fabs(m);
  report(caseName(spec, batch, len),
         {compare("out", data.values.at("out"), want, want, mag, spec.dtype,
                  {batch, len, spec.dim}, 1.0, kEps)},
         tally);
}

/// Every case of one layer.
void runLayer(const ssmrt::Layer &layer, const NormSpec &spec,
              const Options &options, Tally &tally) {
  const std::vector<std::pair<int64_t, int64_t>> shapes =
      options.quick ? std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 5}}
                    : std::vector<std::pair<int64_t, int64_t>>{
                          {1, 1}, {1, 7}, {3, 5}, {2, 2048}};
  for (auto [batch, len] : shapes)
    guarded(caseName(spec, batch, len), tally,
            [&] { runCase(layer, spec, batch, len, tally); });
}

/// Every norm layer of one spec file.
void runSpec(const std::string &path, const Options &options, Tally &tally) {
  runSpecLayers(path, options, tally, &SpecFile::norms, runLayer);
}

} // namespace

int main(int argc, char **argv) {
  return runGpuTestSuite(argc, argv,
                         {"ssmc GPU gated RMSNorm tests", "rms_norm_gated",
                          "B=1 L=1, B=3 L=5", runSpec});
}
