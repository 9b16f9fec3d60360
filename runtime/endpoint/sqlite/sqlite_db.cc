#include "runtime/endpoint/sqlite/sqlite_db.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

namespace duet::sqlite {
namespace {

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

Expected<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create, std::string label) {
  if (!create) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return NotFoundError(label + ": database file '" + path + "' does not exist");
    }
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return UnavailableError(label + ": cannot open '" + path + "': " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  // Applications and duet write the same files; wait for their locks rather
  // than fail.
  sqlite3_busy_timeout(db, 30000);
  return std::unique_ptr<Db>(new Db(db, std::move(label)));
}

Status Classified(int code, std::string message) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      return UnavailableError(std::move(message));
    default:
      return IoError(std::move(message));
  }
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt->get());
  sqlite3_close_v2(db_);
}

Status Db::Exec(std::string_view sql) {
  char* error = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    return Classified(sqlite3_extended_errcode(db_), label_ + ": " + message);
  }
  return Status::Ok();
}

Expected<Statement*> Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, &tail) != SQLITE_OK) {
    return Error("cannot prepare '" + sql + "'");
  }
  // One statement: text after it would be ignored, never run.
  if (!stmt || !IsBlank(std::string_view(tail, sql.c_str() + sql.size() - tail))) {
    sqlite3_finalize(stmt);
    return InvalidArgumentError(label_ + ": cannot prepare '" + sql +
                                "': expected exactly one statement");
  }
  auto [pos, inserted] = cache_.emplace(sql, std::make_unique<Statement>(stmt));
  return pos->second.get();
}

Status Db::Run(Statement& s) {
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    Status error = Error("statement failed", rc);
    s.Reset();
    return error;
  }
  s.Reset();
  return Status::Ok();
}

Status Db::Error(std::string_view what) const { return Error(what, sqlite3_errcode(db_)); }

Status Db::Error(std::string_view what, int code) const {
  std::string message = label_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_);
  return Classified(code, std::move(message));
}

}  // namespace duet::sqlite
