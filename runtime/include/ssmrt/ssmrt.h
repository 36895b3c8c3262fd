//===- ssmrt.h - libssmrt C API -----------------------------------*- C -*-===//
//
// libssmrt loads the kernels that ssmc compiled ahead of time (a fatbin and
// its JSON manifest, see runtime/MANIFEST.md) and launches them through the
// CUDA driver API, which it loads at run time: linking libssmrt needs neither
// libcuda nor LLVM. Manifest and tensor shapes are validated without touching
// the driver. Calls that can fail return an ssmrt_status, and then
// ssmrt_last_error() holds a message for the calling thread. Calls may come
// from any thread; launches of one module are serialized on the host, and a
// module must not be destroyed while another thread uses it.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_SSMRT_H
#define SSMRT_SSMRT_H

#include <stddef.h>
#include <stdint.h>

/// The version of this API, raised when a call changes. 2: layers can be
/// listed, and ssmrt_module_destroy returns a status.
#define SSMRT_API_VERSION 2

#if defined(__GNUC__)
#define SSMRT_API __attribute__((visibility("default")))
#else
#define SSMRT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// The result of every libssmrt call.
typedef enum ssmrt_status {
  SSMRT_SUCCESS = 0,
  /// A null handle or pointer, an index out of range, or a CUDA context that
  /// differs from the one the module was loaded into.
  SSMRT_ERROR_INVALID_VALUE,
  /// The manifest's binary file cannot be read.
  SSMRT_ERROR_IO,
  /// The manifest cannot be read or breaks the contract of MANIFEST.md.
  SSMRT_ERROR_MANIFEST,
  /// No layer of that name.
  SSMRT_ERROR_NOT_FOUND,
  /// The tensors given to a launch do not match the layer.
  SSMRT_ERROR_SHAPE,
  /// libcuda.so.1 cannot be loaded or lacks a needed entry point.
  SSMRT_ERROR_NO_DRIVER,
  /// A CUDA driver call failed.
  SSMRT_ERROR_CUDA
} ssmrt_status;

/// Element types, as spelled `f32`, `f16` and `bf16` in the manifest.
typedef enum ssmrt_dtype {
  SSMRT_F32 = 0,
  SSMRT_F16 = 1,
  SSMRT_BF16 = 2
} ssmrt_dtype;

/// A loaded manifest and its kernel image.
typedef struct ssmrt_module_st *ssmrt_module;
/// One layer of a module; valid while its module lives.
typedef struct ssmrt_layer_st *ssmrt_layer;

/// A dense, row-major device tensor. `data` is a CUdeviceptr (or any pointer
/// the driver accepts as one), 16-byte aligned; `shape` holds `rank` sizes.
typedef struct ssmrt_tensor {
  void *data;
  ssmrt_dtype dtype;
  int32_t rank;
  int64_t shape[8];
} ssmrt_tensor;

/// Reads the manifest at `manifestPath` and the binary it names (relative to
/// the manifest's directory) into a new module stored in `*out` (NULL on
/// failure).
SSMRT_API ssmrt_status ssmrt_module_load(const char *manifestPath,
                                         ssmrt_module *out);

/// Like ssmrt_module_load, from a manifest text of `manifestSize` bytes and a
/// kernel image (fatbin, cubin or PTX text) of `imageSize` bytes; both are
/// copied. The manifest's `binary` field is not used.
SSMRT_API ssmrt_status ssmrt_module_load_from_memory(const char *manifestJson,
                                                     size_t manifestSize,
                                                     const void *image,
                                                     size_t imageSize,
                                                     ssmrt_module *out);

/// Waits for the module's work on its context, frees its workspaces and
/// unloads it from the driver. Null is a no-op; the layers die with it. A
/// module launched in a context the caller created must be destroyed before
/// that context. The module is freed whatever the driver answers; the first
/// driver call that failed is reported as SSMRT_ERROR_CUDA (an asynchronous
/// fault in the context, say, surfaces at the wait). Null returns
/// SSMRT_SUCCESS.
SSMRT_API ssmrt_status ssmrt_module_destroy(ssmrt_module m);

/// The number of layers of `m` (0 for a null module).
SSMRT_API int32_t ssmrt_module_num_layers(ssmrt_module m);

/// Stores layer `i` of `m` (manifest order) in `*out`.
SSMRT_API ssmrt_status ssmrt_module_layer_at(ssmrt_module m, int32_t i,
                                             ssmrt_layer *out);

/// Stores the layer called `name` in `*out`; SSMRT_ERROR_NOT_FOUND if none.
SSMRT_API ssmrt_status ssmrt_module_get_layer(ssmrt_module m, const char *name,
                                              ssmrt_layer *out);

/// The name of `l`, which lives as long as its module (NULL for a null
/// layer).
SSMRT_API const char *ssmrt_layer_name(ssmrt_layer l);

/// The number of tensors a launch of `l` takes (0 for a null layer).
SSMRT_API int32_t ssmrt_layer_num_tensors(ssmrt_layer l);

/// Describes tensor `i` of `l` in launch order. Any output pointer may be
/// null. `*name` lives as long as the module. `*isOutput` is 0 for an input,
/// 1 for an output and 2 for an in-out tensor (nonzero: the layer writes it).
/// `shape` receives `*rank` (at most 8) sizes; sizes that are symbols are
/// reported as -1.
SSMRT_API ssmrt_status ssmrt_layer_tensor_info(ssmrt_layer l, int32_t i,
                                               const char **name,
                                               int32_t *isOutput,
                                               ssmrt_dtype *dtype,
                                               int32_t *rank, int64_t *shape);

/// Validates `tensors` (manifest order, count, dtype, rank, static dims,
/// symbol consistency, symbols >= 1, at most 2^48 bytes a tensor, non-null
/// 16-byte-aligned data) BEFORE touching the driver, then loads the module
/// image into the current context on first use (if there is no current
/// context, retain and set the primary context of device 0), allocates/grows
/// workspaces, and launches every kernel of the layer on `stream` (a
/// CUstream, may be NULL). A module stays bound to
/// the context of its first launch: a launch from another current context is
/// SSMRT_ERROR_INVALID_VALUE. A layer's workspaces are shared by all its
/// launches, so launches of one layer must not overlap on different streams.
SSMRT_API ssmrt_status ssmrt_layer_launch(ssmrt_layer l,
                                          const ssmrt_tensor *tensors,
                                          int32_t numTensors, void *stream);

/// Thread-local message of the last error on this thread ("" if none).
/// Successful calls leave it unchanged.
SSMRT_API const char *ssmrt_last_error(void);

/// A short, static description of `s`.
SSMRT_API const char *ssmrt_status_string(ssmrt_status s);

/// The manifest spelling of `dtype` ("f32", "f16" or "bf16"), or NULL for a
/// value outside the enum.
SSMRT_API const char *ssmrt_dtype_name(ssmrt_dtype dtype);

/// The size of one element of `dtype` in bytes, or 0 for a value outside
/// the enum.
SSMRT_API size_t ssmrt_dtype_size(ssmrt_dtype dtype);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // SSMRT_SSMRT_H
