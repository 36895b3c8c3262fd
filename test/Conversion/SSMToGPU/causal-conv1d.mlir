// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s

// Channel-first: one output per thread along t, grid ceil(L / 128) x C x B;
// inputs before t = 0 come from the initial state, selected per tap.

// CHECK-LABEL: func.func @conv_cf(
// CHECK-SAME: {ssm.name = "y", ssm.output}, %{{.*}}: memref<?x64x3xf32> {ssm.name = "final_state", ssm.output})
// CHECK: %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c2
// CHECK: %[[GX:.*]] = arith.ceildivui %[[L]], %c128
// CHECK: gpu.launch_func @ssm_kernels::@conv_cf_causal_conv1d_0 blocks in (%[[GX]], %c64, %[[B]])
// CHECK-SAME: ssm.op = "causal_conv1d"
// CHECK: gpu.func @conv_cf_causal_conv1d_0
// CHECK-COUNT-4: math.fma
// CHECK: math.exp2
// CHECK: scf.if
// CHECK: memref.store
func.func @conv_cf(%x: tensor<?x64x?xbf16>, %w: tensor<64x4xf32>,
                   %b: tensor<64xf32>, %s: tensor<?x64x3xf32>)
    -> (tensor<?x64x?xbf16> {ssm.name = "y"},
        tensor<?x64x3xf32> {ssm.name = "final_state"}) {
  %y, %f = ssm.causal_conv1d %x weight %w bias %b init %s activation = silu
      layout = channel_first
      : (tensor<?x64x?xbf16>, tensor<64x4xf32>, tensor<64xf32>,
         tensor<?x64x3xf32>) -> (tensor<?x64x?xbf16>, tensor<?x64x3xf32>)
  return %y, %f : tensor<?x64x?xbf16>, tensor<?x64x3xf32>
}

// -----

// Channel-last: threads along C, each walking 16 steps (grid ceil(C / 128)
// x ceil(L / 16) x B) with the K-1 previous inputs in registers.

// CHECK-LABEL: func.func @conv_cl(
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c1
// CHECK: %[[GY:.*]] = arith.ceildivui %[[L]], %c16
// CHECK: gpu.launch_func @ssm_kernels::@conv_cl_causal_conv1d_0 blocks in (%c3, %[[GY]], %{{.*}})
// CHECK: gpu.func @conv_cl_causal_conv1d_0
// CHECK-COUNT-16: memref.store
func.func @conv_cl(%x: tensor<?x?x384xf32>, %w: tensor<384x2xf32>)
    -> tensor<?x?x384xf32> {
  %y = ssm.causal_conv1d %x weight %w activation = none layout = channel_last
      : (tensor<?x?x384xf32>, tensor<384x2xf32>) -> tensor<?x?x384xf32>
  return %y : tensor<?x?x384xf32>
}
