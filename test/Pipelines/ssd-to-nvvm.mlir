// The SSD kernel lowers to PTX for sm_80 and sm_90 with its tensor-core and
// async-copy instructions; ptxas assembles both, as it does the carry and
// scan kernels of a layer split into L segments. The carry kernel's 64-step
// chunks, three stages deep, fit two of its blocks an SM in workgroup
// memory, as the scan's 32-step chunks (ssm-tile's) fit two persistent scan
// blocks: both ask for two resident 128-thread blocks (up to 255 registers
// a thread), which ptxas meets without spills.
// RUN: ssm-opt %s -ssm-to-nvvm="format=isa chips=sm_80,sm_90" -o %t.mlir
// RUN: %python %S/../extract-ptx.py 0 < %t.mlir > %t.sm80.ptx
// RUN: %python %S/../extract-ptx.py 1 < %t.mlir > %t.sm90.ptx
// RUN: FileCheck %s < %t.sm90.ptx
// RUN: FileCheck %s --check-prefix=CARRY < %t.sm90.ptx
// RUN: %if ptxas %{ %ptxas -v -arch=sm_80 %t.sm80.ptx -o %t.sm80.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}
// RUN: %if ptxas %{ %ptxas -v -arch=sm_90 %t.sm90.ptx -o %t.sm90.cubin 2>&1 | FileCheck %s --check-prefix=PTXAS %}

// CHECK: .shared .align 16 .b8 __dynamic_shmem__0
// CHECK: .entry ssd_ssd_chunk_0(
// CHECK: .maxntid 128, 1, 1
// CHECK-NEXT: .minnctapersm 2
// CHECK-DAG: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// CHECK-DAG: cp.async.ca.shared.global [{{.*}}], [{{.*}}], 16, {{.*}};
// CHECK-DAG: cp.async.wait_group 1;
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-DAG: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: ex2.approx.ftz.f32

// The carry kernel copies whole rows of whole chunks: no copy has a source
// size (a zero fill), and each operand's copies of a chunk share one
// address plus immediates, a pass of the threads apart: 16 rows of x
// (16 · 80 · 64 · 2 bytes in global memory, 16 · 72 · 2 in the stage) and
// 8 rows of B (8 · 128 · 2 bytes). The scan's copies keep their size.
// CARRY-LABEL: .entry ssd_ssd_chunk_0_carry(
// CARRY-NOT: , 16, %r
// CARRY: cp.async.cg.shared.global [%rd[[X:[0-9]+]]+2304], [%rd[[XS:[0-9]+]]+163840], 16;
// CARRY-NEXT: cp.async.cg.shared.global [%rd[[X]]+4608], [%rd[[XS]]+327680], 16;
// CARRY-NOT: , 16, %r
// CARRY: cp.async.ca.shared.global [%rd{{[0-9]+}}+{{[0-9]+}}], [%rd[[BS:[0-9]+]]+2048], 16;
// CARRY-NEXT: cp.async.ca.shared.global [%rd{{[0-9]+}}+{{[0-9]+}}], [%rd[[BS]]+4096], 16;
// CARRY-NOT: , 16, %r
// CARRY-LABEL: .entry ssd_ssd_chunk_0(
// CARRY: cp.async.cg.shared.global [{{.*}}], [{{.*}}], 16, %r

// ptxas reports the entries last to first.
// PTXAS: Compiling entry function 'segments_ssd_chunk_0'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS: Used {{2[0-5][0-9]|1[0-9][0-9]}} registers
// PTXAS: Compiling entry function 'segments_ssd_chunk_0_carry'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS: Used {{2[0-5][0-9]|1[0-9][0-9]}} registers
// PTXAS: Compiling entry function 'ssd_ssd_chunk_0'
// PTXAS: 0 bytes spill stores, 0 bytes spill loads
// PTXAS: Used {{2[0-5][0-9]|1[0-9][0-9]}} registers

func.func @ssd(%x: tensor<?x?x80x64xbf16> {ssm.name = "x"},
               %dt: tensor<?x?x80xbf16> {ssm.name = "dt"},
               %A: tensor<80xf32> {ssm.name = "A"},
               %B: tensor<?x?x1x128xbf16> {ssm.name = "B"},
               %C: tensor<?x?x1x128xbf16> {ssm.name = "C"},
               %D: tensor<80xf32> {ssm.name = "D"},
               %z: tensor<?x?x80x64xbf16> {ssm.name = "z"},
               %db: tensor<80xf32> {ssm.name = "dt_bias"})
    -> (tensor<?x?x80x64xbf16> {ssm.name = "y"},
        tensor<?x80x64x128xf32> {ssm.name = "final_state"}) {
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D gate %z bias %db softplus
      chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80xf32>,
         tensor<?x?x80x64xbf16>, tensor<80xf32>)
      -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s : tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>
}

func.func @segments(%x: tensor<?x?x80x64xbf16> {ssm.name = "x"},
                    %dt: tensor<?x?x80xbf16> {ssm.name = "dt"},
                    %A: tensor<80xf32> {ssm.name = "A"},
                    %B: tensor<?x?x1x128xbf16> {ssm.name = "B"},
                    %C: tensor<?x?x1x128xbf16> {ssm.name = "C"},
                    %D: tensor<80xf32> {ssm.name = "D"},
                    %db: tensor<80xf32> {ssm.name = "dt_bias"})
    -> (tensor<?x?x80x64xbf16> {ssm.name = "y"},
        tensor<?x80x64x128xf32> {ssm.name = "final_state"}) {
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %C skip %D bias %db softplus
      chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64, chunk = 2048>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80xf32>,
         tensor<80xf32>)
      -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return %y, %s : tensor<?x?x80x64xbf16>, tensor<?x80x64x128xf32>
}
