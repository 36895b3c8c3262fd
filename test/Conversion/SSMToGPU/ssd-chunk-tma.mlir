// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu="tensor-copies=1" | FileCheck %s
// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s --check-prefix=CPASYNC

// With tensor copies (every target sm_90 or newer) the scan stages B and C
// by TMA: a `tensor_maps` workspace names the layer tensors and the boxes
// (the padded row of N + 8 columns, a chunk's 32 rows, one batch entry)
// whose CUtensorMaps libssmrt writes into it; the kernel takes it last
// before the sizes. Thread 0 arms the stage's mbarrier with the two boxes'
// bytes and issues both copies; every thread waits on the mbarrier before
// the chunk's barrier, and a run's last (unused) copies land before the
// mbarriers are set up anew. x stays on cp.async, and the carry kernel
// keeps cp.async for B.
// CHECK-LABEL: func.func @tma(
// CHECK: %[[MAPS:.*]] = memref.alloc() {ssm.name = "tensor_maps", ssm.tensor_maps = [{box = array<i64: 136, 32, 1>, tensor = "B"}, {box = array<i64: 136, 32, 1>, tensor = "C"}]} : memref<64xf32>
// CHECK: gpu.launch_func @ssm_kernels::@tma_ssd_chunk_0_carry
// CHECK: %[[ARG:.*]] = memref.reinterpret_cast %[[MAPS]]
// CHECK: gpu.launch_func @ssm_kernels::@tma_ssd_chunk_0 {{.*}}, %[[ARG]] : memref<1xf32>, %{{.*}} : index, %{{.*}} : index, %{{.*}} : index)
// CHECK: gpu.func @tma_ssd_chunk_0_carry(
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: gpu.func @tma_ssd_chunk_0(
// CHECK: nvvm.mbarrier.init
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c17408_i32
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.*}}, %{{.*}}, %{{.*}}, box[%{{.*}}, %{{.*}}, %{{.*}}] {isCTAOnly = true
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.mbarrier.inval

// Without, B and C are copied by cp.async.
// CPASYNC-LABEL: func.func @tma(
// CPASYNC-NOT: ssm.tensor_maps
// CPASYNC: gpu.func @tma_ssd_chunk_0(
// CPASYNC-NOT: nvvm.cp.async.bulk.tensor
// CPASYNC: gpu.return

func.func @tma(%x: tensor<?x?x8x64xbf16> {ssm.name = "x"},
               %dt: tensor<?x?x8xbf16> {ssm.name = "dt"},
               %A: tensor<8xf32> {ssm.name = "A"},
               %B: tensor<?x?x2x128xbf16> {ssm.name = "B"},
               %C: tensor<?x?x2x128xbf16> {ssm.name = "C"})
    -> (tensor<?x?x8x64xbf16> {ssm.name = "y"}) {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 64 headdim = 64
      ngroups = 2 tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

// Tensors without a layer name (no ssm.name) cannot be named in the
// manifest: the scan stays on cp.async.
// CHECK-LABEL: func.func @unnamed(
// CHECK-NOT: ssm.tensor_maps
// CHECK: gpu.func @unnamed_ssd_chunk_0(
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: gpu.return
// CPASYNC-LABEL: func.func @unnamed(

func.func @unnamed(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                   %A: tensor<8xf32>, %B: tensor<?x?x2x128xbf16>,
                   %C: tensor<?x?x2x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 64 headdim = 64
      ngroups = 2 tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

// A kernel that gates its output by silu(z) keeps cp.async (it ran faster
// so on an H200); gated by a norm kernel instead, the scan takes the tensor
// copies.
// CHECK-LABEL: func.func @gated(
// CHECK-NOT: ssm.tensor_maps
// CHECK: gpu.func @gated_ssd_chunk_0(
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: gpu.return
// CPASYNC-LABEL: func.func @gated(

func.func @gated(%x: tensor<?x?x8x64xbf16> {ssm.name = "x"},
                 %dt: tensor<?x?x8xbf16> {ssm.name = "dt"},
                 %A: tensor<8xf32> {ssm.name = "A"},
                 %B: tensor<?x?x2x128xbf16> {ssm.name = "B"},
                 %C: tensor<?x?x2x128xbf16> {ssm.name = "C"},
                 %z: tensor<?x?x8x64xbf16> {ssm.name = "z"})
    -> (tensor<?x?x8x64xbf16> {ssm.name = "y"}) {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C gate %z chunk_size = 64 headdim = 64
      ngroups = 2 tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>,
         tensor<?x?x8x64xbf16>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

// CHECK-LABEL: func.func @gated_norm(
// CHECK: ssm.tensor_maps
// CHECK: gpu.func @gated_norm_ssd_chunk_0(
// CHECK: nvvm.cp.async.bulk.tensor
// CPASYNC-LABEL: func.func @gated_norm(

func.func @gated_norm(%x: tensor<?x?x8x64xbf16> {ssm.name = "x"},
                      %dt: tensor<?x?x8xbf16> {ssm.name = "dt"},
                      %A: tensor<8xf32> {ssm.name = "A"},
                      %B: tensor<?x?x2x128xbf16> {ssm.name = "B"},
                      %C: tensor<?x?x2x128xbf16> {ssm.name = "C"},
                      %z: tensor<?x?x8x64xbf16> {ssm.name = "z"},
                      %w: tensor<512xbf16> {ssm.name = "norm_weight"})
    -> (tensor<?x?x8x64xbf16> {ssm.name = "y"}) {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C gate %z norm_weight %w
      chunk_size = 64 headdim = 64 ngroups = 2
      norm = <group_size = 256, eps = 1.0e-05 : f64>
      tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>,
         tensor<?x?x8x64xbf16>, tensor<512xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
