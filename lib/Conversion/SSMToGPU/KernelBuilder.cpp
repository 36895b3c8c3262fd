//===- KernelBuilder.cpp - Helpers to build ssm GPU kernels -----*- C++ -*-===//
//
// Kernel creation with the bare-pointer ABI, host-side launches, and the
// arithmetic helpers kernel bodies are written with.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::ssm;

//===----------------------------------------------------------------------===//
// Kernel ABI
//===----------------------------------------------------------------------===//

/// The kernel-side type of a parameter: `memref<1xT>` for a buffer (a bare
/// pointer under `use-bare-ptr-memref-call-conv`), `index` for a size.
static Type kernelParamType(Value host) {
  if (auto memref = dyn_cast<MemRefType>(host.getType()))
    return MemRefType::get({1}, memref.getElementType());
  return host.getType();
}

gpu::GPUFuncOp mlir::ssm::createKernel(OpBuilder &builder, Location loc,
                                       gpu::GPUModuleOp module, StringRef name,
                                       const KernelLaunch &launch,
                                       ArrayRef<MemRefType> workgroupBuffers) {
  ArrayRef<KernelParam> params = launch.params;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> argTypes = llvm::map_to_vector(
      params, [](const KernelParam &p) { return kernelParamType(p.host); });
  SmallVector<Type> workgroup(workgroupBuffers.begin(), workgroupBuffers.end());
  auto kernel = gpu::GPUFuncOp::create(
      builder, loc, name, builder.getFunctionType(argTypes, {}), workgroup);
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                  builder.getUnitAttr());
  kernel.setKnownBlockSizeAttr(builder.getDenseI32ArrayAttr(
      llvm::map_to_vector(launch.block, [](int64_t n) { return int32_t(n); })));
  // FTZ like -fcuda-flush-denormals-to-zero: no denormal slow paths.
  kernel->setAttr("denormal_fp_math_f32",
                  builder.getStringAttr("preserve-sign"));
  for (auto [i, param] : llvm::enumerate(params)) {
    if (!isa<MemRefType>(param.host.getType()))
      continue;
    kernel.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(),
                      builder.getUnitAttr());
    kernel.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                      builder.getI64IntegerAttr(16));
    if (param.readOnly)
      kernel.setArgAttr(i, LLVM::LLVMDialect::getReadonlyAttrName(),
                        builder.getUnitAttr());
  }
  OpBuilder body = OpBuilder::atBlockEnd(&kernel.getBody().front());
  gpu::ReturnOp::create(body, loc);
  return kernel;
}

Value mlir::ssm::indexConstant(OpBuilder &builder, Location loc,
                               int64_t value) {
  return arith::ConstantIndexOp::create(builder, loc, value);
}

int64_t mlir::ssm::vectorWidth(Type type) {
  return 128 / getElementTypeOrSelf(type).getIntOrFloatBitWidth();
}

void mlir::ssm::emitLaunch(OpBuilder &builder, Location loc,
                           const KernelLaunch &launch) {
  OpBuilder::InsertionGuard guard(builder);
  if (launch.when) {
    auto ifOp = scf::IfOp::create(builder, loc, launch.when,
                                  /*withElseRegion=*/false);
    builder.setInsertionPointToStart(ifOp.thenBlock());
  }
  SmallVector<Value> operands;
  for (const KernelParam &param : launch.params) {
    auto memref = dyn_cast<MemRefType>(param.host.getType());
    if (!memref) {
      operands.push_back(param.host);
      continue;
    }
    // The kernel sees the buffer's base pointer only.
    auto view = MemRefType::get({1}, memref.getElementType());
    operands.push_back(memref::ReinterpretCastOp::create(
        builder, loc, view, param.host, /*offset=*/0, /*sizes=*/{1},
        /*strides=*/{1}));
  }
  auto cst = [&](int64_t v) { return indexConstant(builder, loc, v); };
  gpu::KernelDim3 grid{launch.grid[0], launch.grid[1], launch.grid[2]};
  gpu::KernelDim3 block{cst(launch.block[0]), cst(launch.block[1]),
                        cst(launch.block[2])};
  Value shared;
  if (launch.sharedBytes)
    shared = arith::ConstantIntOp::create(builder, loc, launch.sharedBytes, 32);
  auto op = gpu::LaunchFuncOp::create(builder, loc, launch.kernel, grid, block,
                                      shared, operands);
  for (NamedAttribute attr : launch.attrs)
    op->setAttr(attr.getName(), attr.getValue());
}

//===----------------------------------------------------------------------===//
// KernelBodyBuilder
//===----------------------------------------------------------------------===//

Value KernelBodyBuilder::offset(Value value) {
  Type type = getOffsetType();
  if (value.getType() == type)
    return value;
  return createOrFold<arith::IndexCastUIOp>(type, value);
}

Value KernelBodyBuilder::asIndex(Value value) {
  if (value.getType().isIndex())
    return value;
  return createOrFold<arith::IndexCastUIOp>(getIndexType(), value);
}

Value KernelBodyBuilder::index(int64_t value) {
  Type type = getOffsetType();
  return arith::ConstantOp::create(*this, type, getIntegerAttr(type, value));
}

Value KernelBodyBuilder::i32(int64_t value) {
  return arith::ConstantOp::create(*this, getI32IntegerAttr(value));
}

Value KernelBodyBuilder::f32(double value) {
  return arith::ConstantFloatOp::create(*this, getF32Type(),
                                        APFloat(static_cast<float>(value)));
}

Value KernelBodyBuilder::add(Value a, Value b) {
  if (isa<FloatType>(a.getType()))
    return createOrFold<arith::AddFOp>(a, b);
  return createOrFold<arith::AddIOp>(a, b);
}

Value KernelBodyBuilder::sub(Value a, Value b) {
  if (isa<FloatType>(a.getType()))
    return createOrFold<arith::SubFOp>(a, b);
  return createOrFold<arith::SubIOp>(a, b);
}

Value KernelBodyBuilder::mul(Value a, Value b) {
  if (isa<FloatType>(a.getType()))
    return createOrFold<arith::MulFOp>(a, b);
  return createOrFold<arith::MulIOp>(a, b);
}

Value KernelBodyBuilder::div(Value a, Value b) {
  if (isa<FloatType>(a.getType()))
    return createOrFold<arith::DivFOp>(a, b, arith::FastMathFlags::fast);
  return createOrFold<arith::DivUIOp>(a, b);
}

Value KernelBodyBuilder::rem(Value a, Value b) {
  return createOrFold<arith::RemUIOp>(a, b);
}

Value KernelBodyBuilder::fma(Value a, Value b, Value c) {
  return math::FmaOp::create(*this, a, b, c);
}

Value KernelBodyBuilder::cmpLT(Value a, Value b) {
  return createOrFold<arith::CmpIOp>(arith::CmpIPredicate::slt, a, b);
}

Value KernelBodyBuilder::cmpEQ(Value a, Value b) {
  return createOrFold<arith::CmpIOp>(arith::CmpIPredicate::eq, a, b);
}

std::tuple<Value, Value, Value>
KernelBodyBuilder::segmentBounds(Value segment, Value steps, Value len) {
  Value count = arith::CeilDivUIOp::create(*this, len, steps);
  Value lo = mul(segment, steps);
  Value hi = arith::MinUIOp::create(*this, add(lo, steps), len);
  return {count, lo, hi};
}

Value KernelBodyBuilder::flatView(Value arg, Value size) {
  auto type = cast<MemRefType>(arg.getType());
  auto flat = MemRefType::get({ShapedType::kDynamic}, type.getElementType());
  OpFoldResult sizes[] = {size};
  OpFoldResult strides[] = {getIndexAttr(1)};
  return memref::ReinterpretCastOp::create(*this, flat, arg, getIndexAttr(0),
                                           sizes, strides);
}

/// Widens a loaded scalar or vector to f32.
static Value widenToF32(KernelBodyBuilder &b, Value v) {
  Type f32 = b.getF32Type();
  if (auto vec = dyn_cast<VectorType>(v.getType()))
    f32 = VectorType::get(vec.getShape(), f32);
  if (v.getType() == f32)
    return v;
  if (!getElementTypeOrSelf(v).isBF16())
    return arith::ExtFOp::create(b, f32, v);
  // A bf16 is the upper half of an f32: move it into place on the integer
  // pipe (ptxas turns cvt.f32.bf16 into F2F, which shares the quarter-rate
  // SFU with the exps). A vector is widened two elements per 32-bit word:
  // the low one shifted up, the high one masked.
  Type i32 = b.getI32Type();
  auto vec = dyn_cast<VectorType>(v.getType());
  if (!vec) {
    Value bits = arith::BitcastOp::create(b, b.getI16Type(), v);
    Value wide = arith::ExtUIOp::create(b, i32, bits);
    return arith::BitcastOp::create(b, f32,
                                    arith::ShLIOp::create(b, wide, b.i32(16)));
  }
  int64_t width = vec.getNumElements();
  if (width % 2 != 0) {
    SmallVector<Value> values;
    for (int64_t i = 0; i < width; ++i)
      values.push_back(widenToF32(b, vector::ExtractOp::create(b, v, i)));
    return vector::FromElementsOp::create(b, cast<VectorType>(f32), values);
  }
  Value words =
      vector::BitCastOp::create(b, VectorType::get({width / 2}, i32), v);
  SmallVector<Value> values;
  for (int64_t w = 0; w < width / 2; ++w) {
    Value word = vector::ExtractOp::create(b, words, w);
    values.push_back(arith::ShLIOp::create(b, word, b.i32(16)));
    values.push_back(arith::AndIOp::create(b, word, b.i32(0xffff0000)));
  }
  Value ints =
      vector::FromElementsOp::create(b, VectorType::get({width}, i32), values);
  return arith::BitcastOp::create(b, f32, ints);
}

/// Narrows an f32 scalar or vector to `elem` (or a vector of it).
static Value narrowFromF32(KernelBodyBuilder &b, Value v, Type elem) {
  Type target = elem;
  if (auto vec = dyn_cast<VectorType>(v.getType()))
    target = VectorType::get(vec.getShape(), elem);
  if (v.getType() == target)
    return v;
  return arith::TruncFOp::create(b, target, v);
}

Value KernelBodyBuilder::loadF32(Value memref, Value idx) {
  return widenToF32(*this, memref::LoadOp::create(*this, memref, asIndex(idx)));
}

void KernelBodyBuilder::storeF32(Value value, Value memref, Value idx) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  memref::StoreOp::create(*this, narrowFromF32(*this, value, elem), memref,
                          asIndex(idx));
}

/// The alignment that an aligned access of `type` promises: its size, up to
/// 16 bytes (the widest access; longer vectors split into 16-byte ones).
static unsigned accessAlignment(VectorType type) {
  return std::min<unsigned>(16, type.getNumElements() *
                                    type.getElementTypeBitWidth() / 8);
}

Value KernelBodyBuilder::loadVector(Value memref, Value idx, int64_t width,
                                    bool aligned) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  auto vecType = VectorType::get({width}, elem);
  auto load = vector::LoadOp::create(*this, vecType, memref, asIndex(idx));
  if (aligned)
    load.setAlignment(accessAlignment(vecType));
  return load;
}

SmallVector<Value> KernelBodyBuilder::unpackF32(Value loaded) {
  Value wide = widenToF32(*this, loaded);
  auto vec = dyn_cast<VectorType>(wide.getType());
  if (!vec)
    return {wide};
  SmallVector<Value> values;
  for (int64_t i = 0; i < vec.getNumElements(); ++i)
    values.push_back(vector::ExtractOp::create(*this, wide, i));
  return values;
}

void KernelBodyBuilder::storeVectorF32(ArrayRef<Value> values, Value memref,
                                       Value idx, bool aligned) {
  Type elem = cast<MemRefType>(memref.getType()).getElementType();
  // An aligned run longer than 16 bytes is stored 16 bytes at a time: LLVM
  // would split a wider vector (12 x f32, say) into 8-byte stores.
  int64_t perStore = 128 / elem.getIntOrFloatBitWidth();
  if (aligned && int64_t(values.size()) > perStore &&
      values.size() % perStore == 0) {
    for (int64_t i = 0, e = values.size(); i < e; i += perStore) {
      Value at = createOrFold<arith::AddIOp>(
          idx,
          arith::ConstantOp::create(*this, getIntegerAttr(idx.getType(), i)));
      storeVectorF32(values.slice(i, perStore), memref, at, /*aligned=*/true);
    }
    return;
  }
  auto vecType = VectorType::get({int64_t(values.size())}, getF32Type());
  Value vec = vector::FromElementsOp::create(*this, vecType, values);
  Value narrow = narrowFromF32(*this, vec, elem);
  auto store = vector::StoreOp::create(*this, narrow, memref, asIndex(idx));
  if (aligned)
    store.setAlignment(accessAlignment(cast<VectorType>(narrow.getType())));
}

Value KernelBodyBuilder::exp2(Value x) {
  return math::Exp2Op::create(*this, x, arith::FastMathFlags::afn);
}

void KernelBodyBuilder::ifThen(Value cond, function_ref<void()> body) {
  if (!cond) {
    body();
    return;
  }
  auto ifOp = scf::IfOp::create(*this, cond);
  InsertionGuard guard(*this);
  setInsertionPointToStart(ifOp.thenBlock());
  body();
}

void KernelBodyBuilder::ifThenElse(Value cond, function_ref<void()> thenBody,
                                   function_ref<void()> elseBody) {
  auto ifOp = scf::IfOp::create(*this, cond, /*withElseRegion=*/true);
  InsertionGuard guard(*this);
  setInsertionPointToStart(ifOp.thenBlock());
  thenBody();
  setInsertionPointToStart(ifOp.elseBlock());
  elseBody();
}

SmallVector<Value>
KernelBodyBuilder::ifThenElse(Value cond, TypeRange types,
                              function_ref<SmallVector<Value>()> thenValues,
                              function_ref<SmallVector<Value>()> elseValues) {
  auto ifOp = scf::IfOp::create(*this, types, cond, /*withElseRegion=*/true);
  InsertionGuard guard(*this);
  setInsertionPointToStart(ifOp.thenBlock());
  scf::YieldOp::create(*this, thenValues());
  setInsertionPointToStart(ifOp.elseBlock());
  scf::YieldOp::create(*this, elseValues());
  return SmallVector<Value>(ifOp.getResults());
}

Value KernelBodyBuilder::shuffleXor(Value value, int64_t offset) {
  return gpu::ShuffleOp::create(*this, value, i32(offset), i32(32),
                                gpu::ShuffleMode::XOR)
      .getShuffleResult();
}

Value KernelBodyBuilder::exp2OnFMA(Value x) {
  // 2^x = 2^j · 2^f with j = round(x), f in [-1/2, 1/2]. Adding 1.5·2^23
  // rounds x to an integer held in the low mantissa bits of t; 2^f is a
  // degree-5 minimax polynomial (relative error 7.5e-8, below ex2.approx's
  // 2^-22); j enters as t's bits shifted into the exponent field. Clamping
  // x to [-125, 127] keeps 2^j a normal scale factor (2^-125 stands for 0).
  Type f32Type = getF32Type(), i32Type = getI32Type();
  x = arith::MinNumFOp::create(
      *this, arith::MaxNumFOp::create(*this, x, f32(-125)), f32(127));
  Value magic = f32(12582912.0);
  Value t = add(x, magic);
  Value frac = sub(x, sub(t, magic));
  static constexpr double kCoeffs[] = {1.00000007,    0.693146967,
                                       0.240221197,   0.0555071327,
                                       0.00967554133, 0.0013276472};
  Value p = f32(kCoeffs[5]);
  for (int k = 4; k >= 0; --k)
    p = fma(p, frac, f32(kCoeffs[k]));
  Value scale = arith::ShLIOp::create(
      *this, arith::BitcastOp::create(*this, i32Type, t), i32(23));
  Value bits = arith::AddIOp::create(
      *this, arith::BitcastOp::create(*this, i32Type, p), scale);
  return arith::BitcastOp::create(*this, f32Type, bits);
}

Value KernelBodyBuilder::softplus(Value x) {
  // ln(1 + e^x) = max(x, 0) + ln(1 + t) with t = e^-|x| in (0, 1]: one ex2
  // on the SFU, and ln(1 + t) = t·p(t) with p a degree-6 minimax fit of
  // ln(1 + t)/t on [0, 1] (relative error 1.3e-6) on the FMA pipe. The SFU
  // is what bounds the selective scan, and this form also keeps the low
  // bits of small results that log2(1 + e^x) rounds away. Past x = 20 it
  // adds under an ulp of x, which matches PyTorch's threshold.
  Value t = exp2(mul(math::AbsFOp::create(*this, x), f32(-M_LOG2E)));
  static constexpr double kCoeffs[] = {0.999998731535395,  -0.4998696564069347,
                                       0.3310944899555315, -0.2350386045105986,
                                       0.1492238761077036, -0.06640180096570844,
                                       0.01414102407722142};
  Value p = f32(kCoeffs[6]);
  for (int k = 5; k >= 0; --k)
    p = fma(p, t, f32(kCoeffs[k]));
  return fma(t, p, arith::MaxNumFOp::create(*this, x, f32(0.0)));
}

Value KernelBodyBuilder::silu(Value x) {
  Value e = exp2(mul(x, f32(-M_LOG2E)));
  return div(x, add(f32(1.0), e));
}

Value KernelBodyBuilder::siluOneSFU(Value x) {
  // sigmoid(x) = (1 + tanh(x/2)) / 2; llvm.tanh with afn selects
  // tanh.approx.f32 (math.tanh would become libdevice's exact tanhf).
  Value half = mul(x, f32(0.5));
  Value t = LLVM::TanhOp::create(
      *this, half,
      LLVM::FastmathFlagsAttr::get(getContext(), LLVM::FastmathFlags::afn));
  return fma(half, t, half);
}
