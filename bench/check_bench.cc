// check_bench: how long `duetc check` takes, side by side with the floors
// under it, on a generated 10,000-line map file and on the repository's own
// map files (stdlib-maps/ and examples/).
//
// What each benchmark measures (all through the public front end, so they
// see exactly what `duetc check` sees):
//   ReadAndCountLines       read the file from disk and count lines: the floor
//   CheckSource/NulAtEnd    load + UTF-8/NUL scan of every byte (stops at a
//                           NUL in the last line): no lexing
//   CheckSource/BadCharLine1  + lexing the whole file and scanning its tokens;
//                           a stray character on line 1 stops it before parsing
//   CheckSource/SyntaxErrorLine1  + the parse-error path: the fast SLL parse
//                           bails on line 1, then the full LL parse with error
//                           recovery runs over the whole file
//   CheckSource/Clean       + parse, AST, and the checker: a complete check
//   CheckPaths/Generated    duetc check's work on the file on disk, rendering
//                           included: the figure the issue's goal is about
//   CheckPaths/Repository   the same for each module of the repository, as
//                           scripts/demo.sh checks them: stdlib-maps/ and
//                           each examples/*/ directory (imports included)
// Setup verifies that each input produces exactly the diagnostics its
// benchmark assumes (the clean file: none at all) and aborts otherwise.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bench/map_generator.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

#ifndef DUET_SOURCE_DIR
#error "DUET_SOURCE_DIR must name the repository root"
#endif

namespace duet::bench {
namespace {

namespace fs = std::filesystem;

constexpr size_t kGeneratedLines = 10'000;

[[noreturn]] void Abort(const std::string& message) {
  std::fprintf(stderr, "check_bench: %s\n", message.c_str());
  std::exit(1);
}

std::string Rendered(const frontend::Result& result) {
  return diag::RenderText(result.diagnostics, result.sources, diag::RenderOptions{});
}

// The same options as `duetc check` (unused-name warnings on).
const frontend::Options& CheckOptions() {
  static const frontend::Options options;
  return options;
}

// The inputs, built once and verified before any benchmark runs.
struct Inputs {
  std::string clean;               // the generated file
  std::string nul_at_end;          // ... with a NUL byte in its last line
  std::string bad_char_line1;      // ... with a stray '@' on line 1
  std::string syntax_error_line1;  // ... with a missing ';' on line 1
  fs::path clean_path;             // `clean` written to a temporary file
  // The repository's modules: stdlib-maps/ and each examples/*/ directory.
  std::vector<std::string> repository_modules;
  size_t repository_files = 0;  // loaded per run, imports included
  size_t repository_bytes = 0;
  size_t repository_lines = 0;

  ~Inputs() {
    std::error_code ec;
    if (!clean_path.empty()) fs::remove(clean_path, ec);
  }
};

// Checks `text` and aborts unless the diagnostics are exactly `codes`.
void Expect(const std::string& what, const std::string& text,
            const std::vector<std::string>& codes) {
  std::unique_ptr<frontend::Result> result =
      frontend::CheckSource("generated.duet", text, CheckOptions());
  std::vector<std::string> got;
  for (const diag::Diagnostic& d : result->diagnostics.all()) got.emplace_back(d.code());
  if (got != codes) {
    Abort(fmt::format("the {} input does not give the diagnostics [{}] the benchmark assumes:\n{}",
                      what, fmt::join(codes, ", "), Rendered(*result)));
  }
}

// Replaces the first occurrence of `from` in `text`, which must exist.
std::string ReplaceFirst(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) Abort("generator output lacks '" + from + "'");
  return text.replace(at, from.size(), to);
}

const Inputs& GetInputs() {
  static const Inputs* inputs = [] {
    auto* in = new Inputs;
    in->clean = GenerateMapFile(kGeneratedLines);
    if (CountLines(in->clean) != kGeneratedLines)
      Abort("the generated file has the wrong number of lines");
    // Every variant has the clean file's size and token count (give or take
    // one), so the differences between them are the stages they reach.
    const std::string first = "system fo \"Finance and Operations\";";
    in->bad_char_line1 = ReplaceFirst(in->clean, first, "system fo \"Finance and Operations\"@");
    in->syntax_error_line1 =
        ReplaceFirst(in->clean, first, "system fo \"Finance and Operations\" fo;");
    in->nul_at_end = in->clean;
    in->nul_at_end.back() = '\0';

    Expect("clean", in->clean, {});
    Expect("bad-character", in->bad_char_line1, {"E0103"});
    Expect("NUL-byte", in->nul_at_end, {"E0004"});
    std::unique_ptr<frontend::Result> syntax =
        frontend::CheckSource("generated.duet", in->syntax_error_line1, CheckOptions());
    if (syntax->diagnostics.all().empty() || syntax->diagnostics.all()[0].code() != "E0100" ||
        syntax->diagnostics.all()[0].range.begin.line != 4) {
      Abort("the syntax-error input does not fail on its first declaration:\n" + Rendered(*syntax));
    }

    char path[] = "/tmp/duet-check-bench-XXXXXX.duet";
    int fd = mkstemps(path, 5);
    if (fd < 0) Abort("cannot create a temporary file");
    close(fd);
    in->clean_path = path;
    std::ofstream(in->clean_path, std::ios::binary) << in->clean;

    auto has_map_files = [](const fs::path& dir) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".duet") return true;
      }
      return false;
    };
    const fs::path root(DUET_SOURCE_DIR);
    if (has_map_files(root / "stdlib-maps"))
      in->repository_modules.push_back((root / "stdlib-maps").string());
    std::error_code ec;
    std::vector<std::string> examples;
    for (const auto& entry : fs::directory_iterator(root / "examples", ec)) {
      if (entry.is_directory() && has_map_files(entry.path()))
        examples.push_back(entry.path().string());
    }
    std::sort(examples.begin(), examples.end());
    in->repository_modules.insert(in->repository_modules.end(), examples.begin(), examples.end());
    // Size what the front end loads, imported files included.
    for (const std::string& module : in->repository_modules) {
      std::unique_ptr<frontend::Result> result =
          frontend::CheckPaths(std::span(&module, 1), CheckOptions());
      for (size_t f = 0; f < result->sources.size(); ++f) {
        const std::string& text = result->sources.file(static_cast<diag::FileId>(f)).contents();
        in->repository_bytes += text.size();
        in->repository_lines += CountLines(text);
      }
      in->repository_files += result->sources.size();
    }
    return in;
  }();
  return *inputs;
}

void SetThroughput(benchmark::State& state, size_t bytes, size_t lines) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["lines/s"] =
      benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ReadAndCountLines(benchmark::State& state) {
  const Inputs& in = GetInputs();
  for (auto _ : state) {
    std::ifstream file(in.clean_path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    benchmark::DoNotOptimize(lines);
  }
  SetThroughput(state, in.clean.size(), kGeneratedLines);
}
BENCHMARK(BM_ReadAndCountLines)
    ->Name("ReadAndCountLines/Generated10k")
    ->Unit(benchmark::kMillisecond);

// CheckSource on one of the inputs; `Inputs::*member` picks it.
void BM_CheckSource(benchmark::State& state, std::string Inputs::*member) {
  const Inputs& in = GetInputs();
  const std::string& text = in.*member;
  size_t diagnostics = 0;
  for (auto _ : state) {
    std::unique_ptr<frontend::Result> result =
        frontend::CheckSource("generated.duet", text, CheckOptions());
    diagnostics = result->diagnostics.all().size();
    benchmark::DoNotOptimize(result);
  }
  state.counters["diagnostics"] = static_cast<double>(diagnostics);
  SetThroughput(state, text.size(), kGeneratedLines);
}
BENCHMARK_CAPTURE(BM_CheckSource, NulAtEnd, &Inputs::nul_at_end)
    ->Name("CheckSource/NulAtEnd")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CheckSource, BadCharLine1, &Inputs::bad_char_line1)
    ->Name("CheckSource/BadCharLine1")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CheckSource, SyntaxErrorLine1, &Inputs::syntax_error_line1)
    ->Name("CheckSource/SyntaxErrorLine1")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CheckSource, Clean, &Inputs::clean)
    ->Name("CheckSource/Clean")
    ->Unit(benchmark::kMillisecond);

// What `duetc check MODULE` does for each module, minus process start-up
// and writing to the terminal: load from disk, check, render.
void RunCheckPaths(benchmark::State& state, const std::vector<std::string>& modules, size_t bytes,
                   size_t lines) {
  size_t errors = 0;
  for (auto _ : state) {
    errors = 0;
    for (const std::string& module : modules) {
      std::unique_ptr<frontend::Result> result =
          frontend::CheckPaths(std::span(&module, 1), CheckOptions());
      std::string text =
          diag::RenderText(result->diagnostics, result->sources, diag::RenderOptions{});
      errors += result->diagnostics.error_count();
      benchmark::DoNotOptimize(text);
    }
  }
  state.counters["errors"] = static_cast<double>(errors);
  SetThroughput(state, bytes, lines);
}

void BM_CheckPathsGenerated(benchmark::State& state) {
  const Inputs& in = GetInputs();
  RunCheckPaths(state, {in.clean_path.string()}, in.clean.size(), kGeneratedLines);
}
BENCHMARK(BM_CheckPathsGenerated)->Name("CheckPaths/Generated10k")->Unit(benchmark::kMillisecond);

void BM_CheckPathsRepository(benchmark::State& state) {
  const Inputs& in = GetInputs();
  if (in.repository_modules.empty()) {
    state.SkipWithError("no *.duet files in stdlib-maps/ or examples/");
    return;
  }
  state.counters["modules"] = static_cast<double>(in.repository_modules.size());
  state.counters["files"] = static_cast<double>(in.repository_files);
  RunCheckPaths(state, in.repository_modules, in.repository_bytes, in.repository_lines);
}
BENCHMARK(BM_CheckPathsRepository)->Name("CheckPaths/Repository")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace duet::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Build and verify the inputs before timing anything, so a broken
  // generator fails loudly instead of producing meaningless figures.
  const duet::bench::Inputs& inputs = duet::bench::GetInputs();
  std::fprintf(
      stderr,
      "check_bench: generated %zu lines (%zu bytes); repository: %zu modules loading %zu files, "
      "%zu lines\n",
      duet::bench::CountLines(inputs.clean), inputs.clean.size(), inputs.repository_modules.size(),
      inputs.repository_files, inputs.repository_lines);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
