// The state store on PostgreSQL end to end (issue 15; docs/postgresql.md,
// "State store on PostgreSQL"): the real duet with `state` a postgresql://
// URL whose password comes from the environment (${DUET_STATE_PASSWORD}),
// SQLite on both sides with the sqlite3 client as the applications, and a
// throwaway PostgreSQL 15 server (tests/support/pg_server.h) read with psql.
// install, initial sync, live changes both ways, status and errors while
// duet runs, and duet's state connection terminated under it: the sync goes
// on with no lost and no doubled change, and says so in its log; duet
// killed with SIGKILL resumes from the store the same way. The known
// password is looked for in everything duet printed, and never found.
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"
#include "tests/support/pg_server.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

class PgStateTest : public PgE2eTest {
 protected:
  void SetUp() override {
    PgE2eTest::SetUp();
    if (HasFatalFailure()) return;
    // The store's own schema, owned by duet's role (docs/postgresql.md).
    ASSERT_TRUE(pg_.Psql("CREATE SCHEMA duet_state").ok());
    UseItems();
  }

  // duet.json with the state store on the server; the password only in the
  // environment of the duet processes.
  void WriteConfig() {
    E2eTest::WriteConfig(
        {{"state", "postgresql://duet:${DUET_STATE_PASSWORD}@127.0.0.1:" +
                       std::to_string(pg_.port()) + "/duet?options=-csearch_path%3Dduet_state"}});
  }
  EnvChanges Env() const { return {{"DUET_STATE_PASSWORD", pg_.password()}}; }

  // `duet COMMAND ARGS...` with the password in the environment, expecting
  // `exit_code`; everything it printed is kept for the password check.
  RunResult Run(int exit_code, const std::string& command,
                const std::vector<std::string>& args = {}) {
    RunResult r = Duet(command, args, Env());
    std::vector<std::string> argv = {"duet", command};
    argv.insert(argv.end(), args.begin(), args.end());
    EXPECT_EQ(r.exit_code, exit_code) << Show(argv, r);
    return r;
  }
  Process StartLiveRun() {
    Process run;
    run.Start({GetTools().duet, "run", "-c", config().string()}, dir_, dir_ / "run.out",
              dir_ / "run.err", {}, Env());
    return run;
  }
  // One value of a query on the state store, through psql ("" on error).
  std::string State(const std::string& sql) {
    Expected<std::string> out = pg_.Psql("SET search_path = duet_state; " + sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }
  // Row F<i> on fo and C<i> on ce, each an application transaction.
  void InsertOnBothSides(int i) {
    std::string n = std::to_string(i);
    EXPECT_TRUE(
        fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('F" + n + "', 'fo', " + n + ");"));
    EXPECT_TRUE(
        ce_.Exec("INSERT INTO item (code, name, qty) VALUES ('C" + n + "', 'ce', " + n + ");"));
  }
  Rows CeItems() { return ce_.Query("SELECT code, name, qty FROM item ORDER BY code"); }
  // fo's rows but B1, the one row that cannot sync.
  Rows FoItems() {
    return fo_.Query("SELECT CODE, NAME, QTY FROM Item WHERE CODE <> 'B1' ORDER BY CODE");
  }
  // Ends duet's state store sessions on the server; how many it ended.
  int TerminateStateConnections() {
    Expected<int> n = pg_.TerminateSessions("duet state store");
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }
};

TEST_F(PgStateTest, SyncsLiveAndSurvivesItsStateConnectionBeingTerminated) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('A1', 'one', 1), ('A2', 'two', 2), "
               "('A3', 'three', 3);"));
  WriteConfig();
  Run(kExitOk, "install");
  EXPECT_EQ(State("SELECT count(*) FROM pg_tables WHERE schemaname = 'duet_state'"), "10")
      << "install made the store's tables in the URL's schema";
  Run(kExitOk, "install");  // again: changes nothing

  Process run = StartLiveRun();
  ASSERT_TRUE(PollUntil([&] { return CeItems().size() == 3; })) << FormatRows(CeItems());
  ASSERT_TRUE(
      fo_.Exec("UPDATE Item SET NAME = 'uno' WHERE CODE = 'A1';"
               "INSERT INTO Item (CODE, NAME, QTY) VALUES ('A4', 'four', 4);"));
  ASSERT_TRUE(ce_.Exec("UPDATE item SET qty = 20 WHERE code = 'A2';"));
  Rows want = {{"A1", "uno", "1"}, {"A2", "two", "20"}, {"A3", "three", "3"}, {"A4", "four", "4"}};
  ASSERT_TRUE(PollUntil([&] { return CeItems() == want && FoItems() == want; }))
      << FormatRows(CeItems()) << FormatRows(FoItems());

  // A row that cannot sync is an item of the error queue on the server.
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('B1', CAST(x'61ff' AS TEXT), 5);"));
  ASSERT_TRUE(PollUntil(
      [&] { return State("SELECT count(*) FROM duet_errors WHERE status = 'open'") == "1"; }));

  // The operator commands work against the store while duet runs.
  RunResult status = Run(kExitOk, "status", {"--json"});
  json report = json::parse(status.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded()) << status.out << status.err;
  ASSERT_EQ(report["maps"].size(), 1u) << status.out;
  EXPECT_EQ(report["maps"][0]["name"], "items");
  EXPECT_EQ(report["maps"][0]["state"], "live");
  EXPECT_EQ(report["maps"][0]["linked"], 4) << status.out;
  EXPECT_EQ(report["maps"][0]["errors"], 1) << status.out;
  EXPECT_THAT(Run(kExitOk, "status").out, HasSubstr("items"));
  EXPECT_THAT(Run(kExitOk, "errors", {"list"}).out, HasSubstr("bad_data"));
  RunResult list = Run(kExitOk, "errors", {"list", "--json"});
  EXPECT_THAT(list.out, HasSubstr("not valid UTF-8")) << list.out;

  // pause and resume, reload and drift reach the running duet through the
  // store (and its lock file).
  Run(kExitOk, "pause", {"items", "--reason", "check"});
  EXPECT_EQ(State("SELECT reason FROM duet_paused WHERE map = 'items'"), "check");
  Run(kExitOk, "resume", {"items"});
  EXPECT_EQ(State("SELECT count(*) FROM duet_paused"), "0");
  EXPECT_THAT(Run(kExitOk, "reload").out, HasSubstr("asked duet run"));
  ASSERT_TRUE(PollUntil([&] {
    return ReadFile(dir_ / "run.err").find("reloaded the bundle") != std::string::npos;
  })) << ReadFile(dir_ / "run.err");
  RunResult drift = Duet("drift", {"items", "--json"}, Env());
  printed_ += drift.out + drift.err;
  EXPECT_TRUE(drift.exit_code == kExitOk || drift.exit_code == kExitRowErrors) << drift.err;
  EXPECT_FALSE(json::parse(drift.out, nullptr, /*allow_exceptions=*/false).is_discarded())
      << drift.out << drift.err;

  // duet's state connection is terminated: the next cycle fails, says so,
  // and the sync goes on over a new connection.
  ASSERT_GE(TerminateStateConnections(), 1) << "duet run holds a state connection";
  for (int i = 0; i < 5; ++i) InsertOnBothSides(i);
  ASSERT_TRUE(PollUntil([&] {
    return ReadFile(dir_ / "run.err").find("transient failure") != std::string::npos;
  })) << ReadFile(dir_ / "run.err");
  EXPECT_THAT(ReadFile(dir_ / "run.err"), HasSubstr("(state store)"))
      << "the log line names the connection that failed";
  ASSERT_TRUE(PollUntil([&] { return CeItems().size() == 14 && FoItems().size() == 14; }))
      << FormatRows(CeItems()) << FormatRows(FoItems());
  EXPECT_EQ(CeItems(), FoItems()) << "nothing lost, nothing doubled";
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM item"), 14);
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM Item"), 15) << "14 and B1";
  ASSERT_TRUE(PollUntil([&] { return State("SELECT count(*) FROM duet_link") == "14"; }))
      << "one link per synced pair (B1 is in the error queue)";
  RunResult still;
  EXPECT_FALSE(run.TryWait(&still)) << "duet run stopped:\n" << still.err;
  EXPECT_EQ(Run(kExitOk, "status", {"--json"}).exit_code, kExitOk);
  StopRun(run);
  printed_ += ReadFile(dir_ / "run.out") + ReadFile(dir_ / "run.err");

  // The password is nowhere in what duet printed, nor in its files.
  EXPECT_THAT(printed_, Not(HasSubstr(pg_.password())));
  EXPECT_THAT(ReadFile(config()), Not(HasSubstr(pg_.password())));
}

// kill -9 of duet while it syncs changes from both sides: the server rolls
// back the unit it had open, and the next duet run converges with every
// change once (the ids are unique, so a doubled insert would show).
TEST_F(PgStateTest, AKilledDuetResumesFromTheStoreWithNothingLostOrDoubled) {
  WriteConfig();
  Run(kExitOk, "install");
  Process run = StartLiveRun();
  for (int i = 0; i < 60; ++i) {
    InsertOnBothSides(i);
    if (i == 30) {
      ASSERT_TRUE(
          PollUntil([&] { return !ce_.Query("SELECT 1 FROM item WHERE code LIKE 'F%'").empty(); }));
      KillRun(run);
    }
  }
  run = StartLiveRun();
  ASSERT_TRUE(PollUntil([&] { return CeItems().size() == 120 && FoItems().size() == 120; }))
      << FormatRows(CeItems()) << FormatRows(FoItems());
  EXPECT_EQ(CeItems(), FoItems());
  ASSERT_TRUE(PollUntil([&] { return State("SELECT count(*) FROM duet_link") == "120"; }))
      << State("SELECT count(*) FROM duet_link");
  EXPECT_EQ(State("SELECT count(*) FROM duet_errors"), "0");
  StopRun(run);
  printed_ += ReadFile(dir_ / "run.out") + ReadFile(dir_ / "run.err");
  EXPECT_THAT(printed_, Not(HasSubstr(pg_.password())));
}

// A URL without the password fails like any refused login, naming the
// state store and no secret; kExisting on an empty schema is "no state
// store", never an empty one made in its place.
TEST_F(PgStateTest, CommandsRefuseAMissingStoreAndAWrongPassword) {
  WriteConfig();
  RunResult missing = Run(2, "status");
  EXPECT_THAT(missing.err, HasSubstr("there is no state store")) << missing.err;
  EXPECT_EQ(State("SELECT count(*) FROM pg_tables WHERE schemaname = 'duet_state'"), "0");
  RunResult wrong = Duet("install", {}, {{"DUET_STATE_PASSWORD", "Wr0ngPassw0rd"}});
  EXPECT_EQ(wrong.exit_code, kExitError) << wrong.err;
  EXPECT_THAT(wrong.err, HasSubstr("state store"));
  EXPECT_THAT(wrong.out + wrong.err, Not(HasSubstr("Wr0ngPassw0rd")));
  EXPECT_THAT(printed_, Not(HasSubstr(pg_.password())));
}

}  // namespace
}  // namespace duet::e2e
