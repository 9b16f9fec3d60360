// A system on PostgreSQL end to end (issue 15; docs/postgresql.md): the real
// duet with `fo` a postgresql:// URL whose password comes from the
// environment, `ce` and the state store on SQLite, psql and the sqlite3
// client as the applications, and a throwaway PostgreSQL 15 server
// (tests/support/pg_server.h). install, initial sync from PostgreSQL, and
// changes both ways with `duet run --once`; the known password is looked
// for in everything duet printed, and never found.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using testing::HasSubstr;
using testing::Not;

class PgEndpointTest : public PgE2eTest {
 protected:
  void SetUp() override {
    PgE2eTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(pg_.GrantReplicationOrigins().ok());
    Compile({"items.duet"});
    ASSERT_TRUE(pg_.Psql(kItemsFoPg).ok());
    ASSERT_TRUE(ce_.Exec(kItemsCe));
    E2eTest::WriteConfig({{"systems",
                           {{"fo", "postgresql://duet:${DUET_FO_PASSWORD}@127.0.0.1:" +
                                       std::to_string(pg_.port()) + "/duet"},
                            {"ce", "sqlite:ce.db"}}}});
  }

  // `duet COMMAND ARGS...` with the password in the environment, expecting
  // `exit_code`; everything it printed is kept for the password check.
  RunResult Run(int exit_code, const std::string& command,
                const std::vector<std::string>& args = {}) {
    RunResult r = Duet(command, args, {{"DUET_FO_PASSWORD", pg_.password()}});
    std::vector<std::string> argv = {"duet", command};
    argv.insert(argv.end(), args.begin(), args.end());
    EXPECT_EQ(r.exit_code, exit_code) << Show(argv, r);
    return r;
  }
  void Fo(const std::string& sql) {
    Expected<std::string> out = pg_.Psql(sql);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }
  std::string FoItems() {
    Expected<std::string> out = pg_.Psql(
        "SELECT string_agg(\"CODE\" || ':' || coalesce(\"NAME\", '') || ':' ||"
        " coalesce(\"QTY\"::text, '') || ':' || coalesce(\"STATUS\", ''), ',' ORDER BY \"CODE\")"
        " FROM \"Item\"");
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }
  Rows CeItems() { return ce_.Query("SELECT code, name, qty, status FROM item ORDER BY code"); }
};

TEST_F(PgEndpointTest, SyncsBothWaysWithPostgreSQLOnOneSide) {
  Fo("INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\", \"STATUS\") VALUES"
     " ('A1', 'one', 1, 'open'), ('A2', 'two', 2, NULL), ('A3', 'three', NULL, 'hold')");
  Run(kExitOk, "install");
  Run(kExitOk, "run", {"--once"});
  Rows want = {{"A1", "one", "1", "1"}, {"A2", "two", "2", "NULL"}, {"A3", "three", "NULL", "3"}};
  EXPECT_EQ(CeItems(), want) << FormatRows(CeItems());

  // An application's changes on each side, synced by the next runs.
  Fo("UPDATE \"Item\" SET \"NAME\" = 'uno' WHERE \"CODE\" = 'A1';"
     "INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\") VALUES ('A4', 'four', 4);"
     "DELETE FROM \"Item\" WHERE \"CODE\" = 'A3'");
  ASSERT_TRUE(
      ce_.Exec("UPDATE item SET qty = 20 WHERE code = 'A2';"
               "INSERT INTO item (code, name, qty, status) VALUES ('C1', 'ce', 7, 2);"));
  Run(kExitOk, "run", {"--once"});
  Run(kExitOk, "run", {"--once"});
  want = {{"A1", "uno", "1", "1"},
          {"A2", "two", "20", "NULL"},
          {"A4", "four", "4", "NULL"},
          {"C1", "ce", "7", "2"}};
  EXPECT_EQ(CeItems(), want) << FormatRows(CeItems());
  EXPECT_EQ(FoItems(), "A1:uno:1:open,A2:two:20:,A4:four:4:,C1:ce:7:closed");
  Run(kExitOk, "run", {"--once"});
  EXPECT_EQ(FoItems(), "A1:uno:1:open,A2:two:20:,A4:four:4:,C1:ce:7:closed") << "settled";
  EXPECT_THAT(printed_, Not(HasSubstr(pg_.password())));
}

}  // namespace
}  // namespace duet::e2e
