// Golden tests of the front end. Every map file tests/golden/check/NAME.duet,
// and every directory tests/golden/check/NAME/ (checked as a whole, for
// imports and cross-file rules), is run through frontend::CheckPaths exactly
// as `duetc check` runs it; the diagnostics rendered as text (no color, at
// most 50) must equal NAME.expected byte for byte, and, when it exists,
// RenderJson's output must equal NAME.expected.json.
//
// The name says what a case must show, whatever its expected file says:
//   fail_*  at least one error
//   warn_*  no errors and at least one warning
//   pass_*  no diagnostics at all
// and fail_/warn_ names that start with a code (fail_e0202_...) must report
// that code. Paths are relative to the repository root, which is the working
// directory of the test (main() changes to it), so the expected files do not
// depend on where the repository is checked out.
//
// DUET_UPDATE_GOLDENS=1 rewrites the expected files from the actual output
// instead of comparing (see README.md), except for cases marked
// "// golden: keep-expected": their expected files were written by hand to
// state the correct behaviour of a known checker bug, and regenerating must
// not bless the bug.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"
#include "tests/golden/line_diff.h"

#ifndef DUET_REPO_ROOT
#error "DUET_REPO_ROOT must name the repository root (set by tests/golden/CMakeLists.txt)"
#endif

namespace duet::golden {
namespace {

namespace fs = std::filesystem;

// Relative to the repository root; this is how paths appear in the output.
constexpr std::string_view kCheckDir = "tests/golden/check";
constexpr std::string_view kDiagnosticsDoc = "docs/diagnostics.md";
constexpr std::string_view kUpdateCommand =
    "DUET_UPDATE_GOLDENS=1 ctest --test-dir build -R golden";
// Leading comment lines starting with these carry options for the case: the
// front end's options, and how the harness treats the expected files.
constexpr std::string_view kDirectivePrefix = "// duetc:";
constexpr std::string_view kGoldenPrefix = "// golden:";

// The minimum the suite promises: a tour of the language's rules.
constexpr size_t kMinFailCases = 45;
constexpr size_t kMinPassCases = 8;

fs::path RepoRoot() { return fs::path(DUET_REPO_ROOT); }

bool UpdateMode() {
  const char* value = std::getenv("DUET_UPDATE_GOLDENS");
  return value != nullptr && std::string_view(value) == "1";
}

enum class Kind { kFail, kWarn, kPass, kUnknown };

struct GoldenCase {
  std::string name;   // file stem or directory name: "fail_e0202_unknown_column"
  std::string input;  // as given to the front end, relative to the repo root
  bool is_directory = false;

  std::string expected_text() const { return std::string(kCheckDir) + "/" + name + ".expected"; }
  std::string expected_json() const { return expected_text() + ".json"; }
  Kind kind() const {
    if (name.starts_with("fail_")) return Kind::kFail;
    if (name.starts_with("warn_")) return Kind::kWarn;
    if (name.starts_with("pass_")) return Kind::kPass;
    return Kind::kUnknown;
  }
  // "E0202" for fail_e0202_..., "W0100" for warn_w0100_...; nullopt when the
  // name does not start with a code.
  std::optional<std::string> code_in_name() const {
    size_t underscore = name.find('_');
    std::string_view rest = std::string_view(name).substr(underscore + 1);
    if (rest.size() < 5 || (rest[0] != 'e' && rest[0] != 'w')) return std::nullopt;
    for (size_t i = 1; i < 5; ++i) {
      if (std::isdigit(static_cast<unsigned char>(rest[i])) == 0) return std::nullopt;
    }
    if (rest.size() > 5 && rest[5] != '_') return std::nullopt;
    std::string code(rest.substr(0, 5));
    code[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(code[0])));
    return code;
  }
};

// gtest prints a failing case's parameter; the input path is what identifies it.
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.input; }

// Every case under tests/golden/check, sorted by name. Reads the directory
// through the absolute root: gtest may evaluate this before main() changes
// the working directory.
std::vector<GoldenCase> DiscoverCases() {
  std::vector<GoldenCase> cases;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(RepoRoot() / kCheckDir, ec)) {
    const fs::path& path = entry.path();
    std::string name = path.filename().string();
    if (entry.is_directory()) {
      cases.push_back({name, std::string(kCheckDir) + "/" + name, true});
    } else if (path.extension() == ".duet") {
      std::string stem = path.stem().string();
      cases.push_back({stem, std::string(kCheckDir) + "/" + name, false});
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const GoldenCase& a, const GoldenCase& b) { return a.name < b.name; });
  return cases;
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// What a case runs with: the front end's options and the render cap.
struct CaseOptions {
  frontend::Options frontend;
  diag::RenderOptions render;
  // The expected files are hand-written; update mode compares instead.
  bool keep_expected = false;
};

// Applies the directives of a single-file case: the words after "// duetc:"
// on comment lines at the top of the file. Only lines before the first
// non-comment line count, so a directive is always visible at a glance.
// Unknown words fail the test rather than being silently ignored.
CaseOptions ParseDirectives(const GoldenCase& c) {
  CaseOptions options;
  options.render.max_diagnostics = 50;
  options.render.color = false;
  if (c.is_directory) return options;
  std::optional<std::string> text = ReadFile(c.input);
  if (!text) return options;
  if (text->starts_with("\xEF\xBB\xBF")) text->erase(0, 3);  // a UTF-8 byte-order mark
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line) && line.starts_with("//")) {
    if (line.starts_with(kGoldenPrefix)) {
      std::istringstream words(line.substr(kGoldenPrefix.size()));
      std::string word;
      words >> word;
      if (word == "keep-expected") {
        options.keep_expected = true;
      } else {
        ADD_FAILURE() << c.input << ": unknown golden directive '" << word
                      << "' (known: keep-expected)";
      }
      continue;
    }
    if (!line.starts_with(kDirectivePrefix)) continue;
    std::istringstream words(line.substr(kDirectivePrefix.size()));
    std::string word;
    while (words >> word) {
      // Sets `out` from "FLAG=N" when `word` is that flag; a bad N fails.
      auto number = [&](std::string_view flag, size_t& out) {
        if (!word.starts_with(flag)) return false;
        std::string digits = word.substr(flag.size());
        if (digits.empty() || digits.size() > 18 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char ch) { return ch >= '0' && ch <= '9'; })) {
          ADD_FAILURE() << c.input << ": directive " << word << " needs a number";
        } else {
          out = std::stoull(digits);
        }
        return true;
      };
      if (word == "--no-unused-warnings") {
        options.frontend.check.warn_unused = false;
      } else if (number("--max-file-bytes=", options.frontend.load.max_file_bytes) ||
                 number("--max-nesting=", options.frontend.load.parse.max_nesting) ||
                 number("--max-syntax-errors=", options.frontend.load.parse.max_syntax_errors) ||
                 number("--max-errors=", options.render.max_diagnostics)) {
        continue;
      } else {
        ADD_FAILURE() << c.input << ": unknown directive '" << word
                      << "' (known: --no-unused-warnings, --max-file-bytes=N, --max-nesting=N, "
                         "--max-syntax-errors=N, --max-errors=N)";
      }
    }
  }
  return options;
}

// Compares `actual` with the golden file at `path`, or rewrites the file in
// update mode unless `keep` says it is hand-written. A missing golden file is
// a failure outside update mode.
void CompareOrUpdate(const std::string& path, const std::string& actual, const std::string& what,
                     bool keep) {
  if (UpdateMode() && !keep) {
    std::optional<std::string> old = ReadFile(path);
    if (!old || *old != actual) {
      WriteFile(path, actual);
      std::cout << "[ UPDATED  ] " << path << "\n";
    }
    return;
  }
  std::optional<std::string> expected = ReadFile(path);
  if (!expected) {
    ADD_FAILURE()
        << path
        << " does not exist. Review the output below; if it is right, create the file with\n  "
        << kUpdateCommand << "\n--- actual " << what << " ---\n"
        << actual;
    return;
  }
  if (*expected == actual) return;
  if (keep) {
    ADD_FAILURE()
        << what << " differs from " << path
        << ", which is hand-written ('// golden: keep-expected'): it "
        << "states the correct behaviour of a known bug, and the front end does not match it yet:\n"
        << UnifiedDiff(*expected, actual, path, "actual output")
        << "\nFix the front end; when the outputs match, remove the keep-expected line.";
    return;
  }
  ADD_FAILURE() << what << " differs from " << path << ":\n"
                << UnifiedDiff(*expected, actual, path, "actual output")
                << "\nIf the new output is right, run:\n  " << kUpdateCommand
                << "\nand review the change to " << path << " before committing it.";
}

class GoldenTest : public testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, Check) {
  const GoldenCase& c = GetParam();
  ASSERT_NE(c.kind(), Kind::kUnknown)
      << c.input << ": a golden case is named fail_*, warn_* or pass_*";
  CaseOptions options = ParseDirectives(c);

  std::vector<std::string> paths = {c.input};
  std::unique_ptr<frontend::Result> result = frontend::CheckPaths(paths, options.frontend);
  ASSERT_NE(result, nullptr);
  const diag::Diagnostics& diagnostics = result->diagnostics;
  std::string text = diag::RenderText(diagnostics, result->sources, options.render);

  // The name's promise first: it holds even in update mode, so regenerating
  // goldens cannot bless a case that stopped showing what it is about.
  switch (c.kind()) {
    case Kind::kFail:
      EXPECT_GT(diagnostics.error_count(), 0u)
          << c.input << " is a fail_ case but reports no error:\n"
          << text;
      break;
    case Kind::kWarn:
      EXPECT_EQ(diagnostics.error_count(), 0u)
          << c.input << " is a warn_ case but reports errors:\n"
          << text;
      EXPECT_GT(diagnostics.warning_count(), 0u)
          << c.input << " is a warn_ case but reports no warning";
      break;
    case Kind::kPass:
      EXPECT_TRUE(diagnostics.all().empty()) << c.input << " is a pass_ case but reports:\n"
                                             << text;
      break;
    case Kind::kUnknown:
      break;
  }
  if (std::optional<std::string> code = c.code_in_name()) {
    bool found = std::any_of(diagnostics.all().begin(), diagnostics.all().end(),
                             [&](const diag::Diagnostic& d) { return d.code() == *code; });
    EXPECT_TRUE(found) << c.input << " is named for " << *code << " but does not report it:\n"
                       << text;
  }

  CompareOrUpdate(c.expected_text(), text, "text output", options.keep_expected);
  // JSON is pinned for the cases that have a .expected.json (create an empty
  // one and run the update command to pin another case).
  if (fs::exists(c.expected_json())) {
    CompareOrUpdate(c.expected_json(),
                    diag::RenderJson(diagnostics, result->sources, options.render), "JSON output",
                    options.keep_expected);
  }
}

std::string CaseName(const testing::TestParamInfo<GoldenCase>& info) {
  std::string name = info.param.name;
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, testing::ValuesIn(DiscoverCases()), CaseName);

// Every expected file belongs to a case; a renamed or deleted map file must
// not leave a golden file behind that nothing checks.
TEST(GoldenSuite, NoOrphanExpectedFiles) {
  std::set<std::string> names;
  for (const GoldenCase& c : DiscoverCases()) names.insert(c.name);
  std::vector<std::string> orphans;
  for (const fs::directory_entry& entry : fs::directory_iterator(kCheckDir)) {
    std::string file = entry.path().filename().string();
    for (std::string_view suffix : {".expected.json", ".expected"}) {
      if (file.ends_with(suffix)) {
        if (!names.contains(file.substr(0, file.size() - suffix.size()))) orphans.push_back(file);
        break;
      }
    }
  }
  EXPECT_TRUE(orphans.empty()) << "expected files without a NAME.duet or NAME/ case: "
                               << testing::PrintToString(orphans);
}

TEST(GoldenSuite, HasTheMinimumNumberOfCases) {
  size_t fail = 0;
  size_t pass = 0;
  for (const GoldenCase& c : DiscoverCases()) {
    fail += c.kind() == Kind::kFail;
    pass += c.kind() == Kind::kPass;
  }
  EXPECT_GE(fail, kMinFailCases) << "fail_ cases in " << kCheckDir;
  EXPECT_GE(pass, kMinPassCases) << "pass_ cases in " << kCheckDir;
}

// Every diagnostic code is shown by at least one golden case, so that each
// message, position and note is reviewed at least once and pinned.
TEST(GoldenSuite, EveryDiagnosticCodeHasACase) {
  std::string all;
  for (const fs::directory_entry& entry : fs::directory_iterator(kCheckDir)) {
    if (entry.path().extension() == ".expected") all += ReadFile(entry.path()).value_or("");
  }
  std::vector<std::string> missing;
  for (const diag::DiagKindInfo& info : diag::AllDiagKinds()) {
    if (all.find("[" + std::string(info.code) + "]") == std::string::npos)
      missing.emplace_back(info.code);
  }
  EXPECT_TRUE(missing.empty()) << "diagnostic codes with no golden case in " << kCheckDir
                               << " (add a "
                               << "fail_/warn_ case whose .expected shows each): "
                               << testing::PrintToString(missing);
}

// docs/diagnostics.md explains every code that duetc can print; README.md
// sends users there. A code is documented when it appears in the text.
TEST(GoldenSuite, DiagnosticsDocMentionsEveryCode) {
  std::optional<std::string> doc = ReadFile(kDiagnosticsDoc);
  ASSERT_TRUE(doc.has_value()) << kDiagnosticsDoc
                               << " does not exist; it must document every diagnostic code";
  std::vector<std::string> missing;
  for (const diag::DiagKindInfo& info : diag::AllDiagKinds()) {
    if (doc->find(info.code) == std::string::npos) missing.emplace_back(info.code);
  }
  EXPECT_TRUE(missing.empty()) << kDiagnosticsDoc
                               << " does not mention: " << testing::PrintToString(missing);
}

// The diff shown on a mismatch is itself tested: a harness whose failure
// message hid the change would make goldens hard to review.
TEST(LineDiff, ShowsChangedLinesWithContext) {
  std::string expected = "a\nb\nc\nd\ne\nf\ng\nh\n";
  std::string actual = "a\nb\nc\nD\ne\nf\ng\nh\n";
  EXPECT_EQ(UnifiedDiff(expected, actual, "exp", "act"),
            "--- exp\n+++ act\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n");
}

TEST(LineDiff, EqualTextsHaveNoDiff) { EXPECT_EQ(UnifiedDiff("x\ny\n", "x\ny\n", "e", "a"), ""); }

TEST(LineDiff, MissingTrailingNewlineIsVisible) {
  std::string diff = UnifiedDiff("x\n", "x", "e", "a");
  EXPECT_NE(diff.find("+\\ No newline at end of file"), std::string::npos) << diff;
}

TEST(LineDiff, AddedAndRemovedLines) {
  EXPECT_EQ(UnifiedDiff("1 error\n", "x: error[E0202]: y\n1 error\n", "e", "a"),
            "--- e\n+++ a\n@@ -1,1 +1,2 @@\n+x: error[E0202]: y\n 1 error\n");
  EXPECT_EQ(UnifiedDiff("gone\n", "", "e", "a"), "--- e\n+++ a\n@@ -1,1 +0,0 @@\n-gone\n");
}

}  // namespace
}  // namespace duet::golden

// Runs from the repository root so that paths in the output are relative to
// it, wherever ctest or a developer starts the binary.
int main(int argc, char** argv) {
  std::error_code ec;
  std::filesystem::current_path(duet::golden::RepoRoot(), ec);
  if (ec) {
    std::cerr << "golden_test: cannot change to " << DUET_REPO_ROOT << ": " << ec.message() << "\n";
    return 2;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
