//===- FuseDiscretize.cpp - Fold ssm.discretize into its scan ---*- C++ -*-===//
//
// Rewrites ssm.scan over the results of ssm.discretize into one
// ssm.selective_scan, so that the discretized parameters live only in
// registers of the scan kernel.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::ssm {
#define GEN_PASS_DEF_SSMFUSEDISCRETIZEPASS
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"
} // namespace mlir::ssm

using namespace mlir;
using namespace mlir::ssm;

namespace {
/// scan(discretize(Δ, A, B), u, C) -> selective_scan(u, Δ, A, B, C).
struct FuseDiscretizeIntoScan : OpRewritePattern<ScanOp> {
  FuseDiscretizeIntoScan(MLIRContext *ctx, llvm::Statistic &numFused)
      : OpRewritePattern(ctx), numFused(numFused) {}

  LogicalResult matchAndRewrite(ScanOp scan,
                                PatternRewriter &rewriter) const override {
    auto disc = scan.getAbar().getDefiningOp<DiscretizeOp>();
    if (!disc || scan.getBbar() != disc.getBbar() ||
        scan.getAbar() != disc.getAbar())
      return rewriter.notifyMatchFailure(
          scan, "abar and bbar do not come from one ssm.discretize");
    if (disc.getMode() != DiscretizeMode::ZohSimplified)
      return rewriter.notifyMatchFailure(
          scan, "only the simplified ZOH discretization has a fused scan");
    if (disc.getLayout() != scan.getLayout())
      return rewriter.notifyMatchFailure(scan, "layouts differ");
    // The fused op reads Δ and B at the precision of u (B also as f32).
    Type uElem = getElementTypeOrSelf(scan.getU().getType());
    Type bElem = getElementTypeOrSelf(disc.getB().getType());
    if (getElementTypeOrSelf(disc.getDelta().getType()) != uElem ||
        (bElem != uElem && !bElem.isF32()))
      return rewriter.notifyMatchFailure(
          scan, "delta or B has an element type the fused scan cannot take");
    // A bidirectional or cross scan's B holds each direction's groups.
    if (!splitsIntoDirections(disc.getB().getType(), disc.getLayout(),
                              scan.getNumDirections()))
      return rewriter.notifyMatchFailure(
          scan, "B's groups do not split into the scan's directions");
    if (!haveSameGroups(disc.getB().getType(), scan.getC().getType(),
                        scan.getLayout()))
      return rewriter.notifyMatchFailure(scan,
                                         "B and C have different group counts");
    if (!llvm::all_of(disc->getUsers(),
                      [&](Operation *user) { return user == scan; }))
      return rewriter.notifyMatchFailure(
          scan, "the discretized tensors have other users");

    Type lastStateType =
        scan.getLastState() ? scan.getLastState().getType() : Type();
    auto fused = SelectiveScanOp::create(
        rewriter, scan.getLoc(), scan.getY().getType(), lastStateType,
        scan.getU(), disc.getDelta(), disc.getA(), disc.getB(), scan.getC(),
        /*D=*/Value(), /*z=*/Value(), disc.getDeltaBias(), scan.getInit(),
        /*conv_weight=*/Value(), /*conv_bias=*/Value(), scan.getLayout(),
        scan.getReverse(), scan.getBidirectional(), scan.getCrossScanAttr(),
        disc.getDeltaSoftplus(), /*tile=*/TileAttr(), /*conv_silu=*/false);
    rewriter.replaceOp(scan, fused->getResults());
    rewriter.eraseOp(disc);
    ++numFused;
    return success();
  }

  llvm::Statistic &numFused;
};

struct SSMFuseDiscretizePass
    : ssm::impl::SSMFuseDiscretizePassBase<SSMFuseDiscretizePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseDiscretizeIntoScan>(&getContext(), numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
