// RUN: ssm-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of SSMOps.cpp (top to bottom, op by op), per ODS
// constraint and per #ssm.tile / #ssm.norm verifier rule of SSMDialect.cpp.

//===----------------------------------------------------------------------===//
// ssm.discretize
//===----------------------------------------------------------------------===//

func.func @discretize_delta_rank(%delta: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.discretize' op operand 'delta' must have shape [B, D, L] = [?, ?, ?], got 'tensor<?x512xbf16>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512xbf16>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_delta_rank_channel_last(%delta: tensor<?x?x?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'delta' must have shape [B, L, D] = [?, ?, ?], got 'tensor<?x?x?x512xbf16>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_last mode = zoh_simplified
      : (tensor<?x?x?x512xbf16>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x?x512x16xf32>, tensor<?x?x512x16xf32>)
  return
}

// -----

func.func @discretize_delta_dynamic_channels(%delta: tensor<?x?x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'delta' must have a static size for D (dimension 1), got 'tensor<?x?x?xbf16>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x?x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_A_channels_mismatch(%delta: tensor<?x512x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'A' must have shape [D, N] = [512, 16], got 'tensor<256x16xf32>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<256x16xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_A_dynamic_state(%delta: tensor<?x512x?xbf16>, %A: tensor<512x?xf32>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'A' must have a static size for N (dimension 1), got 'tensor<512x?xf32>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x?xf32>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_A_not_f32(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xbf16>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'A' must have element type f32, got 'bf16'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xbf16>, tensor<?x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_delta_integer(%delta: tensor<?x512x?xi32>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'delta' must have element type f32, f16 or bf16, got 'i32'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xi32>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_B_rank(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<16xbf16>) {
  // expected-error @below {{operand 'B' must be per channel [D, N], shared [B, N, L] or grouped [B, G, N, L], got 'tensor<16xbf16>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<16xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_B_shared_wrong_state(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x8x?xbf16>) {
  // expected-error @below {{operand 'B' must have shape [B, N, L] = [?, 16, ?], got 'tensor<?x8x?xbf16>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x8x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_B_groups_do_not_divide(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x3x16x?xbf16>) {
  // expected-error @below {{operand 'B' has 3 groups, which must be static and divide D = 512}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x3x16x?xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_B_element_type(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xf16>) {
  // expected-error @below {{operand 'B' must have the element type of the input or f32, got 'f16'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_bias_shape(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %db: tensor<256xf32>) {
  // expected-error @below {{operand 'bias' must have shape [D] = [512], got 'tensor<256xf32>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B bias %db layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<256xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_bias_not_f32(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %db: tensor<512xbf16>) {
  // expected-error @below {{operand 'bias' must have element type f32, got 'bf16'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B bias %db layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512xbf16>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>)
  return
}

// -----

func.func @discretize_abar_shape_channel_last(%delta: tensor<?x1024x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1024x16xbf16>) {
  // expected-error @below {{result 'abar' must have shape [B, L, D, N] = [?, 1024, 512, 16], got 'tensor<?x512x1024x16xf32>'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_last mode = zoh_simplified
      : (tensor<?x1024x512xbf16>, tensor<512x16xf32>, tensor<?x1024x16xbf16>) -> (tensor<?x512x1024x16xf32>, tensor<?x1024x512x16xf32>)
  return
}

// -----

func.func @discretize_bbar_not_f32(%delta: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{result 'bbar' must have element type f32, got 'bf16'}}
  %abar, %bbar = ssm.discretize %delta, %A, %B layout = channel_first mode = zoh_simplified
      : (tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?x16xf32>, tensor<?x512x?x16xbf16>)
  return
}

//===----------------------------------------------------------------------===//
// ssm.scan
//===----------------------------------------------------------------------===//

// -----

func.func @scan_abar_rank(%abar: tensor<?x512x?xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{'ssm.scan' op operand 'abar' must have rank 4 ([B, D, L, N] or [B, L, D, N]), got 'tensor<?x512x?xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_abar_dynamic_channels(%abar: tensor<?x?x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'abar' must have a static size for D (dimension 1), got 'tensor<?x?x?x16xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x?x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_abar_dynamic_state_channel_last(%abar: tensor<?x?x512x?xf32>, %bbar: tensor<?x?x512x16xf32>, %u: tensor<?x?x512xbf16>, %C: tensor<?x?x16xbf16>) {
  // expected-error @below {{operand 'abar' must have a static size for N (dimension 3), got 'tensor<?x?x512x?xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_last
      : (tensor<?x?x512x?xf32>, tensor<?x?x512x16xf32>, tensor<?x?x512xbf16>, tensor<?x?x16xbf16>) -> tensor<?x?x512xbf16>
  return
}

// -----

func.func @scan_abar_not_f32(%abar: tensor<?x512x?x16xbf16>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'abar' must have element type f32, got 'bf16'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xbf16>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_bbar_shape(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x8xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'bbar' must have shape [B, D, L, N] = [?, 512, ?, 16], got 'tensor<?x512x?x8xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x8xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_bbar_not_f32(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf16>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'bbar' must have element type f32, got 'f16'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf16>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_u_batch_mismatch(%abar: tensor<2x512x?x16xf32>, %bbar: tensor<2x512x?x16xf32>, %u: tensor<4x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'u' must have shape [B, D, L] = [2, 512, ?], got 'tensor<4x512x?xbf16>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<2x512x?x16xf32>, tensor<2x512x?x16xf32>, tensor<4x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<4x512x?xbf16>
  return
}

// -----

func.func @scan_u_integer(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xi8>, %C: tensor<?x16x?xf32>) {
  // expected-error @below {{operand 'u' must have element type f32, f16 or bf16, got 'i8'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xi8>, tensor<?x16x?xf32>) -> tensor<?x512x?xi8>
  return
}

// -----

func.func @scan_C_grouped_wrong_state(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x4x8x?xbf16>) {
  // expected-error @below {{operand 'C' must have shape [B, G, N, L] = [?, 4, 16, ?], got 'tensor<?x4x8x?xbf16>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x4x8x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_C_per_channel_wrong_channels(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<256x16xf32>) {
  // expected-error @below {{operand 'C' must have shape [D, N] = [512, 16], got 'tensor<256x16xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<256x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_init_shape(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>, %h0: tensor<?x16x512xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, D, N] = [?, 512, 16], got 'tensor<?x16x512xf32>'}}
  %y = ssm.scan %abar, %bbar, %u, %C init %h0 layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>, tensor<?x16x512xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_init_not_f32(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>, %h0: tensor<?x512x16xbf16>) {
  // expected-error @below {{operand 'init' must have element type f32, got 'bf16'}}
  %y = ssm.scan %abar, %bbar, %u, %C init %h0 layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>, tensor<?x512x16xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @scan_y_shape(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{result 'y' must have shape [B, D, L] = [?, 512, ?], got 'tensor<?x1024x512xbf16>'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x1024x512xbf16>
  return
}

// -----

func.func @scan_y_element_type(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{'y' must have the element type of the input ('bf16'), got 'f32'}}
  %y = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xf32>
  return
}

// -----

func.func @scan_last_state_shape(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{result 'last_state' must have shape [B, D, N] = [?, 512, 16], got 'tensor<?x512xf32>'}}
  %y, %h = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512xf32>)
  return
}

// -----

func.func @scan_last_state_not_f32(%abar: tensor<?x512x?x16xf32>, %bbar: tensor<?x512x?x16xf32>, %u: tensor<?x512x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{result 'last_state' must have element type f32, got 'bf16'}}
  %y, %h = ssm.scan %abar, %bbar, %u, %C layout = channel_first
      : (tensor<?x512x?x16xf32>, tensor<?x512x?x16xf32>, tensor<?x512x?xbf16>, tensor<?x16x?xbf16>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xbf16>)
  return
}

//===----------------------------------------------------------------------===//
// ssm.selective_scan
//===----------------------------------------------------------------------===//

// -----

func.func @selective_scan_u_rank(%u: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op operand 'u' must have shape [B, D, L] = [?, ?, ?], got 'tensor<?x512xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512xbf16>
  return
}

// -----

func.func @selective_scan_u_unranked(%u: tensor<*xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op operand #0 must be ranked tensor of any type values, but got 'tensor<*xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<*xbf16>, tensor<*xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_u_dynamic_channels_channel_last(%u: tensor<?x?x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'u' must have a static size for D (dimension 2), got 'tensor<?x?x?xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_last
      : (tensor<?x?x?xbf16>, tensor<?x?x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x?x?xbf16>
  return
}

// -----

func.func @selective_scan_A_rank(%u: tensor<?x512x?xbf16>, %A: tensor<512xf32>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'A' must have shape [D, N] = [512, ?], got 'tensor<512xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_A_dynamic_state(%u: tensor<?x512x?xbf16>, %A: tensor<?x?xf32>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'A' must have a static size for N (dimension 1), got 'tensor<?x?xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<?x?xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_A_not_f32(%u: tensor<?x512x?xf16>, %A: tensor<512x16xf16>, %B: tensor<?x16x?xf16>) {
  // expected-error @below {{operand 'A' must have element type f32, got 'f16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xf16>, tensor<?x512x?xf16>, tensor<512x16xf16>, tensor<?x16x?xf16>, tensor<?x16x?xf16>) -> tensor<?x512x?xf16>
  return
}

// -----

func.func @selective_scan_u_f64(%u: tensor<?x512x?xf64>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'u' must have element type f32, f16 or bf16, got 'f64'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xf64>, tensor<?x512x?xf64>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xf64>
  return
}

// -----

func.func @selective_scan_delta_length_mismatch(%u: tensor<?x512x1024xbf16>, %delta: tensor<?x512x2048xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'delta' must have shape [B, D, L] = [?, 512, 1024], got 'tensor<?x512x2048xbf16>'}}
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x1024xbf16>, tensor<?x512x2048xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x1024xbf16>
  return
}

// -----

func.func @selective_scan_delta_element_type(%u: tensor<?x512x?xbf16>, %delta: tensor<?x512x?xf32>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{operand 'delta' must have the element type of the input ('bf16'), got 'f32'}}
  %y = ssm.selective_scan %u, %delta, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_B_rank_channel_last(%u: tensor<?x?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x1x1x16xbf16>, %C: tensor<?x?x16xbf16>) {
  // expected-error @below {{operand 'B' must be per channel [D, N], shared [B, L, N] or grouped [B, L, G, N], got 'tensor<?x?x1x1x16xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_last
      : (tensor<?x?x512xbf16>, tensor<?x?x512xbf16>, tensor<512x16xf32>, tensor<?x?x1x1x16xbf16>, tensor<?x?x16xbf16>) -> tensor<?x?x512xbf16>
  return
}

// -----

func.func @selective_scan_B_dynamic_groups_channel_last(%u: tensor<?x?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x?x16xbf16>, %C: tensor<?x?x16xbf16>) {
  // expected-error @below {{operand 'B' has ? groups, which must be static and divide D = 512}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_last
      : (tensor<?x?x512xbf16>, tensor<?x?x512xbf16>, tensor<512x16xf32>, tensor<?x?x?x16xbf16>, tensor<?x?x16xbf16>) -> tensor<?x?x512xbf16>
  return
}

// -----

func.func @selective_scan_B_zero_groups(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x0x16x?xbf16>, %C: tensor<?x16x?xbf16>) {
  // expected-error @below {{operand 'B' has 0 groups, which must be static and divide D = 512}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x0x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_BC_group_counts_differ(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x2x16x?xbf16>, %C: tensor<?x4x16x?xbf16>) {
  // expected-error @below {{operands 'B' and 'C' have 2 and 4 groups; grouped B and C need the same count}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x4x16x?xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_C_shared_length_mismatch(%u: tensor<?x200x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x16xbf16>, %C: tensor<?x100x16xbf16>) {
  // expected-error @below {{operand 'C' must have shape [B, L, N] = [?, 200, 16], got 'tensor<?x100x16xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_last
      : (tensor<?x200x512xbf16>, tensor<?x200x512xbf16>, tensor<512x16xf32>, tensor<?x?x16xbf16>, tensor<?x100x16xbf16>) -> tensor<?x200x512xbf16>
  return
}

// -----

func.func @selective_scan_C_element_type(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x16x?xbf16>, %C: tensor<?x16x?xf16>) {
  // expected-error @below {{operand 'C' must have the element type of the input or f32, got 'f16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %C layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_skip_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %D: tensor<1x512xf32>) {
  // expected-error @below {{operand 'skip' must have shape [D] = [512], got 'tensor<1x512xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B skip %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<1x512xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_skip_not_f32(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %D: tensor<512xbf16>) {
  // expected-error @below {{operand 'skip' must have element type f32, got 'bf16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B skip %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_bias_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %db: tensor<16xf32>) {
  // expected-error @below {{operand 'bias' must have shape [D] = [512], got 'tensor<16xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B bias %db softplus layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_init_batch_mismatch(%u: tensor<2x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %h0: tensor<3x512x16xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, D, N] = [2, 512, 16], got 'tensor<3x512x16xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B init %h0 layout = channel_first
      : (tensor<2x512x?xbf16>, tensor<2x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<3x512x16xf32>) -> tensor<2x512x?xbf16>
  return
}

// -----

func.func @selective_scan_init_not_f32(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %h0: tensor<?x512x16xf16>) {
  // expected-error @below {{operand 'init' must have element type f32, got 'f16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B init %h0 layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<?x512x16xf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_y_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{result 'y' must have shape [B, D, L] = [?, 512, ?], got 'tensor<?x256x?xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x256x?xbf16>
  return
}

// -----

func.func @selective_scan_y_element_type(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'y' must have the element type of the input ('bf16'), got 'f16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xf16>
  return
}

// -----

func.func @selective_scan_last_state_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{result 'last_state' must have shape [B, D, N] = [?, 512, 16], got 'tensor<?x512x8xf32>'}}
  %y, %h = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x8xf32>)
  return
}

// -----

func.func @selective_scan_last_state_not_f32(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{result 'last_state' must have element type f32, got 'bf16'}}
  %y, %h = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> (tensor<?x512x?xbf16>, tensor<?x512x16xbf16>)
  return
}

// -----

func.func @selective_scan_gate_layout(%u: tensor<?x512x1024xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %z: tensor<?x1024x512xbf16>) {
  // expected-error @below {{operand 'gate' must have shape [B, D, L] = [?, 512, 1024], got 'tensor<?x1024x512xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B gate %z layout = channel_first
      : (tensor<?x512x1024xbf16>, tensor<?x512x1024xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<?x1024x512xbf16>) -> tensor<?x512x1024xbf16>
  return
}

// -----

func.func @selective_scan_gate_element_type(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %z: tensor<?x512x?xf32>) {
  // expected-error @below {{operand 'gate' must have the element type of the input ('bf16'), got 'f32'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B gate %z layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<?x512x?xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_bias_without_conv(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %cb: tensor<512xf32>) {
  // expected-error @below {{'ssm.selective_scan' op conv_bias and conv_silu need conv weights}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv_bias %cb layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_reverse(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %w: tensor<512x4xf32>) {
  // expected-error @below {{a folded conv1d needs a forward scan of one direction in the channel_first layout}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv %w reverse layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x4xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %w: tensor<256x4xf32>) {
  // expected-error @below {{operand 'conv' must have shape [D, K] = [512, 4], got 'tensor<256x4xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv %w layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<256x4xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_element_type(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %w: tensor<512x4xbf16>) {
  // expected-error @below {{operand 'conv' must have element type f32, got 'bf16'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv %w layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x4xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_width(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %w: tensor<512x5xf32>) {
  // expected-error @below {{operand 'conv' must have a static width K in 2..4, got 'tensor<512x5xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv %w layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x5xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @selective_scan_conv_bias_shape(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>, %w: tensor<512x4xf32>, %cb: tensor<256xf32>) {
  // expected-error @below {{operand 'conv_bias' must have shape [D] = [512], got 'tensor<256xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B conv %w conv_bias %cb layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x4xf32>, tensor<256xf32>) -> tensor<?x512x?xbf16>
  return
}

//===----------------------------------------------------------------------===//
// #ssm.tile
//===----------------------------------------------------------------------===//

// -----

func.func @tile_threads_not_multiple_of_32(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{threads = 48 must be a multiple of 32 in [32, 1024]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 48, items = 16>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_threads_too_many(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{threads = 2048 must be a multiple of 32 in [32, 1024]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 2048, items = 16>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_items_not_power_of_two(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{items = 12 must be a power of two in [1, 64]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 12>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_items_too_many(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{items = 128 must be a power of two in [1, 64]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 128>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_chunk_not_multiple_of_items(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{chunk = 100 must be 0 (set at launch) or a positive multiple of items = 16}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, chunk = 100>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_chunk_negative(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{chunk = -16 must be 0 (set at launch) or a positive multiple of items = 16}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, chunk = -16>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_stages_out_of_range(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{stages = 5 must be in [1, 3]}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, stages = 5>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_fma_exps_negative(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{fma_exps = -1 must not be negative}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, fma_exps = -1>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_fma_exps_above_states(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op tile fma_exps = 17 exceeds the 16 states per thread}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, fma_exps = 17>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_lanes_not_power_of_two(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{lanes = 3 must be a power of two in [1, 32] dividing items = 16}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, lanes = 3>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_lanes_above_items(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{lanes = 8 must be a power of two in [1, 32] dividing items = 4}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 4, lanes = 8>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_lanes_split_states(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op tile lanes = 32 must divide the 16 states per channel}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 32, lanes = 32>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

//===----------------------------------------------------------------------===//
// ssm.skip and ssm.gate
//===----------------------------------------------------------------------===//

// -----

func.func @skip_y_rank(%y: tensor<?x512xbf16>, %D: tensor<512xf32>) {
  // expected-error @below {{'ssm.skip' op operand 'y' must have rank 3, got 'tensor<?x512xbf16>'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512xf32>) -> tensor<?x512xbf16>
  return
}

// -----

func.func @skip_y_integer(%y: tensor<?x512x?xi32>, %D: tensor<512xf32>) {
  // expected-error @below {{operand 'y' must have element type f32, f16 or bf16, got 'i32'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<?x512x?xi32>, tensor<?x512x?xi32>, tensor<512xf32>) -> tensor<?x512x?xi32>
  return
}

// -----

func.func @skip_u_shape_channel_last(%y: tensor<?x1024x512xbf16>, %u: tensor<?x512x1024xbf16>, %D: tensor<512xf32>) {
  // expected-error @below {{operand 'u' must have shape [B, L, D] = [?, 1024, 512], got 'tensor<?x512x1024xbf16>'}}
  %r = ssm.skip %y, %u, %D layout = channel_last
      : (tensor<?x1024x512xbf16>, tensor<?x512x1024xbf16>, tensor<512xf32>) -> tensor<?x1024x512xbf16>
  return
}

// -----

func.func @skip_u_element_type(%y: tensor<?x512x?xbf16>, %u: tensor<?x512x?xf16>, %D: tensor<512xf32>) {
  // expected-error @below {{operand 'u' must have the element type of the input ('bf16'), got 'f16'}}
  %r = ssm.skip %y, %u, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xf16>, tensor<512xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @skip_D_shape(%y: tensor<?x512x?xbf16>, %D: tensor<256xf32>) {
  // expected-error @below {{operand 'D' must have shape [D] = [512], got 'tensor<256xf32>'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<256xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @skip_D_not_f32(%y: tensor<?x512x?xbf16>, %D: tensor<512xbf16>) {
  // expected-error @below {{operand 'D' must have element type f32, got 'bf16'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xbf16>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @skip_result_shape(%y: tensor<?x512x?xbf16>, %D: tensor<512xf32>) {
  // expected-error @below {{result 'result' must have shape [B, D, L] = [?, 512, ?], got 'tensor<?x512xbf16>'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512xf32>) -> tensor<?x512xbf16>
  return
}

// -----

func.func @skip_result_type(%y: tensor<2x512x64xbf16>, %D: tensor<512xf32>) {
  // expected-error @below {{result must have the type of 'y' ('tensor<2x512x64xbf16>'), got 'tensor<?x512x64xbf16>'}}
  %r = ssm.skip %y, %y, %D layout = channel_first
      : (tensor<2x512x64xbf16>, tensor<2x512x64xbf16>, tensor<512xf32>) -> tensor<?x512x64xbf16>
  return
}

// -----

func.func @gate_integer(%y: tensor<?x512x?xi32>) {
  // expected-error @below {{'ssm.gate' op operand 'y' must have element type f32, f16 or bf16, got 'i32'}}
  %o = ssm.gate %y, %y : tensor<?x512x?xi32>
  return
}

// -----

func.func @gate_types_differ(%y: tensor<?x512x?xbf16>, %z: tensor<?x512x?xf16>) {
  // expected-error @below {{'ssm.gate' op requires the same type for all operands and results}}
  %o = "ssm.gate"(%y, %z) : (tensor<?x512x?xbf16>, tensor<?x512x?xf16>) -> tensor<?x512x?xbf16>
  return
}

//===----------------------------------------------------------------------===//
// ssm.ssd_chunk
//===----------------------------------------------------------------------===//

// -----

func.func @ssd_chunk_x_headdim_mismatch(%x: tensor<?x?x80x32xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{'ssm.ssd_chunk' op operand 'x' must have shape [B, L, H, P] = [?, ?, ?, 64], got 'tensor<?x?x80x32xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x32xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x32xbf16>
  return
}

// -----

func.func @ssd_chunk_x_dynamic_heads(%x: tensor<?x?x?x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'x' must have a static size for H (dimension 2), got 'tensor<?x?x?x64xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x?x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x?x64xbf16>
  return
}

// -----

func.func @ssd_chunk_x_dynamic_headdim(%x: tensor<?x?x80x?xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'x' must have a static size for P (dimension 3), got 'tensor<?x?x80x?xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x?xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x?xbf16>
  return
}

// -----

func.func @ssd_chunk_x_integer(%x: tensor<?x?x80x64xi16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'x' must have element type f32, f16 or bf16, got 'i16'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xi16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xi16>
  return
}

// -----

func.func @ssd_chunk_ngroups_do_not_divide_heads(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x3x128xbf16>) {
  // expected-error @below {{'ngroups' = 3 must divide the number of heads H = 80}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 3
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x3x128xbf16>, tensor<?x?x3x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_dt_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x40xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'dt' must have shape [B, L, H] = [?, ?, 80], got 'tensor<?x?x40xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x40xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_dt_integer(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xi32>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'dt' must have element type f32, f16 or bf16, got 'i32'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xi32>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_A_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80x128xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'A' must have shape [H] = [80], got 'tensor<80x128xf32>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80x128xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_A_not_f32(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xbf16>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{operand 'A' must have element type f32, got 'bf16'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xbf16>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_B_groups_mismatch(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x2x128xbf16>) {
  // expected-error @below {{operand 'B' must have shape [B, L, G, N] = [?, ?, 1, 128], got 'tensor<?x?x2x128xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x2x128xbf16>, tensor<?x?x2x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_B_dynamic_state(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x?xbf16>) {
  // expected-error @below {{operand 'B' must have a static size for N (dimension 3), got 'tensor<?x?x1x?xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x?xbf16>, tensor<?x?x1x?xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_B_integer(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xi8>) {
  // expected-error @below {{operand 'B' must have element type f32, f16 or bf16, got 'i8'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xi8>, tensor<?x?x1x128xi8>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_C_state_mismatch(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %C: tensor<?x?x1x64xbf16>) {
  // expected-error @below {{operand 'C' must have shape [B, L, G, N] = [?, ?, 1, 128], got 'tensor<?x?x1x64xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x64xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_C_integer(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %C: tensor<?x?x1x128xi32>) {
  // expected-error @below {{operand 'C' must have element type f32, f16 or bf16, got 'i32'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %C chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xi32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_skip_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %D: tensor<5120xf32>) {
  // expected-error @below {{operand 'skip' must have shape [H] = [80], got 'tensor<5120xf32>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B skip %D chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_bias_not_f32(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %dtb: tensor<80xbf16>) {
  // expected-error @below {{operand 'bias' must have element type f32, got 'bf16'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B bias %dtb softplus chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_init_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %s0: tensor<?x80x128x64xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, H, P, N] = [?, 80, 64, 128], got 'tensor<?x80x128x64xf32>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B init %s0 chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<?x80x128x64xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_init_not_f32(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %s0: tensor<?x80x64x128xbf16>) {
  // expected-error @below {{operand 'init' must have element type f32, got 'bf16'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B init %s0 chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<?x80x64x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_y_heads_mismatch(%x: tensor<2x?x80x64xbf16>, %dt: tensor<2x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<2x?x1x128xbf16>) {
  // expected-error @below {{result 'y' must have shape [B, L, H, P] = [2, ?, 80, 64], got 'tensor<2x?x40x64xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<2x?x80x64xbf16>, tensor<2x?x80xbf16>, tensor<80xf32>, tensor<2x?x1x128xbf16>, tensor<2x?x1x128xbf16>) -> tensor<2x?x40x64xbf16>
  return
}

// -----

func.func @ssd_chunk_y_element_type(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{'y' must have the element type of the input ('bf16'), got 'f32'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xf32>
  return
}

// -----

func.func @ssd_chunk_final_state_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{result 'final_state' must have shape [B, H, P, N] = [?, 80, 64, 128], got 'tensor<?x80x64xf32>'}}
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> (tensor<?x?x80x64xbf16>, tensor<?x80x64xf32>)
  return
}

// -----

func.func @ssd_chunk_final_state_not_f32(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{result 'final_state' must have element type f32, got 'bf16'}}
  %y, %s = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> (tensor<?x?x80x64xbf16>, tensor<?x80x64x128xbf16>)
  return
}

// -----

func.func @ssd_chunk_gate_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %z: tensor<?x?x80x32xbf16>) {
  // expected-error @below {{operand 'gate' must have shape [B, L, H, P] = [?, ?, 80, 64], got 'tensor<?x?x80x32xbf16>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B gate %z chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<?x?x80x32xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_gate_element_type(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %z: tensor<?x?x80x64xf16>) {
  // expected-error @below {{operand 'gate' must have the element type of the input ('bf16'), got 'f16'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B gate %z chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<?x?x80x64xf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_norm_without_weight(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{'norm' and operand 'norm_weight' go together}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      norm = <group_size = 5120, eps = 1.0e-05 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_weight_without_norm(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'norm' and operand 'norm_weight' go together}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_norm_group_does_not_divide(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{norm group_size 1000 must divide H * P = 5120}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      norm = <group_size = 1000, eps = 1.0e-05 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_norm_weight_not_float(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<5120xi32>) {
  // expected-error @below {{operand 'norm_weight' must have element type f32, f16 or bf16, got 'i32'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      norm = <group_size = 5120, eps = 1.0e-05 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xi32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_segment_splits_a_chunk(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{tile chunk = 96 (the L segment length) must be a multiple of chunk_size = 64}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32, chunk = 96>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_fma_exps(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{tile fma_exps = 2 applies to selective scans only}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32, fma_exps = 2>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_lanes(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{tile lanes = 2 applies to selective scans only}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32, lanes = 2>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_steps_negative(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @+2 {{steps = -32 must not be negative}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32, steps = -32>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_steps(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{tile steps = 96 (the kernel's chunk length) must divide chunk_size = 64}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 64 headdim = 64 ngroups = 1
      tile = <threads = 128, items = 32, steps = 96>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @tile_warpgroup_on_scan(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op tile warpgroup applies to ssm.ssd_chunk only}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 128, items = 64, steps = 32, warpgroup = true>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @tile_warpgroup_block(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @+2 {{a warpgroup tile has threads = 128, items = 64 and steps = 32}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 1
      tile = <threads = 64, items = 32, steps = 32, warpgroup = true>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @tile_steps_on_scan(%u: tensor<?x512x?xbf16>, %A: tensor<512x16xf32>, %B: tensor<512x16xf32>) {
  // expected-error @below {{'ssm.selective_scan' op tile steps = 32 applies to ssm.ssd_chunk only}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B layout = channel_first tile = <threads = 64, items = 16, steps = 32>
      : (tensor<?x512x?xbf16>, tensor<?x512x?xbf16>, tensor<512x16xf32>, tensor<512x16xf32>, tensor<512x16xf32>) -> tensor<?x512x?xbf16>
  return
}

// -----

func.func @ssd_chunk_norm_weight_shape(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<80x64xf32>) {
  // expected-error @below {{operand 'norm_weight' must have shape [H*P] = [5120], got 'tensor<80x64xf32>'}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      norm = <group_size = 5120, eps = 1.0e-05 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<80x64xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_chunk_size_zero(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{'ssm.ssd_chunk' op attribute 'chunk_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 0 headdim = 64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_headdim_negative(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{attribute 'headdim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = -64 ngroups = 1
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @ssd_chunk_ngroups_zero(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>) {
  // expected-error @below {{attribute 'ngroups' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B chunk_size = 256 headdim = 64 ngroups = 0
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>) -> tensor<?x?x80x64xbf16>
  return
}

//===----------------------------------------------------------------------===//
// #ssm.norm
//===----------------------------------------------------------------------===//

// -----

func.func @norm_group_size_not_positive(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<5120xf32>) {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      // expected-error @below {{group_size = 0 must be positive}}
      norm = <group_size = 0, eps = 1.0e-05 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xf32>) -> tensor<?x?x80x64xbf16>
  return
}

// -----

func.func @norm_eps_not_positive(%x: tensor<?x?x80x64xbf16>, %dt: tensor<?x?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x?x1x128xbf16>, %w: tensor<5120xf32>) {
  %y = ssm.ssd_chunk %x, %dt, %A, %B, %B norm_weight %w chunk_size = 256 headdim = 64 ngroups = 1
      // expected-error @below {{eps = 0.000000e+00 : f64 must be a positive normal f32 (1.2e-38 to 3.4e38)}}
      norm = <group_size = 5120, eps = 0.0 : f64>
      : (tensor<?x?x80x64xbf16>, tensor<?x?x80xbf16>, tensor<80xf32>, tensor<?x?x1x128xbf16>, tensor<?x?x1x128xbf16>, tensor<5120xf32>) -> tensor<?x?x80x64xbf16>
  return
}

//===----------------------------------------------------------------------===//
// ssm.rms_norm_gated
//===----------------------------------------------------------------------===//

// -----

func.func @rms_norm_y_rank_zero(%y: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @below {{'ssm.rms_norm_gated' op operand 'y' must have rank >= 1}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 1 eps = 1.0e-05 : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @rms_norm_y_dynamic_last_dim(%y: tensor<?x?xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{operand 'y' must have a static last dimension, got 'tensor<?x?xbf16>'}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-05 : (tensor<?x?xbf16>, tensor<5120xf32>) -> tensor<?x?xbf16>
  return
}

// -----

func.func @rms_norm_y_integer(%y: tensor<?x5120xi32>, %w: tensor<5120xf32>) {
  // expected-error @below {{operand 'y' must have element type f32, f16 or bf16, got 'i32'}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-05 : (tensor<?x5120xi32>, tensor<5120xf32>) -> tensor<?x5120xi32>
  return
}

// -----

func.func @rms_norm_weight_shape(%y: tensor<?x5120xbf16>, %w: tensor<2560xf32>) {
  // expected-error @below {{operand 'weight' must have shape [D] = [5120], got 'tensor<2560xf32>'}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-05 : (tensor<?x5120xbf16>, tensor<2560xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_weight_integer(%y: tensor<?x5120xbf16>, %w: tensor<5120xi8>) {
  // expected-error @below {{operand 'weight' must have element type f32, f16 or bf16, got 'i8'}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-05 : (tensor<?x5120xbf16>, tensor<5120xi8>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_gate_type(%y: tensor<?x5120xbf16>, %z: tensor<?x5120xf32>, %w: tensor<5120xf32>) {
  // expected-error @below {{operand 'gate' must have the type of 'y' ('tensor<?x5120xbf16>'), got 'tensor<?x5120xf32>'}}
  %o = ssm.rms_norm_gated %y gate %z weight %w group_size = 5120 eps = 1.0e-05
      : (tensor<?x5120xbf16>, tensor<?x5120xf32>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_result_type(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{result must have the type of 'y' ('tensor<?x5120xbf16>'), got 'tensor<4x5120xbf16>'}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-05 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<4x5120xbf16>
  return
}

// -----

func.func @rms_norm_group_size_does_not_divide(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'group_size' = 1000 must divide the last dimension 5120}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 1000 eps = 1.0e-05 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_eps_not_positive(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'eps' must be a positive normal f32 (1.2e-38 to 3.4e38)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = -1.0e-05 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_eps_nan(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'eps' must be a positive normal f32 (1.2e-38 to 3.4e38)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 0x7FF8000000000000 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_eps_denormal(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'eps' must be a positive normal f32 (1.2e-38 to 3.4e38)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e-40 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_eps_beyond_f32(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{'eps' must be a positive normal f32 (1.2e-38 to 3.4e38)}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 5120 eps = 1.0e+39 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

// -----

func.func @rms_norm_group_size_zero(%y: tensor<?x5120xbf16>, %w: tensor<5120xf32>) {
  // expected-error @below {{attribute 'group_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %o = ssm.rms_norm_gated %y weight %w group_size = 0 eps = 1.0e-05 : (tensor<?x5120xbf16>, tensor<5120xf32>) -> tensor<?x5120xbf16>
  return
}

//===----------------------------------------------------------------------===//
// ssm.causal_conv1d
//===----------------------------------------------------------------------===//

// -----

func.func @causal_conv1d_x_rank(%x: tensor<?x5376xbf16>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{'ssm.causal_conv1d' op operand 'x' must have shape [B, L, C] = [?, ?, ?], got 'tensor<?x5376xbf16>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x5376xbf16>, tensor<5376x4xf32>) -> tensor<?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_x_dynamic_channels(%x: tensor<?x?x?xbf16>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{operand 'x' must have a static size for C (dimension 1), got 'tensor<?x?x?xbf16>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_first
      : (tensor<?x?x?xbf16>, tensor<5376x4xf32>) -> tensor<?x?x?xbf16>
  return
}

// -----

func.func @causal_conv1d_x_integer(%x: tensor<?x?x5376xi32>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{operand 'x' must have element type f32, f16 or bf16, got 'i32'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xi32>, tensor<5376x4xf32>) -> tensor<?x?x5376xi32>
  return
}

// -----

func.func @causal_conv1d_weight_channels(%x: tensor<?x?x5376xbf16>, %w: tensor<5120x4xf32>) {
  // expected-error @below {{operand 'weight' must have shape [C, K] = [5376, 4], got 'tensor<5120x4xf32>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5120x4xf32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_weight_integer(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xi32>) {
  // expected-error @below {{operand 'weight' must have element type f32, f16 or bf16, got 'i32'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xi32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_width_too_large(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x5xf32>) {
  // expected-error @below {{operand 'weight' must have a static width K in 2..4, got 'tensor<5376x5xf32>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x5xf32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_width_dynamic(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x?xf32>) {
  // expected-error @below {{operand 'weight' must have a static width K in 2..4, got 'tensor<5376x?xf32>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x?xf32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_bias_shape(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>, %b: tensor<5120xf32>) {
  // expected-error @below {{operand 'bias' must have shape [C] = [5376], got 'tensor<5120xf32>'}}
  %o = ssm.causal_conv1d %x weight %w bias %b activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>, tensor<5120xf32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_bias_not_f32(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>, %b: tensor<5376xbf16>) {
  // expected-error @below {{operand 'bias' must have element type f32, got 'bf16'}}
  %o = ssm.causal_conv1d %x weight %w bias %b activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>, tensor<5376xbf16>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_init_width(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>, %s0: tensor<?x5376x4xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, C, K-1] = [?, 5376, 3], got 'tensor<?x5376x4xf32>'}}
  %o = ssm.causal_conv1d %x weight %w init %s0 activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>, tensor<?x5376x4xf32>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_init_not_f32(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>, %s0: tensor<?x5376x3xbf16>) {
  // expected-error @below {{operand 'init' must have element type f32, got 'bf16'}}
  %o = ssm.causal_conv1d %x weight %w init %s0 activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>, tensor<?x5376x3xbf16>) -> tensor<?x?x5376xbf16>
  return
}

// -----

func.func @causal_conv1d_final_state_shape(%x: tensor<2x?x5376xbf16>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{result 'final_state' must have shape [B, C, K-1] = [2, 5376, 3], got 'tensor<1x5376x3xf32>'}}
  %o, %s = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<2x?x5376xbf16>, tensor<5376x4xf32>) -> (tensor<2x?x5376xbf16>, tensor<1x5376x3xf32>)
  return
}

// -----

func.func @causal_conv1d_final_state_not_f32(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{result 'final_state' must have element type f32, got 'bf16'}}
  %o, %s = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>) -> (tensor<?x?x5376xbf16>, tensor<?x5376x3xbf16>)
  return
}

// -----

func.func @causal_conv1d_result_type(%x: tensor<?x?x5376xbf16>, %w: tensor<5376x4xf32>) {
  // expected-error @below {{result must have the type of 'x' ('tensor<?x?x5376xbf16>'), got 'tensor<?x?x5376xf32>'}}
  %o = ssm.causal_conv1d %x weight %w activation = silu layout = channel_last
      : (tensor<?x?x5376xbf16>, tensor<5376x4xf32>) -> tensor<?x?x5376xf32>
  return
}

//===----------------------------------------------------------------------===//
// ssm.scan_step
//===----------------------------------------------------------------------===//

// -----

func.func @scan_step_state_rank(%s0: tensor<?x512xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{'ssm.scan_step' op operand 'state' must be [B, D, N] (Mamba-1) or [B, H, P, N] (Mamba-2), got 'tensor<?x512xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512xf32>)
  return
}

// -----

func.func @scan_step_state_not_f32(%s0: tensor<?x512x16xbf16>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'state' must have element type f32, got 'bf16'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xbf16>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xbf16>)
  return
}

// -----

func.func @scan_step_mamba1_state_dynamic_channels(%s0: tensor<?x?x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'state' must have a static size for D (dimension 1), got 'tensor<?x?x16xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x?x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x?x16xf32>)
  return
}

// -----

func.func @scan_step_mamba2_state_dynamic_headdim(%s0: tensor<?x80x?x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>) {
  // expected-error @below {{operand 'state' must have a static size for P (dimension 2), got 'tensor<?x80x?x128xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x80x?x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x?x128xf32>)
  return
}

// -----

func.func @scan_step_mamba2_x_shape(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x32xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>) {
  // expected-error @below {{operand 'x' must have shape [B, H, P] = [?, 80, 64], got 'tensor<?x80x32xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x80x64x128xf32>, tensor<?x80x32xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x32xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_x_integer(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xi32>, %dt: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'x' must have element type f32, f16 or bf16, got 'i32'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xi32>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xi32>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_mamba2_delta_shape(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>) {
  // expected-error @below {{operand 'delta' must have shape [B, H] = [?, 80], got 'tensor<?x80x64xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80x64xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_delta_integer(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %dt: tensor<?x512xi32>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'delta' must have element type f32, f16 or bf16, got 'i32'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xi32>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_mamba2_A_shape(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80x128xf32>, %B: tensor<?x1x128xbf16>) {
  // expected-error @below {{operand 'A' must have shape [H] = [80], got 'tensor<80x128xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80x128xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_mamba2_A_not_f32(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xbf16>, %B: tensor<?x1x128xbf16>) {
  // expected-error @below {{operand 'A' must have element type f32, got 'bf16'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xbf16>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_mamba1_A_shape(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'A' must have shape [D, N] = [512, 16], got 'tensor<512xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_mamba1_A_not_f32(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xbf16>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{operand 'A' must have element type f32, got 'bf16'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xbf16>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_B_state_mismatch(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x8xbf16>) {
  // expected-error @below {{operand 'B' must have shape [B, G, N] = [?, 1, 16], got 'tensor<?x1x8xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x8xbf16>, tensor<?x1x8xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_B_integer(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xi32>) {
  // expected-error @below {{operand 'B' must have element type f32, f16 or bf16, got 'i32'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xi32>, tensor<?x1x16xi32>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_C_groups_mismatch(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>, %C: tensor<?x2x16xbf16>) {
  // expected-error @below {{operand 'C' must have shape [B, G, N] = [?, 1, 16], got 'tensor<?x2x16xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %C
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x2x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_C_integer(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>, %C: tensor<?x1x16xi8>) {
  // expected-error @below {{operand 'C' must have element type f32, f16 or bf16, got 'i8'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %C
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xi8>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_mamba2_groups_do_not_divide(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x3x128xbf16>) {
  // expected-error @below {{operand 'B' has 3 groups, which must be static and divide H = 80}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x3x128xbf16>, tensor<?x3x128xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_dynamic_groups(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x?x16xbf16>) {
  // expected-error @below {{operand 'B' has ? groups, which must be static and divide D = 512}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x?x16xbf16>, tensor<?x?x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_zero_groups(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x0x16xbf16>) {
  // expected-error @below {{operand 'B' has 0 groups, which must be static and divide D = 512}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x0x16xbf16>, tensor<?x0x16xbf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_skip_shape(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>, %D: tensor<16xf32>) {
  // expected-error @below {{operand 'skip' must have shape [D] = [512], got 'tensor<16xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B skip %D
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>, tensor<16xf32>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_mamba2_bias_not_f32(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>, %db: tensor<80xbf16>) {
  // expected-error @below {{operand 'bias' must have element type f32, got 'bf16'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B bias %db softplus
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<80xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_y_shape(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{result 'y' must have shape [B, D] = [?, 512], got 'tensor<?x512x16xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512x16xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_y_element_type(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{'y' must have the element type of the input ('bf16'), got 'f32'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xf32>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_gate_shape(%s0: tensor<?x80x64x128xf32>, %x: tensor<?x80x64xbf16>, %dt: tensor<?x80xbf16>, %A: tensor<80xf32>, %B: tensor<?x1x128xbf16>, %z: tensor<?x80xbf16>) {
  // expected-error @below {{operand 'gate' must have shape [B, H, P] = [?, 80, 64], got 'tensor<?x80xbf16>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %dt, %A, %B, %B gate %z
      : (tensor<?x80x64x128xf32>, tensor<?x80x64xbf16>, tensor<?x80xbf16>, tensor<80xf32>, tensor<?x1x128xbf16>, tensor<?x1x128xbf16>, tensor<?x80xbf16>) -> (tensor<?x80x64xbf16>, tensor<?x80x64x128xf32>)
  return
}

// -----

func.func @scan_step_gate_element_type(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>, %z: tensor<?x512xf16>) {
  // expected-error @below {{operand 'gate' must have the element type of the input ('bf16'), got 'f16'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B gate %z
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>, tensor<?x512xf16>) -> (tensor<?x512xbf16>, tensor<?x512x16xf32>)
  return
}

// -----

func.func @scan_step_new_state_type(%s0: tensor<?x512x16xf32>, %x: tensor<?x512xbf16>, %A: tensor<512x16xf32>, %B: tensor<?x1x16xbf16>) {
  // expected-error @below {{result 'new_state' must have the type of 'state' ('tensor<?x512x16xf32>'), got 'tensor<4x512x16xf32>'}}
  %y, %s1 = ssm.scan_step %s0, %x, %x, %A, %B, %B
      : (tensor<?x512x16xf32>, tensor<?x512xbf16>, tensor<?x512xbf16>, tensor<512x16xf32>, tensor<?x1x16xbf16>, tensor<?x1x16xbf16>) -> (tensor<?x512xbf16>, tensor<4x512x16xf32>)
  return
}

// -----

func.func @split_length_zero_quantum(%len: index) -> index {
  // expected-error @below {{'ssm.split_length' op attribute 'quantum' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %s = ssm.split_length %len quantum 0
  return %s : index
}

// -----

func.func @bidirectional_reverse(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>) {
  // expected-error @below {{a bidirectional scan runs both directions; 'reverse' does not apply to it}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B reverse bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x128x?xbf16>
  return
}

// -----

func.func @bidirectional_odd_channels(%u: tensor<?x255x?xbf16>, %A: tensor<255x16xf32>, %B: tensor<?x16x?xbf16>) {
  // expected-error @below {{a bidirectional scan needs a channel count 2D divisible by 2 (the forward ones, then the backward ones), got 255}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x255x?xbf16>, tensor<?x255x?xbf16>, tensor<255x16xf32>, tensor<?x16x?xbf16>, tensor<?x16x?xbf16>) -> tensor<?x127x?xbf16>
  return
}

// -----

func.func @bidirectional_odd_groups(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x1x16x?xbf16>) {
  // expected-error @below {{a bidirectional scan needs a number of B/C groups divisible by 2 (the forward ones, then the backward ones), got 1}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x1x16x?xbf16>, tensor<?x1x16x?xbf16>) -> tensor<?x128x?xbf16>
  return
}

// -----

func.func @bidirectional_output_channels(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>) {
  // expected-error @below {{result 'y' must have shape [B, D, L] = [?, 128, ?], got 'tensor<?x256x?xbf16>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>) -> tensor<?x256x?xbf16>
  return
}

// -----

func.func @bidirectional_state_channels(%u: tensor<?x256x?xbf16>, %A: tensor<256x16xf32>, %B: tensor<?x2x16x?xbf16>, %h0: tensor<?x128x16xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, 2D, N] = [?, 256, 16], got 'tensor<?x128x16xf32>'}}
  %y = ssm.selective_scan %u, %u, %A, %B, %B init %h0 bidirectional layout = channel_first
      : (tensor<?x256x?xbf16>, tensor<?x256x?xbf16>, tensor<256x16xf32>, tensor<?x2x16x?xbf16>, tensor<?x2x16x?xbf16>, tensor<?x128x16xf32>) -> tensor<?x128x?xbf16>
  return
}

// -----

func.func @scan_bidirectional_odd_groups(%abar: tensor<?x256x?x16xf32>, %u: tensor<?x256x?xbf16>, %C: tensor<?x1x16x?xbf16>) {
  // expected-error @below {{a bidirectional scan needs a number of B/C groups divisible by 2 (the forward ones, then the backward ones), got 1}}
  %y = ssm.scan %abar, %abar, %u, %C bidirectional layout = channel_first
      : (tensor<?x256x?x16xf32>, tensor<?x256x?x16xf32>, tensor<?x256x?xbf16>, tensor<?x1x16x?xbf16>) -> tensor<?x128x?xbf16>
  return
}

// -----

func.func @split_length_zero_min(%len: index) -> index {
  // expected-error @below {{'ssm.split_length' op attribute 'min_steps' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %s = ssm.split_length %len quantum 32 min 0
  return %s : index
}

// -----

func.func @split_length_waves_and_fill(%len: index) -> index {
  // expected-error @below {{'ssm.split_length' op takes waves or fill, not both: fill replaces the wave rule}}
  %s = ssm.split_length %len quantum 32 waves 2 fill 2
  return %s : index
}

// -----

func.func @split_length_fill_too_large(%len: index) -> index {
  // expected-error @below {{'ssm.split_length' op fill 65 exceeds 64 blocks an SM}}
  %s = ssm.split_length %len quantum 32 fill 65
  return %s : index
}

// -----

func.func @cross_scan_channel_first(%u: tensor<?x32x63xbf16>, %d: tensor<?x128x63xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x4x16x63xbf16>) {
  // expected-error @below {{a cross scan needs layout = channel_last}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_first
      : (tensor<?x32x63xbf16>, tensor<?x128x63xbf16>, tensor<128x16xf32>, tensor<?x4x16x63xbf16>, tensor<?x4x16x63xbf16>) -> tensor<?x32x63xbf16>
  return
}

// -----

func.func @cross_scan_grid_len(%u: tensor<?x64x32xbf16>, %d: tensor<?x64x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x64x4x16xbf16>) {
  // expected-error @below {{a cross scan over a 7 x 9 grid needs a static L = H·W = 63, got 64}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last
      : (tensor<?x64x32xbf16>, tensor<?x64x128xbf16>, tensor<128x16xf32>, tensor<?x64x4x16xbf16>, tensor<?x64x4x16xbf16>) -> tensor<?x64x32xbf16>
  return
}

// -----

func.func @cross_scan_dynamic_len(%u: tensor<?x?x32xbf16>, %d: tensor<?x?x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x?x4x16xbf16>) {
  // expected-error @below {{a cross scan over a 7 x 9 grid needs a static L = H·W = 63, got ?}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last
      : (tensor<?x?x32xbf16>, tensor<?x?x128xbf16>, tensor<128x16xf32>, tensor<?x?x4x16xbf16>, tensor<?x?x4x16xbf16>) -> tensor<?x?x32xbf16>
  return
}

// -----

func.func @cross_scan_grid_overflows(%u: tensor<?x?x32xbf16>, %d: tensor<?x?x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x?x4x16xbf16>) {
  // expected-error @below {{a cross scan over a 4294967296 x 4294967296 grid overflows L = H·W}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [4294967296, 4294967296] layout = channel_last
      : (tensor<?x?x32xbf16>, tensor<?x?x128xbf16>, tensor<128x16xf32>, tensor<?x?x4x16xbf16>, tensor<?x?x4x16xbf16>) -> tensor<?x?x32xbf16>
  return
}

// -----

func.func @cross_scan_grid_rank(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) {
  // expected-error @below {{cross_scan must be [H, W], two positive sizes, got [63]}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [63] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_reverse(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) {
  // expected-error @below {{a cross scan runs four fixed directions; 'reverse' does not apply to it}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B reverse cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_bidirectional(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) {
  // expected-error @below {{'bidirectional' and 'cross_scan' exclude each other}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B bidirectional cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_groups(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x2x16xbf16>) {
  // expected-error @below {{a cross scan needs a number of B/C groups divisible by 4 (the four directions' in turn), got 2}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x2x16xbf16>, tensor<?x63x2x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_u_channels(%d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) {
  // expected-error @below {{operand 'u' must have shape [B, L, D] = [?, 63, 32], got 'tensor<?x63x128xbf16>'}}
  %y = ssm.selective_scan %d, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x128xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_state(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>, %h0: tensor<?x32x16xf32>) {
  // expected-error @below {{operand 'init' must have shape [B, 4D, N] = [?, 128, 16], got 'tensor<?x32x16xf32>'}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B init %h0 cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>, tensor<?x32x16xf32>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @cross_scan_chunk(%u: tensor<?x63x32xbf16>, %d: tensor<?x63x128xbf16>, %A: tensor<128x16xf32>, %B: tensor<?x63x4x16xbf16>) {
  // expected-error @below {{tile chunk = 32 does not apply to a cross scan, which is not split into L segments}}
  %y = ssm.selective_scan %u, %d, %A, %B, %B cross_scan [7, 9] layout = channel_last tile = <threads = 32, items = 8, chunk = 32>
      : (tensor<?x63x32xbf16>, tensor<?x63x128xbf16>, tensor<128x16xf32>, tensor<?x63x4x16xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @scan_cross_u(%abar: tensor<?x63x128x16xf32>, %C: tensor<?x63x4x16xbf16>, %u: tensor<?x63x128xbf16>) {
  // expected-error @below {{operand 'u' must have shape [B, L, D] = [?, 63, 32], got 'tensor<?x63x128xbf16>'}}
  %y = ssm.scan %abar, %abar, %u, %C cross_scan [7, 9] layout = channel_last
      : (tensor<?x63x128x16xf32>, tensor<?x63x128x16xf32>, tensor<?x63x128xbf16>, tensor<?x63x4x16xbf16>) -> tensor<?x63x32xbf16>
  return
}

// -----

func.func @worker_count_no_units() -> index {
  // expected-error @below {{'ssm.worker_count' op needs at least one factor of the unit count}}
  %w = ssm.worker_count () per_sm 2
  return %w : index
}

// -----

func.func @worker_count_zero_per_sm(%batch: index) -> index {
  // expected-error @below {{'ssm.worker_count' op attribute 'per_sm' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %w = ssm.worker_count (%batch) per_sm 0
  return %w : index
}
