//===- SSMOps.cpp - SSM dialect operations ----------------------*- C++ -*-===//
//
// Verifiers of the ssm ops. Each names the operand at fault and the shape it
// expects, written both symbolically and with the sizes known so far, e.g.
// "operand 'delta' must have shape [B, D, L] = [?, 512, ?]".
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::ssm;

//===----------------------------------------------------------------------===//
// Shape checking helpers
//===----------------------------------------------------------------------===//

namespace {
/// One expected dimension: its symbolic name and its size, or
/// ShapedType::kDynamic where any size is accepted.
struct Dim {
  StringRef name;
  int64_t size;
};
} // namespace

static std::string formatShape(ArrayRef<Dim> dims) {
  std::string text = "[";
  text += llvm::join(llvm::map_range(dims, [](const Dim &d) { return d.name; }),
                     ", ");
  text += "] = [";
  text += llvm::join(llvm::map_range(dims,
                                     [](const Dim &d) {
                                       return ShapedType::isDynamic(d.size)
                                                  ? std::string("?")
                                                  : std::to_string(d.size);
                                     }),
                     ", ");
  return text + "]";
}

/// Checks that `value` is a tensor of the expected rank whose static sizes
/// agree with the expected ones (a dynamic size on either side agrees).
static LogicalResult verifyShape(Operation *op, StringRef kind, StringRef name,
                                 Value value, ArrayRef<Dim> expected) {
  auto type = cast<RankedTensorType>(value.getType());
  bool ok = type.getRank() == static_cast<int64_t>(expected.size());
  for (auto [i, dim] : llvm::enumerate(expected)) {
    if (!ok)
      break;
    int64_t actual = type.getDimSize(i);
    ok = ShapedType::isDynamic(actual) || ShapedType::isDynamic(dim.size) ||
         actual == dim.size;
  }
  if (ok)
    return success();
  return op->emitOpError() << kind << " '" << name << "' must have shape "
                           << formatShape(expected) << ", got " << type;
}

static LogicalResult verifyOperand(Operation *op, StringRef name, Value value,
                                   ArrayRef<Dim> expected) {
  return verifyShape(op, "operand", name, value, expected);
}

static LogicalResult verifyResult(Operation *op, StringRef name, Value value,
                                  ArrayRef<Dim> expected) {
  return verifyShape(op, "result", name, value, expected);
}

/// Checks that the given dimensions of `value` are static.
static LogicalResult verifyStaticDims(Operation *op, StringRef name,
                                      Value value, ArrayRef<Dim> dims,
                                      ArrayRef<unsigned> indices) {
  auto type = cast<RankedTensorType>(value.getType());
  for (unsigned i : indices) {
    if (ShapedType::isDynamic(type.getDimSize(i)))
      return op->emitOpError()
             << "operand '" << name << "' must have a static size for "
             << dims[i].name << " (dimension " << i << "), got " << type;
  }
  return success();
}

/// A size for a message: the number, or "?" when dynamic.
static std::string formatSize(int64_t size) {
  return ShapedType::isDynamic(size) ? std::string("?") : std::to_string(size);
}

static bool isActivationType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

/// Checks the element type of `value`: an activation type (f32, f16, bf16),
/// and `like`'s element type when given, or f32 alone when `requireF32`.
static LogicalResult verifyElementType(Operation *op, StringRef name,
                                       Value value, bool requireF32,
                                       Value like = {}) {
  Type elem = getElementTypeOrSelf(value.getType());
  if (requireF32 && !elem.isF32())
    return op->emitOpError() << "operand '" << name
                             << "' must have element type f32, got " << elem;
  if (!isActivationType(elem))
    return op->emitOpError() << "operand '" << name
                             << "' must have element type f32, f16 or bf16, "
                                "got "
                             << elem;
  if (like && elem != getElementTypeOrSelf(like.getType()))
    return op->emitOpError()
           << "operand '" << name << "' must have the element type of the "
           << "input (" << getElementTypeOrSelf(like.getType()) << "), got "
           << elem;
  return success();
}

/// The [B, D, L] or [B, L, D] shape of an activation tensor.
static SmallVector<Dim> activationShape(Layout layout, int64_t b, int64_t d,
                                        int64_t l, StringRef dName = "D") {
  if (layout == Layout::ChannelFirst)
    return {{"B", b}, {dName, d}, {"L", l}};
  return {{"B", b}, {"L", l}, {dName, d}};
}

BCKind mlir::ssm::getBCKind(Type type) {
  return static_cast<BCKind>(cast<RankedTensorType>(type).getRank());
}

bool mlir::ssm::splitsIntoDirections(Type type, Layout layout,
                                     int64_t directions) {
  return getBCKind(type) != BCKind::Grouped ||
         getNumGroups(type, layout) % directions == 0;
}

int64_t mlir::ssm::getNumGroups(Type type, Layout layout) {
  auto tensor = cast<RankedTensorType>(type);
  if (getBCKind(type) != BCKind::Grouped)
    return 1;
  return tensor.getDimSize(layout == Layout::ChannelFirst ? 1 : 2);
}

/// Checks a B or C operand of a Mamba-1 scan: per channel [D, N], shared
/// [B, N, L] / [B, L, N] or grouped [B, G, N, L] / [B, L, G, N] with a static
/// G that divides D.
static LogicalResult verifyBC(Operation *op, StringRef name, Value value,
                              Layout layout, int64_t b, int64_t d, int64_t l,
                              int64_t n, Value input) {
  auto type = cast<RankedTensorType>(value.getType());
  bool cf = layout == Layout::ChannelFirst;
  SmallVector<Dim> expected;
  switch (type.getRank()) {
  case 2:
    expected = {{"D", d}, {"N", n}};
    break;
  case 3:
    expected = cf ? SmallVector<Dim>{{"B", b}, {"N", n}, {"L", l}}
                  : SmallVector<Dim>{{"B", b}, {"L", l}, {"N", n}};
    break;
  case 4: {
    int64_t g = getNumGroups(type, layout);
    if (ShapedType::isDynamic(g) || g <= 0 || d % g != 0)
      return op->emitOpError()
             << "operand '" << name << "' has " << formatSize(g)
             << " groups, which must be static and divide D = " << d;
    expected = cf ? SmallVector<Dim>{{"B", b}, {"G", g}, {"N", n}, {"L", l}}
                  : SmallVector<Dim>{{"B", b}, {"L", l}, {"G", g}, {"N", n}};
    break;
  }
  default:
    return op->emitOpError()
           << "operand '" << name << "' must be per channel [D, N], shared "
           << (cf ? "[B, N, L]" : "[B, L, N]") << " or grouped "
           << (cf ? "[B, G, N, L]" : "[B, L, G, N]") << ", got " << type;
  }
  if (failed(verifyOperand(op, name, value, expected)))
    return failure();
  Type elem = getElementTypeOrSelf(type);
  if (!elem.isF32() && elem != getElementTypeOrSelf(input.getType()))
    return op->emitOpError()
           << "operand '" << name
           << "' must have the element type of the input or f32, got " << elem;
  return success();
}

bool mlir::ssm::haveSameGroups(Type b, Type c, Layout layout) {
  return getBCKind(b) != BCKind::Grouped || getBCKind(c) != BCKind::Grouped ||
         getNumGroups(b, layout) == getNumGroups(c, layout);
}

/// Grouped B and C of one scan have one group count: the kernel reads both
/// at one group index.
static LogicalResult verifySameGroups(Operation *op, Value b, Value c,
                                      Layout layout) {
  if (haveSameGroups(b.getType(), c.getType(), layout))
    return success();
  return op->emitOpError() << "operands 'B' and 'C' have "
                           << getNumGroups(b.getType(), layout) << " and "
                           << getNumGroups(c.getType(), layout)
                           << " groups; grouped B and C need the same count";
}

namespace {
/// The sizes of a Mamba-1 scan read off its activation input and A.
struct ScanSizes {
  int64_t b, d, l, n;
};
} // namespace

/// Reads B, D, L from an activation tensor of the given layout and N from A,
/// and checks that D and N are static.
static FailureOr<ScanSizes> verifyScanSizes(Operation *op, StringRef inputName,
                                            Value input, Value a,
                                            Layout layout) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<Dim> symbolic = activationShape(
      layout, ShapedType::kDynamic, ShapedType::kDynamic, ShapedType::kDynamic);
  if (type.getRank() != 3)
    return op->emitOpError() << "operand '" << inputName << "' must have shape "
                             << formatShape(symbolic) << ", got " << type;
  bool cf = layout == Layout::ChannelFirst;
  ScanSizes sizes{type.getDimSize(0), type.getDimSize(cf ? 1 : 2),
                  type.getDimSize(cf ? 2 : 1), ShapedType::kDynamic};
  if (failed(verifyStaticDims(op, inputName, input, symbolic, {cf ? 1u : 2u})))
    return failure();
  auto aType = cast<RankedTensorType>(a.getType());
  if (aType.getRank() == 2)
    sizes.n = aType.getDimSize(1);
  SmallVector<Dim> aShape = {{"D", sizes.d}, {"N", sizes.n}};
  if (failed(verifyOperand(op, "A", a, aShape)) ||
      failed(verifyStaticDims(op, "A", a, aShape, {1})) ||
      failed(verifyElementType(op, "A", a, /*requireF32=*/true)))
    return failure();
  return sizes;
}

/// Checks an optional per-channel f32 vector operand of size `size`.
static LogicalResult verifyChannelVector(Operation *op, StringRef name,
                                         Value value, StringRef sizeName,
                                         int64_t size) {
  if (!value)
    return success();
  if (failed(verifyOperand(op, name, value, {{sizeName, size}})))
    return failure();
  return verifyElementType(op, name, value, /*requireF32=*/true);
}

/// Checks a conv1d's weight operand `name`: [channels, K] with a static K in
/// 2..4, of a float type (f32 with `requireF32`).
static LogicalResult verifyConvWeight(Operation *op, StringRef name,
                                      Value weight, StringRef channelName,
                                      int64_t channels, bool requireF32) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t k = type.getRank() == 2 ? type.getDimSize(1) : ShapedType::kDynamic;
  if (failed(verifyOperand(op, name, weight,
                           {{channelName, channels}, {"K", k}})) ||
      failed(verifyElementType(op, name, weight, requireF32)))
    return failure();
  if (ShapedType::isDynamic(k) || k < 2 || k > 4)
    return op->emitOpError()
           << "operand '" << name
           << "' must have a static width K in 2..4, got " << type;
  return success();
}

/// Checks an optional f32 state operand or result of the given shape.
static LogicalResult verifyState(Operation *op, StringRef kind, StringRef name,
                                 Value value, ArrayRef<Dim> shape) {
  if (!value)
    return success();
  if (failed(verifyShape(op, kind, name, value, shape)))
    return failure();
  if (!getElementTypeOrSelf(value.getType()).isF32())
    return op->emitOpError()
           << kind << " '" << name << "' must have element type f32, got "
           << getElementTypeOrSelf(value.getType());
  return success();
}

/// Checks the directions of a Mamba-1 scan over `d` channels (every
/// direction's, stacked) and `l` steps, and returns the channels of its output:
/// d / 2 for a bidirectional scan and d / 4 for a cross scan, whose grouped
/// B/C operands must then hold each direction's own groups.
static FailureOr<int64_t>
verifyDirections(Operation *op, bool reverse, bool bidirectional,
                 std::optional<ArrayRef<int64_t>> crossScan, int64_t d,
                 int64_t l, Layout layout, ArrayRef<Value> bcOperands) {
  int64_t directions = getDirectionCount(bidirectional, crossScan.has_value());
  if (directions == 1)
    return d;
  if (crossScan) {
    if (bidirectional)
      return op->emitOpError("'bidirectional' and 'cross_scan' exclude each "
                             "other");
    if (reverse)
      return op->emitOpError("a cross scan runs four fixed directions; "
                             "'reverse' does not apply to it");
    if (crossScan->size() != 2 ||
        llvm::any_of(*crossScan, [](int64_t size) { return size <= 0; }))
      return op->emitOpError()
             << "cross_scan must be [H, W], two positive sizes, got ["
             << *crossScan << "]";
    if (layout != Layout::ChannelLast)
      return op->emitOpError(
          "a cross scan needs layout = channel_last: its column-major "
          "directions read whole rows of channels a step, where channel-first "
          "rows would be read an element at a time");
    int64_t height = (*crossScan)[0], width = (*crossScan)[1], tokens;
    if (llvm::MulOverflow(height, width, tokens))
      return op->emitOpError() << "a cross scan over a " << height << " x "
                               << width << " grid overflows L = H·W";
    if (l != tokens)
      return op->emitOpError()
             << "a cross scan over a " << height << " x " << width
             << " grid needs a static L = H·W = " << tokens << ", got "
             << formatSize(l);
  } else if (reverse) {
    return op->emitOpError("a bidirectional scan runs both directions; "
                           "'reverse' does not apply to it");
  }
  StringRef kind = crossScan ? "a cross scan" : "a bidirectional scan";
  StringRef order = crossScan ? "the four directions' in turn"
                              : "the forward ones, then the backward ones";
  if (d % directions != 0)
    return op->emitOpError() << kind << " needs a channel count " << directions
                             << "D divisible by " << directions << " (" << order
                             << "), got " << d;
  for (Value bc : bcOperands)
    if (!splitsIntoDirections(bc.getType(), layout, directions))
      return op->emitOpError()
             << kind << " needs a number of B/C groups divisible by "
             << directions << " (" << order << "), got "
             << getNumGroups(bc.getType(), layout);
  return d / directions;
}

/// The symbolic name of the stacked channels of a scan's per-direction
/// operands.
static StringRef stackedChannels(int64_t directions) {
  return directions == 4 ? "4D" : directions == 2 ? "2D" : "D";
}

//===----------------------------------------------------------------------===//
// DiscretizeOp
//===----------------------------------------------------------------------===//

LogicalResult DiscretizeOp::verify() {
  FailureOr<ScanSizes> s =
      verifyScanSizes(*this, "delta", getDelta(), getA(), getLayout());
  if (failed(s) ||
      failed(verifyElementType(*this, "delta", getDelta(), false)) ||
      failed(verifyBC(*this, "B", getB(), getLayout(), s->b, s->d, s->l, s->n,
                      getDelta())) ||
      failed(verifyChannelVector(*this, "bias", getDeltaBias(), "D", s->d)))
    return failure();
  SmallVector<Dim> full =
      getLayout() == Layout::ChannelFirst
          ? SmallVector<Dim>{{"B", s->b}, {"D", s->d}, {"L", s->l}, {"N", s->n}}
          : SmallVector<Dim>{
                {"B", s->b}, {"L", s->l}, {"D", s->d}, {"N", s->n}};
  if (failed(verifyState(*this, "result", "abar", getAbar(), full)) ||
      failed(verifyState(*this, "result", "bbar", getBbar(), full)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// ScanOp
//===----------------------------------------------------------------------===//

LogicalResult ScanOp::verify() {
  auto type = cast<RankedTensorType>(getAbar().getType());
  if (type.getRank() != 4)
    return emitOpError() << "operand 'abar' must have rank 4 ([B, D, L, N] or "
                            "[B, L, D, N]), got "
                         << type;
  bool cf = getLayout() == Layout::ChannelFirst;
  int64_t b = type.getDimSize(0), d = type.getDimSize(cf ? 1 : 2),
          l = type.getDimSize(cf ? 2 : 1), n = type.getDimSize(3);
  SmallVector<Dim> full =
      cf ? SmallVector<Dim>{{"B", b}, {"D", d}, {"L", l}, {"N", n}}
         : SmallVector<Dim>{{"B", b}, {"L", l}, {"D", d}, {"N", n}};
  StringRef dName = stackedChannels(getNumDirections());
  SmallVector<Dim> state = {{"B", b}, {dName, d}, {"N", n}};
  if (failed(
          verifyStaticDims(*this, "abar", getAbar(), full, {cf ? 1u : 2u, 3})))
    return failure();
  FailureOr<int64_t> outChannels =
      verifyDirections(*this, getReverse(), getBidirectional(), getCrossScan(),
                       d, l, getLayout(), {getC()});
  if (failed(outChannels))
    return failure();
  SmallVector<Dim> act = activationShape(getLayout(), b, *outChannels, l);
  // A cross scan's directions share u; the others stack theirs.
  SmallVector<Dim> in =
      getCrossScan() ? act : activationShape(getLayout(), b, d, l, dName);
  if (failed(verifyState(*this, "operand", "abar", getAbar(), full)) ||
      failed(verifyState(*this, "operand", "bbar", getBbar(), full)) ||
      failed(verifyOperand(*this, "u", getU(), in)) ||
      failed(verifyElementType(*this, "u", getU(), false)) ||
      failed(verifyBC(*this, "C", getC(), getLayout(), b, d, l, n, getU())) ||
      failed(verifyState(*this, "operand", "init", getInit(), state)) ||
      failed(verifyResult(*this, "y", getY(), act)) ||
      failed(verifyElementType(*this, "y", getY(), false, getU())) ||
      failed(verifyState(*this, "result", "last_state", getLastState(), state)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// SelectiveScanOp
//===----------------------------------------------------------------------===//

LogicalResult SelectiveScanOp::verify() {
  // Sized off u, or off Δ where the directions share u (a cross scan's).
  bool shared = hasSharedInput();
  FailureOr<ScanSizes> s =
      verifyScanSizes(*this, shared ? "delta" : "u",
                      shared ? getDelta() : getU(), getA(), getLayout());
  if (failed(s))
    return failure();
  FailureOr<int64_t> outChannels =
      verifyDirections(*this, getReverse(), getBidirectional(), getCrossScan(),
                       s->d, s->l, getLayout(), {getB(), getC()});
  if (failed(outChannels))
    return failure();
  StringRef dName = stackedChannels(getNumDirections());
  SmallVector<Dim> in = activationShape(getLayout(), s->b, s->d, s->l, dName);
  SmallVector<Dim> act = activationShape(getLayout(), s->b, *outChannels, s->l);
  SmallVector<Dim> state = {{"B", s->b}, {dName, s->d}, {"N", s->n}};
  if (failed(verifyOperand(*this, "u", getU(), shared ? act : in)) ||
      failed(verifyElementType(*this, "u", getU(), false)) ||
      failed(verifyOperand(*this, "delta", getDelta(), in)) ||
      failed(verifyElementType(*this, "delta", getDelta(), false, getU())) ||
      failed(verifyBC(*this, "B", getB(), getLayout(), s->b, s->d, s->l, s->n,
                      getU())) ||
      failed(verifyBC(*this, "C", getC(), getLayout(), s->b, s->d, s->l, s->n,
                      getU())) ||
      failed(verifySameGroups(*this, getB(), getC(), getLayout())) ||
      failed(verifyChannelVector(*this, "skip", getD(), dName, s->d)) ||
      failed(verifyChannelVector(*this, "bias", getDeltaBias(), dName, s->d)) ||
      failed(verifyState(*this, "operand", "init", getInit(), state)) ||
      failed(verifyResult(*this, "y", getY(), act)) ||
      failed(verifyElementType(*this, "y", getY(), false, getU())) ||
      failed(verifyState(*this, "result", "last_state", getLastState(), state)))
    return failure();
  if (getZ() &&
      (failed(verifyOperand(*this, "gate", getZ(), act)) ||
       failed(verifyElementType(*this, "gate", getZ(), false, getU()))))
    return failure();
  if (failed(verifyConv()))
    return failure();
  if (TileAttr tile = getTileAttr())
    return verifyTile(tile, [&] { return emitOpError(); });
  return success();
}

LogicalResult
SelectiveScanOp::verifyTile(TileAttr tile,
                            function_ref<InFlightDiagnostic()> emitError) {
  int64_t n = getStateSize();
  if (n % tile.getLanes() != 0)
    return emitError() << "tile lanes = " << tile.getLanes()
                       << " must divide the " << n << " states per channel";
  if (tile.getFmaExps() > n / tile.getLanes())
    return emitError() << "tile fma_exps = " << tile.getFmaExps()
                       << " exceeds the " << n / tile.getLanes()
                       << " states per thread";
  if (tile.getWarpgroup())
    return emitError() << "tile warpgroup applies to ssm.ssd_chunk only";
  if (tile.getSteps() != 0)
    return emitError() << "tile steps = " << tile.getSteps()
                       << " applies to ssm.ssd_chunk only";
  if (getCrossScan() && tile.getChunk() != 0)
    return emitError()
           << "tile chunk = " << tile.getChunk()
           << " does not apply to a cross scan, which is not split into L "
              "segments (its column-major directions cross them all)";
  return success();
}

/// The folded conv1d: [D, K] f32 weights (K in 2..4), an optional [D] f32
/// bias, on a forward scan of one direction in the channel-first layout.
LogicalResult SelectiveScanOp::verifyConv() {
  Value weight = getConvWeight();
  if (!weight) {
    if (getConvBias() || getConvSilu())
      return emitOpError() << "conv_bias and conv_silu need conv weights";
    return success();
  }
  if (getLayout() != Layout::ChannelFirst || getReverse() ||
      getNumDirections() != 1)
    return emitOpError() << "a folded conv1d needs a forward scan of one "
                            "direction in the channel_first layout";
  int64_t d = getNumChannels();
  if (failed(verifyConvWeight(*this, "conv", weight, "D", d,
                              /*requireF32=*/true)))
    return failure();
  return verifyChannelVector(*this, "conv_bias", getConvBias(), "D", d);
}

int64_t SelectiveScanOp::getBatchSize() {
  return getDelta().getType().getDimSize(0);
}

int64_t SelectiveScanOp::getSeqLen() {
  return getDelta().getType().getDimSize(
      getLayout() == Layout::ChannelFirst ? 2 : 1);
}

int64_t SelectiveScanOp::getNumChannels() {
  // Read off Δ, whose D the verifier requires static (A's may be dynamic).
  return getDelta().getType().getDimSize(
      getLayout() == Layout::ChannelFirst ? 1 : 2);
}

int64_t SelectiveScanOp::getChannelsPerGroup() {
  // Per direction: grouped B/C hold each direction's groups, shared and
  // per-channel ones count as one group, which spans every direction.
  int64_t directions = getNumDirections();
  int64_t groups = 1;
  for (Value bc : {getB(), getC()})
    groups = std::max(groups, getNumGroups(bc.getType(), getLayout()));
  return getNumChannels() / directions /
         std::max<int64_t>(1, groups / directions);
}

int64_t SelectiveScanOp::getStateSize() {
  return getA().getType().getDimSize(1);
}

//===----------------------------------------------------------------------===//
// SkipOp and GateOp
//===----------------------------------------------------------------------===//

LogicalResult SkipOp::verify() {
  auto type = getY().getType();
  if (type.getRank() != 3)
    return emitOpError() << "operand 'y' must have rank 3, got " << type;
  bool cf = getLayout() == Layout::ChannelFirst;
  int64_t b = type.getDimSize(0), d = type.getDimSize(cf ? 1 : 2),
          l = type.getDimSize(cf ? 2 : 1);
  SmallVector<Dim> act = activationShape(getLayout(), b, d, l);
  // u holds the channels of y once, or once per direction of a
  // bidirectional scan (K·D, which the skip sums over); a u whose L differs
  // is reported against [B, D, L]. D has u's channels, or K·D where the K
  // directions of a cross scan share a u of D channels: y + Σ_k D_k·u.
  auto uType = getU().getType();
  int64_t k = 1;
  if (uType.getRank() == 3) {
    int64_t uChannels = uType.getDimSize(cf ? 1 : 2);
    int64_t uLen = uType.getDimSize(cf ? 2 : 1);
    bool sameLen =
        ShapedType::isDynamic(uLen) || ShapedType::isDynamic(l) || uLen == l;
    if (sameLen && !ShapedType::isDynamic(d) &&
        !ShapedType::isDynamic(uChannels) && d > 0 && uChannels % d == 0)
      k = uChannels / d;
  }
  int64_t kSkip = k;
  int64_t skipSize = getD().getType().getRank() == 1
                         ? getD().getType().getDimSize(0)
                         : ShapedType::kDynamic;
  if (k == 1 && !ShapedType::isDynamic(d) && !ShapedType::isDynamic(skipSize) &&
      d > 0 && skipSize % d == 0 && skipSize > d)
    kSkip = skipSize / d;
  SmallVector<Dim> in =
      activationShape(getLayout(), b, k * d, l, k == 1 ? "D" : "K·D");
  if (failed(verifyElementType(*this, "y", getY(), false)) ||
      failed(verifyOperand(*this, "u", getU(), in)) ||
      failed(verifyElementType(*this, "u", getU(), false, getY())) ||
      failed(verifyChannelVector(*this, "D", getD(), kSkip == 1 ? "D" : "K·D",
                                 kSkip * d)) ||
      failed(verifyResult(*this, "result", getResult(), act)))
    return failure();
  if (getResult().getType() != type)
    return emitOpError() << "result must have the type of 'y' (" << type
                         << "), got " << getResult().getType();
  return success();
}

LogicalResult GateOp::verify() {
  return verifyElementType(*this, "y", getY(), false);
}

//===----------------------------------------------------------------------===//
// SSDChunkOp
//===----------------------------------------------------------------------===//

LogicalResult SSDChunkOp::verify() {
  auto xType = getX().getType();
  SmallVector<Dim> xSym = {{"B", ShapedType::kDynamic},
                           {"L", ShapedType::kDynamic},
                           {"H", ShapedType::kDynamic},
                           {"P", static_cast<int64_t>(getHeaddim())}};
  if (failed(verifyOperand(*this, "x", getX(), xSym)) ||
      failed(verifyStaticDims(*this, "x", getX(), xSym, {2, 3})) ||
      failed(verifyElementType(*this, "x", getX(), false)))
    return failure();
  int64_t b = xType.getDimSize(0), l = xType.getDimSize(1),
          h = xType.getDimSize(2), p = xType.getDimSize(3);
  int64_t g = static_cast<int64_t>(getNgroups());
  if (h % g != 0)
    return emitOpError() << "'ngroups' = " << g
                         << " must divide the number of heads H = " << h;
  auto bType = cast<RankedTensorType>(getB().getType());
  int64_t n = bType.getRank() == 4 ? bType.getDimSize(3) : ShapedType::kDynamic;
  SmallVector<Dim> bcShape = {{"B", b}, {"L", l}, {"G", g}, {"N", n}};
  SmallVector<Dim> state = {{"B", b}, {"H", h}, {"P", p}, {"N", n}};
  SmallVector<Dim> xShape = {{"B", b}, {"L", l}, {"H", h}, {"P", p}};
  if (failed(verifyOperand(*this, "dt", getDt(),
                           {{"B", b}, {"L", l}, {"H", h}})) ||
      failed(verifyElementType(*this, "dt", getDt(), false)) ||
      failed(verifyChannelVector(*this, "A", getA(), "H", h)) ||
      failed(verifyOperand(*this, "B", getB(), bcShape)) ||
      failed(verifyStaticDims(*this, "B", getB(), bcShape, {3})) ||
      failed(verifyElementType(*this, "B", getB(), false)) ||
      failed(verifyOperand(*this, "C", getC(), bcShape)) ||
      failed(verifyElementType(*this, "C", getC(), false)) ||
      failed(verifyChannelVector(*this, "skip", getD(), "H", h)) ||
      failed(verifyChannelVector(*this, "bias", getDtBias(), "H", h)) ||
      failed(verifyState(*this, "operand", "init", getInit(), state)) ||
      failed(verifyResult(*this, "y", getY(), xShape)) ||
      failed(verifyElementType(*this, "y", getY(), false, getX())) ||
      failed(
          verifyState(*this, "result", "final_state", getFinalState(), state)))
    return failure();
  if (getZ() &&
      (failed(verifyOperand(*this, "gate", getZ(), xShape)) ||
       failed(verifyElementType(*this, "gate", getZ(), false, getX()))))
    return failure();
  if (static_cast<bool>(getNorm()) != static_cast<bool>(getNormWeight()))
    return emitOpError("'norm' and operand 'norm_weight' go together");
  if (NormAttr norm = getNormAttr()) {
    if ((h * p) % norm.getGroupSize() != 0)
      return emitOpError() << "norm group_size " << norm.getGroupSize()
                           << " must divide H * P = " << h * p;
    if (failed(verifyOperand(*this, "norm_weight", getNormWeight(),
                             {{"H*P", h * p}})) ||
        failed(verifyElementType(*this, "norm_weight", getNormWeight(), false)))
      return failure();
  }
  if (TileAttr tile = getTileAttr())
    return verifyTile(tile, [&] { return emitOpError(); });
  return success();
}

LogicalResult
SSDChunkOp::verifyTile(TileAttr tile,
                       function_ref<InFlightDiagnostic()> emitError) {
  // An L segment is scanned chunk by chunk, so it must hold whole chunks.
  if (tile.getChunk() % getChunkSize() != 0)
    return emitError() << "tile chunk = " << tile.getChunk()
                       << " (the L segment length) must be a multiple of "
                          "chunk_size = "
                       << getChunkSize();
  // Its exps are per chunk, not per state and step, and a thread owns
  // head-dim columns, not channels.
  if (tile.getFmaExps() != 0)
    return emitError() << "tile fma_exps = " << tile.getFmaExps()
                       << " applies to selective scans only";
  if (tile.getLanes() != 1)
    return emitError() << "tile lanes = " << tile.getLanes()
                       << " applies to selective scans only";
  if (tile.getSteps() != 0 && getChunkSize() % tile.getSteps() != 0)
    return emitError() << "tile steps = " << tile.getSteps()
                       << " (the kernel's chunk length) must divide "
                          "chunk_size = "
                       << getChunkSize();
  return success();
}

//===----------------------------------------------------------------------===//
// RMSNormGatedOp
//===----------------------------------------------------------------------===//

LogicalResult RMSNormGatedOp::verify() {
  auto type = getY().getType();
  if (type.getRank() < 1)
    return emitOpError("operand 'y' must have rank >= 1");
  int64_t dim = type.getDimSize(type.getRank() - 1);
  if (ShapedType::isDynamic(dim))
    return emitOpError() << "operand 'y' must have a static last dimension, "
                            "got "
                         << type;
  if (failed(verifyElementType(*this, "y", getY(), false)) ||
      failed(verifyOperand(*this, "weight", getWeight(), {{"D", dim}})) ||
      failed(verifyElementType(*this, "weight", getWeight(), false)))
    return failure();
  if (getZ() && getZ().getType() != type)
    return emitOpError() << "operand 'gate' must have the type of 'y' (" << type
                         << "), got " << getZ().getType();
  if (getResult().getType() != type)
    return emitOpError() << "result must have the type of 'y' (" << type
                         << "), got " << getResult().getType();
  if (dim % getGroupSize() != 0)
    return emitOpError() << "'group_size' = " << getGroupSize()
                         << " must divide the last dimension " << dim;
  if (!isNormEpsilon(getEps().convertToDouble()))
    return emitOpError("'eps' must be ") << kNormEpsilonRange;
  return success();
}

//===----------------------------------------------------------------------===//
// CausalConv1dOp
//===----------------------------------------------------------------------===//

LogicalResult CausalConv1dOp::verify() {
  auto type = getX().getType();
  SmallVector<Dim> sym =
      activationShape(getLayout(), ShapedType::kDynamic, ShapedType::kDynamic,
                      ShapedType::kDynamic, "C");
  bool cf = getLayout() == Layout::ChannelFirst;
  if (failed(verifyOperand(*this, "x", getX(), sym)) ||
      failed(verifyStaticDims(*this, "x", getX(), sym, {cf ? 1u : 2u})) ||
      failed(verifyElementType(*this, "x", getX(), false)))
    return failure();
  int64_t b = type.getDimSize(0), c = type.getDimSize(cf ? 1 : 2);
  if (failed(verifyConvWeight(*this, "weight", getWeight(), "C", c,
                              /*requireF32=*/false)))
    return failure();
  int64_t k = getWeight().getType().getDimSize(1);
  SmallVector<Dim> state = {{"B", b}, {"C", c}, {"K-1", k - 1}};
  if (failed(verifyChannelVector(*this, "bias", getBias(), "C", c)) ||
      failed(verifyState(*this, "operand", "init", getInit(), state)) ||
      failed(
          verifyState(*this, "result", "final_state", getFinalState(), state)))
    return failure();
  if (getResult().getType() != type)
    return emitOpError() << "result must have the type of 'x' (" << type
                         << "), got " << getResult().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// ScanStepOp
//===----------------------------------------------------------------------===//

LogicalResult ScanStepOp::verify() {
  auto stateType = getState().getType();
  bool mamba2 = stateType.getRank() == 4;
  if (stateType.getRank() != 3 && !mamba2)
    return emitOpError() << "operand 'state' must be [B, D, N] (Mamba-1) or "
                            "[B, H, P, N] (Mamba-2), got "
                         << stateType;
  int64_t b = stateType.getDimSize(0), c = stateType.getDimSize(1);
  int64_t n = stateType.getDimSize(stateType.getRank() - 1);
  StringRef cName = mamba2 ? "H" : "D";
  SmallVector<Dim> stateShape =
      mamba2 ? SmallVector<Dim>{{"B", b},
                                {"H", c},
                                {"P", stateType.getDimSize(2)},
                                {"N", n}}
             : SmallVector<Dim>{{"B", b}, {"D", c}, {"N", n}};
  SmallVector<Dim> xShape(stateShape.begin(), stateShape.end() - 1);
  SmallVector<Dim> deltaShape = {{"B", b}, {cName, c}};
  SmallVector<unsigned> staticDims =
      mamba2 ? SmallVector<unsigned>{1, 2, 3} : SmallVector<unsigned>{1, 2};
  if (failed(verifyState(*this, "operand", "state", getState(), stateShape)) ||
      failed(verifyStaticDims(*this, "state", getState(), stateShape,
                              staticDims)) ||
      failed(verifyOperand(*this, "x", getX(), xShape)) ||
      failed(verifyElementType(*this, "x", getX(), false)) ||
      failed(verifyOperand(*this, "delta", getDelta(), deltaShape)) ||
      failed(verifyElementType(*this, "delta", getDelta(), false)))
    return failure();
  if (mamba2) {
    if (failed(verifyChannelVector(*this, "A", getA(), "H", c)))
      return failure();
  } else if (failed(verifyOperand(*this, "A", getA(), {{"D", c}, {"N", n}})) ||
             failed(verifyElementType(*this, "A", getA(), true))) {
    return failure();
  }
  auto bType = cast<RankedTensorType>(getB().getType());
  int64_t g = bType.getRank() == 3 ? bType.getDimSize(1) : ShapedType::kDynamic;
  SmallVector<Dim> bcShape = {{"B", b}, {"G", g}, {"N", n}};
  if (failed(verifyOperand(*this, "B", getB(), bcShape)) ||
      failed(verifyElementType(*this, "B", getB(), false)) ||
      failed(verifyOperand(*this, "C", getC(), bcShape)) ||
      failed(verifyElementType(*this, "C", getC(), false)))
    return failure();
  if (ShapedType::isDynamic(g) || g <= 0 || c % g != 0)
    return emitOpError() << "operand 'B' has " << formatSize(g)
                         << " groups, which must be static and divide " << cName
                         << " = " << c;
  if (failed(verifyChannelVector(*this, "skip", getD(), cName, c)) ||
      failed(verifyChannelVector(*this, "bias", getDeltaBias(), cName, c)) ||
      failed(verifyResult(*this, "y", getY(), xShape)) ||
      failed(verifyElementType(*this, "y", getY(), false, getX())))
    return failure();
  if (getZ() &&
      (failed(verifyOperand(*this, "gate", getZ(), xShape)) ||
       failed(verifyElementType(*this, "gate", getZ(), false, getX()))))
    return failure();
  if (getNewState().getType() != stateType)
    return emitOpError() << "result 'new_state' must have the type of 'state' ("
                         << stateType << "), got " << getNewState().getType();
  return success();
}

LogicalResult SplitLengthOp::verify() {
  std::optional<uint64_t> fill = getFill();
  if (!fill)
    return success();
  // libssmrt's bound on the manifest's `fill`.
  if (*fill > 64)
    return emitOpError("fill ") << *fill << " exceeds 64 blocks an SM";
  if (getWaves() != 3)
    return emitOpError("takes waves or fill, not both: fill replaces the "
                       "wave rule");
  return success();
}

LogicalResult WorkerCountOp::verify() {
  if (getUnits().empty())
    return emitOpError("needs at least one factor of the unit count");
  return success();
}

#define GET_OP_CLASSES
#include "ssmc/Dialect/SSM/SSMOps.cpp.inc"
