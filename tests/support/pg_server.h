// Throwaway PostgreSQL 15 servers for tests: each PgServer is a cluster of
// its own in a private temporary directory, started by the test and always
// stopped and removed by the destructor, so a test never depends on a server
// left running (docs/architecture.md, "PostgreSQL test servers").
//
//   PgServer pg;
//   ASSERT_TRUE(pg.Start().ok());        // fails naming scripts/setup.sh when
//                                        // PostgreSQL 15 is not installed
//   pg.Psql("CREATE TABLE t (id int)");  // the real psql, as the test role
//   pg.Uri();                            // postgresql://duet@127.0.0.1:PORT/duet
//   pg.password();                       // the test role's password
//
// What a server is:
// - A copy (cp -a) of a template cluster that initdb made once and that is
//   shared by every test process of the same PostgreSQL and harness version
//   (TEMP/duet-pg-template-HASH): initdb costs seconds, the copy a fraction.
// - Run by the `postgres` OS user (through runuser) when the tests run as
//   root, as CI does, because initdb and postgres refuse to run as root; by
//   the current user otherwise.
// - Listening on 127.0.0.1 at a free port (from 20000 to 31999, below the
//   kernel's ephemeral range) and on a unix socket in its private directory.
// - wal_level=logical with replication slots and WAL senders, so logical
//   decoding with pgoutput works; fsync=off (see pg_server.cc for why that
//   is safe for the crash tests: StopImmediate is a process crash, not an
//   OS crash).
// - A database `duet` owned by a role `duet` (LOGIN REPLICATION, not a
//   superuser) with a password (SCRAM-SHA-256); every TCP and socket
//   connection must give it. The OS user running the tests is the cluster's
//   superuser over the socket only (peer authentication), for AdminPsql.
//
// A server left by a test process that crashed (or was killed by a ctest
// timeout) is found by its private directory, whose owner process is gone:
// the first Start of each test process stops it and removes its directory.
// When the test has failed, or DUET_PG_KEEP=1 is set, the destructor stops
// the server but keeps its directory (the path is printed) for inspection.
//
// Programs: DUET_PG_BINDIR (default /usr/lib/postgresql/15/bin) holds
// initdb, pg_ctl, postgres, pg_isready and psql.
//
// Errors are Status values (runtime/base/status.h); nothing throws.
#ifndef DUET_TESTS_SUPPORT_PG_SERVER_H_
#define DUET_TESTS_SUPPORT_PG_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/status.h"
#include "tests/support/process.h"

namespace duet::test {

struct PgServerOptions {
  // Where the PostgreSQL programs are; empty: DUET_PG_BINDIR or the Debian
  // path of PostgreSQL 15.
  fs::path bin_dir;
  // More postgresql.conf settings, written after the defaults (so they win):
  // {"shared_buffers", "'256MB'"}; values as the file takes them.
  std::vector<std::pair<std::string, std::string>> settings;
  // How long Start waits for the server to accept connections.
  std::chrono::milliseconds start_deadline = std::chrono::seconds(60);
};

class PgServer {
 public:
  explicit PgServer(PgServerOptions options = {});
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  // Stops the server (fast, else immediate) and removes its directory.
  ~PgServer();

  // The first call makes the cluster and starts it; after Stop or
  // StopImmediate it starts the same cluster again (on the same port), which
  // after StopImmediate means crash recovery. Returns once the server
  // accepts connections (polled with pg_isready), or an error with the end
  // of the server's log. OK when already running.
  Status Start();
  // `pg_ctl stop -m fast`: a clean shutdown. OK when not running.
  Status Stop();
  // `pg_ctl stop -m immediate`: every server process quits at once, without
  // a shutdown checkpoint, as in a crash. OK when not running.
  Status StopImmediate();
  // Stop, then Start.
  Status Restart();

  bool running() const { return running_; }
  int port() const { return port_; }
  // The private directory: the data directory (data/), the unix socket,
  // the server's log (server.log).
  const fs::path& dir() const { return dir_; }
  fs::path data_dir() const { return dir_ / "data"; }
  fs::path log_file() const { return dir_ / "server.log"; }
  // The PID of the running postmaster (from data/postmaster.pid).
  std::optional<pid_t> PostmasterPid() const;
  // The end of the server's log, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

  // The test role, its database and its password.
  static constexpr std::string_view kUser = "duet";
  static constexpr std::string_view kDatabase = "duet";
  const std::string& password() const { return password_; }

  // Connection strings without the password:
  // postgresql://duet@127.0.0.1:PORT/duet and
  // "host=127.0.0.1 port=PORT dbname=duet user=duet".
  std::string Uri() const;
  std::string ConnInfo() const;
  // The same over the unix socket: "host=DIR port=PORT dbname=duet user=duet".
  std::string SocketConnInfo() const;
  // ConnInfo() plus " password=...", for libpq in tests.
  std::string ConnInfoWithPassword() const;

  // Runs `sql` (any number of statements, on stdin) with the real psql
  // client as the test role over TCP: `psql -X -A -t -q -w -v
  // ON_ERROR_STOP=1`. Returns what it printed (rows, '|' between columns),
  // or an error with psql's exit code and stderr.
  Expected<std::string> Psql(std::string_view sql) const;
  // The same as the cluster's superuser, over the socket, in `database`
  // (the test database when empty): roles, grants, settings.
  Expected<std::string> AdminPsql(std::string_view sql, std::string_view database = {}) const;
  // Ends the sessions whose application_name is `application_name` (no
  // quote in it) with pg_terminate_backend, as an operator would; how many.
  Expected<int> TerminateSessions(std::string_view application_name) const;
  // Grants the test role the replication origin functions, which
  // PostgreSQL 15 lets only superusers use otherwise and duet's write
  // transactions need (docs/postgresql.md, "Privileges and server
  // settings"); in `database` (the test database when empty), since
  // function privileges are per database.
  Status GrantReplicationOrigins(std::string_view database = {}) const;
  // psql with exactly `conninfo`, given `password` through PGPASSWORD (none
  // when nullopt), for tests of what a connection needs. The environment is
  // cleared of every PG* variable, and ~/.pgpass is not read.
  RunResult RunPsql(std::string_view conninfo, const std::optional<std::string>& password,
                    std::string_view sql) const;

 private:
  Status Create();
  Status Launch();
  Status PgCtlStop(const char* mode);
  Status WriteServerConf();

  PgServerOptions options_;
  fs::path bin_dir_;
  fs::path dir_;
  std::string password_;
  int port_ = 0;
  bool created_ = false;
  bool running_ = false;
  bool launched_ = false;  // started at least once: restarts keep the port
};

// Stops the servers, and removes the directories, that test processes which
// are gone left behind (found by the owner file in each private directory).
// Start calls it once per process; returns how many directories it removed.
int SweepLeftoverServers(const fs::path& bin_dir = {});

}  // namespace duet::test

#endif  // DUET_TESTS_SUPPORT_PG_SERVER_H_
