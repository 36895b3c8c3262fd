// Gated RMSNorm kernels lower to PTX for sm_80 and sm_90 and ptxas assembles
// them without spills: a whole-row Mamba-2 norm (block of 160, workgroup
// reduction), eight groups normalized before the gate (a warp per group) and
// a plain f32 RMSNorm with a partial vector slot.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_80,sm_90" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm80.ptx
// RUN: %python %S/../extract-ptx.py 1 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_80 %t.sm80.ptx -o %t.sm80.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .entry norms_rms_norm_gated_0(
// CHECK: .maxntid 160, 1, 1
// CHECK-DAG: ld.global.nc.v4.b32
// CHECK-DAG: shfl.sync.bfly.b32
// CHECK-DAG: bar.sync
// CHECK-DAG: rsqrt.approx.ftz.f32
// CHECK-DAG: ex2.approx.ftz.f32
// CHECK-DAG: st.global.v4.b32
// CHECK: .entry norms_rms_norm_gated_1(
// CHECK: .maxntid 128, 1, 1
// CHECK: .entry norms_rms_norm_gated_2(
// CHECK: .maxntid 64, 1, 1

// PTXAS-COUNT-3: 0 bytes spill stores, 0 bytes spill loads

func.func @norms(%y: tensor<?x?x5120xbf16>, %z: tensor<?x?x5120xbf16>,
                 %w: tensor<5120xf32>, %wb: tensor<5120xbf16>,
                 %y2: tensor<?x2000xf32>, %w2: tensor<2000xf32>)
    -> (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<?x2000xf32>) {
  %a = ssm.rms_norm_gated %y gate %z weight %w group_size = 5120 eps = 1.0e-05
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xf32>)
      -> tensor<?x?x5120xbf16>
  %b = ssm.rms_norm_gated %y gate %z weight %wb group_size = 640 eps = 1.0e-05
      norm_before_gate
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xbf16>)
      -> tensor<?x?x5120xbf16>
  %c = ssm.rms_norm_gated %y2 weight %w2 group_size = 2000 eps = 1.0e-05
      : (tensor<?x2000xf32>, tensor<2000xf32>) -> tensor<?x2000xf32>
  return %a, %b, %c
      : tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<?x2000xf32>
}
