// The state store as the one record of what was synced (docs/sync.md, "The
// state store"): only `duet install` creates it, a running duet stops when
// it is deleted or replaced, and a state store that does not describe the
// databases (another one than they were installed with) is refused with the
// way forward.
#include <string>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

class StateStoreTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseItems();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('A', 'alpha', 1);"));
    WriteConfig();
  }

  void RemoveState() {
    for (const char* suffix : {"", "-wal", "-shm"})
      fs::remove(dir_ / (std::string("state.db") + suffix));
  }
};

TEST_F(StateStoreTest, OnlyInstallCreatesTheStateStore) {
  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"run", "--once"},
                                             {"status"},
                                             {"pause", "items"},
                                             {"errors", "list"},
                                             {"drift", "items"}}) {
    RunResult r = Duet(command[0], {command.begin() + 1, command.end()});
    EXPECT_EQ(r.exit_code, kExitError) << Show(command, r);
    EXPECT_NE(r.err.find("there is no state store"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("duet install"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "state.db")) << command[0] << " created a state store";
  }
  Install();
  EXPECT_TRUE(fs::exists(dir_ / "state.db"));
  RunOnce();
  EXPECT_EQ(ce_.Value("SELECT name FROM item WHERE code = 'A'"), "alpha");
}

TEST_F(StateStoreTest, ARunningDuetStopsWhenItsStateStoreIsDeleted) {
  Install();
  RunOnce();
  Process run = StartRun();
  ASSERT_TRUE(PollUntil([&] {
    return fo_.Exec("UPDATE Item SET QTY = QTY + 1 WHERE CODE = 'A';") &&
           ce_.Value("SELECT qty FROM item WHERE code = 'A'") != "1";
  })) << "duet run never synced";
  RemoveState();
  RunResult r;
  ASSERT_TRUE(PollUntil([&] { return run.TryWait(&r); })) << "duet kept running";
  EXPECT_TRUE(r.exited && r.exit_code == kExitError) << Show(run.argv(), r);
  EXPECT_NE(r.err.find("was deleted while duet ran"), std::string::npos) << r.err;
  // Nothing made a new one behind the operator's back.
  EXPECT_FALSE(fs::exists(dir_ / "state.db"));
  RunResult paused = Duet("pause", {"items"});
  EXPECT_EQ(paused.exit_code, kExitError) << paused.err;
  EXPECT_FALSE(fs::exists(dir_ / "state.db"));
}

TEST_F(StateStoreTest, ARunningDuetStopsWhenItsStateStoreIsReplaced) {
  Install();
  RunOnce();
  fs::copy_file(dir_ / "state.db", dir_ / "copy.db");
  Process run = StartRun();
  ASSERT_TRUE(PollUntil([&] {
    return fo_.Exec("UPDATE Item SET QTY = QTY + 1 WHERE CODE = 'A';") &&
           ce_.Value("SELECT qty FROM item WHERE code = 'A'") != "1";
  })) << "duet run never synced";
  fs::rename(dir_ / "copy.db", dir_ / "state.db");
  RunResult r;
  ASSERT_TRUE(PollUntil([&] { return run.TryWait(&r); })) << "duet kept running";
  EXPECT_TRUE(r.exited && r.exit_code == kExitError) << Show(run.argv(), r);
  EXPECT_NE(r.err.find("was replaced"), std::string::npos) << r.err;
}

TEST_F(StateStoreTest, AStateStoreThatDoesNotDescribeTheDatabasesIsRefused) {
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Value("SELECT name FROM item WHERE code = 'A'"), "alpha");
  // The state store is lost; meanwhile ce's user edits the row.
  RemoveState();
  ASSERT_TRUE(ce_.Exec("UPDATE item SET name = 'edited in ce' WHERE code = 'A';"));
  // A new one from install is not bound to databases bound to the old one.
  RunResult install = Duet("install");
  EXPECT_EQ(install.exit_code, kExitError) << install.err;
  EXPECT_NE(install.err.find("installed with another state store"), std::string::npos)
      << install.err;
  EXPECT_NE(install.err.find("--new-state"), std::string::npos) << install.err;
  RunResult run = Duet("run", {"--once"});
  EXPECT_EQ(run.exit_code, kExitError) << run.err;
  EXPECT_NE(run.err.find("installed with another state store"), std::string::npos) << run.err;
  // Nothing was synced over the edit.
  EXPECT_EQ(ce_.Value("SELECT name FROM item WHERE code = 'A'"), "edited in ce");
  EXPECT_EQ(fo_.Value("SELECT NAME FROM Item WHERE CODE = 'A';"), "alpha");
  // The operator chooses to start over: the initial sync runs again and
  // matches the rows by key (fo, the seeding side, wins).
  RunResult rebound = Duet("install", {"--new-state"});
  EXPECT_EQ(rebound.exit_code, kExitOk) << rebound.err;
  RunOnce();
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM item"), 1);
  EXPECT_EQ(ce_.Value("SELECT name FROM item WHERE code = 'A'"), "alpha");
}

// Each `duet run` takes the state store's lease with a new epoch (a run of
// another process fences the one before it); a command that only records a
// request takes none.
TEST_F(StateStoreTest, EachRunTakesTheLeaseWithANewEpoch) {
  Install();
  auto epoch = [&] {
    return state_.Value("SELECT value FROM duet_meta WHERE key = 'lease_epoch'");
  };
  RunOnce();
  EXPECT_EQ(epoch(), "1");
  EXPECT_EQ(state_.Value("SELECT value FROM duet_meta WHERE key = 'schema_version'"), "3");
  RunOnce();
  EXPECT_EQ(epoch(), "2");
  RunResult r = Duet("pause", {"items"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(epoch(), "2");
  EXPECT_EQ(ce_.Value("SELECT name FROM item WHERE code = 'A'"), "alpha");
}

}  // namespace
}  // namespace duet::e2e
