//===- Compare.cpp - GPU results against the reference --------------------===//

#include "Compare.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace ssmc::gpu {

double outputRounding(ssmrt_dtype dtype) {
  return dtype == SSMRT_BF16  ? std::ldexp(1.0, -8)
         : dtype == SSMRT_F16 ? std::ldexp(1.0, -11)
                              : 0.0;
}

/// The absolute rounding of a subnormal `dtype` output.
static double subnormalRounding(ssmrt_dtype dtype) {
  return dtype == SSMRT_F16 ? std::ldexp(1.0, -25) : 0.0;
}

/// "[i0, i1, ...]": the index of flat element `flat` in `shape`.
static std::string formatIndex(int64_t flat,
                               const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d)
    text += (d ? "," : "") + std::to_string(index[d]);
  return text + "]";
}

Check compare(const std::string &label, const std::vector<double> &got,
              const std::vector<double> &want, const std::vector<double> &ref,
              const std::vector<double> &mag, ssmrt_dtype dtype,
              const std::vector<int64_t> &shape, double k, double tolerance) {
  const double r = outputRounding(dtype), floor = subnormalRounding(dtype);
  Check check{label, 0.0, tolerance, ""};
  int64_t worstAt = -1;
  for (size_t i = 0; i < got.size(); ++i) {
    const double excess =
        std::fabs(got[i] - want[i]) - k * (r * std::fabs(ref[i]) + floor);
    double error = 0.0;
    if (!(excess <= 0))
      error = std::isnan(excess) || mag[i] == 0
                  ? std::numeric_limits<double>::infinity()
                  : excess / mag[i];
    if (worstAt < 0 || error > check.error) {
      check.error = error;
      worstAt = static_cast<int64_t>(i);
    }
  }
  if (check.error > tolerance) {
    char text[160];
    std::snprintf(text, sizeof(text), " at %s: got %.6g, want %.6g",
                  formatIndex(worstAt, shape).c_str(), got[worstAt],
                  want[worstAt]);
    check.worst = text;
  }
  return check;
}

void report(const std::string &name, const std::vector<Check> &checks,
            Tally &tally) {
  bool pass = true;
  std::string text;
  for (const Check &c : checks) {
    char item[96];
    std::snprintf(item, sizeof(item), "  %s %.1e/%.1e", c.label.c_str(),
                  c.error, c.tolerance);
    text += item + c.worst;
    pass = pass && c.error <= c.tolerance;
  }
  std::printf("%s %s%s\n", pass ? "PASS" : "FAIL", name.c_str(), text.c_str());
  std::fflush(stdout);
  ++(pass ? tally.passed : tally.failed);
}

} // namespace ssmc::gpu
