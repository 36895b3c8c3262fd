//===- SSMPasses.td - SSM dialect transformation passes ----*- tablegen -*-===//
//
// ssm -> ssm passes: fusion of the pieces around a scan and the choice of
// its tiling. Lowering out of the dialect lives in ssmc/Conversion.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMPASSES_TD
#define SSMC_DIALECT_SSM_SSMPASSES_TD

include "mlir/Pass/PassBase.td"

def SSMFuseDiscretizePass : Pass<"ssm-fuse-discretize", "func::FuncOp"> {
  let summary = "Fold ssm.discretize into the ssm.scan that consumes it";
  let description = [{
    Rewrites `ssm.scan(ssm.discretize(Δ, A, B), u, C)` into one
    `ssm.selective_scan(u, Δ, A, B, C)` so that Ā and B̄ (B·L·D·N values each)
    are recomputed in registers and never stored. Only the simplified ZOH
    mode is fused (the exact mode has no fused kernel); a discretize whose
    results have other users stays.
  }];
  let statistics = [
    Statistic<"numFused", "num-fused", "Number of discretize ops fused">
  ];
}

def SSMFuseGatingPass : Pass<"ssm-fuse-gating", "func::FuncOp"> {
  let summary = "Fold D-skip and silu gates into the producing scan";
  let description = [{
    Folds `ssm.skip(selective_scan(...), u, D)` into the scan's `skip`
    operand and `ssm.gate(selective_scan(...), z)` into its `gate` operand,
    so that the epilogue is computed while the scan output is in registers
    and the ungated output is never written. Folding requires the scan result
    to have no other user and, for the skip, the same `u`.
  }];
  let statistics = [
    Statistic<"numFused", "num-fused", "Number of epilogues fused">
  ];
}

def SSMFuseConvPass : Pass<"ssm-fuse-conv", "func::FuncOp"> {
  let summary = "Fold a causal conv1d into the selective scan it feeds";
  let description = [{
    Rewrites `ssm.selective_scan(ssm.causal_conv1d(x, w, bias), ...)` into
    `ssm.selective_scan(x, ..., conv w conv_bias bias)`: the scan kernel
    computes each step's input from the K steps of x that end there, so the
    conv's output (as large as x) is neither written nor read back. Folds
    a conv with f32 weights and without conv states (whose final state a
    decode would need) whose result feeds only the scan, as u, on a forward
    scan of one direction in the channel-first layout; run after
    ssm-fuse-gating, which folds the skip term that also reads the conv's
    output.
  }];
  let statistics = [
    Statistic<"numFused", "num-fused", "Number of conv1d ops fused">
  ];
}

def SSMTilePass : Pass<"ssm-tile", "func::FuncOp"> {
  let summary = "Choose the #ssm.tile of every scan";
  let description = [{
    Attaches a `#ssm.tile` to every `ssm.selective_scan` and
    `ssm.ssd_chunk` that has none: the `ssm.tile` attribute of the enclosing
    function when present (the spec's choice; an SSD's `steps` are the
    heuristic's unless it sets them), else the options where set, else a
    heuristic on the static sizes (channels per B/C group; head-dim columns
    and chunk_size; for an SSD, chunks of 32 steps, the stages left to the
    kernel, two). With `warpgroup-mma`, an SSD whose
    head dim is a multiple of 64, whose N is a multiple of 16 up to 256 and
    whose chunk_size is a multiple of 32 gets the warpgroup tile instead
    (threads 128, items 64, steps 32, three stages), unless the options or
    the function's tile set the block shape or the steps otherwise. The
    lowering only reads the attribute.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "Threads per block (0: heuristic)">,
    Option<"items", "items", "int64_t", /*default=*/"0",
           "Time steps per thread and tile (0: heuristic)">,
    Option<"chunk", "chunk", "int64_t", /*default=*/"0",
           "L segment per block (0: picked by libssmrt at launch)">,
    Option<"lanes", "lanes", "int64_t", /*default=*/"0",
           "Threads per channel of a selective scan (0: the heuristic's, "
           "or 1 where threads or items are set)">,
    Option<"fmaExps", "fma-exps", "int64_t", /*default=*/"-1",
           "State exps per step on the FMA pipe (-1: heuristic)">,
    Option<"stages", "stages", "int64_t", /*default=*/"1",
           "Chunks an SSD kernel stages in workgroup memory (2 or 3; "
           "1: two)">,
    Option<"steps", "steps", "int64_t", /*default=*/"0",
           "Chunk length of an SSD kernel (0: heuristic)">,
    Option<"warpgroup", "warpgroup-mma", "bool", /*default=*/"false",
           "Give SSD scans whose shape fits it the warpgroup-MMA kernel "
           "(sm_90a only)">,
  ];
}

#endif // SSMC_DIALECT_SSM_SSMPASSES_TD
