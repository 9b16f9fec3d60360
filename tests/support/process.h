// Running programs from tests: a child process started with posix_spawn,
// its output captured through files (so it can never block on a full pipe),
// waited for with a deadline, and killed by the destructor when a failing
// test leaves it running. Shared by the end-to-end harness (tests/e2e) and
// the PostgreSQL test servers (pg_server.h). Failures to start or finish a
// child are gtest failures (ADD_FAILURE), never exceptions.
#ifndef DUET_TESTS_SUPPORT_PROCESS_H_
#define DUET_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::test {

namespace fs = std::filesystem;

struct RunResult {
  bool started = false;
  bool exited = false;  // false: killed by a signal
  int exit_code = -1;   // the exit status, or minus the signal number
  std::string out;
  std::string err;
};

// Everything worth printing about a run when an assertion on it fails.
std::string Show(const std::vector<std::string>& argv, const RunResult& r);

std::string ReadFile(const fs::path& path);
// Writes `bytes` to `path` (replacing it); a failure is a test failure.
void WriteFile(const fs::path& path, std::string_view bytes);

// Extra environment variables for a child: set (value) or removed (nullopt).
using EnvChanges = std::map<std::string, std::optional<std::string>>;

// A child process started in the background. Its output goes to files, so
// it can never block on a full pipe. The destructor kills a child that is
// still running (SIGKILL) and reaps it, so a failing test leaves no stray
// process behind.
class Process {
 public:
  Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  ~Process();

  // Starts argv[0] (a path) with `argv` in `cwd`; stdin is `stdin_path`
  // (/dev/null when empty). Returns false (and records a test failure) when
  // the binary cannot be started.
  bool Start(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& stdout_path,
             const fs::path& stderr_path, const fs::path& stdin_path = {},
             const EnvChanges& env = {});

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }

  // Sends `signal`; the child stays to be reaped by Wait/TryWait.
  void Signal(int signal);
  // Whether the child has exited; reaps it and fills `result` if so.
  bool TryWait(RunResult* result);
  // Waits for the child at most `timeout`; kills it with SIGKILL after that
  // (and records a test failure naming `argv`). Returns its result.
  RunResult Wait(std::chrono::milliseconds timeout);

 private:
  RunResult Finish(int status);

  pid_t pid_ = -1;
  std::vector<std::string> argv_;
  fs::path stdout_path_;
  fs::path stderr_path_;
};

// Runs `argv` to completion in `cwd` with `stdin_text`, waiting at most
// `timeout` (then kills it and fails the test). Output is captured through
// files in `scratch`.
RunResult RunProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                     const fs::path& scratch, std::string_view stdin_text = "",
                     const EnvChanges& env = {},
                     std::chrono::milliseconds timeout = std::chrono::minutes(3));

// Polls `done` every `interval` until it returns true or `deadline` passes.
// Returns the last result. The deadline is generous (a slow machine must
// never fail a test), and it is never an assertion on speed.
bool PollUntil(const std::function<bool()>& done,
               std::chrono::milliseconds deadline = std::chrono::seconds(120),
               std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace duet::test

#endif  // DUET_TESTS_SUPPORT_PROCESS_H_
