// `duet errors`: the operator's view of the error queue (docs/operations.md,
// "The error queue"). Works next to a running `duet run`: reads and closes
// items in the state store directly, and asks for retries through it.
#ifndef DUET_RUNTIME_CLI_ERRORS_COMMAND_H_
#define DUET_RUNTIME_CLI_ERRORS_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

namespace duet::cli {

struct ErrorsOptions {
  std::string config_path;
  bool as_json = false;
  // list
  std::string map;
  std::string kind;
  std::string older_than;  // "90s", "15m", "2h", "7d"
  bool all = false;        // list: closed items too; retry: every open item
  // show, retry, discard, resolve
  std::vector<int64_t> ids;
  std::string by;    // discard: who; default $USER
  std::string take;  // resolve: the system whose values win
};

int ErrorsListCommand(const ErrorsOptions& options);
int ErrorsShowCommand(const ErrorsOptions& options);
int ErrorsRetryCommand(const ErrorsOptions& options);
int ErrorsDiscardCommand(const ErrorsOptions& options);
int ErrorsResolveCommand(const ErrorsOptions& options);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_ERRORS_COMMAND_H_
