// `duet pause MAP` and `duet resume MAP` (docs/operations.md, "Pause and
// resume"): recorded in the state store, where a running `duet run` sees
// them within a cycle.
#ifndef DUET_RUNTIME_CLI_PAUSE_COMMAND_H_
#define DUET_RUNTIME_CLI_PAUSE_COMMAND_H_

#include <string>

namespace duet::cli {

struct PauseOptions {
  std::string config_path;
  std::string map;
  std::string by;  // default $USER
  std::string reason;
  bool as_json = false;
};

int PauseCommand(const PauseOptions& options);
int ResumeCommand(const PauseOptions& options);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_PAUSE_COMMAND_H_
