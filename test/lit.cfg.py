# -*- Python -*-
# lit configuration of the ssmc IR tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SSMC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.ssmc_obj_root, "test")
# Unit and GPU tests run elsewhere (ctest, test/gpu/run.sh); inputs are data.
config.excludes = ["lit.cfg.py", "unit", "gpu", "Inputs", "CMakeLists.txt", "extract-ptx.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%ssmc_src_root", config.ssmc_src_root))
config.substitutions.append(("%cuda_root", config.cuda_toolkit_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not` and `count` starting a RUN line are looked up on PATH (as in upstream
# MLIR's lit.cfg.py); Debian keeps them in the LLVM tools directory.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.ssmc_tools_dir, config.llvm_tools_dir]
tools = ["ssm-opt", ToolSubst("ssmc", unresolved="ignore"), "ssm-tune"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# ptxas assembles the emitted PTX where the CUDA toolkit is installed.
ptxas = os.path.join(config.cuda_toolkit_root, "bin", "ptxas")
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
