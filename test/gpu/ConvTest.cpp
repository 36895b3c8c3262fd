//===- ConvTest.cpp - GPU correctness test of the causal conv1d -----------===//
//
// Runs every causal depthwise conv1d layer ("op": "causal_conv1d") of the
// specs in test/gpu/specs (the conv_*.json files; ScanTest.cpp and
// StepTest.cpp run the others there), compiled ahead of time by
// build_kernels.sh, through libssmrt on the GPU and compares y and
// final_state with the fp64 reference (ssmc::ref::causalConv1d) on random
// inputs, for several batch sizes and lengths: shorter than the window,
// ending in a partial tile, and long. Layers with both states also run L =
// kSplitLen as two launches, the second starting from the first's
// final_state. Channel-first layers also run one launch of more than 2^31
// elements (not with --quick), where the kernel computes its offsets in 64
// bits rather than 32, checked on windows (runWide); layers with both states
// run kDecodeSteps one-step launches, each from the state the one before
// left, against one reference run (runDecode). Every L = 1 launch of a
// layer with a conv state (C a multiple of 4) runs its decode-step kernel,
// which libssmrt picks by the manifest's "when"; a channel-first layer's
// final_state comes from its final-state kernel. Prints one line per case
// and a final "N passed, N failed"; exits non-zero if a case failed. Without a
// driver or GPU it says so and exits 0, or 2 with --require-gpu.
//
// Tolerances.
// - y: as in ScanTest.cpp, |gpu - ref| <= r * |ref| + kEps * mag, where mag
//   is the same conv, without the activation, on |x|, |w|, |bias|, |init|:
//   the sum of the magnitudes of the K + 1 <= 5 terms of the pre-activation
//   sum. An fp32 sum of them, in any order and with or without FMA, rounds at
//   most 5 times, each <= 2^-24 of a partial sum <= mag: 3e-7·mag. silu
//   (x·sigmoid(x) with ex2.approx and an approximate or exact divide, a few
//   2^-23 relative) adds < 1e-6·|pre| <= 1e-6·mag, and passes the sum's
//   error on times its slope, <= 1.1. So y is within ~1.4e-6·mag of the
//   exact value before its rounding to the output dtype, which r covers (0
//   for f32, 2^-8 for bf16, 2^-11 for f16; f16 subnormals 2^-25). kEps =
//   1e-5 leaves a margin of 7×; an error in the indexing (a wrong tap, time
//   step or channel) moves y by O(1)·mag and fails by orders of magnitude.
// - final_state: a copy of the last K-1 inputs, from x (exact in f32 after
//   the dtype rounding both sides share) or from init when L < K-1. It must
//   match exactly: tolerance 0.
// The printed error is max((|gpu - ref| - r·|ref|) / mag) (mag = |ref| for
// final_state), against its tolerance.
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

/// The error budget of y, relative to its magnitude.
constexpr double kEps = 1e-5;
/// The lengths of the state continuation test: two launches, then one.
constexpr int64_t kSplitLen = 2049;
constexpr int64_t kSplitAt = 1000;

/// One-step launches of the decode case (runDecode).
constexpr int64_t kDecodeSteps = 16;

/// Elements of x in the wide case: past the largest grid span for which the
/// channel-first kernel computes offsets in 32 bits (2^31 - 2^16), so that
/// its 64-bit body runs.
constexpr int64_t kWideElements = (int64_t(1) << 31) + 4099;
/// Flat elements the wide case checks at each of its three places.
constexpr int64_t kWideSpan = 8192;

/// The fp64 results of one launch and the magnitude of y (see the header).
struct Expected {
  std::vector<double> y, yMag, finalState;
};

/// The shape of tensor `name` of `spec` for `batch` x `len`.
std::vector<int64_t> shapeOf(const ConvSpec &spec, const std::string &name,
                             int64_t batch, int64_t len) {
  return tensorShape(convTensors(spec), name, batch, len);
}

/// Runs the reference on `data`, and without the activation on its absolute
/// values for the magnitude of y.
Expected runReference(const ConvSpec &spec, const ScanData &data) {
  const int64_t ySize = numElements(shapeOf(spec, "y", data.batch, data.len));
  Expected want;
  want.y.resize(ySize);
  want.yMag.resize(ySize);
  if (spec.finalState)
    want.finalState.resize(data.batch * spec.channels * (spec.width - 1));
  std::map<std::string, std::vector<double>> magnitudes;
  for (const auto &[name, values] : data.values)
    magnitudes[name] = absolute(values);
  for (const bool magnitude : {false, true}) {
    const auto &values = magnitude ? magnitudes : data.values;
    auto in = [&](const char *name) -> const double * {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.data();
    };
    ref::Conv1dArgs args;
    args.batch = data.batch;
    args.channels = spec.channels;
    args.seqlen = data.len;
    args.width = spec.width;
    args.layout = spec.layout;
    args.x = in("x");
    args.w = in("weight");
    args.bias = in("bias");
    args.initialState = in(spec.initName());
    args.silu = spec.silu && !magnitude;
    args.out = (magnitude ? want.yMag : want.y).data();
    args.finalState =
        spec.finalState && !magnitude ? want.finalState.data() : nullptr;
    ref::causalConv1d(args);
  }
  return want;
}

/// "<layer> B=<batch> L=<len><suffix>".
std::string caseName(const ConvSpec &spec, int64_t batch, int64_t len,
                     const std::string &suffix = "") {
  return spec.name + " B=" + std::to_string(batch) +
         " L=" + std::to_string(len) + suffix;
}

/// y of a launch against the reference.
Check compareY(const std::string &label, const ConvSpec &spec,
               const std::vector<double> &got, const std::vector<double> &want,
               const std::vector<double> &mag, int64_t batch, int64_t len) {
  return compare(label, got, want, want, mag, spec.dtype,
                 shapeOf(spec, "y", batch, len), 1.0, kEps);
}

/// final_state against the reference: an exact copy.
Check compareState(const ConvSpec &spec, const std::vector<double> &got,
                   const std::vector<double> &want, int64_t batch) {
  return compare("final_state", got, want, want, absolute(want), SSMRT_F32,
                 shapeOf(spec, spec.finalName(), batch, 1), 1.0, 0.0);
}

/// One launch of `spec` at `batch` x `len` against the reference.
void runCase(const ssmrt::Layer &layer, const ConvSpec &spec, int64_t batch,
             int64_t len, Tally &tally) {
  ScanData data = makeInputs(convTensors(spec), false, batch, len,
                             seedOf(spec.name + "/" + std::to_string(batch) +
                                    "/" + std::to_string(len)));
  // The reference first: an in-place launch overwrites the initial state.
  const Expected want = runReference(spec, data);
  DeviceTensors device(convTensors(spec), data);
  launchAndWait(layer, device);
  device.downloadOutputs(data);
  std::vector<Check> checks = {
      compareY("y", spec, data.values.at("y"), want.y, want.yMag, batch, len)};
  if (spec.finalState)
    checks.push_back(compareState(spec, data.values.at(spec.finalName()),
                                  want.finalState, batch));
  report(caseName(spec, batch, len), checks, tally);
}

/// Time steps [begin, end) of the [B,C,L] or [B,L,C] tensor `values`.
std::vector<double> sliceLen(const ConvSpec &spec,
                             const std::vector<double> &values, int64_t batch,
                             int64_t len, int64_t begin, int64_t end) {
  const int64_t c = spec.channels;
  std::vector<double> part;
  part.reserve(batch * c * (end - begin));
  for (int64_t b = 0; b < batch; ++b) {
    if (spec.layout == ref::Layout::ChannelFirst) {
      for (int64_t ch = 0; ch < c; ++ch) {
        const auto row = values.begin() + (b * c + ch) * len;
        part.insert(part.end(), row + begin, row + end);
      }
    } else {
      const auto first = values.begin() + (b * len + begin) * c;
      part.insert(part.end(), first, first + (end - begin) * c);
    }
  }
  return part;
}

/// kSplitLen steps of `spec` at `batch` as two launches, the second starting
/// from the final_state of the first (read back and passed as its init):
/// both parts of y and the last final_state against one reference run.
void runContinuation(const ssmrt::Layer &layer, const ConvSpec &spec,
                     int64_t batch, Tally &tally) {
  const std::vector<TensorDesc> tensors = convTensors(spec);
  const ScanData whole =
      makeInputs(tensors, false, batch, kSplitLen,
                 seedOf(spec.name + "/split/" + std::to_string(batch)));
  const Expected want = runReference(spec, whole);

  std::vector<Check> checks;
  std::vector<double> state = whole.values.at(spec.initName());
  const int64_t bounds[] = {0, kSplitAt, kSplitLen};
  for (int part = 0; part < 2; ++part) {
    const int64_t begin = bounds[part], end = bounds[part + 1];
    ScanData data;
    data.batch = batch;
    data.len = end - begin;
    data.values = whole.values;
    data.values["x"] =
        sliceLen(spec, whole.values.at("x"), batch, kSplitLen, begin, end);
    data.values[spec.initName()] = state;
    DeviceTensors device(tensors, data);
    launchAndWait(layer, device);
    checks.push_back(
        compareY("y" + std::to_string(part + 1), spec, device.download("y"),
                 sliceLen(spec, want.y, batch, kSplitLen, begin, end),
                 sliceLen(spec, want.yMag, batch, kSplitLen, begin, end), batch,
                 data.len));
    state = device.download(spec.finalName());
  }
  checks.push_back(compareState(spec, state, want.finalState, batch));
  report(caseName(spec, batch, kSplitLen,
                  " split " + std::to_string(kSplitAt) + "+" +
                      std::to_string(kSplitLen - kSplitAt)),
         checks, tally);
}

/// kDecodeSteps launches of one step of a layer with both conv states, each
/// from the state the one before left (in the buffer, where it is updated
/// in place; else copied from final_state to init, as a decode loop passes
/// it on), against one reference run of kDecodeSteps steps: every step's y
/// and the last state.
void runDecode(const ssmrt::Layer &layer, const ConvSpec &spec, int64_t batch,
               Tally &tally) {
  const std::vector<TensorDesc> tensors = convTensors(spec);
  const ScanData whole =
      makeInputs(tensors, false, batch, kDecodeSteps,
                 seedOf(spec.name + "/decode/" + std::to_string(batch)));
  const Expected want = runReference(spec, whole);
  ScanData step = whole;
  step.len = 1;
  step.values["x"] =
      sliceLen(spec, whole.values.at("x"), batch, kDecodeSteps, 0, 1);
  DeviceTensors device(tensors, step);
  std::vector<Check> checks;
  for (int64_t t = 0; t < kDecodeSteps; ++t) {
    if (t > 0) {
      device.upload("x", sliceLen(spec, whole.values.at("x"), batch,
                                  kDecodeSteps, t, t + 1));
      if (!spec.stateInPlace)
        device.upload(spec.initName(), device.download(spec.finalName()));
    }
    launchAndWait(layer, device);
    checks.push_back(compareY(
        "y" + std::to_string(t), spec, device.download("y"),
        sliceLen(spec, want.y, batch, kDecodeSteps, t, t + 1),
        sliceLen(spec, want.yMag, batch, kDecodeSteps, t, t + 1), batch, 1));
  }
  checks.push_back(compareState(spec, device.download(spec.finalName()),
                                want.finalState, batch));
  // One line: the worst step's y and the state.
  auto worst = std::max_element(
      checks.begin(), checks.end() - 1,
      [](const Check &a, const Check &b) { return a.error < b.error; });
  report(caseName(spec, batch, 1,
                  " x " + std::to_string(kDecodeSteps) + " decode steps"),
         {*worst, checks.back()}, tally);
}

/// x of the wide case in its dtype: a hash of each flat index mapped to
/// [-2, 2) and rounded, computed in blocks in parallel (an fp64 copy would
/// take 17 GB).
std::vector<uint8_t> wideInput(int64_t count, ssmrt_dtype dtype) {
  constexpr int64_t blockSize = int64_t(1) << 20;
  const size_t bytes = ssmrt_dtype_size(dtype);
  std::vector<uint8_t> encoded(count * bytes);
  parallelFor((count + blockSize - 1) / blockSize, [&](int64_t block) {
    const int64_t begin = block * blockSize;
    std::vector<double> values(std::min(count, begin + blockSize) - begin);
    for (size_t i = 0; i < values.size(); ++i) {
      uint64_t h = (begin + i) * 0x9e3779b97f4a7c15ull; // splitmix64
      h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
      h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
      h ^= h >> 31;
      values[i] = quantize(4.0 * std::ldexp(double(h >> 11), -53) - 2.0, dtype);
    }
    const std::vector<uint8_t> part = encode(values, dtype);
    std::copy(part.begin(), part.end(), encoded.begin() + begin * bytes);
  });
  return encoded;
}

/// One channel-first launch of more than 2^31 elements (B = 2), which takes
/// the kernel's 64-bit body. y is checked against the reference on the
/// kWideSpan flat elements at the start, around 2^31 and at the end, one
/// reference run per row piece (its K-1 earlier inputs as the initial
/// state); final_state is checked whole.
void runWide(const ssmrt::Layer &layer, const ConvSpec &spec, Tally &tally) {
  const int64_t batch = 2, c = spec.channels, k = spec.width;
  const int64_t len = kWideElements / (batch * c) + 1;
  const int64_t total = batch * c * len;
  const std::vector<TensorDesc> tensors = convTensors(spec);
  // The small inputs (weights, bias, init) as for any case; x apart.
  ScanData data = makeInputs(tensors, false, batch, 1, seedOf(spec.name));
  data.len = len;
  const std::vector<uint8_t> x = wideInput(total, spec.dtype);
  DeviceTensors device(tensors, data, {{"x", x}});
  launchAndWait(layer, device);
  const std::vector<uint8_t> y = device.downloadBytes("y");

  const size_t bytes = ssmrt_dtype_size(spec.dtype);
  auto slice = [&](const std::vector<uint8_t> &tensor, int64_t at, int64_t n) {
    return decode(std::vector<uint8_t>(tensor.begin() + at * bytes,
                                       tensor.begin() + (at + n) * bytes),
                  spec.dtype);
  };
  const double *init =
      spec.initialState ? data.values.at(spec.initName()).data() : nullptr;
  ConvSpec pieceSpec = spec;
  pieceSpec.channels = 1;
  pieceSpec.initialState = true;
  std::vector<double> got, want, mag;
  for (int64_t start :
       {int64_t(0), (int64_t(1) << 31) - kWideSpan / 2, total - kWideSpan}) {
    for (int64_t at = start; at < start + kWideSpan;) {
      const int64_t row = at / len, t = at % len;
      const int64_t n = std::min(start + kWideSpan - at, len - t);
      // The K-1 inputs before step t: x, or before step 0 the initial state.
      std::vector<double> before(k - 1, 0.0);
      for (int64_t i = 0; i < k - 1; ++i) {
        const int64_t step = t - (k - 1) + i;
        if (step >= 0)
          before[i] = slice(x, row * len + step, 1)[0];
        else if (init)
          before[i] = init[row * (k - 1) + step + (k - 1)];
      }
      // The row piece as a one-channel layer of its own, its K-1 earlier
      // inputs as the initial state.
      ScanData piece;
      piece.batch = 1;
      piece.len = n;
      piece.values["x"] = slice(x, at, n);
      piece.values["weight"].assign(
          data.values.at("weight").begin() + (row % c) * k,
          data.values.at("weight").begin() + (row % c + 1) * k);
      if (spec.bias)
        piece.values["bias"] = {data.values.at("bias")[row % c]};
      piece.values[pieceSpec.initName()] = before;
      const Expected pieceWant = runReference(pieceSpec, piece);
      want.insert(want.end(), pieceWant.y.begin(), pieceWant.y.end());
      mag.insert(mag.end(), pieceWant.yMag.begin(), pieceWant.yMag.end());
      const std::vector<double> part = slice(y, at, n);
      got.insert(got.end(), part.begin(), part.end());
      at += n;
    }
  }
  std::vector<Check> checks = {compare("y", got, want, want, mag, spec.dtype,
                                       {int64_t(got.size())}, 1.0, kEps)};
  if (spec.finalState) {
    std::vector<double> last;
    for (int64_t row = 0; row < batch * c; ++row) {
      const std::vector<double> tail =
          slice(x, row * len + len - (k - 1), k - 1);
      last.insert(last.end(), tail.begin(), tail.end());
    }
    checks.push_back(
        compareState(spec, device.download(spec.finalName()), last, batch));
  }
  report(caseName(spec, batch, len, " (64-bit offsets)"), checks, tally);
}

/// Every case of one layer.
void runLayer(const ssmrt::Layer &layer, const ConvSpec &spec,
              const Options &options, Tally &tally) {
  const std::vector<int64_t> batches =
      options.quick ? std::vector<int64_t>{3} : std::vector<int64_t>{1, 3};
  const std::vector<int64_t> lengths =
      options.quick ? std::vector<int64_t>{1, 7, 9, 2049}
                    : std::vector<int64_t>{1, 2, 7, 9, 197, 2048, 2049};
  for (int64_t batch : batches)
    for (int64_t len : lengths)
      guarded(caseName(spec, batch, len), tally,
              [&] { runCase(layer, spec, batch, len, tally); });
  if (spec.initialState && spec.finalState) {
    const int64_t batch = batches.back();
    guarded(caseName(spec, batch, kSplitLen, " split"), tally,
            [&] { runContinuation(layer, spec, batch, tally); });
  }
  if (spec.initialState && spec.finalState) {
    const int64_t batch = batches.back();
    guarded(caseName(spec, batch, 1, " decode"), tally,
            [&] { runDecode(layer, spec, batch, tally); });
  }
  if (!options.quick && spec.layout == ref::Layout::ChannelFirst)
    guarded(spec.name + " (64-bit offsets)", tally,
            [&] { runWide(layer, spec, tally); });
}

/// Every conv1d layer of one spec file.
void runSpec(const std::string &path, const Options &options, Tally &tally) {
  runSpecLayers(path, options, tally, &SpecFile::convs, runLayer);
}

} // namespace

int main(int argc, char **argv) {
  return runGpuTestSuite(
      argc, argv,
      {"ssmc GPU conv1d tests", "causal_conv1d", "B=3, L 1/7/9/2049", runSpec});
}
