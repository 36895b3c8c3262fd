//===- TargetTest.cpp - Tests of the GPU binary's contents ----------------===//
//
// Which PTX ssmc bundles beside the cubins for GPUs newer than its targets.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Target/Target.h"

#include <gtest/gtest.h>

using namespace mlir::ssm;

namespace {

std::vector<GPUObject> ptxOf(std::initializer_list<const char *> chips) {
  std::vector<GPUObject> objects;
  for (const char *chip : chips)
    objects.push_back({chip, "isa", std::string(".target ") + chip});
  return objects;
}

TEST(TargetTest, ForwardPTXIsTheNewestTargets) {
  std::vector<GPUObject> ptx = ptxOf({"sm_90", "sm_80", "sm_86"});
  ASSERT_NE(selectForwardPTX(ptx), nullptr);
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90");
}

TEST(TargetTest, ForwardPTXIsPortable) {
  // sm_90a PTX runs on sm_90 alone: of one SM, the portable PTX is kept.
  std::vector<GPUObject> ptx = ptxOf({"sm_80", "sm_90a", "sm_90"});
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90");
  // Where the arch-specific one is the only PTX of the newest SM, it is
  // still the newest.
  ptx = ptxOf({"sm_90a", "sm_80"});
  EXPECT_EQ(selectForwardPTX(ptx)->chip, "sm_90a");
}

TEST(TargetTest, NoForwardPTXWithoutPTX) {
  EXPECT_EQ(selectForwardPTX({}), nullptr);
}

} // namespace
