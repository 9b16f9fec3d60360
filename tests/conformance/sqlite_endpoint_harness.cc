// The SQLite harness of the endpoint conformance suite: a database file in a
// temporary directory, and applications that write to it with the sqlite3 C
// API on connections of their own, as the sqlite3 shell would.
#include <sqlite3.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "runtime/endpoint/open_endpoint.h"
#include "tests/conformance/endpoint_harness.h"

namespace duet::conformance {
namespace {

namespace fs = std::filesystem;

Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return Status::Ok();
  std::string message = error ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return InternalError(sql + ": " + message);
}

class SqliteApp : public AppSession {
 public:
  explicit SqliteApp(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  }
  ~SqliteApp() override {
    if (thread_.joinable()) thread_.join();
    sqlite3_close(db_);
  }
  Status Exec(const std::string& sql) override { return conformance::Exec(db_, sql); }
  Status Begin() override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }

  Status StartBlockedWrite(const std::string& sql) override {
    sqlite3_busy_handler(db_, &SqliteApp::OnBusy, this);
    thread_ = std::thread([this, sql] {
      Status s = Exec(sql);
      std::lock_guard<std::mutex> lock(mu_);
      outcome_ = s;
      done_ = true;
      cv_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return blocked_ || done_; });
    if (blocked_) return Status::Ok();
    return FailedPreconditionError("the write did not wait for a lock: " + outcome_.ToString());
  }
  Status WaitDone() override {
    if (thread_.joinable()) thread_.join();
    return outcome_;
  }

 private:
  // Called while the write waits for the lock: says so once, then keeps
  // waiting (up to about a minute, so that a broken test ends).
  static int OnBusy(void* self, int count) {
    auto* app = static_cast<SqliteApp*>(self);
    {
      std::lock_guard<std::mutex> lock(app->mu_);
      app->blocked_ = true;
      app->cv_.notify_all();
    }
    sqlite3_sleep(1);
    return count < 60000;
  }

  sqlite3* db_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  bool done_ = false;
  Status outcome_;
};

class SqliteHarness : public EndpointHarness {
 public:
  SqliteHarness() {
    std::string pattern = (fs::temp_directory_path() / "duet_conformance_XXXXXX").string();
    if (::mkdtemp(pattern.data())) dir_ = pattern;
    path_ = (fs::path(dir_) / "fo.db").string();
  }
  ~SqliteHarness() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  Status CreateDatabase() override {
    if (dir_.empty()) return InternalError("no temporary directory");
    sqlite3* db = nullptr;
    if (sqlite3_open(path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return InternalError("cannot create " + path_);
    }
    Status s = Exec(db,
                    "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE customer (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
                    " name TEXT, credit TEXT);"
                    "CREATE TABLE contact (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,"
                    " customer_code TEXT);"
                    "CREATE TABLE account (accountid TEXT PRIMARY KEY, name TEXT);"
                    "CREATE TABLE line (order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,"
                    " qty INTEGER, PRIMARY KEY (order_no, line_no)) WITHOUT ROWID;");
    sqlite3_close(db);
    return s;
  }

  Expected<std::unique_ptr<endpoint::Endpoint>> Open(const bundle::Manifest& manifest) override {
    return endpoint::OpenEndpoint("sqlite:" + path_, "fo", manifest);
  }

  std::string UpsertAccount(const std::string& id, const std::string& name) override {
    return "INSERT OR REPLACE INTO account (accountid, name) VALUES ('" + id + "', '" + name + "')";
  }

  std::unique_ptr<AppSession> App() override { return std::make_unique<SqliteApp>(path_); }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace

std::vector<HarnessFactory> Harnesses() {
  return {{"sqlite", [] { return std::make_unique<SqliteHarness>(); }}};
}

}  // namespace duet::conformance
