// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s

// A Mamba-2 decode step updates its state in place: the state argument
// becomes an in-out buffer and only y is a new output. A row's 16 lanes walk
// N = 128 with two 128-bit state vectors each, both loaded before either is
// stored; B and C come as 8-byte vectors; C·S is reduced with xor shuffles.

// CHECK-LABEL: func.func @decode(
// CHECK-SAME: %[[S:.*]]: memref<?x8x64x128xf32> {ssm.inout, ssm.name = "state"}
// CHECK-SAME: %{{.*}}: memref<?x8x64xbf16> {ssm.name = "y", ssm.output})
// CHECK-NOT: memref<?x8x64x128xf32> {{.*}}ssm.output
// CHECK: %[[B:.*]] = memref.dim %[[S]], %c0
// CHECK: gpu.launch_func @ssm_kernels::@decode_scan_step_0 blocks in (%c64, %[[B]], %c1) threads in (%c128
// CHECK-SAME: ssm.op = "scan_step"
// CHECK: gpu.func @decode_scan_step_0(%{{.*}}: memref<1xf32> {llvm.align = 16 : i64, llvm.noalias},
// CHECK-COUNT-2: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: vector.store
// CHECK: vector.load %{{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: vector.load %{{.*}} {alignment = 8 : i64} : memref<?xbf16>, vector<4xbf16>
// CHECK: math.fma
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
func.func @decode(%s0: tensor<?x8x64x128xf32> {ssm.name = "state"},
                  %x: tensor<?x8x64xbf16> {ssm.name = "x"},
                  %dt: tensor<?x8xbf16> {ssm.name = "delta"},
                  %A: tensor<8xf32> {ssm.name = "A"},
                  %B: tensor<?x1x128xbf16> {ssm.name = "B"},
                  %C: tensor<?x1x128xbf16> {ssm.name = "C"},
                  %D: tensor<8xf32> {ssm.name = "D"})
    -> (tensor<?x8x64xbf16> {ssm.name = "y"},
        tensor<?x8x64x128xf32> {ssm.name = "state"}) {
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C skip %D softplus
      : (tensor<?x8x64x128xf32>, tensor<?x8x64xbf16>, tensor<?x8xbf16>,
         tensor<8xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>,
         tensor<8xf32>) -> (tensor<?x8x64xbf16>, tensor<?x8x64x128xf32>)
  return %y, %s1 : tensor<?x8x64xbf16>, tensor<?x8x64x128xf32>
}

// -----

// Mamba-1 decays each (d, n) by its own A, loaded with the row's other
// weights before the state; N = 16 takes 2 lanes per row. A thread updates
// two batch entries with the row's A: the grid's y is ceil(B / 2), and both
// entries' states are loaded before the first store.

// CHECK-LABEL: func.func @decode_m1(
// CHECK-SAME: {ssm.inout}
// CHECK: %[[Y:.*]] = arith.ceildivui %{{.*}}, %c2
// CHECK: gpu.launch_func @ssm_kernels::@decode_m1_scan_step_0 blocks in (%{{.*}}, %[[Y]], %c1)
// CHECK: gpu.func @decode_m1_scan_step_0
// CHECK-COUNT-6: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: vector.store
// CHECK: math.exp2 %{{.*}} fastmath<afn> : f32
// CHECK-COUNT-2: vector.store
// CHECK-NOT: gpu.shuffle  xor %{{.*}}, %c2_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
// CHECK-COUNT-2: vector.store
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{(_[0-9]+)?}}, %c32_i32{{.*}} : f32
// CHECK-NOT: gpu.shuffle
func.func @decode_m1(%s0: tensor<?x256x16xf32>, %x: tensor<?x256xf32>,
                     %dt: tensor<?x256xf32>, %A: tensor<256x16xf32>,
                     %B: tensor<?x1x16xf32>, %C: tensor<?x1x16xf32>)
    -> (tensor<?x256xf32>, tensor<?x256x16xf32>) {
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C
      : (tensor<?x256x16xf32>, tensor<?x256xf32>, tensor<?x256xf32>,
         tensor<256x16xf32>, tensor<?x1x16xf32>, tensor<?x1x16xf32>)
      -> (tensor<?x256xf32>, tensor<?x256x16xf32>)
  return %y, %s1 : tensor<?x256xf32>, tensor<?x256x16xf32>
}

// -----

// N = 20 is five vectors, which no power of two above one divides: one lane
// walks the whole row, loading all five state vectors of both its batch
// entries (after A's five) before any store, and no shuffle reduces its
// output.

// CHECK-LABEL: func.func @decode_m1_n20(
// CHECK: gpu.launch_func @ssm_kernels::@decode_m1_n20_scan_step_0 blocks in (%c2{{(_[0-9]+)?}}, %{{.*}}, %c1) threads in (%c128
// CHECK: gpu.func @decode_m1_n20_scan_step_0
// CHECK-COUNT-15: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: vector.store
// CHECK: math.exp2
// CHECK-COUNT-10: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: gpu.shuffle
// CHECK: gpu.return
func.func @decode_m1_n20(%s0: tensor<?x256x20xf32>, %x: tensor<?x256xf32>,
                         %dt: tensor<?x256xf32>, %A: tensor<256x20xf32>,
                         %B: tensor<?x1x20xf32>, %C: tensor<?x1x20xf32>)
    -> (tensor<?x256xf32>, tensor<?x256x20xf32>) {
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %C
      : (tensor<?x256x20xf32>, tensor<?x256xf32>, tensor<?x256xf32>,
         tensor<256x20xf32>, tensor<?x1x20xf32>, tensor<?x1x20xf32>)
      -> (tensor<?x256xf32>, tensor<?x256x20xf32>)
  return %y, %s1 : tensor<?x256xf32>, tensor<?x256x20xf32>
}
