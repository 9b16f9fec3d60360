// The initial sync (docs/sync.md, "Initial sync"): each map's rows read in
// pages, in dependency order, from a cursor kept in the state store; and its
// common case, a row with no partner yet, done without the general
// reconcile's reads and re-projections.
#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "runtime/engine/engine_impl.h"

namespace duet::engine {
namespace {

// A deferred insert's key as text that two keys share exactly when
// FindRow would match one with the other (Batch::pending_keys): "" for a
// key with a null, which matches nothing; nullopt when the text does not
// tell (a decimal, float or guid compares by value: 1.5 = 1.50). Strings
// compare as bytes, as under the databases' deterministic collations.
std::optional<std::string> PendingKeyText(const std::vector<Value>& key) {
  if (key.empty()) return std::nullopt;  // FindRow's "any row"
  std::string text;
  for (const Value& v : key) {
    if (v.is_null()) return std::string();
    if (v.tag() != DUET_STRING && v.tag() != DUET_INT && v.tag() != DUET_BOOL &&
        v.tag() != DUET_DATE) {
      return std::nullopt;
    }
    std::string part = v.ToText();
    text += std::to_string(v.tag()) + ":" + std::to_string(part.size()) + ":" + part;
  }
  return text;
}

}  // namespace

Status SyncEngine::Impl::InitialSync(MapPlan& plan, const ProgressFn& progress,
                                     const std::atomic<bool>* stop) {
  // The sync loop calls this every cycle; a map never leaves live.
  if (plan.live) return Status::Ok();
  Expected<state::MapState> loaded = state->GetMap(plan.name);
  if (!loaded.ok()) return loaded.status();
  state::MapState m = *loaded;
  if (m.phase == state::MapPhase::kLive) {
    plan.live = true;
    return Status::Ok();
  }
  if (plan.initial_none) {
    // Rows are linked when they first change: every change captured since
    // install counts, so the checkpoints stay at 0.
    m.phase = state::MapPhase::kLive;
    if (Status s = state->Begin(); !s.ok()) return s;
    if (Status s = state->PutMap(m); !s.ok()) {
      state->Rollback();
      return s;
    }
    return state->Commit();
  }
  if (m.phase == state::MapPhase::kNew) {
    // Everything after these positions is reconciled by live sync afterwards,
    // so changes made during the initial sync are not lost.
    Position end[2];
    for (int s = 0; s < 2; ++s) {
      Expected<Position> e = plan.side[s].endpoint->StreamEnd();
      if (!e.ok()) return e.status();
      end[s] = std::move(*e);
    }
    Expected<int64_t> total = plan.side[plan.seed].reader->Count();
    if (!total.ok()) return total.status();
    m.phase = state::MapPhase::kInitial;
    m.initial_step = 1;
    m.initial_cursor.reset();
    m.initial_done = 0;
    m.initial_total = *total;
    if (Status s = state->Begin(); !s.ok()) return s;
    for (int s = 0; s < 2; ++s) {
      if (Status st = state->SetCheckpoint(plan.name, plan.side[s].system, end[s]); !st.ok()) {
        state->Rollback();
        return st;
      }
    }
    if (Status s = state->PutMap(m); !s.ok()) {
      state->Rollback();
      return s;
    }
    if (Status s = state->Commit(); !s.ok()) return s;
  }
  auto started = std::chrono::steady_clock::now();
  int64_t done_at_start = m.initial_done;
  while (m.initial_step <= 2) {
    if (stop && stop->load()) return Status::Ok();  // resumes from the cursor next time
    if (Status st = RefreshPaused(); !st.ok()) return st;
    if (IsPaused(plan)) return Status::Ok();  // likewise, once resumed
    int s = m.initial_step == 1 ? plan.seed : 1 - plan.seed;
    if (!plan.side[s].transform) {
      // A one-way map reads only one side: its second step has nothing to
      // read, and the map is live once the first is done.
      m.initial_step++;
      if (m.initial_step > 2) {
        m.phase = state::MapPhase::kLive;
        if (Status st = state->Begin(); !st.ok()) return st;
        if (Status st = state->PutMap(m); !st.ok()) {
          state->Rollback();
          return st;
        }
        if (Status st = state->Commit(); !st.ok()) return st;
        if (progress) {
          Progress p;
          p.map = plan.name;
          p.from = plan.side[plan.seed].system;
          p.to = plan.side[1 - plan.seed].system;
          p.done = m.initial_done;
          p.total = std::max(m.initial_total, m.initial_done);
          p.finished = true;
          progress(p);
        }
      }
      continue;
    }
    Batch batch;
    if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
    Side& side = plan.side[s];
    size_t limit = static_cast<size_t>(config.initial_batch_size);
    // The seeding side's rows are read whole; of the other side's, only
    // those no link names (the seeding side matched the others).
    std::vector<RowId> ids;
    std::vector<Row> rows;
    if (s == plan.seed) {
      Expected<std::vector<Row>> read = side.reader->Scan(m.initial_cursor, limit);
      if (!read.ok()) {
        AbortBatch(batch);
        return read.status();
      }
      rows = std::move(*read);
      ids.reserve(rows.size());
      for (const Row& row : rows) ids.push_back(row.id);
    } else {
      Expected<std::vector<RowId>> read = side.reader->ScanIds(m.initial_cursor, limit);
      Expected<std::vector<std::string>> linked =
          read.ok() ? state->LinkedAmong(plan.name, s, *read)
                    : Expected<std::vector<std::string>>(read.status());
      if (!linked.ok()) {
        AbortBatch(batch);
        return linked.status();
      }
      ids = std::move(*read);
      std::unordered_set<std::string> is_linked(linked->begin(), linked->end());
      for (const RowId& id : ids) {
        if (is_linked.count(id)) continue;
        Expected<std::optional<Row>> row = side.reader->Read(id);
        if (!row.ok()) {
          AbortBatch(batch);
          return row.status();
        }
        if (*row) rows.push_back(std::move(**row));
      }
    }
    state::MapState next = m;
    if (ids.empty()) {
      next.initial_step++;
      next.initial_cursor.reset();
      if (next.initial_step == 2 && plan.side[1 - plan.seed].transform) {
        Expected<int64_t> total = plan.side[1 - plan.seed].reader->Count();
        if (!total.ok()) {
          AbortBatch(batch);
          return total.status();
        }
        next.initial_total += *total;
      }
    } else {
      // The links of the whole page in one query, into the batch's overlay.
      std::vector<std::string> read_ids;
      read_ids.reserve(rows.size());
      for (const Row& row : rows) read_ids.push_back(row.id);
      if (Status st = PrefetchLinks(batch, s, std::move(read_ids)); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
      batch.defer_inserts = s == plan.seed;
      for (const Row& row : rows) {
        if (s != plan.seed) {
          // Linked since the page was read, by a row before it.
          Expected<std::optional<state::Link>> linked = FindLink(batch, s, row.id);
          if (!linked.ok()) {
            AbortBatch(batch);
            return linked.status();
          }
          if (*linked) continue;
        }
        Expected<bool> inserted = InsertPartner(batch, s, row);
        if (!inserted.ok()) {
          AbortBatch(batch);
          return inserted.status();
        }
        if (*inserted) continue;
        Status st = FlushInserts(batch);
        if (st.ok()) st = Reconcile(batch, s, row.id, plan.seed, 0, &row);
        if (!st.ok()) {
          AbortBatch(batch);
          return st;
        }
      }
      if (Status st = FlushInserts(batch); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
      batch.defer_inserts = false;
      next.initial_cursor = ids.back();
      next.initial_done += static_cast<int64_t>(ids.size());
    }
    if (next.initial_step > 2) next.phase = state::MapPhase::kLive;
    next.last_sync = clock->Now();
    Status committed = CommitBatch(batch, [&](state::StateStore& st) { return st.PutMap(next); });
    if (!committed.ok()) return committed;
    m = next;
    if (progress) {
      Progress p;
      p.map = plan.name;
      p.from = plan.side[s].system;
      p.to = plan.side[1 - s].system;
      p.done = m.initial_done;
      p.total = std::max(m.initial_total, m.initial_done);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      p.rows_per_second =
          seconds > 0 ? static_cast<double>(m.initial_done - done_at_start) / seconds : 0;
      p.finished = m.phase == state::MapPhase::kLive;
      progress(p);
    }
  }
  return Status::Ok();
}

Expected<bool> SyncEngine::Impl::ResyncBatch(MapPlan& plan, const ProgressFn& progress) {
  Expected<std::optional<state::Resync>> loaded = state->GetResync(plan.name);
  if (!loaded.ok()) return loaded.status();
  if (!*loaded) return false;
  Expected<state::MapState> m = state->GetMap(plan.name);
  if (!m.ok()) return m.status();
  if (m->phase != state::MapPhase::kLive) return false;  // after the initial sync
  state::Resync r = **loaded;
  int seed = r.from == plan.side[0].system ? 0 : r.from == plan.side[1].system ? 1 : -1;
  if (seed < 0 || !plan.side[seed].transform) {
    return InvalidArgumentError("resync of map " + plan.name + ": '" + r.from +
                                "' is not a side whose rows the map reads");
  }
  int s = r.step == 1 ? seed : 1 - seed;
  Batch batch;
  if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
  batch.take = seed;
  state::Resync next = r;
  size_t limit = static_cast<size_t>(config.initial_batch_size);
  Expected<std::vector<Row>> rows = r.where.empty()
                                        ? plan.side[s].reader->Scan(r.cursor, limit)
                                        : plan.side[s].reader->ScanWhere(r.cursor, limit, r.where);
  if (!rows.ok()) {
    AbortBatch(batch);
    return rows.status();
  }
  if (rows->empty()) {
    next.step++;
    // Some pairs only: they are all reached from `from`'s side.
    if (!r.where.empty()) next.step = 3;
    next.cursor.reset();
    if (next.step == 2) {
      Expected<int64_t> more = plan.side[1 - seed].reader->Count();
      if (!more.ok()) {
        AbortBatch(batch);
        return more.status();
      }
      next.total += *more;
    }
  } else {
    std::vector<std::string> ids;
    ids.reserve(rows->size());
    for (const Row& row : *rows) ids.push_back(row.id);
    if (Status st = PrefetchLinks(batch, s, std::move(ids)); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
    // Every pair again, linked or not: rows the other side lost come back,
    // pairs that drifted get `from`'s values, rows without a partner get one
    // (as in an initial sync).
    for (const Row& row : *rows) {
      Expected<bool> inserted = InsertPartner(batch, s, row);
      if (!inserted.ok()) {
        AbortBatch(batch);
        return inserted.status();
      }
      if (*inserted) continue;
      if (Status st = Reconcile(batch, s, row.id, seed, 0, &row); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
    }
    next.cursor = rows->back().id;
    next.done += static_cast<int64_t>(rows->size());
  }
  bool finished = next.step > 2;
  Status committed = CommitBatch(batch, [next, finished](state::StateStore& st) {
    return finished ? st.EndResync(next.map) : st.PutResync(next);
  });
  if (!committed.ok()) return committed;
  if (progress) {
    Progress p;
    p.map = plan.name;
    p.task = "resync";
    p.from = plan.side[s].system;
    p.to = plan.side[1 - s].system;
    p.done = next.done;
    p.total = std::max(next.total, next.done);
    p.finished = finished;
    // The rate since this process took the resync up.
    auto [since, done_then] =
        resync_started.emplace(plan.name, std::make_pair(std::chrono::steady_clock::now(), r.done))
            .first->second;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    p.rows_per_second = seconds > 0 ? static_cast<double>(next.done - done_then) / seconds : 0;
    if (finished) resync_started.erase(plan.name);
    progress(p);
  }
  if (finished && log) log(fmt::format("resync of map {} from {} done", plan.name, r.from));
  return true;
}

Expected<bool> SyncEngine::Impl::InsertPartner(Batch& batch, int from, const Row& row) {
  MapPlan& plan = *batch.plan;
  int to = 1 - from;
  Side& source = plan.side[from];
  Side& target = plan.side[to];
  // A mapping that flows back from the new partner is written by Reconcile,
  // which also leaves unconfirmed rows (MapPlan::unconfirmed) alone.
  if (!source.transform || !row.problem.empty() || plan.one_way_from[to] ||
      plan.unconfirmed[from].ids.count(row.id)) {
    return false;
  }
  std::string from_key = (from == 0 ? "L:" : "R:") + row.id;
  if (batch.done.count(from_key)) return false;
  Expected<std::optional<state::Link>> link = FindLink(batch, from, row.id);
  if (!link.ok()) return link.status();
  if (*link) return false;

  // From here on as Reconcile does it for an unlinked row, step for step,
  // leaving out what cannot apply to a row without a partner.
  Projection proj[2];
  proj[from] = Project(source, row);
  if (proj[from].status == DUET_FILTERED) {
    batch.done.insert(std::move(from_key));
    ++counts.pairs;
    return true;
  }
  if (proj[from].status == DUET_ERROR) {
    batch.done.insert(std::move(from_key));
    ++counts.pairs;
    RecordError(batch, from, row.id, proj[from].error_kind, proj[from].message, &row);
    return true;
  }
  // A value that does not fit its slot fails the row only if it has no
  // partner: the general way finds out.
  if (proj[from].status != DUET_OK || !proj[from].slot_errors.empty()) return false;
  // The columns and values to insert: straight from the projection when
  // the map has no lookups this way (Side::plain_insert), else as Columns
  // resolves them.
  const std::vector<std::string>* names = &source.insert_columns;
  const std::vector<Value>* values = &proj[from].values;
  std::vector<Value> with_defaults;
  std::optional<std::pair<std::vector<std::string>, std::vector<Value>>> resolved;
  if (source.plain_insert) {
    std::vector<Value> key;
    key.reserve(plan.key_slots[from].size());
    for (int j : plan.key_slots[from]) key.push_back(proj[from].values[static_cast<size_t>(j)]);
    if (!target.insert_defaults.empty()) {
      with_defaults = proj[from].values;
      for (const auto& [column, value] : target.insert_defaults) with_defaults.push_back(value);
      values = &with_defaults;
    }
    if (batch.defer_inserts) {
      std::optional<std::string> text = PendingKeyText(key);
      if (text && (text->empty() || batch.pending_keys.insert(*text).second)) {
        if (with_defaults.empty()) with_defaults = proj[from].values;
        batch.pending.push_back(
            {from, &row, std::move(proj[from]), std::move(key), std::move(with_defaults)});
        return true;
      }
      // The key of a row waiting to be inserted (or one whose equality the
      // text does not tell): those rows first, so that FindRow sees them.
      if (Status st = FlushInserts(batch); !st.ok()) return st;
    }
    Expected<std::optional<RowId>> partner =
        target.endpoint->FindRow(target.table, source.key_columns, key);
    if (!partner.ok()) return partner.status();
    if (*partner) return false;  // a pair to merge
  } else {
    // A pair to merge, or a key lookup that waits (the columns below then
    // miss it): Reconcile does either.
    Expected<std::optional<RowId>> partner = FindPartnerByKey(plan, to, proj[from].values, nullptr);
    if (!partner.ok()) return partner.status();
    if (*partner) return false;
    std::vector<int> deferred;
    auto columns = Columns(plan, to, source.all_outputs, proj[from].values, nullptr, &deferred);
    if (!columns.ok()) return columns.status();
    auto* written = std::get_if<0>(&*columns);
    if (!written || !deferred.empty()) return false;
    resolved = std::move(*written);
    for (const auto& [column, value] : target.insert_defaults) {
      resolved->first.push_back(column);
      resolved->second.push_back(value);
    }
    names = &resolved->first;
    values = &resolved->second;
  }

  if (Status st = Inserted(batch, from, row, proj, *names, *values,
                           batch.Writer(to).Insert(target.table, *names, *values), nullptr);
      !st.ok()) {
    return st;
  }
  return true;
}

Status SyncEngine::Impl::Inserted(Batch& batch, int from, const Row& row, Projection (&proj)[2],
                                  const std::vector<std::string>& names,
                                  const std::vector<Value>& values, Expected<RowId> inserted,
                                  const std::unordered_set<std::string>* linked) {
  MapPlan& plan = *batch.plan;
  int to = 1 - from;
  Side& source = plan.side[from];
  Side& target = plan.side[to];
  batch.done.insert((from == 0 ? "L:" : "R:") + row.id);
  ++counts.pairs;
  Trace("reconcile {} side {} row {}: insert into {} -> {}", plan.name, from, row.id, target.table,
        inserted.ok() ? *inserted : inserted.status().message());
  if (!inserted.ok()) {
    if (!IsRejected(inserted.status())) return inserted.status();
    RecordError(batch, from, row.id, "rejected", inserted.status().message(), &row);
    return Status::Ok();
  }
  ++batch.writes;
  const RowId& id = *inserted;
  batch.done.insert((to == 0 ? "L:" : "R:") + id);
  // The database may hand out the RowId of a deleted row whose deletion is
  // not reconciled yet: settle that pair first, as Reconcile does. Without
  // a link for it in the batch or in `linked`, it has none.
  bool in_batch = to == 0 ? batch.by_left.count(id) != 0 : batch.by_right.count(id) != 0;
  Expected<std::optional<state::Link>> stale = !linked || in_batch || linked->count(id)
                                                   ? FindLink(batch, to, id)
                                                   : std::optional<state::Link>();
  if (!stale.ok()) return stale.status();
  if (*stale) {
    batch.replaced.insert((to == 0 ? "L:" : "R:") + id);
    if (Status st = Reconcile(batch, to, id, -1, 1 << to); !st.ok()) return st;
  }

  // The new row as the other side's reader would read it: the values just
  // written, or, when the database filled some, read back.
  RowRef image;
  std::optional<Row> reread;
  if (source.plain_insert) image = ImageOfInsert(source, target, values);
  if (image.empty()) {
    if (!source.plain_insert) reread = ImageOfWrite(target, id, names, values);
    if (!reread) {
      Expected<std::optional<Row>> read = ReadRow(target, id);
      if (!read.ok()) return read.status();
      reread = std::move(*read);
      if (!reread) return InternalError("a row duet inserted is not there");
    }
    image = RefOf(*reread);
  }
  if (target.transform) {
    proj[to] = Project(target, image);
  } else {
    proj[to].status = DUET_FILTERED;
  }
  RowRef source_row = RefOf(row);
  const RowRef* rows[2];
  rows[from] = &source_row;
  rows[to] = &image;
  state::Link l;
  l.left_id = from == 0 ? row.id : id;
  l.right_id = from == 0 ? id : row.id;
  l.base = EncodeBase(BaseOf(plan, rows, proj));
  l.left_position = ThisBatch();
  l.right_position = ThisBatch();
  std::string left = l.left_id;
  std::string right = l.right_id;
  if (*stale) {
    if (Status st = PutLink(batch, l); !st.ok()) return st;
  } else {
    AddNewLink(batch, std::move(l));
  }
  Resolved(batch, left, right);
  return Status::Ok();
}

Status SyncEngine::Impl::FlushInserts(Batch& batch) {
  if (batch.pending.empty()) return Status::Ok();
  std::vector<Batch::PendingInsert> pending = std::move(batch.pending);
  batch.pending.clear();
  batch.pending_keys.clear();
  MapPlan& plan = *batch.plan;
  int from = pending.front().from;  // one page: one side
  int to = 1 - from;
  Side& source = plan.side[from];
  Side& target = plan.side[to];
  std::vector<std::vector<Value>> keys;
  keys.reserve(pending.size());
  for (const Batch::PendingInsert& p : pending) keys.push_back(p.key);
  Expected<std::vector<std::optional<RowId>>> partners =
      target.endpoint->FindRows(target.table, source.key_columns, keys);
  if (!partners.ok()) return partners.status();
  std::vector<std::vector<Value>> rows;
  std::vector<size_t> unmatched;
  for (size_t i = 0; i < pending.size(); ++i) {
    if ((*partners)[i]) continue;
    unmatched.push_back(i);
    rows.push_back(pending[i].values);
  }
  Expected<std::vector<Expected<RowId>>> ids =
      rows.empty() ? std::vector<Expected<RowId>>()
                   : batch.Writer(to).InsertMany(target.table, source.insert_columns, rows);
  if (!ids.ok()) return ids.status();
  if (ids->size() != unmatched.size()) return InternalError("InsertMany lost a row's outcome");
  // Which of the new rows' ids the state store links (a reused RowId).
  std::vector<std::string> new_ids;
  for (const Expected<RowId>& id : *ids) {
    if (id.ok()) new_ids.push_back(*id);
  }
  Expected<std::vector<std::string>> linked =
      new_ids.empty() ? std::vector<std::string>() : state->LinkedAmong(plan.name, to, new_ids);
  if (!linked.ok()) return linked.status();
  std::unordered_set<std::string> is_linked(linked->begin(), linked->end());
  for (size_t k = 0; k < unmatched.size(); ++k) {
    Batch::PendingInsert& p = pending[unmatched[k]];
    Projection proj[2];
    proj[from] = std::move(p.proj);
    if (Status st = Inserted(batch, from, *p.row, proj, source.insert_columns, p.values,
                             std::move((*ids)[k]), &is_linked);
        !st.ok()) {
      return st;
    }
  }
  // The rows a key matched: pairs to merge, as InsertPartner's false.
  for (size_t i = 0; i < pending.size(); ++i) {
    if (!(*partners)[i]) continue;
    const Row& row = *pending[i].row;
    if (Status st = Reconcile(batch, from, row.id, plan.seed, 0, &row); !st.ok()) return st;
  }
  return Status::Ok();
}

RowRef SyncEngine::Impl::ImageOfInsert(const Side& source, const Side& target,
                                       const std::vector<Value>& values) {
  RowRef image;
  if (!source.image_complete) return image;
  image.reserve(target.shape.size());
  for (size_t i = 0; i < target.shape.size(); ++i) {
    const Value& v = values[static_cast<size_t>(source.image_from[i])];
    // What a read gives back: a decimal at the column's scale.
    if (v.tag() == DUET_DECIMAL && v.scale() != target.shape[i].type.scale) return RowRef();
    image.push_back(&v);
  }
  return image;
}

}  // namespace duet::engine
