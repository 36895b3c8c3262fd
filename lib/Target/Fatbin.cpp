//===- Fatbin.cpp - Bundle GPU objects into a fatbin ------------*- C++ -*-===//
//
// Bundles the cubins and PTX of serializeGPUModule with the CUDA toolkit's
// `fatbinary`, so one file serves every target and the driver picks the
// image matching the device (or JITs the PTX).
//
//===----------------------------------------------------------------------===//

#include "ssmc/Target/Target.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::ssm;

/// Writes `data` to a fresh temporary file named after `stem`.
static llvm::Expected<std::string>
writeTemp(llvm::StringRef stem, llvm::StringRef suffix, llvm::StringRef data) {
  llvm::SmallString<128> path;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile(stem, suffix, fd, path))
    return llvm::createStringError(ec, "cannot create a temporary file");
  llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
  os << data;
  os.close();
  if (os.has_error())
    return llvm::createStringError(os.error(), "cannot write '%s'",
                                   path.c_str());
  return std::string(path);
}

const GPUObject *mlir::ssm::selectForwardPTX(llvm::ArrayRef<GPUObject> ptx) {
  // Orders "sm_<number>[a]" by the number, then the portable form first.
  auto rank = [](const GPUObject &object) {
    llvm::StringRef chip(object.chip);
    chip.consume_front("sm_");
    unsigned sm = 0;
    chip.take_while(llvm::isDigit).getAsInteger(10, sm);
    return std::make_pair(sm, !chip.ends_with("a"));
  };
  const GPUObject *best = nullptr;
  for (const GPUObject &object : ptx)
    if (!best || rank(*best) < rank(object))
      best = &object;
  return best;
}

llvm::Expected<std::string>
mlir::ssm::buildFatbin(llvm::ArrayRef<GPUObject> objects,
                       llvm::StringRef toolkitPath) {
  llvm::SmallString<128> tool(toolkitPath);
  llvm::sys::path::append(tool, "bin", "fatbinary");
  if (!llvm::sys::fs::can_execute(tool))
    return llvm::createStringError(
        "'%s' not found: install the CUDA toolkit or pass --cuda-path",
        tool.c_str());

  std::vector<std::string> temps;
  llvm::scope_exit cleanup([&] {
    for (const std::string &path : temps)
      llvm::sys::fs::remove(path);
  });
  std::vector<std::string> args = {tool.str().str(), "-64"};
  for (const GPUObject &object : objects) {
    bool ptx = object.format == "isa";
    auto path = writeTemp("ssmc", ptx ? "ptx" : "cubin", object.data);
    if (!path)
      return path.takeError();
    temps.push_back(*path);
    llvm::StringRef sm = llvm::StringRef(object.chip).drop_front(3); // sm_
    args.push_back(("--image3=kind=" + llvm::Twine(ptx ? "ptx" : "elf") +
                    ",sm=" + sm + ",file=" + *path)
                       .str());
  }
  auto out = writeTemp("ssmc", "fatbin", "");
  if (!out)
    return out.takeError();
  temps.push_back(*out);
  args.push_back("--create=" + *out);

  std::string message;
  SmallVector<llvm::StringRef> argRefs(args.begin(), args.end());
  int rc = llvm::sys::ExecuteAndWait(tool, argRefs, /*Env=*/std::nullopt,
                                     /*Redirects=*/{}, /*SecondsToWait=*/120,
                                     /*MemoryLimit=*/0, &message);
  if (rc != 0)
    return llvm::createStringError("fatbinary failed (exit code %d%s%s): %s",
                                   rc, message.empty() ? "" : ", ",
                                   message.c_str(),
                                   llvm::join(args, " ").c_str());
  auto buffer = llvm::MemoryBuffer::getFile(*out);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "cannot read '%s'",
                                   out->c_str());
  return (*buffer)->getBuffer().str();
}
