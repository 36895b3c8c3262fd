// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu -verify-diagnostics

// What the tensor-core SSD kernel does not take is an error at the op.

func.func @no_tile(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                   %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{has no #ssm.tile; run ssm-tile first}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @f32(%x: tensor<?x?x8x64xf32>, %dt: tensor<?x?x8xf32>,
               %A: tensor<8xf32>, %B: tensor<?x?x1x128xf32>)
    -> tensor<?x?x8x64xf32> {
  // expected-error @below {{the tensor-core kernel needs bf16 or f16 x, got 'f32'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xf32>, tensor<?x?x8xf32>, tensor<8xf32>,
         tensor<?x?x1x128xf32>, tensor<?x?x1x128xf32>) -> tensor<?x?x8x64xf32>
  return %y : tensor<?x?x8x64xf32>
}

// -----

func.func @mixed(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                 %A: tensor<8xf32>, %B: tensor<?x?x1x128xf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{B, C and the gate must have the element type of x ('bf16')}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xf16>, tensor<?x?x1x128xf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @chunk(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                 %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{the kernel's chunk length 48 (tile steps, else chunk_size) must be a multiple of 32}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 48 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @states(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                  %A: tensor<8xf32>, %B: tensor<?x?x1x24xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{state size N = 24 must be a multiple of 16}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x24xbf16>, tensor<?x?x1x24xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @columns(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                   %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{tile items = 32 (head-dim columns per block) must divide P = 64 and be a multiple of 16 × the 128 / 32 warps}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

// Even chunks of 32 steps leave no room for N = 1024 states.
func.func @shared(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                  %A: tensor<8xf32>, %B: tensor<?x?x1x1024xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{chunks of 32 steps with 2 stages need 276480 bytes of workgroup memory per block, more than the 232448 available; use fewer tile steps or stages, or fewer head-dim columns per block}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64, steps = 32>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x1024xbf16>, tensor<?x?x1x1024xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @stages(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                  %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @+2 {{stages = 4 must be in [1, 3]}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 64, stages = 4>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @norm(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>,
                %w: tensor<512xf32>) -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{gated RMSNorm kernel: group size 4 must be a multiple of 8 (16-byte vectors of 16-bit elements)}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 64
      headdim = 64 ngroups = 1 norm = <group_size = 4, eps = 1.0e-05 : f64>
      tile = <threads = 128, items = 64>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<512xf32>)
      -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @warpgroup_states(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                            %A: tensor<8xf32>, %B: tensor<?x?x1x512xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{state size N = 512 exceeds the warpgroup kernel's 256 (the n of its m64nNk16 state update)}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64
      ngroups = 1
      tile = <threads = 128, items = 64, stages = 3, steps = 32, warpgroup = true>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x512xbf16>, tensor<?x?x1x512xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}

// -----

func.func @warpgroup_stages(%x: tensor<?x?x8x64xbf16>, %dt: tensor<?x?x8xbf16>,
                            %A: tensor<8xf32>, %B: tensor<?x?x1x128xbf16>)
    -> tensor<?x?x8x64xbf16> {
  // expected-error @below {{the warpgroup kernel stages three chunks, not 2}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64
      ngroups = 1
      tile = <threads = 128, items = 64, stages = 2, steps = 32, warpgroup = true>
      : (tensor<?x?x8x64xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>,
         tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x8x64xbf16>
  return %y : tensor<?x?x8x64xbf16>
}
