// The pipeline hands its ptxas-options to ptxas (none by default), as ssmc
// does its --ptxas-options: an option ptxas does not know fails the
// serialization with ptxas's own message, and ssmc writes nothing.
// REQUIRES: ptxas
// RUN: not ssm-opt %S/ssm-to-nvvm.mlir -ssm-to-nvvm="format=bin chips=sm_90 toolkit=%cuda_root ptxas-options=--no-such-option" -o /dev/null 2>&1 | FileCheck %s
// RUN: ssm-opt %S/ssm-to-nvvm.mlir -ssm-to-nvvm="format=bin chips=sm_90 toolkit=%cuda_root ptxas-options=--register-usage-level=8" -o /dev/null
// RUN: rm -rf %t && not ssmc %ssmc_src_root/examples/mamba1.json -o %t --cuda-path=%cuda_root --ptxas-options=--no-such-option 2>&1 | FileCheck %s --check-prefixes=CHECK,SSMC
// RUN: not ls %t

// CHECK: `ptxas` invocation failed
// CHECK: Unknown option '-no-such-option'
// ssmc reports the first target that fails (of sm_80 and sm_90), not every
// target's copy of the same error.
// SSMC: error: cannot serialize the kernels for sm_80
// SSMC-NOT: error
