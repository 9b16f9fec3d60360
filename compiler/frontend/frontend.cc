#include "compiler/frontend/frontend.h"

namespace duet::frontend {
namespace {

// Semantic checks run only on a module that parsed cleanly: a file that did
// not parse would make every name it declares look unknown.
void Finish(Result& result, const Options& options) {
  if (!result.diagnostics.has_errors()) {
    result.checked = check::Check(result.module, options.check, result.diagnostics);
  }
  result.diagnostics.Sort(result.sources);
}

}  // namespace

std::unique_ptr<Result> CheckPaths(std::span<const std::string> paths, const Options& options) {
  auto result = std::make_unique<Result>();
  result->module = syntax::LoadModule(paths, options.load, result->sources, result->diagnostics);
  Finish(*result, options);
  return result;
}

std::unique_ptr<Result> CheckSource(const std::string& path, std::string contents,
                                    const Options& options) {
  auto result = std::make_unique<Result>();
  result->module = syntax::LoadSource(path, std::move(contents), options.load, result->sources,
                                      result->diagnostics);
  Finish(*result, options);
  return result;
}

}  // namespace duet::frontend
