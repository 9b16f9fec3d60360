// The sync loop and the engine's public face: batches of captured changes,
// waiting changes and their retries, the pace of the loop (waking on the
// endpoints' wait handles), pruning, transient failures. What the engine
// shows of itself is status.cc and operations.h; what an operator asks of
// it (pauses, requests on items) is control.cc.
#include "runtime/engine/sync_engine.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <poll.h>
#include <cerrno>
#include "runtime/base/failpoint.h"
#include "runtime/base/files.h"

#include "runtime/engine/engine_impl.h"

namespace duet::engine {

// ---------------------------------------------------------------------------
// Loops

namespace {

// How often, at most, the idle loop checks that the state store is still
// the one it opened: the longest a dropped or replaced store goes
// unnoticed while nothing changes.
constexpr auto kStoreCheckEvery = std::chrono::seconds(5);
// How often a live run records its maps' backlogs in the state store: the
// most that `duet status` next to it lags behind.
constexpr auto kRecordBacklogEvery = std::chrono::seconds(5);

// A batch cut short after the changes `synced` says it reconciled: each
// side's checkpoint goes up to the last of them (or stays at `before` when
// it has none), so that the rest are read again.
void CutBatch(const std::vector<endpoint::Change> changes[2], const std::vector<bool> synced[2],
              const Position before[2], Position checkpoint[2]) {
  for (int s = 0; s < 2; ++s) {
    size_t done = synced[s].size();
    if (done == changes[s].size()) continue;
    checkpoint[s] = done > 0 ? changes[s][done - 1].position : before[s];
  }
}

}  // namespace

Expected<int64_t> SyncEngine::Impl::ProcessChanges(MapPlan& plan, size_t limit) {
  std::vector<endpoint::Change> changes[2];
  Position checkpoint[2];
  Position before[2];
  bool advanced = false;
  size_t total = 0;
  if (plan.check_unconfirmed) {
    if (Status st = FindUnconfirmed(plan); !st.ok()) return st;
  }
  for (int s = 0; s < 2; ++s) {
    if (!plan.side[s].transform) continue;
    Expected<Position> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
    if (!ck.ok()) return ck.status();
    before[s] = *ck;
    checkpoint[s] = std::move(*ck);
    if (Status st = ReadSideChanges(plan, s, limit, &checkpoint[s], &changes[s]); !st.ok()) {
      return st;
    }
    advanced = advanced || checkpoint[s] != before[s];
    total += changes[s].size();
  }
  std::string systems[2] = {plan.side[0].system, plan.side[1].system};
  std::string name = plan.name;
  bool read[2] = {plan.side[0].transform != nullptr, plan.side[1].transform != nullptr};
  auto record = [&](state::StateStore& st, bool synced) -> Status {
    for (int s = 0; s < 2; ++s) {
      if (!read[s]) continue;
      if (Status r = st.SetCheckpoint(name, systems[s], checkpoint[s]); !r.ok()) return r;
    }
    if (!synced) return Status::Ok();
    Expected<state::MapState> m = st.GetMap(name);
    if (!m.ok()) return m.status();
    m->last_sync = clock->Now();
    return st.PutMap(*m);
  };
  bool sweep[2] = {false, false};
  for (int s = 0; s < 2; ++s) {
    sweep[s] = plan.side[1 - s].transform && UnconfirmedReady(plan, s, checkpoint[1 - s]);
  }
  if (total == 0 && !sweep[0] && !sweep[1]) {
    // Only duet's own changes: pass them without a batch.
    if (advanced) {
      if (Status st = state->Begin(); !st.ok()) return st;
      if (Status st = record(*state, false); !st.ok()) {
        state->Rollback();
        return st;
      }
      if (Status st = state->Commit(); !st.ok()) return st;
      PrunePending(plan, checkpoint);
    }
    return 0;
  }
  Batch batch;
  if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
  if (Status st = PrefetchLinks(batch, changes); !st.ok()) {
    AbortBatch(batch);
    return st;
  }
  // A batch reconciles for max_transaction_ms at most (at least one
  // change), then commits what it did: the changes after it are read again.
  auto end_by =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config.max_transaction_ms);
  // Latency is capture -> commit on the other side: changes of rows the
  // map's filter leaves out (such as rows another map wrote to a table both
  // share) are not synced and do not count.
  std::vector<bool> synced[2];
  for (int s = 0; s < 2; ++s) {
    synced[s].reserve(changes[s].size());
    for (const endpoint::Change& c : changes[s]) {
      if (std::chrono::steady_clock::now() > end_by && (!synced[0].empty() || !synced[1].empty())) {
        CutBatch(changes, synced, before, checkpoint);
        break;
      }
      int64_t filtered_before = batch.filtered_out;
      if (Status st = Reconcile(batch, s, c.row_id, -1); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
      synced[s].push_back(batch.filtered_out == filtered_before);
    }
  }
  for (int s = 0; s < 2; ++s) {
    // Decided again on the checkpoint the batch records: a batch cut short
    // has not reconciled every change that might link the rows yet.
    if (!sweep[s] || !UnconfirmedReady(plan, s, checkpoint[1 - s])) continue;
    if (Status st = SweepUnconfirmed(batch, s); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
  }
  Status committed = CommitBatch(batch, [&](state::StateStore& st) { return record(st, true); });
  NoteLockHeld(plan);
  if (!committed.ok()) return committed;
  PrunePending(plan, checkpoint);
  RecordLatencies(plan, changes, synced);
  return static_cast<int64_t>(synced[0].size() + synced[1].size());
}

Status SyncEngine::Impl::ReadSideChanges(const MapPlan& plan, int s, size_t limit,
                                         Position* checkpoint,
                                         std::vector<endpoint::Change>* changes) {
  // The side's table's part of its endpoint's stream, without the changes
  // of duet's own writes for this map (echoes). A page of echoes alone is
  // passed and the next one read, so that the batch has the application's
  // changes, when there are any.
  for (;;) {
    Expected<Endpoint::Stream> read =
        plan.side[s].endpoint->ReadStream({plan.side[s].table}, *checkpoint, limit);
    if (!read.ok()) return read.status();
    bool full = read->changes.size() >= limit;
    for (endpoint::Change& c : read->changes) {
      if (c.origin != plan.name) changes->push_back(std::move(c));
    }
    bool moved = read->read_to != *checkpoint;
    *checkpoint = std::move(read->read_to);
    if (!changes->empty() || !full || !moved) return Status::Ok();
  }
}

void SyncEngine::Impl::RecordLatencies(const MapPlan& plan,
                                       const std::vector<endpoint::Change> changes[2],
                                       const std::vector<bool> synced[2]) {
  // Capture -> commit on the other side, for the changes the batch synced.
  double now = clock->Now();
  int64_t minute = static_cast<int64_t>(now / 60);
  for (int s = 0; s < 2; ++s) {
    if (std::find(synced[s].begin(), synced[s].end(), true) == synced[s].end()) continue;
    std::string direction = plan.side[s].system + "->" + plan.side[1 - s].system;
    for (size_t i = 0; i < synced[s].size(); ++i) {
      if (!synced[s][i]) continue;
      ops.RecordLatency(plan.name, direction, minute, std::max(0.0, now - changes[s][i].at));
    }
  }
}

Status SyncEngine::Impl::PrefetchLinks(Batch& batch,
                                       const std::vector<endpoint::Change> changes[2]) {
  for (int s = 0; s < 2; ++s) {
    std::vector<std::string> ids;
    ids.reserve(changes[s].size());
    for (const endpoint::Change& c : changes[s]) ids.push_back(c.row_id);
    if (Status st = PrefetchLinks(batch, s, std::move(ids)); !st.ok()) return st;
  }
  return Status::Ok();
}

Status SyncEngine::Impl::PrefetchLinks(Batch& batch, int s, std::vector<std::string> ids) {
  ids.erase(std::remove_if(ids.begin(), ids.end(),
                           [&](const std::string& id) {
                             return (s == 0 ? batch.by_left.count(id) : batch.by_right.count(id)) !=
                                    0;
                           }),
            ids.end());
  if (ids.empty()) return Status::Ok();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  Expected<std::vector<state::Link>> links = s == 0 ? state->LinksByLeft(batch.plan->name, ids)
                                                    : state->LinksByRight(batch.plan->name, ids);
  if (!links.ok()) return links.status();
  for (std::string& id : ids) {
    if (s == 0) {
      batch.by_left.emplace(std::move(id), std::nullopt);
    } else {
      batch.by_right.emplace(std::move(id), std::nullopt);
    }
  }
  for (state::Link& link : *links) {
    batch.by_right[link.right_id] = link.left_id;
    batch.by_left[link.left_id] = std::move(link);
  }
  return Status::Ok();
}

void SyncEngine::Impl::PrunePending(MapPlan& plan, const Position checkpoint[2]) {
  for (int s = 0; s < 2; ++s) {
    auto& order = plan.pending_order[s];
    while (!order.empty() && order.front().first <= checkpoint[s]) {
      auto it = plan.pending_inserts[s].find(order.front().second);
      if (it != plan.pending_inserts[s].end() && it->second == order.front().first) {
        plan.pending_inserts[s].erase(it);
      }
      order.pop_front();
    }
  }
}

Expected<int64_t> SyncEngine::Impl::RetryWaiting(MapPlan& plan, bool retry_errors) {
  Expected<std::vector<state::Waiting>> waiting = state->ListWaiting(plan.name);
  if (!waiting.ok()) return waiting.status();
  std::vector<state::ErrorItem> errors;
  if (retry_errors) {
    Expected<std::vector<state::ErrorItem>> open = state->OpenErrors(plan.name);
    if (!open.ok()) return open.status();
    errors = std::move(*open);
  }
  if (waiting->empty() && errors.empty()) return 0;
  Batch batch;
  if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
  double now = clock->Now();
  auto side_of = [&](const std::string& system) { return system == plan.side[0].system ? 0 : 1; };
  for (const state::Waiting& w : *waiting) {
    int s = side_of(w.system);
    if (now - w.since >= static_cast<double>(config.lookup_timeout_seconds)) {
      Expected<std::optional<Row>> row = ReadRow(plan.side[s], w.row_id);
      if (!row.ok()) {
        AbortBatch(batch);
        return row.status();
      }
      if (!*row) {
        // Gone while it waited: nothing is missing any more (Reconcile
        // ends the wait).
        if (Status st = Reconcile(batch, s, w.row_id, -1); !st.ok()) {
          AbortBatch(batch);
          return st;
        }
        continue;
      }
      RecordError(
          batch, s, w.row_id, "missing_reference",
          w.reason + " (waited " + std::to_string(static_cast<int64_t>(now - w.since)) + " s)",
          &**row);
      std::string map = plan.name;
      state::Waiting gone = w;
      batch.state_ops.push_back([map, gone](state::StateStore& st) {
        return st.RemoveWaiting(map, gone.system, gone.row_id);
      });
      continue;
    }
    if (Status st = Reconcile(batch, s, w.row_id, -1); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
  }
  for (const state::ErrorItem& e : errors) {
    if (Status st = Reconcile(batch, side_of(e.system), e.row_id, -1); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
  }
  if (Status st = CommitBatch(batch, nullptr); !st.ok()) return st;
  Expected<std::vector<state::Waiting>> after = state->ListWaiting(plan.name);
  if (!after.ok()) return after.status();
  return static_cast<int64_t>(waiting->size()) - static_cast<int64_t>(after->size());
}

Expected<int64_t> SyncEngine::Impl::RetryDue(std::chrono::steady_clock::time_point now) {
  int64_t resolved = 0;
  // What an operator asked for with `duet errors retry|resolve`.
  for (auto& plan : plans) {
    if (IsPaused(*plan)) continue;
    Expected<int64_t> r = ProcessRequests(*plan);
    if (!r.ok()) {
      if (Status f = MapFailed(*plan, r.status()); !f.ok()) return f;
      continue;
    }
    resolved += *r;
  }
  if (!waits_stale && now < next_wait_retry) return resolved;
  int64_t waits_resolved = 0;
  for (auto& plan : plans) {
    if (IsPaused(*plan)) continue;
    Expected<int64_t> r = RetryWaiting(*plan, /*retry_errors=*/false);
    if (!r.ok()) {
      if (Status f = MapFailed(*plan, r.status()); !f.ok()) return f;
      continue;
    }
    waits_resolved += *r;
  }
  wait_backoff = waits_resolved > 0 || waits_stale
                     ? std::chrono::seconds(1)
                     : std::min<std::chrono::seconds>(wait_backoff * 2, std::chrono::minutes(1));
  waits_stale = false;
  next_wait_retry = now + wait_backoff;
  return resolved + waits_resolved;
}

bool SyncEngine::Impl::WaitForChanges(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pollfd> fds;
  for (auto& [system, endpoint] : endpoints) {
    if (int fd = endpoint->ChangeFd(); fd >= 0) fds.push_back(pollfd{fd, POLLIN, 0});
  }
  for (;;) {
    bool soon = false;
    for (auto& [system, endpoint] : endpoints) {
      Endpoint::ChangeState change = endpoint->CheckChanges();
      if (change == Endpoint::ChangeState::kChanged) return true;
      soon = soon || change == Endpoint::ChangeState::kSoon;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (soon) wait = std::min(wait, std::chrono::milliseconds(config.poll_interval_ms));
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 && errno == EINTR) {
      return false;  // a signal: the loop looks at its stop flag
    }
  }
}

bool SyncEngine::Impl::LockRace(MapPlan& plan) {
  Endpoint* lost = nullptr;
  for (const Side& side : plan.side) {
    if (side.endpoint->LostLockRace()) lost = side.endpoint;
  }
  if (!lost) return false;
  ops.RecordLockRace();
  lock_first = lost;
  Trace("lock race in map {} on {}", plan.name, lost->system());
  // The lost batch may have changed what the engine keeps between batches.
  Recover();
  return true;
}

Status SyncEngine::Impl::MapFailed(MapPlan& plan, Status failure) {
  if (failure.ok() || !LockRace(plan)) return StopMapIfSchemaChanged(plan, failure);
  return Status::Ok();
}

void SyncEngine::Impl::NoteLockHeld(const MapPlan& plan) {
  for (const Side& side : plan.side) {
    std::chrono::duration<double> held = side.endpoint->LastLockHeld();
    ops.RecordLockHeld(side.system, held.count());
  }
}

Status SyncEngine::Impl::StopMapIfSchemaChanged(MapPlan& plan, Status failure) {
  if (failure.ok() || failure.code() == StatusCode::kUnavailable) return failure;
  for (int s = 0; s < 2; ++s) {
    // The map's tables on this side: its own and those its lookups read.
    std::vector<std::string> tables = {plan.side[s].table};
    for (const bundle::Column& c : plan.side[s].info->columns) {
      if (c.type.kind == bundle::ValueKind::kRef) tables.push_back(c.type.ref);
    }
    Status schema = plan.side[s].endpoint->CheckTables(tables);
    if (schema.ok()) continue;
    state->Rollback();  // nothing should be open; the failed batch was abandoned
    state::Pause pause{plan.name, clock->Now(), "duet", "schema changed: " + schema.message()};
    if (Status st = state->Begin(); !st.ok()) return st;
    if (Status st = state->PauseMap(pause); !st.ok()) {
      state->Rollback();
      return st;
    }
    if (Status st = state->Commit(); !st.ok()) return st;
    paused[plan.name] = pause;
    counts.stopped.push_back(plan.name);
    if (log) {
      log(
          fmt::format("map {} stopped: {} ({}); the other maps go on. Make the table match the "
                      "bundle, then `duet resume {}`",
                      plan.name, schema.message(), failure.message(), plan.name));
    }
    return Status::Ok();
  }
  return failure;
}

void SyncEngine::Impl::Recover() {
  // The databases' write transactions belong to the failed batch, which
  // rolled them back when it was abandoned or destroyed.
  state->Rollback();
  // What the engine keeps between batches is read again from the state
  // store and the changelogs.
  for (auto& plan : plans) ResetPlanMemory(*plan);
}

Expected<std::map<std::string, int64_t>> SyncEngine::Impl::Backlog(MapPlan& plan,
                                                                   std::vector<std::string>* held) {
  std::map<std::string, int64_t> out;
  for (Side& side : plan.side) {
    if (!side.transform) continue;
    Expected<Position> ck = state->GetCheckpoint(plan.name, side.system);
    if (!ck.ok()) return ck.status();
    Expected<int64_t> n = side.endpoint->CountChanges(side.table, *ck, plan.name);
    if (!n.ok() && endpoint::IsCaptureHeld(n.status())) {
      if (held) held->push_back(side.system);
      continue;
    }
    if (!n.ok()) return n.status();
    out[side.system] = *n;
  }
  return out;
}

Status SyncEngine::Impl::Prune() {
  std::map<std::string, Position> lowest;
  auto keep_after = [&](const std::string& system, Position p) {
    auto [it, inserted] = lowest.emplace(system, p);
    if (!inserted) it->second = std::min(it->second, std::move(p));
  };
  for (const auto& plan : plans) {
    for (int s = 0; s < 2; ++s) {
      if (!plan->side[s].transform) continue;
      Expected<Position> ck = state->GetCheckpoint(plan->name, plan->side[s].system);
      if (!ck.ok()) return ck.status();
      keep_after(plan->side[s].system, std::move(*ck));
    }
  }
  // The changelog keeps duet's unconfirmed inserts until they are settled,
  // so that a crash before then finds them again: all after the commit end
  // they were read after.
  for (const auto& plan : plans) {
    for (int s = 0; s < 2; ++s) {
      if (plan->unconfirmed[s].rows.empty()) continue;
      keep_after(plan->side[s].system, plan->unconfirmed[s].found_after);
    }
  }
  for (const auto& [system, through] : lowest) {
    if (through.is_beginning()) continue;
    if (Status s = endpoints[system]->PruneChangelog(through); !s.ok()) return s;
  }
  // Latency is shown over the last 15 minutes; an hour is kept.
  return state->PruneLatency(static_cast<int64_t>(clock->Now() / 60) - 60);
}

Expected<RunCounts> SyncEngine::Impl::Run(const std::atomic<bool>* stop,
                                          const ProgressFn& progress) {
  counts = RunCounts();
  auto stopped = [&] { return stop && stop->load(); };
  // A changelog that ends before a checkpoint was made again (uninstall and
  // install): its changes are all unseen, so read it from the start.
  for (auto& plan : plans) {
    for (int s = 0; s < 2; ++s) {
      Side& side = plan->side[s];
      Expected<Position> ck = state->GetCheckpoint(plan->name, side.system);
      if (!ck.ok()) return ck.status();
      Expected<Position> end = side.endpoint->StreamEnd();
      if (!end.ok()) return end.status();
      if (*end < *ck) {
        if (Status st = state->Begin(); !st.ok()) return st;
        if (Status st = state->SetCheckpoint(plan->name, side.system, Position()); !st.ok()) {
          state->Rollback();
          return st;
        }
        if (Status st = state->Commit(); !st.ok()) return st;
      }
    }
  }
  if (Status s = RefreshPaused(); !s.ok()) return s;
  for (auto& plan : plans) {
    if (stopped()) break;
    // A paused map's initial sync records where it begins, and stops there:
    // what changes while it is paused is reconciled after it.
    Status s = InitialSync(*plan, progress, stop);
    if (Status f = MapFailed(*plan, s); !f.ok()) return f;
  }
  // Open items get another chance at every start, once the pending changes
  // are in (a missing reference may arrive with them).
  bool errors_retried = false;
  auto last_retry = std::chrono::steady_clock::now();
  auto last_prune = last_retry;
  while (!stopped()) {
    ++loop_cycles;
    int64_t handled = 0;
    // A state store deleted or replaced under a running duet stops it:
    // checked here at most every kStoreCheckEvery (it costs a round trip on
    // PostgreSQL), and by every batch before it writes (BeginBatch).
    if (auto t = std::chrono::steady_clock::now(); t - last_store_check >= kStoreCheckEvery) {
      if (Status s = state->CheckFile(); !s.ok()) return s;
      last_store_check = t;
    }
    int64_t writes_before = counts.writes;
    int64_t races_before = ops.lock_races();
    if (Status s = RefreshPaused(); !s.ok()) return s;
    for (auto& plan : plans) {
      if (IsPaused(*plan)) continue;
      // A map resumed before it finished its initial sync finishes it now.
      if (Status s = InitialSync(*plan, progress, stop); !s.ok()) {
        if (Status f = MapFailed(*plan, s); !f.ok()) return f;
        continue;
      }
      Expected<int64_t> n = ProcessChanges(*plan, static_cast<size_t>(config.batch_size));
      if (!n.ok()) {
        if (Status f = MapFailed(*plan, n.status()); !f.ok()) return f;
        continue;
      }
      handled += *n;
      // A resync goes a page a cycle, so live changes keep flowing.
      Expected<bool> resynced = ResyncBatch(*plan, progress);
      if (!resynced.ok()) {
        if (Status f = MapFailed(*plan, resynced.status()); !f.ok()) return f;
        continue;
      }
      if (*resynced) ++handled;
      if (stopped()) break;
    }
    auto now = std::chrono::steady_clock::now();
    bool idle = handled == 0 && ops.lock_races() == races_before;
    if (idle) lock_first = nullptr;
    if (heartbeat) heartbeat();
    if (!config.alerts.empty() && now - last_alerts > std::chrono::seconds(5)) {
      if (Status s = EvaluateAlerts(); !s.ok()) return s;
    }
    if (stop && now - last_backlog_record > kRecordBacklogEvery) {
      if (Status s = RecordBacklogs(); !s.ok()) return s;
    }
    if (metrics && now - last_metrics > std::chrono::seconds(2)) {
      if (Status s = PublishMetrics(); !s.ok()) return s;
    }
    if (ops.HasPendingLatency() && (idle || now - last_latency_flush > std::chrono::seconds(1))) {
      if (Status s = FlushLatency(); !s.ok()) return s;
    }
    if (handled > 0 || counts.writes != writes_before) waits_stale = true;
    if (idle || now - last_retry > std::chrono::seconds(1)) {
      Expected<int64_t> resolved = RetryDue(now);
      if (!resolved.ok()) return resolved.status();
      last_retry = now;
      if (*resolved > 0) continue;
    }
    if (!idle) continue;
    if (!errors_retried) {
      errors_retried = true;
      for (auto& plan : plans) {
        if (IsPaused(*plan)) continue;
        Expected<int64_t> r = RetryWaiting(*plan, /*retry_errors=*/true);
        if (!r.ok()) {
          if (Status f = MapFailed(*plan, r.status()); !f.ok()) return f;
          continue;
        }
      }
      continue;
    }
    if (!stop) break;  // --once: caught up
    if (now - last_prune > std::chrono::seconds(1)) {
      if (Status s = Prune(); !s.ok()) return s;
      last_prune = now;
    }
    // Idle: sleep until a database changes, waking at least once a second
    // for the timers above (metrics, alerts, prune, retries, requests).
    if (WaitForChanges(std::chrono::seconds(1))) waits_stale = true;
  }
  if (Status s = Prune(); !s.ok()) return s;
  if (Status s = FlushLatency(); !s.ok()) return s;
  if (!config.alerts.empty()) {
    if (Status s = EvaluateAlerts(); !s.ok()) return s;
  }
  for (const auto& [map, p] : paused) counts.paused.push_back(map);
  for (auto& plan : plans) {
    Expected<std::vector<state::Waiting>> w = state->ListWaiting(plan->name);
    if (!w.ok()) return w.status();
    counts.waiting += static_cast<int64_t>(w->size());
    Expected<int64_t> e = state->CountOpenErrors(plan->name);
    if (!e.ok()) return e.status();
    counts.open_errors += *e;
  }
  return counts;
}

// ---------------------------------------------------------------------------
// SyncEngine

SyncEngine::SyncEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncEngine::~SyncEngine() = default;

Expected<std::unique_ptr<SyncEngine>> SyncEngine::Create(
    const Config& config, const bundle::Transforms& bundle,
    std::map<std::string, std::unique_ptr<Endpoint>> endpoints,
    std::unique_ptr<state::StateStore> state, const Clock& clock) {
  auto impl = std::make_unique<Impl>();
  impl->clock = &clock;
  // A value that does not fit its column fails a row only when duet writes it.
  impl->ctx.DeferSlotErrors();
  impl->config = config;
  impl->bundle = &bundle;
  impl->endpoints = std::move(endpoints);
  for (auto& [system, endpoint] : impl->endpoints) {
    endpoint->SetLockTimeout(std::chrono::milliseconds(config.lock_timeout_ms));
  }
  impl->state = std::move(state);
  if (const char* trace = std::getenv("DUET_TRACE"); trace && *trace) {
    // Private: the trace holds key values.
    Expected<int> fd = OpenPrivateFile(trace, O_WRONLY | O_APPEND, "trace file");
    if (fd.ok()) impl->trace = ::fdopen(*fd, "a");
  }
  if (Status s = impl->Plan(); !s.ok()) return s;
  for (const AlertRule& rule : config.alerts) {
    if (!rule.map.empty() && !bundle.manifest().FindMap(rule.map)) {
      return InvalidArgumentError(config.path + ": an alert names map '" + rule.map +
                                  "', which the bundle does not have");
    }
  }
  return std::unique_ptr<SyncEngine>(new SyncEngine(std::move(impl)));
}

std::map<std::string, std::vector<std::string>> SyncEngine::CapturedTables(
    const bundle::Manifest& manifest) {
  std::map<std::string, std::vector<std::string>> out;
  for (const bundle::Map& map : manifest.maps) {
    for (const bundle::Transform& t : map.transforms) {
      std::vector<std::string>& tables = out[t.from];
      if (std::find(tables.begin(), tables.end(), t.source_table) == tables.end()) {
        tables.push_back(t.source_table);
      }
    }
  }
  for (const std::string& system : manifest.systems) out[system];
  return out;
}

Status SyncEngine::CheckReady() {
  std::map<std::string, std::vector<std::string>> captured =
      CapturedTables(impl_->bundle->manifest());
  for (auto& [system, endpoint] : impl_->endpoints) {
    if (Status s = endpoint->CheckSchema(); !s.ok()) return s;
    if (Status s = endpoint->CheckCapture(captured[system]); !s.ok()) return s;
  }
  return Status::Ok();
}

Expected<RunCounts> SyncEngine::RunOnce(const ProgressFn& progress) {
  return RunWithRetries(nullptr, progress);
}

Expected<RunCounts> SyncEngine::RunUntil(const std::atomic<bool>& stop,
                                         const ProgressFn& progress) {
  return RunWithRetries(&stop, progress);
}

Expected<RunCounts> SyncEngine::RunWithRetries(const std::atomic<bool>* stop,
                                               const ProgressFn& progress) {
  // A transient failure (Unavailable: a lock held too long, I/O) abandons
  // the batch, which the next attempt does again from the changelogs and
  // the state store. Waits 1 s, 2 s, 4 s ... up to a minute between
  // attempts; `--once` gives up after kOnceAttempts in a row.
  constexpr int kOnceAttempts = 5;
  RunCounts total;
  int failures = 0;
  for (;;) {
    Expected<RunCounts> counts = impl_->Run(stop, progress);
    if (counts.ok()) {
      counts->pairs += total.pairs;
      counts->writes += total.writes;
      counts->errors += total.errors;
      return counts;
    }
    if (counts.status().code() != StatusCode::kUnavailable) return counts.status();
    total.pairs += impl_->counts.pairs;
    total.writes += impl_->counts.writes;
    total.errors += impl_->counts.errors;
    impl_->total_counts = total;
    ++failures;
    if (!stop && failures >= kOnceAttempts) return counts.status();
    impl_->Recover();
    if (Status s = Failpoint("run.retry"); !s.ok()) return s;
    int seconds = std::min(60, 1 << std::min(failures - 1, 6));
    if (impl_->log) {
      impl_->log(fmt::format("transient failure ({}); retrying in {} s", counts.status().message(),
                             seconds));
    }
    for (int tick = 0; tick < seconds * 10; ++tick) {
      if (stop && stop->load()) return total;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void SyncEngine::SetObservers(std::function<void()> heartbeat,
                              std::function<void(std::string)> metrics) {
  impl_->heartbeat = std::move(heartbeat);
  impl_->metrics = std::move(metrics);
}

void SyncEngine::SetLog(std::function<void(const std::string&)> log) {
  impl_->log = std::move(log);
}

Expected<std::string> SyncEngine::DriftJson(const std::string& map, const ProgressFn& progress) {
  for (auto& plan : impl_->plans) {
    if (plan->name == map) return impl_->Drift(*plan, progress);
  }
  return NotFoundError("the bundle has no map '" + map + "'");
}

Status SyncEngine::StartResync(const std::string& map, const std::string& from,
                               const std::string& by, const std::string& where,
                               bool resume_skipping) {
  for (auto& plan : impl_->plans) {
    if (plan->name != map) continue;
    std::string side = from;
    if (side.empty()) {
      side = plan->map->master;
      bool reads = (side == plan->side[0].system && plan->side[0].transform) ||
                   (side == plan->side[1].system && plan->side[1].transform);
      if (!reads) side = plan->side[plan->seed].system;
    }
    int s = side == plan->side[0].system ? 0 : side == plan->side[1].system ? 1 : -1;
    if (s < 0 || !plan->side[s].transform) {
      return InvalidArgumentError("map " + map + ": '" + side +
                                  "' is not a side whose rows the map reads");
    }
    Expected<int64_t> total =
        where.empty() ? plan->side[s].reader->Count() : plan->side[s].reader->CountWhere(where);
    if (!total.ok()) return total.status();
    state::Resync r;
    r.map = map;
    r.from = side;
    r.by = by;
    r.total = *total;
    r.where = where;
    r.started = impl_->clock->Now();
    Position ends[2];
    for (int i = 0; i < 2 && resume_skipping; ++i) {
      Expected<Position> end = plan->side[i].endpoint->StreamEnd();
      if (!end.ok()) return end.status();
      ends[i] = std::move(*end);
    }
    if (Status st = impl_->state->Begin(); !st.ok()) return st;
    Status st = impl_->state->PutResync(r);
    for (int i = 0; i < 2 && resume_skipping && st.ok(); ++i) {
      if (plan->side[i].transform) {
        st = impl_->state->SetCheckpoint(map, plan->side[i].system, ends[i]);
      }
    }
    if (st.ok() && resume_skipping) st = impl_->state->ResumeMap(map);
    if (!st.ok()) {
      impl_->state->Rollback();
      return st;
    }
    return impl_->state->Commit();
  }
  return NotFoundError("the bundle has no map '" + map + "'");
}

}  // namespace duet::engine
