// With tensor copies the SSD scan lowers to PTX 8.6 for sm_90 with TMA box
// copies to shared::cta on mbarriers; ptxas assembles it without spills.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_90 tensor-copies=1" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .version 8.6
// CHECK: .entry tma_ssd_chunk_0(
// CHECK-DAG: mbarrier.init.shared.b64
// CHECK-DAG: mbarrier.arrive.expect_tx.shared.b64
// CHECK-DAG: cp.async.bulk.tensor.3d.shared::cta.global.tile.mbarrier::complete_tx::bytes
// CHECK-DAG: mbarrier.try_wait.parity.shared.b64
// CHECK-DAG: cp.async.cg.shared.global

// PTXAS: Compiling entry function 'tma_ssd_chunk_0'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads

func.func @tma(%x: tensor<?x?x8x64xbf16> {ssm.name = "x"},
               %dt: tensor<?x?x8xbf16> {ssm.name = "dt"},
               %A: tensor<8xf32> {ssm.name = "A"},
               %B: tensor<?x?x1x128xbf16> {ssm.name = "B"},
               %C: tensor<?x?x1x128xbf16> {ssm.name = "C"})
    -> (tensor<?x?x8x64xbf16> {ssm.name = "y"}) attributes {ssm.layer} {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 64 headdim = 64
      ngroups = 1
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
