//===- ScanBench.cpp - Selective-scan benchmark against the anchors -------===//
//
// Times the layers of bench/specs, compiled ahead of time, on the Mamba-1
// shapes of ANCHORS.md (S1-S4, plus S1 at ragged lengths), its Vim
// bidirectional and VMamba SS2D (four-direction cross scan) shapes, and its
// decode shapes (one scan_step of Mamba-2 H 80 P 64 N 128 and of Mamba-1 D
// 5120 N 16, fp32 state updated in place), its causal conv1d shapes (bf16,
// width 4, bias, silu, and at L = 1 as the decode conv state update) and the
// Mamba-2 gated RMSNorm (16384 rows of 5120 bf16 with z) the way the anchors
// were measured: cold L2 (a 256 MiB memset before each call, outside the
// timed region), CUDA events, median of 30 calls after 5 warm-ups. The same run
// measures device-to-device copy bandwidth, so that bandwidth figures are
// ratios to this GPU, not to the anchors' machine. Prints a Markdown report.
// Times never fail the run: the exit status is non-zero only on an error.
//
//===----------------------------------------------------------------------===//

#include "BenchUtil.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ssmc;
using namespace ssmc::gpu;

namespace {

/// The H100 MUFU ex2 throughput measured for ANCHORS.md; not measured here.
constexpr double kExpRate = 4124e9;

/// One benchmark row: a layer of bench/specs at one shape.
struct Row {
  const char *shape;
  const char *spec; ///< The spec file (and model) name; its only layer runs.
  int64_t batch;
  int64_t len;
  double anchorMs; ///< From ANCHORS.md; 0 where it has none.
  bool ragged;     ///< Compared per element with the previous row of spec.
};

constexpr Row kRows[] = {
    {"S1", "bench_s1_bf16", 8, 2048, 1.462, false},
    // The conv1d before the scan folded into it (ssm-fuse-conv): the anchor
    // is its two launches, causal_conv1d (width 4, bias, silu) then the
    // scan, from ANCHORS.md's rows of both.
    {"S1 + conv", "bench_s1_bf16_conv", 8, 2048, 0.1225 + 1.462, false},
    {"S1 L2047", "bench_s1_bf16", 8, 2047, 0, true},
    {"S1 L2049", "bench_s1_bf16", 8, 2049, 0, true},
    {"S1 items 16", "bench_s1_bf16_i16", 8, 2048, 1.462, false},
    {"S1 threads 128", "bench_s1_bf16_t128", 8, 2048, 1.462, false},
    {"S1 lanes 2", "bench_s1_bf16_l2", 8, 2048, 1.462, false},
    {"S1 lanes 2 L2047", "bench_s1_bf16_l2", 8, 2047, 0, true},
    {"S2", "bench_s2_bf16", 64, 197, 0.396, false},
    {"S2 + conv", "bench_s2_bf16_conv", 64, 197, 0.0808 + 0.396, false},
    {"S2 seg 64", "bench_s2_bf16_seg", 64, 197, 0.396, false},
    {"S3", "bench_s3_bf16", 1, 16384, 0.777, false},
    {"S3 seg", "bench_s3_bf16_seg", 1, 16384, 0.777, false},
    {"S3 seg 512", "bench_s3_bf16_seg512", 1, 16384, 0.777, false},
    {"S3 seg 256", "bench_s3_bf16_seg256", 1, 16384, 0.777, false},
    {"S4", "bench_s4_bf16", 64, 197, 0.206, false},
    {"S4 seg 64", "bench_s4_bf16_seg", 64, 197, 0.206, false},
    {"S4 threads 32", "bench_s4_bf16_t32", 64, 197, 0.206, false},
    {"S1", "bench_s1_f32", 8, 2048, 2.866, false},
    {"S3", "bench_s3_f32", 1, 16384, 1.474, false},
    {"S3 seg", "bench_s3_f32_seg", 1, 16384, 1.474, false},
    // S1's channels at B 1 (80 blocks: libssmrt splits L 2048 into 8
    // segments of 256) and B 2 (160 blocks: L 8192 stays whole).
    {"S1 B1", "bench_s1_bf16", 1, 2048, 0, false},
    {"S1 B2 L8192", "bench_s1_bf16", 2, 8192, 0, false},
    // The same at fixed segment lengths (the tile's chunk).
    {"S1 B1 s512", "bench_s1_bf16_s512", 1, 2048, 0, false},
    {"S1 B2 L8192 s1024", "bench_s1_bf16_s1024", 2, 8192, 0, false},
    {"S1 B2 L8192 s2048", "bench_s1_bf16_s2048", 2, 8192, 0, false},
    // Vim's bidirectional scans, both directions in one launch (ANCHORS.md
    // "Vim bidirectional scan": the anchor path takes 9 launches).
    {"Vim-Ti", "bench_vim_ti", 64, 197, 0.484, false},
    {"Vim-S", "bench_vim_s", 64, 197, 0.931, false},
    {"Vim-B", "bench_vim_b", 64, 197, 1.812, false},
    // VMamba-T's SS2D scans (stages 1 and 2), all four directions in one
    // launch (ANCHORS.md "VMamba SS2D scan part": cross_scan, a 4-group scan
    // and cross_merge, three launches). L must be the spec's H·W.
    {"SS2D 56×56", "bench_ss2d_t56", 32, 56 * 56, 3.109, false},
    {"SS2D 28×28", "bench_ss2d_t28", 32, 28 * 28, 1.484, false},
};

/// One decode benchmark row: the scan_step layer of a spec at one batch size.
struct StepRow {
  const char *spec; ///< The spec file (and model) name; its only layer runs.
  int64_t batch;
  double anchorUs;  ///< ANCHORS.md "Decode" tables (cold L2); 0 where none.
  double anchorPct; ///< The anchor's % of copy BW over state read + write.
  bool warm;        ///< Warm L2 instead of cold (see warmMedianMs).
};

constexpr StepRow kStepRows[] = {
    {"bench_dec_m2", 1, 6.9, 25.0, false},
    {"bench_dec_m2", 64, 139.9, 79.4, false},
    {"bench_dec_m2", 256, 580.4, 76.6, false},
    {"bench_dec_m2", 1, 0, 0, true},
    {"bench_dec_m1", 64, 16.8, 82.6, false},
    {"bench_dec_m1", 256, 64.3, 86.4, false},
};

/// One causal conv1d benchmark row: the causal_conv1d layer of a spec at one
/// shape, with the ANCHORS.md "Causal depthwise conv1d" figures.
struct ConvRow {
  const char *spec; ///< The spec file (and model) name; its only layer runs.
  int64_t batch;
  int64_t len;
  double anchorUs;  ///< 0 where ANCHORS.md has no figure.
  double anchorPct; ///< The anchor's % of copy BW over x read + y written.
};

constexpr ConvRow kConvRows[] = {
    {"bench_conv_cf", 8, 2048, 122.5, 90.7},
    {"bench_conv_cf768", 64, 197, 80.8, 15.9},
    {"bench_conv_cl", 4, 4096, 141.3, 82.5},
    {"bench_conv_cl", 1, 32768, 273.6, 85.3},
    // Prefills of the decode layers (both conv states, C 5376): the kernels
    // that run when L > 1; and one with only the final state, as a prefill
    // before decoding takes it.
    {"bench_conv_dec_cf", 8, 2048, 0, 0},
    {"bench_conv_cf_final", 8, 2048, 0, 0},
    {"bench_conv_dec_ip", 4, 4096, 0, 0},
};

/// One conv state update row (decode: L = 1, the f32 conv state in and out,
/// or updated in place) with the ANCHORS.md causal_conv1d_update time (C
/// 5376).
struct ConvUpdateRow {
  const char *spec; ///< The spec file (and model) name; its only layer runs.
  int64_t batch;
  double anchorUs;
};

constexpr ConvUpdateRow kConvUpdateRows[] = {
    {"bench_conv_dec_cl", 1, 5.8},    {"bench_conv_dec_cl", 64, 10.1},
    {"bench_conv_dec_cl", 256, 22.8}, {"bench_conv_dec_cf", 1, 5.8},
    {"bench_conv_dec_cf", 64, 10.1},  {"bench_conv_dec_cf", 256, 22.8},
    {"bench_conv_dec_ip", 1, 5.8},    {"bench_conv_dec_ip", 64, 10.1},
    {"bench_conv_dec_ip", 256, 22.8},
};

/// One gated RMSNorm benchmark row: the rms_norm_gated layer of a spec on
/// batch x len rows.
struct NormRow {
  const char *spec; ///< The spec file (and model) name; its only layer runs.
  int64_t batch;
  int64_t len;
};

constexpr NormRow kNormRows[] = {
    {"bench_norm_bf16", 4, 4096},
};

/// The bytes a scan must move at least: u, delta, z, B and C read and y
/// written once (ANCHORS.md "min bytes"), as the layer's tensors have them:
/// delta, B and C of every direction, u once where the directions share it
/// (a cross scan), z and y once.
double minBytes(const ScanSpec &spec, int64_t batch, int64_t len) {
  return tensorBytes(layerTensors(spec), batch, len, [](const TensorDesc &t) {
    return t.name == "u" || t.name == "delta" || t.name == "z" ||
           t.name == "B" || t.name == "C" || t.name == "y";
  });
}

/// Times one gated RMSNorm row (cold L2) and prints its table line: y and z
/// read and out written once are its bytes; the weight is listed apart.
void runNormRow(const NormRow &row, const LoadedLayer<NormSpec> &loaded,
                double copyBytesPerS, const DeviceBuffer &flush) {
  const NormSpec &spec = loaded.spec;
  const std::vector<TensorDesc> tensors = normTensors(spec);
  const double ms =
      coldLayerMs(loaded.layer, tensors, false, row.batch, row.len,
                  std::string(row.spec) + "/" + std::to_string(row.batch) +
                      "/" + std::to_string(row.len),
                  flush);
  auto isWeight = [](const TensorDesc &t) { return t.name == "weight"; };
  const double weightBytes = tensorBytes(tensors, row.batch, row.len, isWeight);
  const double ioBytes =
      tensorBytes(tensors, row.batch, row.len,
                  [&](const TensorDesc &t) { return !isWeight(t); });
  const double us = ms * 1e3, seconds = ms * 1e-3;
  std::printf("| %lld × %lld | %lld | %s | %s | %s | %.1f | %.1f | %.3f | "
              "%.0f | %.1f |\n",
              (long long)row.batch, (long long)row.len, (long long)spec.dim,
              ssmrt_dtype_name(spec.dtype), spec.gate ? "yes" : "no",
              spec.normBeforeGate ? "before gate" : "after gate", us,
              ioBytes / 1e6, weightBytes / 1e6, ioBytes / seconds / 1e9,
              100 * ioBytes / seconds / copyBytesPerS);
  std::fflush(stdout);
}

/// A row's anchor columns: the anchor's µs, its % of its copy bandwidth and
/// the speed-up over `us`, or dashes where ANCHORS.md has no figure
/// (`anchorUs` 0).
struct AnchorColumns {
  AnchorColumns(double anchorUs, double anchorPct, double us) {
    if (anchorUs <= 0)
      return;
    std::snprintf(this->us, sizeof(this->us), "%.1f", anchorUs);
    std::snprintf(pct, sizeof(pct), "%.1f", anchorPct);
    std::snprintf(speedup, sizeof(speedup), "%.2f×", anchorUs / us);
  }
  char us[32] = "—", pct[32] = "—", speedup[32] = "—";
};

/// The "copy µs" and "% of copy" columns of a memory-bound row that moves
/// `bytes` (read + written) in `us`: a same-size copy's cold time, and that
/// time as a share of the row's. A row that is not timed cold (bytes 0)
/// gets dashes.
struct SameSizeCopy {
  SameSizeCopy(double bytes, const DeviceBuffer &flush, double rowUs) {
    if (bytes <= 0)
      return;
    const double copyUs = sameSizeCopyMs(bytes, flush) * 1e3;
    std::snprintf(us, sizeof(us), "%.1f", copyUs);
    std::snprintf(pct, sizeof(pct), "%.1f", 100 * copyUs / rowUs);
  }
  char us[32] = "—", pct[32] = "—";
};

/// Times one conv1d row (cold L2) and prints its table line. x read and y
/// written once are the bytes the anchors count; the weights, bias and
/// states are listed apart.
void runConvRow(const ConvRow &row, const LoadedLayer<ConvSpec> &loaded,
                double copyBytesPerS, const DeviceBuffer &flush) {
  const ConvSpec &spec = loaded.spec;
  const std::vector<TensorDesc> tensors = convTensors(spec);
  const double ms =
      coldLayerMs(loaded.layer, tensors, false, row.batch, row.len,
                  std::string(row.spec) + "/" + std::to_string(row.batch) +
                      "/" + std::to_string(row.len),
                  flush);
  auto isIO = [](const TensorDesc &t) {
    return t.name == "x" || t.name == "y";
  };
  const double ioBytes = tensorBytes(tensors, row.batch, row.len, isIO);
  const double otherBytes =
      tensorBytes(tensors, row.batch, row.len,
                  [&](const TensorDesc &t) { return !isIO(t); });
  const double us = ms * 1e3, seconds = ms * 1e-3;
  const AnchorColumns anchor(row.anchorUs, row.anchorPct, us);
  const SameSizeCopy copy(ioBytes, flush, us);
  std::printf("| %lld, %lld, %lld | %s | %s | %lld | %.1f | %.1f | %.3f | "
              "%.0f | %.1f | %s | %s | %s | %s | %s |\n",
              (long long)row.batch, (long long)spec.channels,
              (long long)row.len,
              spec.layout == ref::Layout::ChannelFirst ? "channel-first"
                                                       : "channel-last",
              ssmrt_dtype_name(spec.dtype), (long long)spec.width, us,
              ioBytes / 1e6, otherBytes / 1e6, ioBytes / seconds / 1e9,
              100 * ioBytes / seconds / copyBytesPerS, copy.us, copy.pct,
              anchor.us, anchor.pct, anchor.speedup);
  std::fflush(stdout);
}

/// Times one conv state update row (cold L2) and prints its table line; every
/// tensor (x, y, the two conv states, weight and bias) counts once.
void runConvUpdateRow(const ConvUpdateRow &row,
                      const LoadedLayer<ConvSpec> &loaded, double copyBytesPerS,
                      const DeviceBuffer &flush) {
  const ConvSpec &spec = loaded.spec;
  const std::vector<TensorDesc> tensors = convTensors(spec);
  const double ms = coldLayerMs(
      loaded.layer, tensors, false, row.batch, 1,
      std::string(row.spec) + "/" + std::to_string(row.batch), flush);
  const double bytes = tensorBytes(tensors, row.batch, 1,
                                   [](const TensorDesc &) { return true; });
  const double us = ms * 1e3, seconds = ms * 1e-3;
  std::printf("| %lld, %lld | %s | %.1f | %.2f | %.0f | %.1f | %.1f | %.2f× "
              "|\n",
              (long long)row.batch, (long long)spec.channels,
              spec.stateInPlace ? "channel-last, in place"
              : spec.layout == ref::Layout::ChannelFirst ? "channel-first"
                                                         : "channel-last",
              us, bytes / 1e6, bytes / seconds / 1e9,
              100 * bytes / seconds / copyBytesPerS, row.anchorUs,
              row.anchorUs / us);
  std::fflush(stdout);
}

/// "M2 H 80, P 64, N 128" or "M1 D 5120, N 16".
std::string stepShape(const StepSpec &spec) {
  const std::string n = ", N " + std::to_string(spec.dstate);
  if (spec.form == StepForm::Mamba2)
    return "M2 H " + std::to_string(spec.nheads) + ", P " +
           std::to_string(spec.headdim) + n;
  return "M1 D " + std::to_string(spec.dim) + n;
}

/// Times one decode row and prints its table line. The state is read and
/// written once per call; the other tensors (x, Δ, B, C, z, y and the
/// weights) are counted apart.
void runStepRow(const StepRow &row, const LoadedLayer<StepSpec> &loaded,
                double copyBytesPerS, const DeviceBuffer &flush) {
  const StepSpec &spec = loaded.spec;
  DeviceTensors device(spec, makeInputs(spec, row.batch,
                                        seedOf(std::string(row.spec) + "/" +
                                               std::to_string(row.batch))));
  auto call = [&] { launchLayer(loaded.layer, device); };
  const double ms = row.warm ? warmMedianMs(kWarmups, kRuns, flush, call)
                             : medianMs(kWarmups, kRuns, &flush, call);

  double stateBytes = 0, otherBytes = 0;
  for (const TensorDesc &t : stepTensors(spec)) {
    const double bytes = numElements(bindShape(t.shape, row.batch, 1)) *
                         ssmrt_dtype_size(t.dtype);
    (t.role == Role::InOut ? stateBytes : otherBytes) += bytes;
  }
  stateBytes *= 2; // read + write
  const double us = ms * 1e3, seconds = ms * 1e-3;
  const AnchorColumns anchor(row.anchorUs, row.anchorPct, us);
  const SameSizeCopy copy(row.warm ? 0 : stateBytes, flush, us);
  std::printf("| %s | %lld | %s | %s | %.1f | %.3f | %.3f | %.0f | %.1f | "
              "%.1f | %s | %s | %s | %s | %s |\n",
              stepShape(spec).c_str(), (long long)row.batch,
              ssmrt_dtype_name(spec.dtype), row.warm ? "warm" : "cold", us,
              stateBytes / 1e6, otherBytes / 1e6, stateBytes / seconds / 1e9,
              100 * stateBytes / seconds / copyBytesPerS,
              100 * (stateBytes + otherBytes) / seconds / copyBytesPerS,
              copy.us, copy.pct, anchor.us, anchor.pct, anchor.speedup);
  std::fflush(stdout);
}

/// The per-element time of a previous row, for the ragged rows.
struct Base {
  double ms;
  int64_t len;
};

/// Times one row and prints its table line.
void runRow(const Row &row, const LoadedLayer<ScanSpec> &loaded,
            double copyBytesPerS, const DeviceBuffer &flush,
            std::map<std::string, Base> &bases) {
  const ScanSpec &spec = loaded.spec;
  if (spec.crossScan() && row.len != spec.crossLen())
    throw std::runtime_error("a cross scan runs at L = H·W = " +
                             std::to_string(spec.crossLen()) + " only");
  DeviceTensors device(spec, makeInputs(spec, row.batch, row.len,
                                        seedOf(std::string(row.spec) + "/" +
                                               std::to_string(row.len))));
  const double ms = medianMs(kWarmups, kRuns, &flush,
                             [&] { launchLayer(loaded.layer, device); });

  const double bytes = minBytes(spec, row.batch, row.len);
  // One exp per state, step and channel of every direction.
  const double exps =
      double(row.batch) * row.len * spec.directions() * spec.dim * spec.dstate;
  const double seconds = ms * 1e-3;
  const double memoryLimit = bytes / copyBytesPerS, expLimit = exps / kExpRate;
  const double limitMs = std::max(memoryLimit, expLimit) * 1e3;

  char anchor[64] = "—", speedup[32] = "—", ragged[32] = "—";
  if (row.anchorMs > 0) {
    std::snprintf(anchor, sizeof(anchor), "%.3f", row.anchorMs);
    std::snprintf(speedup, sizeof(speedup), "%.2f×", row.anchorMs / ms);
  }
  if (!row.ragged) {
    bases[row.spec] = {ms, row.len};
  } else if (bases.count(row.spec)) {
    const Base &base = bases.at(row.spec);
    std::snprintf(ragged, sizeof(ragged), "%.2f",
                  (ms / row.len) / (base.ms / base.len));
  }
  std::printf("| %s | %lld | %lld | %lld | %lld | %s | %.3f | %.1f | %.0f | "
              "%.1f | %.1f | %.3f (%s) | %.1f | %s | %s | %s |\n",
              row.shape, (long long)row.batch, (long long)spec.dim,
              (long long)row.len, (long long)spec.dstate,
              ssmrt_dtype_name(spec.dtype), ms, bytes / 1e6,
              bytes / seconds / 1e9, 100 * bytes / seconds / copyBytesPerS,
              100 * exps / seconds / kExpRate, limitMs,
              memoryLimit >= expLimit ? "HBM" : "exp", 100 * limitMs / ms,
              anchor, speedup, ragged);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  return benchMain(
      argc, argv, SSMC_BENCH_SPECS_DIR,
      [](const std::string &specDir, const std::string &kernelDir) {
        const std::string date = utcNow();
        const double copyBytesPerS = copyBandwidth();
        DeviceBuffer flush(kFlushBytes);

        std::printf(
            "# ssmc selective scan, decode step, conv1d and norm: benchmark\n\n"
            "- GPU: %s, CUDA driver %s, %s\n"
            "- Method: cold L2 (256 MiB memset before each call, not timed), "
            "CUDA events, median of %d calls after %d warm-ups\n"
            "- Device-to-device copy: **%.0f GB/s** (read + write, 1 GiB "
            "cuMemcpyDtoD, median of 10), measured in this run\n"
            "- ex2 yardstick: %.0f G exp/s, the H100 MUFU rate from ANCHORS.md "
            "(not measured here)\n"
            "- min bytes = u + Δ + z + B + C + y once; limit = max(min bytes / "
            "copy BW, B·L·D·N / ex2 rate); Vim and SS2D rows count Δ, B, C, "
            "the exps (and Vim's u) per direction; anchors: ANCHORS.md "
            "(state-spaces/mamba kernel on an H100)\n"
            "- ragged: time per element relative to the L 2048 row\n\n"
            "| shape | B | D | L | N | dtype | ms | min MB | GB/s | %% copy BW "
            "| "
            "%% ex2 rate | limit ms | %% of limit | anchor ms | speed-up | "
            "ragged |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
            "\n",
            deviceName().c_str(), driverVersion().c_str(), date.c_str(), kRuns,
            kWarmups, copyBytesPerS / 1e9, kExpRate / 1e9);
        std::fflush(stdout);

        std::map<std::string, Base> bases;
        NotRun notRun;
        runRows(
            kRows, specDir, kernelDir, &SpecFile::layers, notRun,
            [](const Row &row) {
              return std::string(row.shape) + " " + row.spec;
            },
            [&](const Row &row, const LoadedLayer<ScanSpec> &loaded) {
              runRow(row, loaded, copyBytesPerS, flush, bases);
            });

        std::printf(
            "\n## Decode step (scan_step, fp32 state updated in place)\n\n"
            "- Same method and copy bandwidth as above; \"warm\": L2 holds the "
            "call's data (mean of %d back-to-back calls after an untimed one, "
            "queued behind two 256 MiB memsets so that host launch costs are "
            "hidden)\n"
            "- state MB = state read + written once (as the anchors count); "
            "other MB = x, Δ, B, C, z, y and the weights once; GB/s and %% "
            "copy "
            "BW over state bytes, %% all over both\n"
            "- anchors: ANCHORS.md \"Decode\" (Triton selective_state_update "
            "on "
            "an H100, 3020 GB/s copy BW); anchor %% is of that copy BW\n"
            "- copy µs: a cuMemcpyDtoD that reads and writes the state MB, "
            "cold; %% of copy: its time over the row's\n\n"
            "| shape | B | dtype | L2 | µs | state MB | other MB | GB/s | "
            "%% copy BW | %% all | copy µs | %% of copy | anchor µs | anchor "
            "%% | speed-up |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            kWarmLaunches);
        std::fflush(stdout);
        // A row without L: its spec and batch.
        auto specAndBatch = [](const auto &row) {
          return std::string(row.spec) + " B " + std::to_string(row.batch);
        };
        runRows(kStepRows, specDir, kernelDir, &SpecFile::steps, notRun,
                specAndBatch,
                [&](const StepRow &row, const LoadedLayer<StepSpec> &loaded) {
                  runStepRow(row, loaded, copyBytesPerS, flush);
                });

        std::printf(
            "\n## Causal conv1d (causal_conv1d, bf16, width 4, bias, silu)\n\n"
            "- Same method (cold L2) and copy bandwidth as above\n"
            "- MB = x read + y written once (as the anchors count); weights MB "
            "= "
            "weight and bias (f32), listed apart; GB/s and %% copy BW over MB\n"
            "- anchors: ANCHORS.md \"Causal depthwise conv1d\" (Dao-AILab/"
            "causal-conv1d on an H100, 3020 GB/s copy BW); anchor %% is of "
            "that "
            "copy BW\n"
            "- copy µs: a cuMemcpyDtoD that reads and writes the row's MB, "
            "cold; %% of copy: its time over the row's\n\n"
            "| shape (B, C, L) | layout | dtype | K | µs | MB | weights MB | "
            "GB/s | %% copy BW | copy µs | %% of copy | anchor µs | anchor %% "
            "| speed-up |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        std::fflush(stdout);
        runRows(
            kConvRows, specDir, kernelDir, &SpecFile::convs, notRun,
            [](const auto &row) {
              return std::string(row.spec) + " B " + std::to_string(row.batch) +
                     " L " + std::to_string(row.len);
            },
            [&](const ConvRow &row, const LoadedLayer<ConvSpec> &loaded) {
              runConvRow(row, loaded, copyBytesPerS, flush);
            });

        std::printf(
            "\n## Conv state update (causal_conv1d at L = 1, bf16, width 4, "
            "bias, silu, f32 conv state in and out)\n\n"
            "- Same method (cold L2) and copy bandwidth as above\n"
            "- MB = every tensor once (x, y, both conv states, weight, "
            "bias)\n"
            "- anchor: ANCHORS.md causal_conv1d_update, C 5376, on an H100\n\n"
            "| B, C | layout | µs | MB | GB/s | %% copy BW | anchor µs | "
            "speed-up |\n"
            "|---|---|---|---|---|---|---|---|\n");
        std::fflush(stdout);
        runRows(
            kConvUpdateRows, specDir, kernelDir, &SpecFile::convs, notRun,
            specAndBatch,
            [&](const ConvUpdateRow &row, const LoadedLayer<ConvSpec> &loaded) {
              runConvUpdateRow(row, loaded, copyBytesPerS, flush);
            });

        std::printf(
            "\n## Gated RMSNorm (rms_norm_gated, group = whole row)\n\n"
            "- Same method (cold L2) and copy bandwidth as above\n"
            "- MB = y and z read + out written once; weight MB listed apart; "
            "GB/s and %% copy BW over MB\n\n"
            "| rows (B × L) | dim | dtype | z | norm | µs | MB | weight MB | "
            "GB/s | %% copy BW |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n");
        std::fflush(stdout);
        runRows(
            kNormRows, specDir, kernelDir, &SpecFile::norms, notRun,
            [](const auto &row) {
              return std::string(row.spec) + " B " + std::to_string(row.batch) +
                     " L " + std::to_string(row.len);
            },
            [&](const NormRow &row, const LoadedLayer<NormSpec> &loaded) {
              runNormRow(row, loaded, copyBytesPerS, flush);
            });

        return reportNotRun(notRun);
      });
}
