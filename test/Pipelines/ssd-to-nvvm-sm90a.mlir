// An SSD with the warpgroup tile (the spec's opt-in, compiled for sm_90a
// alone) lowers to wgmma (the NVVM op becomes inline PTX) beside the
// mma.sync of its state term, with the proxy fence that publishes
// workgroup-memory writes to the tensor cores; ptxas assembles it for
// sm_90a within the two-blocks-an-SM bound of the persistent scan (with an
// initial state and L segments), without spills. The carry kernel of an
// L-segmented layer is the mma.sync one.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_90a" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.ptx
// RUN: FileCheck %s < %t.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90a %t.ptx -o %t.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .target sm_90a
// CHECK: .entry segments_ssd_chunk_0_carry(
// CHECK: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK: .entry segments_ssd_chunk_0(
// CHECK: .minnctapersm 2
// CHECK-DAG: fence.proxy.async.shared::cta;
// CHECK-DAG: wgmma.fence.sync.aligned;
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK-DAG: wgmma.commit_group.sync.aligned;
// CHECK-DAG: wgmma.wait_group.sync.aligned 2;
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// PTXAS: Compiling entry function 'segments_ssd_chunk_0'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS: Used {{2[0-5][0-9]|1[0-9][0-9]}} registers
// PTXAS: Compiling entry function 'segments_ssd_chunk_0_carry'

func.func @segments(%x: tensor<?x?x80x64xbf16> {ssm.name = "x"},
                    %dt: tensor<?x?x80xbf16> {ssm.name = "dt"},
                    %A: tensor<80xf32> {ssm.name = "A"},
                    %B: tensor<?x?x1x128xbf16> {ssm.name = "B"},
                    %C: tensor<?x?x1x128xbf16> {ssm.name = "C"},
                    %D: tensor<80xf32> {ssm.name = "D"},
                    %h0: tensor<?x80x64x128xf32> {ssm.name = "init"})
    -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
    attributes {ssm.tile = #ssm.tile<threads = 128, items = 64, chunk = 1024, stages = 3, steps = 32, warpgroup = true>} {
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D init %h0 softplus
      chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80xf32>,
         tensor<?x80x64x128xf32>)
      -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s : tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>
}
