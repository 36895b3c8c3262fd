//===- ssm-opt.cpp - The ssmc optimizer driver ------------------*- C++ -*-===//
//
// mlir-opt for ssmc: the ssm dialect and the upstream dialects and passes its
// lowering uses, for running any pipeline step and for lit tests.
//
//===----------------------------------------------------------------------===//

#include "ssmc/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::ssm::registerSSMCDialects(registry);
  mlir::ssm::registerSSMCPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ssmc optimizer driver\n", registry));
}
