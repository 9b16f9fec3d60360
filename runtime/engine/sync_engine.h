// The sync engine: keeps the tables of a bundle's maps in sync between two
// endpoints, with the state kept in a StateStore. docs/sync.md is the
// contract; the reconcile rules are in "How a pair of rows is reconciled".
//
// Only this class decides what to write; endpoints only read and write
// rows, so the engine knows nothing of SQLite.
#ifndef DUET_RUNTIME_ENGINE_SYNC_ENGINE_H_
#define DUET_RUNTIME_ENGINE_SYNC_ENGINE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/base/status.h"
#include "runtime/bundle/transforms.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/engine/config.h"
#include "runtime/state/state_store.h"

namespace duet::engine {

struct Progress {
  std::string map;
  std::string task = "initial sync";  // or "resync", "drift"
  std::string from;                   // system rows are read from
  std::string to;
  int64_t done = 0;
  int64_t total = 0;
  double rows_per_second = 0;
  bool finished = false;
};
using ProgressFn = std::function<void(const Progress&)>;

struct RunCounts {
  int64_t pairs = 0;                 // pairs reconciled
  int64_t writes = 0;                // rows inserted, updated or deleted
  int64_t errors = 0;                // error items recorded in this run
  int64_t waiting = 0;               // changes still waiting for a referenced row at the end
  int64_t open_errors = 0;           // open error items at the end
  std::vector<std::string> paused;   // maps paused at the end (not synced)
  std::vector<std::string> stopped;  // maps duet paused in this run: their tables changed
};

class SyncEngine {
 public:
  // `endpoints` must hold one endpoint per system of the bundle. `clock`
  // (which must outlive the engine) is the wall clock the engine stamps and
  // compares times with: latency, waiting changes and lookup_timeout_seconds,
  // alerts, pauses it makes, last sync. The loop's own pace (timers between
  // cycles, max_transaction_ms) runs on the monotonic clock.
  static Expected<std::unique_ptr<SyncEngine>> Create(
      const Config& config, const bundle::Transforms& bundle,
      std::map<std::string, std::unique_ptr<endpoint::Endpoint>> endpoints,
      std::unique_ptr<state::StateStore> state, const Clock& clock = SystemClock::Get());
  ~SyncEngine();

  // The tables whose changes the maps read, per system: what install
  // captures.
  static std::map<std::string, std::vector<std::string>> CapturedTables(
      const bundle::Manifest& manifest);

  // Live schemas match the bundle and capture is installed.
  Status CheckReady();

  // Initial sync where needed, then every pending change, retrying open
  // error items and waiting changes; returns when caught up.
  Expected<RunCounts> RunOnce(const ProgressFn& progress);
  // Like RunOnce, then keeps syncing until `stop` is set (checked between
  // batches). Both retry transient failures (Unavailable) with backoff,
  // telling the log; RunOnce gives up after five in a row.
  Expected<RunCounts> RunUntil(const std::atomic<bool>& stop, const ProgressFn& progress);

  // While running: `heartbeat` after every cycle of the loop, and
  // `metrics` with the Prometheus text exposition of the deployment
  // (docs/operations.md, "Metrics") at the start and about every 2 seconds.
  // Both are called on the engine's thread.
  void SetObservers(std::function<void()> heartbeat, std::function<void(std::string)> metrics);

  // Where the engine tells what an operator did to a running deployment
  // (a map paused or resumed); nothing by default.
  void SetLog(std::function<void(const std::string&)> log);

  // Reconciles the pairs of error items an operator asked to retry or
  // resolve (state::StateStore::RequestRetry), in maps past their initial
  // sync; the number of items. What `duet errors` does itself when no
  // `duet run` is running; a running one does it every cycle.
  Expected<int64_t> ProcessRequests();

  // `duet drift MAP`: the map's pairs whose mapped fields disagree, rows
  // without a partner, links whose rows are gone, as JSON
  // (docs/operations.md); reads only.
  Expected<std::string> DriftJson(const std::string& map, const ProgressFn& progress);

  // Starts a resync of `map` with `from` winning (`duet resync`, or a
  // bundle reload that needs one); empty `from`: the map's master when that
  // is a side it reads, else its seeding side.
  // `where`: only `from`'s rows for which this SQL condition holds.
  // `resume_skipping`: also resumes the map (paused when its tables
  // changed) and skips the changes captured for it so far, which the resync
  // supersedes: after a column was dropped and added again, its nulls are
  // no edits to carry to the other side (docs/operations.md).
  Status StartResync(const std::string& map, const std::string& from, const std::string& by,
                     const std::string& where = "", bool resume_skipping = false);

  // `duet status --json`.
  Expected<std::string> StatusJson();
  // `duet status`: a table for people.
  Expected<std::string> StatusText();

  class Impl;

 private:
  Expected<RunCounts> RunWithRetries(const std::atomic<bool>* stop, const ProgressFn& progress);
  explicit SyncEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace duet::engine

#endif  // DUET_RUNTIME_ENGINE_SYNC_ENGINE_H_
