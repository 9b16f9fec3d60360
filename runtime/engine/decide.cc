// The reconcile decision: pure functions of a PairSnapshot (decide.h).
#include "runtime/engine/decide.h"

#include <cstddef>

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

// Whether each side changed field `field` since the base (both, without one).
void FieldChanged(const PairSnapshot& pair, const FieldPlan& field, const bool flows[2],
                  bool changed[2]) {
  changed[0] = changed[1] = !pair.base;
  if (!pair.base) return;
  for (int i = 0; i < 2; ++i) {
    for (int j : field.slots[i]) {
      // Side i's projection, and the other side's own value of the column.
      if (flows[i] && !(At(pair.proj[i]->values, j) == At(pair.base->p[i], j))) changed[i] = true;
      if (!(Current(pair, 1 - i, j) == At(pair.base->c[1 - i], j))) changed[1 - i] = true;
    }
  }
}

// The side whose values field `field` takes: 0 or 1; -1 to leave it alone;
// -2 for a conflict; nullopt with *need set when a fact is missing.
std::optional<int> FieldWinner(const PairSnapshot& pair, const FieldPlan& field, Need* need) {
  constexpr int kLeave = -1;
  constexpr int kConflict = -2;
  bool flows[2] = {!field.slots[0].empty() && pair.proj[0]->status == DUET_OK,
                   !field.slots[1].empty() && pair.proj[1]->status == DUET_OK};
  if (!flows[0] && !flows[1]) return kLeave;
  bool differs = false;
  for (int i = 0; i < 2; ++i) {
    if (!flows[i]) continue;
    for (int j : field.slots[i]) {
      differs = differs || !(At(pair.proj[i]->values, j) == Current(pair, 1 - i, j));
    }
  }
  if (!differs) return kLeave;
  bool changed[2];
  FieldChanged(pair, field, flows, changed);
  if (flows[0] != flows[1]) {
    // One-way: only the source's changes flow; edits of the target column
    // are left alone until the source changes, or a resync from the source
    // (`take`) writes its value.
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

// Both rows exist: field by field.
Decision DecideMerge(const PairSnapshot& pair) {
  Decision d;
  d.step = Step::kMerge;
  for (const FieldPlan& field : *pair.rules->fields) {
    Need need = Need::kNothing;
    std::optional<int> winner = FieldWinner(pair, field, &need);
    if (!winner) return NeedFact(need);
    if (*winner == -2) d.conflicts.push_back(&field);
    if (*winner < 0) continue;
    int w = *winner;
    for (int j : field.slots[w]) {
      if (!(At(pair.proj[w]->values, j) == Current(pair, 1 - w, j))) d.write_slots[w].push_back(j);
    }
  }
  // A value that does not fit its column fails the row it comes from, with
  // nothing written on either side.
  for (int w = 0; w < 2; ++w) {
    if (d.write_slots[w].empty()) continue;
    if (const Projection::SlotError* e = FirstSlotError(*pair.proj[w], d.write_slots[w])) {
      return ErrorOn(w, e->kind, e->message, ErrorItem::Attach::kBothRows);
    }
  }
  return d;
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
