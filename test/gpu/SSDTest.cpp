//===- SSDTest.cpp - GPU correctness test of the Mamba-2 SSD scan ---------===//
//
// Runs every SSD layer ("op": "ssd_chunk") of the specs in test/gpu/specs
// (the ssd_*.json files), compiled ahead of time by build_kernels.sh, through
// libssmrt on the GPU and compares y and final_state with the fp64 reference
// recurrence (ssmc::ref::ssdRecurrent) on random inputs, at lengths around
// the chunk sizes (1, 63, 64, 4096, 4097). Layers with both states also run
// kSplitLen steps as two launches, the second starting from the first's
// final_state. A spec that also has a Mamba-2 decode step of the same sizes
// (ssd_decode_pair.json) checks that L decode steps reproduce the prefill's
// y and final state. Prints one line per case and a final "N passed, N
// failed";
// exits non-zero if a case failed. Without a driver or GPU it says so and
// exits 0, or 2 with --require-gpu.
//
// Tolerances. Each element must satisfy |gpu - ref| <= r·|ref| + eps·mag,
// where r is the output rounding (2^-8 bf16, 2^-11 f16, 0 for the f32
// state) and mag is the same layer run on |x|, |B|, |C|, |D|, |init| with the
// same Δ, A and z: the sum of the magnitudes of the terms that built the
// element. The tensor-core kernel rounds three fp32 intermediates to the
// 16-bit operand type (unit roundoff u = 2^-8 for bf16, 2^-11 for f16),
// each at most once per term:
//   - the masked, decayed C·Bᵀ·Δ matrix (y's intra-chunk terms; the
//     mma.sync kernels add D to its diagonal, so the skip term D·x carries
//     this one rounding too),
//   - the state S before it multiplies C (y's inter-chunk terms),
//   - x·exp(ΔA-sum)·Δ before it updates S (every state term, and through S
//     the inter-chunk terms of y once more).
// So a term of y is off by at most 2u + 2^-22 (ex2.approx) + fp32 sums of at
// most N + Q terms (~2^-24·(N+Q), < 2e-5 here): 7.8e-3 for bf16, so eps =
// 1e-2 (REFERENCE.md §9: 1e-2 of the output RMS for 16-bit inputs, which
// this per-element bound implies). A state term carries one rounding: u =
// 3.9e-3 for bf16, so kStateEps = 5e-3. Both hold with a 1.28× margin in the
// worst case; random errors average out well below (measured: y ~1e-3, the
// state up to u at L = 1, where a single term makes it). An indexing error (a
// wrong step, head, group or chunk boundary) moves elements by O(1)·mag and
// fails by orders of magnitude.
//
// With a norm ("norm": the gated RMSNorm of y over groups of its H·P
// channels) the kernel stores y ungated in its own dtype and the norm kernel
// computes out = y·rstd·w·s, s = silu(z) (1 without z), rstd = (mean of v²
// + eps)^-1/2 over the group of v = y·s (v = y before the gate). y is then
// off by δ <= K·mag with K = r + kEps (its rounding and its budget), which
// moves out by δ·rstd·|w·s| directly and through rstd by at most
// ‖δ·v/y‖₂ / ‖v‖₂ <= K·ρ relative, ρ = ‖mag·v/y‖₂ / ‖v‖₂ of the group
// (Cauchy-Schwarz on the sum of squares); the norm's own fp32 error (2e-5,
// NormTest) is far below. So out is held to r·|out| + K·(mag·rstd·|w·s| +
// ρ·|out|), first order in K.
//
//===----------------------------------------------------------------------===//

#include "GpuTestMain.h"
#include "LayerInputs.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// The error budgets of y and the final state, relative to their magnitude.
constexpr double kEps = 1e-2;
constexpr double kStateEps = 5e-3;
/// The state continuation test: kSplitLen steps as two launches.
constexpr int64_t kSplitLen = 300;
constexpr int64_t kSplitAt = 129;
/// At least this many (batch, head) units in the handoff case.
constexpr int64_t kHandoffUnits = 400;

/// The fp64 results of one launch and their magnitudes.
struct Expected {
  std::vector<double> y, yMag, finalState, stateMag;
};

/// The shape of tensor `name` of `spec` for `batch` x `len`.
std::vector<int64_t> shapeOf(const SSDSpec &spec, const std::string &name,
                             int64_t batch, int64_t len) {
  return tensorShape(ssdTensors(spec), name, batch, len);
}

/// The error budget of y (of the normed output with a norm: K of the
/// header).
double yTolerance(const SSDSpec &spec) {
  return spec.norm ? outputRounding(spec.dtype) + kEps : kEps;
}

/// Replaces the ungated y of `want` by the normed output and its magnitude
/// (see the header).
void applyNorm(const NormSpec &norm, const ScanData &data, Expected &want) {
  const int64_t dim = norm.dim, group = norm.groupSize;
  const int64_t rows = static_cast<int64_t>(want.y.size()) / dim;
  const std::vector<double> &w = data.values.at("norm_weight");
  const std::vector<double> *z = norm.gate ? &data.values.at("z") : nullptr;
  std::vector<double> out(want.y.size()), mag(want.y.size());
  ref::rmsNormGated(rows, dim, group, want.y.data(), z ? z->data() : nullptr,
                    w.data(), norm.eps, norm.normBeforeGate, out.data());
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t g0 = row * dim; g0 < (row + 1) * dim; g0 += group) {
      auto gate = [&](int64_t i) {
        return z ? (*z)[i] / (1.0 + std::exp(-(*z)[i])) : 1.0;
      };
      // v = y·s after the gate, y before it; magV bounds its error / K.
      double sumV = 0, sumMagV = 0;
      for (int64_t i = g0; i < g0 + group; ++i) {
        const double scale = norm.normBeforeGate ? 1.0 : std::fabs(gate(i));
        sumV += want.y[i] * want.y[i] * scale * scale;
        sumMagV += want.yMag[i] * want.yMag[i] * scale * scale;
      }
      const double rstd = 1.0 / std::sqrt(sumV / group + norm.eps);
      const double rho = sumV > 0 ? std::sqrt(sumMagV / sumV)
                                  : std::numeric_limits<double>::infinity();
      for (int64_t i = g0; i < g0 + group; ++i)
        mag[i] = want.yMag[i] * rstd * std::fabs(w[i - row * dim] * gate(i)) +
                 rho * std::fabs(out[i]);
    }
  want.y = std::move(out);
  want.yMag = std::move(mag);
}

/// Runs the reference on `data`, and on the magnitudes of its inputs.
Expected runReference(const SSDSpec &spec, const ScanData &data) {
  const int64_t ySize = numElements(shapeOf(spec, "y", data.batch, data.len));
  const int64_t stateSize =
      data.batch * spec.nheads * spec.headdim * spec.dstate;
  Expected want;
  want.y.resize(ySize);
  want.yMag.resize(ySize);
  want.finalState.resize(stateSize);
  want.stateMag.resize(stateSize);
  std::map<std::string, std::vector<double>> magnitudes;
  for (const char *name : {"x", "B", "C", "D", "init"})
    if (data.values.count(name))
      magnitudes[name] = absolute(data.values.at(name));
  ref::SSDDims dims;
  dims.batch = data.batch;
  dims.seqlen = data.len;
  dims.nheads = spec.nheads;
  dims.headdim = spec.headdim;
  dims.dstate = spec.dstate;
  dims.ngroups = spec.ngroups;
  for (const bool magnitude : {false, true}) {
    auto in = [&](const char *name) {
      return referenceInput(data, magnitudes, magnitude, name);
    };
    ref::SSDArgs args;
    args.x = in("x");
    args.dt = in("dt");
    args.A = in("A");
    args.B = in("B");
    args.C = in("C");
    args.D = in("D");
    args.z = in("z");
    args.dtBias = in("dt_bias");
    args.initialState = in("init");
    args.dtSoftplus = spec.dtSoftplus;
    if (spec.norm)
      args.z = nullptr; // the norm takes the gate
    args.y = (magnitude ? want.yMag : want.y).data();
    args.finalState = (magnitude ? want.stateMag : want.finalState).data();
    ref::ssdRecurrent(dims, args);
  }
  // silu(z) may be negative; the magnitude is its absolute value.
  want.yMag = absolute(std::move(want.yMag));
  if (spec.norm)
    applyNorm(*spec.norm, data, want);
  return want;
}

/// "<layer> B=<batch> L=<len><suffix>".
std::string caseName(const SSDSpec &spec, int64_t batch, int64_t len,
                     const std::string &suffix = "") {
  return spec.name + " B=" + std::to_string(batch) +
         " L=" + std::to_string(len) + suffix;
}

Check compareState(const SSDSpec &spec, const std::vector<double> &got,
                   const Expected &want, int64_t batch) {
  return compare("final_state", got, want.finalState, want.finalState,
                 want.stateMag, SSMRT_F32,
                 shapeOf(spec, "final_state", batch, 1), 1.0, kStateEps);
}

/// One launch of `spec` at `batch` x `len` against the reference.
void runCase(const ssmrt::Layer &layer, const SSDSpec &spec, int64_t batch,
             int64_t len, Tally &tally) {
  const std::vector<TensorDesc> tensors = ssdTensors(spec);
  ScanData data = makeInputs(tensors, spec.dtSoftplus, batch, len,
                             seedOf(spec.name + "/" + std::to_string(batch) +
                                    "/" + std::to_string(len)));
  DeviceTensors device(tensors, data);
  launchAndWait(layer, device);
  device.downloadOutputs(data);
  const Expected want = runReference(spec, data);
  std::vector<Check> checks = {
      compare("y", data.values.at("y"), want.y, want.y, want.yMag, spec.dtype,
              shapeOf(spec, "y", batch, len), 1.0, yTolerance(spec))};
  if (spec.finalState)
    checks.push_back(
        compareState(spec, data.values.at("final_state"), want, batch));
  report(caseName(spec, batch, len), checks, tally);
}

/// Time steps [begin, end) of a [B, L, ...] tensor of `len` steps with
/// `inner` elements per step.
std::vector<double> sliceLen(const std::vector<double> &values, int64_t batch,
                             int64_t len, int64_t inner, int64_t begin,
                             int64_t end) {
  std::vector<double> part;
  part.reserve(batch * (end - begin) * inner);
  for (int64_t b = 0; b < batch; ++b) {
    const auto first = values.begin() + (b * len + begin) * inner;
    part.insert(part.end(), first, first + (end - begin) * inner);
  }
  return part;
}

/// kSplitLen steps as two launches, the second starting from the first's
/// final_state: both parts of y and the last state against one reference.
void runContinuation(const ssmrt::Layer &layer, const SSDSpec &spec,
                     int64_t batch, Tally &tally) {
  const std::vector<TensorDesc> tensors = ssdTensors(spec);
  const ScanData whole =
      makeInputs(tensors, spec.dtSoftplus, batch, kSplitLen,
                 seedOf(spec.name + "/split/" + std::to_string(batch)));
  const Expected want = runReference(spec, whole);
  // Elements per time step of each [B, L, ...] tensor.
  const int64_t act = spec.nheads * spec.headdim;
  const std::map<std::string, int64_t> perStep = {
      {"x", act},
      {"z", act},
      {"y", act},
      {"dt", spec.nheads},
      {"B", spec.ngroups * spec.dstate},
      {"C", spec.ngroups * spec.dstate}};

  std::vector<Check> checks;
  std::vector<double> state = whole.values.at("init");
  const int64_t bounds[] = {0, kSplitAt, kSplitLen};
  for (int part = 0; part < 2; ++part) {
    const int64_t begin = bounds[part], end = bounds[part + 1];
    ScanData data;
    data.batch = batch;
    data.len = end - begin;
    data.values = whole.values;
    for (const auto &[name, inner] : perStep)
      if (data.values.count(name))
        data.values[name] = sliceLen(whole.values.at(name), batch, kSplitLen,
                                     inner, begin, end);
    data.values["init"] = state;
    DeviceTensors device(tensors, data);
    launchAndWait(layer, device);
    checks.push_back(compare(
        "y" + std::to_string(part + 1), device.download("y"),
        sliceLen(want.y, batch, kSplitLen, act, begin, end),
        sliceLen(want.y, batch, kSplitLen, act, begin, end),
        sliceLen(want.yMag, batch, kSplitLen, act, begin, end), spec.dtype,
        shapeOf(spec, "y", batch, data.len), 1.0, yTolerance(spec)));
    state = device.download("final_state");
  }
  checks.push_back(compareState(spec, state, want, batch));
  report(caseName(spec, batch, kSplitLen,
                  " split " + std::to_string(kSplitAt) + "+" +
                      std::to_string(kSplitLen - kSplitAt)),
         checks, tally);
}

/// Every case of one layer.
void runLayer(const ssmrt::Layer &layer, const SSDSpec &spec,
              const Options &options, Tally &tally) {
  const std::vector<int64_t> batches =
      options.quick ? std::vector<int64_t>{2} : std::vector<int64_t>{1, 2};
  const std::vector<int64_t> lengths =
      options.quick ? std::vector<int64_t>{1, 63, 130}
                    : std::vector<int64_t>{1, 63, 64, 4096, 4097};
  for (int64_t batch : batches)
    for (int64_t len : lengths)
      guarded(caseName(spec, batch, len), tally,
              [&] { runCase(layer, spec, batch, len, tally); });
  // More (batch, head) units than the persistent scan's blocks (two an SM:
  // 264 on 132 SMs), so that blocks share units and hand states on.
  int64_t many = (kHandoffUnits + spec.nheads - 1) / spec.nheads;
  int64_t len = options.quick ? 63 : 130;
  guarded(caseName(spec, many, len), tally,
          [&] { runCase(layer, spec, many, len, tally); });
  if (spec.initialState && spec.finalState && !options.quick)
    guarded(caseName(spec, 2, kSplitLen, " split"), tally,
            [&] { runContinuation(layer, spec, 2, tally); });
}

/// The steps of the decode-equivalence case: past one chunk of 32.
constexpr int64_t kDecodeLen = 40;

/// A spec with one SSD layer and one Mamba-2 decode step of the same sizes
/// and options: kDecodeLen decode launches on one state, updated in place
/// from the prefill's initial state, must give the prefill's y and final
/// state. Each result is within its own budget of the exact value, so they
/// may differ by the two budgets together (and two output roundings of y).
void runDecodeEquivalence(const std::string &path, const Options &options,
                          Tally &tally) {
  SpecFile file;
  try {
    file = readSpec(path);
  } catch (const std::exception &) {
    return; // runSpecLayers reports it
  }
  if (file.ssds.size() != 1 || file.steps.size() != 1)
    return;
  const SSDSpec &spec = file.ssds[0];
  const StepSpec &step = file.steps[0];
  const int64_t batch = 2, len = kDecodeLen;
  const std::string name = spec.name + " B=" + std::to_string(batch) +
                           " L=" + std::to_string(len) + " = " +
                           std::to_string(len) + " x " + step.name;
  guarded(name, tally, [&] {
    ssmrt::Module module =
        ssmrt::Module::load((std::filesystem::path(options.kernelDir) /
                             (file.name + ".manifest.json"))
                                .string());
    ssmrt::Layer prefill = module.layer(spec.name);
    ssmrt::Layer decode = module.layer(step.name);
    checkLayer(prefill, spec);
    checkLayer(decode, step);
    if (!spec.initialState || !spec.finalState)
      throw std::runtime_error("the prefill layer needs both states");

    const std::vector<TensorDesc> tensors = ssdTensors(spec);
    const ScanData data =
        makeInputs(tensors, spec.dtSoftplus, batch, len, seedOf(name));
    DeviceTensors prefillDevice(tensors, data);
    launchAndWait(prefill, prefillDevice);
    const Expected want = runReference(spec, data);

    // The step's tensors at time t: [B, L, ...] slices, renamed.
    const int64_t act = spec.nheads * spec.headdim;
    const std::map<std::string, std::pair<std::string, int64_t>> perStep = {
        {"x", {"x", act}},
        {"z", {"z", act}},
        {"delta", {"dt", spec.nheads}},
        {"B", {"B", spec.ngroups * spec.dstate}},
        {"C", {"C", spec.ngroups * spec.dstate}}};
    auto stepInputs = [&](int64_t t) {
      ScanData at;
      at.batch = batch;
      at.len = 1;
      for (const auto &[stepName, source] : perStep)
        if (data.values.count(source.first))
          at.values[stepName] = sliceLen(data.values.at(source.first), batch,
                                         len, source.second, t, t + 1);
      return at;
    };
    ScanData first = stepInputs(0);
    first.values["state"] = data.values.at("init");
    for (const auto &[stepName, source] :
         {std::pair<std::string, std::string>{"A", "A"},
          {"D", "D"},
          {"delta_bias", "dt_bias"}})
      if (data.values.count(source))
        first.values[stepName] = data.values.at(source);
    const std::vector<TensorDesc> decodeTensors = stepTensors(step);
    DeviceTensors decodeDevice(decodeTensors, first);
    std::vector<double> decodedY(data.values.at("x").size());
    for (int64_t t = 0; t < len; ++t) {
      if (t > 0)
        for (const auto &[stepName, values] : stepInputs(t).values)
          decodeDevice.upload(stepName, values);
      launchAndWait(decode, decodeDevice);
      const std::vector<double> y = decodeDevice.download("y");
      for (int64_t b = 0; b < batch; ++b)
        std::copy(y.begin() + b * act, y.begin() + (b + 1) * act,
                  decodedY.begin() + (b * len + t) * act);
    }
    report(name,
           {compare("y", decodedY, prefillDevice.download("y"), want.y,
                    want.yMag, spec.dtype, shapeOf(spec, "y", batch, len), 2.0,
                    kEps + kStepEps + len * kStepStateEps),
            compare("state", decodeDevice.download("state"),
                    prefillDevice.download("final_state"), want.finalState,
                    want.stateMag, SSMRT_F32,
                    shapeOf(spec, "final_state", batch, 1), 1.0,
                    kStateEps + len * kStepStateEps)},
           tally);
    module.close();
  });
}

void runSpec(const std::string &path, const Options &options, Tally &tally) {
  runSpecLayers(path, options, tally, &SpecFile::ssds, runLayer);
  runDecodeEquivalence(path, options, tally);
}

} // namespace

int main(int argc, char **argv) {
  return runGpuTestSuite(
      argc, argv, {"ssmc GPU SSD tests", "ssd_chunk", "B=2, L<=130", runSpec});
}
