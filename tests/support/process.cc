#include "tests/support/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

extern char** environ;

namespace duet::test {
namespace {

// Unique names for the scratch files of concurrent children, also across
// test processes that share a scratch directory.
std::string NextScratchName(const char* stem) {
  static std::atomic<uint64_t> counter{0};
  return std::string(stem) + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// The environment of a child: ours, with `changes` applied.
std::vector<std::string> ChildEnvironment(const EnvChanges& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (changes.count(name) == 0) env.emplace_back(entry);
  }
  for (const auto& [name, value] : changes) {
    if (value.has_value()) env.push_back(name + "=" + *value);
  }
  return env;
}

}  // namespace

std::string Show(const std::vector<std::string>& argv, const RunResult& r) {
  std::string command;
  for (const std::string& arg : argv) command += (command.empty() ? "" : " ") + arg;
  if (!r.started) return "$ " + command + "\n(not started)";
  return "$ " + command + "\nexit " + std::to_string(r.exit_code) +
         (r.exited ? "" : " (killed by a signal)") + "\n--- stdout ---\n" + r.out +
         "\n--- stderr ---\n" + r.err;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

Process::Process(Process&& other) noexcept { *this = std::move(other); }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (running()) Wait(std::chrono::milliseconds(0));
    pid_ = other.pid_;
    argv_ = std::move(other.argv_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool Process::Start(const std::vector<std::string>& argv, const fs::path& cwd,
                    const fs::path& stdout_path, const fs::path& stderr_path,
                    const fs::path& stdin_path, const EnvChanges& env) {
  argv_ = argv;
  stdout_path_ = stdout_path;
  stderr_path_ = stderr_path;
  std::string in = stdin_path.empty() ? std::string("/dev/null") : stdin_path.string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (std::string& arg : args) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env_storage = ChildEnvironment(env);
  std::vector<char*> c_env;
  for (std::string& entry : env_storage) c_env.push_back(entry.data());
  c_env.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
    return false;
  }
  pid_ = pid;
  return true;
}

void Process::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

RunResult Process::Finish(int status) {
  RunResult result;
  result.started = true;
  result.exited = WIFEXITED(status);
  result.exit_code = result.exited ? WEXITSTATUS(status) : -WTERMSIG(status);
  result.out = ReadFile(stdout_path_);
  result.err = ReadFile(stderr_path_);
  pid_ = -1;
  return result;
}

bool Process::TryWait(RunResult* result) {
  if (!running()) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done != pid_) return false;
  *result = Finish(status);
  return true;
}

RunResult Process::Wait(std::chrono::milliseconds timeout) {
  RunResult result;
  if (!running()) return result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (TryWait(&result)) return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (TryWait(&result)) return result;
  if (timeout.count() > 0) {
    ADD_FAILURE() << "still running after " << timeout.count() << " ms, killed: "
                  << Show(argv_, RunResult{true, false, -1, ReadFile(stdout_path_),
                                           ReadFile(stderr_path_)});
  }
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return Finish(status);
}

RunResult RunProcess(const std::vector<std::string>& argv, const fs::path& cwd,
                     const fs::path& scratch, std::string_view stdin_text, const EnvChanges& env,
                     std::chrono::milliseconds timeout) {
  std::string name = NextScratchName(".run");
  fs::path in = scratch / (name + ".in");
  fs::path out = scratch / (name + ".out");
  fs::path err = scratch / (name + ".err");
  WriteFile(in, stdin_text);
  Process process;
  RunResult result;
  if (process.Start(argv, cwd, out, err, in, env)) result = process.Wait(timeout);
  std::error_code ec;
  fs::remove(in, ec);
  fs::remove(out, ec);
  fs::remove(err, ec);
  return result;
}
bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline,
               std::chrono::milliseconds interval) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace duet::test
