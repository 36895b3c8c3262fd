//===- Split.h - how long the L segments of a launch are --------*- C++ -*-===//
//
// The rule behind a manifest's `split` symbol: how many steps each block of
// a kernel that splits the sequence takes, from the launch's sizes and the
// GPU. Pure arithmetic, so that it is unit-tested without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef SSMRT_LIB_SPLIT_H
#define SSMRT_LIB_SPLIT_H

#include <algorithm>
#include <cstdint>

namespace ssmrt::detail {

/// Segments are at least this many steps unless the manifest says otherwise
/// (its `min_steps`), and there are at most kMaxSplits of them: each
/// segment's block carries in every earlier segment's state, so the
/// carry-in grows with their square.
constexpr int64_t kMinSplitSteps = 256;
constexpr int64_t kMaxSplits = 32;

constexpr int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// The segment length for a sequence of `length` steps whose segments take
/// `blocks` blocks each, on a GPU of `sms` SMs that hold `blocksPerSM` of
/// them each; a multiple of `quantum`, and at least `minSteps` where the
/// length has them.
///
/// Splitting costs a carry pass (about 0.4 of the scan's work) and blocks
/// that share an SM each run slower, so it pays only where whole segments
/// leave SMs idle: then segments are sized for at most three waves of
/// blocks, as many as fit, since a last wave of a few blocks costs as much
/// as a full one. On an H200 (132 SMs, 3 blocks an SM): the SSD's 80 blocks
/// (B 1, H 80, L 32768) split 14 ways (2.8 waves) ran 0.867 ms, 16 ways
/// (3.2) 0.904, 15 ways 0.928 (whole: 1.25); its 320 (B 4) ran 8 % slower
/// split 2 ways; the selective scan's 32 blocks (B 1, D 2048, L 16384) split
/// 32 ways run 3.5x faster.
constexpr int64_t chooseSplit(int64_t length, int64_t quantum, int64_t blocks,
                              int64_t sms, int64_t blocksPerSM,
                              int64_t minSteps = kMinSplitSteps) {
  int64_t segments = 1;
  if (3 * blocks < 2 * sms)
    segments = std::max<int64_t>(
        std::min({3 * sms * std::max<int64_t>(blocksPerSM, 1) /
                      std::max<int64_t>(blocks, 1),
                  kMaxSplits, length / minSteps}),
        1);
  return ceilDiv(ceilDiv(length, segments), quantum) * quantum;
}

} // namespace ssmrt::detail

#endif // SSMRT_LIB_SPLIT_H
