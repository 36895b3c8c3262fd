//===- HostValues.h - Host copies of tensors --------------------*- C++ -*-===//
//
// Host values in fp64 to and from the bytes of a tensor of an ssmrt dtype.
// Inputs are rounded to the dtype the kernel reads before anything else sees
// them, so the fp64 reference and the GPU compute from exactly the same
// values.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_TEST_GPU_HOSTVALUES_H
#define SSMC_TEST_GPU_HOSTVALUES_H

#include "ssmrt/ssmrt.h"

#include <cstdint>
#include <vector>

namespace ssmc::gpu {

/// `values` stored as `dtype`: through f32, then to f16/bf16 if asked.
std::vector<uint8_t> encode(const std::vector<double> &values,
                            ssmrt_dtype dtype);

/// The values of a `dtype` array.
std::vector<double> decode(const std::vector<uint8_t> &bytes,
                           ssmrt_dtype dtype);

/// `value` rounded to what a `dtype` element can hold.
double quantize(double value, ssmrt_dtype dtype);

} // namespace ssmc::gpu

#endif // SSMC_TEST_GPU_HOSTVALUES_H
