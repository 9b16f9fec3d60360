// `duet pause MAP`, `duet resume MAP` and `duet resync MAP`
// (docs/operations.md): recorded in the state store, where a running `duet
// run` sees them within a cycle.
#ifndef DUET_RUNTIME_CLI_PAUSE_COMMAND_H_
#define DUET_RUNTIME_CLI_PAUSE_COMMAND_H_

#include <string>

namespace duet::cli {

struct PauseOptions {
  std::string config_path;
  std::string map;
  std::string by;  // default $USER
  std::string reason;
  // resume of a map duet stopped when its tables changed: the operator's
  // choice (ResumeCommand).
  std::string from;
  bool as_is = false;
  bool as_json = false;
};

int PauseCommand(const PauseOptions& options);
int ResumeCommand(const PauseOptions& options);

struct ResyncOptions {
  std::string config_path;
  std::string map;
  std::string from;  // default: the map's master, when it is a system
  std::string by;    // default $USER
  bool restart = false;
  std::string where;      // --where: only `from`'s rows for which this SQL condition holds
  std::string keys_file;  // --keys: only the rows with these alternate keys
  bool as_json = false;
};

// `duet resync MAP [--from SYSTEM]` (docs/operations.md, "Resync"): records
// the resync in the state store; a running `duet run` does it a page a
// cycle, else the command runs it (and whatever else is pending) itself.
int ResyncCommand(const ResyncOptions& options);

// `duet drift MAP` (docs/operations.md, "Drift and resync"): compares the
// two sides without writing; exit 0 when they agree, 1 when they drift.
int DriftCommand(const std::string& config_path, const std::string& map, bool as_json);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_PAUSE_COMMAND_H_
