//===- SSMOps.td - SSM dialect operations ------------------*- tablegen -*-===//
//
// Tensor-level ops of the ssm dialect. Shape relations that ODS cannot state
// (shared B/L sizes, channel and state sizes, layouts) are checked by each
// op's verifier, which names the operand and the shape it expects.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMOPS_TD
#define SSMC_DIALECT_SSM_SSMOPS_TD

include "ssmc/Dialect/SSM/SSMBase.td"
include "ssmc/Dialect/SSM/SSMAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

defvar SSM_Tensor = AnyRankedTensor;

//===----------------------------------------------------------------------===//
// Mamba-1
//===----------------------------------------------------------------------===//

def SSM_DiscretizeOp : SSM_Op<"discretize", [Pure]> {
  let summary = "zero-order-hold discretization (exists to be fused)";
  let description = [{
    Computes `Ā = exp(Δ·A)` and `B̄ = Δ·B` (or `(Ā-1)/A·B` in `zoh_exact`
    mode) for every (b, t, d, n). With `delta_softplus`, Δ is first replaced
    by `softplus(Δ + delta_bias)`. The results are B·L·D·N values, far larger
    than the inputs: this op exists to be folded into the consuming
    `ssm.scan` by `ssm-fuse-discretize` and is never lowered on its own.

    `delta` has the activation layout ([B, D, L] or [B, L, D]); `A` is
    [D, N]; `B` is shared ([B, N, L] / [B, L, N]), grouped
    ([B, G, N, L] / [B, L, G, N]) or per channel ([D, N]), told apart by rank.
    Both results are [B, D, L, N] (channel_first) or [B, L, D, N]
    (channel_last) in f32.

    ```mlir
    %abar, %bbar = ssm.discretize %delta, %A, %B bias %db softplus
        layout = channel_first mode = zoh_simplified
        : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x1x16x?xbf16>,
           tensor<512xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
    ```
  }];
  let arguments = (ins SSM_Tensor:$delta, SSM_Tensor:$A, SSM_Tensor:$B,
                       Optional<SSM_Tensor>:$delta_bias,
                       SSM_LayoutAttr:$layout,
                       DefaultValuedAttr<SSM_DiscretizeModeAttr,
                           "DiscretizeMode::ZohSimplified">:$mode,
                       UnitAttr:$delta_softplus);
  let results = (outs SSM_Tensor:$abar, SSM_Tensor:$bbar);
  let assemblyFormat = [{
    $delta `,` $A `,` $B (`bias` $delta_bias^)? (`softplus` $delta_softplus^)?
    `layout` `=` `` $layout `mode` `=` `` $mode attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSM_ScanOp : SSM_Op<"scan", [Pure]> {
  let summary = "linear recurrence over discretized parameters";
  let description = [{
    The unfused scan: `h[t] = Ā[t]·h[t-1] + B̄[t]·u[t]`, `y[t] = Σ_n C[t]·h[t]`
    per (b, d), starting from `init` (zeros when absent), running t from L-1
    down to 0 with `reverse`. `abar` and `bbar` come from `ssm.discretize`;
    `ssm-fuse-discretize` rewrites the pair into one `ssm.selective_scan`.
    The optional second result is the state after the last step, [B, D, N] f32.
    `bidirectional` scans two directions and sums them, as in Vim;
    `cross_scan` four over an H x W grid, as in VMamba: see
    `ssm.selective_scan`.

    ```mlir
    %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
        : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>,
           tensor<?x1x16x?xbf16>) -> tensor<?x512x?xbf16>
    ```
  }];
  let arguments = (ins SSM_Tensor:$abar, SSM_Tensor:$bbar, SSM_Tensor:$u,
                       SSM_Tensor:$C, Optional<SSM_Tensor>:$init,
                       SSM_LayoutAttr:$layout, UnitAttr:$reverse,
                       UnitAttr:$bidirectional,
                       OptionalAttr<DenseI64ArrayAttr>:$cross_scan);
  let results = (outs SSM_Tensor:$y, Optional<SSM_Tensor>:$last_state);
  let assemblyFormat = [{
    $abar `,` $bbar `,` $u `,` $C (`init` $init^)? (`reverse` $reverse^)?
    (`bidirectional` $bidirectional^)? (`cross_scan` $cross_scan^)?
    `layout` `=` `` $layout attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Four for a cross scan, two for a bidirectional scan, else one.
    int64_t getNumDirections() {
      return getDirectionCount(getBidirectional(), getCrossScan().has_value());
    }
  }];
}

def SSM_SelectiveScanOp : SSM_Op<"selective_scan",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "fused Mamba selective scan";
  let description = [{
    The Mamba-1 selective scan with discretization, D skip and z gate fused:
    per (b, d) and state n, `h[t] = exp(Δ[t]·A[n])·h[t-1] + Δ[t]·B[t,n]·u[t]`,
    `y[t] = (Σ_n C[t,n]·h[t,n] + D·u[t]) · silu(z[t])` (the skip and the gate
    when `skip` / `gate` are given), with `Δ = softplus(Δ + delta_bias)` when
    `softplus` is set. `reverse` runs t from L-1 down to 0 (the backward
    direction of Vim) without materializing a flipped copy.

    `bidirectional` is a Vim layer's pair of scans in one op: channels
    [0, D) of the per-channel operands scan forward and channels [D, 2D)
    backward, each with its own u, Δ, A, B/C, D skip and bias, and
    `y = (y_fwd + y_bwd)·silu(z)`. u, Δ, A, skip, bias, init and the last
    state then have 2D channels (the forward ones first), grouped B/C 2G
    groups (the forward ones first; shared B/C serve both directions), and z
    and y D channels. The last state holds each direction's own: the forward
    one after t = L-1, the backward one after t = 0.

    `cross_scan [H, W]` is VMamba's SS2D scan in one op: the L = H·W steps
    (a static L) are the tokens of an H x W grid in row-major order, scanned
    in four directions k: row-major (h then w), column-major (w then h) and
    both reversed, each with its own Δ, A, B/C, skip, bias and states, which
    stack the four as a bidirectional scan stacks two (4D channels, 4G
    groups); u, z and y have D channels, u shared by the directions, and
    `y = (Σ_k y_k)·silu(z)`. The cross-scan and cross-merge are index maps of
    the scan's loads and stores, nothing is copied. It needs the
    channel-last layout, whose steps read whole rows of channels in any
    order.

    `conv` folds a causal depthwise conv1d into the scan's input (`ssm.
    causal_conv1d` without conv states, see ssm-fuse-conv): the scan runs on
    `act(conv_bias + Σ_k conv[d, k]·u[t-K+1+k])` (u before t = 0 taken as
    zero; act = silu with `conv_silu`, else none) in place of u, also in the
    skip term, and the conv's output never reaches memory. `conv` is [D, K]
    with K in 2..4 and `conv_bias` [D], both f32; a forward scan of one
    direction, channel_first.

    Operands: `u`, `delta` and the optional `gate` z have the activation
    layout ([B, D, L] or [B, L, D]) and one element type (f32, f16 or bf16);
    `A` is [D, N] f32; `B` and `C` are shared ([B, N, L] / [B, L, N]),
    grouped ([B, G, N, L] / [B, L, G, N], D divisible by G) or per channel
    ([D, N]), told apart by rank, in the activation type or f32; `skip` D and
    `bias` are [D] f32; `init` h0 is [B, D, N] f32. Results: `y` like `u`, and
    optionally the last state [B, D, N] f32. `tile` is the lowering's tiling.

    ```mlir
    %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C skip %D gate %z
        bias %db softplus layout = channel_first
        : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>,
           tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512xf32>,
           tensor<?x512x?xbf16>, tensor<512xf32>)
        -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
    ```
  }];
  let arguments = (ins SSM_Tensor:$u, SSM_Tensor:$delta, SSM_Tensor:$A,
                       SSM_Tensor:$B, SSM_Tensor:$C,
                       Optional<SSM_Tensor>:$D, Optional<SSM_Tensor>:$z,
                       Optional<SSM_Tensor>:$delta_bias,
                       Optional<SSM_Tensor>:$init,
                       Optional<SSM_Tensor>:$conv_weight,
                       Optional<SSM_Tensor>:$conv_bias,
                       SSM_LayoutAttr:$layout, UnitAttr:$reverse,
                       UnitAttr:$bidirectional,
                       OptionalAttr<DenseI64ArrayAttr>:$cross_scan,
                       UnitAttr:$delta_softplus,
                       OptionalAttr<SSM_TileAttr>:$tile,
                       UnitAttr:$conv_silu);
  let results = (outs SSM_Tensor:$y, Optional<SSM_Tensor>:$last_state);
  let assemblyFormat = [{
    $u `,` $delta `,` $A `,` $B `,` $C (`skip` $D^)? (`gate` $z^)?
    (`bias` $delta_bias^)? (`init` $init^)? (`conv` $conv_weight^)?
    (`conv_bias` $conv_bias^)? (`conv_silu` $conv_silu^)?
    (`softplus` $delta_softplus^)?
    (`reverse` $reverse^)? (`bidirectional` $bidirectional^)?
    (`cross_scan` $cross_scan^)? `layout` `=` `` $layout (`tile` `=` $tile^)?
    attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Sizes shared by the operands, read off `delta` and `A`. The channels
    /// are those of Δ: every direction's of a bidirectional or cross scan.
    int64_t getBatchSize();
    int64_t getSeqLen();
    int64_t getNumChannels();
    int64_t getStateSize();
    /// The conv1d width K folded into the input, 0 without one.
    int64_t getConvWidth() {
      return getConvWeight()
                 ? cast<RankedTensorType>(getConvWeight().getType())
                       .getDimSize(1)
                 : 0;
    }
    LogicalResult verifyConv();
    /// Whether `tile` applies to this scan; the verifier checks the tile it
    /// carries, ssm-tile one it is about to set.
    LogicalResult verifyTile(TileAttr tile,
                             function_ref<InFlightDiagnostic()> emitError);
    /// Four for a cross scan, two for a bidirectional scan, else one.
    int64_t getNumDirections() {
      return getDirectionCount(getBidirectional(), getCrossScan().has_value());
    }
    /// Whether the directions share u (a cross scan's), so that u has the
    /// channels of y rather than those of Δ.
    bool hasSharedInput() { return getCrossScan().has_value(); }
    /// The consecutive channels of u that share a B/C group and a
    /// direction: a block of the lowering owns channels of one such run.
    int64_t getChannelsPerGroup();
  }];
}

def SSM_SkipOp : SSM_Op<"skip", [Pure]> {
  let summary = "D skip connection: y + D[d]·u";
  let description = [{
    Adds the per-channel skip `D[d]·u` to a scan output. `y` and `u` share
    the activation layout; `D` is [D] f32. Where u has K times the channels
    of y (the K directions of a bidirectional scan, stacked), the skip sums
    them: `y + Σ_k D[kD + d]·u[kD + d]`, D having u's channels.
    `ssm-fuse-gating` folds it into the producing scan.

    ```mlir
    %r = ssm.skip %y, %u, %D layout = channel_first
        : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>)
        -> tensor<?x512x?xbf16>
    ```
  }];
  let arguments = (ins SSM_Tensor:$y, SSM_Tensor:$u, SSM_Tensor:$D,
                       SSM_LayoutAttr:$layout);
  let results = (outs SSM_Tensor:$result);
  let assemblyFormat = [{
    $y `,` $u `,` $D `layout` `=` `` $layout attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSM_GateOp : SSM_Op<"gate", [Pure, SameOperandsAndResultType]> {
  let summary = "output gate: y·silu(z)";
  let description = [{
    Elementwise `y · z / (1 + exp(-z))`. `ssm-fuse-gating` folds it into the
    producing scan.

    ```mlir
    %o = ssm.gate %y, %z : tensor<?x512x?xbf16>
    ```
  }];
  let arguments = (ins SSM_Tensor:$y, SSM_Tensor:$z);
  let results = (outs SSM_Tensor:$result);
  let assemblyFormat = "$y `,` $z attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mamba-2
//===----------------------------------------------------------------------===//

def SSM_SSDChunkOp : SSM_Op<"ssd_chunk", [Pure, AttrSizedOperandSegments]> {
  let summary = "Mamba-2 SSD scan, chunked";
  let description = [{
    The state-space-duality scan of Mamba-2 with a scalar decay per head,
    computed chunk by chunk (`chunk_size` Q): per chunk an intra-chunk masked
    matmul pair, the chunk state, the inter-chunk recurrence and the
    state-to-output term. It equals the recurrence
    `S[t] = exp(Δ[t]·A[h])·S[t-1] + Δ[t]·x[t] ⊗ B[t]`, `y[t] = C[t]·S[t] + D·x[t]`,
    so Q changes the rounding only: the kernel works in chunks of the
    tile's `steps` (32 from ssm-tile where it divides Q).

    Operands: `x` [B, L, H, P]; `dt` [B, L, H] (raw, `softplus` applies
    `softplus(dt + bias)`); `A` [H] f32; `B`, `C` [B, L, G, N]; optional
    `skip` D [H] f32, `gate` z [B, L, H, P], `bias` [H] f32, `init` state
    [B, H, P, N] f32 and `norm_weight` [H·P] (required by and only with
    `norm`). `headdim` P and `ngroups` G restate the static sizes and are
    checked against the types. Results: `y` [B, L, H, P] and optionally the
    final state [B, H, P, N] f32.

    ```mlir
    %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D bias %dtb softplus
        chunk_size = 256 headdim = 64 ngroups = 1
        : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>,
           tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80xf32>,
           tensor<80xf32>) -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
    ```
  }];
  let arguments = (ins SSM_Tensor:$x, SSM_Tensor:$dt, SSM_Tensor:$A,
                       SSM_Tensor:$B, SSM_Tensor:$C,
                       Optional<SSM_Tensor>:$D, Optional<SSM_Tensor>:$z,
                       Optional<SSM_Tensor>:$dt_bias,
                       Optional<SSM_Tensor>:$init,
                       Optional<SSM_Tensor>:$norm_weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$chunk_size,
                       ConfinedAttr<I64Attr, [IntPositive]>:$headdim,
                       ConfinedAttr<I64Attr, [IntPositive]>:$ngroups,
                       UnitAttr:$dt_softplus,
                       OptionalAttr<SSM_NormAttr>:$norm,
                       OptionalAttr<SSM_TileAttr>:$tile);
  let results = (outs SSM_Tensor:$y, Optional<SSM_Tensor>:$final_state);
  let assemblyFormat = [{
    $x `,` $dt `,` $A `,` $B `,` $C (`skip` $D^)? (`gate` $z^)?
    (`bias` $dt_bias^)? (`init` $init^)? (`norm_weight` $norm_weight^)?
    (`softplus` $dt_softplus^)? `chunk_size` `=` $chunk_size
    `headdim` `=` $headdim `ngroups` `=` $ngroups (`norm` `=` $norm^)?
    (`tile` `=` $tile^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// Whether `tile` applies to this scan; the verifier checks the tile it
    /// carries, ssm-tile one it is about to set.
    LogicalResult verifyTile(TileAttr tile,
                             function_ref<InFlightDiagnostic()> emitError);
  }];
}

def SSM_RMSNormGatedOp : SSM_Op<"rms_norm_gated", [Pure]> {
  let summary = "gated RMSNorm over the last dimension";
  let description = [{
    `y·silu(z) / rms(y·silu(z)) · w` (or `y / rms(y) · w · silu(z)` with
    `norm_before_gate`); the rms is over groups of `group_size` consecutive
    elements of the last dimension, plus `eps`. Without `gate` it is a plain
    RMSNorm. `y` and `z` share their type; `w` is [last dim].

    ```mlir
    %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 1024 eps = 1.0e-05
        : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xf32>)
        -> tensor<?x?x5120xbf16>
    ```
  }];
  let arguments = (ins SSM_Tensor:$y, Optional<SSM_Tensor>:$z,
                       SSM_Tensor:$weight,
                       ConfinedAttr<I64Attr, [IntPositive]>:$group_size,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$eps,
                       UnitAttr:$norm_before_gate);
  let results = (outs SSM_Tensor:$result);
  let assemblyFormat = [{
    $y (`gate` $z^)? `weight` $weight `group_size` `=` $group_size
    `eps` `=` $eps (`norm_before_gate` $norm_before_gate^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def SSM_CausalConv1dOp : SSM_Op<"causal_conv1d",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "causal depthwise 1-D convolution";
  let description = [{
    `out[b,c,t] = act(bias[c] + Σ_{k<K} w[c,k]·x[b,c,t-K+1+k])`, with x before
    t = 0 taken from `init` ([B, C, K-1] f32) or zero. `x` and the result have
    the activation layout ([B, C, L] or [B, L, C]); `weight` is [C, K] with
    K in 2..4; `bias` [C]. The optional second result is the last K-1 inputs
    per channel, [B, C, K-1] f32, the conv state decoding continues from.

    ```mlir
    %o = ssm.causal_conv1d %x weight %w bias %b activation = silu
        layout = channel_last
        : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>, tensor<5376xf32>)
        -> tensor<?x?x5376xbf16>
    ```
  }];
  let arguments = (ins SSM_Tensor:$x, SSM_Tensor:$weight,
                       Optional<SSM_Tensor>:$bias, Optional<SSM_Tensor>:$init,
                       DefaultValuedAttr<SSM_ActivationAttr,
                           "Activation::None">:$activation,
                       SSM_LayoutAttr:$layout);
  let results = (outs SSM_Tensor:$result, Optional<SSM_Tensor>:$final_state);
  let assemblyFormat = [{
    $x `weight` $weight (`bias` $bias^)? (`init` $init^)?
    `activation` `=` `` $activation `layout` `=` `` $layout attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def SSM_ScanStepOp : SSM_Op<"scan_step", [Pure, AttrSizedOperandSegments]> {
  let summary = "one decode step of the recurrence";
  let description = [{
    Advances the recurrent state by one token and returns the token's output:
    `S ← exp(Δ·A)·S + Δ·B ⊗ x`, `y = S·C + D·x`, gated by silu(z) when given.
    Two forms, told apart by the rank of `state`:
    - Mamba-1: `state` [B, D, N], `x`, `delta`, `z` [B, D], `A` [D, N],
      `skip` and `bias` [D];
    - Mamba-2: `state` [B, H, P, N], `x`, `z` [B, H, P], `delta` [B, H],
      `A`, `skip` and `bias` [H].
    `B` and `C` are [B, G, N] in both. Results: `y` like `x` and the new state
    like `state` (updated in place after bufferization).

    ```mlir
    %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C skip %D softplus
        : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>,
           tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
           tensor<80xf32>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
    ```
  }];
  let arguments = (ins SSM_Tensor:$state, SSM_Tensor:$x, SSM_Tensor:$delta,
                       SSM_Tensor:$A, SSM_Tensor:$B, SSM_Tensor:$C,
                       Optional<SSM_Tensor>:$D, Optional<SSM_Tensor>:$z,
                       Optional<SSM_Tensor>:$delta_bias,
                       UnitAttr:$delta_softplus);
  let results = (outs SSM_Tensor:$y, SSM_Tensor:$new_state);
  let assemblyFormat = [{
    $state `,` $x `,` $delta `,` $A `,` $B `,` $C (`skip` $D^)? (`gate` $z^)?
    (`bias` $delta_bias^)? (`softplus` $delta_softplus^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Host
//===----------------------------------------------------------------------===//

def SSM_SplitLengthOp : SSM_Op<"split_length", [Pure]> {
  let summary = "the L segment length libssmrt picks at launch";
  let description = [{
    A host value of the launches convert-ssm-to-gpu builds: the number of
    steps of the L segments that a kernel's blocks split `length` into, left
    to the runtime, which picks a multiple of `quantum` at each launch from
    the other grid dimensions, the SM count and the kernel's occupancy
    (runtime/MANIFEST.md, `split`), so that long sequences with few heads
    still fill the GPU. Segments are at least `min_steps` steps where L has
    them: each carries in the states of the segments before it, which costs
    more where a state is large. Where segments are needed at all, there
    are enough for at most `waves` waves of the blocks (three by default).
    With `fill` the segments are instead the work units of a persistent
    kernel that runs `fill` blocks an SM: the fewest whose units keep every
    one of its blocks busy for at least a unit. The manifest names it
    symbol `S`. Host functions are read by the manifest writer, never run,
    so the op is not lowered.

    ```mlir
    %s = ssm.split_length %len quantum 32 min 1024 fill 2
    %segments = arith.ceildivui %len, %s : index
    ```
  }];
  let arguments = (ins Index:$length,
                       ConfinedAttr<I64Attr, [IntPositive]>:$quantum,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>,
                                         "256">:$min_steps,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntPositive]>,
                                         "3">:$waves,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$fill);
  let results = (outs Index:$result);
  let assemblyFormat = "$length `quantum` $quantum (`min` $min_steps^)? "
                       "(`waves` $waves^)? (`fill` $fill^)? attr-dict";
  let hasVerifier = 1;
}

def SSM_WorkerCountOp : SSM_Op<"worker_count", [Pure]> {
  let summary = "the block count of a persistent kernel, picked at launch";
  let description = [{
    A host value of the launches convert-ssm-to-gpu builds: the number of
    blocks of a persistent kernel, whose blocks each take an even,
    contiguous share of the work units' chunks. libssmrt picks it at each
    launch (runtime/MANIFEST.md, `workers`): as many blocks as the SMs run
    at once, at most `per_sm` an SM (the blocks that saturate one), and
    never more than the units, the product of `units`. The manifest names
    it symbol `W`. Host functions are read by the manifest writer, never
    run, so the op is not lowered.

    ```mlir
    %w = ssm.worker_count (%c80, %segments, %batch) per_sm 2
    ```
  }];
  let arguments = (ins Variadic<Index>:$units,
                       ConfinedAttr<I64Attr, [IntPositive]>:$per_sm);
  let results = (outs Index:$result);
  let assemblyFormat = "`(` $units `)` `per_sm` $per_sm attr-dict";
  let hasVerifier = 1;
}

#endif // SSMC_DIALECT_SSM_SSMOPS_TD
