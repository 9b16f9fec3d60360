// A live `duet run` next to its applications (issues 12 and 13): waiting
// changes that end with their row, an idle daemon that does not spin, and
// applications that are never locked out of one database while duet waits
// for the other. sqlite3 is the applications, `duet` a separate process;
// nothing here asserts on time.
#include <gmock/gmock.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using testing::HasSubstr;

// maps/waits.duet: groups, and members that look their group up.
class WaitsTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"waits.duet"});
    ASSERT_TRUE(fo_.Exec(kWaitsFo));
    ASSERT_TRUE(ce_.Exec(kWaitsCe));
    ASSERT_TRUE(fo_.Exec("INSERT INTO Grp (CODE, NAME) VALUES ('G1', 'one');"));
  }
  int64_t Waiting() const {
    return state_.Int("SELECT count(*) FROM duet_waiting WHERE map = 'members'");
  }
  std::string Recid(const std::string& code) const {
    return fo_.Value("SELECT RECID FROM Member WHERE CODE = " + Quote(code));
  }
};

// Issue 12, item 3: deleting a row that waits for a referenced row ends its
// wait; nothing is written for it and nothing is queued.
TEST_F(WaitsTest, DeletingAWaitingRowEndsItsWait) {
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M1', 'waits', 'G9'),"
               " ('M2', 'goes', 'G1');"));
  RunOnce();
  ASSERT_EQ(Waiting(), 1) << "M1's group G9 does not exist";
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM member WHERE code = 'M2'"), 1);

  ASSERT_TRUE(fo_.Exec("DELETE FROM Member WHERE CODE = 'M1';"));
  RunResult r = RunOnce();
  EXPECT_EQ(Waiting(), 0) << "the row that waited is gone";
  EXPECT_THAT(r.err, HasSubstr("0 change(s) waiting"));
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM member WHERE code = 'M1'"), 0);
  EXPECT_EQ(OpenErrors(), 0);
  EXPECT_EQ(StatusJson()["maps"][1]["waiting"], 0);
}

// Issue 12, item 3: a missing_reference item whose row was deleted closes
// itself when it is retried, and says why.
TEST_F(WaitsTest, AnItemWhoseRowIsGoneClosesItselfSayingSo) {
  WriteConfig({{"lookup_timeout_seconds", 0}});
  Install();
  RunOnce();
  ASSERT_TRUE(fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M1', 'orphan', 'G9');"));
  std::string recid = Recid("M1");
  // A timeout of 0 turns the wait into an item in this cycle or the next.
  Rows items;
  for (int i = 0; i < 3 && items.empty(); ++i) {
    RunResult r = Duet("run", {"--once"});
    ASSERT_TRUE(r.exit_code == kExitOk || r.exit_code == kExitRowErrors)
        << Show({"duet", "run", "--once"}, r);
    items = ErrorItems("members");
  }
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  ASSERT_EQ(items[0][0], "missing_reference");
  std::string id = state_.Value("SELECT id FROM duet_errors WHERE map = 'members'");

  ASSERT_TRUE(fo_.Exec("DELETE FROM Member WHERE CODE = 'M1';"));
  RunResult retry = DuetExpect(kExitOk, "errors", {"retry", id});
  EXPECT_THAT(retry.out, HasSubstr("item " + id + ": resolved"));
  EXPECT_THAT(retry.out, HasSubstr("no longer exists"));
  Rows closed = state_.Query("SELECT status, closed_by, reason FROM duet_errors WHERE id = " + id);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0][0], "resolved");
  EXPECT_EQ(closed[0][1], "duet");
  EXPECT_THAT(closed[0][2], HasSubstr("no longer exists"));
  EXPECT_EQ(Waiting(), 0);
  RunOnce(kExitOk);
}

// The same without an operator: the delete's own change closes the item
// in the next run.
TEST_F(WaitsTest, TheDeleteItselfClosesTheItemOfItsRow) {
  WriteConfig({{"lookup_timeout_seconds", 0}});
  Install();
  RunOnce();
  ASSERT_TRUE(fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M1', 'orphan', 'G9');"));
  for (int i = 0; i < 3 && OpenErrors() == 0; ++i) Duet("run", {"--once"});
  ASSERT_EQ(OpenErrors(), 1);
  ASSERT_TRUE(fo_.Exec("DELETE FROM Member WHERE CODE = 'M1';"));
  RunOnce(kExitOk);
  EXPECT_EQ(OpenErrors(), 0);
  EXPECT_EQ(state_.Value("SELECT closed_by FROM duet_errors WHERE map = 'members'"), "duet");
}

// A `duet run` with a metrics port; Metrics() fetches /metrics with
// Python's urllib, as a scraper would.
class LiveWaitsTest : public WaitsTest {
 protected:
  void StartWithMetrics() {
    ASSERT_TRUE(run_.Start({GetTools().duet, "run", "-c", config().string(), "--metrics-port", "0"},
                           dir_, dir_ / "live.out", dir_ / "live.err"));
    const std::string prefix = "http://127.0.0.1:";
    ASSERT_TRUE(PollUntil([&] {
      std::string log = ReadFile(dir_ / "live.err");
      size_t at = log.find(prefix);
      if (at == std::string::npos) return false;
      url_ = log.substr(at, log.find('/', at + prefix.size()) - at) + "/metrics";
      return true;
    })) << ReadFile(dir_ / "live.err");
  }
  std::string Metrics() {
    RunResult r = RunProcess({"/usr/bin/env", "python3", "-c",
                              "import sys, urllib.request\n"
                              "print(urllib.request.urlopen(sys.argv[1]).read().decode(), end='')",
                              url_},
                             dir_, dir_ / ".scratch", "", {}, std::chrono::seconds(30));
    return r.exit_code == 0 ? r.out : "";
  }
  // duet_loop_wakeups_total as duet last published it; -1 before it has.
  int64_t Wakeups() {
    std::string text = Metrics();
    const std::string name = "\nduet_loop_wakeups_total ";
    size_t at = text.find(name);
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size()));
  }
  // The counter once duet has published it anew (it publishes every few
  // seconds from its loop).
  int64_t NextWakeups(int64_t after) {
    int64_t now = -1;
    EXPECT_TRUE(PollUntil([&] { return (now = Wakeups()) > after; }))
        << "duet_loop_wakeups_total never went past " << after << "\n"
        << Metrics();
    return now;
  }

  Process run_;
  std::string url_;
};

// Issue 12, items 3 and 6: an idle `duet run`, even with a change waiting
// for a referenced row, sleeps until a database changes instead of polling:
// between two of its metrics publications (every 2 s of its own loop) it
// goes round a handful of times, not hundreds. Counted by duet itself, so
// a slow machine cannot fail it. A change still wakes it, and deleting the
// waiting row ends the wait while it runs.
TEST_F(LiveWaitsTest, AnIdleRunSleepsUntilADatabaseChanges) {
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_TRUE(fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M1', 'waits', 'G9');"));
  StartWithMetrics();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M2', 'goes', 'G1');"));
  ASSERT_TRUE(PollUntil([&] { return ce_.Int("SELECT count(*) FROM member") == 1; }));
  ASSERT_TRUE(PollUntil([&] { return Waiting() == 1; }));

  // Idle from here: nothing writes either database.
  int64_t first = NextWakeups(Wakeups());
  int64_t second = NextWakeups(first);
  EXPECT_LE(second - first, 10) << "loop cycles between two metrics publications of an idle run";

  // A change wakes it: the group arrives, and so does the member that
  // waited for it.
  ASSERT_TRUE(fo_.Exec("INSERT INTO Grp (CODE, NAME) VALUES ('G9', 'nine');"));
  EXPECT_TRUE(PollUntil([&] { return ce_.Int("SELECT count(*) FROM member") == 2; }));
  EXPECT_EQ(ce_.Value("SELECT g.code FROM member m JOIN grp g ON g.grpid = m.grp "
                      "WHERE m.code = 'M1'"),
            "G9");
  EXPECT_TRUE(PollUntil([&] { return Waiting() == 0; }));

  // A row that waits and is deleted stops waiting.
  ASSERT_TRUE(fo_.Exec("INSERT INTO Member (CODE, NAME, GRP) VALUES ('M3', 'waits', 'G8');"));
  ASSERT_TRUE(PollUntil([&] { return Waiting() == 1; }));
  ASSERT_TRUE(fo_.Exec("DELETE FROM Member WHERE CODE = 'M3';"));
  EXPECT_TRUE(PollUntil([&] { return Waiting() == 0; }));
  EXPECT_EQ(OpenErrors(), 0);
  StopRun(run_);
}

// maps/items.duet: a plain two-way map, live.
class LockTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseItems();
    if (HasFatalFailure()) return;
    WriteConfig();
    Install();
    RunOnce();
  }
  // An application's write on `db` as sqlite3 makes it, with a busy
  // timeout of 1 s and no retry: the error text, empty when it succeeded.
  std::string AppWrite(const fs::path& db, const std::string& sql) {
    RunResult r =
        RunProcess({GetTools().sqlite3, "-batch", "-bail", "-cmd", ".timeout 1000", db.string()},
                   dir_, dir_ / ".scratch", sql);
    return r.exited && r.exit_code == 0 && r.err.empty() ? "" : "[" + r.err + "]";
  }
};

// Issue 12, item 7 and issue 13, item 4: while an application holds ce's
// write lock, duet (with a change to bring to ce) must not hold fo's while
// it waits, so every fo write with a 1 s busy timeout succeeds; once ce is
// free, every change arrives.
TEST_F(LockTest, AnApplicationHoldingOneDatabaseDoesNotLockTheOtherOut) {
  Process run = StartRun();
  ASSERT_EQ(AppWrite(dir_ / "fo.db", "INSERT INTO Item (CODE, NAME) VALUES ('warm', 'w');"), "");
  ASSERT_TRUE(PollUntil([&] { return ce_.Int("SELECT count(*) FROM item") == 1; }));

  LockHolder holder;
  ASSERT_TRUE(holder.Hold(dir_ / "ce.db", dir_));
  std::string failures;
  for (int i = 0; i < 20; ++i) {
    failures +=
        AppWrite(dir_ / "fo.db", "INSERT INTO Item (CODE, NAME, QTY) VALUES ('A" +
                                     std::to_string(i) + "', 'app', " + std::to_string(i) + ");");
  }
  EXPECT_EQ(failures, "") << "fo writes failed while an application held ce's lock";

  holder.Release();
  EXPECT_TRUE(PollUntil([&] {
    return ce_.Int("SELECT count(*) FROM item WHERE name = 'app'") ==
           fo_.Int("SELECT count(*) FROM Item WHERE NAME = 'app'");
  }));
  EXPECT_EQ(OpenErrors(), 0);
  StopRun(run);
}

}  // namespace
}  // namespace duet::e2e
