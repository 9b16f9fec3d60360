// Unit tests of compiler/diag/render.h: the text form (location line, source
// snippet with a caret under the range, notes, the cap line and the summary)
// and the JSON form.
#include "compiler/diag/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/source.h"

namespace duet::diag {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

RenderOptions NoCap() {
  RenderOptions options;
  options.max_diagnostics = 0;
  return options;
}

// One file `t.duet` with `contents` and the diagnostics reported into it.
struct Fixture {
  SourceManager sources;
  Diagnostics diagnostics;
  FileId file;

  explicit Fixture(std::string contents) : file(sources.Add("t.duet", std::move(contents))) {}

  Diagnostic& Error(SourceLocation begin, SourceLocation end, std::string message = "msg") {
    return diagnostics.Report(DiagKind::kUnknownColumn, SourceRange{file, begin, end},
                              std::move(message));
  }
  std::string Text(const RenderOptions& options = NoCap()) const {
    return RenderText(diagnostics, sources, options);
  }
  // The two snippet lines of the first diagnostic: "N | text" and "  | ^^^".
  std::vector<std::string> Snippet() const {
    std::string text = Text();
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    if (lines.size() < 3) return {};
    return {lines[1], lines[2]};
  }
};

TEST(RenderText, ErrorWithSnippetNoteAndSummary) {
  Fixture f("system fo;\ntable fo.t {\n  NAEM string;\n}\n");
  f.Error({3, 3}, {3, 7}, "unknown column 'NAEM' in table fo.t").AddNote("did you mean 'NAME'?");
  EXPECT_EQ(f.Text(),
            "t.duet:3:3: error[E0202]: unknown column 'NAEM' in table fo.t\n"
            "3 |   NAEM string;\n"
            "  |   ^^^^\n"
            "  = note: did you mean 'NAME'?\n"
            "1 error, 0 warnings\n");
}

TEST(RenderText, NoteWithAPlaceGetsItsOwnSnippet) {
  Fixture f("system fo;\nsystem fo;\n");
  f.diagnostics
      .Report(DiagKind::kDuplicateSystem, {f.file, {2, 8}, {2, 10}},
              "system 'fo' is declared twice")
      .AddNote(SourceRange{f.file, {1, 8}, {1, 10}}, "first declared here");
  EXPECT_EQ(f.Text(),
            "t.duet:2:8: error[E0210]: system 'fo' is declared twice\n"
            "2 | system fo;\n"
            "  |        ^^\n"
            "t.duet:1:8: note: first declared here\n"
            "1 | system fo;\n"
            "  |        ^^\n"
            "1 error, 0 warnings\n");
}

TEST(RenderText, GutterIsAsWideAsTheLineNumber) {
  std::string contents;
  for (int i = 1; i <= 11; ++i) contents += "x;\n";
  contents += "  bad;\n";
  Fixture f(contents);
  f.Error({12, 3}, {12, 6});
  EXPECT_EQ(f.Snippet(), (std::vector<std::string>{"12 |   bad;", "   |   ^^^"}));
}

struct CaretCase {
  std::string name;
  std::string line;  // the file's only line
  SourceLocation begin;
  SourceLocation end;
  std::string shown;  // after "1 | "
  std::string caret;  // after "  | "
};

TEST(RenderText, CaretPlacement) {
  const std::string e_acute = "\xC3\xA9";        // é, 2 bytes
  const std::string euro = "\xE2\x82\xAC";       // €, 3 bytes
  const std::string smile = "\xF0\x9F\x98\x80";  // U+1F600, 4 bytes
  const std::vector<CaretCase> cases = {
      {"ascii", "NAEM <-> name;", {1, 1}, {1, 5}, "NAEM <-> name;", "^^^^"},
      // Columns count code points; the caret line has one space per code point.
      {"after multi-byte text",
       "  \"h" + e_acute + "llo" + euro + "\" <-> NAEM;",
       {1, 16},
       {1, 20},
       "  \"h" + e_acute + "llo" + euro + "\" <-> NAEM;",
       std::string(15, ' ') + "^^^^"},
      {"over multi-byte text",
       "x = \"" + e_acute + euro + smile + "\";",
       {1, 5},
       {1, 10},
       "x = \"" + e_acute + euro + smile + "\";",
       "    ^^^^^"},
      {"after a 4-byte character",
       smile + smile + " bad",
       {1, 4},
       {1, 7},
       smile + smile + " bad",
       "   ^^^"},
      // Tabs before the range stay tabs, so the caret lines up at any tab width.
      {"tab before", "\tNAEM <-> x;", {1, 2}, {1, 6}, "\tNAEM <-> x;", "\t^^^^"},
      {"tabs and text before",
       "\tNAEM\t<-> x;",
       {1, 11},
       {1, 12},
       "\tNAEM\t<-> x;",
       "\t    \t    ^"},
      // A zero-width range, or one at the end of the line (a missing ';'),
      // still gets one caret.
      {"zero width", "system fo", {1, 8}, {1, 8}, "system fo", "       ^"},
      {"past the end", "system fo", {1, 10}, {1, 11}, "system fo", "         ^"},
      // A range running onto later lines is underlined to the end of its first.
      {"multi-line range", "table x {", {1, 7}, {2, 1}, "table x {", "      ^^^"},
      // Control characters and invalid UTF-8 show as '?', one column each.
      {"control character",
       "a\x01"
       "b",
       {1, 3},
       {1, 4},
       "a?b",
       "  ^"},
      {"invalid utf-8",
       "a\xFF"
       "b",
       {1, 3},
       {1, 4},
       "a?b",
       "  ^"},
      {"truncated utf-8", "ab\xE2\x82", {1, 3}, {1, 4}, "ab??", "  ^"},
  };
  for (const CaretCase& c : cases) {
    Fixture f(c.line);
    f.Error(c.begin, c.end);
    EXPECT_EQ(f.Snippet(), (std::vector<std::string>{"1 | " + c.shown, "  | " + c.caret}))
        << c.name;
  }
}

TEST(RenderText, LongLineIsCutAroundTheCaret) {
  std::string line = std::string(300, 'a') + "NAEM" + std::string(300, 'b');
  Fixture f(line);
  f.Error({1, 301}, {1, 305});
  std::vector<std::string> snippet = f.Snippet();
  ASSERT_EQ(snippet.size(), 2u);
  // 200 bytes are shown, starting 50 before the caret, "..." on both cut ends.
  EXPECT_EQ(snippet[0], "1 | ..." + std::string(50, 'a') + "NAEM" + std::string(146, 'b') + "...");
  EXPECT_EQ(snippet[1], "  |    " + std::string(50, ' ') + "^^^^");
  EXPECT_EQ(snippet[0].find("NAEM"), snippet[1].find('^'));
}

TEST(RenderText, LongLineWithCaretNearTheStartIsCutAtTheEndOnly) {
  std::string line = "  NAEM " + std::string(500, 'x');
  Fixture f(line);
  f.Error({1, 3}, {1, 7});
  std::vector<std::string> snippet = f.Snippet();
  ASSERT_EQ(snippet.size(), 2u);
  EXPECT_EQ(snippet[0], "1 | " + line.substr(0, 200) + "...");
  EXPECT_EQ(snippet[1], "  |   ^^^^");
}

TEST(RenderText, LongRangeIsUnderlinedOnlyWhereShown) {
  std::string line = std::string(300, 'a') + std::string(300, 'b');
  Fixture f(line);
  f.Error({1, 301}, {1, 601});
  std::vector<std::string> snippet = f.Snippet();
  ASSERT_EQ(snippet.size(), 2u);
  EXPECT_EQ(snippet[1], "  |    " + std::string(50, ' ') + std::string(150, '^'));
}

TEST(RenderText, CutDoesNotSplitAMultiByteCharacter) {
  const std::string euro = "\xE2\x82\xAC";
  std::string line;
  for (int i = 0; i < 200; ++i) line += euro;  // 600 bytes, 200 columns
  line += " NAEM";
  Fixture f(line);
  f.Error({1, 202}, {1, 206});
  std::vector<std::string> snippet = f.Snippet();
  ASSERT_EQ(snippet.size(), 2u);
  std::string shown = snippet[0].substr(std::string("1 | ...").size());
  // The shown text starts on a character boundary: a whole euro sign.
  EXPECT_THAT(shown, StartsWith(euro));
  // And the caret is under NAEM, counted in code points.
  size_t columns_before = 0;
  std::string_view s = shown;
  for (size_t i = 0; i < s.find("NAEM"); ++i)
    columns_before += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  EXPECT_EQ(snippet[1], "  |    " + std::string(columns_before, ' ') + "^^^^");
}

TEST(RenderText, PlacesWithoutPositions) {
  SourceManager sources;
  FileId big = sources.Add("big.duet", "");
  Diagnostics diagnostics;
  diagnostics.Report(DiagKind::kFileTooLarge, {big, {}, {}}, "file is too large");
  diagnostics.Report(DiagKind::kCannotReadFile, {}, "cannot read 'x'");
  EXPECT_EQ(RenderText(diagnostics, sources, NoCap()),
            "big.duet: error[E0005]: file is too large\n"
            "duetc: error[E0001]: cannot read 'x'\n"
            "2 errors, 0 warnings\n");
}

TEST(RenderText, SummaryLine) {
  struct Case {
    int errors;
    int warnings;
    std::string summary;  // "" when nothing is printed at all
  };
  const std::vector<Case> cases = {
      {0, 0, ""},
      {1, 0, "1 error, 0 warnings\n"},
      {0, 1, "0 errors, 1 warning\n"},
      {2, 3, "2 errors, 3 warnings\n"},
  };
  for (const Case& c : cases) {
    Fixture f("x\n");
    for (int i = 0; i < c.errors; ++i) f.Error({1, 1}, {1, 2});
    for (int i = 0; i < c.warnings; ++i)
      f.diagnostics.Report(DiagKind::kUnusedColumn, {f.file, {1, 1}, {1, 2}}, "w");
    std::string text = f.Text();
    if (c.summary.empty()) {
      EXPECT_EQ(text, "");
    } else {
      EXPECT_THAT(text, testing::EndsWith(c.summary))
          << c.errors << " errors, " << c.warnings << " warnings";
    }
  }
}

TEST(RenderText, CapLineSaysHowManyWereNotShown) {
  struct Case {
    size_t total;
    size_t max;
    size_t shown;
    std::string cap_line;  // "" for none
  };
  const std::vector<Case> cases = {
      {3, 0, 3, ""},
      {3, 3, 3, ""},
      {3, 5, 3, ""},
      {3, 2, 2, "note: 1 more diagnostic not shown (raise the limit with --max-errors)\n"},
      {5, 2, 2, "note: 3 more diagnostics not shown (raise the limit with --max-errors)\n"},
      {5, 1, 1, "note: 4 more diagnostics not shown (raise the limit with --max-errors)\n"},
  };
  for (const Case& c : cases) {
    Fixture f("x\n");
    for (size_t i = 0; i < c.total; ++i) f.Error({1, 1}, {1, 2}, "error " + std::to_string(i));
    RenderOptions options;
    options.max_diagnostics = c.max;
    std::string text = f.Text(options);
    for (size_t i = 0; i < c.total; ++i) {
      bool expect_shown = i < c.shown;
      EXPECT_EQ(text.find("error[E0202]: error " + std::to_string(i) + "\n") != std::string::npos,
                expect_shown)
          << "diagnostic " << i << " of " << c.total << ", max " << c.max;
    }
    // The summary counts every diagnostic, shown or not, and comes last.
    std::string summary = std::to_string(c.total) + " errors, 0 warnings\n";
    EXPECT_THAT(text, testing::EndsWith(c.cap_line + summary)) << c.total << ", max " << c.max;
    if (c.cap_line.empty()) {
      EXPECT_THAT(text, Not(HasSubstr("not shown")));
    }
  }
}

TEST(RenderText, ColorOnlyWhenAsked) {
  Fixture f("x\n");
  f.Error({1, 1}, {1, 2});
  f.diagnostics.Report(DiagKind::kUnusedColumn, {f.file, {1, 1}, {1, 2}}, "w");
  EXPECT_THAT(f.Text(), Not(HasSubstr("\033")));
  RenderOptions color = NoCap();
  color.color = true;
  std::string text = f.Text(color);
  EXPECT_THAT(text, HasSubstr("\033[1;31merror[E0202]:"));
  EXPECT_THAT(text, HasSubstr("\033[1;33mwarning[W0100]:"));
  EXPECT_THAT(text, HasSubstr("\033[0m"));
}

// ---- JSON ----

TEST(RenderJson, Fields) {
  Fixture f("system fo;\r\ntable fo.t {\r\n  NAEM string;\r\n}\r\n");
  f.Error({3, 3}, {3, 7}, "unknown column 'NAEM'")
      .AddNote("did you mean 'NAME'?")
      .AddNote(SourceRange{f.file, {2, 7}, {2, 11}}, "table here");
  f.diagnostics.Report(DiagKind::kUnusedTable, {f.file, {}, {}}, "whole file");
  f.diagnostics.Report(DiagKind::kCannotReadFile, {}, "nowhere");
  nlohmann::json root = nlohmann::json::parse(RenderJson(f.diagnostics, f.sources, NoCap()));

  EXPECT_EQ(root["errors"], 2);
  EXPECT_EQ(root["warnings"], 1);
  EXPECT_EQ(root["omitted"], 0);
  ASSERT_EQ(root["diagnostics"].size(), 3u);

  const nlohmann::json& d = root["diagnostics"][0];
  EXPECT_EQ(d["severity"], "error");
  EXPECT_EQ(d["code"], "E0202");
  EXPECT_EQ(d["kind"], "UnknownColumn");
  EXPECT_EQ(d["message"], "unknown column 'NAEM'");
  EXPECT_EQ(d["file"], "t.duet");
  EXPECT_EQ(d["line"], 3);
  EXPECT_EQ(d["column"], 3);
  EXPECT_EQ(d["end_line"], 3);
  EXPECT_EQ(d["end_column"], 7);
  EXPECT_EQ(d["source_line"], "  NAEM string;");  // no trailing \r
  ASSERT_EQ(d["notes"].size(), 2u);
  EXPECT_EQ(d["notes"][0], (nlohmann::json{{"message", "did you mean 'NAME'?"}}));
  EXPECT_EQ(d["notes"][1]["message"], "table here");
  EXPECT_EQ(d["notes"][1]["file"], "t.duet");
  EXPECT_EQ(d["notes"][1]["line"], 2);
  EXPECT_EQ(d["notes"][1]["column"], 7);

  const nlohmann::json& whole = root["diagnostics"][1];
  EXPECT_EQ(whole["severity"], "warning");
  EXPECT_EQ(whole["code"], "W0102");
  EXPECT_EQ(whole["file"], "t.duet");
  EXPECT_FALSE(whole.contains("line"));
  EXPECT_FALSE(whole.contains("source_line"));
  EXPECT_TRUE(whole["notes"].is_array());
  EXPECT_TRUE(whole["notes"].empty());

  const nlohmann::json& nowhere = root["diagnostics"][2];
  EXPECT_FALSE(nowhere.contains("file"));
  EXPECT_FALSE(nowhere.contains("line"));
}

TEST(RenderJson, CapCountsOmitted) {
  Fixture f("x\n");
  for (int i = 0; i < 5; ++i) f.Error({1, 1}, {1, 2});
  RenderOptions options;
  options.max_diagnostics = 2;
  nlohmann::json root = nlohmann::json::parse(RenderJson(f.diagnostics, f.sources, options));
  EXPECT_EQ(root["diagnostics"].size(), 2u);
  EXPECT_EQ(root["errors"], 5);
  EXPECT_EQ(root["omitted"], 3);
}

TEST(RenderJson, EmptyAndInvalidUtf8AreStillValidJson) {
  SourceManager sources;
  Diagnostics none;
  std::string empty = RenderJson(none, sources, NoCap());
  EXPECT_THAT(empty, testing::EndsWith("\n"));
  nlohmann::json root = nlohmann::json::parse(empty);
  EXPECT_TRUE(root["diagnostics"].empty());
  EXPECT_EQ(root["errors"], 0);

  Fixture f(
      "a\xFF\xFE"
      "b\n");
  f.Error({1, 1}, {1, 2});
  std::string json;
  ASSERT_NO_THROW(json = RenderJson(f.diagnostics, f.sources, NoCap()));
  nlohmann::json parsed = nlohmann::json::parse(json);
  std::string line = parsed["diagnostics"][0]["source_line"];
  EXPECT_THAT(line, StartsWith("a"));
  EXPECT_THAT(line, testing::EndsWith("b"));
}

}  // namespace
}  // namespace duet::diag
