// duetc: the map compiler's command line.
//
// Exit codes (stable, for CI): 0 clean (warnings allowed unless --werror),
// 1 errors in map files, 2 usage or I/O problems.
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/bundler/selection.h"
#include "compiler/codegen/codegen.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "compiler/driver/bundle_commands.h"
#include "compiler/driver/diff_command.h"
#include "compiler/driver/docs_command.h"
#include "compiler/driver/test_command.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/lower.h"
#include "compiler/schema/schema.h"

namespace duet::driver {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitErrors = 1;
constexpr int kExitUsage = 2;

constexpr const char* kVersion = "0.1.0";

struct CommonFlags {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string color = "auto";
  size_t max_errors = 50;
  bool werror = false;
  bool no_unused = false;
  bool quiet = false;
};

bool UseColor(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* term = std::getenv("TERM");
  return isatty(STDERR_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr && term != nullptr &&
         std::string(term) != "dumb";
}

// Problems reaching the input are I/O (exit 2), not mistakes in a map file.
bool HasIoError(const diag::Diagnostics& diagnostics) {
  for (const diag::Diagnostic& d : diagnostics.all()) {
    if (d.kind == diag::DiagKind::kCannotReadFile || d.kind == diag::DiagKind::kNoMapFiles)
      return true;
  }
  return false;
}

int ExitCode(const frontend::Result& result, bool werror) {
  if (HasIoError(result.diagnostics)) return kExitUsage;
  if (result.diagnostics.has_errors()) return kExitErrors;
  if (werror && result.diagnostics.warning_count() > 0) return kExitErrors;
  return kExitClean;
}

std::unique_ptr<frontend::Result> RunFrontend(const CommonFlags& flags) {
  frontend::Options options;
  options.check.warn_unused = !flags.no_unused;
  return frontend::CheckPaths(flags.paths, options);
}

int RunCheck(const CommonFlags& flags) {
  std::unique_ptr<frontend::Result> result = RunFrontend(flags);
  diag::RenderOptions render;
  render.max_diagnostics = flags.max_errors;
  if (flags.format == "json") {
    std::cout << diag::RenderJson(result->diagnostics, result->sources, render);
    return ExitCode(*result, flags.werror);
  }
  render.color = UseColor(flags.color);
  std::cerr << diag::RenderText(result->diagnostics, result->sources, render);
  if (!flags.quiet && result->checked && !result->diagnostics.has_errors()) {
    const check::CheckedModule& m = *result->checked;
    auto count = [](size_t n, std::string_view word) {
      return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
    };
    std::cerr << fmt::format("checked {}: {}, {}, {}, {}{}\n",
                             count(result->module.units.size(), "file"),
                             count(m.systems.size(), "system"), count(m.tables.size(), "table"),
                             count(m.maps.size(), "map"), count(m.tests.size(), "test"),
                             result->diagnostics.warning_count() == 0 ? "; no problems" : "");
  }
  return ExitCode(*result, flags.werror);
}

// Prints the AST (always, as far as it parsed) or the IR (only of a module
// without errors: lowering needs a complete checked model).
enum class DumpForm { kAst, kIr, kLlvm };

int RunDump(const CommonFlags& flags, DumpForm form) {
  std::unique_ptr<frontend::Result> result = RunFrontend(flags);
  diag::RenderOptions render;
  render.max_diagnostics = flags.max_errors;
  render.color = UseColor(flags.color);
  std::cerr << diag::RenderText(result->diagnostics, result->sources, render);
  if (form == DumpForm::kAst) {
    std::cout << ast::DumpModule(result->module);
  } else if (result->ok() && result->checked) {
    ir::Module module = ir::Lower(*result->checked);
    if (form == DumpForm::kIr) {
      std::cout << ir::Dump(module);
    } else {
      Expected<std::string> text = codegen::EmitAssembly(module, {});
      if (!text.ok()) {
        std::cerr << "duetc: " << text.status().message() << "\n";
        return kExitUsage;
      }
      std::cout << *text;
    }
  }
  return ExitCode(*result, flags.werror);
}

// Runs `action` on the module when it checks without errors, after printing
// its diagnostics; otherwise the exit code for those.
int RunOnCheckedModule(const CommonFlags& flags,
                       const std::function<int(const frontend::Result&)>& action) {
  std::unique_ptr<frontend::Result> result = RunFrontend(flags);
  diag::RenderOptions render;
  render.max_diagnostics = flags.max_errors;
  render.color = UseColor(flags.color);
  std::cerr << diag::RenderText(result->diagnostics, result->sources, render);
  if (!result->ok() || !result->checked) return ExitCode(*result, false);
  return action(*result);
}

int RunTests(const CommonFlags& flags, bool verbose, bool use_interpreter) {
  return RunOnCheckedModule(flags, [&](const frontend::Result& result) {
    TestSummary summary = RunMapTests(result, std::cout, verbose, !use_interpreter);
    std::cout << fmt::format("{} passed, {} failed\n", summary.passed, summary.failed);
    return summary.failed > 0 ? kExitErrors : kExitClean;
  });
}

// Prints DDL in `dialect_name` for the tables of one system: the
// application schema the maps expect, for demos and tests (docs in README,
// "Trying maps out"). With `maps`, only the tables those maps and the maps
// they need use.
int RunSchema(const CommonFlags& flags, const std::string& system_name,
              const std::vector<std::string>& maps, const std::string& dialect_name) {
  std::optional<schema::Dialect> dialect = schema::ParseDialect(dialect_name);
  if (!dialect) {
    std::cerr << fmt::format("duetc: unknown dialect '{}' (expected sqlite or postgresql)\n",
                             dialect_name);
    return kExitUsage;
  }
  return RunOnCheckedModule(flags, [&](const frontend::Result& result) {
    const check::CheckedModule& model = *result.checked;
    std::optional<bundler::Selection> selection;
    if (!maps.empty()) {
      Expected<bundler::Selection> selected = bundler::SelectMaps(model, ir::Lower(model), maps);
      if (!selected.ok()) {
        std::cerr << "duetc: " << selected.status().message() << "\n";
        return kExitUsage;
      }
      selection = std::move(*selected);
    }
    std::string known;
    for (size_t i = 0; i < model.systems.size(); ++i) {
      if (model.systems[i].name == system_name) {
        std::cout << schema::TableSchema(model, static_cast<int>(i), *dialect,
                                         selection ? &selection->tables : nullptr);
        return kExitClean;
      }
      known += (known.empty() ? "" : ", ") + model.systems[i].name;
    }
    std::cerr << fmt::format("duetc: no system '{}' in these map files (they declare: {})\n",
                             system_name, known.empty() ? "none" : known);
    return kExitUsage;
  });
}

void AddCommonFlags(CLI::App& command, CommonFlags& flags) {
  command.add_option("paths", flags.paths, "map files (*.duet) or directories holding them")
      ->required();
  command.add_option("--max-errors", flags.max_errors, "print at most N diagnostics (0: all)")
      ->capture_default_str();
  command.add_option("--color", flags.color, "color the output")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  command.add_flag("--no-unused-warnings", flags.no_unused,
                   "do not warn about unused columns, tables, value maps");
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"duetc: checks and compiles duet map files"};
  app.set_version_flag("--version", std::string("duetc ") + kVersion);
  app.require_subcommand(1);

  CommonFlags check_flags;
  CLI::App* check = app.add_subcommand("check", "check map files and report every problem");
  AddCommonFlags(*check, check_flags);
  check->add_option("--format", check_flags.format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  check->add_flag("--werror", check_flags.werror, "exit 1 on warnings too");
  check->add_flag("-q,--quiet", check_flags.quiet, "print nothing when there is nothing to report");

  CommonFlags dump_flags;
  bool dump_ast = false;
  bool dump_ir = false;
  bool dump_llvm = false;
  CLI::App* dump = app.add_subcommand("dump", "print an intermediate form of map files");
  AddCommonFlags(*dump, dump_flags);
  CLI::Option_group* form = dump->add_option_group("form", "what to print (one of)");
  form->add_flag("--ast", dump_ast, "the syntax tree as parsed");
  form->add_flag("--ir", dump_ir, "the transform IR, per map and direction");
  form->add_flag("--llvm", dump_llvm, "the optimised LLVM IR of the generated code");
  form->require_option(1);

  CommonFlags test_flags;
  bool verbose = false;
  CLI::App* test = app.add_subcommand("test", "run the map unit tests (test blocks) of map files");
  AddCommonFlags(*test, test_flags);
  test->add_flag("-v,--verbose", verbose, "list passing tests too");
  bool use_interpreter = false;
  test->add_flag("--interpreter", use_interpreter,
                 "run the reference interpreter instead of generated code");

  CommonFlags compile_flags;
  CompileFlags bundle_flags;
  CLI::App* compile = app.add_subcommand("compile", "compile map files into a bundle");
  AddCommonFlags(*compile, compile_flags);
  compile->add_option("-o,--output", bundle_flags.output, "the bundle file to write (NAME.duetb)")
      ->required();
  compile->add_option("--sign", bundle_flags.sign_key,
                      "sign with this secret key file (see duetc keygen)");
  compile->add_option("-O", bundle_flags.opt_level, "optimisation level 0-3")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  compile->add_flag("--no-object", bundle_flags.no_object, "leave out object code (bitcode only)");
  compile
      ->add_option("--maps", bundle_flags.maps,
                   "bundle only these maps (NAME,NAME...), the maps they look rows up from, and "
                   "the tables those use")
      ->delimiter(',');

  std::string inspect_path;
  std::string inspect_trust;
  bool inspect_json = false;
  CLI::App* inspect = app.add_subcommand("inspect", "verify a bundle and show its manifest");
  inspect->add_option("bundle", inspect_path, "the bundle file")->required();
  inspect->add_flag("--json", inspect_json, "print the manifest as JSON");
  inspect->add_option("--trust", inspect_trust, "require a signature by this public key file");

  std::string keygen_name;
  CLI::App* keygen = app.add_subcommand("keygen", "make an ed25519 key pair for signing bundles");
  keygen->add_option("-o,--output", keygen_name, "writes NAME.key and NAME.pub")->required();

  std::string diff_old;
  std::string diff_new;
  bool diff_json = false;
  CLI::App* diff = app.add_subcommand(
      "diff",
      "what upgrading from one bundle to another changes: exit 0 compatible, 3 resync, 4 "
      "breaking");
  diff->add_option("old", diff_old, "the bundle running now")->required();
  diff->add_option("new", diff_new, "the bundle to upgrade to")->required();
  diff->add_flag("--json", diff_json, "print JSON");

  CommonFlags schema_flags;
  std::string schema_system;
  CLI::App* schema = app.add_subcommand(
      "schema",
      "print SQLite or PostgreSQL tables shaped like one system's declared tables "
      "(CREATE ... IF NOT EXISTS)");
  AddCommonFlags(*schema, schema_flags);
  schema->add_option("--system", schema_system, "the system whose tables to print (fo, ce, ...)")
      ->required();
  std::string schema_dialect = "sqlite";
  schema->add_option("--dialect", schema_dialect, "sqlite (the default) or postgresql");
  std::vector<std::string> schema_maps;
  schema
      ->add_option("--maps", schema_maps,
                   "only the tables of these maps (NAME,NAME...) and of the maps they look rows "
                   "up from, as `duetc compile --maps` bundles them")
      ->delimiter(',');
  CommonFlags docs_flags;
  DocsFlags docs_options;
  CLI::App* docs = app.add_subcommand(
      "docs",
      "write Markdown pages of what the maps sync and what they do not (NAME.md per map, "
      "index.md, maps.dot, maps.svg) into a directory; other *.md files there are removed");
  AddCommonFlags(*docs, docs_flags);
  docs->add_option("-o,--output", docs_options.output,
                   "the directory to write (created when missing); *.md files in it that this "
                   "run does not write are removed")
      ->required();
  docs->add_flag("--no-svg", docs_options.no_svg,
                 "do not run Graphviz's dot: write no maps.svg (and remove an old one)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitClean : kExitUsage;
  }
  if (check->parsed()) return RunCheck(check_flags);
  if (dump->parsed()) {
    return RunDump(dump_flags, dump_ir     ? DumpForm::kIr
                               : dump_llvm ? DumpForm::kLlvm
                                           : DumpForm::kAst);
  }
  if (test->parsed()) return RunTests(test_flags, verbose, use_interpreter);
  if (compile->parsed()) {
    return RunOnCheckedModule(compile_flags, [&](const frontend::Result& result) {
      return WriteBundle(result, bundle_flags);
    });
  }
  if (inspect->parsed()) return InspectBundle(inspect_path, inspect_json, inspect_trust);
  if (keygen->parsed()) return GenerateKeys(keygen_name);
  if (diff->parsed()) return DiffBundles(diff_old, diff_new, diff_json);
  if (schema->parsed()) return RunSchema(schema_flags, schema_system, schema_maps, schema_dialect);
  if (docs->parsed()) {
    return RunOnCheckedModule(docs_flags, [&](const frontend::Result& result) {
      return WriteDocs(result, docs_options);
    });
  }
  return kExitUsage;
}

}  // namespace duet::driver

int main(int argc, char** argv) { return duet::driver::Main(argc, argv); }
