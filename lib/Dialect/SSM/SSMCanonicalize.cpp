//===- SSMCanonicalize.cpp - Canonicalization of the ssm ops ----*- C++ -*-===//
//
// Canonicalization patterns of the ops that carry a state (ssm.scan,
// ssm.selective_scan, ssm.ssd_chunk, ssm.causal_conv1d): a last state
// nothing reads is not computed, and an optional operand that is a constant
// zero where its absence means exactly the same (an initial state, a Δ or
// conv bias) is dropped. Both save the kernel memory traffic: the state
// store, or the loads of zeros. A zero D skip stays: D·u is NaN, not 0,
// where u is not finite.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::ssm;

/// The optional operands of each op that mean "zero" when absent.
static SmallVector<MutableOperandRange> zeroWhenAbsent(ScanOp op) {
  return {op.getInitMutable()};
}
static SmallVector<MutableOperandRange> zeroWhenAbsent(SelectiveScanOp op) {
  return {op.getInitMutable(), op.getDeltaBiasMutable(),
          op.getConvBiasMutable()};
}
static SmallVector<MutableOperandRange> zeroWhenAbsent(SSDChunkOp op) {
  return {op.getInitMutable(), op.getDtBiasMutable()};
}
static SmallVector<MutableOperandRange> zeroWhenAbsent(CausalConv1dOp op) {
  return {op.getBiasMutable(), op.getInitMutable()};
}

namespace {

/// Rebuilds an op without its second result, the last state, when that has
/// no uses.
template <typename OpTy> struct DropUnusedLastState : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (op->getNumResults() != 2 || !op->getResult(1).use_empty())
      return rewriter.notifyMatchFailure(op, "no unused last state");
    OperationState state(op.getLoc(), op->getName(), op->getOperands(),
                         op->getResult(0).getType(), op->getAttrs());
    Operation *rebuilt = rewriter.create(state);
    rewriter.replaceAllUsesWith(op->getResult(0), rebuilt->getResult(0));
    rewriter.eraseOp(op);
    return success();
  }
};

/// Removes the operands of `zeroWhenAbsent` that are constant zero splats.
template <typename OpTy> struct DropZeroOperands : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    bool changed = false;
    // Clearing one operand moves the later ones: take the ranges anew.
    for (size_t i = 0, e = zeroWhenAbsent(op).size(); i < e; ++i) {
      MutableOperandRange operand = zeroWhenAbsent(op)[i];
      if (operand.empty() || !matchPattern(operand[0].get(), m_AnyZeroFloat()))
        continue;
      rewriter.modifyOpInPlace(op, [&] { operand.clear(); });
      changed = true;
    }
    if (!changed)
      return rewriter.notifyMatchFailure(
          op, "no optional operand is a constant zero");
    return success();
  }
};

} // namespace

void ScanOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                         MLIRContext *context) {
  patterns.add<DropUnusedLastState<ScanOp>, DropZeroOperands<ScanOp>>(context);
}

void SelectiveScanOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                                  MLIRContext *context) {
  patterns.add<DropUnusedLastState<SelectiveScanOp>,
               DropZeroOperands<SelectiveScanOp>>(context);
}

void SSDChunkOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                             MLIRContext *context) {
  patterns.add<DropUnusedLastState<SSDChunkOp>, DropZeroOperands<SSDChunkOp>>(
      context);
}

void CausalConv1dOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                                 MLIRContext *context) {
  patterns.add<DropUnusedLastState<CausalConv1dOp>,
               DropZeroOperands<CausalConv1dOp>>(context);
}
