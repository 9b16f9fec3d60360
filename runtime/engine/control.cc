// Control of a running engine, apart from its sync loop: the pauses an
// operator (or an alert, or a schema change) put in the state store, and the
// requests on error items (`duet errors retry|resolve`) the loop carries out
// once a cycle, or `duet errors` itself when no `duet run` is running.
// Operator requests cross processes through the state store only.
#include <fmt/format.h>

#include "runtime/engine/engine_impl.h"

namespace duet::engine {

Status SyncEngine::Impl::RefreshPaused() {
  Expected<std::map<std::string, state::Pause>> now = state->Paused();
  if (!now.ok()) return now.status();
  if (log) {
    for (const auto& [map, p] : *now) {
      if (!paused.count(map)) {
        log(fmt::format("map {} paused by {}{}; its changes wait until `duet resume {}`", map, p.by,
                        p.reason.empty() ? "" : " (" + p.reason + ")", map));
      }
    }
    for (const auto& [map, p] : paused) {
      if (!now->count(map)) log(fmt::format("map {} resumed", map));
    }
  }
  paused = std::move(*now);
  return Status::Ok();
}

Expected<int64_t> SyncEngine::Impl::ProcessRequests(MapPlan& plan) {
  Expected<std::vector<state::ErrorItem>> requested = state->RequestedErrors(plan.name);
  if (!requested.ok()) return requested.status();
  if (requested->empty()) return 0;
  Expected<state::MapState> m = state->GetMap(plan.name);
  if (!m.ok()) return m.status();
  if (m->phase != state::MapPhase::kLive) return 0;  // after the map's initial sync
  // One batch per kind of request: a `take` decides only its own pairs.
  std::map<state::ItemRequest, std::vector<const state::ErrorItem*>> by_request;
  for (const state::ErrorItem& e : *requested) by_request[e.request].push_back(&e);
  for (const auto& [request, items] : by_request) {
    Batch batch;
    if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
    if (request.kind == state::ItemRequest::Kind::kTake) {
      const std::string& system = request.take;
      batch.take = system == plan.side[0].system ? 0 : system == plan.side[1].system ? 1 : -1;
    }
    for (const state::ErrorItem* e : items) {
      int s = e->system == plan.side[0].system ? 0 : 1;
      Trace("request {} of item {}: map {} side {} row {}", request.Text(), e->id, plan.name, s,
            e->row_id);
      if (Status st = Reconcile(batch, s, e->row_id, -1); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
      int64_t id = e->id;
      batch.state_ops.push_back([id](state::StateStore& st) { return st.ClearRequest(id); });
    }
    if (Status st = CommitBatch(batch, nullptr); !st.ok()) return st;
  }
  return static_cast<int64_t>(requested->size());
}

Expected<int64_t> SyncEngine::ProcessRequests() {
  int64_t n = 0;
  if (Status s = impl_->RefreshPaused(); !s.ok()) return s;
  for (auto& plan : impl_->plans) {
    if (impl_->IsPaused(*plan)) continue;
    // A lost lock race is done again, waiting for that lock first.
    Expected<int64_t> r = impl_->ProcessRequests(*plan);
    for (int race = 0; race < 5 && !r.ok() && impl_->LockRace(*plan); ++race) {
      r = impl_->ProcessRequests(*plan);
    }
    if (!r.ok()) return r.status();
    n += *r;
  }
  return n;
}

}  // namespace duet::engine
