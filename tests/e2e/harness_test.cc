// Checks of the harness itself and of the tests' premises, which do not need
// the sync runtime: sqlite3 round-trips values exactly as the tests read
// them, the test maps compile and their map tests pass, the customers map's
// initial-sync order is the dependency order (not the file order), and the
// process helper can stop a child. The last test checks that the duet
// binary has the sync commands at all, so that an engine-less build fails
// with one clear message.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

class HarnessTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "duet_e2e_harness_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    ASSERT_TRUE(fs::exists(GetTools().sqlite3)) << GetTools().sqlite3;
    ASSERT_TRUE(fs::exists(GetTools().duetc)) << GetTools().duetc;
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  RunResult Duetc(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {GetTools().duetc};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = RunProcess(argv, dir_, dir_);
    EXPECT_EQ(r.exit_code, 0) << Show(argv, r);
    return r;
  }
  fs::path dir_;
};

TEST_F(HarnessTest, Sqlite3RoundTripsValuesNullsAndSeparators) {
  Sqlite db(dir_ / "fo.db", dir_);
  ASSERT_TRUE(db.Exec(kItemsFo));
  ASSERT_TRUE(
      db.Exec("INSERT INTO Item (CODE, NAME, QTY, STATUS) VALUES "
              "('A', 'x | y', 1, 'open'), ('B', NULL, -2, 'it''s'), "
              "('C', 'two' || char(10) || 'lines', 3, '');"));
  Rows rows = db.Query("SELECT CODE, NAME, QTY, STATUS FROM Item ORDER BY CODE");
  Rows expected = {
      {"A", "x | y", "1", "open"}, {"B", "NULL", "-2", "it's"}, {"C", "two\nlines", "3", ""}};
  EXPECT_EQ(rows, expected) << FormatRows(rows);
  EXPECT_EQ(db.Int("SELECT count(*) FROM Item"), 3);
  EXPECT_EQ(db.Value("SELECT NAME FROM Item WHERE CODE = 'none'"), "");
  EXPECT_FALSE(db.TryQuery("SELECT * FROM no_such_table").has_value());
  EXPECT_FALSE(Sqlite(dir_ / "absent.db", dir_).TryQuery("SELECT 1").has_value());
  EXPECT_FALSE(fs::exists(dir_ / "absent.db"));
}

TEST_F(HarnessTest, FailedScriptChangesNothing) {
  // Exec runs a script as one transaction, so a statement that fails leaves
  // no half-applied workload behind (which the models would not know of).
  Sqlite db(dir_ / "ce.db", dir_);
  ASSERT_TRUE(db.Exec(kBadDataCe));
  RunResult r = db.TryExec(
      "INSERT INTO product (code, name, qty, note) VALUES ('P1', 'n', 1, 'x');"
      "INSERT INTO product (code, name, qty, note) VALUES ('P2', 'n', -1, 'x');");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("CHECK constraint failed"), std::string::npos) << r.err;
  EXPECT_EQ(db.Int("SELECT count(*) FROM product"), 0);
}

TEST_F(HarnessTest, TestMapsCompileAndTheirMapTestsPass) {
  for (const char* file :
       {"customers.duet", "conflicts.duet", "items.duet", "baddata.duet", "waits.duet"}) {
    std::string path = (fs::path(GetTools().maps_dir) / file).string();
    Duetc({"check", "--werror", path});
    Duetc({"test", path});
    Duetc({"compile", path, "-o", (dir_ / (std::string(file) + "b")).string()});
  }
}

TEST_F(HarnessTest, CustomersInitialSyncOrderIsTheDependencyOrder) {
  // The order test (sync_test.cc) relies on this: customers is declared
  // first in the file but must run after customergroups.
  std::string path = (fs::path(GetTools().maps_dir) / "customers.duet").string();
  Duetc({"compile", path, "-o", (dir_ / "c.duetb").string()});
  RunResult r = Duetc({"inspect", (dir_ / "c.duetb").string(), "--json"});
  nlohmann::json manifest = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(manifest.is_discarded()) << r.out;
  EXPECT_EQ(manifest["initial_sync_order"], nlohmann::json::array({"customergroups", "customers"}));
  EXPECT_EQ(manifest["maps"][0]["name"], "customers");
}

TEST_F(HarnessTest, ProcessCanBeStoppedAndReportsTheSignal) {
  Process child;
  ASSERT_TRUE(child.Start({"/bin/sh", "-c", "sleep 60"}, dir_, dir_ / "o", dir_ / "e"));
  RunResult r;
  EXPECT_FALSE(child.TryWait(&r));
  child.Signal(SIGKILL);
  r = child.Wait(std::chrono::seconds(30));
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.exit_code, -SIGKILL);
}

TEST_F(HarnessTest, DuetHasTheSyncCommands) {
  std::string missing;
  for (const char* command : {"install", "uninstall", "run", "status"}) {
    RunResult r;
    if (!DuetHasCommand(command, dir_, &r)) missing += std::string(" ") + command;
  }
  EXPECT_EQ(missing, "") << "the duet binary " << GetTools().duet
                         << " lacks these commands of docs/sync.md; the sync runtime "
                            "(runtime/engine, runtime/cli) has not landed yet";
}

}  // namespace
}  // namespace duet::e2e
