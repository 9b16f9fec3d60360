// The engine's operational record, kept apart from the sync loop: the
// latency of reconciled changes, how long batches held each database's
// write lock, lock races, and the Prometheus text these and the loop's
// gauges make. It reads no database and no clock: the loop records into it,
// gathers the gauges (links, backlog, open errors, waiting changes), and
// decides when to flush and publish.
#ifndef DUET_RUNTIME_ENGINE_OPERATIONS_H_
#define DUET_RUNTIME_ENGINE_OPERATIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/state/state_store.h"

namespace duet::engine {

// What the loop read of one map for /metrics.
struct MapGauges {
  std::string map;
  bool paused = false;
  int64_t linked = 0;
  std::map<std::string, int64_t> backlog;  // system -> changes not reconciled yet
  // Systems whose capture another process holds (a running duet), so that
  // this one cannot count their changes: their `backlog` is what that run
  // last recorded (state::RecordedBacklog) at `backlog_recorded_at`, or
  // absent when it recorded none.
  std::vector<std::string> capture_held;
  std::optional<double> backlog_recorded_at;
  int64_t open_errors = 0;
  int64_t waiting = 0;
};

// The loop's counters since the process started, and its maps' gauges.
struct LoopGauges {
  int64_t loop_cycles = 0;
  int64_t pairs = 0;
  int64_t writes = 0;
  int64_t errors = 0;
  std::vector<MapGauges> maps;
  // system -> bytes its database keeps for capture beyond what duet
  // acknowledged (Endpoint::CaptureRetainedBytes); systems with none absent.
  std::map<std::string, int64_t> retained_bytes;
};

class Operations {
 public:
  // A change of `map` in `direction` ("fo->ce") reconciled `seconds` after
  // it was captured, committed in Unix minute `minute`.
  void RecordLatency(const std::string& map, const std::string& direction, int64_t minute,
                     double seconds);
  // A batch held `system`'s write lock this long (only positive times count).
  void RecordLockHeld(const std::string& system, double seconds);
  void RecordLockRace() { ++lock_races_; }
  int64_t lock_races() const { return lock_races_; }

  // Whether latency was recorded since the last flush.
  bool HasPendingLatency() const { return !pending_latency_.empty(); }
  // Adds the latency recorded since the last flush to the state store's
  // minutes (what `duet status` shows), in one transaction; on failure it
  // stays pending.
  Status FlushLatency(state::StateStore& state);

  // The Prometheus text exposition of the loop's gauges and this record
  // (each family's HELP, TYPE and samples together).
  std::string RenderMetrics(const LoopGauges& loop) const;

 private:
  // Per (map, direction, minute) until flushed.
  std::map<std::tuple<std::string, std::string, int64_t>, state::LatencyHistogram> pending_latency_;
  // Per (map, direction) since the process started, for the cumulative
  // histogram.
  std::map<std::pair<std::string, std::string>, state::LatencyHistogram> latency_total_;
  std::map<std::string, state::LatencyHistogram> lock_held_;  // per system
  int64_t lock_races_ = 0;
};

}  // namespace duet::engine

#endif  // DUET_RUNTIME_ENGINE_OPERATIONS_H_
