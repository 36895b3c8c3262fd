// The named pipeline takes an unfused bidirectional Vim layer (discretize,
// a bidirectional scan, the skip over both directions, the gate) to PTX for
// sm_80 and sm_90: one fused scan kernel (and its carry kernel) that ptxas
// assembles without spills.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_80,sm_90" -o %t.mlir
// RUN: FileCheck %s --input-file=%t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm80.ptx
// RUN: %python %S/../extract-ptx.py 1 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_80 %t.sm80.ptx -o %t.sm80.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: func.func @vim(
// CHECK: gpu.launch_func @ssm_kernels::@vim_selective_scan_0_carry
// CHECK: gpu.launch_func @ssm_kernels::@vim_selective_scan_0
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.binary @ssm_kernels

// The scan kernel stores the forward sums, then reads them back (plain
// loads: y is written in the same kernel) after a barrier.
// PTX: .entry vim_selective_scan_0(
// PTX-DAG: ld.global.nc.v4.b32
// PTX-DAG: ex2.approx.ftz.f32
// PTX-DAG: bar.sync
// PTX-DAG: st.global.v4.b32
// PTX-DAG: ld.global.v4.b32

// PTXAS-COUNT-2: 0 bytes spill stores, 0 bytes spill loads

func.func @vim(%u: tensor<?x512x?xbf16> {ssm.name = "u"},
               %delta: tensor<?x512x?xbf16> {ssm.name = "delta"},
               %A: tensor<512x16xf32> {ssm.name = "A"},
               %B: tensor<?x2x16x?xbf16> {ssm.name = "B"},
               %C: tensor<?x2x16x?xbf16> {ssm.name = "C"},
               %D: tensor<512xf32> {ssm.name = "D"},
               %z: tensor<?x256x?xbf16> {ssm.name = "z"},
               %db: tensor<512xf32> {ssm.name = "delta_bias"})
    -> (tensor<?x256x?xbf16> {ssm.name = "y"}) {
  %abar, %bbar = ssm.discretize %delta, %A, %B bias %db softplus
      layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x2x16x?xbf16>,
         tensor<512xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  %y0 = ssm.scan %abar, %bbar, %u, %C bidirectional layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>,
         tensor<?x2x16x?xbf16>) -> tensor<?x256x?xbf16>
  %y1 = ssm.skip %y0, %u, %D layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>)
      -> tensor<?x256x?xbf16>
  %y = ssm.gate %y1, %z : tensor<?x256x?xbf16>
  return %y : tensor<?x256x?xbf16>
}
