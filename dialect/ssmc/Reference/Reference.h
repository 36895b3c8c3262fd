//===- Reference.h - fp64 CPU reference of the SSM ops ----------*- C++ -*-===//
//
// Straightforward fp64 implementations of the state-space-model operations
// that ssmc generates kernels for (selective scan, SSD, gated RMSNorm, causal
// conv1d and their decode steps), following REFERENCE.md sections 1-5.
// Plain C++17 without LLVM or CUDA, so that GPU tests can link it on any
// machine. All arrays are dense row-major, owned by the caller, and use the
// same layouts as the GPU kernels. Optional inputs and outputs are nullptr
// when absent. Inconsistent sizes throw std::invalid_argument.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_REFERENCE_REFERENCE_H
#define SSMC_REFERENCE_REFERENCE_H

#include <cmath>
#include <cstdint>

namespace ssmc::ref {

/// softplus(x) = log(1 + exp(x)), with x > 20 returned unchanged as the Mamba
/// kernels do (the difference is below fp32 resolution there).
inline double softplus(double x) {
  return x > 20.0 ? x : std::log1p(std::exp(x));
}

/// silu(x) = x / (1 + exp(-x)), the gate activation.
inline double silu(double x) { return x / (1.0 + std::exp(-x)); }

/// Memory layout of the per-channel sequences (u, delta, z, y of the selective
/// scan; x and out of the conv1d).
enum class Layout {
  ChannelFirst, ///< [B, D, L]
  ChannelLast,  ///< [B, L, D]
};

/// How B (or C) of the selective scan is shared across channels.
enum class BCKind {
  Shared,     ///< One per time step: ChannelFirst [B,N,L], ChannelLast [B,L,N].
  Grouped,    ///< ChannelFirst [B,G,N,L], ChannelLast [B,L,G,N]; channel d
              ///< uses group d / (D/G).
  PerChannel, ///< Time-invariant [D,N] (S4-style), for both layouts.
};

/// Zero-order-hold discretization of B.
enum class DiscretizeMode {
  ZohSimplified, ///< B̄ = Δ·B (what Mamba uses).
  ZohExact,      ///< B̄ = (exp(ΔA) - 1) / A · B.
};

/// Sizes of a selective scan (Mamba 1).
struct SelectiveScanDims {
  int64_t batch = 0;   ///< B
  int64_t dim = 0;     ///< D, the number of channels.
  int64_t seqlen = 0;  ///< L
  int64_t dstate = 0;  ///< N
  int64_t ngroups = 1; ///< G of Grouped B/C; must divide dim.
};

/// Attributes of a selective scan.
struct SelectiveScanOptions {
  Layout layout = Layout::ChannelFirst; ///< Of u, delta, z and y.
  BCKind bKind = BCKind::Grouped;       ///< Sharing of B.
  BCKind cKind = BCKind::Grouped;       ///< Sharing of C.
  DiscretizeMode mode = DiscretizeMode::ZohSimplified; ///< B̄ formula.
  bool reverse = false; ///< Run t from L-1 down to 0.
  /// Vim's pair of scans: direction 0 forward, 1 backward, their outputs
  /// (skip included) summed before the gate. The operands other than z and
  /// y then stack both directions: channel k·D + d and B/C group k·G + g
  /// of direction k (`dim` and `ngroups` count one direction's).
  bool bidirectional = false;
  bool deltaSoftplus = false; ///< Δ = softplus(Δraw + bias) instead of the sum.
};

/// Operands of a selective scan; shapes use the layouts of the options.
struct SelectiveScanArgs {
  const double *u = nullptr;         ///< Input, [B,D,L] or [B,L,D] by layout.
  const double *delta = nullptr;     ///< Raw step Δ, like u.
  const double *A = nullptr;         ///< [D,N], negative.
  const double *B = nullptr;         ///< Shaped by bKind.
  const double *C = nullptr;         ///< Shaped by cKind.
  const double *D = nullptr;         ///< Optional skip [D].
  const double *z = nullptr;         ///< Optional gate, like u.
  const double *deltaBias = nullptr; ///< Optional [D], added to raw Δ.
  const double *h0 = nullptr;        ///< Optional initial state [B,D,N].
  double *y = nullptr;               ///< Output, like u.
  double *lastState = nullptr; ///< Optional [B,D,N]: the state after the last
                               ///< step processed (t = 0 when reversed).
};

/// Selective scan (REFERENCE §1-2): h[t] = exp(ΔA)·h[t-1] + B̄·u[t],
/// y[t] = (Σ_n C·h[t] + D·u[t]) · silu(z[t]).
void selectiveScan(const SelectiveScanDims &dims,
                   const SelectiveScanOptions &opts,
                   const SelectiveScanArgs &args);

/// Sizes of a VMamba SS2D scan: B images of height x width tokens, flattened
/// row-major into L = H·W steps, D channels, N states, G B/C groups a
/// direction.
struct CrossScanDims {
  int64_t batch = 0;   ///< B
  int64_t height = 0;  ///< H
  int64_t width = 0;   ///< W
  int64_t dim = 0;     ///< D, the channels of u, z and y.
  int64_t dstate = 0;  ///< N
  int64_t ngroups = 1; ///< G of grouped B/C, per direction.
};

/// VMamba's SS2D scan (REFERENCE §8): four selective scans over the H·W
/// tokens of u, row-major (h then w), column-major (w then h) and both
/// reversed, summed at each token before the gate:
/// y = (Σ_k C_k·h_k + D_k·u) · silu(z). Every operand is in token order
/// (the cross-scan is the scans' traversal, the cross-merge their sum): u,
/// z and y have D channels; delta, A, D, the bias and the states stack the
/// four directions' (channel k·D + d, direction k in the order above), and
/// grouped B/C their groups (k·G + g). `opts.reverse` and
/// `opts.bidirectional` must be false.
void crossScan2d(const CrossScanDims &dims, const SelectiveScanOptions &opts,
                 const SelectiveScanArgs &args);

/// Sizes of an SSD (Mamba 2) layer; the channel count is nheads * headdim.
struct SSDDims {
  int64_t batch = 0;   ///< B
  int64_t seqlen = 0;  ///< L
  int64_t nheads = 0;  ///< H
  int64_t headdim = 0; ///< P
  int64_t dstate = 0;  ///< N
  int64_t ngroups = 1; ///< G of B/C; must divide nheads.
};

/// Operands of an SSD scan. Head h uses group h / (H/G).
struct SSDArgs {
  const double *x = nullptr;            ///< [B,L,H,P]
  const double *dt = nullptr;           ///< Raw step [B,L,H].
  const double *A = nullptr;            ///< [H], negative.
  const double *B = nullptr;            ///< [B,L,G,N]
  const double *C = nullptr;            ///< [B,L,G,N]
  const double *D = nullptr;            ///< Optional skip [H].
  const double *z = nullptr;            ///< Optional gate [B,L,H,P].
  const double *dtBias = nullptr;       ///< Optional [H], added to raw dt.
  const double *initialState = nullptr; ///< Optional [B,H,P,N].
  bool dtSoftplus = false;              ///< Δ = softplus(dt + dtBias).
  double *y = nullptr;                  ///< Output [B,L,H,P].
  double *finalState = nullptr;         ///< Optional [B,H,P,N].
};

/// SSD by its plain recurrence (REFERENCE §3): S[t] = exp(ΔA)·S[t-1] +
/// Δ·x[t]⊗B[t], y[t] = (C[t]·S[t] + D·x[t]) · silu(z[t]).
void ssdRecurrent(const SSDDims &dims, const SSDArgs &args);

/// SSD by the four-step chunked algorithm of REFERENCE §3 with chunk size
/// `chunkSize` (intra-chunk masked matmul, chunk states, inter-chunk
/// recurrence, state-to-output). The decay between two positions is a masked
/// segment sum, never a difference of large cumulative sums; L is padded to a
/// multiple of the chunk with Δ = 0, which leaves outputs and state unchanged.
void ssdChunked(const SSDDims &dims, const SSDArgs &args, int64_t chunkSize);

/// Gated RMSNorm over `rows` rows of `dim` elements; y, z, out are
/// [rows, dim] and w is [dim]. The rms is taken over groups of `groupSize`
/// consecutive elements of a row (groupSize == dim normalizes whole rows).
/// normBeforeGate = false: v = y·silu(z), out = v / sqrt(mean(v²) + eps) · w.
/// normBeforeGate = true: out = y / sqrt(mean(y²) + eps) · w · silu(z).
/// A null z means no gate.
void rmsNormGated(int64_t rows, int64_t dim, int64_t groupSize, const double *y,
                  const double *z, const double *w, double eps,
                  bool normBeforeGate, double *out);

/// Operands of a causal depthwise conv1d.
struct Conv1dArgs {
  int64_t batch = 0;                    ///< B
  int64_t channels = 0;                 ///< C
  int64_t seqlen = 0;                   ///< L
  int64_t width = 0;                    ///< K (the kernels support 2..4).
  Layout layout = Layout::ChannelFirst; ///< Of x and out: [B,C,L] or [B,L,C].
  const double *x = nullptr;            ///< Input.
  const double *w = nullptr;            ///< Weights [C,K].
  const double *bias = nullptr;         ///< Optional [C].
  const double *initialState = nullptr; ///< Optional [B,C,K-1]: x[-K+1..-1].
  bool silu = false;                    ///< Apply silu to the output.
  double *out = nullptr;                ///< Output, like x.
  double *finalState = nullptr; ///< Optional [B,C,K-1]: the last K-1 inputs,
                                ///< reaching into the initial state when
                                ///< L < K-1. May alias initialState.
};

/// Causal depthwise conv1d (REFERENCE §5): out[t] = act(bias +
/// Σ_k w[k]·x[t-K+1+k]), with x[t<0] from the initial state (zeros if none).
void causalConv1d(const Conv1dArgs &args);

/// One Mamba-1 decode step (REFERENCE §4, simplified ZOH). state [B,D,N] is
/// updated in place; x, delta, z, y are [B,D]; A is [D,N]; B, C are [B,G,N];
/// D and deltaBias are optional [D]; z is optional.
void selectiveStateUpdate(int64_t batch, int64_t dim, int64_t dstate,
                          int64_t ngroups, double *state, const double *x,
                          const double *delta, const double *A, const double *B,
                          const double *C, const double *D, const double *z,
                          const double *deltaBias, bool deltaSoftplus,
                          double *y);

/// One Mamba-2 decode step (REFERENCE §4); dims.seqlen is ignored. state
/// [B,H,P,N] is updated in place; x, z, y are [B,H,P]; dt is [B,H]; A is [H];
/// D and dtBias are optional [H]; B, C are [B,G,N]; z is optional.
void ssdStateUpdate(const SSDDims &dims, double *state, const double *x,
                    const double *dt, const double *A, const double *B,
                    const double *C, const double *D, const double *z,
                    const double *dtBias, bool dtSoftplus, double *y);

/// One conv1d decode step: convState [B,C,K] is shifted left by one and x
/// [B,C] appended; out[b,c] = act(bias[c] + Σ_k w[c,k]·convState[b,c,k]).
/// bias is optional.
void causalConv1dUpdate(int64_t batch, int64_t channels, int64_t width,
                        double *convState, const double *x, const double *w,
                        const double *bias, bool silu, double *out);

} // namespace ssmc::ref

#endif // SSMC_REFERENCE_REFERENCE_H
