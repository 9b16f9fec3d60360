// The reconcile decision: pure functions of a PairSnapshot (decide.h).
#include "runtime/engine/decide.h"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace duet::engine {

using endpoint::Value;

namespace {

const Value& At(const std::vector<Value>& values, int j) { return values[static_cast<size_t>(j)]; }

// Side `side`'s own value of the column the other side's output j writes.
const Value& Current(const PairSnapshot& pair, int side, int j) {
  const std::vector<int>& index = *pair.rules->current_index[side];
  return At(*pair.row[side], index[static_cast<size_t>(j)]);
}

// A decision that waits for a fact; `side`: the row it is about, if one.
Decision NeedFact(Need need, int side = -1) {
  Decision d;
  d.need = need;
  d.side = side;
  return d;
}

Decision ErrorOn(int side, std::string kind, std::string reason, ErrorItem::Attach attach) {
  Decision d;
  d.step = Step::kError;
  d.error = ErrorItem{side, std::move(kind), std::move(reason), attach};
  return d;
}

Decision Unlink(bool resolve) {
  Decision d;
  d.step = Step::kUnlink;
  d.resolve = resolve;
  return d;
}

// Whether the surviving row `kept` of a linked pair differs from the base.
bool KeptDiffers(const PairSnapshot& pair, int kept) {
  const PairRules& rules = *pair.rules;
  const Base& base = *pair.base;
  int gone = 1 - kept;
  const Projection& proj = *pair.proj[kept];
  bool changed = false;
  if (rules.has_transform[kept] && proj.status == DUET_OK) {
    for (size_t j = 0; j < proj.values.size(); ++j) {
      changed = changed || !(proj.values[j] == base.p[kept][j]);
    }
  }
  if (rules.has_transform[gone]) {
    const std::vector<int>& index = *rules.current_index[kept];
    for (size_t j = 0; j < index.size(); ++j) {
      changed = changed || !(At(*pair.row[kept], index[j]) == base.c[kept][j]);
    }
  }
  return changed;
}

// A linked pair whose row of side `gone` is gone: delete its partner, bring
// it back, or record a conflict.
Decision DecideGone(const PairSnapshot& pair, int gone) {
  const PairRules& rules = *pair.rules;
  int kept = 1 - gone;
  bool changed = !pair.base || KeptDiffers(pair, kept);
  if (changed && pair.base) {
    // The base may predate a write duet made in a batch whose state never
    // committed: only an application's change counts.
    if (!pair.facts.kept_app_changed) return NeedFact(Need::kKeptAppChanged, kept);
    changed = *pair.facts.kept_app_changed;
  }
  // The target of a one-way map: the link goes, and the next change of the
  // source inserts a new partner.
  if (!rules.has_transform[gone]) return Unlink(true);
  int winner = gone;
  if (pair.take >= 0) {
    winner = pair.take;
  } else if (changed) {
    std::optional<int> w = RuleWinner(rules, rules.master, gone, pair.facts);
    if (!w) return NeedFact(Need::kChangeTimes);
    winner = *w;
  }
  if (winner < 0) {
    return ErrorOn(kept, "conflict",
                   "the row was deleted in " + std::string(rules.system[gone]) +
                       " and changed in " + std::string(rules.system[kept]) +
                       "; the map's rule is manual",
                   ErrorItem::Attach::kRowAndPartner);
  }
  Decision d;
  d.side = winner == gone ? kept : gone;
  d.step = winner == gone ? Step::kDelete : Step::kRestore;
  // The changed row wins, but it cannot say what its partner holds.
  if (d.step == Step::kRestore &&
      (!rules.has_transform[kept] || pair.proj[kept]->status != DUET_OK)) {
    return Unlink(false);
  }
  return d;
}

// A linked pair with a row missing or filtered out.
std::optional<Decision> DecideLinkedPartial(const PairSnapshot& pair) {
  if (!pair.row[0] && !pair.row[1]) return Unlink(true);
  for (int i = 0; i < 2; ++i) {
    // The row stopped matching its filter: it stops syncing, and its
    // partner stays as it is.
    if (pair.row[i] && pair.rules->has_transform[i] && pair.proj[i]->status == DUET_FILTERED) {
      return Unlink(true);
    }
  }
  for (int gone = 0; gone < 2; ++gone) {
    if (!pair.row[gone]) return DecideGone(pair, gone);
  }
  return std::nullopt;
}

// A row no link names, before its partner is known.
Decision DecideUnlinked(const PairSnapshot& pair) {
  int s = pair.trigger;
  const Projection& proj = *pair.proj[s];
  Decision d;
  if (!pair.row[s]) {
    d.step = Step::kNothingToSync;
    d.why = "the row no longer exists in " + std::string(pair.rules->system[s]);
  } else if (pair.rules->has_transform[s] && proj.status == DUET_FILTERED) {
    d.step = Step::kNothingToSync;
    d.filtered = true;
    d.why = "the row no longer matches the map's filter";
  } else if (pair.rules->has_transform[s] && proj.status == DUET_OK) {
    d.step = Step::kFindPartner;
  }
  return d;
}

// The side field `field` flows from alone, or -1 when it flows both ways
// (or from a constant, which no row changes).
int OneWaySource(const FieldPlan& field) {
  for (int s = 0; s < 2; ++s) {
    if (!field.slots[s].empty() && field.slots[1 - s].empty() && !field.constant[s]) return s;
  }
  return -1;
}

// Whether each side changed field `field` since the base (both, without one),
// side i's outputs being proj[i]'s.
void FieldChanged(const PairSnapshot& pair, const FieldPlan& field, const Projection* const proj[2],
                  const bool flows[2], bool changed[2]) {
  changed[0] = changed[1] = !pair.base;
  if (!pair.base) return;
  for (int i = 0; i < 2; ++i) {
    for (int j : field.slots[i]) {
      // Side i's projection, and the other side's own value of the column.
      if (flows[i] && !(At(proj[i]->values, j) == At(pair.base->p[i], j))) changed[i] = true;
      if (!(Current(pair, 1 - i, j) == At(pair.base->c[1 - i], j))) changed[1 - i] = true;
    }
  }
}

// The side whose values field `field` takes: 0 or 1; -1 to leave it alone;
// -2 for a conflict; nullopt with *need set when a fact is missing. Side
// i's outputs are proj[i]'s.
std::optional<int> FieldWinner(const PairSnapshot& pair, const FieldPlan& field,
                               const Projection* const proj[2], Need* need) {
  constexpr int kLeave = -1;
  constexpr int kConflict = -2;
  bool flows[2] = {!field.slots[0].empty() && proj[0]->status == DUET_OK,
                   !field.slots[1].empty() && proj[1]->status == DUET_OK};
  if (!flows[0] && !flows[1]) return kLeave;
  bool differs = false;
  for (int i = 0; i < 2; ++i) {
    if (!flows[i]) continue;
    for (int j : field.slots[i]) {
      differs = differs || !(At(proj[i]->values, j) == Current(pair, 1 - i, j));
    }
  }
  if (!differs) return kLeave;
  bool changed[2];
  FieldChanged(pair, field, proj, flows, changed);
  if (flows[0] != flows[1]) {
    // One-way: only the source's changes flow; edits of the target column
    // are left alone until the source's value changes (the merge's writes
    // into the source row included, see DecideMerge), or a resync from the
    // source (`take`) writes its value.
    int source = flows[0] ? 0 : 1;
    if (pair.just_inserted && field.constant[source]) return kLeave;
    bool taken = pair.take == source && !field.constant[source];
    return changed[source] || taken ? source : kLeave;
  }
  if (pair.take >= 0) return pair.take;
  if (pair.seed >= 0) return pair.seed;
  if (changed[0] != changed[1]) return changed[0] ? 0 : 1;
  if (!changed[0]) return kLeave;  // neither side changed: values that do not round-trip
  if (pair.base) {
    if (!pair.facts.only_app_changed) {
      *need = Need::kOnlyAppChanged;
      return std::nullopt;
    }
    // Both differ from a base that predates a write duet made in a batch
    // whose state never committed: the side an application changed wins.
    if (*pair.facts.only_app_changed >= 0) return *pair.facts.only_app_changed;
  }
  std::optional<int> w = RuleWinner(*pair.rules, field.rule, pair.trigger, pair.facts);
  if (!w) {
    *need = Need::kChangeTimes;
    return std::nullopt;
  }
  return *w < 0 ? kConflict : *w;
}

// Both rows exist, field by field: side i's outputs are from[i]'s, and the
// one-way fields from a side whose `hold` is set are left alone.
Decision MergeFields(const PairSnapshot& pair, const Projection* const from[2],
                     const bool hold[2]) {
  Decision d;
  d.step = Step::kMerge;
  for (const FieldPlan& field : *pair.rules->fields) {
    int source = OneWaySource(field);
    if (source >= 0 && hold[source]) continue;
    Need need = Need::kNothing;
    std::optional<int> winner = FieldWinner(pair, field, from, &need);
    if (!winner) return NeedFact(need);
    if (*winner == -2) d.conflicts.push_back(&field);
    if (*winner < 0) continue;
    int w = *winner;
    for (int j : field.slots[w]) {
      if (!(At(from[w]->values, j) == Current(pair, 1 - w, j))) d.write_slots[w].push_back(j);
    }
  }
  return d;
}

// Whether writing the other side's outputs `slots` into side s's row
// changes what side s's transform reads of it.
bool ReadsAny(const PairRules& rules, int s, const std::vector<int>& slots) {
  if (!rules.input_index[s]) return true;
  const std::vector<int>& index = *rules.current_index[s];
  for (int j : slots) {
    for (int input : *rules.input_index[s]) {
      if (input == index[static_cast<size_t>(j)]) return true;
    }
  }
  return false;
}

// Side s's row as a merge leaves it: the values of `from`'s outputs
// `slots` in the columns they write. A lookup's column holds the key value
// the lookup writes, which is what reading the row back gives; other
// columns read through the reference it rewrites keep their values as read.
std::vector<Value> MergedRow(const PairSnapshot& pair, int s, const std::vector<int>& slots,
                             const Projection& from) {
  std::vector<Value> row = *pair.row[s];
  const std::vector<int>& index = *pair.rules->current_index[s];
  for (int j : slots) row[static_cast<size_t>(index[static_cast<size_t>(j)])] = At(from.values, j);
  return row;
}

// The same value, its scale included (a transform reads a decimal at its
// slot's scale), so that rows of identical values project alike.
bool Identical(const Value& a, const Value& b) {
  return a.tag() == b.tag() && a.scale() == b.scale() && a == b;
}

bool Identical(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!Identical(a[i], b[i])) return false;
  }
  return true;
}

const PairFacts::MergedRow* FindMerged(const std::vector<PairFacts::MergedRow>& merged,
                                       const std::vector<Value>& row) {
  for (const PairFacts::MergedRow& m : merged) {
    if (Identical(m.row, row)) return &m;
  }
  return nullptr;
}

// Side s's outputs for a merge: the one-way fields from s as `merged`
// (its row as the merge leaves it) gives them, the others as `read` (its
// row as read) does. A two-way field's output reads only its own column,
// which the merge writes into only when the other side wins it, and then
// side s's output is not written.
Projection WithMergedOneWay(const Projection& read, const Projection& merged,
                            const std::vector<FieldPlan>& fields, int s) {
  Projection p = read;
  for (const FieldPlan& field : fields) {
    if (OneWaySource(field) != s) continue;
    for (int j : field.slots[s]) {
      p.values[static_cast<size_t>(j)] = At(merged.values, j);
      std::erase_if(p.slot_errors, [j](const Projection::SlotError& e) { return e.slot == j; });
      for (const Projection::SlotError& e : merged.slot_errors) {
        if (e.slot == j) p.slot_errors.push_back(e);
      }
    }
  }
  return p;
}

// Rounds of a merge whose one-way fields read what it writes, at most:
// each round projects the rows as the previous round's writes leave them.
// One round settles a map whose one-way targets no transform reads; each
// one-way field that reads another one's target adds one.
constexpr int kMaxMergeRounds = 4;

// Both rows exist: field by field. A one-way field takes its value from
// its source row as the merge leaves it, so a two-way source column the
// other side changed (or won in a conflict, or by seed or `take`) is
// reflected in it (docs/sync.md, "How a pair of rows is reconciled"). The
// caller projects the merged rows (Need::kMergedRows); a merge that writes
// nothing its one-way fields read asks for none.
Decision DecideMerge(const PairSnapshot& pair) {
  const std::vector<FieldPlan>& fields = *pair.rules->fields;
  bool one_way[2] = {false, false};
  for (const FieldPlan& field : fields) {
    if (int s = OneWaySource(field); s >= 0) one_way[s] = true;
  }
  // Per side: the merged row whose projection the one-way fields take
  // (null: the row as read), the outputs that makes, and whether that row
  // leaves the map's filter, so the fields are left alone.
  const PairFacts::MergedRow* used[2] = {nullptr, nullptr};
  Projection outputs[2];
  const Projection* from[2] = {pair.proj[0], pair.proj[1]};
  bool hold[2] = {false, false};
  for (int round = 1;; ++round) {
    Decision d = MergeFields(pair, from, hold);
    if (d.need != Need::kNothing) return d;
    const PairFacts::MergedRow* next[2] = {nullptr, nullptr};
    Decision ask = NeedFact(Need::kMergedRows);
    for (int s = 0; s < 2 && round <= kMaxMergeRounds; ++s) {
      const std::vector<int>& into = d.write_slots[1 - s];
      if (!one_way[s] || into.empty() || pair.proj[s]->status != DUET_OK ||
          !ReadsAny(*pair.rules, s, into)) {
        continue;
      }
      // A value that does not fit its column fails its row whatever else
      // the merge does; no row has it to project.
      if (const Projection::SlotError* e = FirstSlotError(*from[1 - s], into)) {
        return ErrorOn(1 - s, e->kind, e->message, ErrorItem::Attach::kBothRows);
      }
      std::vector<Value> row = MergedRow(pair, s, into, *from[1 - s]);
      next[s] = FindMerged(pair.facts.merged[s], row);
      if (!next[s]) ask.project[s] = std::move(row);
    }
    if (ask.project[0] || ask.project[1]) return ask;
    if (round > kMaxMergeRounds || (next[0] == used[0] && next[1] == used[1])) {
      // A value that does not fit its column fails the row it comes from,
      // with nothing written on either side.
      bool depends[2] = {false, false};
      for (int w = 0; w < 2; ++w) {
        if (d.write_slots[w].empty()) continue;
        if (const Projection::SlotError* e = FirstSlotError(*from[w], d.write_slots[w])) {
          return ErrorOn(w, e->kind, e->message, ErrorItem::Attach::kBothRows);
        }
        if (from[w] == pair.proj[w]) continue;
        d.merged[w] = *from[w];
        for (int j : d.write_slots[w]) {
          const Value& merged = At(from[w]->values, j);
          const Value& read = At(pair.proj[w]->values, j);
          depends[w] = depends[w] || !Identical(merged, read);
        }
      }
      if (depends[0] && !depends[1]) d.first_into = 0;
      return d;
    }
    for (int s = 0; s < 2; ++s) {
      used[s] = next[s];
      from[s] = pair.proj[s];
      hold[s] = false;
      if (!used[s]) continue;
      const Projection& merged = used[s]->proj;
      if (merged.status == DUET_ERROR) {
        // The row the merge would make cannot be projected: no merge.
        return ErrorOn(s, merged.error_kind,
                       merged.message + " (the row with the values " +
                           std::string(pair.rules->system[1 - s]) + " gives it)",
                       ErrorItem::Attach::kBothRows);
      }
      // The merge takes the row out of its filter: it stops syncing, and
      // what flows from it alone stays as it is (docs/sync.md, "Filters").
      hold[s] = merged.status != DUET_OK;
      if (hold[s]) continue;
      outputs[s] = WithMergedOneWay(*pair.proj[s], merged, fields, s);
      from[s] = &outputs[s];
    }
  }
}

}  // namespace

const Projection::SlotError* FirstSlotError(const Projection& p, const std::vector<int>& slots) {
  for (int slot : slots) {
    for (const Projection::SlotError& e : p.slot_errors) {
      if (e.slot == slot) return &e;
    }
  }
  return nullptr;
}

std::optional<int> RuleWinner(const PairRules& rules, std::string_view rule, int trigger,
                              const PairFacts& facts) {
  if (rule == rules.system[0]) return 0;
  if (rule == rules.system[1]) return 1;
  if (rule == "manual") return -1;
  if (rule == "newest") {
    if (!facts.change_times_read) return std::nullopt;
    const std::optional<double>* at = facts.change_time;
    if (at[0] && at[1]) return *at[1] > *at[0] ? 1 : 0;
    if (at[0]) return 0;
    if (at[1]) return 1;
  }
  return trigger;
}

int SeedAfterEdits(int seed, const bool edited[2]) {
  if (!edited[1 - seed]) return seed;
  return edited[seed] ? kByRule : 1 - seed;
}

Decision Decide(const PairSnapshot& pair) {
  // A row the transform could not project is an error item of its own.
  for (int i = 0; i < 2; ++i) {
    if (pair.row[i] && pair.proj[i]->status == DUET_ERROR) {
      return ErrorOn(i, pair.proj[i]->error_kind, pair.proj[i]->message, ErrorItem::Attach::kRow);
    }
  }
  if (!pair.matched) {
    if (pair.linked) {
      if (std::optional<Decision> d = DecideLinkedPartial(pair)) return *std::move(d);
    } else {
      return DecideUnlinked(pair);
    }
  }
  return DecideMerge(pair);
}

}  // namespace duet::engine
