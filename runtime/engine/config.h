// The runtime's configuration file (docs/sync.md, "Configuration"): JSON,
// `${NAME}` in strings read from the environment, unknown keys and bad
// values refused with a message that names the key.
#ifndef DUET_RUNTIME_ENGINE_CONFIG_H_
#define DUET_RUNTIME_ENGINE_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace duet::engine {

// An alert rule of the configuration (docs/operations.md, "Alerts"):
// `{"map": M, "when": "METRIC OP VALUE within|for DURATION", "then": ACTION}`.
struct AlertRule {
  std::string text;      // the rule's `when`, for messages
  std::string map;       // empty: every map
  std::string metric;    // errors, open_errors, backlog, p50_latency, p95_latency, p99_latency
  std::string op;        // >, >=, <, <=, ==
  double threshold = 0;  // seconds for latencies
  bool within = true;    // within: over a window; for: held that long
  double seconds = 0;    // the window or how long
  std::string then;      // log, pause, run
  std::string command;   // run: a shell command; the alert as JSON on its stdin
};
// Parses a `when`; the error says what is wrong with it.
Expected<AlertRule> ParseAlertWhen(const std::string& when);

struct Config {
  std::string path;  // the file it was read from
  std::string bundle;
  std::map<std::string, std::string> systems;  // system -> connection string
  std::string state;
  std::string trust;      // public key file; empty: any bundle
  std::string cache_dir;  // empty: no cache between runs
  int batch_size = 2000;
  int initial_batch_size = 5000;
  int poll_interval_ms = 2;
  int64_t lookup_timeout_seconds = 3600;
  // How long duet waits for an application's lock on a database before the
  // batch counts as a transient failure, retried with backoff.
  int lock_timeout_ms = 30000;
  // How long a live-sync batch goes on reconciling once it began: it
  // commits what it has after that, so that duet holds a database's write
  // lock about this long at most (docs/sync.md, Locks).
  int max_transaction_ms = 100;
  std::vector<AlertRule> alerts;
};

// Reads and validates the file. Relative paths in it are made relative to
// the file's directory.
Expected<Config> LoadConfig(const std::string& path);
// Validates `text`, the contents of the file at `path` (which names it in
// messages and anchors relative paths). Never throws, whatever the text.
Expected<Config> ParseConfig(const std::string& text, const std::string& path);

// "sqlite:PATH" -> PATH; an error naming `key` for other schemes.
Expected<std::string> SqlitePath(const std::string& url, const std::string& key);
// Whether `url` is a libpq URI (postgresql://... or postgres://...).
bool IsPostgresUrl(const std::string& url);

}  // namespace duet::engine

#endif  // DUET_RUNTIME_ENGINE_CONFIG_H_
