// Table-driven tests of the reconcile decision (runtime/engine/decide.h):
// every field rule against every way the two sides of a pair can change,
// one-way fields, a delete against an update, pairs created on either
// side, and rows the transform fails on. No database, no clock: the facts
// that cost a read are given.
#include "runtime/engine/decide.h"

#include <gtest/gtest.h>

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

// Decide, answering its questions from `facts`; `asked` gets the
// questions in the order asked.
Decision DecideWith(PairSnapshot snap, const Facts& facts, std::vector<Need>* asked = nullptr) {
  for (int round = 0; round < 4; ++round) {
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
