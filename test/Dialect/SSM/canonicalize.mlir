// RUN: ssm-opt %s -split-input-file -canonicalize | FileCheck %s

// An unused last state is dropped (its kernel then stores none); a constant
// zero initial state, a zero Δ bias and a zero conv bias are dropped (absent
// means zero).

// CHECK-LABEL: func.func @selective_scan(
// CHECK-SAME: %[[U:[^:]+]]: tensor<?x512x?xbf16>, %[[DELTA:[^:]+]]: tensor<?x512x?xbf16>, %[[A:[^:]+]]: tensor<512x16xf32>, %[[B:[^:]+]]: tensor<?x1x16x?xbf16>, %[[C:[^:]+]]: tensor<?x1x16x?xbf16>, %[[D:[^:]+]]: tensor<512xf32>
// CHECK-NOT: arith.constant
// CHECK: %[[Y:.*]] = ssm.selective_scan %[[U]], %[[DELTA]], %[[A]], %[[B]], %[[C]] skip %[[D]] softplus layout = channel_first :
// CHECK-SAME: tensor<512xf32>) -> tensor<?x512x?xbf16>
// CHECK-NEXT: return %[[Y]]
func.func @selective_scan(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>,
                          %A: tensor<512x16xf32>, %B: tensor<?x1x16x?xbf16>,
                          %C: tensor<?x1x16x?xbf16>, %D: tensor<512xf32>)
    -> tensor<?x512x?xbf16> {
  %bias = arith.constant dense<0.0> : tensor<512xf32>
  %h0 = arith.constant dense<0.0> : tensor<2x512x16xf32>
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C skip %D bias %bias init %h0
      softplus layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>,
         tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512xf32>,
         tensor<512xf32>, tensor<2x512x16xf32>)
      -> (tensor<?x512x?xbf16>, tensor<2x512x16xf32>)
  return %y : tensor<?x512x?xbf16>
}

// -----

// A zero bias of a folded conv is dropped too; the conv stays.
// CHECK-LABEL: func.func @conv_bias(
// CHECK-SAME: %[[W:[^:]+]]: tensor<512x4xf32>)
// CHECK-NOT: arith.constant
// CHECK: ssm.selective_scan %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} conv %[[W]] conv_silu layout = channel_first :
func.func @conv_bias(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>,
                     %A: tensor<512x16xf32>, %B: tensor<?x1x16x?xbf16>,
                     %w: tensor<512x4xf32>) -> tensor<?x512x?xbf16> {
  %cb = arith.constant dense<0.0> : tensor<512xf32>
  %y = ssm.selective_scan %u, %delta, %A, %B, %B conv %w conv_bias %cb conv_silu
      layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>,
         tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512x4xf32>,
         tensor<512xf32>) -> tensor<?x512x?xbf16>
  return %y : tensor<?x512x?xbf16>
}

// -----

// A zero D skip stays (D·u is NaN where u is not finite), as do a nonzero
// bias and a last state that is returned.

// CHECK-LABEL: func.func @kept(
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<512xf32>
// CHECK: %[[BIAS:.*]] = arith.constant dense<1.000000e+00> : tensor<512xf32>
// CHECK: %{{.*}}, %{{.*}} = ssm.selective_scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %[[ZERO]] bias %[[BIAS]] layout = channel_first :
func.func @kept(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xbf16>,
                %A: tensor<512x16xf32>, %B: tensor<?x1x16x?xbf16>,
                %C: tensor<?x1x16x?xbf16>)
    -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>) {
  %D = arith.constant dense<0.0> : tensor<512xf32>
  %bias = arith.constant dense<1.0> : tensor<512xf32>
  %y, %h = ssm.selective_scan %u, %delta, %A, %B, %C skip %D bias %bias
      layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>,
         tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>, tensor<512xf32>,
         tensor<512xf32>)
      -> (tensor<?x512x?xbf16>, tensor<?x512x16xf32>)
  return %y, %h : tensor<?x512x?xbf16>, tensor<?x512x16xf32>
}

// -----

// CHECK-LABEL: func.func @scan(
// CHECK-NOT: arith.constant
// CHECK: %[[Y:.*]] = ssm.scan %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} layout = channel_first :
// CHECK-SAME: -> tensor<2x512x8xbf16>
func.func @scan(%abar: tensor<2x512x8x16xf32>, %bbar: tensor<2x512x8x16xf32>,
                %u: tensor<2x512x8xbf16>, %C: tensor<2x16x8xbf16>)
    -> tensor<2x512x8xbf16> {
  %h0 = arith.constant dense<0.0> : tensor<2x512x16xf32>
  %y, %h = ssm.scan %abar, %bbar, %u, %C init %h0 layout = channel_first
      : (tensor<2x512x8x16xf32>, tensor<2x512x8x16xf32>, tensor<2x512x8xbf16>,
         tensor<2x16x8xbf16>, tensor<2x512x16xf32>)
      -> (tensor<2x512x8xbf16>, tensor<2x512x16xf32>)
  return %y : tensor<2x512x8xbf16>
}

// -----

// CHECK-LABEL: func.func @ssd_chunk(
// CHECK-NOT: arith.constant
// CHECK: %[[Y:.*]] = ssm.ssd_chunk %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} skip %{{.*}} softplus chunk_size = 64 headdim = 64 ngroups = 1 :
// CHECK-SAME: -> tensor<2x256x8x64xbf16>
func.func @ssd_chunk(%x: tensor<2x256x8x64xbf16>, %dt: tensor<2x256x8xbf16>,
                     %A: tensor<8xf32>, %B: tensor<2x256x1x128xbf16>,
                     %C: tensor<2x256x1x128xbf16>, %D: tensor<8xf32>)
    -> tensor<2x256x8x64xbf16> {
  %dtb = arith.constant dense<0.0> : tensor<8xf32>
  %s0 = arith.constant dense<0.0> : tensor<2x8x64x128xf32>
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D bias %dtb init %s0 softplus
      chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<2x256x8x64xbf16>, tensor<2x256x8xbf16>, tensor<8xf32>,
         tensor<2x256x1x128xbf16>, tensor<2x256x1x128xbf16>, tensor<8xf32>,
         tensor<8xf32>, tensor<2x8x64x128xf32>)
      -> (tensor<2x256x8x64xbf16>, tensor<2x8x64x128xf32>)
  return %y : tensor<2x256x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @causal_conv1d(
// CHECK-NOT: arith.constant
// CHECK: %[[O:.*]] = ssm.causal_conv1d %{{.*}} weight %{{.*}} activation = silu layout = channel_last :
// CHECK-SAME: (tensor<?x?x256xbf16>, tensor<256x4xf32>) -> tensor<?x?x256xbf16>
func.func @causal_conv1d(%x: tensor<?x?x256xbf16>, %w: tensor<256x4xf32>)
    -> tensor<?x?x256xbf16> {
  %bias = arith.constant dense<0.0> : tensor<256xf32>
  %init = arith.constant dense<0.0> : tensor<2x256x3xf32>
  %o, %s = ssm.causal_conv1d %x weight %w bias %bias init %init
      activation = silu layout = channel_last
      : (tensor<?x?x256xbf16>, tensor<256x4xf32>, tensor<256xf32>,
         tensor<2x256x3xf32>) -> (tensor<?x?x256xbf16>, tensor<2x256x3xf32>)
  return %o : tensor<?x?x256xbf16>
}
