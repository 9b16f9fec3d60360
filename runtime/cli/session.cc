#include "runtime/cli/session.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/base/files.h"
#include "runtime/base/redact.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/cli/trust.h"
#include "runtime/endpoint/open_endpoint.h"
#include "runtime/state/open_state_store.h"

namespace duet::cli {

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

namespace {

// What makes two paths one file: its device and inode when it exists, else
// the canonical path a later open would create it under.
struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string canonical;

  bool SameFile(const FileIdentity& other) const {
    if (exists != other.exists) return false;
    return exists ? device == other.device && inode == other.inode : canonical == other.canonical;
  }
};

FileIdentity IdentityOf(const std::string& path) {
  FileIdentity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.device = st.st_dev;
    id.inode = st.st_ino;
    return id;
  }
  // A dangling symbolic link names the file it would create.
  std::filesystem::path p(path);
  std::error_code ec;
  for (int hops = 0; hops < 40 && std::filesystem::is_symlink(p, ec); ++hops) {
    std::filesystem::path target = std::filesystem::read_symlink(p, ec);
    if (ec) break;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  std::filesystem::path canonical = std::filesystem::weakly_canonical(p, ec);
  id.canonical =
      ec ? std::filesystem::absolute(p, ec).lexically_normal().string() : canonical.string();
  return id;
}

// The first two entries that are one file, if any.
std::optional<std::pair<size_t, size_t>> FindSameFile(const std::vector<FileIdentity>& files) {
  for (size_t i = 0; i < files.size(); ++i) {
    for (size_t j = i + 1; j < files.size(); ++j) {
      if (files[i].SameFile(files[j])) return std::make_pair(i, j);
    }
  }
  return std::nullopt;
}

// Each system has a database of its own, and the state store is none of
// them: on one file, duet's write transaction on one side would wait for
// its own lock on the other. Only SQLite files take part: databases on a
// server (PostgreSQL) lock rows, not files, and may be shared.
Status CheckDistinctDatabases(const engine::Config& config) {
  std::vector<std::string> keys, paths;
  auto add = [&](const std::string& key, const std::string& url) {
    Expected<std::string> path = engine::SqlitePath(url, "");
    if (!path.ok()) return;
    keys.push_back(key);
    paths.push_back(*path);
  };
  for (const auto& [system, url] : config.systems) add("systems." + system, url);
  add("state", config.state);
  std::vector<FileIdentity> files;
  for (const std::string& path : paths) files.push_back(IdentityOf(path));
  std::optional<std::pair<size_t, size_t>> same = FindSameFile(files);
  if (!same) return Status::Ok();
  auto [a, b] = *same;
  return InvalidArgumentError(config.path + ": '" + keys[a] + "' and '" + keys[b] +
                              "' are the same database file ('" + paths[a] + "', '" + paths[b] +
                              "'): each needs a file of its own, or duet waits for its own lock");
}

}  // namespace

Expected<engine::Config> LoadDeployment(const std::string& config_path) {
  Expected<engine::Config> config = engine::LoadConfig(config_path);
  if (!config.ok()) return config.status();
  if (Status s = CheckDistinctDatabases(*config); !s.ok()) return s;
  return config;
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

std::string StateMismatch(const std::string& system, const engine::Config& config) {
  return system + "'s database was installed with another state store than " +
         RedactConnectionString(config.state) +
         ", so this one does not describe what was synced (was the state store deleted or "
         "replaced?). Restore the state store duet ran with; or, to start over with this one, run "
         "`duet install -c CONFIG --new-state`: every map then runs its initial sync again, "
         "matching rows by alternate key, and fields that differ take the seeding side's values "
         "(edits made since the old state store was lost can be overwritten)";
}

// Every database describes itself with the state store (or predates
// bindings).
Status CheckBindings(const engine::Config& config,
                     std::map<std::string, std::unique_ptr<endpoint::Endpoint>>& endpoints,
                     const state::StateStore& state) {
  for (auto& [system, ep] : endpoints) {
    Expected<std::string> bound = ep->BoundState();
    if (!bound.ok()) return bound.status();
    if (!bound->empty() && *bound != state.id()) {
      return FailedPreconditionError(StateMismatch(system, config));
    }
  }
  return Status::Ok();
}

// This process as the owner of a lease: the same process taking the lease
// again (a reload) keeps its epoch.
std::string LeaseOwner() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(::getpid());
}

Expected<std::unique_ptr<Session>> OpenSession(const std::string& config_path, bool worker) {
  auto session = std::make_unique<Session>();
  Expected<engine::Config> config = LoadDeployment(config_path);
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
  Expected<std::unique_ptr<state::StateStore>> state = state::OpenStateStore(config->state);
  if (!state.ok()) return state.status();
  if (Status s = CheckBindings(*config, *endpoints, **state); !s.ok()) return s;
  if (worker) {
    if (Expected<int64_t> epoch = (*state)->AcquireLease(LeaseOwner()); !epoch.ok()) {
      return epoch.status();
    }
  }
  Expected<std::unique_ptr<engine::SyncEngine>> engine = engine::SyncEngine::Create(
      *config, *session->bundle, std::move(*endpoints), std::move(*state));
  if (!engine.ok()) return engine.status();
  session->engine = std::move(*engine);
  return session;
}

// One `duet run` per state store: a second one would reconcile the same
// pairs concurrently. The lock goes with the process, also on kill -9.
Expected<int> LockState(const engine::Config& config) {
  Expected<std::string> lock = StateLockFile(config);
  if (!lock.ok()) return lock.status();
  Expected<int> fd = OpenPrivateFile(*lock, O_RDWR, "lock file");
  if (!fd.ok()) return fd.status();
  if (::flock(*fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(*fd);
    return FailedPreconditionError("another duet process is running with the state store " +
                                   RedactConnectionString(config.state) + " (lock " + *lock + ")");
  }
  // The holder's pid, for `duet reload`.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(*fd, 0) != 0 || ::pwrite(*fd, pid.data(), pid.size(), 0) < 0) {
    ::close(*fd);
    return IoError("cannot write lock file '" + *lock + "'");
  }
  return *fd;
}

std::string StateLockPath(const std::string& state_path) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(state_path, ec);
  return (ec ? state_path : real.string()) + ".lock";
}

Expected<std::string> StateLockFile(const engine::Config& config) {
  if (engine::IsPostgresUrl(config.state)) {
    // Named after the URL without its password, so a changed password
    // names the same lock.
    bundle::Digest digest = bundle::Sha256(RedactConnectionString(config.state));
    std::string name =
        "duet-state-" +
        bundle::Hex(std::string_view(reinterpret_cast<const char*>(digest.data()), 8)) + ".lock";
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
    return ((ec ? std::filesystem::path("/tmp") : dir) / name).string();
  }
  // Every path to the store (a symbolic link, ./state.db) names the same
  // lock; a store that does not exist yet (only `duet install` creates one)
  // is refused when the session opens it.
  Expected<std::string> path = engine::SqlitePath(config.state, "state");
  if (!path.ok()) return path.status();
  return StateLockPath(*path);
}

Expected<std::unique_ptr<CaptureSession>> OpenCaptureSession(const std::string& config_path) {
  Expected<engine::Config> config = LoadDeployment(config_path);
  if (!config.ok()) return config.status();
  auto session = std::make_unique<CaptureSession>();
  session->config = *config;
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

}  // namespace duet::cli
