// The front end behind one call: load files (with imports), parse, check.
// The driver, tests, fuzzer and benchmarks all go through here, so they see
// exactly what `duetc check` sees.
#ifndef DUET_COMPILER_FRONTEND_FRONTEND_H_
#define DUET_COMPILER_FRONTEND_FRONTEND_H_

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/check/checker.h"
#include "compiler/check/model.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/source.h"
#include "compiler/syntax/parser.h"

namespace duet::frontend {

struct Options {
  syntax::LoadOptions load;
  check::CheckOptions check;
};

struct Result {
  diag::SourceManager sources;
  diag::Diagnostics diagnostics;  // sorted by position
  ast::Module module;
  // Present when loading and parsing succeeded; complete only when
  // diagnostics has no errors.
  std::optional<check::CheckedModule> checked;

  bool ok() const { return !diagnostics.has_errors(); }
};

// Loads and checks the files and directories in `paths`.
std::unique_ptr<Result> CheckPaths(std::span<const std::string> paths, const Options& options);

// Checks one in-memory file named `path` (imports resolved relative to it).
std::unique_ptr<Result> CheckSource(const std::string& path, std::string contents,
                                    const Options& options);

}  // namespace duet::frontend

#endif  // DUET_COMPILER_FRONTEND_FRONTEND_H_
