// The pipeline hands its ptxas-options to ptxas (by default the register
// usage level that ssmc ships with): an option ptxas does not know fails
// the serialization with ptxas's own message.
// REQUIRES: ptxas
// RUN: not ssm-opt %S/ssm-to-nvvm.mlir -ssm-to-nvvm="format=bin chips=sm_90 toolkit=%cuda_root ptxas-options=--no-such-option" -o /dev/null 2>&1 | FileCheck %s
// RUN: ssm-opt %S/ssm-to-nvvm.mlir -ssm-to-nvvm="format=bin chips=sm_90 toolkit=%cuda_root" -o /dev/null

// CHECK: `ptxas` invocation failed
// CHECK: Unknown option '-no-such-option'
