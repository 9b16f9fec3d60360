// Golden tests of the docs generator (compiler/docs). The fixture module
// tests/golden/docs/fixture/ is checked in-process and docs::Generate's files
// must equal those in tests/golden/docs/expected/ byte for byte: the same
// names, none missing and none extra. DUET_UPDATE_GOLDENS=1 rewrites
// expected/ instead (and removes files that are no longer generated), the
// same update mode as golden_test (see README.md).
//
// Whatever the expected files say, the fixture must keep showing every part
// of a page (FixtureShowsEveryPart), so regenerating cannot bless a fixture
// that stopped exercising lookups, value maps, per-field rules and the rest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/render.h"
#include "compiler/docs/docs.h"
#include "compiler/frontend/frontend.h"
#include "tests/golden/golden_files.h"
#include "tests/golden/line_diff.h"

#ifndef DUET_REPO_ROOT
#error "DUET_REPO_ROOT must name the repository root (set by tests/golden/CMakeLists.txt)"
#endif

namespace duet::golden {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFixtureDir = "tests/golden/docs/fixture";
constexpr std::string_view kExpectedDir = "tests/golden/docs/expected";
constexpr std::string_view kUpdateCommand =
    "DUET_UPDATE_GOLDENS=1 ctest --test-dir build -R golden/docs";

// Paths are absolute, so the test runs from any directory; the pages name
// no paths, so they do not depend on it.
fs::path Root() { return fs::path(DUET_REPO_ROOT); }
fs::path ExpectedDir() { return Root() / kExpectedDir; }

// The documentation of `paths`, which must check without errors (warnings
// are allowed: the fixture leaves columns unsynced on purpose).
std::optional<docs::Files> Generate(const std::vector<std::string>& paths) {
  std::unique_ptr<frontend::Result> result = frontend::CheckPaths(paths, frontend::Options{});
  if (!result->ok() || !result->checked) {
    diag::RenderOptions render;
    render.max_diagnostics = 0;
    ADD_FAILURE() << testing::PrintToString(paths) << " does not check:\n"
                  << diag::RenderText(result->diagnostics, result->sources, render);
    return std::nullopt;
  }
  return docs::Generate(*result->checked);
}

std::optional<docs::Files> GenerateFixture() { return Generate({(Root() / kFixtureDir).string()}); }

std::set<std::string> ExpectedNames() {
  std::set<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(ExpectedDir(), ec)) {
    if (entry.is_regular_file()) names.insert(entry.path().filename().string());
  }
  return names;
}

void Update(const docs::Files& files) {
  fs::create_directories(ExpectedDir());
  for (const auto& [name, text] : files) {
    fs::path path = ExpectedDir() / name;
    if (ReadFile(path) == text) continue;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    std::cout << "[ UPDATED  ] " << path.string() << "\n";
  }
  for (const std::string& name : ExpectedNames()) {
    if (files.contains(name)) continue;
    fs::remove(ExpectedDir() / name);
    std::cout << "[ REMOVED  ] " << kExpectedDir << "/" << name << "\n";
  }
}

TEST(DocsGolden, FixtureModule) {
  std::optional<docs::Files> files = GenerateFixture();
  ASSERT_TRUE(files.has_value());
  if (UpdateMode()) {
    Update(*files);
    return;
  }
  std::set<std::string> expected_names = ExpectedNames();
  for (const auto& [name, actual] : *files) {
    std::string path = std::string(kExpectedDir) + "/" + name;
    std::optional<std::string> expected = ReadFile(Root() / path);
    if (!expected) {
      ADD_FAILURE() << path << " does not exist. Review the page below; if it is right, run\n  "
                    << kUpdateCommand << "\n--- actual " << name << " ---\n"
                    << actual;
      continue;
    }
    if (*expected == actual) continue;
    ADD_FAILURE() << name << " differs from " << path << ":\n"
                  << UnifiedDiff(*expected, actual, path, "generated")
                  << "\nIf it is right, run\n  " << kUpdateCommand << "\nand review the change to "
                  << kExpectedDir << " before committing it.";
  }
  for (const std::string& name : expected_names) {
    EXPECT_TRUE(files->contains(name))
        << kExpectedDir << "/" << name << " is no longer generated; remove it, or run\n  "
        << kUpdateCommand;
  }
}

// What each part of a page looks like for the fixture; a change to the
// fixture must keep all of them.
TEST(DocsGolden, FixtureShowsEveryPart) {
  std::optional<docs::Files> files = GenerateFixture();
  ASSERT_TRUE(files.has_value());
  for (std::string_view name : {"index.md", "maps.dot", "companies.md", "groups.md", "customers.md",
                                "contacts.md", "person_customers.md"}) {
    ASSERT_TRUE(files->contains(std::string(name))) << name;
  }
  auto expect_in = [&](std::string_view file, std::string_view text) {
    const std::string& page = files->at(std::string(file));
    EXPECT_NE(page.find(text), std::string::npos) << file << " lacks: " << text << "\n" << page;
  };
  // A written lookup orders initial sync, both ways between pages.
  expect_in("customers.md", "- [`groups`](groups.md): `msdyn_customergroupid.msdyn_groupid`\n");
  expect_in("groups.md", "- [`customers`](customers.md): `msdyn_customergroupid.msdyn_groupid`");
  // A deferred one is marked, and dashed in the graph.
  expect_in("customers.md",
            "- [`contacts`](contacts.md): `primarycontactid.msdyn_contactpersonid` "
            "(deferred");
  expect_in("maps.dot", "\"contacts\" -> \"customers\" [style=dashed, constraint=false];");
  // Value maps: named, inline with a default, one-way.
  expect_in("customers.md", "values `OnHold`: `\"no\" = 806380000`");
  expect_in("customers.md", "values: `\"A\" = 3`, `\"B\" = 3`, `* = 4`");
  expect_in("companies.md", "values `Country`: ");
  // Per-field conflict rules against the map's.
  expect_in("customers.md", "| `ce` (this field) |");
  expect_in("customers.md", "| `manual` (this field) |");
  expect_in("customers.md", "| `fo` (map) |");
  expect_in("customers.md", "`truncate`: cut to the column's length");
  expect_in("customers.md", "| `upper(ORGANIZATIONNAME)` | `->` | `msdyn_searchname` | computed |");
  // Filters, in map-language syntax.
  expect_in("customers.md",
            "| filter | `PARTYTYPE == \"Organization\"` | `customertypecode in (3, 4)` |");
  // Columns that do not sync: local, id, used only by a filter, shared tables.
  expect_in("customers.md",
            "| `CREDITLIMIT` | `decimal(32, 6)` | `local`: deliberately not synced |");
  expect_in("customers.md", "| `accountid` | `guid` | id: assigned by the system |");
  expect_in("customers.md",
            "| `PERSONLASTNAME` | `string(25)` | synced by "
            "[`person_customers`](person_customers.md) |");
  expect_in("person_customers.md",
            "| `parentcustomerid` | `ref ce.account` | synced by "
            "[`contacts`](contacts.md) |");
  expect_in("contacts.md", "read by this map's filter");
  // Map settings.
  expect_in("groups.md", "- **Initial sync:** none (`initial none`)");
  expect_in("contacts.md", "- **Initial sync:** from `ce`");
  expect_in("companies.md", "- **Conflict rule:** none needed (a one-way map)");
  expect_in("customers.md", "- **Conflict rule:** `fo` wins; 2 fields override it");
  // Tests, and the index's tables.
  expect_in("companies.md",
            "- \"an unknown country fails the row\": given a row in `fo`, expects "
            "an error containing `no value-map entry`");
  expect_in("index.md",
            "| `fo.CustCustomerV3Entity` | Customers V3 | [`customers`](customers.md), "
            "[`person_customers`](person_customers.md) |");
  // Escaping: a '|' in a label must not split the table cell.
  expect_in("index.md", "| Customer groups \\| all companies |");
}

TEST(DocsGolden, SameInputSameBytes) {
  std::optional<docs::Files> first = Generate({(Root() / "stdlib-maps").string()});
  std::optional<docs::Files> second = Generate({(Root() / "stdlib-maps").string()});
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_TRUE(*first == *second);
}

// Markdown that a label, a constant or a map name could break.
TEST(DocsMarkdown, OddNamesAndTextStayInTheirPlace) {
  std::unique_ptr<frontend::Result> result =
      frontend::CheckSource("odd.duet",
                            "system fo;\nsystem ce;\n"
                            "table fo.T \"T <b>*bold*</b>\" { K string(10) not null; key (K); }\n"
                            "table ce.t { k string(10) not null; note string(20); key (k); }\n"
                            "map index \"Index | `ticks`\": fo.T -> ce.t {\n"
                            "  K -> k;\n"
                            "  \"a|`b`\" -> note;\n"
                            "}\n",
                            frontend::Options{});
  ASSERT_TRUE(result->ok()) << diag::RenderText(result->diagnostics, result->sources, {});
  docs::Files files = docs::Generate(*result->checked);
  ASSERT_TRUE(files.contains("index-map.md")) << "a map named index must not overwrite the index";
  const std::string& page = files.at("index-map.md");
  EXPECT_TRUE(page.starts_with("# Index | \\`ticks\\` (`index`)\n")) << page;
  EXPECT_NE(page.find("| ``\"a\\|`b`\"`` | `->` | `note` | constant |"), std::string::npos) << page;
  EXPECT_NE(files.at("index.md").find("| T \\<b\\>\\*bold\\*\\</b\\> |"), std::string::npos)
      << files.at("index.md");
  EXPECT_NE(files.at("index.md").find("[`index`](index-map.md)"), std::string::npos);
}

}  // namespace
}  // namespace duet::golden
