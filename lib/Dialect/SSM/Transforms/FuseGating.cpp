//===- FuseGating.cpp - Fold skip and gate epilogues into scans -*- C++ -*-===//
//
// Folds ssm.skip (y + D·u) and ssm.gate (y·silu(z)) into the
// ssm.selective_scan that produces y, so the epilogue runs on values still in
// registers and only the final output is written.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Dialect/SSM/Passes.h"
#include "ssmc/Dialect/SSM/SSMOps.h"

#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::ssm {
#define GEN_PASS_DEF_SSMFUSEGATINGPASS
#include "ssmc/Dialect/SSM/SSMPasses.h.inc"
} // namespace mlir::ssm

using namespace mlir;
using namespace mlir::ssm;

/// The scan producing `y` if `y` is its only use, else null.
static SelectiveScanOp getSoleProducer(Value y) {
  auto scan = y.getDefiningOp<SelectiveScanOp>();
  if (!scan || scan.getY() != y || !y.hasOneUse())
    return {};
  return scan;
}

/// True if `value` dominates `op`, so that `op` may take it as an operand.
static bool isAvailableAt(Value value, Operation *op) {
  return DominanceInfo().properlyDominates(value, op);
}

namespace {
/// skip(selective_scan(u, ...), u, D) -> selective_scan(u, ..., skip D).
struct FuseSkip : OpRewritePattern<SkipOp> {
  FuseSkip(MLIRContext *ctx, llvm::Statistic &numFused)
      : OpRewritePattern(ctx), numFused(numFused) {}

  LogicalResult matchAndRewrite(SkipOp skip,
                                PatternRewriter &rewriter) const override {
    SelectiveScanOp scan = getSoleProducer(skip.getY());
    if (!scan)
      return rewriter.notifyMatchFailure(skip, "y is not a scan's sole use");
    if (scan.getD() || scan.getZ())
      return rewriter.notifyMatchFailure(
          skip, "the scan already has a skip or a gate (which comes after)");
    if (scan.getU() != skip.getU() || scan.getLayout() != skip.getLayout())
      return rewriter.notifyMatchFailure(skip, "skip input differs from u");
    // A skip takes any multiple of u's channels (a cross scan's directions
    // share u); the scan's D has one entry for each of its channels.
    if (skip.getD().getType().getDimSize(0) != scan.getNumChannels())
      return rewriter.notifyMatchFailure(
          skip, "D does not have an entry for each of the scan's channels");
    if (!isAvailableAt(skip.getD(), scan))
      return rewriter.notifyMatchFailure(skip, "D is defined after the scan");
    rewriter.modifyOpInPlace(scan,
                             [&] { scan.getDMutable().assign(skip.getD()); });
    rewriter.replaceOp(skip, scan.getY());
    ++numFused;
    return success();
  }

  llvm::Statistic &numFused;
};

/// gate(selective_scan(...), z) -> selective_scan(..., gate z).
struct FuseGate : OpRewritePattern<GateOp> {
  FuseGate(MLIRContext *ctx, llvm::Statistic &numFused)
      : OpRewritePattern(ctx), numFused(numFused) {}

  LogicalResult matchAndRewrite(GateOp gate,
                                PatternRewriter &rewriter) const override {
    SelectiveScanOp scan = getSoleProducer(gate.getY());
    if (!scan)
      return rewriter.notifyMatchFailure(gate, "y is not a scan's sole use");
    if (scan.getZ())
      return rewriter.notifyMatchFailure(gate, "the scan is already gated");
    if (!isAvailableAt(gate.getZ(), scan))
      return rewriter.notifyMatchFailure(gate, "z is defined after the scan");
    rewriter.modifyOpInPlace(scan,
                             [&] { scan.getZMutable().assign(gate.getZ()); });
    rewriter.replaceOp(gate, scan.getY());
    ++numFused;
    return success();
  }

  llvm::Statistic &numFused;
};

struct SSMFuseGatingPass : ssm::impl::SSMFuseGatingPassBase<SSMFuseGatingPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseSkip, FuseGate>(&getContext(), numFused);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
