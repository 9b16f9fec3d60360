// Table-driven tests of the reconcile decision (runtime/engine/decide.h):
// every field rule against every way the two sides of a pair can change,
// one-way fields, a delete against an update, pairs created on either
// side, and rows the transform fails on. No database, no clock: the facts
// that cost a read are given.
#include "runtime/engine/decide.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace duet::engine {
namespace {

using endpoint::Value;

// A map between systems "fo" (side 0) and "ce" (side 1) whose transforms
// copy values: side s's output j is its row's value j, written to the
// other side's column j. Each field is one slot on each side (or on one,
// for a one-way field).
struct TestMap {
  std::vector<FieldPlan> fields;
  std::vector<int> current_index[2];
  PairRules rules;

  TestMap(std::vector<FieldPlan> f, bool transform0 = true, bool transform1 = true,
          std::string master = "fo")
      : fields(std::move(f)), master_(std::move(master)) {
    size_t n = fields.size();
    for (int s = 0; s < 2; ++s) {
      bool other_transform = s == 0 ? transform1 : transform0;
      for (size_t j = 0; other_transform && j < n; ++j) {
        current_index[s].push_back(static_cast<int>(j));
      }
    }
    rules.fields = &fields;
    rules.system[0] = "fo";
    rules.system[1] = "ce";
    rules.master = master_;
    rules.has_transform[0] = transform0;
    rules.has_transform[1] = transform1;
    rules.current_index[0] = &current_index[0];
    rules.current_index[1] = &current_index[1];
  }
  TestMap(const TestMap&) = delete;

 private:
  std::string master_;
};

FieldPlan Field(std::string rule, int slot, bool to_ce = true, bool to_fo = true) {
  FieldPlan f;
  f.rule = std::move(rule);
  if (to_ce) f.slots[0] = {slot};
  if (to_fo) f.slots[1] = {slot};
  return f;
}

// A pair of rows of a TestMap, with the projections its transforms make
// of them and the base of its link. Values are ints; kNoRow for a side
// without a row.
constexpr int kNoRow = -1;

struct Pair {
  std::vector<Value> row[2];
  Projection proj[2];
  Base base;
  PairSnapshot snap;

  // `values[s]`: side s's row (kNoRow: none); `base`: the value of every
  // field at the last sync (empty: no base).
  Pair(const TestMap& map, const std::vector<int> values[2], const std::vector<int>& base_values,
       bool linked = true) {
    for (int s = 0; s < 2; ++s) {
      bool present = !values[s].empty() && values[s][0] != kNoRow;
      if (present) {
        for (int v : values[s]) row[s].push_back(Value::Int(v));
      }
      proj[s].status = DUET_FILTERED;
      if (present && map.rules.has_transform[s]) {
        proj[s].status = DUET_OK;
        proj[s].values = row[s];
      }
      snap.row[s] = present ? &row[s] : nullptr;
      snap.proj[s] = &proj[s];
    }
    for (int v : base_values) {
      for (int s = 0; s < 2; ++s) {
        if (map.rules.has_transform[s]) base.p[s].push_back(Value::Int(v));
        if (map.rules.has_transform[1 - s]) base.c[s].push_back(Value::Int(v));
      }
    }
    snap.rules = &map.rules;
    snap.linked = linked;
    snap.base = base_values.empty() ? nullptr : &base;
  }
  Pair(const Pair&) = delete;
};

// The facts a test gives, and Decide's questions about them.
struct Facts {
  int only_app_changed = -1;
  bool kept_app_changed = true;
  std::optional<double> change_time[2];
};

// What side s's transform makes of a row of side s.
using Transform = std::function<Projection(int s, const std::vector<Value>& row)>;

// Decide, answering its questions from `facts` and, for rows as a merge
// leaves them, with `transform`; `asked` gets the questions in the order
// asked.
Decision DecideWith(PairSnapshot snap, const Facts& facts, std::vector<Need>* asked = nullptr,
                    const Transform& transform = {}) {
  for (int round = 0; round < 12; ++round) {
    Decision d = Decide(snap);
    if (d.need == Need::kNothing) return d;
    if (asked) asked->push_back(d.need);
    switch (d.need) {
      case Need::kOnlyAppChanged:
        EXPECT_FALSE(snap.facts.only_app_changed) << "asked twice";
        snap.facts.only_app_changed = facts.only_app_changed;
        break;
      case Need::kKeptAppChanged:
        EXPECT_FALSE(snap.facts.kept_app_changed) << "asked twice";
        EXPECT_TRUE(d.side == 0 || d.side == 1);
        snap.facts.kept_app_changed = facts.kept_app_changed;
        break;
      case Need::kChangeTimes:
        EXPECT_FALSE(snap.facts.change_times_read) << "asked twice";
        snap.facts.change_times_read = true;
        snap.facts.change_time[0] = facts.change_time[0];
        snap.facts.change_time[1] = facts.change_time[1];
        break;
      case Need::kMergedRows:
        EXPECT_TRUE(transform) << "a merged row to project, and no transform";
        EXPECT_TRUE(d.project[0] || d.project[1]);
        for (int s = 0; s < 2 && transform; ++s) {
          if (d.project[s])
            snap.facts.merged[s].push_back({*d.project[s], transform(s, *d.project[s])});
        }
        break;
      case Need::kNothing:
        break;
    }
  }
  ADD_FAILURE() << "Decide kept asking";
  return Decision();
}

// ---- two-way fields: each rule against each way the sides changed ----

enum class Change { kNeither, kLeft, kRight, kBothSame, kBothDiffer };
constexpr Change kChanges[] = {Change::kNeither, Change::kLeft, Change::kRight, Change::kBothSame,
                               Change::kBothDiffer};

const char* Name(Change c) {
  switch (c) {
    case Change::kNeither:
      return "neither";
    case Change::kLeft:
      return "left";
    case Change::kRight:
      return "right";
    case Change::kBothSame:
      return "both-same";
    case Change::kBothDiffer:
      return "both-differ";
  }
  return "?";
}

// The pair's values after `c` from base 10: fo's change is 11, ce's 12
// (or 11 when both changed alike).
void Values(Change c, int* left, int* right) {
  *left = c == Change::kLeft || c == Change::kBothSame || c == Change::kBothDiffer ? 11 : 10;
  *right = c == Change::kRight || c == Change::kBothSame ? 11 : c == Change::kBothDiffer ? 12 : 10;
}

// What a rule does when both sides changed a field differently: the
// winning side, or -1 for a conflict.
struct RuleCase {
  std::string rule;
  int winner_on_conflict;
  Facts facts;
};

TEST(DecideTest, EveryRuleAgainstEveryChangeOfALinkedPair) {
  Facts ce_newer;
  ce_newer.change_time[0] = 100.0;
  ce_newer.change_time[1] = 200.0;
  Facts fo_newer;
  fo_newer.change_time[0] = 300.0;
  fo_newer.change_time[1] = 200.0;
  const RuleCase kRules[] = {
      {"fo", 0, {}},           {"ce", 1, {}},           {"manual", -1, {}},
      {"newest", 1, ce_newer}, {"newest", 0, fo_newer},
  };
  for (const RuleCase& rc : kRules) {
    for (Change c : kChanges) {
      SCOPED_TRACE(rc.rule + " / " + Name(c));
      TestMap map({Field(rc.rule, 0)});
      int left;
      int right;
      Values(c, &left, &right);
      std::vector<int> values[2] = {{left}, {right}};
      Pair pair(map, values, {10});
      std::vector<Need> asked;
      Decision d = DecideWith(pair.snap, rc.facts, &asked);
      ASSERT_EQ(d.step, Step::kMerge);
      std::vector<int> expect[2];
      size_t conflicts = 0;
      if (c == Change::kLeft) expect[0] = {0};
      if (c == Change::kRight) expect[1] = {0};
      if (c == Change::kBothDiffer) {
        if (rc.winner_on_conflict >= 0) {
          expect[rc.winner_on_conflict] = {0};
        } else {
          conflicts = 1;
        }
      }
      EXPECT_EQ(d.write_slots[0], expect[0]);
      EXPECT_EQ(d.write_slots[1], expect[1]);
      EXPECT_EQ(d.conflicts.size(), conflicts);
      // Only a real conflict costs the reads: who changed, then (newest)
      // when.
      std::vector<Need> expect_asked;
      if (c == Change::kBothDiffer) {
        expect_asked.push_back(Need::kOnlyAppChanged);
        if (rc.rule == "newest") expect_asked.push_back(Need::kChangeTimes);
      }
      EXPECT_EQ(asked, expect_asked);
    }
  }
}

TEST(DecideTest, NewestWithoutChangeTimesFallsBackToTheTriggeringSide) {
  const std::optional<double> kTimes[][2] = {
      {std::nullopt, std::nullopt}, {5.0, std::nullopt}, {std::nullopt, 5.0}, {5.0, 5.0}};
  for (int trigger = 0; trigger < 2; ++trigger) {
    for (const auto& times : kTimes) {
      TestMap map({Field("newest", 0)});
      std::vector<int> values[2] = {{11}, {12}};
      Pair pair(map, values, {10});
      pair.snap.trigger = trigger;
      Facts facts;
      facts.change_time[0] = times[0];
      facts.change_time[1] = times[1];
      int expect = times[0] && times[1] ? 0 : times[0] ? 0 : times[1] ? 1 : trigger;
      Decision d = DecideWith(pair.snap, facts);
      EXPECT_EQ(d.write_slots[expect], std::vector<int>{0}) << trigger;
      EXPECT_TRUE(d.write_slots[1 - expect].empty());
    }
  }
}

TEST(DecideTest, PerFieldMastersDecideEachFieldAlone) {
  // fo masters field 0, ce field 1, field 2 is manual; both sides changed
  // every field.
  TestMap map({Field("fo", 0), Field("ce", 1), Field("manual", 2)});
  std::vector<int> values[2] = {{11, 21, 31}, {12, 22, 32}};
  Pair pair(map, values, {10, 20, 30});
  Decision d = DecideWith(pair.snap, Facts());
  ASSERT_EQ(d.step, Step::kMerge);
  EXPECT_EQ(d.write_slots[0], std::vector<int>{0});
  EXPECT_EQ(d.write_slots[1], std::vector<int>{1});
  ASSERT_EQ(d.conflicts.size(), 1u);
  EXPECT_EQ(d.conflicts[0], &map.fields[2]);
}

TEST(DecideTest, TheSideOnlyAnApplicationChangedWinsOverTheRule) {
  // Both differ from a base older than a write of duet's whose batch never
  // committed: the side an application changed wins, whatever the rule.
  for (const char* rule : {"fo", "ce", "manual", "newest"}) {
    for (int app = 0; app < 2; ++app) {
      TestMap map({Field(rule, 0)});
      std::vector<int> values[2] = {{11}, {12}};
      Pair pair(map, values, {10});
      Facts facts;
      facts.only_app_changed = app;
      std::vector<Need> asked;
      Decision d = DecideWith(pair.snap, facts, &asked);
      EXPECT_EQ(d.write_slots[app], std::vector<int>{0}) << rule;
      EXPECT_TRUE(d.write_slots[1 - app].empty()) << rule;
      EXPECT_TRUE(d.conflicts.empty()) << rule;
      EXPECT_EQ(asked, std::vector<Need>{Need::kOnlyAppChanged}) << rule;
    }
  }
}

TEST(DecideTest, TakeAndSeedWinEveryDifferingField) {
  for (Change c : kChanges) {
    for (int winner = 0; winner < 2; ++winner) {
      for (bool by_take : {true, false}) {
        SCOPED_TRACE(std::string(Name(c)) + (by_take ? " take " : " seed ") +
                     std::to_string(winner));
        TestMap map({Field("manual", 0)});
        int left;
        int right;
        Values(c, &left, &right);
        std::vector<int> values[2] = {{left}, {right}};
        Pair pair(map, values, {10});
        (by_take ? pair.snap.take : pair.snap.seed) = winner;
        std::vector<Need> asked;
        Decision d = DecideWith(pair.snap, Facts(), &asked);
        bool differs = left != right;
        EXPECT_EQ(d.write_slots[winner], differs ? std::vector<int>{0} : std::vector<int>{});
        EXPECT_TRUE(d.write_slots[1 - winner].empty());
        EXPECT_TRUE(d.conflicts.empty());
        EXPECT_TRUE(asked.empty());
      }
    }
  }
}

TEST(DecideTest, APairWithoutBaseGoesByTheRuleWhereItDiffers) {
  // A new pair matched by key in live sync (seed -1) or in an initial sync
  // whose rows were both edited since it began (kByRule).
  for (int seed : {-1, kByRule}) {
    for (const char* rule : {"fo", "ce", "manual"}) {
      TestMap map({Field(rule, 0), Field(rule, 1)});
      std::vector<int> values[2] = {{1, 5}, {2, 5}};
      Pair pair(map, values, {});
      pair.snap.linked = false;
      pair.snap.matched = true;
      pair.snap.seed = seed;
      std::vector<Need> asked;
      Decision d = DecideWith(pair.snap, Facts(), &asked);
      ASSERT_EQ(d.step, Step::kMerge);
      std::string r = rule;
      EXPECT_EQ(d.write_slots[0], r == "fo" ? std::vector<int>{0} : std::vector<int>{}) << r;
      EXPECT_EQ(d.write_slots[1], r == "ce" ? std::vector<int>{0} : std::vector<int>{}) << r;
      EXPECT_EQ(d.conflicts.size(), r == "manual" ? 1u : 0u) << r;
      EXPECT_TRUE(asked.empty()) << "no base: nothing to ask who changed it";
    }
  }
}

TEST(DecideTest, SeedAfterEditsLetsAnEditNewerThanTheInitialSyncWin) {
  for (int seed = 0; seed < 2; ++seed) {
    for (int mask = 0; mask < 4; ++mask) {
      bool edited[2] = {(mask & 1) != 0, (mask & 2) != 0};
      int expect = !edited[1 - seed] ? seed : edited[seed] ? kByRule : 1 - seed;
      EXPECT_EQ(SeedAfterEdits(seed, edited), expect) << seed << " " << mask;
    }
  }
}

// ---- one-way fields ----

TEST(DecideTest, OneWayFieldsFlowOnlyFromTheirSource) {
  for (int source = 0; source < 2; ++source) {
    for (Change c : kChanges) {
      for (int take = -1; take < 2; ++take) {
        SCOPED_TRACE(std::string(Name(c)) + " source " + std::to_string(source) + " take " +
                     std::to_string(take));
        // Field 0 flows from `source` only, under any rule.
        TestMap map({Field("manual", 0, source == 0, source == 1)});
        int left;
        int right;
        Values(c, &left, &right);
        std::vector<int> values[2] = {{left}, {right}};
        Pair pair(map, values, {10});
        pair.snap.take = take;
        std::vector<Need> asked;
        Decision d = DecideWith(pair.snap, Facts(), &asked);
        bool source_changed = (source == 0 ? left : right) != 10;
        bool write = left != right && (source_changed || take == source);
        EXPECT_EQ(d.write_slots[source], write ? std::vector<int>{0} : std::vector<int>{});
        EXPECT_TRUE(d.write_slots[1 - source].empty()) << "the target's edits never flow back";
        EXPECT_TRUE(d.conflicts.empty());
        EXPECT_TRUE(asked.empty());
      }
    }
  }
}

TEST(DecideTest, AConstantIsNotWrittenBackToTheRowItWasInsertedFrom) {
  for (bool constant : {false, true}) {
    TestMap map({Field("fo", 0, true, false)});
    map.fields[0].constant[0] = constant;
    std::vector<int> values[2] = {{7}, {3}};
    Pair pair(map, values, {});
    pair.snap.matched = true;
    pair.snap.just_inserted = true;
    pair.snap.seed = 1;
    Decision d = DecideWith(pair.snap, Facts());
    EXPECT_EQ(d.write_slots[0], constant ? std::vector<int>{} : std::vector<int>{0});
  }
}

TEST(DecideTest, AOneWayMapWritesOnlyTheTarget) {
  // Only fo has a transform: ce is written, never read.
  TestMap map({Field("fo", 0, true, false)}, true, false);
  for (Change c : kChanges) {
    int left;
    int right;
    Values(c, &left, &right);
    std::vector<int> values[2] = {{left}, {right}};
    Pair pair(map, values, {10});
    Decision d = DecideWith(pair.snap, Facts());
    ASSERT_EQ(d.step, Step::kMerge) << Name(c);
    bool write = left != right && left != 10;
    EXPECT_EQ(d.write_slots[0], write ? std::vector<int>{0} : std::vector<int>{}) << Name(c);
    EXPECT_TRUE(d.write_slots[1].empty());
  }
}

// ---- one-way fields computed from two-way ones ----

// A map like the standard customers map, whose one-way fields are computed
// from two-way columns (`upper(trim(ORGANIZATIONNAME)) -> msdyn_searchname`).
// Both sides' rows have six columns, of which side s's transform outputs
// are written into the other side's column of the same number:
//   0 name, 1 first, 2 last   two-way, each copied;
//   3 search   fo -> ce: 10 * name            (msdyn_searchname);
//   4 contact  fo -> ce: 100 * first + last   (reads two two-way columns);
//   5 SEARCH   fo <- ce: 10 * name + 1        (the mirror).
// fo's transform fails on a name of 99 and filters a name of 98 out.
constexpr int kFailingName = 99;
constexpr int kFilteredName = 98;

struct ComputedMap {
  std::vector<FieldPlan> fields;
  std::vector<int> current_index[2];
  std::vector<int> inputs = {0, 1, 2};  // what each side's transform reads
  PairRules rules;

  // `name_rule`: the rule of the name field (the map's is fo).
  explicit ComputedMap(const std::string& name_rule) {
    fields = {Field(name_rule, 0),
              Field("fo", 1),
              Field("fo", 2),
              Field("fo", 3, true, false),
              Field("fo", 4, true, false),
              Field("fo", 5, false, true)};
    for (int s = 0; s < 2; ++s) {
      for (int j = 0; j < 6; ++j) current_index[s].push_back(j);
    }
    rules.fields = &fields;
    rules.input_index[0] = rules.input_index[1] = &inputs;
    rules.system[0] = "fo";
    rules.system[1] = "ce";
    rules.master = "fo";
    rules.has_transform[0] = rules.has_transform[1] = true;
    rules.current_index[0] = &current_index[0];
    rules.current_index[1] = &current_index[1];
  }
  ComputedMap(const ComputedMap&) = delete;

  static Projection Project(int s, const std::vector<Value>& row) {
    Projection p;
    auto at = [&](int i) { return row[static_cast<size_t>(i)].int_value(); };
    if (s == 0 && at(0) == kFailingName) {
      p.status = DUET_ERROR;
      p.error_kind = "division_by_zero";
      p.message = "search: division by zero";
      return p;
    }
    if (s == 0 && at(0) == kFilteredName) {
      p.status = DUET_FILTERED;
      return p;
    }
    p.values = row;
    if (s == 0) {
      p.values[3] = Value::Int(10 * at(0));
      p.values[4] = Value::Int(100 * at(1) + at(2));
    } else {
      p.values[5] = Value::Int(10 * at(0) + 1);
    }
    return p;
  }
};

// (name, first, last) of one side's row.
struct Names {
  int name;
  int first;
  int last;
};

// A pair of a ComputedMap synced at (10, 1, 2) and changed since to
// `now[s]`, its computed columns as that sync left them; or, without a
// base, a new pair matched by key whose computed columns are empty (0).
struct ComputedPair {
  std::vector<Value> row[2];
  Projection proj[2];
  Base base;
  PairSnapshot snap;

  ComputedPair(const ComputedMap& map, const Names now[2], bool linked = true) {
    // The computed columns each side's row got from the last sync.
    const std::vector<int> synced_computed[2] = {{0, 0, 101}, {100, 102, 0}};
    for (int s = 0; s < 2; ++s) {
      std::vector<Value> synced = {Value::Int(10), Value::Int(1), Value::Int(2)};
      row[s] = {Value::Int(now[s].name), Value::Int(now[s].first), Value::Int(now[s].last)};
      for (int v : synced_computed[s]) {
        synced.push_back(Value::Int(v));
        row[s].push_back(Value::Int(linked ? v : 0));
      }
      base.p[s] = ComputedMap::Project(s, synced).values;
      base.c[s] = synced;
      proj[s] = ComputedMap::Project(s, row[s]);
      snap.row[s] = &row[s];
      snap.proj[s] = &proj[s];
    }
    snap.rules = &map.rules;
    snap.linked = linked;
    snap.matched = !linked;
    snap.base = linked ? &base : nullptr;
  }
  ComputedPair(const ComputedPair&) = delete;
};

// What a merge writes into one side: the other side's output slot -> value.
using Writes = std::map<int, int64_t>;

// What decision `d` writes into side 1 - w.
Writes Written(const Decision& d, const ComputedPair& pair, int w) {
  const Projection& values = d.merged[w] ? *d.merged[w] : pair.proj[w];
  Writes out;
  for (int j : d.write_slots[w]) out[j] = values.values[static_cast<size_t>(j)].int_value();
  return out;
}

// How a ComputedPair's merge comes about.
enum class Start { kLive, kTakeFo, kTakeCe, kInitialFromFo, kInitialFromCe };

struct ComputedCase {
  std::string name;
  std::string name_rule;
  Names now[2];
  Start start;
  Writes into_ce;
  Writes into_fo;
  int first_into;
};

ComputedCase Case(std::string name, std::string name_rule, Names fo, Names ce, Start start,
                  Writes into_ce, Writes into_fo, int first_into) {
  return {std::move(name),    std::move(name_rule), {fo, ce},  start,
          std::move(into_ce), std::move(into_fo),   first_into};
}

// Every one-way field equals its expression on its source row as the merge
// leaves it: the values the other side writes into that row included,
// whichever side changed the two-way columns it reads, and whichever side
// a rule, a seed or `take` lets win them. The write whose values come from
// a merged row goes second (first_into), so that a refusal of the write
// into that row keeps them out.
TEST(DecideTest, OneWayFieldsAreComputedFromTheRowAsMerged) {
  const ComputedCase kCases[] = {
      // ce renames: fo takes the name, ce's search follows fo's new name.
      Case("ce changes name", "fo", {10, 1, 2}, {12, 1, 2}, Start::kLive, {{3, 120}},
           {{0, 12}, {5, 121}}, 0),
      // The mirror: fo's SEARCH follows ce's new name.
      Case("fo changes name", "fo", {11, 1, 2}, {10, 1, 2}, Start::kLive, {{0, 11}, {3, 110}},
           {{5, 111}}, 1),
      Case("each side changes one source of contact", "fo", {10, 3, 2}, {10, 1, 4}, Start::kLive,
           {{1, 3}, {4, 304}}, {{2, 4}}, 0),
      Case("both rename, the name's master is ce", "ce", {11, 1, 2}, {12, 1, 2}, Start::kLive,
           {{3, 120}}, {{0, 12}, {5, 121}}, 0),
      Case("both rename, the name's master is fo", "fo", {11, 1, 2}, {12, 1, 2}, Start::kLive,
           {{0, 11}, {3, 110}}, {{5, 111}}, 1),
      // A manual conflict: each side keeps its name, and each computed
      // field follows the name its source row keeps.
      Case("both rename, manual", "manual", {11, 1, 2}, {12, 1, 2}, Start::kLive, {{3, 110}},
           {{5, 121}}, 1),
      Case("resync from ce over fo's rename", "fo", {11, 1, 2}, {10, 1, 2}, Start::kTakeCe, {},
           {{0, 10}}, 1),
      Case("resync from fo over ce's rename", "fo", {10, 1, 2}, {12, 1, 2}, Start::kTakeFo,
           {{0, 10}}, {}, 1),
      Case("initial sync from ce, matched by key", "fo", {11, 1, 2}, {12, 1, 2},
           Start::kInitialFromCe, {{3, 120}, {4, 102}}, {{0, 12}, {5, 121}}, 0),
      Case("initial sync from fo, matched by key", "fo", {11, 1, 2}, {12, 1, 2},
           Start::kInitialFromFo, {{0, 11}, {3, 110}, {4, 102}}, {{5, 111}}, 1),
      // fo's contact reads ce's new last name, ce's SEARCH fo's new name:
      // each write's values depend on the other write.
      Case("computed fields on both sides read what the other side changed", "fo", {11, 1, 2},
           {10, 1, 4}, Start::kLive, {{0, 11}, {3, 110}, {4, 104}}, {{2, 4}, {5, 111}}, 1),
  };
  for (const ComputedCase& c : kCases) {
    SCOPED_TRACE(c.name);
    ComputedMap map(c.name_rule);
    bool initial = c.start == Start::kInitialFromFo || c.start == Start::kInitialFromCe;
    ComputedPair pair(map, c.now, /*linked=*/!initial);
    if (initial) pair.snap.seed = c.start == Start::kInitialFromFo ? 0 : 1;
    if (c.start == Start::kTakeFo || c.start == Start::kTakeCe) {
      pair.snap.take = c.start == Start::kTakeFo ? 0 : 1;
    }
    Decision d = DecideWith(pair.snap, Facts(), nullptr, ComputedMap::Project);
    ASSERT_EQ(d.step, Step::kMerge);
    EXPECT_EQ(Written(d, pair, 0), c.into_ce);
    EXPECT_EQ(Written(d, pair, 1), c.into_fo);
    EXPECT_EQ(d.conflicts.size(), c.name_rule == "manual" ? 1u : 0u);
    EXPECT_EQ(d.first_into, c.first_into);
  }
}

TEST(DecideTest, OnlyAMergeThatWritesIntoASourceRowProjectsIt) {
  // fo renames: nothing is written into fo, so fo's row is not projected
  // again; ce's row is, as it gets fo's name.
  ComputedMap map("fo");
  Names now[2] = {{11, 1, 2}, {10, 1, 2}};
  ComputedPair pair(map, now);
  int projected[2] = {0, 0};
  Transform counted = [&](int s, const std::vector<Value>& row) {
    ++projected[s];
    return ComputedMap::Project(s, row);
  };
  std::vector<Need> asked;
  DecideWith(pair.snap, Facts(), &asked, counted);
  EXPECT_EQ(asked, std::vector<Need>{Need::kMergedRows});
  EXPECT_EQ(projected[0], 0);
  EXPECT_EQ(projected[1], 1);
  // Nothing changed: nothing to project.
  Names same[2] = {{10, 1, 2}, {10, 1, 2}};
  ComputedPair synced(map, same);
  asked.clear();
  Decision d = DecideWith(synced.snap, Facts(), &asked, counted);
  EXPECT_TRUE(asked.empty());
  EXPECT_TRUE(d.write_slots[0].empty());
  EXPECT_TRUE(d.write_slots[1].empty());
}

TEST(DecideTest, ARowTheMergeWouldMakeThatCannotBeProjectedIsAnErrorItem) {
  // ce renames to a name fo's transform fails on: nothing is written, as
  // neither row could be left as the merge would make it.
  ComputedMap map("fo");
  Names now[2] = {{10, 1, 2}, {kFailingName, 1, 2}};
  ComputedPair pair(map, now);
  Decision d = DecideWith(pair.snap, Facts(), nullptr, ComputedMap::Project);
  ASSERT_EQ(d.step, Step::kError);
  EXPECT_EQ(d.error->side, 0);
  EXPECT_EQ(d.error->kind, "division_by_zero");
  EXPECT_EQ(d.error->reason, "search: division by zero (the row with the values ce gives it)");
  EXPECT_EQ(d.error->attach, ErrorItem::Attach::kBothRows);
}

TEST(DecideTest, ARowTheMergeTakesOutOfItsFilterKeepsItsOneWayFields) {
  // ce renames to a name that takes fo's row out of fo's filter: the name
  // is written, and what flows from fo alone stays as it is.
  ComputedMap map("fo");
  Names now[2] = {{10, 1, 2}, {kFilteredName, 1, 2}};
  ComputedPair pair(map, now);
  Decision d = DecideWith(pair.snap, Facts(), nullptr, ComputedMap::Project);
  ASSERT_EQ(d.step, Step::kMerge);
  EXPECT_EQ(Written(d, pair, 0), Writes{});
  EXPECT_EQ(Written(d, pair, 1), (Writes{{0, kFilteredName}, {5, 981}}));
}

TEST(DecideTest, AValueThatDoesNotFitFailsTheMergeBeforeItIsProjected) {
  // ce's name does not fit fo's column: the row fails, and no row with it
  // is projected.
  ComputedMap map("fo");
  Names now[2] = {{10, 1, 2}, {12, 1, 2}};
  ComputedPair pair(map, now);
  pair.proj[1].slot_errors.push_back({0, "string_too_long", "ORGANIZATIONNAME: too long"});
  std::vector<Need> asked;
  Decision d = DecideWith(pair.snap, Facts(), &asked, ComputedMap::Project);
  ASSERT_EQ(d.step, Step::kError);
  EXPECT_EQ(d.error->side, 1);
  EXPECT_EQ(d.error->kind, "string_too_long");
  EXPECT_TRUE(asked.empty());
  // A computed value that does not fit fails only as merged: fo's search of
  // the new name is cut off.
  ComputedPair fits(map, now);
  Transform cut = [](int s, const std::vector<Value>& row) {
    Projection p = ComputedMap::Project(s, row);
    if (s == 0 && row[0].int_value() == 12) {
      p.values[3] = Value::Unknown();
      p.slot_errors.push_back({3, "string_too_long", "search: too long"});
    }
    return p;
  };
  d = DecideWith(fits.snap, Facts(), nullptr, cut);
  ASSERT_EQ(d.step, Step::kError);
  EXPECT_EQ(d.error->side, 0);
  EXPECT_EQ(d.error->reason, "search: too long");
}

// ---- key changes ----

TEST(DecideTest, AChangedKeyOfALinkedPairIsWrittenLikeAnyField) {
  // Field 0 is the alternate key: the link, not the key, makes the pair, so
  // a new key value is an update of the partner, never a new pair.
  TestMap map({Field("fo", 0), Field("fo", 1)});
  for (int side = 0; side < 2; ++side) {
    std::vector<int> values[2] = {{1, 5}, {1, 5}};
    values[side][0] = 2;
    Pair pair(map, values, {1, 5});
    Decision d = DecideWith(pair.snap, Facts());
    ASSERT_EQ(d.step, Step::kMerge);
    EXPECT_EQ(d.write_slots[side], std::vector<int>{0});
    EXPECT_TRUE(d.write_slots[1 - side].empty());
  }
}

// ---- a delete against an update ----

TEST(DecideTest, ADeleteAgainstAnUpdateGoesByTheMapsRule) {
  Facts gone_newer[2];
  gone_newer[0].change_time[0] = 9.0;
  gone_newer[0].change_time[1] = 1.0;
  gone_newer[1].change_time[0] = 1.0;
  gone_newer[1].change_time[1] = 9.0;
  for (int gone = 0; gone < 2; ++gone) {
    int kept = 1 - gone;
    for (const char* master : {"fo", "ce", "manual", "newest-gone", "newest-kept"}) {
      for (int kept_change = 0; kept_change < 3; ++kept_change) {
        // 0: unchanged; 1: changed by an application; 2: differs from the
        // base only by a write of duet's whose batch never committed.
        std::string m = master;
        SCOPED_TRACE(m + " gone " + std::to_string(gone) + " change " +
                     std::to_string(kept_change));
        std::string rule = m.rfind("newest", 0) == 0 ? "newest" : m;
        TestMap map({Field("fo", 0)}, true, true, rule);
        std::vector<int> values[2];
        values[gone] = {kNoRow};
        values[kept] = {kept_change == 0 ? 10 : 11};
        Pair pair(map, values, {10});
        pair.snap.trigger = gone;
        Facts facts = m == "newest-gone"   ? gone_newer[gone]
                      : m == "newest-kept" ? gone_newer[kept]
                                           : Facts();
        facts.kept_app_changed = kept_change == 1;
        std::vector<Need> asked;
        Decision d = DecideWith(pair.snap, facts, &asked);
        int winner = gone;
        if (kept_change == 1) {
          winner = m == "fo"            ? 0
                   : m == "ce"          ? 1
                   : m == "manual"      ? -1
                   : m == "newest-gone" ? gone
                                        : kept;
        }
        if (winner < 0) {
          ASSERT_EQ(d.step, Step::kError);
          EXPECT_EQ(d.error->kind, "conflict");
          EXPECT_EQ(d.error->side, kept);
          EXPECT_EQ(d.error->attach, ErrorItem::Attach::kRowAndPartner);
        } else if (winner == gone) {
          EXPECT_EQ(d.step, Step::kDelete);
          EXPECT_EQ(d.side, kept);
        } else {
          EXPECT_EQ(d.step, Step::kRestore);
          EXPECT_EQ(d.side, gone);
        }
        std::vector<Need> expect_asked;
        if (kept_change != 0) expect_asked.push_back(Need::kKeptAppChanged);
        if (kept_change == 1 && rule == "newest") expect_asked.push_back(Need::kChangeTimes);
        EXPECT_EQ(asked, expect_asked);
      }
    }
  }
}

TEST(DecideTest, TakeSettlesADeleteAgainstAnUpdate) {
  for (int gone = 0; gone < 2; ++gone) {
    for (int take = 0; take < 2; ++take) {
      TestMap map({Field("fo", 0)}, true, true, "manual");
      std::vector<int> values[2];
      values[gone] = {kNoRow};
      values[1 - gone] = {11};
      Pair pair(map, values, {10});
      pair.snap.take = take;
      Decision d = DecideWith(pair.snap, Facts());
      EXPECT_EQ(d.step, take == gone ? Step::kDelete : Step::kRestore);
      EXPECT_EQ(d.side, take == gone ? 1 - gone : gone);
    }
  }
}

TEST(DecideTest, ALinkedPairWithoutRowsOrFilteredOutIsUnlinked) {
  TestMap map({Field("fo", 0)});
  std::vector<int> none[2] = {{kNoRow}, {kNoRow}};
  Pair both_gone(map, none, {10});
  Decision d = DecideWith(both_gone.snap, Facts());
  EXPECT_EQ(d.step, Step::kUnlink);
  EXPECT_TRUE(d.resolve);
  for (int s = 0; s < 2; ++s) {
    std::vector<int> values[2] = {{11}, {10}};
    Pair filtered(map, values, {10});
    filtered.proj[s].status = DUET_FILTERED;
    filtered.proj[s].values.clear();
    d = DecideWith(filtered.snap, Facts());
    EXPECT_EQ(d.step, Step::kUnlink) << s;
    EXPECT_TRUE(d.resolve) << s;
  }
}

TEST(DecideTest, AOneWayTargetsDeletedRowIsUnlinkedNotRestored) {
  // ce has no transform: its deleted row comes back with fo's next change.
  TestMap map({Field("fo", 0, true, false)}, true, false);
  std::vector<int> values[2] = {{11}, {kNoRow}};
  Pair pair(map, values, {10});
  Decision d = DecideWith(pair.snap, Facts());
  EXPECT_EQ(d.step, Step::kUnlink);
  EXPECT_TRUE(d.resolve);
  // fo's row gone and ce's changed: ce cannot say what fo holds.
  std::vector<int> reverse[2] = {{kNoRow}, {11}};
  Pair back(map, reverse, {10});
  back.snap.take = 1;
  d = DecideWith(back.snap, Facts());
  EXPECT_EQ(d.step, Step::kUnlink);
  EXPECT_FALSE(d.resolve);
}

// ---- a pair created on either side ----

TEST(DecideTest, AnUnlinkedRowLooksForItsPartner) {
  TestMap map({Field("fo", 0)});
  for (int s = 0; s < 2; ++s) {
    std::vector<int> values[2] = {{kNoRow}, {kNoRow}};
    values[s] = {5};
    Pair pair(map, values, {}, /*linked=*/false);
    pair.snap.trigger = s;
    Decision d = DecideWith(pair.snap, Facts());
    EXPECT_EQ(d.step, Step::kFindPartner) << s;

    pair.proj[s].status = DUET_FILTERED;
    d = DecideWith(pair.snap, Facts());
    EXPECT_EQ(d.step, Step::kNothingToSync) << s;
    EXPECT_TRUE(d.filtered);

    std::vector<int> gone[2] = {{kNoRow}, {kNoRow}};
    Pair deleted(map, gone, {}, /*linked=*/false);
    deleted.snap.trigger = s;
    d = DecideWith(deleted.snap, Facts());
    EXPECT_EQ(d.step, Step::kNothingToSync) << s;
    EXPECT_FALSE(d.filtered);
    EXPECT_EQ(d.why, std::string("the row no longer exists in ") + (s == 0 ? "fo" : "ce"));
  }
  // A row of a one-way map's target has nothing to sync on its own.
  TestMap one_way({Field("fo", 0, true, false)}, true, false);
  std::vector<int> target_only[2] = {{kNoRow}, {5}};
  Pair target(one_way, target_only, {}, /*linked=*/false);
  target.snap.trigger = 1;
  EXPECT_EQ(DecideWith(target.snap, Facts()).step, Step::kNothing);
}

TEST(DecideTest, APartnerJustMadeTakesTheNewRowsValues) {
  // After kFindPartner or kRestore, the new pair merges with the row it
  // was made from as seed: that side wins what the insert left different.
  TestMap map({Field("ce", 0), Field("ce", 1)});
  for (int s = 0; s < 2; ++s) {
    std::vector<int> values[2] = {{1, 2}, {1, 2}};
    values[1 - s][1] = 9;  // a default the database filled
    Pair pair(map, values, {}, /*linked=*/false);
    pair.snap.matched = true;
    pair.snap.trigger = s;
    pair.snap.seed = s;
    pair.snap.just_inserted = true;
    Decision d = DecideWith(pair.snap, Facts());
    ASSERT_EQ(d.step, Step::kMerge);
    EXPECT_EQ(d.write_slots[s], std::vector<int>{1});
    EXPECT_TRUE(d.write_slots[1 - s].empty());
  }
}

// ---- rows the transform fails on ----

TEST(DecideTest, AFailedProjectionIsAnErrorItemOfItsRow) {
  TestMap map({Field("fo", 0)});
  for (bool linked : {true, false}) {
    for (int s = 0; s < 2; ++s) {
      std::vector<int> values[2] = {{11}, {12}};
      Pair pair(map, values, linked ? std::vector<int>{10} : std::vector<int>{}, linked);
      pair.snap.matched = !linked;
      pair.proj[s].status = DUET_ERROR;
      pair.proj[s].error_kind = "division_by_zero";
      pair.proj[s].message = "X: division by zero";
      Decision d = DecideWith(pair.snap, Facts());
      ASSERT_EQ(d.step, Step::kError);
      EXPECT_EQ(d.error->side, s);
      EXPECT_EQ(d.error->kind, "division_by_zero");
      EXPECT_EQ(d.error->reason, "X: division by zero");
      EXPECT_EQ(d.error->attach, ErrorItem::Attach::kRow);
    }
  }
}

TEST(DecideTest, AValueThatDoesNotFitFailsOnlyWhenItIsWritten) {
  // fo's slot 0 holds a value too long for ce's column.
  for (Change c : kChanges) {
    TestMap map({Field("fo", 0)});
    int left;
    int right;
    Values(c, &left, &right);
    std::vector<int> values[2] = {{left}, {right}};
    Pair pair(map, values, {10});
    pair.proj[0].slot_errors.push_back({0, "too_long", "NAME: too long"});
    Decision d = DecideWith(pair.snap, Facts());
    bool writes_fo = c == Change::kLeft || c == Change::kBothDiffer;
    if (writes_fo) {
      ASSERT_EQ(d.step, Step::kError) << Name(c);
      EXPECT_EQ(d.error->side, 0);
      EXPECT_EQ(d.error->kind, "too_long");
      EXPECT_EQ(d.error->attach, ErrorItem::Attach::kBothRows);
    } else {
      EXPECT_EQ(d.step, Step::kMerge) << Name(c) << ": ce wins or nothing differs";
    }
  }
}

}  // namespace
}  // namespace duet::engine
