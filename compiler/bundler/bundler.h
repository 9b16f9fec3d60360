// Bundling: a checked module -> the contents of a bundle file (manifest,
// bitcode, object code). The container format itself lives in
// runtime/bundle, next to its reader.
#ifndef DUET_COMPILER_BUNDLER_BUNDLER_H_
#define DUET_COMPILER_BUNDLER_BUNDLER_H_

#include <string>
#include <vector>

#include "compiler/codegen/codegen.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/ir.h"
#include "runtime/base/status.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"

namespace duet::bundler {

inline constexpr const char* kCompilerVersion = "duetc 0.1.0";

struct Options {
  codegen::Options codegen;
  // Object code for the build machine's triple, so loading skips code
  // generation; bitcode is always included.
  bool include_object = true;
  // Not empty: bundle only these maps and what they need (selection.h).
  std::vector<std::string> maps;
};

// The manifest of a module that checked without errors. Deterministic: it
// depends only on the sources (paths as given) and the compiler.
bundle::Manifest MakeManifest(const frontend::Result& result, const ir::Module& module);

Expected<bundle::Contents> Build(const frontend::Result& result, const Options& options);

}  // namespace duet::bundler

#endif  // DUET_COMPILER_BUNDLER_BUNDLER_H_
