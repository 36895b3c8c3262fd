// The decode step lowers to PTX for sm_80 and sm_90; ptxas assembles both
// without spills.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_80,sm_90" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm80.ptx
// RUN: %python %S/../extract-ptx.py 1 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_80 %t.sm80.ptx -o %t.sm80.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .entry decode_scan_step_0(
// CHECK-DAG: ld.global.v4.{{[bf]}}32
// CHECK-DAG: st.global.v4.b32
// CHECK-DAG: shfl.sync.bfly.b32

// PTXAS: Compiling entry function 'decode_scan_step_0'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads

func.func @decode(%s0: tensor<?x80x64x128xf32> {ssm.name = "state"},
                  %x: tensor<?x80x64xbf16> {ssm.name = "x"},
                  %dt: tensor<?x80xbf16> {ssm.name = "delta"},
                  %A: tensor<80xf32> {ssm.name = "A"},
                  %B: tensor<?x1x128xbf16> {ssm.name = "B"},
                  %C: tensor<?x1x128xbf16> {ssm.name = "C"},
                  %D: tensor<80xf32> {ssm.name = "D"},
                  %db: tensor<80xf32> {ssm.name = "delta_bias"})
    -> (tensor<?x80x64xbf16> {ssm.name = "y"},
        tensor<?x80x64x128xf32> {ssm.name = "state"}) {
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C skip %D bias %db softplus
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>,
         tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
         tensor<80xf32>, tensor<80xf32>)
      -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s1 : tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>
}
