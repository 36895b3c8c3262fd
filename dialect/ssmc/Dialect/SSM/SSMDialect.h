//===- SSMDialect.h - SSM dialect -------------------------------*- C++ -*-===//
//
// The ssm dialect, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef SSMC_DIALECT_SSM_SSMDIALECT_H
#define SSMC_DIALECT_SSM_SSMDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Dialect.h"

#include "ssmc/Dialect/SSM/SSMOpsDialect.h.inc"

#include "ssmc/Dialect/SSM/SSMEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ssmc/Dialect/SSM/SSMAttrs.h.inc"

#endif // SSMC_DIALECT_SSM_SSMDIALECT_H
