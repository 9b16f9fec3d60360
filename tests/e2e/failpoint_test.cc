// Crash safety at every commit boundary (docs/sync.md, "Crash safety"): a
// batch commits one database, then the other, then the state store. For
// each failpoint between those commits (runtime/base/failpoint.h), each
// kind of change and each side it comes from, and during initial sync as
// well as live sync, duet is made to fail there (killed, stopped with an
// error, or failing transiently and retrying in the same process); the row
// is then changed again before duet resumes (the insert deleted, the update
// updated again, the deleted key inserted again). Afterwards both sides must
// hold exactly the model: no orphan, no duplicate, no lost change, no error
// item, and `duet drift` clean. Every test asserts that its failpoint acted
// exactly once, so the coverage cannot drop unseen.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

constexpr const char* kPoints[] = {"commit.before_databases", "commit.between_databases",
                                   "commit.before_state", "commit.after_state"};

// code -> (name, qty), the items both sides must hold.
using Model = std::map<std::string, std::pair<std::string, int>>;

class FailpointTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseItems();
    if (HasFatalFailure()) return;
    fs::create_directories(dir_ / "fp");
  }

  const Sqlite& Db(bool fo) const { return fo ? fo_ : ce_; }
  static std::string Table(bool fo) {
    return fo ? "Item (CODE, NAME, QTY)" : "item (code, name, qty)";
  }

  bool Insert(bool fo, const std::string& code, const std::string& name, int qty) {
    return Db(fo).Exec("INSERT INTO " + Table(fo) + " VALUES (" + Quote(code) + ", " + Quote(name) +
                       ", " + std::to_string(qty) + ");");
  }
  bool Update(bool fo, const std::string& code, const std::string& name) {
    return fo ? fo_.Exec("UPDATE Item SET NAME = " + Quote(name) + " WHERE CODE = " + Quote(code) +
                         ";")
              : ce_.Exec("UPDATE item SET name = " + Quote(name) + " WHERE code = " + Quote(code) +
                         ";");
  }
  bool Delete(bool fo, const std::string& code) {
    return fo ? fo_.Exec("DELETE FROM Item WHERE CODE = " + Quote(code) + ";")
              : ce_.Exec("DELETE FROM item WHERE code = " + Quote(code) + ";");
  }

  EnvChanges Armed(const std::string& spec) const {
    return {{"DUET_FAILPOINTS", spec}, {"DUET_FAILPOINTS_DIR", (dir_ / "fp").string()}};
  }
  // How many times `point` acted (lines of its .hit file).
  int Hits(const std::string& point) const {
    fs::path hit = dir_ / "fp" / (point + ".hit");
    if (!fs::exists(hit)) return 0;
    std::string text = ReadFile(hit);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  // Runs `duet run --once` with `point` armed to `action` and checks that it
  // stopped there: killed for `kill`, exit 2 for `fail`.
  void RunFailing(const std::string& point, const std::string& action) {
    RunResult r = Duet("run", {"--once"}, Armed(point + "=" + action));
    if (action.starts_with("kill")) {
      EXPECT_TRUE(!r.exited && r.exit_code == -SIGKILL) << Show({"duet", "run", "--once"}, r);
    } else {
      EXPECT_EQ(r.exit_code, kExitError) << Show({"duet", "run", "--once"}, r);
    }
    EXPECT_EQ(Hits(point), 1) << point << " did not act exactly once";
  }

  // Both sides hold exactly `model`, nothing is left in the queue or
  // waiting, and drift finds nothing.
  void ExpectConverged(const Model& model) {
    Rows expected;
    for (const auto& [code, value] : model) {
      expected.push_back({code, value.first, std::to_string(value.second)});
    }
    EXPECT_EQ(fo_.Query("SELECT CODE, NAME, QTY FROM Item ORDER BY CODE, RECID"), expected) << "fo";
    EXPECT_EQ(ce_.Query("SELECT code, name, qty FROM item ORDER BY code, itemid"), expected)
        << "ce";
    EXPECT_EQ(OpenErrors(), 0) << FormatRows(ErrorItems("items"));
    RunResult drift = Duet("drift", {"items"});
    EXPECT_EQ(drift.exit_code, kExitOk) << Show({"duet", "drift", "items"}, drift);
    EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_links WHERE map = 'items'"),
              static_cast<int64_t>(model.size()));
  }
};

// ---- live sync: a change, a failure at the point, the row changed again ----

enum class Op { kInsert, kUpdate, kEditThenDelete, kDelete };

struct LiveCase {
  const char* point;
  Op op;
  bool from_fo;
  const char* action;  // kill | fail | error (transient, retried in the process)
};
void PrintTo(const LiveCase& c, std::ostream* os) {
  *os << c.point << " " << static_cast<int>(c.op) << " from " << (c.from_fo ? "fo" : "ce") << " "
      << c.action;
}

std::string Name(const testing::TestParamInfo<LiveCase>& info) {
  std::string point = info.param.point;
  point = point.substr(point.find('.') + 1);
  const char* op = info.param.op == Op::kInsert           ? "insert"
                   : info.param.op == Op::kUpdate         ? "update"
                   : info.param.op == Op::kEditThenDelete ? "edit_then_delete"
                                                          : "delete";
  return point + "_" + op + "_from_" + (info.param.from_fo ? "fo" : "ce") + "_" + info.param.action;
}

class LiveFailpointTest : public FailpointTest, public testing::WithParamInterface<LiveCase> {};

TEST_P(LiveFailpointTest, ChangeAgainBeforeTheRetryLosesNothing) {
  const LiveCase& c = GetParam();
  Model model = {{"A", {"alpha", 1}}, {"B", {"beta", 2}}, {"C", {"gamma", 3}}};
  for (const auto& [code, value] : model)
    ASSERT_TRUE(Insert(true, code, value.first, value.second));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_NO_FATAL_FAILURE(ExpectConverged(model));

  // The change duet fails on, and the change made before it runs again.
  auto change = [&] {
    switch (c.op) {
      case Op::kInsert:
        ASSERT_TRUE(Insert(c.from_fo, "X", "new", 9));
        break;
      case Op::kUpdate:
      case Op::kEditThenDelete:
        ASSERT_TRUE(Update(c.from_fo, "A", "first edit"));
        break;
      case Op::kDelete:
        ASSERT_TRUE(Delete(c.from_fo, "B"));
        break;
    }
  };
  auto change_again = [&] {
    switch (c.op) {
      case Op::kInsert:  // the lost delete of issue 13
        ASSERT_TRUE(Delete(c.from_fo, "X"));
        break;
      case Op::kUpdate:  // a stale base must not make duet's write win
        ASSERT_TRUE(Update(c.from_fo, "A", "second edit"));
        model["A"].first = "second edit";
        break;
      case Op::kEditThenDelete:  // nor keep the row the application deleted
        ASSERT_TRUE(Delete(c.from_fo, "A"));
        model.erase("A");
        break;
      case Op::kDelete:
        ASSERT_TRUE(Insert(c.from_fo, "B", "beta again", 5));
        model["B"] = {"beta again", 5};
        break;
    }
  };
  change();
  if (std::string(c.action) == "error") {
    // Fails transiently at the point, then waits before its retry until the
    // row has been changed again.
    Process run;
    ASSERT_TRUE(run.Start({GetTools().duet, "run", "-c", config().string(), "--once"}, dir_,
                          dir_ / "run.out", dir_ / "run.err", {},
                          Armed(std::string(c.point) + "=error,run.retry=wait")));
    ASSERT_TRUE(PollUntil([&] { return Hits("run.retry") == 1; }))
        << "duet never reached its retry\n"
        << ReadFile(dir_ / "run.err");
    change_again();
    WriteFile(dir_ / "fp" / "run.retry.go", "");
    RunResult r = run.Wait(std::chrono::minutes(2));
    EXPECT_EQ(r.exit_code, kExitOk) << Show(run.argv(), r);
    EXPECT_EQ(Hits(c.point), 1);
  } else {
    RunFailing(c.point, c.action);
    change_again();
    RunOnce();
  }
  ExpectConverged(model);
}

std::vector<LiveCase> LiveCases() {
  std::vector<LiveCase> out;
  for (const char* point : kPoints) {
    for (Op op : {Op::kInsert, Op::kUpdate, Op::kEditThenDelete, Op::kDelete}) {
      for (bool from_fo : {true, false}) {
        out.push_back({point, op, from_fo, "kill"});
        if (std::string(point) == "commit.between_databases" ||
            std::string(point) == "commit.before_state") {
          out.push_back({point, op, from_fo, "error"});
        }
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Live, LiveFailpointTest, testing::ValuesIn(LiveCases()), Name);

// ---- initial sync: a failure at the point in the second batch ----

struct InitialCase {
  const char* point;
  const char* action;
};
void PrintTo(const InitialCase& c, std::ostream* os) { *os << c.point << " " << c.action; }

class InitialFailpointTest : public FailpointTest,
                             public testing::WithParamInterface<InitialCase> {};

TEST_P(InitialFailpointTest, ChangesBeforeTheResumeLoseNothing) {
  const InitialCase& c = GetParam();
  // Rows only in fo, rows on both sides (matched by key, fo wins) and rows
  // only in ce; two rows a batch, so the second batch fails.
  Model model;
  for (const char* code : {"F1", "F2", "F3", "F4", "F5", "F6"}) {
    ASSERT_TRUE(Insert(true, code, std::string("fo ") + code, 1));
    model[code] = {std::string("fo ") + code, 1};
  }
  for (const char* code : {"F5", "F6", "C1", "C2"}) {
    ASSERT_TRUE(Insert(false, code, std::string("ce ") + code, 2));
    if (!model.count(code)) model[code] = {std::string("ce ") + code, 2};
  }
  WriteConfig({{"initial_batch_size", 2}});
  Install();
  RunFailing(c.point, std::string(c.action) + "@2");
  // F3 and F4 were the failed batch's: F3's partner may exist in ce already.
  ASSERT_TRUE(Delete(true, "F3"));
  model.erase("F3");
  ASSERT_TRUE(Update(true, "F4", "fo F4 edited"));
  model["F4"].first = "fo F4 edited";
  ASSERT_TRUE(Update(false, "F1", "ce F1 edited"));
  model["F1"].first = "ce F1 edited";
  ASSERT_TRUE(Delete(false, "C1"));
  model.erase("C1");
  ASSERT_TRUE(Insert(true, "F7", "fo F7", 7));
  model["F7"] = {"fo F7", 7};
  RunOnce();
  ExpectConverged(model);
}

std::string InitialName(const testing::TestParamInfo<InitialCase>& info) {
  std::string point = info.param.point;
  return point.substr(point.find('.') + 1) + "_" + info.param.action;
}

std::vector<InitialCase> InitialCases() {
  std::vector<InitialCase> out;
  for (const char* point : kPoints) {
    for (const char* action : {"kill", "fail"}) out.push_back({point, action});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Initial, InitialFailpointTest, testing::ValuesIn(InitialCases()),
                         InitialName);

}  // namespace
}  // namespace duet::e2e
