// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu | FileCheck %s

// A Mamba-2 norm over whole rows of 5120 bf16: one block of 160 lanes per
// row, each holding four 128-bit vectors of y and of z, all loaded before
// the sum of squares is reduced by xor shuffles and one workgroup slot per
// warp. Grid: (L, B, groups); B and L are kernel parameters.

// CHECK-LABEL: func.func @mamba2_norm(
// CHECK-SAME: %[[OUT:[^:]*]]: memref<?x?x5120xbf16> {ssm.name = "out", ssm.output})
// CHECK-DAG: %[[B:.*]] = memref.dim %[[OUT]], %c0
// CHECK-DAG: %[[L:.*]] = memref.dim %[[OUT]], %c1
// CHECK: gpu.launch_func @ssm_kernels::@mamba2_norm_rms_norm_gated_0 blocks in (%[[L]], %[[B]], %c1{{.*}}) threads in (%c160,
// CHECK-SAME: %[[B]] : index, %[[L]] : index) {ssm.op = "rms_norm_gated"}
// CHECK: gpu.func @mamba2_norm_rms_norm_gated_0(
// CHECK-SAME: workgroup(%[[SLOTS:.*]] : memref<5xf32, #gpu.address_space<workgroup>>)
// CHECK-SAME: known_block_size = array<i32: 160, 1, 1>, nvvm.minctasm = 6 : i32
// CHECK-COUNT-8: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
// CHECK-NOT: gpu.shuffle
// CHECK: math.exp2 %{{.*}} fastmath<afn> : f32
// CHECK: math.fma
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32{{(_[0-9]+)?}}, %c32_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32{{(_[0-9]+)?}}, %c32_i32
// CHECK: scf.if
// CHECK-NEXT: memref.store %{{.*}}, %[[SLOTS]]
// CHECK: gpu.barrier
// CHECK-COUNT-5: memref.load %[[SLOTS]]
// CHECK: %[[RSTD:.*]] = math.rsqrt
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<?xf32>, vector<8xf32>
// CHECK-NOT: math.exp2
// CHECK: arith.truncf %{{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<?xbf16>, vector<8xbf16>
func.func @mamba2_norm(%y: tensor<?x?x5120xbf16> {ssm.name = "y"},
                       %z: tensor<?x?x5120xbf16> {ssm.name = "z"},
                       %w: tensor<5120xf32> {ssm.name = "weight"})
    -> (tensor<?x?x5120xbf16> {ssm.name = "out"}) {
  %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 5120 eps = 1.0e-05
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xf32>)
      -> tensor<?x?x5120xbf16>
  return %o : tensor<?x?x5120xbf16>
}

// -----

// Eight groups of 640: one warp per group, four per block of 128 on
// consecutive rows (spare teams of the last block store nothing), 80 vectors
// over 32 lanes (the third slot is partial: clamped loads, zero sum, no
// store). Normalizing before the gate applies silu(z) after the rsqrt.

// CHECK-LABEL: func.func @grouped_before_gate(
// CHECK: %[[L:.*]] = memref.dim %{{.*}}, %c1
// CHECK: %[[X:.*]] = arith.ceildivui %[[L]], %c4
// CHECK: gpu.launch_func @ssm_kernels::@grouped_before_gate_rms_norm_gated_0 blocks in (%[[X]], %{{.*}}, %c8) threads in (%c128,
// CHECK: gpu.func @grouped_before_gate_rms_norm_gated_0(
// CHECK-NOT: workgroup
// CHECK-SAME: nvvm.minctasm = 8
// CHECK: %[[ROWOK:.*]] = arith.cmpi slt, %{{.*}}, %arg5 : index
// CHECK: %[[SLOTOK:.*]] = arith.cmpi slt, %{{.*}}, %c80 : index
// CHECK: arith.minui %{{.*}}, %c79 : index
// CHECK: arith.select %[[SLOTOK]], %{{.*}}, %{{.*}} : f32
// CHECK-NOT: math.exp2
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32{{(_[0-9]+)?}}, %c32_i32
// CHECK-NOT: gpu.barrier
// CHECK: math.rsqrt
// CHECK: math.exp2
// CHECK: scf.if %[[ROWOK]] {
// CHECK: %[[BOTH:.*]] = arith.andi %[[ROWOK]], %[[SLOTOK]] : i1
// CHECK: scf.if %[[BOTH]] {
// CHECK-NEXT: vector.from_elements
// CHECK-NEXT: arith.truncf
// CHECK-NEXT: vector.store
func.func @grouped_before_gate(%y: tensor<?x?x5120xbf16>,
                               %z: tensor<?x?x5120xbf16>,
                               %w: tensor<5120xbf16>) -> tensor<?x?x5120xbf16> {
  %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 640 eps = 1.0e-05
      norm_before_gate
      : (tensor<?x?x5120xbf16>, tensor<?x?x5120xbf16>, tensor<5120xbf16>)
      -> tensor<?x?x5120xbf16>
  return %o : tensor<?x?x5120xbf16>
}

// -----

// Plain RMSNorm of f32 rows: 4-element vectors, no gate, no exp2. The grid
// of a rank-2 tensor runs over its rows in x.

// CHECK-LABEL: func.func @plain_f32(
// CHECK: %[[ROWS:.*]] = memref.dim %{{.*}}, %c0
// CHECK: gpu.launch_func @ssm_kernels::@plain_f32_rms_norm_gated_0 blocks in (%[[ROWS]], %c1{{.*}}, %c1{{.*}}) threads in (%c64,
// CHECK: gpu.func @plain_f32_rms_norm_gated_0(
// CHECK-SAME: workgroup(%{{.*}} : memref<2xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-8: vector.load %{{.*}} : memref<?xf32>, vector<4xf32>
// CHECK-NOT: math.exp2
// CHECK: math.rsqrt
// CHECK-NOT: math.exp2
// CHECK: vector.store %{{.*}} : memref<?xf32>, vector<4xf32>
func.func @plain_f32(%y: tensor<?x2048xf32>, %w: tensor<2048xf32>)
    -> tensor<?x2048xf32> {
  %o = ssm.rms_norm_gated %y weight %w group_size = 2048 eps = 1.0e-05
      : (tensor<?x2048xf32>, tensor<2048xf32>) -> tensor<?x2048xf32>
  return %o : tensor<?x2048xf32>
}
