// The channel-first conv1d lowers to one kernel with two bodies: 32-bit
// offsets (a 32-bit division by L) where the tensor allows, 64-bit past
// 2^31 - 2^16 elements; ptxas budgets registers for 8 blocks an SM.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_90" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .entry conv_causal_conv1d_0(
// CHECK: .minnctapersm 8
// CHECK-DAG: div.u32
// CHECK-DAG: div.u64
// CHECK-DAG: ld.global.nc.v4.b32
// CHECK-DAG: st.global.v4.b32
// CHECK-DAG: shfl.sync.idx.b32

// PTXAS: Compiling entry function 'conv_causal_conv1d_0'
// PTXAS: Used {{([1-5][0-9]|6[0-4])}} registers

func.func @conv(%x: tensor<?x5120x?xbf16> {ssm.name = "x"},
                %w: tensor<5120x4xf32> {ssm.name = "weight"},
                %b: tensor<5120xf32> {ssm.name = "bias"})
    -> (tensor<?x5120x?xbf16> {ssm.name = "y"}) {
  %y = ssm.causal_conv1d %x weight %w bias %b activation = silu
      layout = channel_first
      : (tensor<?x5120x?xbf16>, tensor<5120x4xf32>, tensor<5120xf32>)
      -> tensor<?x5120x?xbf16>
  return %y : tensor<?x5120x?xbf16>
}
