#include "runtime/engine/operations.h"

#include <deque>

#include <fmt/format.h>

namespace duet::engine {
namespace {

// Families in order of first use, each with its samples.
class Exposition {
 public:
  struct Family {
    std::string name, type, help, samples;
  };
  Family& Get(const std::string& name, const std::string& type, const std::string& help) {
    for (Family& f : families_) {
      if (f.name == name) return f;
    }
    families_.push_back(Family{name, type, help, ""});
    return families_.back();
  }
  static void Sample(Family& f, const std::string& suffix, const std::string& labels,
                     double value) {
    f.samples += fmt::format("{}{}{}{}{} {}\n", f.name, suffix, labels.empty() ? "" : "{", labels,
                             labels.empty() ? "" : "}", value);
  }
  static void Histogram(Family& f, const std::string& labels, const state::LatencyHistogram& h) {
    int64_t cumulative = 0;
    double bound = state::kLatencyBase;
    for (size_t i = 0; i + 1 < h.counts.size(); ++i, bound *= 2) {
      cumulative += h.counts[i];
      Sample(f, "_bucket", labels + ",le=\"" + fmt::format("{}", bound) + "\"",
             static_cast<double>(cumulative));
    }
    Sample(f, "_bucket", labels + ",le=\"+Inf\"", static_cast<double>(h.n));
    Sample(f, "_sum", labels, h.sum);
    Sample(f, "_count", labels, static_cast<double>(h.n));
  }
  std::string Text() const {
    std::string out;
    for (const Family& f : families_) {
      out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n" +
             f.samples;
    }
    return out;
  }

 private:
  std::deque<Family> families_;  // a deque: references from Get stay valid
};

void MapSamples(Exposition& e, const MapGauges& g) {
  std::string m = "map=\"" + g.map + "\"";
  Exposition::Sample(e.Get("duet_map_paused", "gauge", "1 when the map is paused"), "", m,
                     g.paused ? 1 : 0);
  Exposition::Sample(e.Get("duet_map_linked_rows", "gauge", "linked pairs of the map"), "", m,
                     static_cast<double>(g.linked));
  for (const auto& [system, n] : g.backlog) {
    Exposition::Sample(
        e.Get("duet_map_backlog", "gauge", "changes captured on a side and not reconciled yet"), "",
        m + ",system=\"" + system + "\"", static_cast<double>(n));
  }
  Exposition::Sample(e.Get("duet_map_open_errors", "gauge", "open error items of the map"), "", m,
                     static_cast<double>(g.open_errors));
  Exposition::Sample(e.Get("duet_map_waiting", "gauge", "changes waiting for a referenced row"), "",
                     m, static_cast<double>(g.waiting));
}

}  // namespace

void Operations::RecordLatency(const std::string& map, const std::string& direction, int64_t minute,
                               double seconds) {
  pending_latency_[{map, direction, minute}].Add(seconds);
  latency_total_[{map, direction}].Add(seconds);
}

void Operations::RecordLockHeld(const std::string& system, double seconds) {
  if (seconds > 0) lock_held_[system].Add(seconds);
}

Status Operations::FlushLatency(state::StateStore& state) {
  if (pending_latency_.empty()) return Status::Ok();
  if (Status s = state.Begin(); !s.ok()) return s;
  for (const auto& [key, h] : pending_latency_) {
    const auto& [map, direction, minute] = key;
    if (Status s = state.AddLatency(map, direction, minute, h); !s.ok()) {
      state.Rollback();
      return s;
    }
  }
  if (Status s = state.Commit(); !s.ok()) return s;
  pending_latency_.clear();
  return Status::Ok();
}

std::string Operations::RenderMetrics(const LoopGauges& loop) const {
  Exposition e;
  Exposition::Sample(e.Get("duet_up", "gauge", "1 while duet run is syncing"), "", "", 1);
  Exposition::Sample(e.Get("duet_loop_wakeups_total", "counter",
                           "times the sync loop went round (woken by a change or a timer)"),
                     "", "", static_cast<double>(loop.loop_cycles));
  Exposition::Sample(
      e.Get("duet_pairs_reconciled_total", "counter", "pairs reconciled since the process started"),
      "", "", static_cast<double>(loop.pairs));
  Exposition::Sample(e.Get("duet_row_writes_total", "counter",
                           "rows inserted, updated or deleted since the process started"),
                     "", "", static_cast<double>(loop.writes));
  Exposition::Sample(
      e.Get("duet_row_errors_total", "counter", "row errors recorded since the process started"),
      "", "", static_cast<double>(loop.errors));
  for (const MapGauges& g : loop.maps) MapSamples(e, g);
  for (const auto& [system, bytes] : loop.retained_bytes) {
    Exposition::Sample(e.Get("duet_capture_retained_bytes", "gauge",
                             "bytes a database keeps for duet's capture beyond what duet "
                             "acknowledged (PostgreSQL: WAL its replication slot retains)"),
                       "", "system=\"" + system + "\"", static_cast<double>(bytes));
  }
  Exposition::Family& latency = e.Get("duet_latency_seconds", "histogram",
                                      "capture on one side to duet's commit on the other side, "
                                      "since the process started");
  for (const auto& [key, h] : latency_total_) {
    Exposition::Histogram(latency, "map=\"" + key.first + "\",direction=\"" + key.second + "\"", h);
  }
  Exposition::Family& held = e.Get("duet_write_lock_held_seconds", "histogram",
                                   "how long a live-sync batch held a database's write lock, "
                                   "since the process started");
  for (const auto& [system, h] : lock_held_) {
    Exposition::Histogram(held, "system=\"" + system + "\"", h);
  }
  Exposition::Sample(e.Get("duet_lock_races_total", "counter",
                           "batches done again because a database's write lock was taken when "
                           "they first wrote to it"),
                     "", "", static_cast<double>(lock_races_));
  return e.Text();
}

}  // namespace duet::engine
