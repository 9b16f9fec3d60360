// Operating duet with a system on PostgreSQL (issue 15; docs/postgresql.md,
// "Operating next to a running duet"; docs/operations.md): `duet status`
// while `duet run` holds the logical capture's slot, and the WAL the slot
// retains in `duet status --json` and in a `retained_bytes` alert. The
// real duet, `fo` on a throwaway PostgreSQL 15 server
// (tests/support/pg_server.h), `ce` and the state store on SQLite.
#include <gmock/gmock.h>

#include <chrono>
#include <string>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

class PgOpsTest : public PgE2eTest {
 protected:
  void SetUp() override {
    PgE2eTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(pg_.GrantReplicationOrigins().ok());
    Compile({"items.duet"});
    ASSERT_TRUE(pg_.Psql(kItemsFoPg).ok());
    ASSERT_TRUE(ce_.Exec(kItemsCe));
  }
  // duet.json with `fo` on the server (the password in the URL: the
  // background run gets no environment of its own) and `extra` keys.
  void WriteConfig(nlohmann::json extra = nlohmann::json::object()) {
    extra["systems"] = {{"fo", "postgresql://duet:" + pg_.password() +
                                   "@127.0.0.1:" + std::to_string(pg_.port()) + "/duet"},
                        {"ce", "sqlite:ce.db"}};
    E2eTest::WriteConfig(extra);
  }
  void Fo(const std::string& sql) {
    Expected<std::string> out = pg_.Psql(sql);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }
  // `duet status --json`, expecting success; a status that hangs fails the
  // test after a minute (a bound on hanging, not an assertion on speed).
  nlohmann::json BoundedStatus() {
    RunResult r = Duet("status", {"--json"}, {}, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, kExitOk) << Show({"duet", "status", "--json"}, r);
    nlohmann::json status = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(status.is_discarded()) << "status --json printed no JSON:\n" << r.out;
    return status.is_discarded() ? nlohmann::json() : status;
  }
};

TEST_F(PgOpsTest, StatusAnswersWhileARunHoldsTheCapture) {
  WriteConfig();
  Fo("INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\") VALUES ('A1', 'one', 1)");
  Install();
  Process run = StartRun();
  // The run has streamed the slot once it synced A1 to ce.
  ASSERT_TRUE(test::PollUntil([&] { return ce_.Int("SELECT count(*) FROM item") == 1; }))
      << "duet run did not sync A1";
  Fo("INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\") VALUES ('A2', 'two', 2)");

  // fo's changes are counted by the running duet, which holds its slot and
  // records the count every few seconds; ce's capture (SQLite) is shared,
  // so status counts it itself.
  nlohmann::json status;
  ASSERT_TRUE(test::PollUntil([&] {
    status = BoundedStatus();
    return status.is_object() && !status["maps"][0]["backlog_recorded"].is_null();
  })) << "no recorded backlog: " << status.dump();
  ASSERT_EQ(status["maps"].size(), 1u) << status.dump();
  const nlohmann::json& items = status["maps"][0];
  EXPECT_THAT(items["capture_held"], ElementsAre("fo")) << status.dump();
  EXPECT_TRUE(items["backlog"]["ce"].is_number_integer()) << status.dump();
  EXPECT_TRUE(items["backlog"]["fo"].is_number_integer()) << status.dump();
  EXPECT_GE(items["backlog_recorded"]["age_seconds"].get<double>(), 0) << status.dump();
  EXPECT_TRUE(status["capture_retained_bytes"]["fo"].is_number_integer()) << status.dump();

  RunResult text = Duet("status", {}, {}, std::chrono::seconds(60));
  EXPECT_EQ(text.exit_code, kExitOk) << Show({"duet", "status"}, text);
  EXPECT_THAT(text.out, HasSubstr("s ago)"));
  StopRun(run);

  // With the run stopped, status counts fo's changes itself again.
  status = BoundedStatus();
  ASSERT_TRUE(status.is_object());
  EXPECT_TRUE(status["maps"][0]["capture_held"].empty()) << status.dump();
  EXPECT_TRUE(status["maps"][0]["backlog_recorded"].is_null()) << status.dump();
  EXPECT_TRUE(status["maps"][0]["backlog"]["fo"].is_number_integer()) << status.dump();
}

TEST_F(PgOpsTest, RetainedWalShowsInStatusAndFiresAnAlert) {
  WriteConfig({{"alerts", {{{"when", "retained_bytes > 0 within 1m"}, {"then", "log"}}}}});
  Install();
  Fo("INSERT INTO \"Item\" (\"CODE\", \"NAME\", \"QTY\") VALUES ('A1', 'one', 1)");
  // The slot keeps the WAL from its restart point, which lies before the
  // record it restarts at: more than none once anything was written.
  nlohmann::json status = StatusJson();
  ASSERT_TRUE(status.is_object());
  ASSERT_TRUE(status["capture_retained_bytes"]["fo"].is_number_integer()) << status.dump();
  EXPECT_GT(status["capture_retained_bytes"]["fo"].get<int64_t>(), 0) << status.dump();

  RunResult r = RunOnce();
  EXPECT_THAT(r.err, HasSubstr("alert: "));
  EXPECT_THAT(r.err, HasSubstr("retained_bytes > 0 within 1m"));
}

// SQLite on both sides, the state store on the server.
class PgStateOpsTest : public PgE2eTest {
 protected:
  void SetUp() override {
    PgE2eTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(pg_.Psql("CREATE SCHEMA duet_state").ok());
    UseItems();
    E2eTest::WriteConfig({{"state", "postgresql://duet:" + pg_.password() +
                                        "@127.0.0.1:" + std::to_string(pg_.port()) +
                                        "/duet?options=-csearch_path%3Dduet_state"}});
  }
};

TEST_F(PgStateOpsTest, AStoreDroppedUnderAnIdleRunStopsIt) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('F1', 'fo', 1);"));
  Install();
  Process run = StartRun();
  ASSERT_TRUE(test::PollUntil([&] { return ce_.Int("SELECT count(*) FROM item") == 1; }))
      << "duet run did not sync F1";
  // Nothing changes from here on: only the idle loop's check can notice.
  ASSERT_TRUE(pg_.Psql("DROP TABLE duet_state.duet_meta").ok());
  RunResult r = run.Wait(std::chrono::minutes(2));
  EXPECT_TRUE(r.exited);
  EXPECT_NE(r.exit_code, kExitOk);
  std::string err = ReadFile(dir_ / "run-1.err");
  EXPECT_THAT(err, HasSubstr("was dropped while duet ran")) << err;
}

}  // namespace
}  // namespace duet::e2e
