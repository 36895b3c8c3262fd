//===- KernelBuilder.h - Helpers to build ssm GPU kernels -------*- C++ -*-===//
//
// The kernel ABI shared by every ssm lowering (one pointer per buffer, then
// the dynamic sizes) and a small builder of index and f32 arithmetic used to
// write kernel bodies.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_LIB_CONVERSION_SSMTOGPU_KERNELBUILDER_H
#define SSMC_LIB_CONVERSION_SSMTOGPU_KERNELBUILDER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <tuple>

namespace mlir::ssm {

/// One kernel parameter as the host sees it: a memref buffer (passed as a
/// bare pointer) or an index size.
struct KernelParam {
  Value host;
  /// The kernel only reads the buffer (it gets `llvm.readonly`, which lets
  /// the backend use the non-coherent load path).
  bool readOnly = true;
};

/// A kernel and how the host launches it.
struct KernelLaunch {
  gpu::GPUFuncOp kernel;
  SmallVector<Value, 3> grid;
  SmallVector<int64_t, 3> block;
  /// Dynamic workgroup memory per block, in bytes (`gpu.dynamic_shared_memory`
  /// in the kernel).
  int64_t sharedBytes = 0;
  SmallVector<KernelParam> params;
  /// Discardable attributes of the launch op (`ssm.op`, `ssm.tile`) that
  /// the manifest writer reads.
  SmallVector<NamedAttribute> attrs;
  /// If set, a host `i1` (an `arith.cmpi` of a layer size with a constant)
  /// under which the launch runs: its `scf.if` becomes the manifest's `when`.
  Value when;
};

/// Creates `gpu.func @name` in `module` for `launch`: one `memref<1xT>`
/// argument per buffer parameter (marked noalias, 16-byte aligned and, where
/// read-only, readonly) and one `index` argument per size, plus the given
/// workgroup buffers; its known block size is the launch's. Flushes f32
/// denormals like CUDA's fast-math.
gpu::GPUFuncOp createKernel(OpBuilder &builder, Location loc,
                            gpu::GPUModuleOp module, StringRef name,
                            const KernelLaunch &launch,
                            ArrayRef<MemRefType> workgroupBuffers);

/// An `index` constant on the host side.
Value indexConstant(OpBuilder &builder, Location loc, int64_t value);

/// Elements of `type` (a scalar type, or a shaped type's elements) in one
/// 16-byte vector access.
int64_t vectorWidth(Type type);

/// Emits the launch of `launch` at the builder's insertion point on the host,
/// inside `scf.if` of its condition if it has one.
void emitLaunch(OpBuilder &builder, Location loc, const KernelLaunch &launch);

/// Index and f32 arithmetic for kernel bodies, folding constants as it goes.
class KernelBodyBuilder : public ImplicitLocOpBuilder {
public:
  using ImplicitLocOpBuilder::ImplicitLocOpBuilder;

  /// The integer type of the offsets and sizes that `index` builds: `index`
  /// unless set. A kernel that has checked that its offsets stay below 2^31
  /// may set i32: NVPTX has no 64-bit integer ALU, so 64-bit index math
  /// takes several instructions an operation. The memory accessors below
  /// take offsets of either type.
  void setOffsetType(Type type) { offsetType = type; }
  Type getOffsetType() { return offsetType ? offsetType : getIndexType(); }
  /// `value` (an `index` or an offset) as an offset of getOffsetType().
  Value offset(Value value);
  /// `value` (an offset) as an `index`, for memref accesses.
  Value asIndex(Value value);

  /// An offset constant, of getOffsetType().
  Value index(int64_t value);
  Value i32(int64_t value);
  Value f32(double value);
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value div(Value a, Value b);
  Value rem(Value a, Value b);
  Value fma(Value a, Value b, Value c);
  Value cmpLT(Value a, Value b);
  Value cmpEQ(Value a, Value b);

  /// Emits `body` under `scf.if cond`, or unguarded where `cond` is null.
  void ifThen(Value cond, function_ref<void()> body);
  /// Emits `thenBody` under `scf.if cond` and `elseBody` in its else region.
  void ifThenElse(Value cond, function_ref<void()> thenBody,
                  function_ref<void()> elseBody);
  /// `scf.if cond` with results of `types`, yielding `thenValues()` or
  /// `elseValues()`.
  SmallVector<Value> ifThenElse(Value cond, TypeRange types,
                                function_ref<SmallVector<Value>()> thenValues,
                                function_ref<SmallVector<Value>()> elseValues);

  /// Segment `segment` of a sequence of `len` steps split into segments of
  /// `steps`: the segment count and the segment's steps [lo, hi).
  std::tuple<Value, Value, Value> segmentBounds(Value segment, Value steps,
                                                Value len);

  /// Views a `memref<1xT>` kernel argument as `memref<?xT>` of `size`
  /// elements, so bodies index it with linear offsets.
  Value flatView(Value arg, Value size);

  /// Loads `memref[index]` and widens it to f32.
  Value loadF32(Value memref, Value index);
  /// Narrows an f32 to the element type of `memref` and stores it.
  void storeF32(Value value, Value memref, Value index);

  /// Loads `width` consecutive elements at `memref[index]` as one vector of
  /// the memref's element type; `aligned` promises that the address is a
  /// multiple of the vector's size or of 16 bytes, whichever is smaller.
  Value loadVector(Value memref, Value index, int64_t width, bool aligned);
  /// Widens a loaded scalar or vector to f32 scalars.
  SmallVector<Value> unpackF32(Value loaded);
  /// Narrows `values` to the element type of `memref` and stores them as one
  /// vector at `memref[index]` (aligned: as 16-byte vectors), aligned as for
  /// loadVector.
  void storeVectorF32(ArrayRef<Value> values, Value memref, Value index,
                      bool aligned);

  /// `value` of the lane `offset` away in the butterfly pattern (lane id xor
  /// offset) over the whole warp, which must execute the shuffle converged.
  Value shuffleXor(Value value, int64_t offset);

  /// 2^x on the SFU (ex2.approx; relative error below 2^-22).
  Value exp2(Value x);
  /// 2^x as a polynomial on the FMA pipe (relative error below 2^-22 for x
  /// in [-125, 127]): ~12 instructions that leave the SFU free for other
  /// exps.
  Value exp2OnFMA(Value x);
  /// softplus(x) = ln(1 + e^x) with one SFU op (ex2) and seven FMAs;
  /// relative error below 2e-6.
  Value softplus(Value x);
  /// silu(x) = x / (1 + e^-x): ex2 and rcp on the SFU.
  Value silu(Value x);
  /// silu(x) = x/2 · (1 + tanh(x/2)) with one tanh.approx on the SFU, half
  /// the SFU work of `silu`. Its sigmoid errs by up to 2^-12 absolute (the
  /// tanh's 2^-11 relative), far under a 16-bit output's rounding; not for
  /// f32 outputs, which must stay within 1e-4 relative.
  Value siluOneSFU(Value x);

private:
  Type offsetType;
};

} // namespace mlir::ssm

#endif // SSMC_LIB_CONVERSION_SSMTOGPU_KERNELBUILDER_H
