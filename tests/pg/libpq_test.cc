// The build links libpq (found with pkg-config) and it talks to a test
// server: the smallest check, for the code of the next issue that will use
// libpq for real. Only this test target links libpq (tests/layering).
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

#include "tests/support/pg_server.h"

namespace duet::test {
namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Connects with `conninfo` and checks that SELECT 1 answers 1.
void ExpectSelectOne(const std::string& conninfo) {
  Conn conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  ASSERT_NE(conn, nullptr);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
  EXPECT_EQ(PQserverVersion(conn.get()) / 10000, 15);
  Result result(PQexec(conn.get(), "SELECT 1"), &PQclear);
  ASSERT_EQ(PQresultStatus(result.get()), PGRES_TUPLES_OK) << PQerrorMessage(conn.get());
  ASSERT_EQ(PQntuples(result.get()), 1);
  EXPECT_EQ(std::string(PQgetvalue(result.get(), 0, 0)), "1");
}

TEST(Libpq, ConnectsWithAKeywordStringAndRunsSelectOne) {
  PgServer pg;
  Status s = pg.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectSelectOne(pg.ConnInfoWithPassword());
}

TEST(Libpq, ConnectsWithAUriAndRunsSelectOne) {
  PgServer pg;
  Status s = pg.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectSelectOne(pg.Uri() + "?password=" + pg.password());
}

}  // namespace
}  // namespace duet::test
