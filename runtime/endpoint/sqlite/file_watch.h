// Wake-ups when a SQLite database's files are written: inotify on the
// directory that holds the database, filtered to the database file, its
// WAL and its rollback journal (a watch on the directory survives the WAL
// being deleted and made again). Linux only; elsewhere, or when inotify is
// unavailable (no instances left), fd() is -1 and the endpoint is polled.
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_FILE_WATCH_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_FILE_WATCH_H_

#include <string>

namespace duet::sqlite {

class FileWatch {
 public:
  explicit FileWatch(const std::string& db_path);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Readable when an event is queued; -1 when there is no watch.
  int fd() const { return fd_; }
  // Reads every queued event without blocking; whether one of them was
  // about the database's files (the others are other files of the
  // directory).
  bool Drain();

 private:
  int fd_ = -1;
  std::string name_;  // the database file's name in its directory
};

}  // namespace duet::sqlite

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_FILE_WATCH_H_
