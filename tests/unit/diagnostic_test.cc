// Unit tests of compiler/diag/diagnostic.h: the kind table, Diagnostics
// (counting, sorting) and ClosestMatch ("did you mean" suggestions).
#include "compiler/diag/diagnostic.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace duet::diag {
namespace {

TEST(DiagKinds, CodesAreUniqueAndMatchTheirSeverity) {
  std::set<std::string_view> codes;
  std::set<std::string_view> names;
  for (const DiagKindInfo& info : AllDiagKinds()) {
    EXPECT_TRUE(codes.insert(info.code).second) << "code used twice: " << info.code;
    EXPECT_TRUE(names.insert(info.name).second) << "name used twice: " << info.name;
    ASSERT_EQ(info.code.size(), 5u) << info.code;
    EXPECT_EQ(info.code[0], info.severity == Severity::kError ? 'E' : 'W') << info.code;
    EXPECT_EQ(&Info(info.kind), &info) << info.name;  // Info indexes by enum value
    EXPECT_FALSE(info.summary.empty()) << info.code;
  }
}

TEST(DiagKinds, KnownCodes) {
  EXPECT_EQ(Info(DiagKind::kUnknownColumn).code, "E0202");
  EXPECT_EQ(Info(DiagKind::kBadNumber).code, "E0104");
  EXPECT_EQ(Info(DiagKind::kUnusedColumn).severity, Severity::kWarning);
  EXPECT_EQ(SeverityName(Severity::kError), "error");
  EXPECT_EQ(SeverityName(Severity::kWarning), "warning");
}

TEST(Diagnostics, ReportTakesTheSeverityOfItsKindAndCounts) {
  Diagnostics diagnostics;
  EXPECT_FALSE(diagnostics.has_errors());
  diagnostics.Report(DiagKind::kUnusedColumn, {}, "w1");
  EXPECT_FALSE(diagnostics.has_errors());
  diagnostics.Report(DiagKind::kUnknownColumn, {}, "e1")
      .AddNote("n1")
      .AddNote(SourceRange{0, {1, 1}, {1, 2}}, "n2");
  diagnostics.Report(DiagKind::kSyntaxError, {}, "e2");
  EXPECT_TRUE(diagnostics.has_errors());
  EXPECT_EQ(diagnostics.error_count(), 2u);
  EXPECT_EQ(diagnostics.warning_count(), 1u);
  ASSERT_EQ(diagnostics.all().size(), 3u);
  EXPECT_EQ(diagnostics.all()[0].severity, Severity::kWarning);
  EXPECT_EQ(diagnostics.all()[1].severity, Severity::kError);
  EXPECT_EQ(diagnostics.all()[1].code(), "E0202");
  ASSERT_EQ(diagnostics.all()[1].notes.size(), 2u);
  EXPECT_EQ(diagnostics.all()[1].notes[0].message, "n1");
  EXPECT_FALSE(diagnostics.all()[1].notes[0].range.valid());
  EXPECT_EQ(diagnostics.all()[1].notes[1].range.begin.line, 1u);
}

// ---- Sort ----

std::vector<std::string> Messages(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics.all()) out.push_back(d.message);
  return out;
}

TEST(DiagnosticsSort, OrdersByPathThenPositionThenCode) {
  SourceManager sources;
  // b.duet is added first so that a FileId order would differ from path order.
  FileId b = sources.Add("b.duet", "x\n");
  FileId a = sources.Add("a.duet", "x\n");
  Diagnostics diagnostics;
  diagnostics.Report(DiagKind::kUnknownColumn, {b, {1, 1}, {1, 2}}, "b 1:1");
  diagnostics.Report(DiagKind::kUnknownColumn, {a, {5, 3}, {5, 4}}, "a 5:3");
  diagnostics.Report(DiagKind::kUnknownColumn, {a, {5, 1}, {5, 2}}, "a 5:1 E0202");
  diagnostics.Report(DiagKind::kSyntaxError, {a, {5, 1}, {5, 2}}, "a 5:1 E0100");
  diagnostics.Report(DiagKind::kUnusedColumn, {a, {2, 9}, {2, 10}}, "a 2:9");
  diagnostics.Report(DiagKind::kFileTooLarge, {a, {}, {}}, "a whole file");
  diagnostics.Report(DiagKind::kCannotReadFile, {}, "no file");
  diagnostics.Report(DiagKind::kUnknownTable, {a, {10, 1}, {10, 2}}, "a 10:1");
  diagnostics.Sort(sources);
  EXPECT_EQ(Messages(diagnostics),
            (std::vector<std::string>{"no file", "a whole file", "a 2:9", "a 5:1 E0100",
                                      "a 5:1 E0202", "a 5:3", "a 10:1", "b 1:1"}));
}

TEST(DiagnosticsSort, IsStableForEqualKeys) {
  SourceManager sources;
  FileId f = sources.Add("f.duet", "");
  Diagnostics diagnostics;
  diagnostics.Report(DiagKind::kUnknownColumn, {f, {3, 1}, {3, 2}}, "third");
  for (const char* m : {"first", "second"})
    diagnostics.Report(DiagKind::kUnknownColumn, {f, {2, 1}, {2, 9}}, m);
  diagnostics.Report(DiagKind::kUnknownColumn, {f, {2, 1}, {2, 3}}, "also second line");
  diagnostics.Sort(sources);
  // Only the begin position is a key: the end does not reorder.
  EXPECT_EQ(Messages(diagnostics),
            (std::vector<std::string>{"first", "second", "also second line", "third"}));
}

// ---- ClosestMatch ----

struct MatchCase {
  std::string name;
  std::vector<std::string> candidates;
  std::optional<std::string> expected;
};

TEST(ClosestMatch, Table) {
  const std::vector<MatchCase> cases = {
      // Typical typos.
      {"NAEM", {"ID", "NAME", "ADDRESS"}, "NAME"},  // transposition: 2 edits, limit 2
      {"acountnumber", {"accountid", "accountnumber"}, "accountnumber"},
      {"custmer", {"customer", "vendor"}, "customer"},
      {"cdm_companycod", {"cdm_companyid", "cdm_companycode"}, "cdm_companycode"},
      // Case-only differences are distance 0, so they beat a same-case typo.
      {"name", {"NAME"}, "NAME"},
      {"AccountNumber", {"accountnumber"}, "accountnumber"},
      {"Name", {"Nape", "NAME"}, "NAME"},
      {"naem", {"NAME"}, "NAME"},  // case and transposition together
      // Too distant: more edits than a third of the name (at least one).
      {"x", {"accountid"}, std::nullopt},
      {"ab", {"xy"}, std::nullopt},
      {"customer", {"vendor"}, std::nullopt},
      {"abcdef", {"abcxyz"}, std::nullopt},  // 3 edits, limit 2
      {"abcdef", {"abcdxy"}, "abcdxy"},      // 2 edits, limit 2
      // One edit is always allowed, even for a one-letter name.
      {"x", {"y"}, "y"},
      {"fo", {"ce", "foo"}, "foo"},
      // Nothing to suggest.
      {"NAME", {}, std::nullopt},
      // Ties go to the first candidate.
      {"cat", {"bat", "hat"}, "bat"},
      {"cat", {"hat", "bat"}, "hat"},
      // An exact match wins over everything.
      {"id", {"ids", "id", "di"}, "id"},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(ClosestMatch(c.name, c.candidates), c.expected) << "'" << c.name << "'";
  }
}

}  // namespace
}  // namespace duet::diag
