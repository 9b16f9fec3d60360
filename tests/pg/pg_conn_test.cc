// runtime/pg/pg_conn.h against a real PostgreSQL 15 server: statements with
// parameters, PostgreSQL's errors as duet's codes, and no password in any
// message.
#include "runtime/pg/pg_conn.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/pg_server.h"

namespace duet::pg {
namespace {

using test::PgServer;

class PgConnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = pg_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(pg_.ConnInfoWithPassword(), {.label = "fo"});
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(*conn) : nullptr;
  }
  PgServer pg_;
};

TEST_F(PgConnTest, RunsStatementsWithTextParametersAndNulls) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Run("CREATE TABLE t (id int PRIMARY KEY, name text)").ok());
  auto inserted = conn->Exec("INSERT INTO t VALUES ($1, $2), ($3, $4)",
                             {"1", "O'Brien \"x\"", "2", std::nullopt});
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(inserted->Affected(), 2);
  auto rows = conn->Exec("SELECT id, name FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows(), 2);
  ASSERT_EQ(rows->columns(), 2);
  EXPECT_EQ(rows->Text(0, 1), "O'Brien \"x\"");
  EXPECT_TRUE(rows->IsNull(1, 1));
  EXPECT_EQ(rows->Optional(1, 1), std::nullopt);
  EXPECT_EQ(conn->ServerVersion() / 10000, 15);
}

TEST_F(PgConnTest, QuotesIdentifiersAndLiteralsTheServerReadsBack) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  std::string name = "we\"ird name";
  ASSERT_TRUE(conn->Run("CREATE TABLE " + QuoteIdent(name) + " (v text)").ok());
  ASSERT_TRUE(
      conn->Run("INSERT INTO " + QuoteIdent(name) + " VALUES (" + QuoteLiteral("it's") + ")").ok());
  auto rows = conn->Exec("SELECT v FROM " + QuoteIdent(name));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "it's");
}

TEST_F(PgConnTest, MapsErrorClassesOntoCodes) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Run("CREATE TABLE t (id int PRIMARY KEY, n varchar(3))").ok());
  ASSERT_TRUE(conn->Run("INSERT INTO t VALUES (1, 'a')").ok());
  Status dup = conn->Exec("INSERT INTO t VALUES (1, 'b')", {}, "insert").status();
  EXPECT_EQ(dup.code(), StatusCode::kFailedPrecondition) << dup.ToString();
  EXPECT_TRUE(HasSqlState(dup, "23505")) << dup.ToString();
  EXPECT_NE(dup.message().find("postgresql (fo): insert:"), std::string::npos) << dup.ToString();
  Status too_long = conn->Exec("INSERT INTO t VALUES (2, 'abcd')").status();
  EXPECT_EQ(too_long.code(), StatusCode::kFailedPrecondition) << too_long.ToString();
  Status syntax = conn->Run("SELEC 1");
  EXPECT_EQ(syntax.code(), StatusCode::kInvalidArgument) << syntax.ToString();
  Status missing = conn->Exec("SELECT * FROM nope").status();
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument) << missing.ToString();
  EXPECT_EQ(ErrorCodeOf("40001"), StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf("40P01"), StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf("55P03"), StatusCode::kUnavailable);
  EXPECT_EQ(ErrorCodeOf("XX000"), StatusCode::kInternal);
}

TEST_F(PgConnTest, ATerminatedBackendIsUnavailable) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto pid = conn->Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto killed = pg_.AdminPsql("SELECT pg_terminate_backend(" + std::string(pid->Text(0, 0)) + ")");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  Status after = conn->Run("SELECT 1");
  EXPECT_EQ(after.code(), StatusCode::kUnavailable) << after.ToString();
  EXPECT_FALSE(conn->ok());
  EXPECT_EQ(conn->Socket(), -1);
}

TEST_F(PgConnTest, AServerThatIsDownIsUnavailable) {
  std::string conninfo = pg_.ConnInfoWithPassword();
  ASSERT_TRUE(pg_.Stop().ok());
  auto conn = Connection::Open(conninfo, {.label = "fo", .connect_timeout_seconds = 2});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kUnavailable) << conn.status().ToString();
  EXPECT_EQ(conn.status().message().find(pg_.password()), std::string::npos);
}

TEST_F(PgConnTest, AWrongPasswordIsRefusedWithoutShowingIt) {
  std::string wrong = "Wr0ngSecret-" + pg_.password();
  auto conn = Connection::Open(pg_.Uri() + "?password=" + wrong, {.label = "fo"});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), StatusCode::kInvalidArgument) << conn.status().ToString();
  EXPECT_EQ(conn.status().message().find(wrong), std::string::npos) << conn.status().ToString();
  EXPECT_EQ(conn.status().message().find(pg_.password()), std::string::npos);
}

TEST_F(PgConnTest, AReplicationConnectionSpeaksTheReplicationProtocol) {
  auto conn = Connection::Open(pg_.ConnInfoWithPassword(), {.label = "fo", .replication = true});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto system = (*conn)->Exec("IDENTIFY_SYSTEM");
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  EXPECT_EQ(system->rows(), 1);
  EXPECT_GE(system->columns(), 4);  // systemid, timeline, xlogpos, dbname
}

TEST_F(PgConnTest, SaysWhichSqlStateAndWhetherTheTransactionFailed) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->Run("CREATE TABLE t (id int PRIMARY KEY)").ok());
  ASSERT_TRUE(conn->Run("BEGIN; INSERT INTO t VALUES (1)").ok());
  EXPECT_FALSE(conn->InFailedTransaction());
  Status dup = conn->Run("INSERT INTO t VALUES (1)");
  EXPECT_EQ(SqlStateOf(dup), "23505") << dup.ToString();
  EXPECT_TRUE(conn->InFailedTransaction()) << "a COMMIT now would roll back";
  ASSERT_TRUE(conn->Run("ROLLBACK").ok());
  EXPECT_FALSE(conn->InFailedTransaction());
  EXPECT_EQ(SqlStateOf(Status::Ok()), "");
  EXPECT_EQ(SqlStateOf(InternalError("no state here")), "");
}

TEST_F(PgConnTest, AStatementBlockedBeyondTheStatementTimeoutIsUnavailable) {
  auto holder = Connect();
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Run("CREATE TABLE t (id int)").ok());
  ASSERT_TRUE(holder->Run("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE").ok());
  // Without a statement timeout this read waits for the lock for ever.
  auto conn =
      Connection::Open(pg_.ConnInfoWithPassword(), {.label = "fo", .statement_timeout_ms = 300});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto read = (*conn)->Exec("SELECT count(*) FROM t");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable) << read.status().ToString();
  EXPECT_EQ(SqlStateOf(read.status()), "57014") << read.status().ToString();
  ASSERT_TRUE(holder->Run("ROLLBACK").ok());
  EXPECT_TRUE((*conn)->Exec("SELECT count(*) FROM t").ok()) << "the session goes on";
}

TEST_F(PgConnTest, SetsAStatementTimeoutUnlessTheConnectionStringDoes) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto shown = conn->Exec("SHOW statement_timeout");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->Text(0, 0), "5min");
  auto own = Connection::Open(pg_.ConnInfoWithPassword() + " options='-cstatement_timeout=0'",
                              {.label = "fo", .statement_timeout_ms = 300});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  shown = (*own)->Exec("SHOW statement_timeout");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->Text(0, 0), "0");
}

}  // namespace
}  // namespace duet::pg
