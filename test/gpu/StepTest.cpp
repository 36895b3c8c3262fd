//===- StepTest.cpp - GPU correctness test of the decode step -------------===//
//
// Runs every decode-step layer ("op": "scan_step") of the specs in
// test/gpu/specs (the step_*.json files; ScanTest.cpp runs the selective
// scans there), compiled ahead of time by build_kernels.sh, through libssmrt
// on the GPU and compares y and the state, which the layer updates in place,
// with the fp64 reference (ssmc::ref::ssdStateUpdate for Mamba-2,
// ssmc::ref::selectiveStateUpdate for Mamba-1) on random inputs. Each layer
// runs one step at several batch sizes, then kChainSteps steps in a row on
// the same device state, with new inputs at each step. Prints one line per
// case and a final "N passed, N failed"; exits non-zero if a case failed.
// Without a driver or GPU it says so and exits 0, or 2 with --require-gpu.
//
// Tolerances. As in ScanTest.cpp, each element must satisfy
//   |gpu - ref| <= r * |ref| + eps * mag,
// where mag is the same step run on |state|, |x|, |B|, |C|, |D| (then |y|),
// with the same Δ, A and z: for the state, exp(ΔA)·|s| + Δ·|x|·|B|, the sum
// of the magnitudes of the terms that built it; r is the output rounding (0
// for f32 and for the state, 2^-8 for bf16, 2^-11 for f16).
// - The state, kStateEps = 3e-5 per step. s' = exp(ΔA)·s + Δ·x·B costs one
//   ex2.approx (<= 2^-22 relative) and its rounded argument (~1e-7), and two
//   products and a sum in fp32 (3 · 2^-24): ~5e-7 of mag. On top comes the
//   error of Δ, which enters both terms, times at most max(|ΔA|, 1) = 1 with
//   these inputs (|ΔA| <= 0.31·e). Without softplus Δ = delta + bias is one
//   fp32 add (2^-24). With it, ssmc computes max(v, 0) + ln(1 + t), t =
//   e^-|v| from one ex2.approx (2^-22 relative) and ln(1 + t) = t·p(t) from
//   a degree-6 fit (1.3e-6 relative) evaluated in fp32 (a few 2^-24): at
//   most 2e-6 relative to Δ at any v. So one step is within ~3e-6·mag at
//   worst (1e-6 without softplus); 3e-5 leaves a 10× margin. (With the
//   earlier ln2·log2(1 + e^v) on lg2.approx, the rounding of 1 + e^v made
//   that 9.3e-6 at v = -4, the smallest of these inputs.)
//   After k steps in a row the errors of earlier steps have decayed with
//   exp(ΔA) <= 1 while mag_k >= exp(ΔA)·mag_(k-1), so the state stays within
//   k·kStateEps.
// - y, kEps = 1e-4 as ScanTest: the state's error (<= 1e-5), the fp32 sum
//   over N <= 128 states (<= N·2^-24 = 7.6e-6 even summed in order), D·x and
//   silu(z) (ex2.approx and a divide, < 1e-6) stay well inside it. After k
//   steps in a row y also carries the state's (k-1)·kStateEps.
// The printed error is max((|gpu - ref| - r·|ref|) / mag), against eps.
//
//===----------------------------------------------------------------------===//

#include "GpuTestMain.h"
#include "LayerInputs.h"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// The error budgets of y and of the state per step (derived above).
constexpr double kEps = kStepEps;
constexpr double kStateEps = kStepStateEps;
/// The number of steps of the chained case.
constexpr int kChainSteps = 5;

/// The reference state and its magnitude (see the file header), advanced one
/// step at a time.
struct RefState {
  std::vector<double> state, mag;
};

/// The reference y of one step and its magnitude.
struct RefStep {
  std::vector<double> y, yMag;
};

/// The shape of tensor `name` of `spec` for `batch`.
std::vector<int64_t> shapeOf(const StepSpec &spec, const std::string &name,
                             int64_t batch) {
  return tensorShape(stepTensors(spec), name, batch, 1);
}

/// Advances `s` by one reference step on the inputs of `data` (whose own
/// "state" is not used) and returns that step's y and its magnitude.
RefStep referenceStep(const StepSpec &spec, const ScanData &data, RefState &s) {
  std::map<std::string, std::vector<double>> magnitudes;
  for (const char *name : {"x", "B", "C", "D"})
    if (data.values.count(name))
      magnitudes[name] = absolute(data.values.at(name));
  RefStep out;
  const int64_t ySize = numElements(shapeOf(spec, "y", data.batch));
  out.y.resize(ySize);
  out.yMag.resize(ySize);
  for (const bool magnitude : {false, true}) {
    auto in = [&](const char *name) {
      return referenceInput(data, magnitudes, magnitude, name);
    };
    double *state = (magnitude ? s.mag : s.state).data();
    double *y = (magnitude ? out.yMag : out.y).data();
    if (spec.form == StepForm::Mamba2) {
      ref::SSDDims dims;
      dims.batch = data.batch;
      dims.seqlen = 1;
      dims.nheads = spec.nheads;
      dims.headdim = spec.headdim;
      dims.dstate = spec.dstate;
      dims.ngroups = spec.ngroups;
      ref::ssdStateUpdate(dims, state, in("x"), in("delta"), in("A"), in("B"),
                          in("C"), in("D"), in("z"), in("delta_bias"),
                          spec.deltaSoftplus, y);
    } else {
      ref::selectiveStateUpdate(data.batch, spec.dim, spec.dstate, spec.ngroups,
                                state, in("x"), in("delta"), in("A"), in("B"),
                                in("C"), in("D"), in("z"), in("delta_bias"),
                                spec.deltaSoftplus, y);
    }
  }
  // silu(z) may be negative; the magnitude is its absolute value.
  out.yMag = absolute(std::move(out.yMag));
  return out;
}

/// "<layer> B=<batch><suffix>".
std::string caseName(const StepSpec &spec, int64_t batch,
                     const std::string &suffix = "") {
  return spec.name + " B=" + std::to_string(batch) + suffix;
}

/// One step of `spec` at `batch` against the reference: y and the state,
/// read back from the buffer the layer took as its input state.
void runCase(const ssmrt::Layer &layer, const StepSpec &spec, int64_t batch,
             Tally &tally) {
  ScanData data =
      makeInputs(spec, batch, seedOf(spec.name + "/" + std::to_string(batch)));
  RefState want{data.values.at("state"), absolute(data.values.at("state"))};
  DeviceTensors device(spec, data);
  launchAndWait(layer, device);
  device.downloadOutputs(data);
  const RefStep ref = referenceStep(spec, data, want);
  report(caseName(spec, batch),
         {compare("y", data.values.at("y"), ref.y, ref.y, ref.yMag, spec.dtype,
                  shapeOf(spec, "y", batch), 1.0, kEps),
          compare("state", data.values.at("state"), want.state, want.state,
                  want.mag, SSMRT_F32, shapeOf(spec, "state", batch), 1.0,
                  kStateEps)},
         tally);
}

/// kChainSteps steps of `spec` at `batch` on one device state, updated in
/// place by each launch, with new x, delta, B, C, z at every step and the
/// same weights (A, D, delta_bias); y of every step and the final state
/// against as many reference steps.
void runChain(const ssmrt::Layer &layer, const StepSpec &spec, int64_t batch,
              Tally &tally) {
  const std::vector<TensorDesc> tensors = stepTensors(spec);
  // The weights: the inputs without a batch dimension.
  auto isWeight = [](const TensorDesc &t) {
    return std::find(t.shape.begin(), t.shape.end(), kBatchDim) ==
           t.shape.end();
  };
  std::vector<ScanData> steps;
  for (int k = 0; k < kChainSteps; ++k) {
    steps.push_back(
        makeInputs(spec, batch,
                   seedOf(spec.name + "/chain/" + std::to_string(batch) + "/" +
                          std::to_string(k))));
    for (const TensorDesc &t : tensors)
      if (isWeight(t))
        steps[k].values[t.name] = steps[0].values.at(t.name);
  }

  RefState want{steps[0].values.at("state"),
                absolute(steps[0].values.at("state"))};
  DeviceTensors device(spec, steps[0]);
  std::vector<double> gotY, wantY, wantYMag;
  for (int k = 0; k < kChainSteps; ++k) {
    if (k > 0) {
      for (const TensorDesc &t : tensors)
        if (t.role == Role::Input && !isWeight(t))
          device.upload(t.name, steps[k].values.at(t.name));
      device.poisonOutputs();
    }
    launchAndWait(layer, device);
    const std::vector<double> y = device.download("y");
    const RefStep ref = referenceStep(spec, steps[k], want);
    gotY.insert(gotY.end(), y.begin(), y.end());
    wantY.insert(wantY.end(), ref.y.begin(), ref.y.end());
    wantYMag.insert(wantYMag.end(), ref.yMag.begin(), ref.yMag.end());
  }

  // y of all steps as one [step, ...y shape] tensor.
  std::vector<int64_t> yShape = shapeOf(spec, "y", batch);
  yShape.insert(yShape.begin(), kChainSteps);
  report(caseName(spec, batch, " x" + std::to_string(kChainSteps)),
         {compare("y", gotY, wantY, wantY, wantYMag, spec.dtype, yShape, 1.0,
                  kEps + (kChainSteps - 1) * kStateEps),
          compare("state", device.download("state"), want.state, want.state,
                  want.mag, SSMRT_F32, shapeOf(spec, "state", batch), 1.0,
                  kChainSteps * kStateEps)},
         tally);
}

/// Every case of one layer.
void runLayer(const ssmrt::Layer &layer, const StepSpec &spec,
              const Options &options, Tally &tally) {
  const std::vector<int64_t> batches =
      options.quick ? std::vector<int64_t>{3} : std::vector<int64_t>{1, 3, 64};
  for (int64_t batch : batches)
    guarded(caseName(spec, batch), tally,
            [&] { runCase(layer, spec, batch, tally); });
  const int64_t batch = batches.back();
  guarded(caseName(spec, batch, " x" + std::to_string(kChainSteps)), tally,
          [&] { runChain(layer, spec, batch, tally); });
}

/// Every decode-step layer of one spec file.
void runSpec(const std::string &path, const Options &options, Tally &tally) {
  runSpecLayers(path, options, tally, &SpecFile::steps, runLayer);
}

} // namespace

int main(int argc, char **argv) {
  return runGpuTestSuite(
      argc, argv, {"ssmc GPU decode-step tests", "scan_step", "B=3", runSpec});
}
