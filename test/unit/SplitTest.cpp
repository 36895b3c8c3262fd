//===- SplitTest.cpp - unit tests of libssmrt's split rule -----*- C++ -*-===//
//
// The segment length libssmrt picks for a manifest's `split` symbol and the
// block count for its `workers` symbol (runtime/lib/Split.h), on the shapes
// of the SSD benchmark and at the rules' limits.
//
//===----------------------------------------------------------------------===//

#include "Split.h"

#include <gtest/gtest.h>

namespace {

using ssmrt::detail::ceilDiv;
using ssmrt::detail::chooseFillSplit;
using ssmrt::detail::chooseSplit;
using ssmrt::detail::chooseWorkers;
using ssmrt::detail::kMaxSplits;
using ssmrt::detail::kMinSplitSteps;

/// An H200: 132 SMs, 3 blocks of the SSD scan kernel each.
constexpr int64_t kSMs = 132, kBlocksPerSM = 3;

TEST(SplitTest, FewBlocksSplitForThreeWaves) {
  // T3: B 1, H 80, L 32768: 14 segments of 2368 steps, 1120 blocks (2.8
  // waves of 396; 15 would need a fourth).
  EXPECT_EQ(chooseSplit(32768, 32, 80, kSMs, kBlocksPerSM), 2368);
}

TEST(SplitTest, ALayerMayAskForFewerWaves) {
  // T3 in 9 segments of 3648 steps (720 blocks, under two waves of 396).
  EXPECT_EQ(chooseSplit(32768, 32, 80, kSMs, kBlocksPerSM, 1024, 2), 3648);
}

TEST(SplitTest, FillSplitsIntoTheFewestSegmentsThatFillAPersistentScan) {
  // The SSD before its persistent scan of 2 blocks an SM (264), in
  // segments of whole 64-step carry chunks: T3 (80 units a segment) in 4
  // segments, B 2, L 8192 (160) in 2, B 1, L 4096 in the 4 its 1024-step
  // minimum allows.
  EXPECT_EQ(chooseFillSplit(32768, 64, 80, kSMs, 2, 1024), 8192);
  EXPECT_EQ(chooseFillSplit(8192, 64, 160, kSMs, 2, 1024), 4096);
  EXPECT_EQ(chooseFillSplit(4096, 64, 80, kSMs, 2, 1024), 1024);
  EXPECT_EQ(chooseFillSplit(2048, 64, 80, kSMs, 2, 1024), 1024);
  // A length that is not a multiple: 4 segments of 8200 steps round up to
  // 129 carry chunks.
  EXPECT_EQ(chooseFillSplit(32800, 64, 80, kSMs, 2, 1024), 8256);
  // Units that fill it keep the whole sequence: T1 (320), T2 (384), and
  // exactly 264.
  EXPECT_EQ(chooseFillSplit(4096, 64, 320, kSMs, 2, 1024), 4096);
  EXPECT_EQ(chooseFillSplit(1000, 64, 384, kSMs, 2, 1024), 1024);
  EXPECT_EQ(chooseFillSplit(8192, 64, 264, kSMs, 2, 1024), 8192);
  EXPECT_EQ(chooseFillSplit(8192, 64, 263, kSMs, 2, 1024), 4096);
  // A lone unit splits as far as kMaxSplits.
  EXPECT_EQ(chooseFillSplit(int64_t(1) << 20, 64, 1, kSMs, 2, 1024),
            (int64_t(1) << 20) / kMaxSplits);
}

TEST(SplitTest, FillLeavesFewerCarryBlocksThanWorkers) {
  // The SSD's carry kernel (a block a unit of every segment but the last)
  // holds two blocks an SM, so it runs in one wave where its blocks are
  // fewer than the persistent scan's: the fewest segments that fill the
  // scan leave fewer than that to carry.
  for (int64_t units = 1; units <= 400; ++units) {
    for (int64_t len : {1000, 4096, 8192, 32768, 32800, 100000}) {
      int64_t steps = chooseFillSplit(len, 64, units, kSMs, 2, 1024);
      int64_t segments = (len + steps - 1) / steps;
      EXPECT_LT(units * (segments - 1), kSMs * 2)
          << "units " << units << ", L " << len;
    }
  }
}

TEST(SplitTest, BlocksThatFillTheSMsKeepTheWholeSequence) {
  // T1: B 4, H 80 and T2: B 16, H 24; the length rounds up to the quantum.
  EXPECT_EQ(chooseSplit(4096, 32, 320, kSMs, kBlocksPerSM), 4096);
  EXPECT_EQ(chooseSplit(1000, 32, 384, kSMs, kBlocksPerSM), 1024);
  // Two thirds of the SMs busy is enough.
  EXPECT_EQ(chooseSplit(4096, 32, 88, kSMs, kBlocksPerSM), 4096);
  EXPECT_LT(chooseSplit(4096, 32, 87, kSMs, kBlocksPerSM), 4096);
}

TEST(SplitTest, SegmentsAreNotTooShort) {
  EXPECT_EQ(chooseSplit(300, 32, 8, kSMs, kBlocksPerSM), 320);
  // 4097 steps: at most 16 segments of >= 256; 14 for three waves, 13 once
  // the length rounds up to the quantum.
  int64_t steps = chooseSplit(4097, 32, 80, kSMs, kBlocksPerSM);
  EXPECT_EQ(steps, 320);
  EXPECT_GE(steps, kMinSplitSteps);
  EXPECT_EQ(ceilDiv(4097, steps), 13);
}

TEST(SplitTest, ALayerMayAskForLongerSegments) {
  // The SSD's 1024-step minimum: B 1, H 80, L 4096 takes 4 segments, not
  // the 13 of 320 that the default 256 would give.
  EXPECT_EQ(chooseSplit(4096, 32, 80, kSMs, kBlocksPerSM), 320);
  EXPECT_EQ(chooseSplit(4096, 32, 80, kSMs, kBlocksPerSM, 1024), 1024);
  // Long sequences still split for three waves.
  EXPECT_EQ(chooseSplit(32768, 32, 80, kSMs, kBlocksPerSM, 1024), 2368);
  // A sequence shorter than the minimum stays whole.
  EXPECT_EQ(chooseSplit(1000, 32, 80, kSMs, kBlocksPerSM, 1024), 1024);
}

TEST(SplitTest, AtMostMaxSplitsSegments) {
  int64_t steps = chooseSplit(int64_t(1) << 20, 64, 1, kSMs, kBlocksPerSM);
  EXPECT_EQ(steps, (int64_t(1) << 20) / kMaxSplits);
  EXPECT_EQ(steps % 64, 0);
}

TEST(SplitTest, AnUnknownOccupancyCountsAsOneBlock) {
  // 4 segments: 320 blocks, within three waves of 132 (one block an SM).
  EXPECT_EQ(chooseSplit(32768, 32, 80, kSMs, 0), 8192);
}

TEST(SplitTest, ResultIsAWholeNumberOfQuanta) {
  for (int64_t length : {1, 31, 33, 257, 4097, 65535})
    for (int64_t blocks : {1, 7, 80, 200})
      for (int64_t quantum : {32, 64, 256})
        for (int64_t steps :
             {chooseSplit(length, quantum, blocks, kSMs, 3),
              chooseFillSplit(length, quantum, blocks, kSMs, 2)}) {
          EXPECT_GE(steps, quantum);
          EXPECT_EQ(steps % quantum, 0);
          EXPECT_LE(ceilDiv(length, steps), kMaxSplits);
        }
}

TEST(SplitTest, WorkersFillTheSMsAtPerSM) {
  // T1: B 4, H 80 as 320 units, 2 blocks an SM saturating it.
  EXPECT_EQ(chooseWorkers(320, 2, kSMs, kBlocksPerSM), 264);
  // More blocks an SM where they fit.
  EXPECT_EQ(chooseWorkers(1000, 4, kSMs, kBlocksPerSM), 396);
}

TEST(SplitTest, WorkersAreNoMoreThanTheUnits) {
  EXPECT_EQ(chooseWorkers(80, 2, kSMs, kBlocksPerSM), 80);
  EXPECT_EQ(chooseWorkers(1, 2, kSMs, kBlocksPerSM), 1);
  // Empty units (a grid-like extent's minus) still launch one block.
  EXPECT_EQ(chooseWorkers(0, 2, kSMs, kBlocksPerSM), 1);
}

TEST(SplitTest, WorkersAreNoMoreThanTheSMsHold) {
  EXPECT_EQ(chooseWorkers(320, 2, kSMs, 1), 132);
  // An unknown occupancy counts as one block an SM.
  EXPECT_EQ(chooseWorkers(320, 2, kSMs, 0), 132);
}

} // namespace
