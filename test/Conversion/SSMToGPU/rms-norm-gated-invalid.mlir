// RUN: ssm-opt %s -split-input-file -convert-ssm-to-gpu -verify-diagnostics

// Sizes the op accepts but the norm kernel does not.

func.func @not_a_vector_multiple(%y: tensor<?x12xbf16>, %w: tensor<12xf32>)
    -> tensor<?x12xbf16> {
  // expected-error @below {{gated RMSNorm kernel: group size 12 must be a multiple of 8 (16-byte vectors of 16-bit elements)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 12 eps = 1.0e-05
      : (tensor<?x12xbf16>, tensor<12xf32>) -> tensor<?x12xbf16>
  return %o : tensor<?x12xbf16>
}

// -----

func.func @group_not_a_vector_multiple(%y: tensor<?x64xf32>,
                                       %w: tensor<64xf32>) -> tensor<?x64xf32> {
  // expected-error @below {{gated RMSNorm kernel: group size 2 must be a multiple of 4 (16-byte vectors of 32-bit elements)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 2 eps = 1.0e-05
      : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

func.func @group_too_large(%y: tensor<?x65536xbf16>, %w: tensor<65536xf32>)
    -> tensor<?x65536xbf16> {
  // expected-error @below {{gated RMSNorm kernel: group size 65536 is too large (at most 32768 elements: 1024 threads holding 32 each)}}
  %o = ssm.rms_norm_gated %y gate %y weight %w group_size = 65536 eps = 1.0e-05
      : (tensor<?x65536xbf16>, tensor<?x65536xbf16>, tensor<65536xf32>)
      -> tensor<?x65536xbf16>
  return %o : tensor<?x65536xbf16>
}

// -----

func.func @too_many_groups(%y: tensor<?x262144xf32>, %w: tensor<262144xf32>)
    -> tensor<?x262144xf32> {
  // expected-error @below {{gated RMSNorm kernel: at most 65535 groups per row, got 65536}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 4 eps = 1.0e-05
      : (tensor<?x262144xf32>, tensor<262144xf32>) -> tensor<?x262144xf32>
  return %o : tensor<?x262144xf32>
}
