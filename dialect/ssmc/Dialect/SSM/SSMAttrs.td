//===- SSMAttrs.td - SSM dialect enums and attributes ------*- tablegen -*-===//
//
// Enums for data layouts and op modes, and the #ssm.tile attribute that
// carries tuning choices from ssm-tune (or a heuristic) into the lowering.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMATTRS_TD
#define SSMC_DIALECT_SSM_SSMATTRS_TD

include "ssmc/Dialect/SSM/SSMBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def SSM_LayoutChannelFirst : I32EnumAttrCase<"ChannelFirst", 0, "channel_first">;
def SSM_LayoutChannelLast : I32EnumAttrCase<"ChannelLast", 1, "channel_last">;
def SSM_Layout : I32EnumAttr<"Layout",
    "activation layout: channel_first is [B, D, L], channel_last is [B, L, D]",
    [SSM_LayoutChannelFirst, SSM_LayoutChannelLast]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::ssm";
}
def SSM_LayoutAttr : EnumAttr<SSM_Dialect, SSM_Layout, "layout">;

def SSM_ZohSimplified : I32EnumAttrCase<"ZohSimplified", 0, "zoh_simplified">;
def SSM_ZohExact : I32EnumAttrCase<"ZohExact", 1, "zoh_exact">;
def SSM_DiscretizeMode : I32EnumAttr<"DiscretizeMode",
    "zero-order-hold discretization: B̄ = Δ·B (simplified) or (Ā-1)/A·B (exact)",
    [SSM_ZohSimplified, SSM_ZohExact]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::ssm";
}
def SSM_DiscretizeModeAttr
    : EnumAttr<SSM_Dialect, SSM_DiscretizeMode, "discretize_mode">;

def SSM_ActNone : I32EnumAttrCase<"None", 0, "none">;
def SSM_ActSilu : I32EnumAttrCase<"Silu", 1, "silu">;
def SSM_Activation : I32EnumAttr<"Activation", "pointwise activation",
    [SSM_ActNone, SSM_ActSilu]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::ssm";
}
def SSM_ActivationAttr : EnumAttr<SSM_Dialect, SSM_Activation, "activation">;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class SSM_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<SSM_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def SSM_TileAttr : SSM_Attr<"Tile", "tile"> {
  let summary = "Tiling choice for a scan kernel";
  let description = [{
    How a scan is mapped onto the GPU. `threads` is the thread-block size,
    `items` the number of consecutive time steps a thread processes per tile
    (loads are vectorized over them; for an SSD, the head-dim columns a
    block owns), `chunk` the length of the L segment one block scans before
    handing the carried state on (0: a length libssmrt picks at each launch,
    `ssm.split_length`, the whole sequence where the rest of the grid fills
    the GPU), `stages` the
    software-pipelining depth of the loads: the SSD kernel stages 2 or 3
    chunks (fewer means 2; with 3 it runs two chunks ahead, computes the
    next chunk's G during this one and needs one barrier a chunk), the
    selective-scan lowering always runs its tiles two-stage (the next tile's
    loads in flight while one is computed) and does not read it.
    `steps` is, for an SSD, the chunk length Q the kernel works in; it must
    divide the op's chunk_size, and 0 means chunk_size itself. The output
    does not depend on Q beyond rounding, so Q is a tile choice like the
    others.
    `lanes` is how many threads of a selective scan share one channel, each
    keeping N/lanes of its states (more warps for shapes with few channels).
    `fma_exps` is how many of a selective-scan thread's state exps per step
    are evaluated as a polynomial on the FMA pipe instead of on the SFU: the
    scan issues one SFU exp per state and step, and the SFU runs at a quarter
    of the FMA rate, so moving a few exps over balances the two pipes.
    `warpgroup` runs an SSD on one warpgroup a block with warpgroup MMA
    (wgmma, sm_90a only): 32-step chunks, 64 head-dim columns, three stages.

    ```mlir
    #ssm.tile<threads = 64, items = 16, chunk = 0>
    ```
  }];
  let parameters = (ins "int64_t":$threads, "int64_t":$items,
                        DefaultValuedParameter<"int64_t", "0">:$chunk,
                        DefaultValuedParameter<"int64_t", "1">:$stages,
                        DefaultValuedParameter<"int64_t", "1">:$lanes,
                        DefaultValuedParameter<"int64_t", "0">:$fma_exps,
                        DefaultValuedParameter<"int64_t", "0">:$steps,
                        DefaultValuedParameter<"bool", "false">:$warpgroup);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The one warpgroup tile (threads 128, items 64, steps 32, three
    /// stages) over L segments of `chunk` steps.
    static TileAttr getWarpgroupTile(::mlir::MLIRContext *context,
                                     int64_t chunk);
  }];
}

def SSM_NormAttr : SSM_Attr<"Norm", "norm"> {
  let summary = "Gated RMSNorm epilogue of an SSD scan";
  let description = [{
    The output normalisation Mamba-2 applies after the scan:
    `y·silu(z) / rms(y·silu(z)) · w`, or `y / rms(y) · w · silu(z)` when
    `before_gate` is set. The rms is taken over groups of `group_size`
    consecutive channels with `eps` added to the mean square.

    ```mlir
    #ssm.norm<group_size = 5120, eps = 1.0e-05 : f64>
    ```
  }];
  let parameters = (ins "int64_t":$group_size,
                        "FloatAttr":$eps,
                        DefaultValuedParameter<"bool", "false">:$before_gate);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // SSMC_DIALECT_SSM_SSMATTRS_TD
