//===- Reference.cpp - fp64 CPU reference of the SSM ops ------------------===//
//
// Direct loops over the definitions of REFERENCE.md; clarity over speed. Each
// scan keeps its state in a small local buffer and walks time in order, so the
// code reads like the recurrence it implements.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Reference/Reference.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssmc::ref {

/// Throws std::invalid_argument with `what` unless `ok`.
static void require(bool ok, const char *what) {
  if (!ok)
    throw std::invalid_argument(std::string("ssmc::ref: ") + what);
}

/// The step size Δ from its raw value: raw + bias, through softplus if asked.
static double stepSize(double raw, const double *bias, int64_t channel,
                       bool soft) {
  double v = raw + (bias ? bias[channel] : 0.0);
  return soft ? softplus(v) : v;
}

/// The output epilogue shared by every scan: (acc + D·x) · silu(z), where the
/// skip D and the gate z are optional.
static double skipAndGate(double acc, double x, const double *d, int64_t dIndex,
                          const double *z, int64_t zIndex) {
  if (d)
    acc += d[dIndex] * x;
  if (z)
    acc *= silu(z[zIndex]);
  return acc;
}

/// Offset of (b, c, t) in a sequence tensor of `layout` with `channels`
/// channels and `seqlen` steps.
static int64_t seqIndex(Layout layout, int64_t channels, int64_t seqlen,
                        int64_t b, int64_t c, int64_t t) {
  return layout == Layout::ChannelFirst ? (b * channels + c) * seqlen + t
                                        : (b * seqlen + t) * channels + c;
}

/// Offset of B/C element n seen by channel c at (b, t), for the given sharing.
static int64_t bcIndex(BCKind kind, Layout layout,
                       const SelectiveScanDims &dims, int64_t b, int64_t c,
                       int64_t t, int64_t n) {
  const int64_t nState = dims.dstate, len = dims.seqlen;
  switch (kind) {
  case BCKind::Shared:
    return layout == Layout::ChannelFirst ? (b * nState + n) * len + t
                                          : (b * len + t) * nState + n;
  case BCKind::Grouped: {
    const int64_t groups = dims.ngroups;
    const int64_t g = c / (dims.dim / groups);
    return layout == Layout::ChannelFirst
               ? ((b * groups + g) * nState + n) * len + t
               : ((b * len + t) * groups + g) * nState + n;
  }
  case BCKind::PerChannel:
    return c * nState + n;
  }
  throw std::invalid_argument("ssmc::ref: unknown BCKind");
}

/// Checks the SSD sizes and the operands every SSD entry point needs.
static void checkSSD(const SSDDims &dims, const double *x, const double *dt,
                     const double *a, const double *b, const double *c,
                     const double *y) {
  require(dims.batch >= 0 && dims.seqlen >= 0 && dims.nheads >= 0 &&
              dims.headdim >= 0 && dims.dstate >= 0,
          "SSD: negative size");
  require(dims.ngroups > 0 && dims.nheads % dims.ngroups == 0,
          "SSD: ngroups must divide nheads");
  require(x && dt && a && b && c && y, "SSD: missing operand");
}

/// The position that step i of a direction visits.
using Traversal = std::function<int64_t(int64_t)>;

/// Scans one direction per traversal in `orders` and sums them: direction k
/// runs over channel k·D + d of the per-channel operands (of u too unless
/// `sharedU`) and B/C group k·G + g, its step i at position orders[k](i);
/// y = (Σ_k C·h_k + D_k·u) · silu(z) at each position.
static void scanDirections(const SelectiveScanDims &dims,
                           const SelectiveScanOptions &opts,
                           const SelectiveScanArgs &args,
                           const std::vector<Traversal> &orders, bool sharedU) {
  require(dims.batch >= 0 && dims.dim >= 0 && dims.seqlen >= 0 &&
              dims.dstate >= 0,
          "selectiveScan: negative size");
  require(dims.ngroups > 0 && dims.dim % dims.ngroups == 0,
          "selectiveScan: ngroups must divide dim");
  require(args.u && args.delta && args.A && args.B && args.C && args.y,
          "selectiveScan: missing operand");
  const int64_t directions = static_cast<int64_t>(orders.size());
  const int64_t dim = dims.dim, len = dims.seqlen, nState = dims.dstate;
  const int64_t inDim = directions * dim, uDim = sharedU ? dim : inDim;
  SelectiveScanDims inDims = dims;
  inDims.dim = inDim;
  inDims.ngroups = directions * dims.ngroups;
  std::vector<double> h(nState), sum(len);
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t d = 0; d < dim; ++d) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int64_t k = 0; k < directions; ++k) {
        const int64_t c = k * dim + d, uc = sharedU ? d : c;
        const double *stateIn =
            args.h0 ? args.h0 + (b * inDim + c) * nState : nullptr;
        for (int64_t n = 0; n < nState; ++n)
          h[n] = stateIn ? stateIn[n] : 0.0;
        for (int64_t i = 0; i < len; ++i) {
          const int64_t t = orders[k](i);
          const int64_t in = seqIndex(opts.layout, inDim, len, b, c, t);
          const double delta =
              stepSize(args.delta[in], args.deltaBias, c, opts.deltaSoftplus);
          const double u = args.u[seqIndex(opts.layout, uDim, len, b, uc, t)];
          double acc = 0.0;
          for (int64_t n = 0; n < nState; ++n) {
            const double a = args.A[c * nState + n];
            // The exact ZOH factor (exp(ΔA)-1)/A tends to Δ as A -> 0; expm1
            // keeps it accurate for small ΔA.
            const double bScale =
                opts.mode == DiscretizeMode::ZohSimplified || a == 0.0
                    ? delta
                    : std::expm1(delta * a) / a;
            const double bVal =
                args.B[bcIndex(opts.bKind, opts.layout, inDims, b, c, t, n)];
            const double cVal =
                args.C[bcIndex(opts.cKind, opts.layout, inDims, b, c, t, n)];
            h[n] = std::exp(delta * a) * h[n] + bScale * bVal * u;
            acc += cVal * h[n];
          }
          sum[t] += skipAndGate(acc, u, args.D, c, nullptr, 0);
        }
        if (args.lastState)
          std::copy(h.begin(), h.end(),
                    args.lastState + (b * inDim + c) * nState);
      }
      for (int64_t t = 0; t < len; ++t) {
        const int64_t io = seqIndex(opts.layout, dim, len, b, d, t);
        args.y[io] = skipAndGate(sum[t], 0.0, nullptr, 0, args.z, io);
      }
    }
  }
}

void selectiveScan(const SelectiveScanDims &dims,
                   const SelectiveScanOptions &opts,
                   const SelectiveScanArgs &args) {
  require(!(opts.reverse && opts.bidirectional),
          "selectiveScan: reverse and bidirectional exclude each other");
  const int64_t len = dims.seqlen;
  const Traversal forward = [](int64_t i) { return i; };
  const Traversal backward = [len](int64_t i) { return len - 1 - i; };
  std::vector<Traversal> orders = {opts.reverse ? backward : forward};
  if (opts.bidirectional)
    orders.push_back(backward);
  scanDirections(dims, opts, args, orders, /*sharedU=*/false);
}

void crossScan2d(const CrossScanDims &dims, const SelectiveScanOptions &opts,
                 const SelectiveScanArgs &args) {
  require(!opts.reverse && !opts.bidirectional,
          "crossScan2d: the four directions are fixed; reverse and "
          "bidirectional do not apply");
  require(dims.height >= 0 && dims.width >= 0, "crossScan2d: negative size");
  const int64_t height = dims.height, width = dims.width, len = height * width;
  // Row-major (h then w), column-major (w then h), and both reversed.
  const Traversal rows = [](int64_t i) { return i; };
  const Traversal columns = [height, width](int64_t i) {
    return (i % height) * width + i / height;
  };
  const Traversal rowsBack = [len](int64_t i) { return len - 1 - i; };
  const Traversal columnsBack = [columns, len](int64_t i) {
    return columns(len - 1 - i);
  };
  SelectiveScanDims scanDims{dims.batch, dims.dim, len, dims.dstate,
                             dims.ngroups};
  scanDirections(scanDims, opts, args, {rows, columns, rowsBack, columnsBack},
                 /*sharedU=*/true);
}

void ssdRecurrent(const SSDDims &dims, const SSDArgs &args) {
  checkSSD(dims, args.x, args.dt, args.A, args.B, args.C, args.y);
  const int64_t len = dims.seqlen, heads = dims.nheads, p = dims.headdim,
                nState = dims.dstate, groups = dims.ngroups;
  std::vector<double> s(p * nState);
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / (heads / groups);
      const int64_t stateOffset = (b * heads + h) * p * nState;
      for (int64_t i = 0; i < p * nState; ++i)
        s[i] = args.initialState ? args.initialState[stateOffset + i] : 0.0;
      for (int64_t t = 0; t < len; ++t) {
        const double delta = stepSize(args.dt[(b * len + t) * heads + h],
                                      args.dtBias, h, args.dtSoftplus);
        const double decay = std::exp(delta * args.A[h]);
        const double *bRow = args.B + ((b * len + t) * groups + g) * nState;
        const double *cRow = args.C + ((b * len + t) * groups + g) * nState;
        for (int64_t q = 0; q < p; ++q) {
          const int64_t xi = ((b * len + t) * heads + h) * p + q;
          const double x = args.x[xi];
          double acc = 0.0;
          for (int64_t n = 0; n < nState; ++n) {
            double &sv = s[q * nState + n];
            sv = decay * sv + delta * x * bRow[n];
            acc += cRow[n] * sv;
          }
          args.y[xi] = skipAndGate(acc, x, args.D, h, args.z, xi);
        }
      }
      if (args.finalState)
        std::copy(s.begin(), s.end(), args.finalState + stateOffset);
    }
  }
}

void ssdChunked(const SSDDims &dims, const SSDArgs &args, int64_t chunkSize) {
  checkSSD(dims, args.x, args.dt, args.A, args.B, args.C, args.y);
  require(chunkSize > 0, "ssdChunked: chunkSize must be positive");
  const int64_t len = dims.seqlen, heads = dims.nheads, p = dims.headdim,
                nState = dims.dstate, groups = dims.ngroups, q = chunkSize;
  const int64_t nChunks = (len + q - 1) / q, padded = nChunks * q;
  const int64_t ps = p * nState;

  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / (heads / groups);
      // Padded positions get Δ = 0: no decay (a = 0) and no input (Δx = 0), so
      // they change neither the chunk states nor the valid outputs. B and C
      // read as zero there to stay in bounds.
      std::vector<double> a(padded, 0.0), dx(padded * p, 0.0),
          bMat(padded * nState, 0.0), cMat(padded * nState, 0.0);
      for (int64_t t = 0; t < len; ++t) {
        const double delta = stepSize(args.dt[(b * len + t) * heads + h],
                                      args.dtBias, h, args.dtSoftplus);
        a[t] = delta * args.A[h];
        for (int64_t i = 0; i < p; ++i)
          dx[t * p + i] = delta * args.x[((b * len + t) * heads + h) * p + i];
        const int64_t bcOffset = ((b * len + t) * groups + g) * nState;
        std::copy(args.B + bcOffset, args.B + bcOffset + nState,
                  bMat.begin() + t * nState);
        std::copy(args.C + bcOffset, args.C + bcOffset + nState,
                  cMat.begin() + t * nState);
      }

      // Acum[l] = Σ_{k≤l} a[k] within each chunk.
      std::vector<double> acum(padded);
      for (int64_t t = 0; t < padded; ++t)
        acum[t] = a[t] + (t % q ? acum[t - 1] : 0.0);

      // Steps 1 and 2, per chunk: the diagonal-block output and the chunk
      // state, both weighted by exp(segsum).
      std::vector<double> yDiag(padded * p, 0.0), chunkState(nChunks * ps, 0.0),
          seg(q * q);
      for (int64_t c = 0; c < nChunks; ++c) {
        const int64_t t0 = c * q;
        // Masked segment sum seg[l][s] = Σ_{s<k≤l} a[k] for s ≤ l, summed
        // directly rather than as Acum[l] - Acum[s], which cancels badly.
        for (int64_t l = 0; l < q; ++l) {
          double sum = 0.0;
          seg[l * q + l] = 0.0;
          for (int64_t s = l - 1; s >= 0; --s) {
            sum += a[t0 + s + 1];
            seg[l * q + s] = sum;
          }
        }
        // 1. Y_diag[l] = Σ_{s≤l} (C[l]·B[s]) · exp(seg[l][s]) · Δx[s].
        for (int64_t l = 0; l < q; ++l) {
          for (int64_t s = 0; s <= l; ++s) {
            double cb = 0.0;
            for (int64_t n = 0; n < nState; ++n)
              cb += cMat[(t0 + l) * nState + n] * bMat[(t0 + s) * nState + n];
            const double weight = cb * std::exp(seg[l * q + s]);
            for (int64_t i = 0; i < p; ++i)
              yDiag[(t0 + l) * p + i] += weight * dx[(t0 + s) * p + i];
          }
        }
        // 2. st[c] = Σ_s exp(seg[Q-1][s]) · Δx[s] ⊗ B[s].
        double *st = chunkState.data() + c * ps;
        for (int64_t s = 0; s < q; ++s) {
          const double decay = std::exp(seg[(q - 1) * q + s]);
          for (int64_t i = 0; i < p; ++i)
            for (int64_t n = 0; n < nState; ++n)
              st[i * nState + n] +=
                  decay * dx[(t0 + s) * p + i] * bMat[(t0 + s) * nState + n];
        }
      }

      // 3. Inter-chunk recurrence S[c] = exp(Acum_c[Q-1]) · S[c-1] + st[c];
      // prevState[c] holds S[c-1], the state entering chunk c.
      const int64_t stateOffset = (b * heads + h) * ps;
      std::vector<double> prevState((nChunks + 1) * ps);
      for (int64_t i = 0; i < ps; ++i)
        prevState[i] =
            args.initialState ? args.initialState[stateOffset + i] : 0.0;
      for (int64_t c = 0; c < nChunks; ++c) {
        const double decay = std::exp(acum[c * q + q - 1]);
        for (int64_t i = 0; i < ps; ++i)
          prevState[(c + 1) * ps + i] =
              decay * prevState[c * ps + i] + chunkState[c * ps + i];
      }
      if (args.finalState)
        std::copy(prevState.begin() + nChunks * ps, prevState.end(),
                  args.finalState + stateOffset);

      // 4. Y_off[l] = exp(Acum[l]) · C[l] · S[c-1], then skip and gate.
      for (int64_t t = 0; t < len; ++t) {
        const double *sPrev = prevState.data() + (t / q) * ps;
        const double decay = std::exp(acum[t]);
        for (int64_t i = 0; i < p; ++i) {
          double off = 0.0;
          for (int64_t n = 0; n < nState; ++n)
            off += cMat[t * nState + n] * sPrev[i * nState + n];
          const int64_t xi = ((b * len + t) * heads + h) * p + i;
          args.y[xi] = skipAndGate(yDiag[t * p + i] + decay * off, args.x[xi],
                                   args.D, h, args.z, xi);
        }
      }
    }
  }
}

void rmsNormGated(int64_t rows, int64_t dim, int64_t groupSize, const double *y,
                  const double *z, const double *w, double eps,
                  bool normBeforeGate, double *out) {
  require(rows >= 0 && dim >= 0, "rmsNormGated: negative size");
  require(groupSize > 0 && dim % groupSize == 0,
          "rmsNormGated: groupSize must divide dim");
  require(y && w && out, "rmsNormGated: missing operand");
  std::vector<double> v(groupSize);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g0 = 0; g0 < dim; g0 += groupSize) {
      const int64_t base = r * dim + g0;
      double sumSq = 0.0;
      for (int64_t i = 0; i < groupSize; ++i) {
        // The rms is of y itself when normalizing before the gate.
        v[i] = y[base + i];
        if (z && !normBeforeGate)
          v[i] *= silu(z[base + i]);
        sumSq += v[i] * v[i];
      }
      const double invRms =
          1.0 / std::sqrt(sumSq / static_cast<double>(groupSize) + eps);
      for (int64_t i = 0; i < groupSize; ++i) {
        double o = v[i] * invRms * w[g0 + i];
        if (z && normBeforeGate)
          o *= silu(z[base + i]);
        out[base + i] = o;
      }
    }
  }
}

void causalConv1d(const Conv1dArgs &args) {
  require(args.batch >= 0 && args.channels >= 0 && args.seqlen >= 0,
          "causalConv1d: negative size");
  require(args.width >= 1, "causalConv1d: width must be positive");
  require(args.x && args.w && args.out, "causalConv1d: missing operand");
  const int64_t chans = args.channels, len = args.seqlen, k = args.width;
  std::vector<double> tail(k - 1);
  for (int64_t b = 0; b < args.batch; ++b) {
    for (int64_t c = 0; c < chans; ++c) {
      const double *init = args.initialState
                               ? args.initialState + (b * chans + c) * (k - 1)
                               : nullptr;
      // x at time t, reaching back into the initial state (or zeros) for
      // t in [-(K-1), 0).
      auto xAt = [&](int64_t t) {
        if (t >= 0)
          return args.x[seqIndex(args.layout, chans, len, b, c, t)];
        return init ? init[k - 1 + t] : 0.0;
      };
      for (int64_t t = 0; t < len; ++t) {
        double acc = args.bias ? args.bias[c] : 0.0;
        for (int64_t i = 0; i < k; ++i)
          acc += args.w[c * k + i] * xAt(t - k + 1 + i);
        args.out[seqIndex(args.layout, chans, len, b, c, t)] =
            args.silu ? silu(acc) : acc;
      }
      if (args.finalState) {
        // Gathered first so that finalState may alias initialState.
        for (int64_t j = 0; j < k - 1; ++j)
          tail[j] = xAt(len - (k - 1) + j);
        std::copy(tail.begin(), tail.end(),
                  args.finalState + (b * chans + c) * (k - 1));
      }
    }
  }
}

void selectiveStateUpdate(int64_t batch, int64_t dim, int64_t dstate,
                          int64_t ngroups, double *state, const double *x,
                          const double *delta, const double *A, const double *B,
                          const double *C, const double *D, const double *z,
                          const double *deltaBias, bool deltaSoftplus,
                          double *y) {
  require(batch >= 0 && dim >= 0 && dstate >= 0,
          "selectiveStateUpdate: negative size");
  require(ngroups > 0 && dim % ngroups == 0,
          "selectiveStateUpdate: ngroups must divide dim");
  require(state && x && delta && A && B && C && y,
          "selectiveStateUpdate: missing operand");
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t d = 0; d < dim; ++d) {
      const int64_t g = d / (dim / ngroups);
      const int64_t io = b * dim + d;
      const double step = stepSize(delta[io], deltaBias, d, deltaSoftplus);
      const double *bRow = B + (b * ngroups + g) * dstate;
      const double *cRow = C + (b * ngroups + g) * dstate;
      double *h = state + io * dstate;
      double acc = 0.0;
      for (int64_t n = 0; n < dstate; ++n) {
        h[n] =
            std::exp(step * A[d * dstate + n]) * h[n] + step * bRow[n] * x[io];
        acc += cRow[n] * h[n];
      }
      y[io] = skipAndGate(acc, x[io], D, d, z, io);
    }
  }
}

void ssdStateUpdate(const SSDDims &dims, double *state, const double *x,
                    const double *dt, const double *A, const double *B,
                    const double *C, const double *D, const double *z,
                    const double *dtBias, bool dtSoftplus, double *y) {
  checkSSD(dims, x, dt, A, B, C, y);
  require(state != nullptr, "ssdStateUpdate: missing state");
  const int64_t heads = dims.nheads, p = dims.headdim, nState = dims.dstate,
                groups = dims.ngroups;
  for (int64_t b = 0; b < dims.batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / (heads / groups);
      const double step = stepSize(dt[b * heads + h], dtBias, h, dtSoftplus);
      const double decay = std::exp(step * A[h]);
      const double *bRow = B + (b * groups + g) * nState;
      const double *cRow = C + (b * groups + g) * nState;
      for (int64_t i = 0; i < p; ++i) {
        const int64_t xi = (b * heads + h) * p + i;
        double *s = state + xi * nState;
        double acc = 0.0;
        for (int64_t n = 0; n < nState; ++n) {
          s[n] = decay * s[n] + step * x[xi] * bRow[n];
          acc += cRow[n] * s[n];
        }
        y[xi] = skipAndGate(acc, x[xi], D, h, z, xi);
      }
    }
  }
}

void causalConv1dUpdate(int64_t batch, int64_t channels, int64_t width,
                        double *convState, const double *x, const double *w,
                        const double *bias, bool silu, double *out) {
  require(batch >= 0 && channels >= 0, "causalConv1dUpdate: negative size");
  require(width >= 1, "causalConv1dUpdate: width must be positive");
  require(convState && x && w && out, "causalConv1dUpdate: missing operand");
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < channels; ++c) {
      double *st = convState + (b * channels + c) * width;
      std::copy(st + 1, st + width, st);
      st[width - 1] = x[b * channels + c];
      double acc = bias ? bias[c] : 0.0;
      for (int64_t k = 0; k < width; ++k)
        acc += w[c * width + k] * st[k];
      out[b * channels + c] = silu ? ref::silu(acc) : acc;
    }
  }
}

} // namespace ssmc::ref
