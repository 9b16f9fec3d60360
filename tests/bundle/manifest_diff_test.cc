// Upgrading from one bundle to another: DiffManifests classifies each change
// (table-driven over edits of one manifest), and `duetc diff` reports it
// with the exit code a CI pipeline acts on.
#include "runtime/bundle/manifest_diff.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

using bundle::Manifest;
using bundle::UpgradeClass;

Manifest Base() {
  Manifest m;
  m.systems = {"fo", "ce"};
  bundle::Table fo{"fo.Cust", "fo", {}, {"ACCOUNT"}, "", ""};
  bundle::Table ce{"ce.account", "ce", {}, {"accountnumber"}, "accountid", "guid"};
  bundle::ColumnType text;
  text.kind = bundle::ValueKind::kString;
  text.length = 100;
  for (const char* c : {"ACCOUNT", "NAME", "TERMS"})
    fo.columns.push_back({c, text, false, false, std::nullopt});
  for (const char* c : {"accountnumber", "name", "terms"}) {
    ce.columns.push_back({c, text, false, false, std::nullopt});
  }
  m.tables = {fo, ce};
  bundle::Map map;
  map.name = "customers";
  map.left_table = "fo.Cust";
  map.right_table = "ce.account";
  map.direction = "<->";
  map.master = "fo";
  map.initial = "fo";
  bundle::Field key{"ACCOUNT", "<->", "accountnumber", "",           false,       {},
                    "",        "",    false,           std::nullopt, std::nullopt};
  bundle::Field name{"NAME", "<->", "name", "",           false,       {},
                     "",     "",    false,  std::nullopt, std::nullopt};
  bundle::Field terms{
      "TERMS", "<->", "terms", "",           false,       {{"\"N30\"", "1"}, {"\"N60\"", "2"}},
      "",      "",    false,   std::nullopt, std::nullopt};
  map.fields = {key, name, terms};
  m.maps = {map};
  return m;
}

struct Case {
  const char* name;
  std::function<void(Manifest&)> edit;
  UpgradeClass expected;
  const char* what;  // a change the diff must list
};

TEST(ManifestDiffTest, ClassifiesEachKindOfChange) {
  const std::vector<Case> cases = {
      {"identical", [](Manifest&) {}, UpgradeClass::kCompatible, nullptr},
      {"master", [](Manifest& m) { m.maps[0].master = "ce"; }, UpgradeClass::kCompatible,
       "master changed"},
      {"field master", [](Manifest& m) { m.maps[0].fields[1].master = "newest"; },
       UpgradeClass::kCompatible, "field master changed"},
      {"new map",
       [](Manifest& m) {
         m.maps.push_back(m.maps[0]);
         m.maps.back().name = "copy";
       },
       UpgradeClass::kCompatible, "map added"},
      {"map removed", [](Manifest& m) { m.maps.clear(); }, UpgradeClass::kCompatible,
       "map removed"},
      {"column declared",
       [](Manifest& m) {
         m.tables[1].columns.push_back(m.tables[1].columns[1]);
         m.tables[1].columns.back().name = "extra";
       },
       UpgradeClass::kCompatible, "column declared"},
      {"field added",
       [](Manifest& m) {
         m.maps[0].fields.push_back({"NAME",
                                     "->",
                                     "description",
                                     "",
                                     false,
                                     {},
                                     "",
                                     "",
                                     false,
                                     std::nullopt,
                                     std::nullopt});
       },
       UpgradeClass::kResync, "field added"},
      {"field removed", [](Manifest& m) { m.maps[0].fields.pop_back(); }, UpgradeClass::kResync,
       "field removed"},
      {"value map", [](Manifest& m) { m.maps[0].fields[2].values[1].right = "3"; },
       UpgradeClass::kResync, "value map changed"},
      {"value map default", [](Manifest& m) { m.maps[0].fields[2].left_default = "\"N30\""; },
       UpgradeClass::kResync, "value map changed"},
      {"field direction", [](Manifest& m) { m.maps[0].fields[1].direction = "->"; },
       UpgradeClass::kResync, "field direction changed"},
      {"filter", [](Manifest& m) { m.maps[0].left_filter = "NAME != \"\""; }, UpgradeClass::kResync,
       "filter changed"},
      {"column type", [](Manifest& m) { m.tables[1].columns[1].type.length = 50; },
       UpgradeClass::kResync, "column type changed"},
      {"key",
       [](Manifest& m) {
         m.tables[1].key = {"accountnumber", "name"};
       },
       UpgradeClass::kBreaking, "key changed"},
      {"tables", [](Manifest& m) { m.maps[0].right_table = "ce.contact"; }, UpgradeClass::kBreaking,
       "tables changed"},
      {"system removed", [](Manifest& m) { m.systems = {"fo"}; }, UpgradeClass::kBreaking,
       "system removed"},
  };
  for (const Case& c : cases) {
    Manifest before = Base();
    Manifest after = Base();
    c.edit(after);
    bundle::ManifestDiff diff = bundle::DiffManifests(before, after);
    EXPECT_EQ(diff.cls, c.expected) << c.name;
    if (!c.what) {
      EXPECT_TRUE(diff.changes.empty()) << c.name;
      continue;
    }
    bool listed = false;
    for (const bundle::Change& change : diff.changes) listed = listed || change.what == c.what;
    EXPECT_TRUE(listed) << c.name << ": no '" << c.what << "'";
    if (c.expected == UpgradeClass::kResync) {
      EXPECT_EQ(diff.resync, std::vector<std::string>{"customers"}) << c.name;
    }
    if (c.expected == UpgradeClass::kBreaking && std::string(c.name) != "system removed") {
      EXPECT_EQ(diff.broken, std::vector<std::string>{"customers"}) << c.name;
    }
  }
}

// The worst change decides, and a map both broken and needing a resync is
// listed once, as broken.
TEST(ManifestDiffTest, TheWorstChangeDecides) {
  Manifest after = Base();
  after.maps[0].fields.pop_back();            // resync
  after.tables[0].key = {"ACCOUNT", "NAME"};  // breaking
  after.maps[0].master = "ce";                // compatible
  bundle::ManifestDiff diff = bundle::DiffManifests(Base(), after);
  EXPECT_EQ(diff.cls, UpgradeClass::kBreaking);
  EXPECT_EQ(diff.broken, std::vector<std::string>{"customers"});
  EXPECT_TRUE(diff.resync.empty());
}

class DiffCommandTest : public ProcessTest {};

// duetc diff on two real bundles: a value map changed in one copy of the
// standard maps.
TEST_F(DiffCommandTest, ReportsAndExitsByClass) {
  fs::path before = CompileWithDuetc({"stdlib-maps"}, "before.duetb");
  RunResult same = Duetc({"diff", before.string(), before.string()});
  EXPECT_EQ(same.exit_code, 0) << Show(same);
  EXPECT_NE(same.out.find("upgrade: compatible"), std::string::npos) << Show(same);

  // A copy of the maps with one mapping removed from the customers map.
  fs::path edited = dir_ / "maps";
  fs::create_directories(edited);
  for (const auto& entry :
       fs::directory_iterator(fs::path(GlobalEnv().repo_root) / "stdlib-maps")) {
    if (entry.path().extension() != ".duet") continue;
    std::string source = ReadAll(entry.path());
    if (entry.path().filename() == "customers_accounts.duet") {
      size_t at = source.find("SALESMEMO");
      ASSERT_NE(at, std::string::npos) << "the test expects the customers map to map SALESMEMO";
      size_t begin = source.rfind('\n', at);
      size_t end = source.find('\n', at);
      source.erase(begin, end - begin);
    }
    WriteAll(edited / entry.path().filename(), source);
  }
  fs::path after = CompileWithDuetc({edited.string()}, "after.duetb");
  RunResult changed = Duetc({"diff", before.string(), after.string()});
  EXPECT_EQ(changed.exit_code, 3) << Show(changed);
  EXPECT_NE(changed.out.find("field removed"), std::string::npos) << Show(changed);
  EXPECT_NE(changed.out.find("upgrade: needs a resync of customers_accounts"), std::string::npos)
      << Show(changed);
  RunResult as_json = Duetc({"diff", before.string(), after.string(), "--json"});
  EXPECT_NE(as_json.out.find("\"class\": \"resync\""), std::string::npos) << Show(as_json);
  RunResult missing = Duetc({"diff", before.string(), (dir_ / "nothing.duetb").string()});
  EXPECT_EQ(missing.exit_code, 2) << Show(missing);
}

}  // namespace
}  // namespace duet::bundle_test
