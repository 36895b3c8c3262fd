//===- ScanTest.cpp - GPU correctness test of the selective scan ----------===//
//
// Runs every selective-scan layer of the specs in test/gpu/specs (StepTest.cpp
// runs the decode steps there), compiled ahead of time by build_kernels.sh,
// through libssmrt on the GPU and compares its outputs with
// the fp64 reference (ssmc::ref::selectiveScan, or ssmc::ref::crossScan2d for
// a VMamba cross scan) on random inputs, for several batch sizes and lengths,
// including lengths that end in a partial tile and a state continuation split
// over two launches. A cross scan takes one length, its H·W, and runs there
// only, plus one launch at H·W + 1 that libssmrt must refuse. Prints one line
// per case and a final "N passed, N failed"; exits non-zero if a case failed.
// Without a driver or GPU it says so and exits 0, or 2 with --require-gpu.
//
// Tolerances. Each output element is checked on its own against
//   |gpu - ref| <= r * |ref| + eps * mag,
// where mag is the same scan run on |u|, |B|, |C|, |D|, |h0| (then |y|): the
// sum of the magnitudes of all terms that built the element. Rounding errors
// are relative to those terms, not to their sum, which can cancel to nearly
// zero; a test relative to |ref| or to rms(ref) alone would either fail a
// correct kernel on cancelled elements or pass a wrong one on large ones.
// - eps = 1e-4 for the fp32 arithmetic of every layer (inputs are exact on
//   both sides, state and accumulation are fp32, REFERENCE.md §9). Each step
//   h = exp(ΔA)·h + Δ·B·u costs one ex2.approx (relative error <= 2^-22) plus
//   two fp32 roundings (2^-24 each), so the relative error of a state grows by
//   about 3.6e-7 per step it survives. With these inputs Δ averages >= 0.05
//   and |A| >= 1/e, so a term fades within ~50 steps: ~2e-5. The softplus
//   (one ex2.approx and a polynomial: <= 2e-6 relative to Δ), the sum over N
//   states, the skip and silu add less. Errors do not grow with L beyond
//   that memory.
// - r is the rounding of the output to its dtype: 0 for f32, 2^-8 for bf16
//   and 2^-11 for f16 (half an ulp, round to nearest even); f16 subnormals
//   add 2^-25. A bf16 output thus passes within 2^-8·|ref| + 1e-4·mag: the
//   "1e-2·rms(ref)" of REFERENCE.md §9 cannot be a per-element bound, since
//   rounding alone exceeds it wherever |ref| > 2.56·rms(ref).
// - A bidirectional layer adds r·mag: its kernel stores the forward sums in
//   y's dtype and adds the backward ones to them, rounding the forward part
//   once more (Vim's own path, out + out_b.flip(-1) in bf16, does too).
// - A cross scan (four directions) adds 3·r·mag the same way: its kernel
//   stores each direction's partial sum in y's dtype and re-reads it for the
//   next, so the running sum is rounded three times before the final store.
//   A running sum of k < 4 directions is at most the magnitude of its own
//   terms, which mag (summed over all four directions, times |silu(z)| as
//   the sum is) bounds whether the gate is applied before or after the
//   rounding; each such rounding thus costs at most r·mag. In general K
//   directions get (K - 1)·r·mag. f16 subnormal partials would add 2^-25
//   each, far below eps·mag at these inputs' magnitudes.
// - A layer with a conv before the scan (u read through it) compares with
//   the fp64 conv then the fp64 scan. The kernel sums the K taps in fp32 and
//   takes the silu with ex2.approx and a divide: errors of a few 2^-24 of
//   Σ|w·x| + |bias|, which is what mag's u is (the conv of the absolute
//   values, without the silu, which does not grow a value): within eps.
//   A 16-bit layer takes that silu's sigmoid as (1 + tanh.approx(s/2)) / 2
//   (one SFU op, not two): tanh.approx errs by at most 2^-11 relative, so
//   the sigmoid by 2^-12 absolute and u = s·sigmoid(s) by 2^-12·|s| <=
//   2^-12·mag(u). u enters the state and y linearly, so y and last_state
//   get 2^-12·mag more (convSiluError). The unfused path is no better: it
//   stores u in the layer's dtype, rounding it by 2^-9 (bf16).
// - last_state uses eps·max(1, sqrt(L/2048)): a kernel that splits the
//   sequence into chunks hands the state across L/chunk boundaries, each an
//   fp32 combine whose independent rounding errors add up like a random walk.
// The printed error is max((|gpu - ref| - r·|ref|) / mag), against eps.
//
//===----------------------------------------------------------------------===//

#include "GpuTestMain.h"
#include "LayerInputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// The error budget of the fp32 arithmetic, relative to the magnitude.
constexpr double kEps = 1e-4;
/// The spec whose layer also runs at L = 65536 (B = 1).
constexpr const char *kLongLayer = "gpu_bf16_cf_all";
/// The lengths of the state continuation test: two launches, then one.
constexpr int64_t kSplitLen = 2049;
constexpr int64_t kSplitAt = 1000;

/// The fp64 results of one launch and their magnitudes (see the file header).
struct Expected {
  std::vector<double> y, lastState, yMag, lastStateMag;
};

/// The scan's input of a layer with a conv before it: the fp64 conv of u
/// (the conv's input) with its weights, bias and silu; with `magnitude`, the
/// conv of their absolute values without the silu, which bounds both |u| and
/// the scale of the kernel's f32 rounding of the taps' sum.
std::vector<double> convolvedInput(const ScanSpec &spec, const ScanData &data,
                                   bool magnitude) {
  auto values = [&](const char *name) {
    const std::vector<double> &v = data.values.at(name);
    return magnitude ? absolute(v) : v;
  };
  const std::vector<double> x = values("u"), w = values("conv_weight");
  const std::vector<double> bias =
      spec.convBias ? values("conv_bias") : std::vector<double>();
  std::vector<double> out(x.size());
  ref::Conv1dArgs args;
  args.batch = data.batch;
  args.channels = spec.dim;
  args.seqlen = data.len;
  args.width = spec.convWidth;
  args.layout = spec.layout;
  args.x = x.data();
  args.w = w.data();
  args.bias = spec.convBias ? bias.data() : nullptr;
  args.silu = spec.convSilu && !magnitude;
  args.out = out.data();
  ref::causalConv1d(args);
  return out;
}

/// Runs the reference on `data` and on its absolute values, one batch row per
/// task: the scan is independent across rows.
Expected runReference(const ScanSpec &spec, const ScanData &rawData) {
  // With a conv before the scan, the scan reads the conv's output as u.
  ScanData convolved;
  if (spec.convWidth) {
    convolved = rawData;
    convolved.values["u"] = convolvedInput(spec, rawData, false);
  }
  const ScanData &data = spec.convWidth ? convolved : rawData;
  const int64_t batch = data.batch, len = data.len, dim = spec.dim,
                n = spec.dstate, inDim = spec.directions() * dim;
  if (spec.crossScan() && len != spec.crossLen())
    throw std::logic_error("a cross scan runs at L = H·W only");
  const int64_t seqSize = dim * len, uSize = spec.uChannels() * len,
                inSeqSize = inDim * len, stateSize = inDim * n;
  const int64_t bcSize = spec.bc == ref::BCKind::Shared ? n * len
                         : spec.bc == ref::BCKind::Grouped
                             ? spec.directions() * spec.ngroups * n * len
                             : 0;
  // A conv's output u takes its magnitude from the conv's inputs.
  std::map<std::string, std::vector<double>> magnitudes;
  for (const std::string name : {"u", "B", "C", "D", "h0"}) {
    auto it = data.values.find(name);
    if (it == data.values.end())
      continue;
    magnitudes[name] = name == "u" && spec.convWidth
                           ? convolvedInput(spec, rawData, true)
                           : absolute(it->second);
  }
  Expected out;
  out.y.resize(batch * seqSize);
  out.yMag.resize(batch * seqSize);
  if (spec.finalState) {
    out.lastState.resize(batch * stateSize);
    out.lastStateMag.resize(batch * stateSize);
  }

  ref::SelectiveScanDims dims;
  dims.batch = 1;
  dims.dim = dim;
  dims.seqlen = len;
  dims.dstate = n;
  dims.ngroups = spec.ngroups;
  ref::CrossScanDims crossDims;
  crossDims.batch = 1;
  crossDims.height = spec.crossHeight;
  crossDims.width = spec.crossWidth;
  crossDims.dim = dim;
  crossDims.dstate = n;
  crossDims.ngroups = spec.ngroups;
  ref::SelectiveScanOptions opts;
  opts.layout = spec.layout;
  opts.bKind = opts.cKind = spec.bc;
  opts.reverse = spec.reverse;
  opts.bidirectional = spec.bidirectional;
  opts.deltaSoftplus = spec.deltaSoftplus;

  parallelFor(2 * batch, [&](int64_t task) {
    const int64_t b = task / 2;
    const bool magnitude = task % 2;
    // The tensor `name` of this task at `offset`, or null if absent.
    auto input = [&](const char *name, int64_t offset) -> const double * {
      if (magnitude && magnitudes.count(name))
        return magnitudes.at(name).data() + offset;
      auto it = data.values.find(name);
      return it == data.values.end() ? nullptr : it->second.data() + offset;
    };
    ref::SelectiveScanArgs args;
    args.u = input("u", b * uSize);
    args.delta = input("delta", b * inSeqSize);
    args.A = input("A", 0);
    args.B = input("B", b * bcSize);
    args.C = input("C", b * bcSize);
    args.D = input("D", 0);
    args.z = input("z", b * seqSize);
    args.deltaBias = input("delta_bias", 0);
    args.h0 = input("h0", b * stateSize);
    args.y = (magnitude ? out.yMag : out.y).data() + b * seqSize;
    if (spec.finalState)
      args.lastState =
          (magnitude ? out.lastStateMag : out.lastState).data() + b * stateSize;
    if (spec.crossScan())
      ref::crossScan2d(crossDims, opts, args);
    else
      ref::selectiveScan(dims, opts, args);
  });
  // silu(z) may be negative; the magnitude is its absolute value.
  for (double &v : out.yMag)
    v = std::fabs(v);
  return out;
}

/// The tolerance of last_state after `len` steps (see the file header).
double stateTolerance(int64_t len) {
  return kEps * std::max(1.0, std::sqrt(len / 2048.0));
}

/// The error of the one-SFU silu of a 16-bit layer's conv, relative to mag
/// (see the file header).
double convSiluError(const ScanSpec &spec) {
  return spec.convWidth && spec.convSilu && spec.dtype != SSMRT_F32 ? 0x1p-12
                                                                    : 0.0;
}

/// Launches `layer` on the inputs of `data` and stores its outputs there.
void launch(const ssmrt::Layer &layer, const ScanSpec &spec, ScanData &data) {
  DeviceTensors device(spec, data);
  launchAndWait(layer, device);
  device.downloadOutputs(data);
}

/// The shape of tensor `name` of `spec` for `batch` x `len`.
std::vector<int64_t> shapeOf(const ScanSpec &spec, const std::string &name,
                             int64_t batch, int64_t len) {
  return tensorShape(layerTensors(spec), name, batch, len);
}

/// Checks y and last_state of `got` against the reference.
std::vector<Check> checkOutputs(const ScanSpec &spec, const ScanData &got,
                                const Expected &want) {
  // One more rounding of the running sum per direction after the first.
  const double yTolerance =
      kEps + convSiluError(spec) +
      double(spec.directions() - 1) * outputRounding(spec.dtype);
  std::vector<Check> checks = {
      compare("y", got.values.at("y"), want.y, want.y, want.yMag, spec.dtype,
              shapeOf(spec, "y", got.batch, got.len), 1.0, yTolerance)};
  if (spec.finalState)
    checks.push_back(
        compare("last_state", got.values.at("last_state"), want.lastState,
                want.lastState, want.lastStateMag, SSMRT_F32,
                shapeOf(spec, "last_state", got.batch, got.len), 1.0,
                stateTolerance(got.len) + convSiluError(spec)));
  return checks;
}

/// "<layer> B=<batch> L=<len>".
std::string caseName(const ScanSpec &spec, int64_t batch,
                     const std::string &len) {
  return spec.name + " B=" + std::to_string(batch) + " L=" + len;
}

/// One launch of `spec` at (batch, len) against the reference.
void runCase(const ssmrt::Layer &layer, const ScanSpec &spec, int64_t batch,
             int64_t len, Tally &tally) {
  ScanData data = makeInputs(spec, batch, len,
                             seedOf(spec.name + "/" + std::to_string(batch) +
                                    "/" + std::to_string(len)));
  launch(layer, spec, data);
  report(caseName(spec, batch, std::to_string(len)),
         checkOutputs(spec, data, runReference(spec, data)), tally);
}

/// Time steps [t0, t1) of `values`, whose length axis is `axis` of `shape`.
std::vector<double> sliceLen(const std::vector<double> &values,
                             const std::vector<int64_t> &shape, size_t axis,
                             int64_t t0, int64_t t1) {
  const int64_t outer = numElements({shape.begin(), shape.begin() + axis});
  const int64_t inner = numElements({shape.begin() + axis + 1, shape.end()});
  const int64_t len = shape[axis];
  std::vector<double> slice;
  slice.reserve(outer * (t1 - t0) * inner);
  for (int64_t o = 0; o < outer; ++o)
    slice.insert(slice.end(), values.begin() + (o * len + t0) * inner,
                 values.begin() + (o * len + t1) * inner);
  return slice;
}

/// Writes `slice` (time steps [t0, ...)) into `values`, the inverse of
/// sliceLen.
void pasteLen(std::vector<double> &values, const std::vector<int64_t> &shape,
              size_t axis, int64_t t0, const std::vector<double> &slice) {
  const int64_t outer = numElements({shape.begin(), shape.begin() + axis});
  const int64_t inner = numElements({shape.begin() + axis + 1, shape.end()});
  const int64_t len = shape[axis];
  const int64_t part = static_cast<int64_t>(slice.size()) / (outer * inner);
  for (int64_t o = 0; o < outer; ++o)
    std::copy(slice.begin() + o * part * inner,
              slice.begin() + (o + 1) * part * inner,
              values.begin() + (o * len + t0) * inner);
}

/// The position of the length symbol in `t`, or npos.
size_t lenAxis(const TensorDesc &t) {
  auto it = std::find(t.shape.begin(), t.shape.end(), kLenDim);
  return it == t.shape.end() ? std::string::npos : it - t.shape.begin();
}

/// State continuation: the scan over kSplitLen steps as two launches, the
/// second starting from the first's last_state (in scan order, so the later
/// part goes first when reversed), against one launch and the reference.
void runContinuation(const ssmrt::Layer &layer, const ScanSpec &spec,
                     int64_t batch, Tally &tally) {
  const int64_t len = kSplitLen;
  ScanData full = makeInputs(
      spec, batch, len, seedOf(spec.name + "/split/" + std::to_string(batch)));
  const Expected want = runReference(spec, full);
  launch(layer, spec, full);

  std::vector<std::pair<int64_t, int64_t>> parts = {{0, kSplitAt},
                                                    {kSplitAt, len}};
  if (spec.reverse)
    std::swap(parts[0], parts[1]);
  const std::vector<TensorDesc> tensors = layerTensors(spec);
  ScanData stitched = full;
  for (const auto &[t0, t1] : parts) {
    ScanData part;
    part.batch = batch;
    part.len = t1 - t0;
    for (const TensorDesc &t : tensors) {
      if (!t.read())
        continue;
      const size_t axis = lenAxis(t);
      part.values[t.name] =
          axis == std::string::npos
              ? stitched.values.at(t.name)
              : sliceLen(stitched.values.at(t.name),
                         bindShape(t.shape, batch, len), axis, t0, t1);
    }
    launch(layer, spec, part);
    for (const TensorDesc &t : tensors) {
      if (t.name == "y")
        pasteLen(stitched.values["y"], bindShape(t.shape, batch, len),
                 lenAxis(t), t0, part.values.at("y"));
      else if (t.name == "last_state")
        stitched.values["h0"] = stitched.values["last_state"] =
            part.values.at("last_state");
    }
  }

  std::vector<Check> checks = checkOutputs(spec, stitched, want);
  checks.push_back(compare("y_vs_1_launch", stitched.values.at("y"),
                           full.values.at("y"), want.y, want.yMag, spec.dtype,
                           shapeOf(spec, "y", batch, len), 2.0, 2 * kEps));
  checks.push_back(
      compare("last_state_vs_1_launch", stitched.values.at("last_state"),
              full.values.at("last_state"), want.lastState, want.lastStateMag,
              SSMRT_F32, shapeOf(spec, "last_state", batch, len), 2.0,
              2 * stateTolerance(len)));
  report(caseName(spec, batch,
                  std::to_string(parts[0].second - parts[0].first) + "+" +
                      std::to_string(parts[1].second - parts[1].first)),
         checks, tally);
}

/// A cross scan launched at L = H·W + 1 (inputs and outputs of that length):
/// libssmrt's shape check must refuse it before anything runs.
void runWrongLength(const ssmrt::Layer &layer, const ScanSpec &spec,
                    Tally &tally) {
  const int64_t batch = 1, len = spec.crossLen() + 1;
  const std::string name = caseName(spec, batch, std::to_string(len));
  const std::vector<TensorDesc> tensors = layerTensors(spec, kLenDim);
  DeviceTensors device(tensors, makeInputs(tensors, spec.deltaSoftplus, batch,
                                           len, seedOf(spec.name + "/wrong")));
  try {
    layer.launch(device.tensors());
  } catch (const ssmrt::Error &error) {
    if (error.status() == SSMRT_ERROR_CUDA)
      throw CudaError(error.what());
    if (error.status() != SSMRT_ERROR_SHAPE)
      throw;
    std::printf("PASS %s  refused: %s\n", name.c_str(), error.what());
    std::fflush(stdout);
    ++tally.passed;
    return;
  }
  check(driver().ctxSynchronize(), "cuCtxSynchronize after the launch");
  std::printf("FAIL %s  launched at a length other than H·W = %lld\n",
              name.c_str(), static_cast<long long>(spec.crossLen()));
  std::fflush(stdout);
  ++tally.failed;
}

/// Every case of one layer.
void runLayer(const ssmrt::Layer &layer, const ScanSpec &spec,
              const Options &options, Tally &tally) {
  const std::vector<int64_t> batches =
      options.quick ? std::vector<int64_t>{2} : std::vector<int64_t>{1, 3};
  // A cross scan's length is static: H·W and no other.
  const std::vector<int64_t> lengths =
      spec.crossScan() ? std::vector<int64_t>{spec.crossLen()}
      : options.quick  ? std::vector<int64_t>{1, 7, 2049}
                       : std::vector<int64_t>{1, 7, 2048, 2049};
  for (int64_t batch : batches)
    for (int64_t len : lengths)
      guarded(caseName(spec, batch, std::to_string(len)), tally,
              [&] { runCase(layer, spec, batch, len, tally); });
  if (spec.crossScan()) {
    guarded(caseName(spec, 1, std::to_string(spec.crossLen() + 1)), tally,
            [&] { runWrongLength(layer, spec, tally); });
    return;
  }
  if (!options.quick && spec.name == kLongLayer)
    guarded(caseName(spec, 1, "65536"), tally,
            [&] { runCase(layer, spec, 1, 65536, tally); });
  // A bidirectional layer's backward state runs against the split (and a
  // cross scan's length cannot be split); a conv before the scan starts
  // each launch from zeros, as it has no conv state to continue from.
  if (spec.initialState && spec.finalState && !spec.bidirectional &&
      !spec.convWidth) {
    const int64_t batch = batches.back();
    guarded(caseName(spec, batch, "split"), tally,
            [&] { runContinuation(layer, spec, batch, tally); });
  }
}

/// Every selective-scan layer of one spec file.
void runSpec(const std::string &path, const Options &options, Tally &tally) {
  runSpecLayers(path, options, tally, &SpecFile::layers, runLayer);
}

} // namespace

int main(int argc, char **argv) {
  return runGpuTestSuite(argc, argv,
                         {"ssmc GPU tests", "selective_scan",
                          "B=2, L 1/7/2049, cross scans at H*W", runSpec});
}
