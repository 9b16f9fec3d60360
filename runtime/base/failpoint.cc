#include "runtime/base/failpoint.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace duet {
namespace {

enum class Action { kError, kFail, kKill, kWait };

struct Armed {
  Action action = Action::kError;
  long on_hit = 1;  // acts on this hit only
  long hits = 0;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Armed, std::less<>> points;
  std::string dir;
};

// Parses DUET_FAILPOINTS once; an entry it cannot read is ignored (the
// tests that set it check, through the .hit files, that their points acted).
Registry& Points() {
  static Registry* registry = [] {
    auto* r = new Registry;
    if (const char* dir = std::getenv("DUET_FAILPOINTS_DIR")) r->dir = dir;
    const char* spec = std::getenv("DUET_FAILPOINTS");
    std::string_view rest = spec ? spec : "";
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view entry = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      size_t eq = entry.find('=');
      if (eq == std::string_view::npos) continue;
      std::string name(entry.substr(0, eq));
      std::string_view action = entry.substr(eq + 1);
      Armed armed;
      if (size_t at = action.find('@'); at != std::string_view::npos) {
        armed.on_hit = std::strtol(std::string(action.substr(at + 1)).c_str(), nullptr, 10);
        action = action.substr(0, at);
      }
      if (action == "error") {
        armed.action = Action::kError;
      } else if (action == "fail") {
        armed.action = Action::kFail;
      } else if (action == "kill") {
        armed.action = Action::kKill;
      } else if (action == "wait") {
        armed.action = Action::kWait;
      } else {
        continue;
      }
      r->points[name] = armed;
    }
    return r;
  }();
  return *registry;
}

void RecordHit(const std::string& dir, std::string_view name) {
  if (dir.empty()) return;
  std::string path = dir + "/" + std::string(name) + ".hit";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string line = std::to_string(::getpid()) + "\n";
  ssize_t written = ::write(fd, line.data(), line.size());
  (void)written;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

Status Failpoint(std::string_view name) {
  static const bool any = std::getenv("DUET_FAILPOINTS") != nullptr;
  if (!any) return Status::Ok();
  Registry& r = Points();
  Action action;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.points.find(name);
    if (it == r.points.end() || ++it->second.hits != it->second.on_hit) return Status::Ok();
    action = it->second.action;
  }
  RecordHit(r.dir, name);
  std::string what = "failpoint " + std::string(name);
  switch (action) {
    case Action::kError:
      return UnavailableError(what);
    case Action::kFail:
      return InternalError(what);
    case Action::kKill:
      ::kill(::getpid(), SIGKILL);
      return InternalError(what);  // not reached
    case Action::kWait: {
      // Polls a file the test creates; a test-only path, never taken in
      // production (nothing arms it there).
      std::string go = r.dir + "/" + std::string(name) + ".go";
      struct stat st;
      while (::stat(go.c_str(), &st) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace duet
