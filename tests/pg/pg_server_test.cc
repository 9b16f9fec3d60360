// The PostgreSQL test servers (tests/support/pg_server.h) against real
// PostgreSQL 15: what every PostgreSQL test stands on. When PostgreSQL is
// not installed these tests fail, naming scripts/setup.sh; they never skip.
#include "tests/support/pg_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

namespace duet::test {
namespace {

#define ASSERT_OK(expr)                                                \
  do {                                                                 \
    const ::duet::Status assert_ok_status = (expr);                    \
    ASSERT_TRUE(assert_ok_status.ok()) << assert_ok_status.ToString(); \
  } while (0)

// What psql printed as the test role; a failure is a test failure.
std::string Sql(const PgServer& pg, std::string_view sql) {
  Expected<std::string> out = pg.Psql(sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString() << "\nSQL: " << sql;
  return out.ok() ? *out : std::string();
}

std::string Admin(const PgServer& pg, std::string_view sql) {
  Expected<std::string> out = pg.AdminPsql(sql);
  EXPECT_TRUE(out.ok()) << out.status().ToString() << "\nSQL: " << sql;
  return out.ok() ? *out : std::string();
}

// Whether `pid` is a live process (not gone, not a zombie).
bool Alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(PgServer, StartsAndPsqlCreatesATableAndReadsItBack) {
  PgServer pg;
  auto started = std::chrono::steady_clock::now();
  ASSERT_OK(pg.Start());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::cout << "[ pg ] Start took " << ms << " ms\n";
  RecordProperty("start_ms", static_cast<int>(ms));
  EXPECT_TRUE(pg.running());
  EXPECT_GE(pg.port(), 20000);
  EXPECT_LT(pg.port(), 32000);

  EXPECT_EQ(Sql(pg, "SELECT current_setting('server_version_num')::int / 10000"), "15");
  EXPECT_EQ(Sql(pg, "SELECT current_user, current_database()"), "duet|duet");
  EXPECT_EQ(Sql(pg,
                "CREATE TABLE t (id int PRIMARY KEY, name text);\n"
                "INSERT INTO t VALUES (1, 'a'), (2, 'b');"),
            "");
  EXPECT_EQ(Sql(pg, "SELECT id, name FROM t ORDER BY id"), "1|a\n2|b");

  // ON_ERROR_STOP: the first error ends the script and is reported.
  Expected<std::string> bad = pg.Psql(
      "INSERT INTO t VALUES (3, 'c');\nSELECT * FROM missing;\nINSERT INTO t VALUES (4, 'd');");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status().message(), "relation \"missing\" does not exist"))
      << bad.status().ToString();
  EXPECT_EQ(Sql(pg, "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,2,3");
}

TEST(PgServer, TwoServersRunAtOnceEachOnItsOwnPortAndSocket) {
  PgServer a;
  PgServer b;
  ASSERT_OK(a.Start());
  ASSERT_OK(b.Start());
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  EXPECT_EQ(Sql(a, "CREATE TABLE only_a (id int); SELECT to_regclass('only_a') IS NOT NULL"), "t");
  EXPECT_EQ(Sql(b, "SELECT to_regclass('only_a') IS NULL"), "t");
  // Each answers on its socket as well as on its port.
  RunResult r = b.RunPsql(b.SocketConnInfo(), b.password(),
                          "SELECT inet_server_port() IS NULL, current_setting('port')");
  EXPECT_EQ(r.exit_code, 0) << Show({"psql", b.SocketConnInfo()}, r);
  EXPECT_EQ(r.out, "t|" + std::to_string(b.port()) + "\n");
  EXPECT_TRUE(Contains(a.Uri(), ":" + std::to_string(a.port()) + "/")) << a.Uri();
}

TEST(PgServer, RestartKeepsDataAndPort) {
  PgServer pg;
  ASSERT_OK(pg.Start());
  int port = pg.port();
  Sql(pg, "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000);");
  ASSERT_OK(pg.Restart());
  EXPECT_TRUE(pg.running());
  EXPECT_EQ(pg.port(), port);
  EXPECT_EQ(Sql(pg, "SELECT count(*), sum(id) FROM t"), "1000|500500");
}

TEST(PgServer, StopImmediateThenStartRecoversCommittedData) {
  PgServer pg;
  ASSERT_OK(pg.Start());
  Sql(pg, "CREATE TABLE t (id int PRIMARY KEY, v text);");
  Admin(pg, "CHECKPOINT;");  // What follows is only in the WAL: recovery replays it.
  Sql(pg, "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g;");
  Sql(pg, "UPDATE t SET v = 'changed' WHERE id <= 10; DELETE FROM t WHERE id > 490;");
  std::optional<pid_t> pid = pg.PostmasterPid();
  ASSERT_TRUE(pid.has_value());

  ASSERT_OK(pg.StopImmediate());
  EXPECT_FALSE(pg.running());
  EXPECT_TRUE(PollUntil([&] { return !Alive(*pid); }, std::chrono::seconds(30)));
  EXPECT_FALSE(pg.Psql("SELECT 1").ok());

  ASSERT_OK(pg.Start());
  EXPECT_EQ(Sql(pg, "SELECT count(*), count(*) FILTER (WHERE v = 'changed') FROM t"), "490|10");
  EXPECT_TRUE(Contains(pg.LogTail(1 << 20), "database system was not properly shut down"))
      << "the restart after StopImmediate must be a crash recovery; log:\n"
      << pg.LogTail();
}

TEST(PgServer, TheTestRoleNeedsItsPassword) {
  PgServer pg;
  ASSERT_OK(pg.Start());
  for (const std::string& conninfo : {pg.ConnInfo(), pg.SocketConnInfo()}) {
    RunResult none = pg.RunPsql(conninfo, std::nullopt, "SELECT 1");
    EXPECT_NE(none.exit_code, 0) << Show({"psql", conninfo}, none);
    EXPECT_TRUE(Contains(none.err, "no password supplied")) << none.err;
    RunResult wrong = pg.RunPsql(conninfo, "not-" + pg.password(), "SELECT 1");
    EXPECT_NE(wrong.exit_code, 0) << Show({"psql", conninfo}, wrong);
    EXPECT_TRUE(Contains(wrong.err, "password authentication failed for user \"duet\""))
        << wrong.err;
    RunResult right = pg.RunPsql(conninfo, pg.password(), "SELECT 1");
    EXPECT_EQ(right.exit_code, 0) << Show({"psql", conninfo}, right);
  }
  // Stored as SCRAM-SHA-256; the role is no superuser but may replicate.
  EXPECT_EQ(Admin(pg,
                  "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid "
                  "WHERE rolname = 'duet'"),
            "t");
  EXPECT_EQ(Sql(pg, "SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user"),
            "f|t");
  // The superuser is reachable only over the socket, by the OS user of the
  // tests: over TCP it needs a password it does not have.
  std::string super = Admin(pg, "SELECT current_user");
  RunResult tcp_super =
      pg.RunPsql("host=127.0.0.1 port=" + std::to_string(pg.port()) + " dbname=duet user=" + super,
                 std::nullopt, "SELECT 1");
  EXPECT_NE(tcp_super.exit_code, 0) << tcp_super.out;
  // The connection strings a test hands out carry no password.
  for (const std::string& text : {pg.Uri(), pg.ConnInfo(), pg.SocketConnInfo()}) {
    EXPECT_FALSE(Contains(text, pg.password())) << text;
  }
  EXPECT_TRUE(Contains(pg.ConnInfoWithPassword(), pg.password()));
}

TEST(PgServer, LogicalDecodingWithPgoutputWorks) {
  PgServer pg;
  ASSERT_OK(pg.Start());
  EXPECT_EQ(Sql(pg, "SHOW wal_level"), "logical");
  EXPECT_EQ(Sql(pg,
                "SELECT slot_name FROM pg_create_logical_replication_slot('duet_test', "
                "'pgoutput')"),
            "duet_test");
  Sql(pg,
      "CREATE TABLE items (id int PRIMARY KEY, v text);\n"
      "CREATE PUBLICATION p FOR TABLE items;\n"
      "INSERT INTO items VALUES (1, 'x');");
  // pgoutput's messages, first byte each: Begin, Relation, Insert, Commit.
  EXPECT_EQ(Sql(pg,
                "SELECT string_agg(chr(get_byte(data, 0)), '' ORDER BY lsn) "
                "FROM pg_logical_slot_peek_binary_changes('duet_test', NULL, NULL, "
                "'proto_version', '1', 'publication_names', 'p')"),
            "BRIC");
  // A replication connection (walsender) is allowed for the role too.
  RunResult r =
      pg.RunPsql(pg.ConnInfo() + " replication=database", pg.password(), "IDENTIFY_SYSTEM;");
  EXPECT_EQ(r.exit_code, 0) << Show({"psql", "replication=database"}, r);
  EXPECT_EQ(Sql(pg, "SELECT pg_drop_replication_slot('duet_test')"), "");
}

TEST(PgServer, DestructorStopsTheServerAndRemovesItsDirectory) {
  fs::path dir;
  pid_t pid = 0;
  {
    PgServer pg;
    ASSERT_OK(pg.Start());
    dir = pg.dir();
    ASSERT_TRUE(pg.PostmasterPid().has_value());
    pid = *pg.PostmasterPid();
    EXPECT_TRUE(Alive(pid));
  }
  EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_TRUE(PollUntil([&] { return !Alive(pid); }, std::chrono::seconds(30)));
}

TEST(PgServer, AServerLeftByACrashedTestProcessIsStopped) {
  std::string pattern = (fs::temp_directory_path() / "duet-pg-crash-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  fs::path scratch = pattern;
  fs::path out = scratch / "left";
  RunResult r = RunProcess({DUET_PG_CRASH_HELPER, out.string()}, scratch, scratch);
  std::string left_text = ReadFile(out);
  fs::remove_all(scratch);
  ASSERT_EQ(r.exit_code, 0) << Show({DUET_PG_CRASH_HELPER}, r);
  std::istringstream left(left_text);
  std::string dir;
  pid_t pid = 0;
  ASSERT_TRUE(left >> dir >> pid) << left_text;
  ASSERT_TRUE(Alive(pid)) << "the helper's server should still run";
  ASSERT_TRUE(fs::exists(dir));

  EXPECT_GE(SweepLeftoverServers(), 1);
  EXPECT_FALSE(fs::exists(dir)) << dir;
  EXPECT_TRUE(PollUntil([&] { return !Alive(pid); }, std::chrono::seconds(30)));
}

TEST(PgServer, WithoutPostgresqlStartFailsNamingTheSetupScript) {
  PgServerOptions options;
  options.bin_dir = "/nonexistent/postgresql/15/bin";
  PgServer pg(options);
  Status s = pg.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "scripts/setup.sh")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "/nonexistent/postgresql/15/bin/initdb")) << s.ToString();
}

}  // namespace
}  // namespace duet::test
