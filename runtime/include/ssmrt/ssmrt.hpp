//===- ssmrt.hpp - C++ wrapper of the libssmrt C API ------------*- C++ -*-===//
//
// Header-only RAII over ssmrt.h: Module owns an ssmrt_module and is move-only;
// Layer is a non-owning handle valid while its Module lives. Failed calls
// throw ssmrt::Error carrying the status and ssmrt_last_error().
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_SSMRT_HPP
#define SSMRT_SSMRT_HPP

#include "ssmrt/ssmrt.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ssmrt {

/// A failed libssmrt call.
class Error : public std::runtime_error {
public:
  Error(ssmrt_status status, const std::string &message)
      : std::runtime_error(message), status_(status) {}

  /// The status the C API returned.
  ssmrt_status status() const noexcept { return status_; }

private:
  ssmrt_status status_;
};

/// Throws Error with the thread's last message unless `status` is success.
inline void check(ssmrt_status status) {
  if (status != SSMRT_SUCCESS)
    throw Error(status, ssmrt_last_error());
}

/// A layer of a Module.
class Layer {
public:
  /// The layer's name in the manifest.
  std::string name() const { return ssmrt_layer_name(layer_); }

  /// The number of tensors launch() takes.
  int32_t numTensors() const { return ssmrt_layer_num_tensors(layer_); }

  /// Launches the layer on `stream` (a CUstream); see ssmrt_layer_launch.
  void launch(std::initializer_list<ssmrt_tensor> tensors,
              void *stream = nullptr) const {
    launch(tensors.begin(), tensors.size(), stream);
  }
  void launch(const std::vector<ssmrt_tensor> &tensors,
              void *stream = nullptr) const {
    launch(tensors.data(), tensors.size(), stream);
  }

  /// The C handle.
  ssmrt_layer get() const noexcept { return layer_; }

private:
  friend class Module;
  explicit Layer(ssmrt_layer layer) : layer_(layer) {}

  void launch(const ssmrt_tensor *tensors, std::size_t count,
              void *stream) const {
    if (count > static_cast<std::size_t>(INT32_MAX))
      throw Error(SSMRT_ERROR_INVALID_VALUE, "launch: too many tensors");
    check(ssmrt_layer_launch(layer_, tensors, static_cast<int32_t>(count),
                             stream));
  }

  ssmrt_layer layer_;
};

/// An owned module; see ssmrt_module_load.
class Module {
public:
  /// Loads the manifest at `manifestPath` and its binary.
  static Module load(const std::string &manifestPath) {
    ssmrt_module module = nullptr;
    check(ssmrt_module_load(manifestPath.c_str(), &module));
    return Module(module);
  }

  /// Loads a manifest text and a kernel image from memory (both copied).
  static Module loadFromMemory(std::string_view manifestJson, const void *image,
                               std::size_t imageSize) {
    ssmrt_module module = nullptr;
    check(ssmrt_module_load_from_memory(
        manifestJson.data(), manifestJson.size(), image, imageSize, &module));
    return Module(module);
  }

  Module(Module &&other) noexcept
      : module_(std::exchange(other.module_, nullptr)) {}
  Module &operator=(Module &&other) noexcept {
    std::swap(module_, other.module_);
    return *this;
  }
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  /// Destroys the module, ignoring driver failures; close() reports them.
  ~Module() { (void)ssmrt_module_destroy(module_); }

  /// Destroys the module now; throws Error(SSMRT_ERROR_CUDA) if the driver
  /// failed to wait for its work or to free it (see ssmrt_module_destroy).
  void close() { check(ssmrt_module_destroy(std::exchange(module_, nullptr))); }

  /// The number of layers.
  int32_t numLayers() const { return ssmrt_module_num_layers(module_); }

  /// Layer `i` in manifest order; throws Error(SSMRT_ERROR_INVALID_VALUE) if
  /// out of range. Like layer(name), it lives as long as this module.
  Layer layerAt(int32_t i) const & {
    ssmrt_layer layer = nullptr;
    check(ssmrt_module_layer_at(module_, i, &layer));
    return Layer(layer);
  }
  Layer layerAt(int32_t i) const && = delete;

  /// The layer called `name`; throws Error(SSMRT_ERROR_NOT_FOUND) if none.
  /// It lives as long as this module, so a temporary module has none.
  Layer layer(const std::string &name) const & {
    ssmrt_layer layer = nullptr;
    check(ssmrt_module_get_layer(module_, name.c_str(), &layer));
    return Layer(layer);
  }
  Layer layer(const std::string &name) const && = delete;

  /// The C handle, still owned by this Module.
  ssmrt_module get() const noexcept { return module_; }

private:
  explicit Module(ssmrt_module module) : module_(module) {}

  ssmrt_module module_;
};

} // namespace ssmrt

#endif // SSMRT_SSMRT_HPP
