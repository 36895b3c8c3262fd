//===- Runtime.cpp - libssmrt C API -----------------------------*- C++ -*-===//
//
// The extern "C" entry points. Each checks its handles, runs the C++ code
// behind it and turns any exception into a status plus the calling thread's
// last-error message, so that no exception crosses the C boundary.
//
//===----------------------------------------------------------------------===//

#include "Failure.h"
#include "Manifest.h"
#include "Module.h"

#include "ssmrt/ssmrt.h"

#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using namespace ssmrt::detail;

namespace {

thread_local std::string lastError;

/// Runs `body`, mapping its exceptions to a status and the last error.
template <typename Body> ssmrt_status guard(Body &&body) noexcept {
  try {
    body();
    return SSMRT_SUCCESS;
  } catch (const Failure &failure) {
    lastError = failure.what();
    return failure.status();
  } catch (const std::exception &e) {
    lastError = std::string("unexpected error: ") + e.what();
    return SSMRT_ERROR_INVALID_VALUE;
  } catch (...) {
    lastError = "unexpected error";
    return SSMRT_ERROR_INVALID_VALUE;
  }
}

void requireNonNull(const void *pointer, const char *what) {
  if (!pointer)
    fail(SSMRT_ERROR_INVALID_VALUE, std::string(what) + " is null");
}

struct CloseFile {
  void operator()(std::FILE *file) const { std::fclose(file); }
};

/// The bytes of the file at `path`; throws Failure(status) "<what> '<path>':
/// <reason>" if it cannot be read.
std::vector<char> readFile(const std::string &path, ssmrt_status status,
                           const std::string &what) {
  auto failWithErrno = [&] {
    int error = errno;
    fail(status,
         what + " '" + path + "': " + std::generic_category().message(error));
  };
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "rb"));
  if (!file)
    failWithErrno();
  std::vector<char> bytes;
  char buffer[1 << 16];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), file.get()))
    bytes.insert(bytes.end(), buffer, buffer + n);
  if (std::ferror(file.get()))
    failWithErrno();
  return bytes;
}

} // namespace

extern "C" {

ssmrt_status ssmrt_module_load(const char *manifestPath, ssmrt_module *out) {
  return guard([&] {
    requireNonNull(out, "ssmrt_module_load: out");
    *out = nullptr;
    requireNonNull(manifestPath, "ssmrt_module_load: manifestPath");
    std::vector<char> text =
        readFile(manifestPath, SSMRT_ERROR_MANIFEST, "manifest: cannot read");
    Manifest manifest = parseManifest({text.data(), text.size()});
    std::string binary =
        (std::filesystem::path(manifestPath).parent_path() / manifest.binary)
            .string();
    std::vector<char> image =
        readFile(binary, SSMRT_ERROR_IO, "cannot read the manifest's binary");
    if (image.empty())
      fail(SSMRT_ERROR_IO, "the manifest's binary '" + binary + "' is empty");
    *out = new ssmrt_module_st(std::move(manifest), std::move(image));
  });
}

ssmrt_status ssmrt_module_load_from_memory(const char *manifestJson,
                                           size_t manifestSize,
                                           const void *image, size_t imageSize,
                                           ssmrt_module *out) {
  return guard([&] {
    requireNonNull(out, "ssmrt_module_load_from_memory: out");
    *out = nullptr;
    requireNonNull(manifestJson, "ssmrt_module_load_from_memory: manifestJson");
    requireNonNull(image, "ssmrt_module_load_from_memory: image");
    if (imageSize == 0)
      fail(SSMRT_ERROR_INVALID_VALUE,
           "ssmrt_module_load_from_memory: imageSize is 0");
    Manifest manifest = parseManifest({manifestJson, manifestSize});
    const char *bytes = static_cast<const char *>(image);
    *out = new ssmrt_module_st(std::move(manifest),
                               std::vector<char>(bytes, bytes + imageSize));
  });
}

ssmrt_status ssmrt_module_destroy(ssmrt_module m) {
  std::unique_ptr<ssmrt_module_st> owned(m);
  return guard([&] {
    if (owned)
      owned->release();
  });
}

int32_t ssmrt_module_num_layers(ssmrt_module m) {
  return m ? static_cast<int32_t>(m->layers.size()) : 0;
}

ssmrt_status ssmrt_module_layer_at(ssmrt_module m, int32_t i,
                                   ssmrt_layer *out) {
  return guard([&] {
    requireNonNull(out, "ssmrt_module_layer_at: out");
    *out = nullptr;
    requireNonNull(m, "ssmrt_module_layer_at: module");
    int32_t count = ssmrt_module_num_layers(m);
    if (i < 0 || i >= count)
      fail(SSMRT_ERROR_INVALID_VALUE,
           "ssmrt_module_layer_at: index " + std::to_string(i) +
               " is out of range for a module with " + std::to_string(count) +
               " layers");
    *out = &m->layers[i];
  });
}

ssmrt_status ssmrt_module_get_layer(ssmrt_module m, const char *name,
                                    ssmrt_layer *out) {
  return guard([&] {
    requireNonNull(out, "ssmrt_module_get_layer: out");
    *out = nullptr;
    requireNonNull(m, "ssmrt_module_get_layer: module");
    requireNonNull(name, "ssmrt_module_get_layer: name");
    std::string known;
    for (ssmrt_layer_st &layer : m->layers) {
      if (layer.desc.name == name) {
        *out = &layer;
        return;
      }
      known += (known.empty() ? "'" : ", '") + layer.desc.name + "'";
    }
    fail(SSMRT_ERROR_NOT_FOUND, std::string("no layer '") + name +
                                    "' in the module (it has: " +
                                    (known.empty() ? "none" : known) + ")");
  });
}

const char *ssmrt_layer_name(ssmrt_layer l) {
  return l ? l->desc.name.c_str() : nullptr;
}

int32_t ssmrt_layer_num_tensors(ssmrt_layer l) {
  return l ? static_cast<int32_t>(l->desc.tensors.size()) : 0;
}

ssmrt_status ssmrt_layer_tensor_info(ssmrt_layer l, int32_t i,
                                     const char **name, int32_t *isOutput,
                                     ssmrt_dtype *dtype, int32_t *rank,
                                     int64_t *shape) {
  return guard([&] {
    requireNonNull(l, "ssmrt_layer_tensor_info: layer");
    int32_t count = ssmrt_layer_num_tensors(l);
    if (i < 0 || i >= count)
      fail(SSMRT_ERROR_INVALID_VALUE,
           "ssmrt_layer_tensor_info: index " + std::to_string(i) +
               " is out of range for layer '" + l->desc.name + "' with " +
               std::to_string(count) + " tensors");
    const TensorDesc &tensor = l->desc.tensors[i];
    if (name)
      *name = tensor.name.c_str();
    if (isOutput)
      *isOutput = static_cast<int32_t>(tensor.role);
    if (dtype)
      *dtype = tensor.dtype;
    if (rank)
      *rank = static_cast<int32_t>(tensor.shape.size());
    if (shape)
      for (std::size_t d = 0; d < tensor.shape.size(); ++d)
        shape[d] = tensor.shape[d].isSymbol() ? -1 : tensor.shape[d].value;
  });
}

ssmrt_status ssmrt_layer_launch(ssmrt_layer l, const ssmrt_tensor *tensors,
                                int32_t numTensors, void *stream) {
  return guard([&] {
    requireNonNull(l, "ssmrt_layer_launch: layer");
    l->launch(tensors, numTensors, static_cast<CUstream>(stream));
  });
}

const char *ssmrt_last_error(void) { return lastError.c_str(); }

const char *ssmrt_status_string(ssmrt_status s) {
  switch (s) {
  case SSMRT_SUCCESS:
    return "success";
  case SSMRT_ERROR_INVALID_VALUE:
    return "invalid value";
  case SSMRT_ERROR_IO:
    return "I/O error";
  case SSMRT_ERROR_MANIFEST:
    return "invalid manifest";
  case SSMRT_ERROR_NOT_FOUND:
    return "not found";
  case SSMRT_ERROR_SHAPE:
    return "tensor shape mismatch";
  case SSMRT_ERROR_NO_DRIVER:
    return "no CUDA driver";
  case SSMRT_ERROR_CUDA:
    return "CUDA driver error";
  }
  return "unknown status";
}

const char *ssmrt_dtype_name(ssmrt_dtype dtype) { return dtypeName(dtype); }

size_t ssmrt_dtype_size(ssmrt_dtype dtype) {
  return dtypeName(dtype) ? dtypeSize(dtype) : 0;
}

} // extern "C"
