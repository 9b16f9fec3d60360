#include "runtime/endpoint/sqlite/file_watch.h"

#include <filesystem>

#ifdef __linux__
#include <sys/inotify.h>
#include <unistd.h>
#endif

namespace duet::sqlite {

#ifdef __linux__

FileWatch::FileWatch(const std::string& db_path) {
  std::filesystem::path path = std::filesystem::absolute(db_path);
  name_ = path.filename().string();
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  uint32_t mask = IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_CLOSE_WRITE;
  if (::inotify_add_watch(fd_, path.parent_path().c_str(), mask) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

FileWatch::~FileWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileWatch::Drain() {
  if (fd_ < 0) return false;
  bool ours = false;
  alignas(struct inotify_event) char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n <= 0) return ours;  // EAGAIN: drained
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) {
        ours = true;  // events were lost: any of them may have been ours
        continue;
      }
      if (event->len == 0) continue;
      std::string name(event->name);
      ours = ours || name == name_ || name == name_ + "-wal" || name == name_ + "-journal";
    }
  }
}

#else

FileWatch::FileWatch(const std::string&) {}
FileWatch::~FileWatch() = default;
bool FileWatch::Drain() { return false; }

#endif

}  // namespace duet::sqlite
