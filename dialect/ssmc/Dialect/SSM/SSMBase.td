//===- SSMBase.td - SSM dialect definition -----------------*- tablegen -*-===//
//
// The `ssm` dialect: tensor-level building blocks of state-space-model layers
// (Mamba, Mamba-2, Vim, VMamba) that ssmc tiles, fuses and lowers to GPU code.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMBASE_TD
#define SSMC_DIALECT_SSM_SSMBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def SSM_Dialect : Dialect {
  let name = "ssm";
  let cppNamespace = "::mlir::ssm";
  let summary = "State-space-model building blocks";
  let description = [{
    Ops for the selective scan of Mamba, the chunked SSD scan of Mamba-2, their
    gating, normalisation, convolution and decode-step pieces. Shapes may be
    dynamic in the batch (B) and sequence (L) dimensions so that one compiled
    kernel serves every batch size and length; channel, head, state and
    convolution sizes are static.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class SSM_Op<string mnemonic, list<Trait> traits = []>
    : Op<SSM_Dialect, mnemonic, traits>;

#endif // SSMC_DIALECT_SSM_SSMBASE_TD
