// What the duet commands that work on a deployment share: opening its
// bundle, endpoints and state store from the configuration file, and the
// lock that allows one `duet run` per state store. Not an interface.
#ifndef DUET_RUNTIME_CLI_SESSION_H_
#define DUET_RUNTIME_CLI_SESSION_H_

#include <map>
#include <memory>
#include <string>

#include "runtime/base/status.h"
#include "runtime/bundle/loaded_bundle.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/engine/config.h"
#include "runtime/engine/sync_engine.h"
#include "runtime/jit/engine.h"

namespace duet::cli {

constexpr int kExitClean = 0;
constexpr int kExitRowErrors = 1;
constexpr int kExitFailure = 2;

// Prints "duet: MESSAGE" on stderr; returns kExitFailure.
int Fail(const Status& status);

// The configuration file, refused (InvalidArgument) when two systems, or a
// system and the state store, are one database file, by whatever paths.
Expected<engine::Config> LoadDeployment(const std::string& config_path);

// Every system of the manifest has a connection, and every connection names
// a system of the manifest.
Status CheckSystems(const engine::Config& config, const bundle::Manifest& manifest);
Expected<std::map<std::string, std::unique_ptr<endpoint::Endpoint>>> OpenEndpoints(
    const engine::Config& config, const bundle::Manifest& manifest);
// The manifest of a verified bundle, without loading its code.
Expected<bundle::Manifest> ReadManifest(const engine::Config& config);

// What `run` and `status` share: the bundle in the JIT, endpoints, the
// state store and the engine over them.
struct Session {
  engine::Config config;
  std::unique_ptr<jit::Engine> jit;
  std::unique_ptr<bundle::LoadedBundle> bundle;
  std::unique_ptr<engine::SyncEngine> engine;
};

// A session that syncs (`duet run`, and the commands that reconcile while
// holding the state store's lock) is a worker: with `worker` it takes the
// state store's lease (StateStore::AcquireLease, owner "HOST:PID"), so that
// its units of work fail once a later worker took the lease.
Expected<std::unique_ptr<Session>> OpenSession(const std::string& config_path, bool worker = false);

// Why the database of `system` must not be synced with the configured state
// store: it was installed with another one. Names the way forward.
std::string StateMismatch(const std::string& system, const engine::Config& config);

// Takes the state store's lock (a file next to it, released when the
// process ends, also on kill -9): the file descriptor, or FailedPrecondition
// when another duet process holds it.
// The lock file is named after the store's real path: a symbolic link to the
// store takes the same lock. The state store is created (private) if need be.
Expected<int> LockState(const engine::Config& config);
// The lock file of the state store at `state_path`.
std::string StateLockPath(const std::string& state_path);
// The lock file of the configuration's state store: StateLockPath of a
// SQLite store; for a PostgreSQL store, a file in the temporary directory
// named after its URL (without the password), so that it keeps one `duet
// run` per store on this machine (duet processes on other machines are
// fenced by the store's lease instead: docs/postgresql.md).
Expected<std::string> StateLockFile(const engine::Config& config);

// What install and uninstall work on: the verified bundle's manifest (its
// code is not loaded) and an endpoint per system.
struct CaptureSession {
  engine::Config config;
  bundle::Manifest manifest;
  std::map<std::string, std::unique_ptr<endpoint::Endpoint>> endpoints;
};

Expected<std::unique_ptr<CaptureSession>> OpenCaptureSession(const std::string& config_path);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_SESSION_H_
