#include "runtime/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

namespace duet {
namespace {

std::string Reason(int error) { return std::strerror(error); }

Status WriteError(const std::string& path, int error) {
  return IoError("cannot write '" + path + "': " + Reason(error));
}

// A name no other process uses: the target's, hidden, with a random suffix.
std::string TemporaryName(const std::string& path) {
  std::filesystem::path p(path);
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random()));
  return (p.parent_path() / ("." + p.filename().string() + "." + suffix + ".tmp")).string();
}

// Creates a new file of a unique name next to `path`; the descriptor and
// its name, or the errno of the last attempt.
int CreateTemporary(const std::string& path, mode_t mode, std::string* name) {
  constexpr int kAttempts = 16;
  for (int i = 0; i < kAttempts; ++i) {
    *name = TemporaryName(path);
    int fd = ::open(name->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view bytes, mode_t mode) {
  std::string temporary;
  int fd = CreateTemporary(path, mode, &temporary);
  if (fd < 0) return WriteError(path, errno);
  // The umask may have taken bits away from a private mode, never added
  // any; fchmod makes it exact.
  bool ok = (mode != kPrivateFileMode || ::fchmod(fd, mode) == 0) && WriteAll(fd, bytes) &&
            ::fsync(fd) == 0;
  int error = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    error = errno;
  }
  if (ok && ::rename(temporary.c_str(), path.c_str()) != 0) {
    ok = false;
    error = errno;
  }
  if (!ok) {
    ::unlink(temporary.c_str());
    return WriteError(path, error);
  }
  return Status::Ok();
}

Expected<int> OpenPrivateFile(const std::string& path, int flags, std::string_view what) {
  int fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd >= 0) {
    if (::fchmod(fd, kPrivateFileMode) != 0) {
      int error = errno;
      ::close(fd);
      return IoError("cannot create " + std::string(what) + " '" + path + "': " + Reason(error));
    }
    return fd;
  }
  if (errno == EEXIST) fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return IoError("cannot open " + std::string(what) + " '" + path + "': " + Reason(errno));
  }
  return fd;
}

}  // namespace duet
