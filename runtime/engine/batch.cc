// Batches: the write transactions of both sides, the state-store work that
// follows them, and the batch's view of the links (engine_impl.h).
#include "runtime/engine/engine_impl.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "runtime/base/failpoint.h"
#include "runtime/base/json_dump.h"

namespace duet::engine {

using nlohmann::json;

// ---------------------------------------------------------------------------
// Batches

Status SyncEngine::Impl::BeginBatch(Batch& batch, MapPlan& plan) {
  batch = Batch();
  batch.plan = &plan;
  if (Status s = state->CheckFile(); !s.ok()) return s;
  if (plan.check_unconfirmed) {
    if (Status s = FindUnconfirmed(plan); !s.ok()) return s;
  }
  // duet never waits for one database's write lock while it holds
  // another's: only the database begun first may wait (lock_first, the one
  // a batch last found locked); the other takes its lock at its first
  // write, or the batch is given up and done again (MapFailed).
  int first = plan.side[1].endpoint == lock_first ? 1 : 0;
  using WriteLock = Endpoint::WriteLock;
  WriteLock lock =
      plan.side[first].endpoint == lock_first ? WriteLock::kNow : WriteLock::kAtFirstWrite;
  Expected<std::unique_ptr<endpoint::WriteTransaction>> began =
      plan.side[first].endpoint->Begin(plan.name, lock);
  if (!began.ok()) return began.status();
  batch.write[first] = std::move(*began);
  if (plan.side[1].endpoint != plan.side[0].endpoint) {
    began = plan.side[1 - first].endpoint->Begin(plan.name, WriteLock::kAtFirstWrite);
    if (!began.ok()) {
      batch.write[first]->Rollback();
      batch.write[first].reset();
      return began.status();
    }
    batch.write[1 - first] = std::move(*began);
  }
  batch.open = true;
  if (Status s = state->BeginRead(); !s.ok()) {
    AbortBatch(batch);
    return s;
  }
  batch.state_open = true;
  for (int s = 0; s < 2; ++s) {
    if (!plan.side[s].transform) continue;
    if (!plan.inserts_scanned[s]) {
      Expected<Position> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
      Expected<Position> committed = state->GetCommitEnd(plan.name, plan.side[s].system);
      if (!ck.ok() || !committed.ok()) {
        AbortBatch(batch);
        return ck.ok() ? committed.status() : ck.status();
      }
      plan.inserts_scanned[s] = *ck;
      plan.own_inserts_after[s] = *committed;
    }
    Expected<Endpoint::Inserts> inserts = plan.side[s].endpoint->ReadInserts(
        plan.side[s].table, *plan.inserts_scanned[s], plan.name, plan.own_inserts_after[s]);
    if (!inserts.ok()) {
      AbortBatch(batch);
      return inserts.status();
    }
    for (auto& [id, position] : inserts->rows) {
      plan.pending_inserts[s][id] = position;
      plan.pending_order[s].emplace_back(std::move(position), std::move(id));
    }
    plan.inserts_scanned[s] = std::move(inserts->scanned_to);
    plan.own_inserts_after[s] = std::nullopt;
  }
  Expected<int64_t> errors = state->CountOpenErrors(plan.name);
  if (!errors.ok()) {
    AbortBatch(batch);
    return errors.status();
  }
  batch.has_errors = *errors > 0;
  Expected<std::vector<state::Waiting>> waiting = state->ListWaiting(plan.name);
  if (!waiting.ok()) {
    AbortBatch(batch);
    return waiting.status();
  }
  batch.has_waiting = !waiting->empty();
  return Status::Ok();
}

void SyncEngine::Impl::AbortBatch(Batch& batch) {
  if (batch.state_open) {
    state->Rollback();
    batch.state_open = false;
  }
  if (!batch.open) return;
  for (auto& write : batch.write) {
    if (write) write->Rollback();
  }
  batch.open = false;
}

Status SyncEngine::Impl::CommitBatch(Batch& batch,
                                     const std::function<Status(state::StateStore&)>& extra) {
  // The databases first, then the state store: a failure in between leaves
  // the state store behind. Reconciling the same changes again repairs
  // that, and the rows duet inserted meanwhile are found from the
  // changelogs (MapPlan::unconfirmed), so a row deleted before the retry
  // does not leave its partner behind (docs/sync.md, "Crash safety").
  MapPlan& plan = *batch.plan;
  for (int s = 0; s < 2; ++s) {
    Expected<Position> end = plan.side[s].endpoint->StreamEnd();
    if (!end.ok()) {
      AbortBatch(batch);
      return end.status();
    }
    (*batch.commit_end)[static_cast<size_t>(s)] = *end;
  }
  if (Status s = Failpoint("commit.before_databases"); !s.ok()) {
    AbortBatch(batch);
    return s;
  }
  if (Status s = batch.write[0]->Commit(); !s.ok()) {
    AbortBatch(batch);
    return s;
  }
  // From here on a database may hold work the state store does not.
  auto lost_state = [&](Status s) {
    state->Rollback();
    ResetPlanMemory(plan);
    return s;
  };
  if (batch.write[1]) {
    Status s = Failpoint("commit.between_databases");
    if (s.ok()) s = batch.write[1]->Commit();
    if (!s.ok()) {
      batch.write[1]->Rollback();
      batch.open = false;
      batch.state_open = false;
      return lost_state(s);
    }
  }
  batch.open = false;
  batch.state_open = false;  // committed or rolled back below
  if (Status s = Failpoint("commit.before_state"); !s.ok()) return lost_state(s);
  for (auto& op : batch.state_ops) {
    if (Status s = op(*state); !s.ok()) return lost_state(s);
  }
  if (extra) {
    if (Status s = extra(*state); !s.ok()) return lost_state(s);
  }
  for (int s = 0; s < 2; ++s) {
    // Held while unconfirmed rows of the side wait to be settled.
    if (!plan.unconfirmed[s].rows.empty() && !batch.swept[s]) continue;
    if (Status st = state->SetCommitEnd(plan.name, plan.side[s].system,
                                        (*batch.commit_end)[static_cast<size_t>(s)]);
        !st.ok()) {
      return lost_state(st);
    }
  }
  if (Status s = state->Commit(); !s.ok()) return lost_state(s);
  for (int s = 0; s < 2; ++s) {
    if (batch.swept[s]) plan.unconfirmed[s] = MapPlan::Unconfirmed();
  }
  counts.writes += batch.writes;
  return Failpoint("commit.after_state");
}

void SyncEngine::Impl::ResetPlanMemory(MapPlan& plan) {
  for (int s = 0; s < 2; ++s) {
    plan.pending_inserts[s].clear();
    plan.pending_order[s].clear();
    plan.inserts_scanned[s] = std::nullopt;
    plan.own_inserts_after[s] = Position();
    plan.unconfirmed[s] = MapPlan::Unconfirmed();
  }
  plan.check_unconfirmed = true;
}

Status SyncEngine::Impl::FindUnconfirmed(MapPlan& plan) {
  for (int s = 0; s < 2; ++s) {
    plan.unconfirmed[s] = MapPlan::Unconfirmed();
    if (!plan.side[1 - s].transform) continue;  // duet never inserts on side s
    Side& side = plan.side[s];
    Expected<Position> committed = state->GetCommitEnd(plan.name, side.system);
    if (!committed.ok()) return committed.status();
    Expected<std::vector<std::pair<RowId, Position>>> rows =
        side.endpoint->ReadOwnInserts(side.table, plan.name, *committed);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) continue;
    Expected<Position> other_end = plan.side[1 - s].endpoint->StreamEnd();
    if (!other_end.ok()) return other_end.status();
    Trace("unconfirmed {} side {}: {} row(s) after {}, ready at {}", plan.name, s, rows->size(),
          committed->ToString(), other_end->ToString());
    for (const auto& row : *rows) plan.unconfirmed[s].ids.insert(row.first);
    plan.unconfirmed[s].rows = std::move(*rows);
    plan.unconfirmed[s].found_after = std::move(*committed);
    plan.unconfirmed[s].ready_at = std::move(*other_end);
  }
  plan.check_unconfirmed = false;
  return Status::Ok();
}

bool SyncEngine::Impl::UnconfirmedReady(const MapPlan& plan, int s,
                                        const Position& other_checkpoint) {
  return plan.live && !plan.unconfirmed[s].rows.empty() &&
         other_checkpoint >= plan.unconfirmed[s].ready_at;
}

Status SyncEngine::Impl::SweepUnconfirmed(Batch& batch, int s) {
  MapPlan& plan = *batch.plan;
  Side& side = plan.side[s];
  for (const auto& [id, inserted_at] : plan.unconfirmed[s].rows) {
    Expected<std::optional<state::Link>> link = FindLink(batch, s, id);
    if (!link.ok()) return link.status();
    if (*link) continue;  // the retry linked it (found by alternate key)
    Expected<std::optional<Row>> row = ReadRow(side, id);
    if (!row.ok()) return row.status();
    if (!*row) continue;
    // An application changed it since duet inserted it: it is the
    // application's row now, reconciled like any new row of the side.
    Expected<std::optional<double>> changed =
        side.endpoint->LatestChangeTime(side.table, id, inserted_at);
    if (!changed.ok()) return changed.status();
    if (changed->has_value()) {
      if (!side.transform) continue;
      batch.sweeping = true;
      Status st = Reconcile(batch, s, id, -1);
      batch.sweeping = false;
      if (!st.ok()) return st;
      continue;
    }
    Status deleted = batch.Writer(s).Delete(side.table, id);
    Trace("  delete unconfirmed {} row {}", side.table, id);
    if (!deleted.ok()) {
      if (!IsRejected(deleted)) return deleted;
      RecordError(batch, s, id, "rejected",
                  "duet inserted this row for a row that is gone, and cannot delete it: " +
                      deleted.message(),
                  &**row);
      continue;
    }
    ++batch.writes;
  }
  batch.swept[s] = true;
  return Status::Ok();
}

Expected<std::optional<state::Link>> SyncEngine::Impl::FindLink(Batch& batch, int s,
                                                                const RowId& id) {
  const std::string& map = batch.plan->name;
  if (s == 0) {
    auto it = batch.by_left.find(id);
    if (it != batch.by_left.end()) return it->second;
    return state->LinkByLeft(map, id);
  }
  auto it = batch.by_right.find(id);
  if (it != batch.by_right.end()) {
    if (!it->second) return std::optional<state::Link>();
    auto left = batch.by_left.find(*it->second);
    if (left != batch.by_left.end()) return left->second;
    return state->LinkByLeft(map, *it->second);
  }
  return state->LinkByRight(map, id);
}

Status SyncEngine::Impl::PutLink(Batch& batch, const state::Link& link) {
  Trace("  link ({}, {})", link.left_id, link.right_id);
  // The state store replaces the old links of both rows; the overlay must
  // forget them too, or a later reconcile in this batch would find them.
  Expected<std::optional<state::Link>> of_left = FindLink(batch, 0, link.left_id);
  if (!of_left.ok()) return of_left.status();
  if (*of_left && (*of_left)->right_id != link.right_id) {
    batch.by_right[(*of_left)->right_id] = std::nullopt;
  }
  Expected<std::optional<state::Link>> of_right = FindLink(batch, 1, link.right_id);
  if (!of_right.ok()) return of_right.status();
  if (*of_right && (*of_right)->left_id != link.left_id) {
    batch.by_left[(*of_right)->left_id] = std::nullopt;
  }
  batch.by_left[link.left_id] = link;
  batch.by_right[link.right_id] = link.left_id;
  std::string map = batch.plan->name;
  batch.state_ops.push_back([map, link, ends = batch.commit_end](state::StateStore& st) {
    state::Link l = link;
    if (l.left_position.is_after_all()) l.left_position = (*ends)[0];
    if (l.right_position.is_after_all()) l.right_position = (*ends)[1];
    return st.PutLink(map, l);
  });
  return Status::Ok();
}

void SyncEngine::Impl::AddNewLink(Batch& batch, state::Link link) {
  Trace("  link ({}, {})", link.left_id, link.right_id);
  batch.by_right[link.right_id] = link.left_id;
  if (!batch.new_links || batch.new_links_op != batch.state_ops.size()) {
    batch.new_links = std::make_shared<std::vector<state::Link>>();
    std::string map = batch.plan->name;
    batch.state_ops.push_back(
        [map, links = batch.new_links, ends = batch.commit_end](state::StateStore& st) {
          for (state::Link& l : *links) {
            if (l.left_position.is_after_all()) l.left_position = (*ends)[0];
            if (l.right_position.is_after_all()) l.right_position = (*ends)[1];
            if (Status s = st.PutLink(map, l); !s.ok()) return s;
          }
          return Status::Ok();
        });
    batch.new_links_op = batch.state_ops.size();
  }
  batch.new_links->push_back(link);
  batch.by_left[batch.new_links->back().left_id] = std::move(link);
}

void SyncEngine::Impl::DropLink(Batch& batch, const state::Link& link) {
  Trace("  drop link ({}, {})", link.left_id, link.right_id);
  batch.by_left[link.left_id] = std::nullopt;
  batch.by_right[link.right_id] = std::nullopt;
  std::string map = batch.plan->name;
  std::string left = link.left_id;
  batch.state_ops.push_back(
      [map, left](state::StateStore& st) { return st.DeleteLink(map, left); });
}

std::string SyncEngine::Impl::RowJson(const Side& side, const Row& row) const {
  json j = json::object();
  for (size_t i = 0; i < side.shape.size() && i < row.values.size(); ++i) {
    const Value& v = row.values[i];
    j[JoinPath(side.shape[i].path)] = v.is_null() ? json(nullptr) : json(v.ToText());
  }
  return DumpJson(j);
}

void SyncEngine::Impl::RecordError(Batch& batch, int s, const RowId& id, const std::string& kind,
                                   const std::string& reason, const Row* row, const RowId& other_id,
                                   const Row* other_row, std::string detail) {
  state::ErrorItem item;
  item.map = batch.plan->name;
  item.system = batch.plan->side[s].system;
  item.row_id = id;
  item.kind = kind;
  item.reason = reason;
  if (row) item.source_row = RowJson(batch.plan->side[s], *row);
  item.other_id = other_row ? other_row->id : other_id;
  if (other_row) item.other_row = RowJson(batch.plan->side[1 - s], *other_row);
  item.detail = std::move(detail);
  item.last_at = clock->Now();
  ++counts.errors;
  batch.has_errors = true;
  batch.state_ops.push_back([item](state::StateStore& st) { return st.RecordError(item); });
}

void SyncEngine::Impl::Resolved(Batch& batch, const std::string& left, const std::string& right,
                                bool keep_errors) {
  std::string map = batch.plan->name;
  std::string systems[2] = {batch.plan->side[0].system, batch.plan->side[1].system};
  if (batch.has_errors && !keep_errors) {
    double at = clock->Now();
    batch.state_ops.push_back([=](state::StateStore& st) {
      if (!left.empty()) {
        if (Status s = st.ResolveErrors(map, systems[0], left, at); !s.ok()) return s;
      }
      if (!right.empty()) return st.ResolveErrors(map, systems[1], right, at);
      return Status::Ok();
    });
  }
  if (batch.has_waiting) {
    batch.state_ops.push_back([=](state::StateStore& st) {
      if (!left.empty()) {
        if (Status s = st.RemoveWaiting(map, systems[0], left); !s.ok()) return s;
      }
      if (!right.empty()) return st.RemoveWaiting(map, systems[1], right);
      return Status::Ok();
    });
  }
}

void SyncEngine::Impl::Wait(Batch& batch, int s, const RowId& id, const std::string& reason) {
  state::Waiting w{batch.plan->side[s].system, id, clock->Now(), reason};
  std::string map = batch.plan->name;
  batch.has_waiting = true;
  batch.state_ops.push_back([map, w](state::StateStore& st) { return st.AddWaiting(map, w); });
}

}  // namespace duet::engine
