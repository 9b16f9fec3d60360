// Unit tests of compiler/diag/source.h: SourceFile::Line, SourceManager and
// SourceRange::Through.
#include "compiler/diag/source.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duet::diag {
namespace {

struct LinesCase {
  std::string name;
  std::string contents;
  std::vector<std::string> lines;  // Line(1) .. Line(line_count())
};

TEST(SourceFileLine, Table) {
  const std::vector<LinesCase> cases = {
      {"empty file", "", {""}},
      {"one line, no newline", "system fo;", {"system fo;"}},
      {"one line with newline", "system fo;\n", {"system fo;", ""}},
      {"last line without newline", "a\nbc\ndef", {"a", "bc", "def"}},
      {"crlf", "a\r\nbc\r\n", {"a", "bc", ""}},
      {"crlf, last line without newline", "a\r\nbc", {"a", "bc"}},
      {"mixed endings", "a\nb\r\nc", {"a", "b", "c"}},
      {"empty lines", "\n\n", {"", "", ""}},
      {"blank crlf line", "\r\n", {"", ""}},
      // Only \n ends a line; a lone \r stays in the text (one trailing \r is
      // dropped as part of a CRLF).
      {"lone cr inside", "a\rb\n", {"a\rb", ""}},
      {"two trailing cr", "a\r\r\n", {"a\r", ""}},
      {"multi-byte text", "caf\xC3\xA9\n\xE2\x82\xAC", {"caf\xC3\xA9", "\xE2\x82\xAC"}},
  };
  for (const LinesCase& c : cases) {
    SourceFile file("f.duet", c.contents);
    ASSERT_EQ(file.line_count(), c.lines.size()) << c.name;
    for (size_t i = 0; i < c.lines.size(); ++i) {
      EXPECT_EQ(file.Line(static_cast<uint32_t>(i + 1)), c.lines[i])
          << c.name << ", line " << i + 1;
    }
  }
}

TEST(SourceFileLine, OutOfRangeLinesAreEmpty) {
  SourceFile file("f.duet", "a\nb");
  EXPECT_EQ(file.Line(0), "");
  EXPECT_EQ(file.Line(3), "");
  EXPECT_EQ(file.Line(UINT32_MAX), "");
}

TEST(SourceManager, KeepsFilesAndPathsByIdInOrder) {
  SourceManager sources;
  EXPECT_EQ(sources.size(), 0u);
  FileId a = sources.Add("a.duet", "one");
  FileId b = sources.Add("dir/b.duet", "two\nlines");
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(sources.size(), 2u);
  const SourceFile& first = sources.file(a);
  sources.Add("c.duet", "");  // adding must not move files already handed out
  EXPECT_EQ(&first, &sources.file(a));
  EXPECT_EQ(sources.file(b).path(), "dir/b.duet");
  EXPECT_EQ(sources.file(b).contents(), "two\nlines");
  EXPECT_EQ(sources.file(b).Line(2), "lines");
}

TEST(SourceRange, Through) {
  SourceRange a{0, {2, 5}, {2, 9}};
  SourceRange b{0, {1, 3}, {1, 4}};
  SourceRange ab = a.Through(b);
  EXPECT_EQ(ab.file, 0);
  EXPECT_EQ(ab.begin, (SourceLocation{1, 3}));
  EXPECT_EQ(ab.end, (SourceLocation{2, 9}));
  EXPECT_EQ(b.Through(a).begin, ab.begin);
  EXPECT_EQ(b.Through(a).end, ab.end);
  // An invalid range contributes nothing.
  SourceRange none;
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(none.Through(a).begin, a.begin);
  EXPECT_EQ(a.Through(none).end, a.end);
  EXPECT_TRUE(SourceRange({0, {1, 1}, {1, 1}}).has_position());
  EXPECT_FALSE(SourceRange({0, {}, {}}).has_position());
  EXPECT_TRUE(SourceRange({0, {}, {}}).valid());
}

}  // namespace
}  // namespace duet::diag
