//===- ReferenceTest.cpp - Tests of the fp64 CPU reference ----------------===//
//
// Hand-computed tiny cases pin the reference to REFERENCE.md; randomized
// cases (fixed seeds) check the identities that tie its functions together:
// chunked SSD == recurrence, prefill == repeated decode steps, reverse ==
// flipped forward, layouts and B/C sharing kinds agree, and a split sequence
// continues exactly from the carried state.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Reference/Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace ssmc::ref;

namespace {

using Vec = std::vector<double>;

/// Deterministic random source for the property tests.
struct Rng {
  std::mt19937_64 gen;
  explicit Rng(uint64_t seed) : gen(seed) {}
  /// One value uniform in [lo, hi).
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(gen);
  }
  /// `n` values uniform in [lo, hi).
  Vec uniform(int64_t n, double lo, double hi) {
    Vec v(n);
    for (double &x : v)
      x = uniform(lo, hi);
    return v;
  }
  /// `n` negative decay rates -exp(U(lo, hi)), as A = -exp(A_log).
  Vec negExp(int64_t n, double lo = -1.0, double hi = 1.0) {
    Vec v = uniform(n, lo, hi);
    for (double &x : v)
      x = -std::exp(x);
    return v;
  }
};

/// Largest magnitude in `v`.
double maxAbs(const Vec &v) {
  double m = 0.0;
  for (double x : v)
    m = std::max(m, std::fabs(x));
  return m;
}

/// Expects `got` to equal `want` within `relTol` of want's largest magnitude.
void expectClose(const Vec &got, const Vec &want, double relTol = 1e-10) {
  ASSERT_EQ(got.size(), want.size());
  double diff = 0.0;
  for (size_t i = 0; i < got.size(); ++i)
    diff = std::max(diff, std::fabs(got[i] - want[i]));
  EXPECT_LE(diff,
            relTol * std::max(maxAbs(want), std::numeric_limits<double>::min()))
      << "scale " << maxAbs(want);
}

/// Reverses the middle axis of `v` viewed as [outer, len, inner].
Vec flipMid(const Vec &v, int64_t outer, int64_t len, int64_t inner) {
  Vec r(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < len; ++t)
      std::copy_n(v.begin() + (o * len + t) * inner, inner,
                  r.begin() + (o * len + (len - 1 - t)) * inner);
  return r;
}

/// Steps [t0, t1) of the middle axis of `v` viewed as [outer, len, inner].
Vec sliceMid(const Vec &v, int64_t outer, int64_t len, int64_t inner,
             int64_t t0, int64_t t1) {
  Vec r(outer * (t1 - t0) * inner);
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(v.begin() + (o * len + t0) * inner, (t1 - t0) * inner,
                r.begin() + o * (t1 - t0) * inner);
  return r;
}

/// Writes `part` ([outer, n, inner]) into steps [t0, t0+n) of `v`.
void putMid(Vec &v, const Vec &part, int64_t outer, int64_t len, int64_t inner,
            int64_t t0) {
  const int64_t n = static_cast<int64_t>(part.size()) / (outer * inner);
  for (int64_t o = 0; o < outer; ++o)
    std::copy_n(part.begin() + o * n * inner, n * inner,
                v.begin() + (o * len + t0) * inner);
}

/// Transposes the last two axes of `v` viewed as [outer, rows, cols].
Vec swapLast2(const Vec &v, int64_t outer, int64_t rows, int64_t cols) {
  Vec r(v.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        r[(o * cols + j) * rows + i] = v[(o * rows + i) * cols + j];
  return r;
}

/// Pointer to the data of `v`, or nullptr when `v` is empty (absent).
const double *opt(const Vec &v) { return v.empty() ? nullptr : v.data(); }

//===----------------------------------------------------------------------===//
// Selective scan problems
//===----------------------------------------------------------------------===//

/// Elements of a B or C operand of the given sharing kind.
int64_t bcSize(BCKind kind, const SelectiveScanDims &d) {
  switch (kind) {
  case BCKind::Shared:
    return d.batch * d.dstate * d.seqlen;
  case BCKind::Grouped:
    return d.batch * d.ngroups * d.dstate * d.seqlen;
  case BCKind::PerChannel:
    return d.dim * d.dstate;
  }
  return 0;
}

/// The arguments of a scan over the given operands; the optional ones (skip,
/// gate, bias, states) are left null for the caller to set.
SelectiveScanArgs scanArgs(const Vec &u, const Vec &delta, const Vec &a,
                           const Vec &b, const Vec &c, Vec &y) {
  SelectiveScanArgs args;
  args.u = u.data();
  args.delta = delta.data();
  args.A = a.data();
  args.B = b.data();
  args.C = c.data();
  args.y = y.data();
  return args;
}

/// A selective scan problem; empty optional vectors are absent operands.
struct ScanProblem {
  SelectiveScanDims dims;
  SelectiveScanOptions opts;
  Vec u, delta, a, b, c, d, z, deltaBias, h0;

  /// Runs the scan; returns y and fills `last` with the last state.
  Vec run(Vec &last) const {
    Vec y(u.size());
    last.assign(dims.batch * dims.dim * dims.dstate, 0.0);
    SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
    args.D = opt(d);
    args.z = opt(z);
    args.deltaBias = opt(deltaBias);
    args.h0 = opt(h0);
    args.lastState = last.data();
    selectiveScan(dims, opts, args);
    return y;
  }
};

/// A random scan problem with every optional operand present.
ScanProblem randomScan(Rng &rng, SelectiveScanDims dims,
                       SelectiveScanOptions opts) {
  ScanProblem p;
  p.dims = dims;
  p.opts = opts;
  const int64_t seq = dims.batch * dims.dim * dims.seqlen;
  p.u = rng.uniform(seq, -1.0, 1.0);
  p.delta = rng.uniform(seq, 0.05, 0.6);
  p.a = rng.negExp(dims.dim * dims.dstate);
  p.b = rng.uniform(bcSize(opts.bKind, dims), -1.0, 1.0);
  p.c = rng.uniform(bcSize(opts.cKind, dims), -1.0, 1.0);
  p.d = rng.uniform(dims.dim, -1.0, 1.0);
  p.z = rng.uniform(seq, -2.0, 2.0);
  p.deltaBias = rng.uniform(dims.dim, 0.0, 0.3);
  p.h0 = rng.uniform(dims.batch * dims.dim * dims.dstate, -1.0, 1.0);
  return p;
}

//===----------------------------------------------------------------------===//
// SSD problems
//===----------------------------------------------------------------------===//

/// An SSD problem; empty optional vectors are absent operands.
struct SsdProblem {
  SSDDims dims;
  Vec x, dt, a, b, c, d, z, dtBias, init;
  bool softplus = false;

  /// Runs ssdChunked with `chunk`, or ssdRecurrent when chunk is 0; returns
  /// y and fills `final` with the final state.
  Vec run(int64_t chunk, Vec &final) const {
    Vec y(x.size());
    final.assign(dims.batch * dims.nheads * dims.headdim * dims.dstate, 0.0);
    SSDArgs args;
    args.x = x.data();
    args.dt = dt.data();
    args.A = a.data();
    args.B = b.data();
    args.C = c.data();
    args.D = opt(d);
    args.z = opt(z);
    args.dtBias = opt(dtBias);
    args.initialState = opt(init);
    args.dtSoftplus = softplus;
    args.y = y.data();
    args.finalState = final.data();
    if (chunk == 0)
      ssdRecurrent(dims, args);
    else
      ssdChunked(dims, args, chunk);
    return y;
  }
};

/// A random SSD problem with every optional operand present; `aLo`/`aHi`
/// bound log(-A).
SsdProblem randomSsd(Rng &rng, SSDDims dims, double aLo = -1.0,
                     double aHi = 1.0) {
  SsdProblem p;
  p.dims = dims;
  const int64_t bl = dims.batch * dims.seqlen;
  const int64_t xs = bl * dims.nheads * dims.headdim;
  p.x = rng.uniform(xs, -1.0, 1.0);
  p.dt = rng.uniform(bl * dims.nheads, 0.05, 0.6);
  p.a = rng.negExp(dims.nheads, aLo, aHi);
  p.b = rng.uniform(bl * dims.ngroups * dims.dstate, -1.0, 1.0);
  p.c = rng.uniform(bl * dims.ngroups * dims.dstate, -1.0, 1.0);
  p.d = rng.uniform(dims.nheads, -1.0, 1.0);
  p.z = rng.uniform(xs, -2.0, 2.0);
  p.dtBias = rng.uniform(dims.nheads, -0.5, 0.5);
  p.init = rng.uniform(dims.batch * dims.nheads * dims.headdim * dims.dstate,
                       -1.0, 1.0);
  p.softplus = true;
  return p;
}

//===----------------------------------------------------------------------===//
// Scalar helpers and hand-computed cases
//===----------------------------------------------------------------------===//

TEST(ScalarTest, SoftplusAndSilu) {
  EXPECT_DOUBLE_EQ(softplus(0.0), 0.6931471805599453);
  EXPECT_DOUBLE_EQ(softplus(-3.0), 0.04858735157374206);
  EXPECT_DOUBLE_EQ(softplus(20.0), std::log1p(std::exp(20.0)));
  // Above 20 the input is returned unchanged.
  EXPECT_EQ(softplus(20.5), 20.5);
  EXPECT_EQ(softplus(100.0), 100.0);
  EXPECT_EQ(silu(0.0), 0.0);
  EXPECT_DOUBLE_EQ(silu(2.0), 1.7615941559557646);
}

TEST(SelectiveScanTest, HandComputedTwoSteps) {
  // B = D = N = 1, L = 2; A = -1, Δ = 0.5, u = (2, 4), B = (1, 0.5),
  // C = (3, 1), D = 0.5, z = (1, -0.5):
  // h0 = 0.5·1·2 = 1,                   y0 = (3·1 + 0.5·2)·silu(1)
  // h1 = e^-0.5·1 + 0.5·0.5·4 = e^-0.5+1, y1 = (h1 + 0.5·4)·silu(-0.5).
  const Vec u{2, 4}, delta{0.5, 0.5}, a{-1}, b{1, 0.5}, c{3, 1}, d{0.5},
      z{1, -0.5};
  Vec y(2), last(1);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  args.D = d.data();
  args.z = z.data();
  args.lastState = last.data();
  selectiveScan({1, 1, 2, 1, 1}, {}, args);
  EXPECT_DOUBLE_EQ(y[0], 2.9242343145200196);
  EXPECT_DOUBLE_EQ(y[1], -0.680805998654462);
  EXPECT_DOUBLE_EQ(last[0], 1.6065306597126334);
}

TEST(SelectiveScanTest, HandComputedZohExact) {
  // A = -2, Δ = 0.3, B = 1.5, u = C = 1, h[-1] = 2:
  // B̄ = (1 - e^-0.6)/2·1.5 = 0.338391..., h = e^-0.6·2 + B̄.
  const Vec u{1}, delta{0.3}, a{-2}, b{1.5}, c{1}, h0{2};
  Vec y(1), last(1);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  SelectiveScanOptions opts;
  opts.mode = DiscretizeMode::ZohExact;
  selectiveScan({1, 1, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(y[0], 0.33839127292948024);

  args.h0 = h0.data();
  args.lastState = last.data();
  selectiveScan({1, 1, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(y[0], 1.436014545117533);
  EXPECT_DOUBLE_EQ(last[0], 1.436014545117533);

  // The simplified mode uses B̄ = Δ·B = 0.45 instead.
  opts.mode = DiscretizeMode::ZohSimplified;
  selectiveScan({1, 1, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(y[0], std::exp(-0.6) * 2 + 0.45);
}

TEST(SelectiveScanTest, DeltaBiasAndSoftplus) {
  // From a zero state with u = B = C = 1 the first output is B̄ = Δ itself.
  const Vec u{1}, delta{0.2}, a{-1}, b{1}, c{1}, bias{0.3};
  Vec y(1);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  args.deltaBias = bias.data();
  SelectiveScanOptions opts;
  selectiveScan({1, 1, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(y[0], 0.5);
  opts.deltaSoftplus = true;
  selectiveScan({1, 1, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(y[0], 0.9740769841801067);
}

TEST(SSDTest, HandComputedTwoSteps) {
  // H = P = N = 1, L = 2; x = (1, 2), dt = (0.5, 1), A = -1, B = (2, 1),
  // C = (1, 3), D = 0.1:
  // S0 = 0.5·1·2 = 1,           y0 = 1 + 0.1·1 = 1.1
  // S1 = e^-1·1 + 1·2·1 = e^-1+2, y1 = 3·S1 + 0.1·2.
  SsdProblem p;
  p.dims = {1, 2, 1, 1, 1, 1};
  p.x = {1, 2};
  p.dt = {0.5, 1};
  p.a = {-1};
  p.b = {2, 1};
  p.c = {1, 3};
  p.d = {0.1};
  for (int64_t chunk : {0, 1, 2, 5}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    Vec final;
    Vec y = p.run(chunk, final);
    EXPECT_DOUBLE_EQ(y[0], 1.1);
    EXPECT_DOUBLE_EQ(y[1], 7.303638323514328);
    EXPECT_DOUBLE_EQ(final[0], 2.3678794411714423);
  }
}

TEST(Conv1dTest, HandComputed) {
  // K = 3, w = (0.5, -1, 2), bias 0.25, x = (1, 2, 3), zero history.
  const Vec x{1, 2, 3}, w{0.5, -1, 2}, bias{0.25};
  Vec out(3), final(2);
  Conv1dArgs args;
  args.batch = 1;
  args.channels = 1;
  args.seqlen = 3;
  args.width = 3;
  args.x = x.data();
  args.w = w.data();
  args.bias = bias.data();
  args.out = out.data();
  args.finalState = final.data();
  causalConv1d(args);
  EXPECT_EQ(out, (Vec{2.25, 3.25, 4.75}));
  EXPECT_EQ(final, (Vec{2, 3}));

  args.silu = true;
  causalConv1d(args);
  EXPECT_DOUBLE_EQ(out[2], silu(4.75));
}

TEST(Conv1dTest, ShortSequenceReachesIntoInitialState) {
  // K = 4, L = 1: the window is (init0, init1, init2, x0) and the final
  // state keeps the last three inputs, two of them from the initial state.
  const Vec x{7}, w{1, 10, 100, 1000}, init{1, 2, 3};
  Vec out(1), final(3);
  Conv1dArgs args;
  args.batch = 1;
  args.channels = 1;
  args.seqlen = 1;
  args.width = 4;
  args.x = x.data();
  args.w = w.data();
  args.initialState = init.data();
  args.out = out.data();
  args.finalState = final.data();
  causalConv1d(args);
  EXPECT_EQ(out[0], 7321.0);
  EXPECT_EQ(final, (Vec{2, 3, 7}));
}

TEST(Conv1dTest, HandComputedUpdate) {
  Vec state{0, 1, 2}, out(1);
  const Vec x{3}, w{0.5, -1, 2}, bias{0.25};
  causalConv1dUpdate(1, 1, 3, state.data(), x.data(), w.data(), bias.data(),
                     false, out.data());
  EXPECT_EQ(state, (Vec{1, 2, 3}));
  EXPECT_EQ(out[0], 0.5 - 2 + 6 + 0.25);
}

TEST(RmsNormTest, HandComputedRow) {
  const Vec y{1, -2, 3, 0.5}, z{0.5, -1, 2, 0}, w{1, 2, 0.5, -1};
  const double eps = 1e-5;
  Vec out(4);

  // No gate: y / rms(y) · w, mean(y²) = (1 + 4 + 9 + 0.25)/4.
  rmsNormGated(1, 4, 4, y.data(), nullptr, w.data(), eps, false, out.data());
  const double inv = 1 / std::sqrt(14.25 / 4 + eps);
  expectClose(out, {1 * inv, -2 * inv * 2, 3 * inv * 0.5, 0.5 * inv * -1},
              1e-15);

  // Gate, then norm: v = y·silu(z), out = v / rms(v) · w.
  rmsNormGated(1, 4, 4, y.data(), z.data(), w.data(), eps, false, out.data());
  const double v0 = 1 * silu(0.5), v1 = -2 * silu(-1), v2 = 3 * silu(2),
               v3 = 0.0;
  const double invV =
      1 / std::sqrt((v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3) / 4 + eps);
  expectClose(out, {v0 * invV, v1 * invV * 2, v2 * invV * 0.5, 0.0}, 1e-15);

  // Norm, then gate: out = y / rms(y) · w · silu(z).
  rmsNormGated(1, 4, 4, y.data(), z.data(), w.data(), eps, true, out.data());
  expectClose(out,
              {1 * inv * silu(0.5), -2 * inv * 2 * silu(-1),
               3 * inv * 0.5 * silu(2), 0.0},
              1e-15);
}

TEST(RmsNormTest, GroupsNormalizeIndependently) {
  // Two rows of two groups of two: each group has its own rms.
  const Vec y{3, 4, 1, 1, 0, 2, 6, 8}, w{1, 1, 2, 2};
  const double eps = 0.0;
  Vec out(8);
  rmsNormGated(2, 4, 2, y.data(), nullptr, w.data(), eps, false, out.data());
  const double r0 = std::sqrt(12.5), r2 = std::sqrt(2.0), r3 = std::sqrt(50.0);
  expectClose(out, {3 / r0, 4 / r0, 2, 2, 0, 2 / r2 * 1, 12 / r3, 16 / r3},
              1e-15);

  // groupSize == dim normalizes the whole row instead.
  rmsNormGated(2, 4, 4, y.data(), nullptr, w.data(), eps, false, out.data());
  const double rowRms = std::sqrt(27.0 / 4);
  EXPECT_DOUBLE_EQ(out[0], 3 / rowRms);
  EXPECT_DOUBLE_EQ(out[3], 2 / rowRms);
}

TEST(ArgumentsTest, InconsistentSizesThrow) {
  const Vec v(64, 0.5);
  Vec out(64);
  SelectiveScanArgs args;
  args.u = args.delta = args.A = args.B = args.C = v.data();
  args.y = out.data();
  EXPECT_THROW(selectiveScan({1, 3, 2, 2, 2}, {}, args), std::invalid_argument);
  args.y = nullptr;
  EXPECT_THROW(selectiveScan({1, 2, 2, 2, 1}, {}, args), std::invalid_argument);

  SSDArgs ssd;
  ssd.x = ssd.dt = ssd.A = ssd.B = ssd.C = v.data();
  ssd.y = out.data();
  EXPECT_THROW(ssdChunked({1, 2, 2, 1, 1, 1}, ssd, 0), std::invalid_argument);
  EXPECT_THROW(ssdRecurrent({1, 2, 3, 1, 1, 2}, ssd), std::invalid_argument);
  EXPECT_THROW(rmsNormGated(1, 4, 3, v.data(), nullptr, v.data(), 1e-5, false,
                            out.data()),
               std::invalid_argument);
}

//===----------------------------------------------------------------------===//
// SSD identities
//===----------------------------------------------------------------------===//

TEST(SSDTest, ChunkedMatchesRecurrent) {
  struct LenChunk {
    int64_t len, chunk;
  };
  const LenChunk cases[] = {{7, 3},   {7, 1},  {100, 64},
                            {64, 64}, {5, 64}, {9, 3}};
  Rng rng(1);
  for (LenChunk lc : cases) {
    for (int64_t groups : {1, 2}) {
      // Bits select D, z, dtBias+softplus and the initial state.
      for (int mask = 0; mask < 16; ++mask) {
        SCOPED_TRACE("L " + std::to_string(lc.len) + " Q " +
                     std::to_string(lc.chunk) + " G " + std::to_string(groups) +
                     " mask " + std::to_string(mask));
        SsdProblem p = randomSsd(rng, {2, lc.len, 4, 3, 5, groups});
        if (!(mask & 1))
          p.d.clear();
        if (!(mask & 2))
          p.z.clear();
        if (!(mask & 4)) {
          p.dtBias.clear();
          p.softplus = false;
        }
        if (!(mask & 8))
          p.init.clear();
        Vec wantFinal, gotFinal;
        const Vec want = p.run(0, wantFinal);
        const Vec got = p.run(lc.chunk, gotFinal);
        expectClose(got, want);
        expectClose(gotFinal, wantFinal);
      }
    }
  }
}

TEST(SSDTest, ChunkedStableUnderStrongDecay) {
  // a ≈ -Δ·e^3 per step: cumulative sums over a chunk of 64 reach thousands,
  // so exp(Acum) underflows; the segment sums must still give the exact decay.
  Rng rng(2);
  SsdProblem p = randomSsd(rng, {1, 150, 2, 2, 3, 1}, 2.5, 3.5);
  Vec wantFinal, gotFinal;
  const Vec want = p.run(0, wantFinal);
  const Vec got = p.run(64, gotFinal);
  ASSERT_GT(maxAbs(want), 0.1);
  expectClose(got, want);
  expectClose(gotFinal, wantFinal);
}

TEST(SSDTest, RecurrentMatchesDecodeSteps) {
  Rng rng(3);
  const SSDDims dims{2, 11, 4, 3, 5, 2};
  const SsdProblem p = randomSsd(rng, dims);
  Vec wantFinal;
  const Vec want = p.run(0, wantFinal);

  const int64_t bsz = dims.batch, len = dims.seqlen, hp = 4 * 3,
                gn = dims.ngroups * dims.dstate;
  Vec state = p.init, got(want.size()), y(bsz * hp);
  for (int64_t t = 0; t < len; ++t) {
    const Vec x = sliceMid(p.x, bsz, len, hp, t, t + 1);
    const Vec z = sliceMid(p.z, bsz, len, hp, t, t + 1);
    const Vec dt = sliceMid(p.dt, bsz, len, dims.nheads, t, t + 1);
    const Vec b = sliceMid(p.b, bsz, len, gn, t, t + 1);
    const Vec c = sliceMid(p.c, bsz, len, gn, t, t + 1);
    ssdStateUpdate(dims, state.data(), x.data(), dt.data(), p.a.data(),
                   b.data(), c.data(), p.d.data(), z.data(), p.dtBias.data(),
                   p.softplus, y.data());
    putMid(got, y, bsz, len, hp, t);
  }
  expectClose(got, want);
  expectClose(state, wantFinal);
}

TEST(SSDTest, SplitSequenceContinues) {
  Rng rng(4);
  const SSDDims dims{2, 20, 2, 3, 4, 1};
  const SsdProblem p = randomSsd(rng, dims);
  Vec wantFinal;
  const Vec want = p.run(0, wantFinal);

  const int64_t bsz = dims.batch, len = dims.seqlen, half = len / 2;
  const int64_t hp = dims.nheads * dims.headdim, gn = dims.dstate;
  auto part = [&](int64_t t0, int64_t t1, const Vec &init) {
    SsdProblem q = p;
    q.dims.seqlen = t1 - t0;
    q.x = sliceMid(p.x, bsz, len, hp, t0, t1);
    q.z = sliceMid(p.z, bsz, len, hp, t0, t1);
    q.dt = sliceMid(p.dt, bsz, len, dims.nheads, t0, t1);
    q.b = sliceMid(p.b, bsz, len, gn, t0, t1);
    q.c = sliceMid(p.c, bsz, len, gn, t0, t1);
    q.init = init;
    return q;
  };
  Vec mid, final, got(want.size());
  putMid(got, part(0, half, p.init).run(3, mid), bsz, len, hp, 0);
  putMid(got, part(half, len, mid).run(4, final), bsz, len, hp, half);
  expectClose(got, want);
  expectClose(final, wantFinal);
}

TEST(SSDTest, RecurrentEqualsSelectiveScanOfExpandedInputs) {
  // SSD is the selective scan with channel d = h·P + p, Δ and A broadcast over
  // the head, and B/C grouped in the channel-last layout.
  Rng rng(5);
  const SSDDims sd{2, 9, 4, 2, 3, 2};
  const SsdProblem p = randomSsd(rng, sd);
  Vec wantFinal;
  const Vec want = p.run(0, wantFinal);

  const int64_t hp = sd.nheads * sd.headdim;
  const int64_t rows = sd.batch * sd.seqlen;
  ScanProblem s;
  s.dims = {sd.batch, hp, sd.seqlen, sd.dstate, sd.ngroups};
  s.opts.layout = Layout::ChannelLast;
  s.opts.deltaSoftplus = p.softplus;
  s.u = p.x;
  s.z = p.z;
  s.b = p.b;
  s.c = p.c;
  s.h0 = p.init;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < sd.nheads; ++h)
      for (int64_t i = 0; i < sd.headdim; ++i)
        s.delta.push_back(p.dt[r * sd.nheads + h]);
  for (int64_t h = 0; h < sd.nheads; ++h) {
    for (int64_t i = 0; i < sd.headdim; ++i) {
      s.d.push_back(p.d[h]);
      s.deltaBias.push_back(p.dtBias[h]);
      for (int64_t n = 0; n < sd.dstate; ++n)
        s.a.push_back(p.a[h]);
    }
  }
  Vec gotLast;
  expectClose(s.run(gotLast), want, 1e-14);
  expectClose(gotLast, wantFinal, 1e-14);
}

//===----------------------------------------------------------------------===//
// Selective scan identities
//===----------------------------------------------------------------------===//

TEST(SelectiveScanTest, MatchesDecodeSteps) {
  Rng rng(6);
  SelectiveScanOptions opts;
  opts.layout = Layout::ChannelLast;
  opts.deltaSoftplus = true;
  const SelectiveScanDims dims{2, 6, 13, 4, 2};
  const ScanProblem p = randomScan(rng, dims, opts);
  Vec wantLast;
  const Vec want = p.run(wantLast);

  const int64_t bsz = dims.batch, len = dims.seqlen, dim = dims.dim,
                gn = dims.ngroups * dims.dstate;
  Vec state = p.h0, got(want.size()), y(bsz * dim);
  for (int64_t t = 0; t < len; ++t) {
    const Vec u = sliceMid(p.u, bsz, len, dim, t, t + 1);
    const Vec delta = sliceMid(p.delta, bsz, len, dim, t, t + 1);
    const Vec z = sliceMid(p.z, bsz, len, dim, t, t + 1);
    const Vec b = sliceMid(p.b, bsz, len, gn, t, t + 1);
    const Vec c = sliceMid(p.c, bsz, len, gn, t, t + 1);
    selectiveStateUpdate(bsz, dim, dims.dstate, dims.ngroups, state.data(),
                         u.data(), delta.data(), p.a.data(), b.data(), c.data(),
                         p.d.data(), z.data(), p.deltaBias.data(), true,
                         y.data());
    putMid(got, y, bsz, len, dim, t);
  }
  expectClose(got, want);
  expectClose(state, wantLast);
}

/// Per-tensor [outer, len, inner] views of a scan problem's sequence operands,
/// for flipping or slicing along L.
struct SeqViews {
  int64_t outerU, innerU, outerB, innerB, outerC, innerC;
};

/// The [outer, L, inner] view of a B/C operand of `kind`, or {0, 0} when it
/// does not depend on t.
std::pair<int64_t, int64_t> bcView(BCKind kind, const SelectiveScanDims &d,
                                   Layout layout) {
  const int64_t perStep =
      kind == BCKind::Shared ? d.dstate : d.ngroups * d.dstate;
  if (kind == BCKind::PerChannel)
    return {0, 0};
  return layout == Layout::ChannelFirst
             ? std::make_pair(d.batch * perStep, int64_t{1})
             : std::make_pair(d.batch, perStep);
}

/// The [outer, L, inner] views of the sequence operands of `p`.
SeqViews seqViews(const ScanProblem &p) {
  const bool cf = p.opts.layout == Layout::ChannelFirst;
  const auto b = bcView(p.opts.bKind, p.dims, p.opts.layout);
  const auto c = bcView(p.opts.cKind, p.dims, p.opts.layout);
  return {cf ? p.dims.batch * p.dims.dim : p.dims.batch,
          cf ? 1 : p.dims.dim,
          b.first,
          b.second,
          c.first,
          c.second};
}

/// `p` with its sequence operands restricted to steps [t0, t1) (with
/// `flip`, additionally reversed along L).
ScanProblem transformSeq(const ScanProblem &p, int64_t t0, int64_t t1,
                         bool flip) {
  const SeqViews v = seqViews(p);
  const int64_t len = p.dims.seqlen, n = t1 - t0;
  auto f = [&](const Vec &x, int64_t outer, int64_t inner) {
    if (x.empty() || outer == 0)
      return x;
    Vec s = sliceMid(x, outer, len, inner, t0, t1);
    return flip ? flipMid(s, outer, n, inner) : s;
  };
  ScanProblem q = p;
  q.dims.seqlen = n;
  q.u = f(p.u, v.outerU, v.innerU);
  q.delta = f(p.delta, v.outerU, v.innerU);
  q.z = f(p.z, v.outerU, v.innerU);
  q.b = f(p.b, v.outerB, v.innerB);
  q.c = f(p.c, v.outerC, v.innerC);
  return q;
}

TEST(SelectiveScanTest, ReverseEqualsFlippedForward) {
  Rng rng(7);
  for (Layout layout : {Layout::ChannelFirst, Layout::ChannelLast}) {
    for (BCKind kind : {BCKind::Shared, BCKind::Grouped, BCKind::PerChannel}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(layout)) + "/" +
                   std::to_string(static_cast<int>(kind)));
      SelectiveScanOptions opts;
      opts.layout = layout;
      opts.bKind = kind;
      opts.reverse = true;
      const ScanProblem p = randomScan(rng, {2, 4, 9, 3, 2}, opts);
      Vec wantLast;
      const Vec yRev = p.run(wantLast);

      ScanProblem q = transformSeq(p, 0, p.dims.seqlen, /*flip=*/true);
      q.opts.reverse = false;
      Vec gotLast;
      const Vec yFwd = q.run(gotLast);
      const SeqViews v = seqViews(p);
      expectClose(flipMid(yFwd, v.outerU, p.dims.seqlen, v.innerU), yRev);
      expectClose(gotLast, wantLast);
    }
  }
}

TEST(SelectiveScanTest, SplitSequenceContinues) {
  Rng rng(8);
  for (bool reverse : {false, true}) {
    SCOPED_TRACE(reverse ? "reverse" : "forward");
    SelectiveScanOptions opts;
    opts.reverse = reverse;
    opts.deltaSoftplus = true;
    const ScanProblem p = randomScan(rng, {2, 4, 15, 3, 2}, opts);
    Vec wantLast;
    const Vec want = p.run(wantLast);

    const int64_t len = p.dims.seqlen, half = len / 2;
    const SeqViews v = seqViews(p);
    // A reversed scan processes the later half first.
    ScanProblem first = transformSeq(p, 0, half, false);
    ScanProblem second = transformSeq(p, half, len, false);
    if (reverse)
      std::swap(first, second);
    Vec mid, last, got(want.size());
    const Vec y1 = first.run(mid);
    second.h0 = mid;
    const Vec y2 = second.run(last);
    putMid(got, reverse ? y2 : y1, v.outerU, len, v.innerU, 0);
    putMid(got, reverse ? y1 : y2, v.outerU, len, v.innerU, half);
    expectClose(got, want);
    expectClose(last, wantLast);
  }
}

TEST(SelectiveScanTest, LayoutsAgreeOnTransposedData) {
  Rng rng(9);
  for (BCKind kind : {BCKind::Shared, BCKind::Grouped, BCKind::PerChannel}) {
    for (DiscretizeMode mode :
         {DiscretizeMode::ZohSimplified, DiscretizeMode::ZohExact}) {
      SCOPED_TRACE(std::to_string(static_cast<int>(kind)) + "/" +
                   std::to_string(static_cast<int>(mode)));
      SelectiveScanOptions opts;
      opts.bKind = kind;
      opts.cKind = kind;
      opts.mode = mode;
      const SelectiveScanDims dims{2, 4, 7, 3, 2};
      const ScanProblem cf = randomScan(rng, dims, opts);
      Vec cfLast;
      const Vec yCf = cf.run(cfLast);

      ScanProblem cl = cf;
      cl.opts.layout = Layout::ChannelLast;
      const int64_t bsz = dims.batch, len = dims.seqlen;
      cl.u = swapLast2(cf.u, bsz, dims.dim, len);
      cl.delta = swapLast2(cf.delta, bsz, dims.dim, len);
      cl.z = swapLast2(cf.z, bsz, dims.dim, len);
      if (kind != BCKind::PerChannel) {
        const int64_t perStep =
            kind == BCKind::Shared ? dims.dstate : dims.ngroups * dims.dstate;
        cl.b = swapLast2(cf.b, bsz, perStep, len);
        cl.c = swapLast2(cf.c, bsz, perStep, len);
      }
      Vec clLast;
      const Vec yCl = cl.run(clLast);
      expectClose(swapLast2(yCl, bsz, len, dims.dim), yCf, 1e-15);
      expectClose(clLast, cfLast, 1e-15);
    }
  }
}

TEST(SelectiveScanTest, SharedEqualsGroupedWithIdenticalGroups) {
  Rng rng(10);
  SelectiveScanOptions opts;
  opts.layout = Layout::ChannelLast;
  opts.bKind = opts.cKind = BCKind::Shared;
  const SelectiveScanDims dims{2, 6, 5, 3, 1};
  const ScanProblem shared = randomScan(rng, dims, opts);
  Vec sharedLast;
  const Vec want = shared.run(sharedLast);

  // G = 1 is the same memory; G = 3 repeats every step's row three times.
  for (int64_t groups : {1, 3}) {
    SCOPED_TRACE("G " + std::to_string(groups));
    ScanProblem grouped = shared;
    grouped.dims.ngroups = groups;
    grouped.opts.bKind = grouped.opts.cKind = BCKind::Grouped;
    grouped.b.clear();
    grouped.c.clear();
    for (int64_t row = 0; row < dims.batch * dims.seqlen; ++row) {
      for (int64_t g = 0; g < groups; ++g) {
        grouped.b.insert(grouped.b.end(), shared.b.begin() + row * dims.dstate,
                         shared.b.begin() + (row + 1) * dims.dstate);
        grouped.c.insert(grouped.c.end(), shared.c.begin() + row * dims.dstate,
                         shared.c.begin() + (row + 1) * dims.dstate);
      }
    }
    Vec groupedLast;
    expectClose(grouped.run(groupedLast), want, 1e-15);
    expectClose(groupedLast, sharedLast, 1e-15);
  }
}

TEST(SelectiveScanTest, PerChannelEqualsGroupedRepeatedOverTime) {
  // PerChannel [D,N] is Grouped with one group per channel (G = D) holding the
  // same values at every step.
  Rng rng(11);
  SelectiveScanOptions opts;
  opts.bKind = opts.cKind = BCKind::PerChannel;
  opts.mode = DiscretizeMode::ZohExact;
  const SelectiveScanDims dims{2, 4, 6, 3, 1};
  const ScanProblem perChannel = randomScan(rng, dims, opts);
  Vec pcLast;
  const Vec want = perChannel.run(pcLast);

  ScanProblem grouped = perChannel;
  grouped.dims.ngroups = dims.dim;
  grouped.opts.layout = Layout::ChannelLast;
  grouped.opts.bKind = grouped.opts.cKind = BCKind::Grouped;
  grouped.b.clear();
  grouped.c.clear();
  for (int64_t row = 0; row < dims.batch * dims.seqlen; ++row) {
    grouped.b.insert(grouped.b.end(), perChannel.b.begin(), perChannel.b.end());
    grouped.c.insert(grouped.c.end(), perChannel.c.begin(), perChannel.c.end());
  }
  // The grouped problem is channel-last; move u, Δ, z there too.
  grouped.u = swapLast2(perChannel.u, dims.batch, dims.dim, dims.seqlen);
  grouped.delta =
      swapLast2(perChannel.delta, dims.batch, dims.dim, dims.seqlen);
  grouped.z = swapLast2(perChannel.z, dims.batch, dims.dim, dims.seqlen);
  Vec groupedLast;
  const Vec got = grouped.run(groupedLast);
  expectClose(swapLast2(got, dims.batch, dims.seqlen, dims.dim), want, 1e-15);
  expectClose(groupedLast, pcLast, 1e-15);
}

//===----------------------------------------------------------------------===//
// Conv1d identities
//===----------------------------------------------------------------------===//

/// A causal conv1d problem with x stored channel-last; empty optional vectors
/// are absent operands.
struct ConvProblem {
  int64_t batch, channels, seqlen, width;
  Vec x, w, bias, init;
  bool act;

  /// Runs causalConv1d in `layout` (x is stored channel-last and transposed
  /// for ChannelFirst); returns out channel-last and fills `final`.
  Vec run(Layout layout, Vec &final) const {
    Vec in = layout == Layout::ChannelLast
                 ? x
                 : swapLast2(x, batch, seqlen, channels);
    Vec out(x.size());
    final.assign(batch * channels * (width - 1), 0.0);
    Conv1dArgs args;
    args.batch = batch;
    args.channels = channels;
    args.seqlen = seqlen;
    args.width = width;
    args.layout = layout;
    args.x = in.data();
    args.w = w.data();
    args.bias = opt(bias);
    args.initialState = opt(init);
    args.silu = act;
    args.out = out.data();
    args.finalState = final.data();
    causalConv1d(args);
    return layout == Layout::ChannelLast
               ? out
               : swapLast2(out, batch, channels, seqlen);
  }
};

/// A random conv1d problem with bias and initial state.
ConvProblem randomConv(Rng &rng, int64_t width, int64_t seqlen, bool act) {
  const int64_t batch = 2, channels = 5;
  return {batch,
          channels,
          seqlen,
          width,
          rng.uniform(batch * seqlen * channels, -1.0, 1.0),
          rng.uniform(channels * width, -1.0, 1.0),
          rng.uniform(channels, -0.5, 0.5),
          rng.uniform(batch * channels * (width - 1), -1.0, 1.0),
          act};
}

TEST(Conv1dTest, MatchesDecodeSteps) {
  Rng rng(12);
  for (int64_t width : {2, 3, 4}) {
    for (bool act : {false, true}) {
      SCOPED_TRACE("K " + std::to_string(width) + (act ? " silu" : ""));
      ConvProblem p = randomConv(rng, width, 10, act);
      p.init.clear(); // Decoding starts from a zero conv state.
      Vec wantFinal;
      const Vec want = p.run(Layout::ChannelLast, wantFinal);

      const int64_t bc = p.batch * p.channels;
      Vec state(bc * width, 0.0), got(want.size()), out(bc);
      for (int64_t t = 0; t < p.seqlen; ++t) {
        const Vec x = sliceMid(p.x, p.batch, p.seqlen, p.channels, t, t + 1);
        causalConv1dUpdate(p.batch, p.channels, width, state.data(), x.data(),
                           p.w.data(), p.bias.data(), act, out.data());
        putMid(got, out, p.batch, p.seqlen, p.channels, t);
      }
      expectClose(got, want, 1e-15);
      // The prefill's final state is the decode state without its oldest
      // column.
      expectClose(sliceMid(state, bc, width, 1, 1, width), wantFinal, 0.0);
    }
  }
}

TEST(Conv1dTest, LayoutsAgree) {
  Rng rng(13);
  const ConvProblem p = randomConv(rng, 4, 9, true);
  Vec clFinal, cfFinal;
  expectClose(p.run(Layout::ChannelFirst, cfFinal),
              p.run(Layout::ChannelLast, clFinal), 0.0);
  expectClose(cfFinal, clFinal, 0.0);
}

TEST(Conv1dTest, SplitSequenceContinues) {
  // Pieces shorter than K-1 carry part of the previous initial state along.
  Rng rng(14);
  for (int64_t width : {2, 3, 4}) {
    SCOPED_TRACE("K " + std::to_string(width));
    const ConvProblem p = randomConv(rng, width, 9, false);
    Vec wantFinal;
    const Vec want = p.run(Layout::ChannelLast, wantFinal);

    Vec state = p.init, got(want.size());
    const int64_t bounds[] = {0, 1, 2, 5, 9};
    for (int i = 0; i < 4; ++i) {
      const int64_t t0 = bounds[i], t1 = bounds[i + 1];
      ConvProblem piece = p;
      piece.seqlen = t1 - t0;
      piece.x = sliceMid(p.x, p.batch, p.seqlen, p.channels, t0, t1);
      piece.init = state;
      putMid(got, piece.run(Layout::ChannelFirst, state), p.batch, p.seqlen,
             p.channels, t0);
    }
    expectClose(got, want, 1e-15);
    expectClose(state, wantFinal, 0.0);
  }
}

} // namespace

TEST(SelectiveScanTest, BidirectionalSumsForwardAndReverse) {
  // B 2, D 3 a direction, L 7, N 2, channel-first, one B/C group a
  // direction: the stacked inputs hold the forward half first.
  Rng rng(11);
  const int64_t batch = 2, dim = 3, len = 7, n = 2;
  const int64_t seq = 2 * dim * len, bc = 2 * n * len;
  const Vec u = rng.uniform(batch * seq, -1, 1),
            delta = rng.uniform(batch * seq, 0.05, 0.5),
            a = rng.negExp(2 * dim * n), b = rng.uniform(batch * bc, -1, 1),
            c = rng.uniform(batch * bc, -1, 1), d = rng.uniform(2 * dim, -1, 1),
            z = rng.uniform(batch * dim * len, -2, 2);
  SelectiveScanDims dims{batch, dim, len, n, 1};
  SelectiveScanOptions opts;
  opts.bidirectional = true;
  Vec y(batch * dim * len), last(batch * 2 * dim * n);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  args.D = d.data();
  args.z = z.data();
  args.lastState = last.data();
  selectiveScan(dims, opts, args);

  // Each direction alone, on its half of every stacked operand, ungated.
  Vec sum(y.size(), 0.0), wantLast(last.size());
  for (int64_t k = 0; k < 2; ++k) {
    auto half = [&](const Vec &x, int64_t outer, int64_t rows, int64_t row) {
      Vec out;
      for (int64_t o = 0; o < outer; ++o)
        out.insert(out.end(), x.begin() + (o * 2 + k) * rows * row,
                   x.begin() + (o * 2 + k + 1) * rows * row);
      return out;
    };
    const Vec uk = half(u, batch, dim, len), dk = half(delta, batch, dim, len),
              ak = half(a, 1, dim, n), bk = half(b, batch, n, len),
              ck = half(c, batch, n, len), skip = half(d, 1, dim, 1);
    SelectiveScanOptions one;
    one.reverse = k == 1;
    Vec yk(y.size()), lastK(batch * dim * n);
    SelectiveScanArgs argsK = scanArgs(uk, dk, ak, bk, ck, yk);
    argsK.D = skip.data();
    argsK.lastState = lastK.data();
    selectiveScan(dims, one, argsK);
    for (size_t i = 0; i < sum.size(); ++i)
      sum[i] += yk[i];
    for (int64_t bi = 0; bi < batch; ++bi)
      std::copy(lastK.begin() + bi * dim * n,
                lastK.begin() + (bi + 1) * dim * n,
                wantLast.begin() + (bi * 2 + k) * dim * n);
  }
  for (size_t i = 0; i < sum.size(); ++i)
    sum[i] *= silu(z[i]);
  expectClose(y, sum);
  expectClose(last, wantLast);
}

TEST(CrossScanTest, EqualsMaterializedCrossScanAndMerge) {
  // B 2 images of 3 x 4 tokens, D 2, N 2, channel-last, one B/C group a
  // direction; every operand in token order.
  Rng rng(12);
  const int64_t batch = 2, height = 3, width = 4, len = 12, dim = 2, n = 2;
  const Vec u = rng.uniform(batch * len * dim, -1, 1),
            delta = rng.uniform(batch * len * 4 * dim, 0.05, 0.5),
            a = rng.negExp(4 * dim * n),
            b = rng.uniform(batch * len * 4 * n, -1, 1),
            c = rng.uniform(batch * len * 4 * n, -1, 1),
            d = rng.uniform(4 * dim, -1, 1),
            z = rng.uniform(batch * len * dim, -2, 2);
  SelectiveScanOptions opts;
  opts.layout = Layout::ChannelLast;
  Vec y(batch * len * dim), last(batch * 4 * dim * n);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  args.D = d.data();
  args.z = z.data();
  args.lastState = last.data();
  crossScan2d({batch, height, width, dim, n, 1}, opts, args);

  // VMamba's way: per direction, gather its tokens into scan order (the
  // cross-scan), scan them forward, and add the outputs back at their
  // tokens (the cross-merge); gate the sum.
  auto column = [&](int64_t i) { return (i % height) * width + i / height; };
  auto position = [&](int64_t k, int64_t i) {
    int64_t step = k >= 2 ? len - 1 - i : i;
    return k % 2 ? column(step) : step;
  };
  Vec sum(y.size(), 0.0), wantLast(last.size());
  for (int64_t k = 0; k < 4; ++k) {
    Vec uk(batch * len * dim), dk(uk.size()), bk(batch * len * n),
        ck(bk.size());
    for (int64_t bi = 0; bi < batch; ++bi)
      for (int64_t i = 0; i < len; ++i) {
        const int64_t p = bi * len + position(k, i), q = bi * len + i;
        for (int64_t ch = 0; ch < dim; ++ch) {
          uk[q * dim + ch] = u[p * dim + ch];
          dk[q * dim + ch] = delta[p * 4 * dim + k * dim + ch];
        }
        for (int64_t s = 0; s < n; ++s) {
          bk[q * n + s] = b[(p * 4 + k) * n + s];
          ck[q * n + s] = c[(p * 4 + k) * n + s];
        }
      }
    const Vec ak(a.begin() + k * dim * n, a.begin() + (k + 1) * dim * n),
        skip(d.begin() + k * dim, d.begin() + (k + 1) * dim);
    Vec yk(uk.size()), lastK(batch * dim * n);
    SelectiveScanArgs argsK = scanArgs(uk, dk, ak, bk, ck, yk);
    argsK.D = skip.data();
    argsK.lastState = lastK.data();
    selectiveScan({batch, dim, len, n, 1}, opts, argsK);
    for (int64_t bi = 0; bi < batch; ++bi) {
      for (int64_t i = 0; i < len; ++i)
        for (int64_t ch = 0; ch < dim; ++ch)
          sum[(bi * len + position(k, i)) * dim + ch] +=
              yk[(bi * len + i) * dim + ch];
      std::copy(lastK.begin() + bi * dim * n,
                lastK.begin() + (bi + 1) * dim * n,
                wantLast.begin() + (bi * 4 + k) * dim * n);
    }
  }
  for (size_t i = 0; i < sum.size(); ++i)
    sum[i] *= silu(z[i]);
  expectClose(y, sum);
  expectClose(last, wantLast);
}

TEST(CrossScanTest, HandComputedLastStates) {
  // One 2 x 3 image, u = the token index, Δ = B = C = 1, decay e^A = 1/2:
  // each direction's last state is Σ_i 2^(i - 5)·token(i). Row-major visits
  // tokens 0..5, column-major 0 3 1 4 2 5, then both reversed.
  const Vec u{0, 1, 2, 3, 4, 5}, delta(24, 1.0), a(4, -std::log(2.0)),
      b(24, 1.0), c(24, 1.0);
  Vec y(6), last(4);
  SelectiveScanArgs args = scanArgs(u, delta, a, b, c, y);
  args.lastState = last.data();
  SelectiveScanOptions opts;
  opts.layout = Layout::ChannelLast;
  crossScan2d({1, 2, 3, 1, 1, 1}, opts, args);
  EXPECT_DOUBLE_EQ(last[0], 8.0625);
  EXPECT_DOUBLE_EQ(last[1], 7.3125);
  EXPECT_DOUBLE_EQ(last[2], 1.78125);
  EXPECT_DOUBLE_EQ(last[3], 2.53125);
}
