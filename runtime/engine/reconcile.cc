// Reconciling a pair of rows: projections, lookups, the per-field merge and
// the base (docs/sync.md, "How a pair of rows is reconciled").
#include "runtime/engine/engine_impl.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "runtime/jit/error_kinds.h"

namespace duet::engine {

std::string EncodeBase(const Base& b) {
  BaseRef ref;
  for (int s = 0; s < 2; ++s) {
    for (const Value& v : b.p[s]) ref.p[s].push_back(&v);
    for (const Value& v : b.c[s]) ref.c[s].push_back(&v);
  }
  return EncodeBase(ref);
}

Base CopyBase(const BaseRef& b) {
  Base out;
  for (int s = 0; s < 2; ++s) {
    out.p[s].reserve(b.p[s].size());
    for (const Value* v : b.p[s]) out.p[s].push_back(*v);
    out.c[s].reserve(b.c[s].size());
    for (const Value* v : b.c[s]) out.c[s].push_back(*v);
  }
  return out;
}

RowRef RefOf(const Row& row) { return RefOf(row.values); }

RowRef RefOf(const std::vector<Value>& values) {
  RowRef ref;
  ref.reserve(values.size());
  for (const Value& v : values) ref.push_back(&v);
  return ref;
}

// A column's `default` constant as a value of the column's type.
Expected<Value> DefaultValue(const bundle::Column& column) {
  if (!column.default_value || column.default_value->is_null) return Value::Null();
  Expected<Value> v = endpoint::ValueFromText(column.default_value->text, column.type);
  if (!v.ok()) {
    return InvalidArgumentError("bundle: default of column " + column.name + ": " +
                                v.status().message());
  }
  return v;
}

// ---------------------------------------------------------------------------
// Rows and projections

Expected<std::optional<Row>> SyncEngine::Impl::ReadRow(Side& side, const RowId& id) {
  return side.reader->Read(id);
}

Projection SyncEngine::Impl::Project(Side& side, const Row& row) {
  return Project(side, RefOf(row));
}

Projection SyncEngine::Impl::Project(Side& side, const RowRef& row) {
  Projection p;
  const bundle::Transform& t = *side.transform;
  std::vector<duet_value> in(t.inputs.size());
  for (size_t i = 0; i < in.size(); ++i) {
    in[i] = row[static_cast<size_t>(side.input_index[i])]->ToAbi();
  }
  std::vector<duet_value> out(t.outputs.size());
  ctx.Reset();
  p.status = side.function(in.data(), out.data(), ctx.get());
  if (p.status == DUET_ERROR) {
    duet_ctx* c = ctx.get();
    p.error_kind = jit::ErrorKindName(c->error_kind);
    p.message = c->error_message;
    if (c->error_slot >= 0 && static_cast<size_t>(c->error_slot) < t.outputs.size()) {
      p.message = t.outputs[static_cast<size_t>(c->error_slot)].Name() + ": " + p.message;
    }
    return p;
  }
  if (p.status != DUET_OK) return p;
  p.values.reserve(out.size());
  for (const duet_value& v : out) p.values.push_back(Value::FromAbi(v));
  for (const jit::Context::SlotError& e : ctx.slot_errors()) {
    auto slot = static_cast<size_t>(e.slot);
    p.slot_errors.push_back(
        {e.slot, jit::ErrorKindName(e.kind), t.outputs[slot].Name() + ": " + e.message});
    if (e.kind != DUET_ERR_NULL_IN_NOT_NULL) p.values[slot] = Value::Unknown();
  }
  return p;
}

std::optional<Row> SyncEngine::Impl::ImageOfWrite(const Side& side, const RowId& id,
                                                  const std::vector<std::string>& columns,
                                                  const std::vector<Value>& values) {
  Row row;
  row.id = id;
  row.values.reserve(side.shape.size());
  for (const ColumnPath& path : side.shape) {
    if (path.path.size() != 1) return std::nullopt;
    auto it = std::find(columns.begin(), columns.end(), path.path[0]);
    if (it == columns.end()) return std::nullopt;
    const Value& v = values[static_cast<size_t>(it - columns.begin())];
    // What a read gives back: a decimal at the column's scale.
    if (v.tag() == DUET_DECIMAL && path.type.kind == bundle::ValueKind::kDecimal &&
        v.scale() != path.type.scale) {
      return std::nullopt;
    }
    if (path.type.kind == bundle::ValueKind::kRef) {
      return std::nullopt;  // the stored reference is the database's
    }
    row.values.push_back(v);
  }
  return row;
}

bool SyncEngine::Impl::PatchImage(const Side& side, const std::vector<std::string>& columns,
                                  const std::vector<Value>& values, Row* row) {
  // Only plain columns: a changed reference changes what lookup paths
  // through it read, which only the database can say.
  for (const std::string& c : columns) {
    for (const ColumnPath& path : side.shape) {
      if (path.path.size() > 1 && path.path[0] == c) return false;
    }
  }
  for (size_t i = 0; i < side.shape.size(); ++i) {
    const ColumnPath& path = side.shape[i];
    if (path.path.size() != 1) continue;
    auto it = std::find(columns.begin(), columns.end(), path.path[0]);
    if (it == columns.end()) continue;
    const Value& v = values[static_cast<size_t>(it - columns.begin())];
    if (path.type.kind == bundle::ValueKind::kRef ||
        (v.tag() == DUET_DECIMAL && v.scale() != path.type.scale)) {
      return false;
    }
    row->values[i] = v;
  }
  return true;
}

BaseRef SyncEngine::Impl::BaseOf(const MapPlan& plan, const RowRef* const rows[2],
                                 const Projection proj[2]) {
  static const Value kNull;
  BaseRef b;
  for (int s = 0; s < 2; ++s) {
    const Side& side = plan.side[s];
    const Side& other = plan.side[1 - s];
    if (side.transform) {
      if (rows[s] && proj[s].status == DUET_OK) {
        for (const Value& v : proj[s].values) b.p[s].push_back(&v);
      } else {
        b.p[s].assign(side.transform->outputs.size(), &kNull);
      }
    }
    if (other.transform) {
      b.c[s].reserve(side.current_index.size());
      for (int index : side.current_index) {
        b.c[s].push_back(rows[s] ? (*rows[s])[static_cast<size_t>(index)] : &kNull);
      }
    }
  }
  return b;
}

Expected<Base> SyncEngine::Impl::ComputeBase(MapPlan& plan, const std::optional<Row> rows[2]) {
  Projection proj[2];
  RowRef refs[2];
  const RowRef* row[2] = {nullptr, nullptr};
  for (int s = 0; s < 2; ++s) {
    if (!rows[s]) continue;
    refs[s] = RefOf(*rows[s]);
    row[s] = &refs[s];
    if (plan.side[s].transform) proj[s] = Project(plan.side[s], refs[s]);
  }
  return CopyBase(BaseOf(plan, row, proj));
}

namespace {

using LookupResult = Expected<std::variant<Value, Missing>>;

// The tables along `path` from `from`: tables[i] holds column path[i].
Expected<std::vector<const bundle::Table*>> TablesAlong(const bundle::Manifest& m,
                                                        const std::string& map_name,
                                                        const bundle::Table& from,
                                                        const std::vector<std::string>& path) {
  std::vector<const bundle::Table*> tables = {&from};
  for (size_t hop = 0; hop + 1 < path.size(); ++hop) {
    const bundle::Column* ref = FindColumn(*tables.back(), path[hop]);
    if (!ref || ref->type.kind != bundle::ValueKind::kRef) {
      return InvalidArgumentError("map " + map_name + ": '" + path[hop] + "' is not a ref");
    }
    const bundle::Table* next = m.FindTable(ref->type.ref);
    if (!next) return InvalidArgumentError("bundle: unknown table " + ref->type.ref);
    tables.push_back(next);
  }
  return tables;
}

// The reference to the row of `table` whose key columns `columns` hold
// `values`, or Missing while there is none. The key columns not given come
// from the written row (side `side`): each is a ref to a table that row
// refers to as well, through a ref column other than `written_ref`
// (docs/language.md, composite keys), whose value `refs` holds.
LookupResult FindByKey(Side& side, const bundle::Table& table, std::vector<std::string> columns,
                       std::vector<Value> values, const std::string& written_ref,
                       const std::map<std::string, Value>& refs) {
  using Result = std::variant<Value, Missing>;
  std::string described = table.name + " with ";
  for (size_t i = 0; i < columns.size(); ++i) {
    described += (i == 0 ? "" : " and ") + columns[i] + " = '" + values[i].ToText() + "'";
  }
  for (const std::string& key : table.key) {
    if (std::find(columns.begin(), columns.end(), key) != columns.end()) continue;
    const bundle::Column* kc = FindColumn(table, key);
    std::optional<Value> stripe;
    if (kc && kc->type.kind == bundle::ValueKind::kRef) {
      for (const bundle::Column& c : side.info->columns) {
        if (c.type.kind == bundle::ValueKind::kRef && c.type.ref == kc->type.ref &&
            c.name != written_ref) {
          auto it = refs.find(c.name);
          if (it != refs.end()) stripe = it->second;
          break;
        }
      }
    }
    if (!stripe || stripe->is_null()) {
      return Result(Missing{"no reference for key column " + table.name + "." + key + " to find " +
                            described});
    }
    columns.push_back(key);
    values.push_back(*stripe);
    described += " and " + key + " = '" + stripe->ToText() + "'";
  }
  Expected<std::optional<RowId>> found = side.endpoint->FindRow(table.name, columns, values);
  if (!found.ok()) return found.status();
  if (!*found) return Result(Missing{"waiting for " + described});
  Expected<Value> ref = side.endpoint->RefValue(table.name, **found);
  if (!ref.ok()) return ref.status();
  return Result(*ref);
}

// The value of column path[1] for a written lookup `path` whose last column
// holds `value`: the value itself for two hops, else the reference found
// from the last hop back to hop 2, each found row's reference being the
// value of the hop before.
LookupResult ResolveInnerHops(Side& side, const std::vector<const bundle::Table*>& tables,
                              const std::vector<std::string>& path, const Value& value,
                              const std::map<std::string, Value>& refs) {
  using Result = std::variant<Value, Missing>;
  Value current = value;
  for (size_t hop = path.size() - 1; hop >= 2; --hop) {
    LookupResult found = FindByKey(side, *tables[hop], {path[hop]}, {current}, path[0], refs);
    if (!found.ok() || std::holds_alternative<Missing>(*found)) return found;
    current = std::get<Value>(std::move(*found));
  }
  return Result(std::move(current));
}

}  // namespace

// The lookups through one ref column find one row together: each member
// gives the value of a different key column of the referenced table
// (directly or through its further hops), the written row the rest.
Expected<std::variant<Value, Missing>> SyncEngine::Impl::ResolveLookup(
    MapPlan& plan, int to, const std::vector<int>& group, const std::vector<Value>& values,
    const std::map<std::string, Value>& refs) {
  using Result = std::variant<Value, Missing>;
  const bundle::Transform& t = *plan.side[1 - to].transform;
  Side& side = plan.side[to];
  auto slot = [&](int j) -> const bundle::Slot& { return t.outputs[static_cast<size_t>(j)]; };
  auto value = [&](int j) -> const Value& { return values[static_cast<size_t>(j)]; };
  // No values: no reference. Some but not all: no row has a null key column.
  size_t nulls = static_cast<size_t>(
      std::count_if(group.begin(), group.end(), [&](int j) { return value(j).is_null(); }));
  if (nulls == group.size()) return Result(Value::Null());
  const std::string& ref_column = slot(group.front()).path[0];
  const bundle::Table* referenced = nullptr;
  std::vector<std::string> columns;
  std::vector<Value> keys;
  for (int j : group) {
    const std::vector<std::string>& path = slot(j).path;
    if (value(j).is_null()) {
      return Result(Missing{slot(j).Name() + " is null, so no row of " + ref_column +
                            " can be found by the other lookups through it"});
    }
    Expected<std::vector<const bundle::Table*>> tables =
        TablesAlong(bundle->manifest(), plan.name, *side.info, path);
    if (!tables.ok()) return tables.status();
    LookupResult key = ResolveInnerHops(side, *tables, path, value(j), refs);
    if (!key.ok() || std::holds_alternative<Missing>(*key)) return key;
    referenced = (*tables)[1];
    columns.push_back(path[1]);
    keys.push_back(std::get<Value>(std::move(*key)));
  }
  return FindByKey(side, *referenced, std::move(columns), std::move(keys), ref_column, refs);
}

Expected<std::variant<std::pair<std::vector<std::string>, std::vector<Value>>, Missing>>
SyncEngine::Impl::Columns(MapPlan& plan, int to, const std::vector<int>& slots,
                          const std::vector<Value>& values, const Row* current,
                          std::vector<int>* deferred_missing) {
  using Pair = std::pair<std::vector<std::string>, std::vector<Value>>;
  using Result = std::variant<Pair, Missing>;
  const bundle::Transform& t = *plan.side[1 - to].transform;
  Side& side = plan.side[to];
  Pair out;
  // References the row will hold: its current ones, then the ones written.
  std::map<std::string, Value> refs;
  if (current) {
    for (const auto& [column, index] : side.raw_ref_index) {
      refs[column] = current->values[static_cast<size_t>(index)];
    }
  }
  // Plain columns go as they are; lookups go by ref column, each ref written
  // from all the lookups through it (LookupGroups).
  std::vector<std::vector<int>> groups = LookupGroups(t, slots);
  for (int j : slots) {
    const bundle::Slot& slot = t.outputs[static_cast<size_t>(j)];
    if (slot.path.size() != 1) continue;
    out.first.push_back(slot.path[0]);
    out.second.push_back(values[static_cast<size_t>(j)]);
  }
  // Lookups into one-column keys first: composite-key lookups take the rest
  // of their key from those references.
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::vector<int>& group : groups) {
      const std::string& column = t.outputs[static_cast<size_t>(group.front())].path[0];
      const bundle::Column* ref = FindColumn(*side.info, column);
      const bundle::Table* target = ref ? bundle->manifest().FindTable(ref->type.ref) : nullptr;
      bool composite = target && target->key.size() > 1;
      if ((pass == 1) != composite) continue;
      Expected<std::variant<Value, Missing>> resolved =
          ResolveLookup(plan, to, group, values, refs);
      if (!resolved.ok()) return resolved.status();
      if (auto* missing = std::get_if<Missing>(&*resolved)) {
        // The checker makes `deferred` all or none of a group (E0424).
        const bundle::Slot& first = t.outputs[static_cast<size_t>(group.front())];
        if (!first.deferred || !deferred_missing) {
          return Result(Missing{first.Name() + ": " + missing->reason});
        }
        deferred_missing->insert(deferred_missing->end(), group.begin(), group.end());
        out.first.push_back(column);
        out.second.push_back(Value::Null());
        refs[column] = Value::Null();
        continue;
      }
      Value& ref_value = std::get<Value>(*resolved);
      refs[column] = ref_value;
      out.first.push_back(column);
      out.second.push_back(std::move(ref_value));
    }
  }
  return Result(std::move(out));
}

// The lookups among `slots`, grouped by the ref column they write, in the
// order the refs first appear. A group holds every lookup of the transform
// through its ref, even those not in `slots`: the ref is found by all of
// them, so writing one changed lookup of a group writes the whole group.
std::vector<std::vector<int>> SyncEngine::Impl::LookupGroups(const bundle::Transform& t,
                                                             const std::vector<int>& slots) {
  std::vector<std::vector<int>> groups;
  std::vector<std::string> seen;
  for (int j : slots) {
    const std::vector<std::string>& path = t.outputs[static_cast<size_t>(j)].path;
    if (path.size() == 1 || std::find(seen.begin(), seen.end(), path[0]) != seen.end()) continue;
    seen.push_back(path[0]);
    std::vector<int>& group = groups.emplace_back();
    for (size_t k = 0; k < t.outputs.size(); ++k) {
      const std::vector<std::string>& other = t.outputs[k].path;
      if (other.size() > 1 && other[0] == path[0]) group.push_back(static_cast<int>(k));
    }
  }
  return groups;
}

Expected<bool> SyncEngine::Impl::AppChanged(MapPlan& plan, int s, const RowId& id) {
  // Without a write of duet's after the last commit_end (a batch whose state
  // never committed), the base is the last sync's and any difference from
  // it is an application's, reconciled or not (a manual conflict keeps it).
  Expected<Position> committed = state->GetCommitEnd(plan.name, plan.side[s].system);
  if (!committed.ok()) return committed.status();
  Expected<bool> own =
      plan.side[s].endpoint->OwnChangeAfter(plan.side[s].table, id, plan.name, *committed);
  if (!own.ok()) return own.status();
  if (!*own) return true;
  return EditedSinceCheckpoint(plan, s, id);
}

Expected<bool> SyncEngine::Impl::EditedSinceCheckpoint(MapPlan& plan, int s, const RowId& id) {
  Expected<Position> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
  if (!ck.ok()) return ck.status();
  Expected<std::optional<double>> at =
      plan.side[s].endpoint->LatestChangeTime(plan.side[s].table, id, *ck);
  if (!at.ok()) return at.status();
  return at->has_value();
}

PairRules SyncEngine::Impl::RulesOf(const MapPlan& plan) {
  PairRules rules;
  rules.fields = &plan.fields;
  rules.master = plan.map->master;
  for (int s = 0; s < 2; ++s) {
    rules.system[s] = plan.side[s].system;
    rules.has_transform[s] = plan.side[s].transform != nullptr;
    rules.current_index[s] = &plan.side[s].current_index;
    rules.input_index[s] = &plan.side[s].input_index;
  }
  return rules;
}

Expected<Decision> SyncEngine::Impl::DecidePair(MapPlan& plan, const RowId ids[2],
                                                PairSnapshot* pair) {
  PairFacts& facts = pair->facts;
  for (;;) {
    Decision d = Decide(*pair);
    if (d.need == Need::kNothing) return d;
    if (d.need == Need::kMergedRows) {
      for (int s = 0; s < 2; ++s) {
        if (!d.project[s]) continue;
        PairFacts::MergedRow& m = facts.merged[s].emplace_back();
        m.row = *std::move(d.project[s]);
        m.proj = Project(plan.side[s], RefOf(m.row));
      }
      continue;
    }
    if (d.need == Need::kChangeTimes) {
      for (int s = 0; s < 2; ++s) {
        if (ids[s].empty()) continue;
        Expected<Position> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
        if (!ck.ok()) return ck.status();
        Expected<std::optional<double>> t =
            plan.side[s].endpoint->LatestChangeTime(plan.side[s].table, ids[s], *ck);
        if (!t.ok()) return t.status();
        facts.change_time[s] = *t;
      }
      facts.change_times_read = true;
      continue;
    }
    bool app[2];
    for (int s = 0; s < 2; ++s) {
      if (d.need == Need::kKeptAppChanged && s != d.side) continue;
      Expected<bool> changed = AppChanged(plan, s, ids[s]);
      if (!changed.ok()) return changed.status();
      app[s] = *changed;
    }
    if (d.need == Need::kKeptAppChanged) {
      facts.kept_app_changed = app[d.side];
    } else {
      facts.only_app_changed = app[0] == app[1] ? -1 : app[0] ? 0 : 1;
    }
  }
}

void SyncEngine::Impl::RecordDecided(Batch& batch, const ErrorItem& item, const RowId ids[2],
                                     const std::optional<Row> rows[2]) {
  int i = item.side;
  switch (item.attach) {
    case ErrorItem::Attach::kRow:
      RecordError(batch, i, ids[i], item.kind, item.reason, &*rows[i]);
      break;
    case ErrorItem::Attach::kRowAndPartner:
      RecordError(batch, i, ids[i], item.kind, item.reason, &*rows[i], ids[1 - i]);
      break;
    case ErrorItem::Attach::kBothRows:
      RecordError(batch, i, ids[i], item.kind, item.reason, &*rows[i], ids[1 - i], &*rows[1 - i]);
      break;
  }
}

void SyncEngine::Impl::NothingToSync(Batch& batch, int s, const RowId& id, const std::string& why) {
  if (!batch.has_waiting && !batch.has_errors) return;
  std::string map = batch.plan->name;
  std::string system = batch.plan->side[s].system;
  double at = clock->Now();
  batch.state_ops.push_back([map, system, id, why, at](state::StateStore& st) {
    if (Status r = st.RemoveWaiting(map, system, id); !r.ok()) return r;
    return st.ResolveErrors(map, system, id, at, why);
  });
}

// ---------------------------------------------------------------------------
// Reconcile

Status SyncEngine::Impl::Reconcile(Batch& batch, int s, const RowId& id, int seed, int gone_mask,
                                   const Row* known) {
  MapPlan& plan = *batch.plan;
  std::string key = (s == 0 ? "L:" : "R:") + id;
  if (batch.done.count(key)) return Status::Ok();

  Expected<std::optional<state::Link>> link = FindLink(batch, s, id);
  if (!link.ok()) return link.status();
  // A row duet inserted in a batch whose state never committed waits for
  // SweepUnconfirmed, which knows whether it still has a partner.
  if (!*link && !batch.sweeping && plan.unconfirmed[s].ids.count(id)) {
    Trace("reconcile {} side {} row {}: unconfirmed, left for the sweep", plan.name, s, id);
    return Status::Ok();
  }
  Pair p;
  p.s = s;
  p.seed = seed;
  p.link = std::move(*link);
  p.ids[s] = id;
  if (p.link) {
    p.ids[0] = p.link->left_id;
    p.ids[1] = p.link->right_id;
  }
  if (p.link && gone_mask == 0) {
    int reused = ReusedIds(batch, p);
    if (reused != 0) return ReconcileReused(batch, p, reused);
  }
  batch.done.insert("L:" + p.ids[0]);
  batch.done.insert("R:" + p.ids[1]);
  Trace("reconcile {} side {} row {}{}: pair ({}, {})", plan.name, s, id,
        gone_mask ? " (reused id)" : "", p.ids[0], p.ids[1]);
  if (gone_mask && !p.link) return Status::Ok();
  Expected<bool> read = ReadPair(batch, p, gone_mask, known);
  if (!read.ok() || !*read) return read.status();
  ++counts.pairs;
  if (Status st = LoadBase(plan, p); !st.ok()) return st;

  PairRules rules = RulesOf(plan);
  PairSnapshot snapshot = Snapshot(batch, p, rules, /*matched=*/false);
  Expected<Decision> decision = DecidePair(plan, p.ids, &snapshot);
  if (!decision.ok()) return decision.status();
  if (decision->step != Step::kMerge) {
    Expected<bool> both = ApplyStep(batch, p, *decision);
    if (!both.ok() || !*both) return both.status();
    // Both rows exist now: decided again as a matched pair.
    snapshot = Snapshot(batch, p, rules, /*matched=*/true);
    decision = DecidePair(plan, p.ids, &snapshot);
    if (!decision.ok()) return decision.status();
    if (decision->step == Step::kError) {
      RecordDecided(batch, *decision->error, p.ids, p.rows);
      return Status::Ok();
    }
  }
  return MergePair(batch, p, *decision);
}

int SyncEngine::Impl::ReusedIds(Batch& batch, const Pair& p) {
  MapPlan& plan = *batch.plan;
  int reused = 0;
  for (int i = 0; i < 2; ++i) {
    auto it = plan.pending_inserts[i].find(p.ids[i]);
    const Position& linked_at = i == 0 ? p.link->left_position : p.link->right_position;
    if (it != plan.pending_inserts[i].end() && it->second > linked_at &&
        !batch.replaced.count((i == 0 ? "L:" : "R:") + p.ids[i])) {
      reused |= 1 << i;
    }
  }
  return reused;
}

Status SyncEngine::Impl::ReconcileReused(Batch& batch, const Pair& p, int reused) {
  // A linked row is gone and a new row has its RowId (on either side, or
  // both): settle the deletion first, then reconcile the new rows.
  for (int i = 0; i < 2; ++i) {
    if (reused & (1 << i)) batch.replaced.insert((i == 0 ? "L:" : "R:") + p.ids[i]);
  }
  int first = (reused & 1) ? 0 : 1;
  if (Status st = Reconcile(batch, first, p.ids[first], p.seed, reused); !st.ok()) return st;
  RowId old_ids[2] = {p.ids[0], p.ids[1]};
  for (int i = 0; i < 2; ++i) {
    batch.done.erase("L:" + old_ids[0]);
    batch.done.erase("R:" + old_ids[1]);
    if (reused & (1 << i)) {
      if (Status st = Reconcile(batch, i, old_ids[i], p.seed); !st.ok()) return st;
    }
  }
  if (!(reused & (1 << p.s))) return Reconcile(batch, p.s, p.ids[p.s], p.seed);
  return Status::Ok();
}

Expected<bool> SyncEngine::Impl::ReadPair(Batch& batch, Pair& p, int gone_mask, const Row* known) {
  MapPlan& plan = *batch.plan;
  for (int i = 0; i < 2; ++i) {
    if (p.ids[i].empty() || (gone_mask & (1 << i))) continue;
    if (known && i == p.s && known->id == p.ids[i]) {
      p.rows[i] = *known;
    } else {
      Expected<std::optional<Row>> row = ReadRow(plan.side[i], p.ids[i]);
      if (!row.ok()) return row.status();
      p.rows[i] = std::move(*row);
    }
    if (p.rows[i] && !p.rows[i]->problem.empty()) {
      RecordError(batch, i, p.ids[i], "bad_data", p.rows[i]->problem, &*p.rows[i]);
      return false;
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (!p.rows[i] || !plan.side[i].transform) {
      p.proj[i].status = DUET_FILTERED;
      continue;
    }
    p.proj[i] = Project(plan.side[i], *p.rows[i]);
  }
  return true;
}

Status SyncEngine::Impl::LoadBase(const MapPlan& plan, Pair& p) {
  if (!p.link) return Status::Ok();
  if (!DecodeBase(p.link->base, &p.base)) {
    return DataLossError("state store: the base of a link of map " + plan.name + " is damaged");
  }
  p.has_base = true;
  for (int i = 0; i < 2; ++i) {
    size_t outputs = plan.side[i].transform ? plan.side[i].transform->outputs.size() : 0;
    if (p.base.p[i].size() != outputs || p.base.c[1 - i].size() != outputs) p.has_base = false;
  }
  if (!p.has_base) p.base = Base();
  return Status::Ok();
}

PairSnapshot SyncEngine::Impl::Snapshot(const Batch& batch, const Pair& p, const PairRules& rules,
                                        bool matched) {
  PairSnapshot pair;
  pair.rules = &rules;
  pair.trigger = p.s;
  pair.linked = p.link.has_value();
  pair.matched = matched;
  for (int i = 0; i < 2; ++i) {
    pair.row[i] = p.rows[i] ? &p.rows[i]->values : nullptr;
    pair.proj[i] = &p.proj[i];
  }
  pair.base = p.has_base ? &p.base : nullptr;
  pair.seed = p.seed;
  pair.take = batch.take;
  pair.just_inserted = p.just_inserted;
  return pair;
}

Expected<bool> SyncEngine::Impl::ApplyStep(Batch& batch, Pair& p, const Decision& decision) {
  switch (decision.step) {
    case Step::kNothing:
      return false;
    case Step::kError:
      RecordDecided(batch, *decision.error, p.ids, p.rows);
      return false;
    case Step::kUnlink:
      DropLink(batch, *p.link);
      if (decision.resolve) Resolved(batch, p.ids[0], p.ids[1]);
      return false;
    case Step::kDelete: {
      int kept = decision.side;
      int gone = 1 - kept;
      Side& target = batch.plan->side[kept];
      Status deleted = batch.Writer(kept).Delete(target.table, p.ids[kept]);
      Trace("  delete {} row {}", target.table, p.ids[kept]);
      if (!deleted.ok()) {
        if (!IsRejected(deleted)) return deleted;
        RecordError(batch, gone, p.ids[gone], "rejected", deleted.message(), nullptr);
        return false;
      }
      ++batch.writes;
      DropLink(batch, *p.link);
      Resolved(batch, p.ids[0], p.ids[1]);
      return false;
    }
    case Step::kRestore:
      return RestorePartner(batch, p, decision.side);
    case Step::kNothingToSync:
      if (decision.filtered) ++batch.filtered_out;
      NothingToSync(batch, p.s, p.ids[p.s], decision.why);
      return false;
    case Step::kFindPartner:
      return FindPartner(batch, p);
    case Step::kMerge:
      return true;
  }
  return InternalError("an unknown step of a decision");
}

Expected<std::optional<RowId>> SyncEngine::Impl::InsertRowFor(Batch& batch, Pair& p, int from) {
  MapPlan& plan = *batch.plan;
  int to = 1 - from;
  if (const Projection::SlotError* e = FirstSlotError(p.proj[from], plan.side[from].all_outputs)) {
    RecordError(batch, from, p.ids[from], e->kind, e->message, &*p.rows[from]);
    return std::optional<RowId>();
  }
  std::vector<int> deferred;
  auto columns =
      Columns(plan, to, plan.side[from].all_outputs, p.proj[from].values, nullptr, &deferred);
  if (!columns.ok()) return columns.status();
  if (auto* missing = std::get_if<Missing>(&*columns)) {
    Wait(batch, from, p.ids[from], missing->reason);
    return std::optional<RowId>();
  }
  auto& [names, values] = std::get<0>(*columns);
  Side& target = plan.side[to];
  for (const auto& [column, value] : target.insert_defaults) {
    names.push_back(column);
    values.push_back(value);
  }
  Expected<RowId> inserted = batch.Writer(to).Insert(target.table, names, values);
  Trace("  insert into {} -> {}", target.table,
        inserted.ok() ? *inserted : inserted.status().message());
  if (!inserted.ok()) {
    if (!IsRejected(inserted.status())) return inserted.status();
    RecordError(batch, from, p.ids[from], "rejected", inserted.status().message(), &*p.rows[from]);
    return std::optional<RowId>();
  }
  ++batch.writes;
  for (int j : deferred) p.deferred_slots.emplace_back(from, j);
  p.last_insert = ImageOfWrite(target, *inserted, names, values);
  // The database may hand out the RowId of a deleted row whose deletion is
  // not reconciled yet; that pair has lost its row on this side.
  Expected<std::optional<state::Link>> stale = FindLink(batch, to, *inserted);
  if (!stale.ok()) return stale.status();
  if (!*stale) {
    if (to == 0) {
      batch.by_left.emplace(*inserted, std::nullopt);
    } else {
      batch.by_right.emplace(*inserted, std::nullopt);
    }
  }
  if (*stale) {
    batch.replaced.insert((to == 0 ? "L:" : "R:") + *inserted);
    if (Status st = Reconcile(batch, to, *inserted, -1, 1 << to); !st.ok()) return st;
  }
  return std::optional<RowId>(*inserted);
}

Status SyncEngine::Impl::LinkPair(Batch& batch, const Pair& p,
                                  const std::vector<const FieldPlan*>& kept_fields) {
  MapPlan& plan = *batch.plan;
  Expected<Base> b = ComputeBase(plan, p.rows);
  if (!b.ok()) return b.status();
  if (p.has_base) {
    for (const FieldPlan* f : kept_fields) {
      for (int i = 0; i < 2; ++i) {
        for (int j : f->slots[i]) {
          b->p[i][static_cast<size_t>(j)] = p.base.p[i][static_cast<size_t>(j)];
          b->c[1 - i][static_cast<size_t>(j)] = p.base.c[1 - i][static_cast<size_t>(j)];
        }
      }
    }
  }
  for (const auto& [side, j] : p.deferred_slots) {
    b->p[side][static_cast<size_t>(j)] = Value::Unknown();
  }
  state::Link l{p.rows[0]->id, p.rows[1]->id, EncodeBase(*b), ThisBatch(), ThisBatch()};
  // The pair as linked now: a link dropped earlier in this reconcile (a
  // recreated row may get its old RowId back) is not there any more.
  Expected<std::optional<state::Link>> current = FindLink(batch, 0, l.left_id);
  if (!current.ok()) return current.status();
  bool same_pair = *current && (*current)->right_id == l.right_id;
  if (same_pair) {
    l.left_position = (*current)->left_position;
    l.right_position = (*current)->right_position;
  }
  if (!same_pair) {
    if (Status st = PutLink(batch, l); !st.ok()) return st;
  } else if ((*current)->base != l.base) {
    batch.by_left[l.left_id] = l;
    batch.by_right[l.right_id] = l.left_id;
    std::string map = plan.name;
    batch.state_ops.push_back([map, left = l.left_id, base = l.base](state::StateStore& st) {
      return st.UpdateBase(map, left, base);
    });
  }
  // A conflict stays open: its item is recorded again after this.
  Resolved(batch, l.left_id, l.right_id, /*keep_errors=*/!kept_fields.empty());
  for (const auto& [side, j] : p.deferred_slots) {
    Wait(batch, side, p.rows[side]->id,
         plan.side[side].transform->outputs[static_cast<size_t>(j)].Name() +
             ": deferred lookup not resolved yet");
  }
  return Status::Ok();
}

Expected<std::optional<RowId>> SyncEngine::Impl::FindPartnerByKey(MapPlan& plan, int to,
                                                                  const std::vector<Value>& values,
                                                                  const Row* current) {
  auto key_columns = Columns(plan, to, plan.key_slots[1 - to], values, current, nullptr);
  if (!key_columns.ok()) return key_columns.status();
  auto* columns = std::get_if<0>(&*key_columns);
  if (columns == nullptr) return std::optional<RowId>();  // a key lookup waits
  return plan.side[to].endpoint->FindRow(plan.side[to].table, columns->first, columns->second);
}

Expected<bool> SyncEngine::Impl::RestorePartner(Batch& batch, Pair& p, int gone) {
  // The changed row wins: its partner comes back. After a crash between
  // the commits of an earlier attempt it may be back already, so look for
  // it by key first.
  MapPlan& plan = *batch.plan;
  int kept = 1 - gone;
  Expected<std::optional<RowId>> found =
      FindPartnerByKey(plan, gone, p.proj[kept].values, &*p.rows[kept]);
  if (!found.ok()) return found.status();
  std::optional<RowId> existing;
  if (*found) {
    Expected<std::optional<state::Link>> taken = FindLink(batch, gone, **found);
    if (!taken.ok()) return taken.status();
    if (!*taken) existing = *found;
  }
  if (!existing) {
    Expected<std::optional<RowId>> inserted = InsertRowFor(batch, p, kept);
    if (!inserted.ok()) return inserted.status();
    if (!*inserted) return false;
    DropLink(batch, *p.link);
    Expected<std::optional<Row>> reread = ReadRow(plan.side[gone], **inserted);
    if (!reread.ok()) return reread.status();
    p.rows[gone] = std::move(*reread);
    if (!p.rows[gone]) return InternalError("a row duet inserted is not there");
    if (!plan.one_way_from[gone]) {
      if (Status st = LinkPair(batch, p, {}); !st.ok()) return st;
      return false;
    }
    p.ids[gone] = **inserted;
    p.just_inserted = true;
  } else {
    DropLink(batch, *p.link);
    p.ids[gone] = *existing;
  }
  batch.done.insert((gone == 0 ? "L:" : "R:") + p.ids[gone]);
  Expected<std::optional<Row>> found_row = ReadRow(plan.side[gone], p.ids[gone]);
  if (!found_row.ok()) return found_row.status();
  p.rows[gone] = std::move(*found_row);
  if (!p.rows[gone] || !p.rows[gone]->problem.empty()) return false;
  if (plan.side[gone].transform) p.proj[gone] = Project(plan.side[gone], *p.rows[gone]);
  // Merged as a new pair whose surviving row wins.
  p.has_base = false;
  p.base = Base();
  p.seed = kept;
  return true;
}

Expected<bool> SyncEngine::Impl::FindPartner(Batch& batch, Pair& p) {
  // An unlinked row: find its partner by alternate key, or insert it.
  MapPlan& plan = *batch.plan;
  int s = p.s;
  int o = 1 - s;
  Expected<std::optional<RowId>> found = FindPartnerByKey(plan, o, p.proj[s].values, nullptr);
  if (!found.ok()) return found.status();
  const std::optional<RowId>& partner = *found;
  if (!partner) return InsertPartnerOf(batch, p);
  Expected<std::optional<state::Link>> taken = FindLink(batch, o, *partner);
  if (!taken.ok()) return taken.status();
  if (*taken) {
    RecordError(batch, s, p.ids[s], "duplicate_key",
                "the alternate key matches row " + *partner + " of " + plan.side[o].table +
                    ", which is already linked to row " +
                    (o == 0 ? (*taken)->right_id : (*taken)->left_id) + " of " + plan.side[s].table,
                &*p.rows[s], *partner);
    return false;
  }
  p.ids[o] = *partner;
  batch.done.insert((o == 0 ? "L:" : "R:") + p.ids[o]);
  Expected<std::optional<Row>> other = ReadRow(plan.side[o], p.ids[o]);
  if (!other.ok()) return other.status();
  p.rows[o] = std::move(*other);
  if (!p.rows[o]) return false;
  if (!p.rows[o]->problem.empty()) {
    RecordError(batch, o, p.ids[o], "bad_data", p.rows[o]->problem, &*p.rows[o]);
    return false;
  }
  if (plan.side[o].transform) p.proj[o] = Project(plan.side[o], *p.rows[o]);
  if (p.seed >= 0 && batch.take < 0) {
    Expected<int> seed = SeedOfMatchedPair(plan, p);
    if (!seed.ok()) return seed.status();
    p.seed = *seed;
  }
  return true;
}

Expected<bool> SyncEngine::Impl::InsertPartnerOf(Batch& batch, Pair& p) {
  MapPlan& plan = *batch.plan;
  int s = p.s;
  int o = 1 - s;
  Expected<std::optional<RowId>> inserted = InsertRowFor(batch, p, s);
  if (!inserted.ok()) return inserted.status();
  if (!*inserted) return false;
  p.ids[o] = **inserted;
  batch.done.insert((o == 0 ? "L:" : "R:") + p.ids[o]);
  if (p.last_insert) {
    p.rows[o] = std::move(p.last_insert);
  } else {
    Expected<std::optional<Row>> reread = ReadRow(plan.side[o], p.ids[o]);
    if (!reread.ok()) return reread.status();
    p.rows[o] = std::move(*reread);
    if (!p.rows[o]) return InternalError("a row duet inserted is not there");
  }
  if (!plan.one_way_from[o]) {
    if (Status st = LinkPair(batch, p, {}); !st.ok()) return st;
    return false;
  }
  // Merged as a new pair whose first row wins.
  p.proj[o] = Project(plan.side[o], *p.rows[o]);
  p.just_inserted = true;
  p.seed = s;
  return true;
}

Expected<int> SyncEngine::Impl::SeedOfMatchedPair(MapPlan& plan, const Pair& p) {
  // The seeding side's rule is for rows as they were when the initial sync
  // began. A row an application edited since (captured after the map's
  // checkpoint) is newer than that: its edit must not be lost
  // (docs/sync.md, "Initial sync"). This also covers a partner duet
  // inserted in a batch whose state a crash kept from being recorded, and
  // that was edited before the batch was done again.
  bool edited[2];
  for (int i = 0; i < 2; ++i) {
    Expected<bool> at = EditedSinceCheckpoint(plan, i, p.ids[i]);
    if (!at.ok()) return at.status();
    edited[i] = *at;
  }
  if (edited[1 - p.seed]) {
    Trace("  edited since the initial sync began: {}{}", plan.side[1 - p.seed].system,
          edited[p.seed] ? " and " + plan.side[p.seed].system : "");
  }
  return SeedAfterEdits(p.seed, edited);
}

Status SyncEngine::Impl::MergePair(Batch& batch, Pair& p, const Decision& decision) {
  MapPlan& plan = *batch.plan;
  // Resolve every lookup before writing anything: a missing reference makes
  // the whole pair wait.
  struct Write {
    int to;
    std::vector<std::string> columns;
    std::vector<Value> values;
    std::vector<int> deferred;
  };
  std::vector<Write> writes;
  // Values made of a row as merged count on the write into that row, which
  // goes first (Decision::first_into): when it is refused, they are not
  // written.
  for (int k = 0; k < 2; ++k) {
    int w = k == 0 ? 1 - decision.first_into : decision.first_into;
    const std::vector<int>& write_slots = decision.write_slots[w];
    if (write_slots.empty()) continue;
    const Projection& values = decision.merged[w] ? *decision.merged[w] : p.proj[w];
    Write write;
    write.to = 1 - w;
    auto columns =
        Columns(plan, write.to, write_slots, values.values, &*p.rows[write.to], &write.deferred);
    if (!columns.ok()) return columns.status();
    if (auto* missing = std::get_if<Missing>(&*columns)) {
      Wait(batch, p.s, p.ids[p.s], missing->reason);
      return Status::Ok();
    }
    write.columns = std::move(std::get<0>(*columns).first);
    write.values = std::move(std::get<0>(*columns).second);
    writes.push_back(std::move(write));
  }
  for (const Write& write : writes) {
    Side& target = plan.side[write.to];
    Status updated =
        batch.Writer(write.to).Update(target.table, p.ids[write.to], write.columns, write.values);
    Trace("  update {} row {}: {} column(s)", target.table, p.ids[write.to], write.columns.size());
    if (!updated.ok()) {
      if (!IsRejected(updated)) return updated;
      // The other side's write, if it comes second, is not made either; one
      // made first stays (writes have no savepoint each), and the link's
      // base is not updated.
      int from = 1 - write.to;
      RecordError(batch, from, p.ids[from], "rejected", updated.message(), &*p.rows[from], {},
                  &*p.rows[write.to]);
      return Status::Ok();
    }
    ++batch.writes;
    for (int j : write.deferred) p.deferred_slots.emplace_back(1 - write.to, j);
    if (!PatchImage(target, write.columns, write.values, &*p.rows[write.to])) {
      Expected<std::optional<Row>> reread = ReadRow(target, p.ids[write.to]);
      if (!reread.ok()) return reread.status();
      p.rows[write.to] = std::move(*reread);
      if (!p.rows[write.to]) return InternalError("a row duet updated is not there");
    }
  }
  if (Status st = LinkPair(batch, p, decision.conflicts); !st.ok()) return st;
  if (!decision.conflicts.empty()) RecordConflict(batch, p, decision.conflicts);
  return Status::Ok();
}

void SyncEngine::Impl::RecordConflict(Batch& batch, const Pair& p,
                                      const std::vector<const FieldPlan*>& conflicts) {
  // Per conflicting column: what each side's row gives it now and what it
  // was at the last sync.
  const MapPlan& plan = *batch.plan;
  std::string fields;
  nlohmann::json detail = nlohmann::json::array();
  auto text = [](const Value& v) {
    return v.is_null() || v.is_unknown() || v.is_digest() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(v.ToText());
  };
  for (const FieldPlan* f : conflicts) {
    for (int i = 0; i < 2; ++i) {
      for (int j : f->slots[i]) {
        const bundle::Slot& slot = plan.side[i].transform->outputs[static_cast<size_t>(j)];
        std::string name = plan.side[1 - i].table + "." + slot.Name();
        fields += (fields.empty() ? "" : ", ") + name;
        size_t at = static_cast<size_t>(plan.side[1 - i].current_index[static_cast<size_t>(j)]);
        nlohmann::json field = {{"column", name}};
        field[plan.side[i].system] = text(p.proj[i].values[static_cast<size_t>(j)]);
        field[plan.side[1 - i].system] = text(p.rows[1 - i]->values[at]);
        const Value* base = p.has_base ? &p.base.p[i][static_cast<size_t>(j)] : nullptr;
        field["base"] = base ? text(*base) : nullptr;
        // A long string's base is kept as a digest only (docs/sync.md).
        if (base && base->is_digest()) field["base_kept"] = false;
        detail.push_back(std::move(field));
      }
    }
  }
  int s = p.s;
  RecordError(batch, s, p.ids[s], "conflict",
              "both sides changed " + fields + " since the last sync; the rule is manual",
              &*p.rows[s], {}, &*p.rows[1 - s], nlohmann::json{{"fields", detail}}.dump());
}

}  // namespace duet::engine
