#include "runtime/cli/sync_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/cli/trust.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/engine/config.h"
#include "runtime/engine/sync_engine.h"
#include "runtime/jit/engine.h"
#include "runtime/state/state_store.h"

namespace duet::cli {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitRowErrors = 1;
constexpr int kExitFailure = 2;

std::atomic<bool> g_stop{false};

extern "C" void OnSignal(int) { g_stop.store(true); }

int Fail(const Status& status) {
  std::cerr << "duet: " << status.message() << "\n";
  return kExitFailure;
}

// Every system of the manifest has a connection, and every connection names
// a system of the manifest.
Status CheckSystems(const engine::Config& config, const bundle::Manifest& manifest) {
  for (const std::string& system : manifest.systems) {
    if (!config.systems.count(system)) {
      return InvalidArgumentError(config.path + ": 'systems' has no connection for system '" +
                                  system + "', which the bundle uses");
    }
  }
  for (const auto& [system, url] : config.systems) {
    if (std::find(manifest.systems.begin(), manifest.systems.end(), system) ==
        manifest.systems.end()) {
      return InvalidArgumentError(config.path + ": 'systems." + system +
                                  "': the bundle has no system of that name");
    }
  }
  return Status::Ok();
}

Expected<std::map<std::string, std::unique_ptr<endpoint::Endpoint>>> OpenEndpoints(
    const engine::Config& config, const bundle::Manifest& manifest) {
  std::map<std::string, std::unique_ptr<endpoint::Endpoint>> out;
  for (const std::string& system : manifest.systems) {
    Expected<std::unique_ptr<endpoint::Endpoint>> ep =
        endpoint::OpenEndpoint(config.systems.at(system), system, manifest);
    if (!ep.ok()) return ep.status();
    out[system] = std::move(*ep);
  }
  return out;
}

// The manifest of a verified bundle, without loading its code.
Expected<bundle::Manifest> ReadManifest(const engine::Config& config) {
  Expected<bundle::ReadOptions> options = TrustOptions(config.trust);
  if (!options.ok()) return options.status();
  Expected<bundle::Verified> verified = bundle::ReadFile(config.bundle, *options);
  if (!verified.ok()) return verified.status();
  return bundle::ParseManifest(verified->contents.manifest);
}

// What `run` and `status` share: the bundle in the JIT, endpoints, the
// state store and the engine over them.
struct Session {
  engine::Config config;
  std::unique_ptr<jit::Engine> jit;
  std::unique_ptr<bundle::LoadedBundle> bundle;
  std::unique_ptr<engine::SyncEngine> engine;
};

Expected<std::unique_ptr<Session>> OpenSession(const std::string& config_path) {
  auto session = std::make_unique<Session>();
  Expected<engine::Config> config = engine::LoadConfig(config_path);
  if (!config.ok()) return config.status();
  session->config = *config;
  Expected<bundle::ReadOptions> options = TrustOptions(config->trust);
  if (!options.ok()) return options.status();
  // A sync runs for long: when the bundle has no object code for this
  // machine, spend the load time on faster rows.
  jit::EngineOptions jit_options;
  jit_options.cache_directory = config->cache_dir;
  jit_options.optimize_code = true;
  Expected<std::unique_ptr<jit::Engine>> jit = jit::Engine::Create(jit_options);
  if (!jit.ok()) return jit.status();
  session->jit = std::move(*jit);
  Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
      bundle::LoadedBundle::Load(*session->jit, config->bundle, *options);
  if (!loaded.ok()) return loaded.status();
  session->bundle = std::move(*loaded);
  const bundle::Manifest& manifest = session->bundle->manifest();
  if (Status s = CheckSystems(*config, manifest); !s.ok()) return s;
  Expected<std::map<std::string, std::unique_ptr<endpoint::Endpoint>>> endpoints =
      OpenEndpoints(*config, manifest);
  if (!endpoints.ok()) return endpoints.status();
  Expected<std::string> state_path = engine::SqlitePath(config->state, "state");
  if (!state_path.ok()) return state_path.status();
  Expected<std::unique_ptr<state::StateStore>> state = state::StateStore::Open(*state_path);
  if (!state.ok()) return state.status();
  Expected<std::unique_ptr<engine::SyncEngine>> engine = engine::SyncEngine::Create(
      *config, *session->bundle, std::move(*endpoints), std::move(*state));
  if (!engine.ok()) return engine.status();
  session->engine = std::move(*engine);
  return session;
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
    int percent = p.total > 0 ? static_cast<int>(100 * p.done / p.total) : 100;
    std::string eta =
        p.rows_per_second > 0
            ? FormatDuration(static_cast<double>(p.total - p.done) / p.rows_per_second)
            : "?";
    std::string line = fmt::format("{} {} -> {}: {}/{} rows ({}%), {:.0f} rows/s", p.map, p.from,
                                   p.to, p.done, p.total, percent, p.rows_per_second);
    if (p.finished) {
      line = fmt::format("{}: initial sync done, {} rows", p.map, p.done);
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

// One `duet run` per state store: a second one would reconcile the same
// pairs concurrently. The lock goes with the process, also on kill -9.
Expected<int> LockState(const engine::Config& config) {
  Expected<std::string> path = engine::SqlitePath(config.state, "state");
  if (!path.ok()) return path.status();
  std::string lock = *path + ".lock";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open lock file '" + lock + "'");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPreconditionError("another duet process is running with the state store " +
                                   config.state + " (lock " + lock + ")");
  }
  return fd;
}

// What install and uninstall work on: the verified bundle's manifest (its
// code is not loaded) and an endpoint per system.
struct CaptureSession {
  bundle::Manifest manifest;
  std::map<std::string, std::unique_ptr<endpoint::Endpoint>> endpoints;
};

Expected<std::unique_ptr<CaptureSession>> OpenCaptureSession(const std::string& config_path) {
  Expected<engine::Config> config = engine::LoadConfig(config_path);
  if (!config.ok()) return config.status();
  auto session = std::make_unique<CaptureSession>();
  Expected<bundle::Manifest> manifest = ReadManifest(*config);
  if (!manifest.ok()) return manifest.status();
  session->manifest = std::move(*manifest);
  if (Status s = CheckSystems(*config, session->manifest); !s.ok()) return s;
  // The endpoints refer to the manifest: it lives in the session, beside them.
  Expected<std::map<std::string, std::unique_ptr<endpoint::Endpoint>>> endpoints =
      OpenEndpoints(*config, session->manifest);
  if (!endpoints.ok()) return endpoints.status();
  session->endpoints = std::move(*endpoints);
  return session;
}

}  // namespace

int InstallCommand(const std::string& config_path) {
  Expected<std::unique_ptr<CaptureSession>> session = OpenCaptureSession(config_path);
  if (!session.ok()) return Fail(session.status());
  std::map<std::string, std::vector<std::string>> captured =
      engine::SyncEngine::CapturedTables((*session)->manifest);
  for (auto& [system, ep] : (*session)->endpoints) {
    if (Status s = ep->CheckSchema(); !s.ok()) return Fail(s);
  }
  for (auto& [system, ep] : (*session)->endpoints) {
    Expected<endpoint::CaptureCounts> counts = ep->InstallCapture(captured[system]);
    if (!counts.ok()) return Fail(counts.status());
    std::cout << fmt::format("{}: capture installed for {} table(s), {} new object(s)\n", system,
                             counts->tables, counts->objects);
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

int RunCommand(const std::string& config_path, bool once) {
  Expected<engine::Config> config = engine::LoadConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  Expected<int> lock = LockState(*config);
  if (!lock.ok()) return Fail(lock.status());
  Expected<std::unique_ptr<Session>> session = OpenSession(config_path);
  if (!session.ok()) return Fail(session.status());
  engine::SyncEngine& engine = *(*session)->engine;
  if (Status s = engine.CheckReady(); !s.ok()) return Fail(s);

  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  ProgressPrinter printer;
  engine::ProgressFn progress = [&printer](const engine::Progress& p) { printer(p); };
  Expected<engine::RunCounts> counts =
      once ? engine.RunOnce(progress) : engine.RunUntil(g_stop, progress);
  if (!counts.ok()) return Fail(counts.status());
  std::cerr << fmt::format(
      "duet: {} pair(s) reconciled, {} row write(s), {} new error item(s); {} open error "
      "item(s), {} change(s) waiting for a referenced row\n",
      counts->pairs, counts->writes, counts->errors, counts->open_errors, counts->waiting);
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
