// Unit tests of the checked model (compiler/check/model.h) as the front end
// builds it: initial sync order, field targets, value maps and their
// defaults, map settings, and the shipped example.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "compiler/check/model.h"
#include "compiler/diag/render.h"
#include "compiler/frontend/frontend.h"

#ifndef DUET_SOURCE_DIR
#error "DUET_SOURCE_DIR must name the repository root"
#endif

namespace duet::check {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<frontend::Result> CheckText(const std::string& text) {
  frontend::Options options;
  options.load.follow_imports = false;
  return frontend::CheckSource("t.duet", text, options);
}

std::string Rendered(const frontend::Result& result) {
  return diag::RenderText(result.diagnostics, result.sources, diag::RenderOptions{});
}

// Two systems, a company table on each side and a customer table on each
// side; the CRM account refers to its company, so the customer map's lookup
// `company.code` depends on the companies map.
constexpr const char* kTables = R"(
system fo;
system ce;

table fo.Company {
  DATAAREAID string(4) not null;
  NAME       string(60);
  key (DATAAREAID);
}

table fo.Customer {
  DATAAREAID string(4) not null;
  ACCOUNT    string(20) not null;
  STATUS     string(12);
  STATE      string(12);
  KIND       int;
  NAME       string(100);
  key (DATAAREAID, ACCOUNT);
}

table ce.company {
  companyid guid not null;
  code      string(4) not null;
  name      string(60);
  id companyid;
  key (code);
}

table ce.account {
  accountid  guid not null;
  company    ref ce.company;
  number     string(20);
  status     int;
  state      int;
  kind       string(10);
  searchname string(100);
  origin     string(10) default "fo" local;
  id accountid;
  key (company, number);
}

valuemap kinds { 1 = "person", 2 = "org" }
)";

constexpr const char* kCustomersMap = R"(
map customers "Customers": fo.Customer <-> ce.account {
  version 1.2.3;
  master fo;
  filter ce: status != 0;
  DATAAREAID <-> company.code;
  ACCOUNT    <-> number;
  STATUS     -> status values { "open" = 1, "closed" = 2, * = 0 };
  STATE      <- state values { "open" = 1, "other" = * };
  KIND       <-> kind values kinds;
  upper(NAME) -> searchname;
}
)";

constexpr const char* kCompaniesMap = R"(
map companies: fo.Company <-> ce.company {
  master fo;
  DATAAREAID <-> code;
  NAME       <-> name;
}
)";

// The module with both maps, customers declared before companies.
class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    result_ = CheckText(std::string(kTables) + kCustomersMap + kCompaniesMap);
    ASSERT_TRUE(result_->ok()) << Rendered(*result_);
    ASSERT_TRUE(result_->checked.has_value());
    EXPECT_TRUE(result_->diagnostics.all().empty()) << Rendered(*result_);
  }

  const CheckedModule& model() const { return *result_->checked; }
  const Table& table(const std::string& name) const {
    std::optional<int> index = model().FindTable(name);
    EXPECT_TRUE(index.has_value()) << name;
    return model().tables[static_cast<size_t>(index.value_or(0))];
  }
  int column(const std::string& table_name, const std::string& column_name) const {
    std::optional<int> index = table(table_name).FindColumn(column_name);
    EXPECT_TRUE(index.has_value()) << table_name << "." << column_name;
    return index.value_or(-1);
  }
  const Map& map(const std::string& name) const {
    std::optional<int> index = model().FindMap(name);
    EXPECT_TRUE(index.has_value()) << name;
    return model().maps[static_cast<size_t>(index.value_or(0))];
  }

  std::unique_ptr<frontend::Result> result_;
};

TEST_F(ModelTest, Counts) {
  EXPECT_EQ(model().systems.size(), 2u);
  EXPECT_EQ(model().tables.size(), 4u);
  EXPECT_EQ(model().maps.size(), 2u);
  EXPECT_TRUE(model().tests.empty());
}

TEST_F(ModelTest, TablesKeysAndIds) {
  const Table& account = table("ce.account");
  EXPECT_EQ(account.system_name, "ce");
  EXPECT_EQ(account.name, "account");
  EXPECT_EQ(account.id_column, column("ce.account", "accountid"));
  EXPECT_THAT(account.key_columns,
              ElementsAre(column("ce.account", "company"), column("ce.account", "number")));
  const Column& company = account.columns[static_cast<size_t>(column("ce.account", "company"))];
  EXPECT_EQ(company.type.kind, TypeKind::kRef);
  EXPECT_EQ(company.type.ref_table, model().FindTable("ce.company"));
  EXPECT_EQ(company.key_position, 0);
  const Column& origin = account.columns[static_cast<size_t>(column("ce.account", "origin"))];
  EXPECT_TRUE(origin.local);
  ASSERT_TRUE(origin.default_value.has_value());
  EXPECT_EQ(origin.default_value->ToString(), "\"fo\"");
  EXPECT_TRUE(account.columns[static_cast<size_t>(column("ce.account", "accountid"))].is_id);
}

// customers (map 0) looks up ce.company, which companies (map 1) syncs, so
// companies comes first although it is declared second.
TEST_F(ModelTest, InitialSyncOrderPutsLookupTargetsFirst) {
  int customers = *model().FindMap("customers");
  int companies = *model().FindMap("companies");
  EXPECT_EQ(customers, 0);
  EXPECT_EQ(companies, 1);
  EXPECT_THAT(model().initial_sync_order, ElementsAre(companies, customers));
  EXPECT_THAT(map("customers").depends_on, ElementsAre(companies));
  EXPECT_TRUE(map("companies").depends_on.empty());
}

TEST(InitialSyncOrder, IndependentMapsKeepDeclarationOrder) {
  auto result = CheckText(std::string(kTables) + kCompaniesMap + kCustomersMap);
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  // companies is map 0 here and already first.
  EXPECT_THAT(result->checked->initial_sync_order, ElementsAre(0, 1));
  auto only_companies = CheckText(std::string(kTables) + kCompaniesMap);
  ASSERT_TRUE(only_companies->checked.has_value());
  EXPECT_THAT(only_companies->checked->initial_sync_order, ElementsAre(0));
}

// Only a written lookup orders initial sync: writing ce.C.b through b.code
// needs the ce.B row, which map b creates. c writes through b's table, b
// through a's; declared c, b, a.
TEST(InitialSyncOrder, ChainOfThreeMapsDeclaredBackwards) {
  const char* text = R"(
system fo; system ce;
table fo.A { code string(5) not null; key (code); }
table fo.B { code string(5) not null; acode string(5); key (code); }
table fo.C { code string(5) not null; bcode string(5); key (code); }
table ce.A { code string(5) not null; key (code); }
table ce.B { code string(5) not null; a ref ce.A; key (code); }
table ce.C { code string(5) not null; b ref ce.B; key (code); }
map c: fo.C -> ce.C { code -> code; bcode -> b.code; }
map b: fo.B -> ce.B { code -> code; acode -> a.code; }
map a: fo.A -> ce.A { code -> code; }
)";
  auto result = CheckText(text);
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  EXPECT_THAT(result->checked->initial_sync_order, ElementsAre(2, 1, 0));
  EXPECT_THAT(result->checked->maps[0].depends_on, ElementsAre(1));
  EXPECT_THAT(result->checked->maps[1].depends_on, ElementsAre(2));
}

// Reading a lookup joins the source system's own rows: no other map needs to
// have run, so no dependency.
TEST(InitialSyncOrder, ReadLookupsDoNotOrder) {
  const char* text = R"(
system fo; system ce;
table fo.A { code string(5) not null; key (code); }
table fo.B { code string(5) not null; a ref fo.A; key (code); }
table ce.A { code string(5) not null; key (code); }
table ce.B { code string(5) not null; acode string(5); key (code); }
map b: fo.B -> ce.B { code -> code; a.code -> acode; }
map a: fo.A -> ce.A { code -> code; }
)";
  auto result = CheckText(text);
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  EXPECT_THAT(result->checked->initial_sync_order, ElementsAre(0, 1));
  EXPECT_TRUE(result->checked->maps[0].depends_on.empty());
}

constexpr const char* kCycle = R"(
system fo; system ce;
table fo.A { code string(5) not null; bcode string(5); key (code); }
table fo.B { code string(5) not null; acode string(5); key (code); }
table ce.A { code string(5) not null; b ref ce.B; key (code); }
table ce.B { code string(5) not null; a ref ce.A; key (code); }
map m1: fo.A -> ce.A { code -> code; bcode -> b.code DEFERRED; }
map m2: fo.B -> ce.B { code -> code; acode -> a.code; }
)";

std::string Cycle(bool deferred) {
  std::string text = kCycle;
  text.replace(text.find(" DEFERRED"), 9, deferred ? " deferred" : "");
  return text;
}

TEST(InitialSyncOrder, CycleIsE0410AndEveryMapIsStillOrdered) {
  auto result = CheckText(Cycle(false));
  ASSERT_FALSE(result->ok());
  ASSERT_EQ(result->diagnostics.error_count(), 1u) << Rendered(*result);
  EXPECT_EQ(result->diagnostics.all()[0].code(), "E0410");
  EXPECT_THAT(result->diagnostics.all()[0].message, HasSubstr("'m1', 'm2'"));
  ASSERT_TRUE(result->checked.has_value());
  std::vector<int> order = result->checked->initial_sync_order;
  std::sort(order.begin(), order.end());
  EXPECT_THAT(order, ElementsAre(0, 1));
}

// A deferred lookup is filled after initial sync, so it does not order it:
// the cycle is gone and m2 (whose lookup still orders) runs after m1.
TEST(InitialSyncOrder, DeferredLookupBreaksTheCycle) {
  auto result = CheckText(Cycle(true));
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  const CheckedModule& m = *result->checked;
  EXPECT_TRUE(m.maps[0].fields[1].deferred);
  EXPECT_FALSE(m.maps[1].fields[1].deferred);
  EXPECT_TRUE(m.maps[0].depends_on.empty());
  EXPECT_THAT(m.maps[1].depends_on, ElementsAre(0));
  EXPECT_THAT(m.initial_sync_order, ElementsAre(0, 1));
}

// ---- field maps ----

TEST_F(ModelTest, FieldTargetsAreTheWrittenColumns) {
  const Map& m = map("customers");
  ASSERT_EQ(m.fields.size(), 6u);
  struct Expected {
    Direction direction;
    std::optional<int> left_target;
    std::optional<int> right_target;
  };
  const std::vector<Expected> expected = {
      // A written lookup writes its first (ref) column.
      {Direction::kBoth, column("fo.Customer", "DATAAREAID"), column("ce.account", "company")},
      {Direction::kBoth, column("fo.Customer", "ACCOUNT"), column("ce.account", "number")},
      // One-way fields write one end only.
      {Direction::kToRight, std::nullopt, column("ce.account", "status")},
      {Direction::kToLeft, column("fo.Customer", "STATE"), std::nullopt},
      {Direction::kBoth, column("fo.Customer", "KIND"), column("ce.account", "kind")},
      // A computed end is never written.
      {Direction::kToRight, std::nullopt, column("ce.account", "searchname")},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    const FieldMap& f = m.fields[i];
    EXPECT_EQ(f.direction, expected[i].direction) << "field " << i;
    EXPECT_EQ(f.left_target, expected[i].left_target) << "field " << i;
    EXPECT_EQ(f.right_target, expected[i].right_target) << "field " << i;
    ASSERT_NE(f.left, nullptr);
    ASSERT_NE(f.right, nullptr);
  }
}

TEST_F(ModelTest, LookupIsABoundPathThroughTheRef) {
  const FieldMap& f = map("customers").fields[0];
  const auto* path = std::get_if<PathNode>(&f.right->node);
  ASSERT_NE(path, nullptr);
  ASSERT_TRUE(path->is_lookup());
  ASSERT_EQ(path->hops.size(), 2u);
  EXPECT_EQ(path->hops[0].table, model().FindTable("ce.account"));
  EXPECT_EQ(path->hops[0].column, column("ce.account", "company"));
  EXPECT_EQ(path->hops[1].table, model().FindTable("ce.company"));
  EXPECT_EQ(path->hops[1].column, column("ce.company", "code"));
  EXPECT_EQ(f.right->type, Type::String(4));

  const FieldMap& computed = map("customers").fields[5];
  const auto* call = std::get_if<CallNode>(&computed.left->node);
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->function, Builtin::kUpper);
  EXPECT_EQ(computed.left->type, Type::String(100));
}

// ---- value maps ----

Constant Int(int64_t value) {
  Constant c;
  c.kind = TypeKind::kInt;
  c.int_value = value;
  return c;
}

Constant Str(const std::string& text) {
  Constant c;
  c.kind = TypeKind::kString;
  c.text = text;
  return c;
}

TEST_F(ModelTest, InlineValueMapWithLeftDefault) {
  // STATUS -> status values { "open" = 1, "closed" = 2, * = 0 }: any other
  // left value becomes 0 on the right.
  const FieldMap& f = map("customers").fields[2];
  ASSERT_TRUE(f.values.has_value());
  EXPECT_FALSE(f.values->name.has_value());
  ASSERT_EQ(f.values->entries.size(), 2u);
  EXPECT_EQ(f.values->entries[0], std::pair(Str("open"), Int(1)));
  EXPECT_EQ(f.values->entries[1], std::pair(Str("closed"), Int(2)));
  ASSERT_TRUE(f.values->left_default.has_value());
  EXPECT_EQ(*f.values->left_default, Int(0));
  EXPECT_FALSE(f.values->right_default.has_value());
}

TEST_F(ModelTest, InlineValueMapWithRightDefault) {
  // STATE <- state values { "open" = 1, "other" = * }: any other right value
  // becomes "other" on the left.
  const FieldMap& f = map("customers").fields[3];
  ASSERT_TRUE(f.values.has_value());
  ASSERT_EQ(f.values->entries.size(), 1u);
  EXPECT_EQ(f.values->entries[0], std::pair(Str("open"), Int(1)));
  EXPECT_FALSE(f.values->left_default.has_value());
  ASSERT_TRUE(f.values->right_default.has_value());
  EXPECT_EQ(*f.values->right_default, Str("other"));
}

TEST_F(ModelTest, NamedValueMapKeepsItsName) {
  const FieldMap& f = map("customers").fields[4];
  ASSERT_TRUE(f.values.has_value());
  EXPECT_EQ(f.values->name, "kinds");
  ASSERT_EQ(f.values->entries.size(), 2u);
  EXPECT_EQ(f.values->entries[1], std::pair(Int(2), Str("org")));
  EXPECT_FALSE(f.values->left_default.has_value());
  EXPECT_FALSE(f.values->right_default.has_value());
}

// ---- map settings ----

TEST_F(ModelTest, MapSettings) {
  const Map& m = map("customers");
  EXPECT_EQ(m.label, "Customers");
  EXPECT_EQ(m.direction, Direction::kBoth);
  EXPECT_EQ(m.version.ToString(), "1.2.3");
  EXPECT_EQ(m.version.build, -1);
  ASSERT_TRUE(m.master.has_value());
  EXPECT_EQ(m.master->kind, RuleKind::kSide);
  EXPECT_EQ(m.master->side, Side::kLeft);
  EXPECT_EQ(m.initial, InitialSync::kFromLeft);
  EXPECT_EQ(m.table(Side::kLeft), model().FindTable("fo.Customer"));
  EXPECT_EQ(m.table(Side::kRight), model().FindTable("ce.account"));
  EXPECT_EQ(m.filters[0], nullptr);
  ASSERT_NE(m.filters[1], nullptr);
  EXPECT_EQ(m.filters[1]->type, Type::Bool());
}

TEST(MapSettings, InitialSyncDefaultsAndOverrides) {
  struct Case {
    std::string direction;  // of the map and its one field
    std::string settings;
    InitialSync expected;
  };
  const std::vector<Case> cases = {
      // Default: the side data flows from, or the side that wins conflicts.
      {"->", "", InitialSync::kFromLeft},
      {"<-", "", InitialSync::kFromRight},
      {"<->", "master fo;", InitialSync::kFromLeft},
      {"<->", "master ce;", InitialSync::kFromRight},
      {"<->", "master newest;", InitialSync::kFromLeft},
      // Explicit settings win.
      {"<->", "master fo; initial from ce;", InitialSync::kFromRight},
      {"<->", "master ce; initial none;", InitialSync::kNone},
  };
  for (const Case& c : cases) {
    std::string text =
        "system fo; system ce;\n"
        "table fo.T { a int not null; key (a); }\n"
        "table ce.T { a int not null; key (a); }\n"
        "map m: fo.T " +
        c.direction + " ce.T { " + c.settings + " a " + c.direction + " a; }\n";
    auto result = CheckText(text);
    ASSERT_TRUE(result->ok()) << text << "\n" << Rendered(*result);
    EXPECT_EQ(result->checked->maps[0].initial, c.expected) << text;
  }
}

TEST(MapSettings, FourPartVersion) {
  auto result = CheckText(
      "system fo; system ce;\n"
      "table fo.T { a int not null; key (a); }\n"
      "table ce.T { a int not null; key (a); }\n"
      "map m: fo.T -> ce.T { version 1.0.7.42; a -> a; }\n");
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  const Version& v = result->checked->maps[0].version;
  EXPECT_EQ(v.major, 1);
  EXPECT_EQ(v.minor, 0);
  EXPECT_EQ(v.patch, 7);
  EXPECT_EQ(v.build, 42);
  EXPECT_EQ(v.ToString(), "1.0.7.42");
}

// ---- the shipped example ----

TEST(Examples, MinimalExampleChecksClean) {
  std::vector<std::string> paths = {std::string(DUET_SOURCE_DIR) +
                                    "/examples/minimal/customers.duet"};
  auto result = frontend::CheckPaths(paths, frontend::Options{});
  ASSERT_TRUE(result->ok()) << Rendered(*result);
  ASSERT_TRUE(result->checked.has_value());
  const CheckedModule& m = *result->checked;
  EXPECT_EQ(m.systems.size(), 2u);
  EXPECT_EQ(m.tables.size(), 3u);
  ASSERT_EQ(m.maps.size(), 1u);
  EXPECT_EQ(m.tests.size(), 2u);
  EXPECT_EQ(m.maps[0].version.ToString(), "1.0.5");
  EXPECT_THAT(m.initial_sync_order, ElementsAre(0));
  // The first test expects a row; the second expects the row to be filtered.
  EXPECT_EQ(m.tests[0].expectation, Expectation::kRow);
  EXPECT_EQ(m.tests[0].given_side, Side::kLeft);
  EXPECT_EQ(m.tests[1].expectation, Expectation::kFiltered);
}

}  // namespace
}  // namespace duet::check
