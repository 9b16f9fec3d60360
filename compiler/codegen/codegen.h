// Code generation: ir::Module -> LLVM IR for LLVM 16 -> optimised bitcode.
// One function per transform, named Transform::SymbolName(), with the
// duet_transform_fn signature of runtime/abi/duet/abi.h. Operations that are
// not a few instructions (decimals, strings, dates, conversions) call the
// runtime helpers of runtime/jit/helpers.h by name. The semantics are the
// reference interpreter's (compiler/interp), operation for operation.
// LLVM types never leave this folder: the output is bytes.
#ifndef DUET_COMPILER_CODEGEN_CODEGEN_H_
#define DUET_COMPILER_CODEGEN_CODEGEN_H_

#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/ir.h"
#include "runtime/base/status.h"

namespace duet::codegen {

struct Options {
  // 0: no optimisation (fast compiles, for debugging); 2: the default.
  int opt_level = 2;
  // Constant strings added to the module as NUL-terminated external
  // globals, (symbol, text): the bundler gives each transform's layout
  // (bundle::LayoutText) this way, for the runtime to check the manifest
  // against the code.
  std::vector<std::pair<std::string, std::string>> constants;
};

// Bitcode of one LLVM module holding every transform of `module`, for the
// host's target triple.
Expected<std::string> EmitBitcode(const ir::Module& module, const Options& options);

// Object code (ELF) of the same module for the host triple and a generic CPU
// of its architecture, so the runtime can load it without code generation.
Expected<std::string> EmitObject(const ir::Module& module, const Options& options);

// The same module as LLVM assembly text (for `duetc dump --llvm`).
Expected<std::string> EmitAssembly(const ir::Module& module, const Options& options);

// The target triple code is generated for (the host's).
std::string TargetTriple();

}  // namespace duet::codegen

#endif  // DUET_COMPILER_CODEGEN_CODEGEN_H_
