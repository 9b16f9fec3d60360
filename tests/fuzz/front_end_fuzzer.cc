// libFuzzer entry point: the input bytes are one map file, checked exactly as
// `duetc check` would check it (imports not followed, so an input cannot make
// the loader read other files), then rendered as text and as JSON so the
// renderers see every diagnostic the front end can produce.
//
// Besides the sanitizers, the target checks a few contracts of the front end
// and aborts (a crash libFuzzer reports) when one does not hold:
//   - ok() agrees with the error count, and a checked model exists when ok();
//   - diagnostics are sorted (frontend.h promises it);
//   - the text form is empty exactly when there is nothing to report;
//   - the JSON form is well-formed JSON whose counts match.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

namespace {

using duet::diag::Diagnostic;

[[noreturn]] void Violated(const char* contract) {
  std::fprintf(stderr, "front_end_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

void Require(bool holds, const char* contract) {
  if (!holds) Violated(contract);
}

const duet::frontend::Options& FuzzOptions() {
  static const duet::frontend::Options options = [] {
    duet::frontend::Options o;
    o.load.follow_imports = false;
    return o;
  }();
  return options;
}

void CheckSorted(const duet::frontend::Result& result) {
  const auto& all = result.diagnostics.all();
  for (size_t i = 1; i < all.size(); ++i) {
    const Diagnostic& a = all[i - 1];
    const Diagnostic& b = all[i];
    if (a.range.valid() != b.range.valid()) {
      Require(!a.range.valid(), "diagnostics without a file come first");
      continue;
    }
    if (!a.range.valid()) continue;
    const std::string& pa = result.sources.file(a.range.file).path();
    const std::string& pb = result.sources.file(b.range.file).path();
    if (pa != pb) {
      Require(pa < pb, "diagnostics are sorted by path");
      continue;
    }
    Require(!(b.range.begin < a.range.begin), "diagnostics are sorted by position");
    if (a.range.begin == b.range.begin)
      Require(a.code() <= b.code(), "diagnostics are sorted by code");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string contents(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<duet::frontend::Result> result =
      duet::frontend::CheckSource("fuzz.duet", std::move(contents), FuzzOptions());

  const duet::diag::Diagnostics& diagnostics = result->diagnostics;
  Require(result->ok() == (diagnostics.error_count() == 0), "ok() agrees with the error count");
  Require(!result->ok() || result->checked.has_value(), "a clean module has a checked model");
  CheckSorted(*result);

  // The AST printers run over whatever parsed.
  std::string dump = duet::ast::DumpModule(result->module);

  duet::diag::RenderOptions capped;  // default cap, as duetc prints
  capped.color = true;
  std::string text = duet::diag::RenderText(diagnostics, result->sources, capped);
  Require(text.empty() == diagnostics.all().empty(),
          "text is empty exactly when nothing is reported");

  duet::diag::RenderOptions all;
  all.max_diagnostics = 0;
  std::string json = duet::diag::RenderJson(diagnostics, result->sources, all);
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  Require(!parsed.is_discarded(), "JSON output parses");
  Require(parsed["diagnostics"].size() == diagnostics.all().size(), "JSON lists every diagnostic");
  Require(parsed["errors"] == diagnostics.error_count(), "JSON error count");
  Require(parsed["omitted"] == 0, "nothing omitted without a cap");
  return 0;
}
