//===- FuseConv.cpp - Fold ssm.causal_conv1d into its scan ------*- C++ -*-===//
//
// Rewrites an ssm.selective_scan whose input u is an ssm.causal_conv1d into
// one scan over the conv's input with the conv folded in, so that the conv's
// output never reaches memory.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::ssm {
#define GEN_PASS_DEF_SSMFUSECONVPASS
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"
} // namespace mlir::ssm

using namespace mlir;
using namespace mlir::ssm;

namespace {
/// selective_scan(causal_conv1d(x, w, bias), ...) ->
/// selective_scan(x, ..., conv w conv_bias bias).
struct FuseConvIntoScan : OpRewritePattern<SelectiveScanOp> {
  FuseConvIntoScan(MLIRContext *ctx, llvm::Statistic &numFused)
      : OpRewritePattern(ctx), numFused(numFused) {}

  LogicalResult matchAndRewrite(SelectiveScanOp scan,
                                PatternRewriter &rewriter) const override {
    auto conv = scan.getU().getDefiningOp<CausalConv1dOp>();
    if (!conv)
      return rewriter.notifyMatchFailure(scan, "u is not a conv1d's output");
    if (scan.getConvWeight())
      return rewriter.notifyMatchFailure(scan, "the scan already has a conv");
    if (conv.getInit() || conv.getFinalState())
      return rewriter.notifyMatchFailure(
          scan, "the conv has conv states, which the scan does not carry");
    if (conv.getLayout() != Layout::ChannelFirst ||
        scan.getLayout() != Layout::ChannelFirst || scan.getReverse() ||
        scan.getNumDirections() != 1)
      return rewriter.notifyMatchFailure(
          scan, "only a forward, one-direction, channel-first scan folds a "
                "conv");
    if (!getElementTypeOrSelf(conv.getWeight().getType()).isF32() ||
        (conv.getBias() &&
         !getElementTypeOrSelf(conv.getBias().getType()).isF32()))
      return rewriter.notifyMatchFailure(scan, "conv weights are not f32");
    if (!conv.getResult().hasOneUse())
      return rewriter.notifyMatchFailure(
          scan, "the conv's output has other users (an unfused skip?)");

    rewriter.modifyOpInPlace(scan, [&] {
      scan.getUMutable().assign(conv.getX());
      scan.getConvWeightMutable().assign(conv.getWeight());
      if (Value bias = conv.getBias())
        scan.getConvBiasMutable().assign(bias);
      scan.setConvSilu(conv.getActivation() == Activation::Silu);
    });
    rewriter.eraseOp(conv);
    ++numFused;
    return success();
  }

  llvm::Statistic &numFused;
};

struct SSMFuseConvPass : ssm::impl::SSMFuseConvPassBase<SSMFuseConvPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConvIntoScan>(&getContext(), numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
