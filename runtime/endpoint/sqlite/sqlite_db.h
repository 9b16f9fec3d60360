// A thin RAII layer over the sqlite3 C API shared by the SQLite endpoint and
// the state store: a connection with a prepared-statement cache, statements
// with typed binds, and errors as Status.
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_DB_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "runtime/base/status.h"
#include "runtime/endpoint/sqlite/sql_quote.h"

namespace duet::sqlite {

// A failure of SQLite as a Status: Unavailable when waiting and trying
// again may help (a lock held too long, I/O, a full disk, a file that cannot
// be opened), IoError otherwise.
Status Classified(int code, std::string message);

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* get() const { return stmt_; }

  // Binds are 1-based, like sqlite3_bind_*.
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  // For text that outlives the statement's next step and reset: SQLite
  // keeps the pointer instead of a copy.
  void BindTextNoCopy(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

  // SQLITE_ROW, SQLITE_DONE or an error code (see Db::Error).
  int Step() { return sqlite3_step(stmt_); }
  void Reset(bool clear_bindings = true) {
    sqlite3_reset(stmt_);
    if (clear_bindings) sqlite3_clear_bindings(stmt_);
  }

  int64_t ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  double ColumnDouble(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string_view ColumnText(int i) const {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string_view();
  }
  std::string_view ColumnBlob(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    return p ? std::string_view(static_cast<const char*>(p),
                                static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string_view();
  }
  int ColumnType(int i) const { return sqlite3_column_type(stmt_, i); }

 private:
  sqlite3_stmt* stmt_;
};

// Resets a cached statement when it goes out of scope, so its read lock and
// bindings never outlive the code that used it.
class ScopedStatement {
 public:
  // `clear_bindings` false: for statements that bind every parameter before
  // each step, which saves freeing and copying the bound values again.
  explicit ScopedStatement(Statement* s, bool clear_bindings = true)
      : s_(s), clear_bindings_(clear_bindings) {}
  ~ScopedStatement() {
    if (s_) s_->Reset(clear_bindings_);
  }
  ScopedStatement(const ScopedStatement&) = delete;
  ScopedStatement& operator=(const ScopedStatement&) = delete;
  Statement* operator->() const { return s_; }
  Statement& operator*() const { return *s_; }

 private:
  Statement* s_;
  bool clear_bindings_;
};

class Db {
 public:
  // Opens an existing file (create = false) or creates it. `label` names the
  // database in messages ("fo (sqlite:erp.db)").
  static Expected<std::unique_ptr<Db>> Open(const std::string& path, bool create,
                                            std::string label);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& label() const { return label_; }

  // Runs statements with no results.
  Status Exec(std::string_view sql);
  // A cached prepared statement; the pointer stays valid while the Db lives.
  Expected<Statement*> Prepare(const std::string& sql);
  // Step to completion, ignoring rows.
  Status Run(Statement& s);

  // The last error as a Status naming this database and `what` (see
  // Classified).
  Status Error(std::string_view what) const;
  Status Error(std::string_view what, int code) const;

 private:
  Db(sqlite3* db, std::string label) : db_(db), label_(std::move(label)) {}
  sqlite3* db_;
  std::string label_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

}  // namespace duet::sqlite

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_SQLITE_DB_H_
