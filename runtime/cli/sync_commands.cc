#include "runtime/cli/sync_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <httplib.h>
#include <pthread.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "runtime/base/redact.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/bundle/manifest_diff.h"
#include "runtime/cli/session.h"
#include "runtime/cli/trust.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/engine/config.h"
#include "runtime/engine/sync_engine.h"
#include "runtime/jit/engine.h"
#include "runtime/state/open_state_store.h"
#include "runtime/state/state_store.h"

namespace duet::cli {
namespace {

std::atomic<bool> g_stop{false};       // SIGINT, SIGTERM: stop
std::atomic<bool> g_reload{false};     // SIGHUP: load the bundle again
std::atomic<bool> g_interrupt{false};  // either: the engine returns between batches

extern "C" void OnSignal(int signal) {
  if (signal == SIGHUP) {
    g_reload.store(true);
  } else {
    g_stop.store(true);
  }
  g_interrupt.store(true);
}

std::string FormatDuration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

// Initial-sync progress on stderr: rewritten in place on a terminal, a
// plain line every few seconds otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter() : tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressPrinter() {
    if (tty_ && dirty_) std::cerr << "\n";
  }

  void operator()(const engine::Progress& p) {
    auto now = std::chrono::steady_clock::now();
    bool new_map = p.map != map_;
    map_ = p.map;
    if (!tty_ && !p.finished && !new_map && now - last_ < std::chrono::seconds(5)) return;
    last_ = now;
    // The total is an estimate taken at the start: never shown below done.
    int64_t total = std::max(p.total, p.done);
    int percent = total > 0 ? static_cast<int>(100 * p.done / total) : 100;
    std::string eta = p.rows_per_second > 0
                          ? FormatDuration(static_cast<double>(total - p.done) / p.rows_per_second)
                          : "?";
    std::string line = fmt::format("{} {} {} -> {}: {}/{} rows ({}%), {:.0f} rows/s", p.map, p.task,
                                   p.from, p.to, p.done, total, percent, p.rows_per_second);
    if (p.finished) {
      line = fmt::format("{}: {} done, {} rows", p.map, p.task, p.done);
    } else {
      line += ", ETA " + eta;
    }
    if (tty_) {
      std::cerr << "\r\033[K" << line << (p.finished ? "\n" : "") << std::flush;
      dirty_ = !p.finished;
    } else {
      std::cerr << "duet: " << line << "\n";
    }
  }

 private:
  bool tty_;
  bool dirty_ = false;
  std::string map_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int InstallCommand(const std::string& config_path, bool new_state) {
  Expected<std::unique_ptr<CaptureSession>> session = OpenCaptureSession(config_path);
  if (!session.ok()) return Fail(session.status());
  std::map<std::string, std::vector<std::string>> captured =
      engine::SyncEngine::CapturedTables((*session)->manifest);
  for (auto& [system, ep] : (*session)->endpoints) {
    if (Status s = ep->CheckSchema(); !s.ok()) return Fail(s);
  }
  // The state store is opened before capture is touched (a store of a newer
  // duet is refused first). One of an earlier schema version is upgraded
  // only once every database's capture is: an upgrade of capture that
  // install refuses then leaves the store as it was, for the earlier
  // version of duet to go on running.
  const std::string& url = (*session)->config.state;
  Expected<std::unique_ptr<state::StateStore>> state =
      state::OpenStateStore(url, state::StateStore::OpenMode::kExisting);
  bool upgrade_state = !state.ok() && state::IsEarlierSchema(state.status());
  if (!state.ok() && !upgrade_state) {
    if (state.status().code() != StatusCode::kNotFound) return Fail(state.status());
    state = state::OpenStateStore(url, state::StateStore::OpenMode::kCreate);
    if (!state.ok()) return Fail(state.status());
  }
  for (auto& [system, ep] : (*session)->endpoints) {
    Expected<endpoint::CaptureCounts> counts = ep->InstallCapture(captured[system]);
    if (!counts.ok()) return Fail(counts.status());
    std::cout << fmt::format("{}: capture installed for {} table(s), {} new object(s)\n", system,
                             counts->tables, counts->objects);
  }
  if (upgrade_state) {
    state = state::OpenStateStore(url, state::StateStore::OpenMode::kCreate);
    if (!state.ok()) return Fail(state.status());
    std::cout << fmt::format("state store: upgraded to schema version {}\n",
                             (*state)->SchemaVersion());
  }
  for (auto& [system, ep] : (*session)->endpoints) {
    Expected<std::string> bound = ep->BoundState();
    if (!bound.ok()) return Fail(bound.status());
    if (*bound == (*state)->id()) continue;
    if (!bound->empty() && !new_state) {
      return Fail(FailedPreconditionError(StateMismatch(system, (*session)->config)));
    }
    if (Status s = ep->BindState((*state)->id()); !s.ok()) return Fail(s);
    if (!bound->empty()) {
      std::cout << fmt::format("{}: bound to the state store {}; every map syncs initially again\n",
                               system, RedactConnectionString((*session)->config.state));
    }
  }
  return kExitClean;
}

int UninstallCommand(const std::string& config_path) {
  Expected<std::unique_ptr<CaptureSession>> session = OpenCaptureSession(config_path);
  if (!session.ok()) return Fail(session.status());
  for (auto& [system, ep] : (*session)->endpoints) {
    Expected<endpoint::CaptureCounts> counts = ep->UninstallCapture();
    if (!counts.ok()) return Fail(counts.status());
    std::cout << fmt::format("{}: capture removed from {} table(s), {} object(s) dropped\n", system,
                             counts->tables, counts->objects);
  }
  return kExitClean;
}

namespace {

// `duet run --metrics-port`: /metrics (Prometheus text, as the engine last
// published it) and /healthz (200 while the sync loop has gone round in the
// last 30 seconds) on a thread of its own; it never touches the engine.
class MetricsServer {
 public:
  Status Start(const std::string& address, int port) {
    // Each connection holds a worker thread while it waits for a request:
    // idle or half-open connections give theirs back within a second, and
    // there are enough workers that a few of them never starve /healthz.
    server_.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
    server_.set_keep_alive_timeout(1);
    server_.set_keep_alive_max_count(100);
    server_.set_read_timeout(std::chrono::seconds(2));
    server_.set_write_timeout(std::chrono::seconds(2));
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      res.set_content(text_.empty() ? "duet_up 0\n" : text_, "text/plain; version=0.0.4");
    });
    server_.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      double age = Now() - last_cycle_.load();
      if (age <= 30) {
        res.set_content("ok\n", "text/plain");
      } else {
        res.status = 503;
        res.set_content(fmt::format("the sync loop has not gone round for {:.0f} s\n", age),
                        "text/plain");
      }
    });
    int bound = port == 0 ? server_.bind_to_any_port(address)
                          : (server_.bind_to_port(address, port) ? port : -1);
    if (bound < 0) {
      return UnavailableError(
          fmt::format("cannot listen on {}:{} for --metrics-port", address, port));
    }
    port_ = bound;
    last_cycle_ = Now();
    // The signals that stop or reload duet go to the sync loop's thread,
    // whose wait for changes they end (EINTR), not to this one.
    sigset_t signals;
    sigset_t old;
    sigemptyset(&signals);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signal);
    pthread_sigmask(SIG_BLOCK, &signals, &old);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return Status::Ok();
  }
  ~MetricsServer() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  int port() const { return port_; }
  void Heartbeat() { last_cycle_ = Now(); }
  void Publish(std::string text) {
    std::lock_guard<std::mutex> lock(mu_);
    text_ = std::move(text);
  }

 private:
  static double Now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static constexpr size_t kWorkers = 32;
  httplib::Server server_;
  std::mutex mu_;
  std::string text_;  // guarded by mu_
  std::atomic<double> last_cycle_{0};
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

// Opens the configuration's bundle again; on success `session` is the new
// one.
Status Reload(const std::string& config_path, std::unique_ptr<Session>& session,
              const std::function<void(const std::string&)>& log) {
  Expected<std::unique_ptr<Session>> next = OpenSession(config_path, /*worker=*/true);
  if (!next.ok()) return next.status();
  if (Status s = (*next)->engine->CheckReady(); !s.ok()) return s;
  bundle::ManifestDiff diff =
      bundle::DiffManifests(session->bundle->manifest(), (*next)->bundle->manifest());
  if (diff.cls == bundle::UpgradeClass::kBreaking) {
    std::string maps;
    for (const std::string& m : diff.broken) maps += (maps.empty() ? "" : ", ") + m;
    return FailedPreconditionError("the upgrade is breaking (duetc diff): " +
                                   (maps.empty() ? std::string("systems changed") : maps));
  }
  session = std::move(*next);
  for (const std::string& map : diff.resync) {
    // The new bundle runs from here on; a resync that cannot start is said,
    // and `duet resync` can start it by hand.
    if (Status s = session->engine->StartResync(map, "", "duet reload"); !s.ok()) {
      log("reloaded, but the resync of map " + map + " did not start: " + s.message());
    }
  }
  std::string resync;
  for (const std::string& m : diff.resync) resync += (resync.empty() ? "" : ", ") + m;
  log(fmt::format("reloaded the bundle ({} change(s), {}){}", diff.changes.size(),
                  bundle::UpgradeClassName(diff.cls),
                  resync.empty() ? "" : "; resyncing " + resync));
  return Status::Ok();
}

int ReloadCommand(const std::string& config_path, bool as_json) {
  Expected<engine::Config> config = LoadDeployment(config_path);
  if (!config.ok()) return Fail(config.status());
  Expected<std::string> lock_file = StateLockFile(*config);
  if (!lock_file.ok()) return Fail(lock_file.status());
  const std::string& lock = *lock_file;
  int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buffer[32] = {};
    ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    ::close(fd);
    pid_t pid = n > 0 ? static_cast<pid_t>(std::strtol(buffer, nullptr, 10)) : 0;
    if (pid <= 0 || ::kill(pid, SIGHUP) != 0) {
      return Fail(IoError("cannot signal the duet run holding " + lock));
    }
    std::cout << (as_json ? fmt::format("{{\"running\":true,\"pid\":{}}}\n", pid)
                          : fmt::format("asked duet run (pid {}) to load {} again\n", pid,
                                        config->bundle));
    return kExitClean;
  }
  if (fd >= 0) ::close(fd);
  std::cout << (as_json ? std::string("{\"running\":false}\n")
                        : "no duet run is running with this state store; the next one uses " +
                              config->bundle + "\n");
  return kExitClean;
}

int RunCommand(const std::string& config_path, bool once, const MetricsOptions& metrics) {
  Expected<engine::Config> config = LoadDeployment(config_path);
  if (!config.ok()) return Fail(config.status());
  Expected<int> lock = LockState(*config);
  if (!lock.ok()) return Fail(lock.status());
  Expected<std::unique_ptr<Session>> session = OpenSession(config_path, /*worker=*/true);
  if (!session.ok()) return Fail(session.status());
  engine::SyncEngine& engine = *(*session)->engine;
  if (Status s = engine.CheckReady(); !s.ok()) return Fail(s);

  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);

  auto log = [](const std::string& line) { std::cerr << "duet: " << line << "\n"; };
  std::unique_ptr<MetricsServer> server;
  if (metrics.port >= 0) {
    server = std::make_unique<MetricsServer>();
    if (Status s = server->Start(metrics.address, metrics.port); !s.ok()) return Fail(s);
    std::cerr << fmt::format("duet: metrics on http://{}:{}/metrics, health on /healthz\n",
                             metrics.address, server->port());
  }
  auto observe = [&](engine::SyncEngine& e) {
    e.SetLog(log);
    if (server) {
      e.SetObservers([&server] { server->Heartbeat(); },
                     [&server](std::string text) { server->Publish(std::move(text)); });
    }
  };
  observe(engine);
  ProgressPrinter printer;
  engine::ProgressFn progress = [&printer](const engine::Progress& p) { printer(p); };
  Expected<engine::RunCounts> counts = once ? (*session)->engine->RunOnce(progress)
                                            : (*session)->engine->RunUntil(g_interrupt, progress);
  // SIGHUP (`duet reload`): between batches, the bundle the configuration
  // names is loaded again and, unless the upgrade is breaking or the
  // databases do not fit it, replaces the running one; maps the upgrade
  // needs resynced are resynced. Changes made meanwhile wait in the
  // changelogs.
  while (!once && counts.ok() && !g_stop.load() && g_reload.exchange(false)) {
    g_interrupt.store(false);
    if (g_stop.load()) break;
    Status reloaded = Reload(config_path, *session, log);
    if (!reloaded.ok()) log("reload refused, still running the old bundle: " + reloaded.message());
    observe(*(*session)->engine);
    counts = (*session)->engine->RunUntil(g_interrupt, progress);
  }
  if (!counts.ok()) return Fail(counts.status());
  std::cerr << fmt::format(
      "duet: {} pair(s) reconciled, {} row write(s), {} row error(s) recorded; {} open error "
      "item(s), {} change(s) waiting for a referenced row\n",
      counts->pairs, counts->writes, counts->errors, counts->open_errors, counts->waiting);
  if (once && !counts->stopped.empty()) {
    // Said in the log as it happened; the exit code tells a scheduler.
    return kExitFailure;
  }
  for (const std::string& map : counts->paused) {
    std::cerr << fmt::format("duet: map {} is paused: its changes wait until `duet resume {}`\n",
                             map, map);
  }
  if (once && counts->open_errors > 0) return kExitRowErrors;
  return kExitClean;
}

int StatusCommand(const std::string& config_path, bool as_json) {
  Expected<std::unique_ptr<Session>> session = OpenSession(config_path);
  if (!session.ok()) return Fail(session.status());
  Expected<std::string> text =
      as_json ? (*session)->engine->StatusJson() : (*session)->engine->StatusText();
  if (!text.ok()) return Fail(text.status());
  std::cout << *text << (as_json ? "\n" : "");
  return kExitClean;
}

}  // namespace duet::cli
