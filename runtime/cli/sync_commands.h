// The sync commands of the duet CLI: install, uninstall, run and status
// (docs/sync.md, "Commands"). Each returns the process's exit code.
#ifndef DUET_RUNTIME_CLI_SYNC_COMMANDS_H_
#define DUET_RUNTIME_CLI_SYNC_COMMANDS_H_

#include <string>

namespace duet::cli {

// `duet install`: capture on both sides, the state store created when
// missing, and each database bound to it (`new_state`: also databases bound
// to another state store).
int InstallCommand(const std::string& config_path, bool new_state);
int UninstallCommand(const std::string& config_path);
// `duet run --metrics-port PORT [--metrics-address ADDRESS]`; port -1:
// none, 0: any free port (said on stderr).
struct MetricsOptions {
  int port = -1;
  std::string address = "127.0.0.1";
};
int RunCommand(const std::string& config_path, bool once, const MetricsOptions& metrics = {});
int StatusCommand(const std::string& config_path, bool as_json);
// `duet reload`: signals the `duet run` that holds the state store's lock
// to load its bundle again (SIGHUP does the same).
int ReloadCommand(const std::string& config_path, bool as_json);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_SYNC_COMMANDS_H_
