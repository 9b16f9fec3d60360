// The end-to-end harness for the sync runtime: the real duetc, duet and
// sqlite3 binaries run as separate processes (posix_spawn), each test in a
// temporary directory of its own, the way an operator and two applications
// would use them. Nothing here links duet code: the tests see only exit
// codes, output and database contents, as docs/sync.md describes them.
//
// Binaries: DUET_E2E_DUETC, DUET_E2E_DUET, DUET_E2E_SQLITE3 and
// DUET_E2E_MAPS_DIR are compiled in by tests/e2e/CMakeLists.txt; the
// environment variables DUETC, DUET, SQLITE3 override them.
//
// DUET_E2E_KEEP=1 keeps each test's directory (its path is printed) for
// inspection after a failure; by default it is kept only when the test fails.
#ifndef DUET_TESTS_E2E_HARNESS_H_
#define DUET_TESTS_E2E_HARNESS_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/pg_server.h"
#include "tests/support/process.h"

namespace duet::e2e {

namespace fs = std::filesystem;

// Where the tools are; each is an absolute path.
struct Tools {
  std::string duetc;
  std::string duet;
  std::string sqlite3;
  std::string maps_dir;  // tests/e2e/maps in the source tree
};
const Tools& GetTools();

// docs/sync.md's exit codes of `duet run --once` (and the other commands).
constexpr int kExitOk = 0;
constexpr int kExitRowErrors = 1;  // caught up, but rows are in the error queue
constexpr int kExitError = 2;      // usage, configuration, schema, I/O

// Running programs: tests/support/process.h.
using test::EnvChanges;
using test::PollUntil;
using test::Process;
using test::ReadFile;
using test::RunProcess;
using test::RunResult;
using test::Show;
using test::WriteFile;

// An application that holds a database's write lock: a sqlite3 process of
// its own that begins an IMMEDIATE transaction, writes, and commits only
// when released. The destructor kills a holder not released.
class LockHolder {
 public:
  // Starts it on `db` (files go to `dir`); true once it holds the lock.
  bool Hold(const fs::path& db, const fs::path& dir);
  // Commits and waits for the process to end.
  void Release();

 private:
  Process process_;
  fs::path release_;
};

// A table's rows as text, one vector of columns per row; null is "NULL"
// (the workloads never write that text).
using Rows = std::vector<std::vector<std::string>>;
std::string FormatRows(const Rows& rows);

// One SQLite database file, used through the sqlite3 command-line client as
// an application (or a DBA) would. Statements run with `.timeout` set, so an
// application write waits for duet's write transaction instead of failing
// with SQLITE_BUSY, and with -bail, so the first error fails the call.
class Sqlite {
 public:
  Sqlite() = default;
  Sqlite(fs::path db, fs::path scratch) : db_(std::move(db)), scratch_(std::move(scratch)) {}

  const fs::path& path() const { return db_; }

  // Runs `sql` (any number of statements, given on stdin); records a test
  // failure with sqlite3's message when it fails. Returns success.
  bool Exec(std::string_view sql) const;
  // Like Exec, but returns the result for tests that expect an error.
  RunResult TryExec(std::string_view sql) const;
  // Runs one query and returns its rows; a failure is a test failure (and
  // no rows).
  Rows Query(std::string_view sql) const;
  // Like Query, but an error (no such table yet, no file yet) is no test
  // failure: it returns nullopt. For polling a state store that duet creates.
  std::optional<Rows> TryQuery(std::string_view sql) const;
  // The single value of a one-row, one-column query ("" when no row).
  std::string Value(std::string_view sql) const;
  int64_t Int(std::string_view sql) const;
  // `SELECT type, name, tbl_name, sql FROM sqlite_master` in a stable order.
  Rows Schema() const;

 private:
  std::optional<Rows> QueryImpl(std::string_view sql, bool report) const;

  fs::path db_;
  fs::path scratch_;
};

// The newest seq of duet's changelog in `db` (0 when it is empty): what
// the changes an application makes next come after.
int64_t ChangelogEnd(const Sqlite& db);
// Sets the capture time of the changes in `db`'s changelog after `after_seq`
// to `unix_ms` (milliseconds since the Unix epoch, the changelog's unit):
// for tests of the `newest` rule, which compares capture times, without
// waiting for the clock.
void SetCaptureTime(const Sqlite& db, int64_t after_seq, int64_t unix_ms);

// Escapes `text` as an SQL string literal, quotes included.
std::string Quote(std::string_view text);
// NULL or Quote(*text).
std::string QuoteOrNull(const std::optional<std::string>& text);

// Whether the duet binary has the subcommand `command` (`r` is the probe's
// output); the sync commands arrive with the runtime engine.
bool DuetHasCommand(const std::string& command, const fs::path& scratch, RunResult* r);

// A seed from `env_var` when set, else from the clock; printed by callers.
uint64_t SeedFrom(const char* env_var);

// The base fixture: a temporary directory with fo.db, ce.db and
// state.db, a bundle compiled by duetc from tests/e2e/maps, a duet.json,
// and `duet` run against it. SetUp fails the test with a clear message when
// the duet binary does not have the sync commands yet.
class E2eTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Compiles map files of tests/e2e/maps (by file name) into dir_/maps.duetb
  // with duetc; fails the test when duetc does.
  void Compile(const std::vector<std::string>& map_files);

  // The workload map tests/e2e/maps/items.duet: compiled, and its tables
  // made on both sides (schemas.h); fails the test when that does not work.
  void UseItems();

  // Writes dir_/duet.json with the bundle, both systems, the state store
  // and `extra` keys (e.g. {"lookup_timeout_seconds": 0}); relative paths,
  // as an operator would write them. The code cache is per test directory.
  void WriteConfig(const nlohmann::json& extra = nlohmann::json::object());
  // Writes `text` as dir_/duet.json verbatim (for configuration errors).
  void WriteConfigText(std::string_view text);
  fs::path config() const { return dir_ / "duet.json"; }

  // Runs `duet COMMAND -c duet.json ARGS...` in dir_ and returns the result.
  // `timeout` bounds a command that should exit by itself (a `run` without
  // --once that must refuse to start); a hung duet then fails the test.
  RunResult Duet(const std::string& command, const std::vector<std::string>& args = {},
                 const EnvChanges& env = {},
                 std::chrono::milliseconds timeout = std::chrono::minutes(3));
  // Runs duet and checks its exit code; the output is shown when it differs.
  RunResult DuetExpect(int exit_code, const std::string& command,
                       const std::vector<std::string>& args = {});
  void Install() { DuetExpect(kExitOk, "install"); }
  // `duet run --once`, expecting `exit_code` (0 unless rows are in the queue).
  RunResult RunOnce(int exit_code = kExitOk) { return DuetExpect(exit_code, "run", {"--once"}); }
  // Starts `duet run -c duet.json` (live sync) in the background; its
  // output goes to dir_/run-N.{out,err}.
  Process StartRun();
  // SIGTERM, then the exit code must be 0 (docs/sync.md: stopped between
  // batches).
  void StopRun(Process& run);
  // SIGKILL, then reaps the child.
  void KillRun(Process& run);
  // `duet status --json`, parsed; a failure is a test failure (and null).
  nlohmann::json StatusJson();

  // Open (or all) error-queue items of `map`: kind, system, status, reason,
  // row_id, source_row.
  Rows ErrorItems(const std::string& map, bool open_only = true) const;
  int64_t OpenErrors() const;

  fs::path dir_;
  Sqlite fo_;
  Sqlite ce_;
  Sqlite state_;
  // Set in the environment of every duet process the fixture starts (Duet,
  // StartRun), under what a call gives.
  EnvChanges env_;
  // stdout and stderr of every Duet call, for tests that look for what must
  // never be printed (StartRun's output is in dir_/run-N.{out,err}).
  std::string printed_;

 private:
  int runs_ = 0;
};

// E2eTest with a throwaway PostgreSQL 15 server (tests/support/pg_server.h)
// started before the test. The server's password is in every duet process's
// environment as DUET_PG_PASSWORD (PgUrl refers to it), and TearDown fails
// the test when it appears in anything duet printed: every Duet call's
// output and every file of dir_ ending in .out or .err.
class PgE2eTest : public E2eTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A postgresql:// URL of `database` on the server for duet.json, with the
  // password as ${DUET_PG_PASSWORD}; `search_path` as its first schema when
  // not empty.
  std::string PgUrl(std::string_view database, std::string_view search_path = {}) const;
  // Creates `database`, owned by the test role, with the replication origin
  // functions granted (what a system on it needs).
  void CreateDatabase(std::string_view database);
  // psql as the test role in `database`: what it printed (rows, '|' between
  // columns); a failure is a test failure (and "").
  std::string PsqlIn(std::string_view database, std::string_view sql) const;
  // The same, returning psql's error instead.
  Expected<std::string> TryPsqlIn(std::string_view database, std::string_view sql) const;
  // `duetc schema --dialect postgresql --system SYSTEM` for map files of
  // tests/e2e/maps; a failure is a test failure (and "").
  std::string PgSchema(const std::vector<std::string>& map_files, const std::string& system);

  test::PgServer pg_;
};

}  // namespace duet::e2e

#endif  // DUET_TESTS_E2E_HARNESS_H_
