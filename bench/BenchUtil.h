//===- BenchUtil.h - What the GPU benchmarks share --------------*- C++ -*-===//
//
// Timing with CUDA events the way ANCHORS.md measured the anchors (cold L2:
// a 256 MiB memset before each call, outside the timed region; median of 30
// calls after 5 warm-ups), the device-to-device copy bandwidth every report
// is a ratio to, and loading one benchmark spec's layer.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_BENCH_BENCHUTIL_H
#define SSMC_BENCH_BENCHUTIL_H

#include "CudaDriver.h"
#include "LayerInputs.h"
#include "SpecReader.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ssmc::gpu {

constexpr int kWarmups = 5;
constexpr int kRuns = 30;
constexpr size_t kFlushBytes = size_t(256) << 20;
constexpr size_t kCopyBytes = size_t(1) << 30;

/// The launches timed per call of a warm-L2 row, back to back.
constexpr int kWarmLaunches = 8;

/// A CUDA event.
class Event {
public:
  Event() {
    check(driver().eventCreate(&event, CU_EVENT_DEFAULT), "cuEventCreate");
  }
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;
  ~Event() { driver().eventDestroy(event); }

  /// Records the event on the default stream.
  void record() {
    check(driver().eventRecord(event, nullptr), "cuEventRecord");
  }

  /// Milliseconds from `start` to this event, once it completed.
  float since(const Event &start) const {
    check(driver().eventSynchronize(event), "cuEventSynchronize");
    float ms = 0;
    check(driver().eventElapsedTime(&ms, start.event, event),
          "cuEventElapsedTime");
    return ms;
  }

private:
  CUevent event = nullptr;
};

/// The median of `times` (not empty).
inline double median(std::vector<float> times) {
  std::sort(times.begin(), times.end());
  return times.size() % 2
             ? times[times.size() / 2]
             : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
}

/// The median time in ms of `runs` calls of `body` after `warmups`. With a
/// `flush` buffer, each call first overwrites it so that L2 holds none of the
/// call's data; the start event is recorded after the memset, so its time is
/// not counted.
template <typename Body>
inline double medianMs(int warmups, int runs, const DeviceBuffer *flush,
                       Body body) {
  Event start, stop;
  std::vector<float> times;
  for (int i = 0; i < warmups + runs; ++i) {
    if (flush)
      check(driver().memsetD8(flush->get(), static_cast<unsigned char>(i),
                              flush->size()),
            "cuMemsetD8");
    start.record();
    body();
    stop.record();
    const float ms = stop.since(start);
    if (i >= warmups)
      times.push_back(ms);
  }
  return median(times);
}

/// The median time in ms of one call of `body` with warm L2, over `runs`
/// samples after `warmups`. Each sample queues two `flush` memsets (keeping
/// the GPU busy while the host queues the rest, so that host launch costs
/// leave no gaps), one untimed call that brings the call's data into L2, then
/// kWarmLaunches calls between the events, and counts their mean.
template <typename Body>
inline double warmMedianMs(int warmups, int runs, const DeviceBuffer &flush,
                           Body body) {
  Event start, stop;
  std::vector<float> times;
  for (int i = 0; i < warmups + runs; ++i) {
    for (int j = 0; j < 2; ++j)
      check(driver().memsetD8(flush.get(), static_cast<unsigned char>(i + j),
                              flush.size()),
            "cuMemsetD8");
    body();
    start.record();
    for (int j = 0; j < kWarmLaunches; ++j)
      body();
    stop.record();
    const float ms = stop.since(start) / kWarmLaunches;
    if (i >= warmups)
      times.push_back(ms);
  }
  return median(times);
}

/// The median time in ms of `runs` device-to-device copies of `size` bytes
/// after `warmups` (medianMs: L2 cold with a `flush` buffer).
inline double copyMs(size_t size, int warmups, int runs,
                     const DeviceBuffer *flush) {
  DeviceBuffer source(size), target(size);
  check(driver().memsetD8(source.get(), 1, size), "cuMemsetD8");
  return medianMs(warmups, runs, flush, [&] {
    check(driver().memcpyDtoD(target.get(), source.get(), size),
          "cuMemcpyDtoD");
  });
}

/// Device-to-device copy bandwidth in bytes/s, reads plus writes.
inline double copyBandwidth() {
  return 2.0 * kCopyBytes / (copyMs(kCopyBytes, 2, 10, nullptr) * 1e-3);
}

/// The cold-L2 median time in ms of a device-to-device copy that reads and
/// writes `bytes` in all, the yardstick of a small memory-bound kernel: at
/// tens of MB a copy no longer reaches copyBandwidth()'s rate, since its
/// launch and its first and last waves weigh as much as its middle.
inline double sameSizeCopyMs(double bytes, const DeviceBuffer &flush) {
  return copyMs(static_cast<size_t>(bytes / 2), kWarmups, kRuns, &flush);
}

/// The cold-L2 median time in ms of `layer` on random inputs for `tensors`
/// (makeInputs) at `batch` x `len`, seeded from `seed`.
inline double coldLayerMs(const ssmrt::Layer &layer,
                          const std::vector<TensorDesc> &tensors,
                          bool deltaSoftplus, int64_t batch, int64_t len,
                          const std::string &seed, const DeviceBuffer &flush) {
  DeviceTensors device(
      tensors, makeInputs(tensors, deltaSoftplus, batch, len, seedOf(seed)));
  return medianMs(kWarmups, kRuns, &flush, [&] { launchLayer(layer, device); });
}

/// The bytes of the tensors of `tensors` that `counted(t)` selects, at
/// `batch` x `len`.
template <typename Counted>
double tensorBytes(const std::vector<TensorDesc> &tensors, int64_t batch,
                   int64_t len, Counted counted) {
  double bytes = 0;
  for (const TensorDesc &t : tensors)
    if (counted(t))
      bytes += numElements(bindShape(t.shape, batch, len)) *
               ssmrt_dtype_size(t.dtype);
  return bytes;
}

/// A benchmark spec's one layer and the module that owns it.
template <typename LayerSpec> struct LoadedLayer {
  ssmrt::Module module;
  LayerSpec spec;
  ssmrt::Layer layer;
};

/// Checks that spec `file` (bench spec `name`) holds one layer, of the kind
/// `layers` selects; loads its kernels from `kernelDir` and checks that they
/// match it.
template <typename LayerSpec>
LoadedLayer<LayerSpec>
loadLayer(const SpecFile &file, const std::string &kernelDir,
          const std::string &name, std::vector<LayerSpec> SpecFile::*layers) {
  const size_t total = file.layers.size() + file.steps.size() +
                       file.convs.size() + file.ssds.size() + file.norms.size();
  if ((file.*layers).size() != 1 || total != 1)
    throw std::runtime_error(name + ": a benchmark spec has one layer");
  ssmrt::Module module = ssmrt::Module::load(
      (std::filesystem::path(kernelDir) / (file.name + ".manifest.json"))
          .string());
  const LayerSpec &spec = (file.*layers)[0];
  ssmrt::Layer layer = module.layer(spec.name);
  checkLayer(layer, spec);
  return {std::move(module), spec, layer};
}

/// The rows of a report that did not run, as "<label>: <why>": those that
/// failed, and those whose binary does not run on this GPU.
struct NotRun {
  std::vector<std::string> errors, skipped;
};

/// Runs `run(row, loaded)` for each row of `rows`, loading each row's spec
/// (`row.spec`, one layer of the kind `layers` selects) once. A row that
/// fails other than by a CUDA error is recorded in `notRun.errors` and the
/// others go on, a row built only for another GPU in `notRun.skipped`; a
/// CUDA error ends the run.
template <typename Rows, typename LayerSpec, typename Label, typename Run>
void runRows(const Rows &rows, const std::string &specDir,
             const std::string &kernelDir,
             std::vector<LayerSpec> SpecFile::*layers, NotRun &notRun,
             Label label, Run run) {
  std::map<std::string, LoadedLayer<LayerSpec>> loaded;
  const std::string device = deviceArch();
  for (const auto &row : rows) {
    try {
      auto it = loaded.find(row.spec);
      if (it == loaded.end()) {
        SpecFile file = readSpec(
            (std::filesystem::path(specDir) / (std::string(row.spec) + ".json"))
                .string());
        if (!runsOn(file.archs, device)) {
          notRun.skipped.push_back(label(row) + ": built for " +
                                   file.archs.front() + " only, the GPU is " +
                                   device);
          continue;
        }
        it =
            loaded
                .emplace(row.spec, loadLayer(file, kernelDir, row.spec, layers))
                .first;
      }
      run(row, it->second);
    } catch (const CudaError &) {
      throw;
    } catch (const std::exception &error) {
      notRun.errors.push_back(label(row) + ": " + error.what());
    }
  }
}

/// Ends the report with the rows that did not run; returns the exit code
/// (1 if any failed).
inline int reportNotRun(const NotRun &notRun) {
  for (const std::string &error : notRun.errors)
    std::printf("\n- not run: %s", error.c_str());
  for (const std::string &skip : notRun.skipped)
    std::printf("\n- skipped: %s", skip.c_str());
  std::printf("\n");
  return notRun.errors.empty() ? 0 : 1;
}

/// The command line, device and error handling of a benchmark binary:
/// `[--require-gpu] [--specs DIR] KERNEL_DIR`, then `body(specDir,
/// kernelDir)` with the device open, which returns the exit code. Without a
/// GPU it says so and returns 0 (2 with --require-gpu); a CUDA error ends
/// the report with its message.
template <typename Body>
int benchMain(int argc, char **argv, const char *defaultSpecDir, Body body) {
  std::string kernelDir, specDir = defaultSpecDir;
  bool requireGpu = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--require-gpu") {
      requireGpu = true;
    } else if (arg == "--specs" && i + 1 < argc) {
      specDir = argv[++i];
    } else if (arg[0] != '-' && kernelDir.empty()) {
      kernelDir = arg;
    } else {
      kernelDir.clear();
      break;
    }
  }
  if (kernelDir.empty()) {
    std::fprintf(stderr,
                 "usage: %s [--require-gpu] [--specs DIR] KERNEL_DIR\n"
                 "  KERNEL_DIR     the kernels of bench/specs "
                 "(test/gpu/build_kernels.sh <ssmc> DIR bench/specs)\n"
                 "  --specs DIR    the specs (default %s)\n"
                 "  --require-gpu  exit 2 instead of 0 when there is no GPU\n",
                 argv[0], defaultSpecDir);
    return 2;
  }
  const std::string noGpu = openDevice();
  if (!noGpu.empty()) {
    std::printf("no CUDA driver/GPU found: benchmark skipped (%s)\n",
                noGpu.c_str());
    return requireGpu ? 2 : 0;
  }
  try {
    return body(specDir, kernelDir);
  } catch (const CudaError &error) {
    std::printf("\nCUDA error: %s\n", error.what());
    return 1;
  }
}

/// The current UTC time, "2026-11-23 16:40 UTC".
inline std::string utcNow() {
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return date;
}

} // namespace ssmc::gpu

#endif // SSMC_BENCH_BENCHUTIL_H
