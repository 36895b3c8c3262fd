//===- SSDBench.cpp - Mamba-2 SSD benchmark against the anchors -----------===//
//
// Times the ssd_chunk layers of bench/specs (bench_ssd_*.json), compiled
// ahead of time, on the SSD shapes of ANCHORS.md (T1 at several chunk sizes,
// with and without z, T2, T3; bf16, dt bias + softplus, D skip, G = 1) the
// way the anchors were measured: cold L2, CUDA events, median of 30 calls
// after 5 warm-ups. The same run measures the two yardsticks the figures are
// ratios to: device-to-device copy bandwidth and the dense bf16 tensor-core
// rate of a plain cuBLAS GEMM (8192³, loaded with dlopen; without cuBLAS the
// GEMM columns stay empty). Prints a Markdown report; times never fail the
// run.
//
//===----------------------------------------------------------------------===//

#include "BenchUtil.h"

#include <cublas_v2.h>
#include <dlfcn.h>

#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// One SSD row: a layer of bench/specs at one shape, with the ANCHORS.md
/// Triton times (0 where it has none).
struct SSDRow {
  const char *shape;
  const char *spec;
  int64_t batch;
  int64_t len;
  double tritonSameQMs; ///< Triton at this row's chunk size.
  double tritonBestMs;  ///< Triton at its best chunk size (256).
};

constexpr SSDRow kSSDRows[] = {
    {"T1", "bench_ssd_h80_q32", 4, 4096, 0, 0.755},
    {"T1", "bench_ssd_h80_q64", 4, 4096, 1.117, 0.755},
    {"T1", "bench_ssd_h80_q128", 4, 4096, 0.829, 0.755},
    {"T1 steps 64", "bench_ssd_h80_q64_k64", 4, 4096, 1.117, 0.755},
    {"T1 steps 128", "bench_ssd_h80_q128_k128", 4, 4096, 0.829, 0.755},
    // Three stages: two chunks ahead, one barrier a chunk.
    {"T1 stages 3", "bench_ssd_h80_q32_st3", 4, 4096, 0, 0.755},
    // Mamba-2's default chunk size. Every row runs the kernel at the tile's
    // steps, 32 unless a "steps" row says otherwise.
    {"T1", "bench_ssd_h80_q256", 4, 4096, 0.755, 0.755},
    // A prefill that hands its final state to decode.
    {"T1 + final state", "bench_ssd_h80_q64_final", 4, 4096, 0, 0.755},
    {"T1 + z", "bench_ssd_h80_q64_z", 4, 4096, 0, 0.849},
    // Mamba-2's full output: y normed over H·P and gated by z (two launches).
    {"T1 + z + norm", "bench_ssd_h80_q64_norm", 4, 4096, 0, 0.849},
    {"T2", "bench_ssd_h24_q64", 16, 1024, 0, 0.254},
    {"T3", "bench_ssd_h80_q64", 1, 32768, 0, 1.647},
    // L split into segments of `s` steps (the tile's chunk): more blocks
    // than batch x heads, at the cost of a carry kernel.
    {"T1 s1024", "bench_ssd_h80_q32_s1024", 4, 4096, 0, 0.755},
    {"T1 s2048", "bench_ssd_h80_q32_s2048", 4, 4096, 0, 0.755},
    {"T3 s1024", "bench_ssd_h80_q32_s1024", 1, 32768, 0, 1.647},
    {"T3 s2048", "bench_ssd_h80_q32_s2048", 1, 32768, 0, 1.647},
    {"T3 s2048 stages 3", "bench_ssd_h80_q32_s2048_st3", 1, 32768, 0, 1.647},
    // Segments whose block count fills whole waves of 396 (132 SMs, 3
    // blocks each): 80 x 29 = 2320 (5.9 waves), 80 x 19 = 1520 (3.8).
    {"T3 s1152", "bench_ssd_h80_q32_s1152", 1, 32768, 0, 1.647},
    {"T3 s1728", "bench_ssd_h80_q32_s1728", 1, 32768, 0, 1.647},
    // Segments whose block count stays under whole waves: 80 x 14 = 1120
    // (2.8 waves, the split rule's choice), 80 x 9 = 720 (1.8).
    {"T3 s2368", "bench_ssd_h80_q32_s2368", 1, 32768, 0, 1.647},
    {"T3 s3648", "bench_ssd_h80_q32_s3648", 1, 32768, 0, 1.647},
    // Fewer, longer segments: 8, 6, 5, 4, 3 and 2 (80 x 4 = 320 units of
    // 256 chunks fill the persistent scan's 264 blocks; with fewer, a
    // block's share is shorter than a unit).
    {"T3 s4096", "bench_ssd_h80_q32_s4096", 1, 32768, 0, 1.647},
    {"T3 s5504", "bench_ssd_h80_q32_s5504", 1, 32768, 0, 1.647},
    {"T3 s6592", "bench_ssd_h80_q32_s6592", 1, 32768, 0, 1.647},
    {"T3 s8192", "bench_ssd_h80_q32_s8192", 1, 32768, 0, 1.647},
    {"T3 s10944", "bench_ssd_h80_q32_s10944", 1, 32768, 0, 1.647},
    {"T3 s16384", "bench_ssd_h80_q32_s16384", 1, 32768, 0, 1.647},
    // Between T1 and T3, where libssmrt's split rule decides: B 1 (80
    // units) splits L 4096 into 4 segments of 1024 steps (the SSD's
    // shortest), B 2 (160) L 8192 into 2; each beside fixed splits. No
    // Triton figures.
    {"B1 L4096", "bench_ssd_h80_q64", 1, 4096, 0, 0},
    {"B1 L4096 s1024", "bench_ssd_h80_q32_s1024", 1, 4096, 0, 0},
    {"B1 L4096 s2048", "bench_ssd_h80_q32_s2048", 1, 4096, 0, 0},
    {"B1 L4096 s4096", "bench_ssd_h80_q32_s4096", 1, 4096, 0, 0},
    {"B2 L8192", "bench_ssd_h80_q64", 2, 8192, 0, 0},
    {"B2 L8192 s2048", "bench_ssd_h80_q32_s2048", 2, 8192, 0, 0},
    {"B2 L8192 s4096", "bench_ssd_h80_q32_s4096", 2, 8192, 0, 0},
    {"B2 L8192 s8192", "bench_ssd_h80_q32_s8192", 2, 8192, 0, 0},
    // The same split at the default rows' Q 64 and stages.
    {"B2 L8192 Q64 s1024", "bench_ssd_h80_q64_s1024", 2, 8192, 0, 0},
    {"B2 L8192 Q64 s2048", "bench_ssd_h80_q64_s2048", 2, 8192, 0, 0},
    {"T1 Q64 s2048", "bench_ssd_h80_q64_s2048", 4, 4096, 0, 0},
    // The sm_90a warpgroup-MMA kernel (wgmma; specs with "arch": ["sm_90a"]).
    {"T1 wgmma", "bench_ssd_h80_wg", 4, 4096, 0.755, 0.755},
    {"T1 + z wgmma", "bench_ssd_h80_wg_z", 4, 4096, 0.849, 0.849},
    {"T1 + z + norm wgmma", "bench_ssd_h80_wg_norm", 4, 4096, 0.849, 0.849},
    {"T2 wgmma", "bench_ssd_h24_wg", 16, 1024, 0.254, 0.254},
    {"T3 wgmma", "bench_ssd_h80_wg", 1, 32768, 1.647, 1.647},
    {"T1 s2048 wgmma", "bench_ssd_h80_wg_s2048", 4, 4096, 0.755, 0.755},
    {"T3 s1024 wgmma", "bench_ssd_h80_wg_s1024", 1, 32768, 1.647, 1.647},
    {"T3 s2048 wgmma", "bench_ssd_h80_wg_s2048", 1, 32768, 1.647, 1.647},
};

/// The cuBLAS entry points the GEMM yardstick needs.
struct Cublas {
  decltype(&::cublasCreate_v2) create = nullptr;
  decltype(&::cublasDestroy_v2) destroy = nullptr;
  // Spelled out: C++ sees cublasGemmEx overloaded.
  cublasStatus_t (*gemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t,
                           int, int, int, const void *, const void *,
                           cudaDataType, int, const void *, cudaDataType, int,
                           const void *, void *, cudaDataType, int,
                           cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

/// Dense bf16 tensor-core rate in FLOP/s: a cuBLAS GemmEx of 8192³ (bf16 in
/// and out, fp32 accumulation), median of 10 after 3 warm-ups. 0 (and why in
/// `note`) where cuBLAS cannot be loaded.
double gemmRate(std::string &note) {
  void *library = nullptr;
  for (const char *name :
       {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
    if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
      break;
  if (!library) {
    note = "cuBLAS not found";
    return 0;
  }
  Cublas api;
  api.create =
      reinterpret_cast<decltype(api.create)>(dlsym(library, "cublasCreate_v2"));
  api.destroy = reinterpret_cast<decltype(api.destroy)>(
      dlsym(library, "cublasDestroy_v2"));
  api.gemmEx =
      reinterpret_cast<decltype(api.gemmEx)>(dlsym(library, "cublasGemmEx"));
  cublasHandle_t handle = nullptr;
  if (!api.create || !api.destroy || !api.gemmEx ||
      api.create(&handle) != CUBLAS_STATUS_SUCCESS) {
    note = "cuBLAS could not be initialized";
    return 0;
  }
  constexpr int n = 8192;
  const size_t bytes = size_t(n) * n * 2;
  DeviceBuffer a(bytes), b(bytes), c(bytes);
  // 0x3c00 bf16 pairs: small finite values, so no NaN slows the units down.
  for (const DeviceBuffer *buffer : {&a, &b})
    check(driver().memsetD8(buffer->get(), 0x3c, bytes), "cuMemsetD8");
  const float alpha = 1, beta = 0;
  cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
  const double ms = medianMs(3, 10, nullptr, [&] {
    status = api.gemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha,
                        reinterpret_cast<void *>(a.get()), CUDA_R_16BF, n,
                        reinterpret_cast<void *>(b.get()), CUDA_R_16BF, n,
                        &beta, reinterpret_cast<void *>(c.get()), CUDA_R_16BF,
                        n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  });
  api.destroy(handle);
  if (status != CUBLAS_STATUS_SUCCESS) {
    note = "cublasGemmEx failed";
    return 0;
  }
  return 2.0 * n * n * n / (ms * 1e-3);
}

/// The bytes an SSD must move at least: x, dt, B, C, z read and y written
/// once (ANCHORS.md "min bytes"); the weights and states are not counted.
double minBytes(const SSDSpec &spec, int64_t batch, int64_t len) {
  return tensorBytes(ssdTensors(spec), batch, len, [](const TensorDesc &t) {
    return t.name == "x" || t.name == "dt" || t.name == "B" || t.name == "C" ||
           t.name == "z" || t.name == "y";
  });
}

/// The useful tensor-core work of the chunked algorithm at chunk size Q, as
/// ANCHORS.md counts it (≈ 90 GFLOP for T1 at Q 256): C·Bᵀ once per group,
/// (C·Bᵀ∘mask)·X, the chunk states and the state-to-output product.
double usefulFlops(const SSDSpec &spec, int64_t batch, int64_t len) {
  const double q = spec.chunkSize, n = spec.dstate,
               hp = spec.nheads * spec.headdim;
  return 2.0 * batch * len * (q * n * spec.ngroups + q * hp + 2 * hp * n);
}

/// Times one row and prints its table line.
void runSSDRow(const SSDRow &row, const LoadedLayer<SSDSpec> &loaded,
               double copyBytesPerS, double gemmFlopsPerS,
               const DeviceBuffer &flush) {
  const SSDSpec &spec = loaded.spec;
  const std::vector<TensorDesc> tensors = ssdTensors(spec);
  const double ms = coldLayerMs(
      loaded.layer, tensors, spec.dtSoftplus, row.batch, row.len,
      std::string(row.spec) + "/" + std::to_string(row.batch), flush);
  const double bytes = minBytes(spec, row.batch, row.len);
  const double flops = usefulFlops(spec, row.batch, row.len);
  const double limitMs =
      std::max(bytes / copyBytesPerS,
               gemmFlopsPerS > 0 ? flops / gemmFlopsPerS : 0.0) *
      1e3;
  auto orDash = [](double value, const char *format) {
    if (value <= 0)
      return std::string("–");
    char text[32];
    std::snprintf(text, sizeof(text), format, value);
    return std::string(text);
  };
  std::printf(
      "| %s | %lld | %lld | %lld | %lld | %lld | %lld | %.3f | %.1f | %.0f | "
      "%s | %.0f | %.0f | %.1f | %.3f | %.0f | %s | %s | %s |\n",
      row.shape, static_cast<long long>(row.batch),
      static_cast<long long>(row.len), static_cast<long long>(spec.nheads),
      static_cast<long long>(spec.headdim), static_cast<long long>(spec.dstate),
      static_cast<long long>(spec.chunkSize), ms, flops / 1e9,
      flops / (ms * 1e-3) / 1e12,
      orDash(gemmFlopsPerS > 0 ? 100 * flops / (ms * 1e-3) / gemmFlopsPerS : 0,
             "%.1f")
          .c_str(),
      bytes / 1e6, bytes / (ms * 1e-3) / 1e9,
      100 * bytes / (ms * 1e-3) / copyBytesPerS, limitMs, 100 * limitMs / ms,
      orDash(row.tritonSameQMs, "%.3f").c_str(),
      orDash(row.tritonSameQMs / ms, "%.2f×").c_str(),
      orDash(row.tritonBestMs / ms, "%.2f×").c_str());
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  return benchMain(
      argc, argv, SSMC_BENCH_SPECS_DIR,
      [](const std::string &specDir, const std::string &kernelDir) {
        const std::string date = utcNow();
        const double copyBytesPerS = copyBandwidth();
        std::string gemmNote = "cuBLAS GemmEx bf16 8192³, fp32 accumulation, "
                               "median of 10";
        const double gemmFlopsPerS = gemmRate(gemmNote);
        DeviceBuffer flush(kFlushBytes);

        std::printf(
            "# ssmc Mamba-2 SSD (ssd_chunk): benchmark\n\n"
            "- GPU: %s, CUDA driver %s, %s\n"
            "- Method: cold L2 (256 MiB memset before each call, not timed), "
            "CUDA events, median of %d calls after %d warm-ups\n"
            "- Device-to-device copy: **%.0f GB/s**; dense bf16 tensor cores: "
            "**%.0f TFLOP/s** (%s); both measured in this run\n"
            "- bf16 x, dt, B, C (and z), G = 1, dt bias + softplus, D skip; "
            "one "
            "launch per call, the per-chunk states never leave the chip\n"
            "- GFLOP = useful tensor-core work of the chunked algorithm at the "
            "row's Q as ANCHORS.md counts it (C·Bᵀ once per group, "
            "(C·Bᵀ∘mask)·X, "
            "chunk states, state→output); min MB = x, dt, B, C, z read and y "
            "written once; limit = max(min MB / copy BW, GFLOP / GEMM rate)\n"
            "- Triton: ANCHORS.md `mamba_chunk_scan_combined` on an H100 at "
            "the "
            "same Q where measured, and at its best Q (256)\n\n"
            "| shape | B | L | H | P | N | Q | ms | GFLOP | TFLOP/s | %% GEMM "
            "| "
            "min MB | GB/s | %% copy BW | limit ms | %% of limit | Triton same "
            "Q "
            "ms | speed-up | vs Triton best |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|-"
            "--|"
            "---|---|\n",
            deviceName().c_str(), driverVersion().c_str(), date.c_str(), kRuns,
            kWarmups, copyBytesPerS / 1e9, gemmFlopsPerS / 1e12,
            gemmNote.c_str());
        std::fflush(stdout);

        NotRun notRun;
        runRows(
            kSSDRows, specDir, kernelDir, &SpecFile::ssds, notRun,
            [](const SSDRow &row) {
              return std::string(row.shape) + " " + row.spec;
            },
            [&](const SSDRow &row, const LoadedLayer<SSDSpec> &loaded) {
              runSSDRow(row, loaded, copyBytesPerS, gemmFlopsPerS, flush);
            });
        return reportNotRun(notRun);
      });
}
