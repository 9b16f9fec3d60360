// What the engine shows of itself: `duet status` (text and JSON) and the
// gauges it hands to /metrics, read from the state store and the
// endpoints; the record of latency and locks it keeps is operations.h.
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/base/json_dump.h"
#include "runtime/engine/engine_impl.h"

namespace duet::engine {

using nlohmann::json;

namespace {

// The held systems' backlog as the running duet recorded it.
void UseRecorded(const state::RecordedBacklog& recorded, MapGauges& g) {
  for (const std::string& system : g.capture_held) {
    auto it = recorded.changes.find(system);
    if (it != recorded.changes.end()) g.backlog[system] = it->second;
  }
  g.backlog_recorded_at = recorded.at;
}

}  // namespace

Status SyncEngine::Impl::PublishMetrics() {
  last_metrics = std::chrono::steady_clock::now();
  LoopGauges loop;
  loop.loop_cycles = loop_cycles;
  loop.pairs = total_counts.pairs + counts.pairs;
  loop.writes = total_counts.writes + counts.writes;
  loop.errors = total_counts.errors + counts.errors;
  for (auto& plan : plans) {
    Expected<MapGauges> g = Gauges(*plan);
    if (!g.ok()) return g.status();
    loop.maps.push_back(std::move(*g));
  }
  Expected<std::map<std::string, int64_t>> retained = RetainedBytes();
  if (!retained.ok()) return retained.status();
  loop.retained_bytes = std::move(*retained);
  metrics(ops.RenderMetrics(loop));
  return Status::Ok();
}

Expected<MapGauges> SyncEngine::Impl::Gauges(MapPlan& plan) {
  MapGauges g;
  g.map = plan.name;
  g.paused = IsPaused(plan);
  Expected<int64_t> linked = state->CountLinks(plan.name);
  if (!linked.ok()) return linked.status();
  g.linked = *linked;
  Expected<std::map<std::string, int64_t>> backlog = Backlog(plan, &g.capture_held);
  if (!backlog.ok()) return backlog.status();
  g.backlog = std::move(*backlog);
  if (!g.capture_held.empty()) {
    Expected<std::optional<state::RecordedBacklog>> recorded = state->GetRecordedBacklog(plan.name);
    if (!recorded.ok()) return recorded.status();
    if (*recorded) UseRecorded(**recorded, g);
  }
  Expected<int64_t> errors = state->CountOpenErrors(plan.name);
  if (!errors.ok()) return errors.status();
  g.open_errors = *errors;
  Expected<std::vector<state::Waiting>> waiting = state->ListWaiting(plan.name);
  if (!waiting.ok()) return waiting.status();
  g.waiting = static_cast<int64_t>(waiting->size());
  return g;
}

Expected<std::map<std::string, int64_t>> SyncEngine::Impl::RetainedBytes() {
  std::map<std::string, int64_t> out;
  for (auto& [system, endpoint] : endpoints) {
    Expected<std::optional<int64_t>> bytes = endpoint->CaptureRetainedBytes();
    if (!bytes.ok()) return bytes.status();
    if (*bytes) out[system] = **bytes;
  }
  return out;
}

Status SyncEngine::Impl::RecordBacklogs() {
  last_backlog_record = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, state::RecordedBacklog>> recorded;
  for (auto& plan : plans) {
    Expected<std::map<std::string, int64_t>> backlog = Backlog(*plan);
    if (!backlog.ok()) return backlog.status();
    recorded.emplace_back(plan->name, state::RecordedBacklog{clock->Now(), std::move(*backlog)});
  }
  if (Status s = state->Begin(); !s.ok()) return s;
  for (const auto& [map, backlog] : recorded) {
    if (Status s = state->RecordBacklog(map, backlog); !s.ok()) {
      state->Rollback();
      return s;
    }
  }
  return state->Commit();
}

Status SyncEngine::Impl::FlushLatency() {
  last_latency_flush = std::chrono::steady_clock::now();
  return ops.FlushLatency(*state);
}

Expected<std::string> SyncEngine::StatusJson() {
  json maps = json::array();
  Expected<std::map<std::string, state::Pause>> paused = impl_->state->Paused();
  if (!paused.ok()) return paused.status();
  for (auto& plan : impl_->plans) {
    Expected<state::MapState> m = impl_->state->GetMap(plan->name);
    if (!m.ok()) return m.status();
    json entry;
    entry["name"] = plan->name;
    entry["state"] = m->phase == state::MapPhase::kLive      ? "live"
                     : m->phase == state::MapPhase::kInitial ? "initial"
                                                             : "new";
    Expected<MapGauges> gauges = impl_->Gauges(*plan);
    if (!gauges.ok()) return gauges.status();
    entry["linked"] = gauges->linked;
    entry["backlog"] = gauges->backlog;
    entry["capture_held"] = gauges->capture_held;
    // When the held systems' backlog was counted, and how long ago.
    entry["backlog_recorded"] =
        !gauges->backlog_recorded_at
            ? json(nullptr)
            : json{{"at", state::IsoAt(*gauges->backlog_recorded_at)},
                   {"age_seconds",
                    std::max(0.0, impl_->clock->Now() - *gauges->backlog_recorded_at)}};
    entry["last_sync"] = m->last_sync ? json(state::IsoAt(*m->last_sync)) : json(nullptr);
    entry["errors"] = gauges->open_errors;
    entry["waiting"] = gauges->waiting;
    if (m->phase == state::MapPhase::kInitial) {
      entry["initial"] = {{"done", m->initial_done}, {"total", m->initial_total}};
    }
    // Latency per direction over the last 1, 5 and 15 minutes (the current
    // minute counts in each).
    int64_t minute = static_cast<int64_t>(impl_->clock->Now() / 60);
    json latency = json::object();
    for (int window : {1, 5, 15}) {
      Expected<std::map<std::string, state::LatencyHistogram>> h =
          impl_->state->LatencySince(plan->name, minute - window + 1);
      if (!h.ok()) return h.status();
      for (const auto& [direction, hist] : *h) {
        auto ms = [](double seconds) { return std::round(seconds * 1e6) / 1e3; };
        latency[direction][std::to_string(window) + "m"] = {
            {"changes", hist.n},
            {"per_second", static_cast<double>(hist.n) / (60.0 * window)},
            {"p50_ms", ms(hist.Quantile(0.50))},
            {"p95_ms", ms(hist.Quantile(0.95))},
            {"p99_ms", ms(hist.Quantile(0.99))}};
      }
    }
    entry["latency"] = latency;
    Expected<std::optional<state::Resync>> resync = impl_->state->GetResync(plan->name);
    if (!resync.ok()) return resync.status();
    entry["resync"] =
        !*resync ? json(nullptr)
                 : json{{"from", (*resync)->from},   {"done", (*resync)->done},
                        {"total", (*resync)->total}, {"started", state::IsoAt((*resync)->started)},
                        {"by", (*resync)->by},       {"where", (*resync)->where}};
    auto pause = paused->find(plan->name);
    entry["paused"] = pause == paused->end() ? json(nullptr)
                                             : json{{"since", state::IsoAt(pause->second.since)},
                                                    {"by", pause->second.by},
                                                    {"reason", pause->second.reason}};
    maps.push_back(std::move(entry));
  }
  json out;
  out["maps"] = std::move(maps);
  Expected<std::map<std::string, int64_t>> retained = impl_->RetainedBytes();
  if (!retained.ok()) return retained.status();
  out["capture_retained_bytes"] = *retained;
  return DumpJson(out);
}

Expected<std::string> SyncEngine::StatusText() {
  Expected<std::string> text = StatusJson();
  if (!text.ok()) return text.status();
  json j = json::parse(*text);
  // The map column fits the longest name, so the columns line up.
  size_t width = 3;
  for (const json& m : j["maps"]) width = std::max(width, m["name"].get<std::string>().size());
  std::string out = fmt::format("{:<{}}  {:<8} {:>7}  {:<16} {:>6}  {:>7}  {}\n", "map", width,
                                "state", "linked", "backlog", "errors", "waiting", "last sync");
  for (const json& m : j["maps"]) {
    std::string backlog;
    for (const auto& [system, n] : m["backlog"].items()) {
      backlog += (backlog.empty() ? "" : " ") + system + ":" + std::to_string(n.get<int64_t>());
    }
    for (const json& system : m["capture_held"]) {
      // Counted by the running duet that holds the capture: how long ago.
      if (!m["backlog"].contains(system.get<std::string>())) {
        backlog += (backlog.empty() ? "" : " ") + system.get<std::string>() + ":running";
      } else if (!m["backlog_recorded"].is_null()) {
        backlog +=
            fmt::format(" ({:.0f}s ago)", m["backlog_recorded"]["age_seconds"].get<double>());
      }
    }
    std::string state = !m["paused"].is_null()   ? "paused"
                        : !m["resync"].is_null() ? "resync"
                                                 : m["state"].get<std::string>();
    out += fmt::format("{:<{}}  {:<8} {:>7}  {:<16} {:>6}  {:>7}  {}\n",
                       m["name"].get<std::string>(), width, state, m["linked"].get<int64_t>(),
                       backlog, m["errors"].get<int64_t>(), m["waiting"].get<int64_t>(),
                       m["last_sync"].is_null() ? "never" : m["last_sync"].get<std::string>());
  }
  std::string latency;
  for (const json& m : j["maps"]) {
    for (const auto& [direction, windows] : m["latency"].items()) {
      if (!windows.contains("5m")) continue;
      const json& w = windows["5m"];
      latency += fmt::format("{:<{}}  {:<10} {:>8}  {:>8.2f}  {:>8.2f}  {:>8.2f}\n",
                             m["name"].get<std::string>(), width, direction,
                             w["changes"].get<int64_t>(), w["p50_ms"].get<double>(),
                             w["p95_ms"].get<double>(), w["p99_ms"].get<double>());
    }
  }
  if (!latency.empty()) {
    out +=
        "\nlatency, last 5 minutes (capture -> commit on the other side; a bucket's upper bound)\n";
    out += fmt::format("{:<{}}  {:<10} {:>8}  {:>8}  {:>8}  {:>8}\n", "map", width, "direction",
                       "changes", "p50 ms", "p95 ms", "p99 ms") +
           latency;
  }
  std::string retained;
  for (const auto& [system, bytes] : j["capture_retained_bytes"].items()) {
    retained += fmt::format("{:<{}}  {:>14}\n", system, width, bytes.get<int64_t>());
  }
  if (!retained.empty()) {
    out += "\ncapture: bytes kept for duet beyond what it acknowledged (PostgreSQL: slot WAL)\n";
    out += fmt::format("{:<{}}  {:>14}\n", "system", width, "bytes") + retained;
  }
  return out;
}

}  // namespace duet::engine
