//===- Split.h - the symbols the runtime picks at launch --------*- C++ -*-===//
//
// The rules behind a manifest's `split` symbol (how many steps each block of
// a kernel that splits the sequence takes) and `workers` symbol (how many
// blocks a persistent kernel launches), from the launch's sizes and the GPU.
// Pure arithmetic, so that they are unit-tested without a GPU.
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
/// The waves of blocks split segments are sized for unless the manifest says
/// otherwise (its `waves`).
constexpr int64_t kSplitWaves = 3;

constexpr int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// `length` in the `wanted` segments, at most kMaxSplits and none shorter
/// than `minSteps` where the length has them (at least one), each a multiple
/// of `quantum` steps.
constexpr int64_t segmentLength(int64_t length, int64_t wanted, int64_t quantum,
                                int64_t minSteps) {
  int64_t segments =
      std::max<int64_t>(std::min({wanted, kMaxSplits, length / minSteps}), 1);
  return ceilDiv(ceilDiv(length, segments), quantum) * quantum;
}

/// The segment length for a sequence of `length` steps whose segments take
/// `blocks` blocks each, on a GPU of `sms` SMs that hold `blocksPerSM` of
/// them each; a multiple of `quantum`, and at least `minSteps` where the
/// length has them.
///
/// Splitting costs a carry pass (about 0.4 of the scan's work) and blocks
/// that share an SM each run slower, so it pays only where whole segments
/// leave SMs idle: then segments are sized for at most `waves` waves of
/// blocks, as many as fit, since a last wave of a few blocks costs as much
/// as a full one. On an H200 (132 SMs, 3 blocks an SM): the selective
/// scan's 32 blocks (B 1, D 2048, L 16384) split 32 ways run 3.5x faster
/// (three waves).
constexpr int64_t chooseSplit(int64_t length, int64_t quantum, int64_t blocks,
                              int64_t sms, int64_t blocksPerSM,
                              int64_t minSteps = kMinSplitSteps,
                              int64_t waves = kSplitWaves) {
  // 3·blocks < 2·sms, without overflow.
  int64_t wanted = blocks <= (2 * sms - 1) / 3
                       ? waves * sms * std::max<int64_t>(blocksPerSM, 1) /
                             std::max<int64_t>(blocks, 1)
                       : 1;
  return segmentLength(length, wanted, quantum, minSteps);
}

/// The segment length where each segment of each of `blocks` rows is a work
/// unit of a persistent scan of `fill` blocks an SM (the manifest's split
/// `fill`): the fewest segments whose units reach fill·sms, so that no
/// block's share is shorter than a unit and each unit is split between at
/// most two blocks, whose hand-off then waits for nothing. Fewer segments
/// carry less, and the carry pass's blocks (one fewer segment) stay within
/// a wave. On an H200, the SSD's T3 (B 1, H 80, L 32768; 264 blocks) ran
/// 0.763 ms in 4 segments, 0.774 in 5, 0.789 in 9 (carry blocks in two
/// waves), 0.881 in 3 (units longer than shares), and B 2, L 8192 (160
/// units) 0.394 in 2 against 0.429 whole (bench/HISTORY.md, session 26).
constexpr int64_t chooseFillSplit(int64_t length, int64_t quantum,
                                  int64_t blocks, int64_t sms, int64_t fill,
                                  int64_t minSteps = kMinSplitSteps) {
  return segmentLength(length,
                       ceilDiv(fill * sms, std::max<int64_t>(blocks, 1)),
                       quantum, minSteps);
}

/// The block count of a persistent kernel over `units` work units, on a GPU
/// of `sms` SMs that hold `blocksPerSM` of its blocks each, of which it wants
/// `perSM`.
///
/// Each block takes an even, contiguous share of the units' chunks, splitting
/// at most one unit with its neighbour, so the kernel wants exactly as many
/// blocks as the SMs run at once, and never more blocks than units. `perSM`
/// is the blocks that saturate an SM, which the compiler knows for its
/// kernel: on an H200 the SSD scan's T1-sized work ran 1.06 chunks/us per SM
/// with 2 blocks an SM, 1.08 with 3 and 0.9 with 1.
constexpr int64_t chooseWorkers(int64_t units, int64_t perSM, int64_t sms,
                                int64_t blocksPerSM) {
  int64_t resident = std::max<int64_t>(std::min(perSM, blocksPerSM), 1);
  return std::max<int64_t>(std::min(units, resident * sms), 1);
}

} // namespace ssmrt::detail

#endif // SSMRT_LIB_SPLIT_H
