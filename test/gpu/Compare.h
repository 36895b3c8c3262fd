//===- Compare.h - GPU results against the reference ------------*- C++ -*-===//
//
// The element-wise comparison of a GPU result with the fp64 reference under
// an error budget, and the PASS/FAIL lines and counts of the test cases.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_COMPARE_H
#define SSMC_TEST_GPU_COMPARE_H

#include "CudaDriver.h"

#include "ssmrt/ssmrt.hpp"

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace ssmc::gpu {

/// Counts of the cases run so far.
struct Tally {
  int passed = 0;
  int failed = 0;
};

/// One compared tensor of a case.
struct Check {
  std::string label;
  double error = 0; ///< max((|got - want| - k·r·|ref|) / mag)
  double tolerance = 0;
  std::string worst; ///< Where the largest error is, if it fails.
};

/// A CUDA error after which the context may be unusable.
struct FatalCudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The decode step's error budgets, relative to the magnitude (derived in
/// StepTest.cpp): y, and the state per step. The SSD test uses them too,
/// where decode steps must reproduce a prefill.
constexpr double kStepEps = 1e-4;
constexpr double kStepStateEps = 3e-5;

/// Half an ulp of `dtype` relative to the value: 0 for f32, whose rounding is
/// part of the arithmetic's error budget.
double outputRounding(ssmrt_dtype dtype);

/// Compares `got` with `want` element by element: each must satisfy
/// |got - want| <= k·(r·|ref| + subnormal rounding) + tolerance·mag, where r
/// is the output rounding of `dtype` and `mag` the magnitude of the terms
/// that built the element (see ScanTest.cpp). `k` is the number of
/// independently rounded results in the difference: 1 against the
/// reference, 2 between two GPU results. A NaN on either side fails.
Check compare(const std::string &label, const std::vector<double> &got,
              const std::vector<double> &want, const std::vector<double> &ref,
              const std::vector<double> &mag, ssmrt_dtype dtype,
              const std::vector<int64_t> &shape, double k, double tolerance);

/// Prints the "PASS name  label error/tolerance ..." or FAIL line of one case
/// and counts it.
void report(const std::string &name, const std::vector<Check> &checks,
            Tally &tally);

/// Runs `body`, turning an error into a failed case named `name`. A CUDA
/// error, the test's or a failed driver call in libssmrt, becomes
/// FatalCudaError when it left the context broken.
template <typename Body>
void guarded(const std::string &name, Tally &tally, Body body) {
  auto fail = [&](const char *prefix, const char *what, bool cuda) {
    std::printf("FAIL %s  %s%s\n", name.c_str(), prefix, what);
    ++tally.failed;
    if (cuda && driver().ctxSynchronize() != CUDA_SUCCESS)
      throw FatalCudaError(what);
  };
  try {
    body();
  } catch (const CudaError &error) {
    fail("CUDA error: ", error.what(), true);
  } catch (const ssmrt::Error &error) {
    fail("", error.what(), error.status() == SSMRT_ERROR_CUDA);
  } catch (const std::exception &error) {
    fail("", error.what(), false);
  }
  std::fflush(stdout);
}

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_COMPARE_H
