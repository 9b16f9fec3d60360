// Stored values and configuration values that no command may abort on
// (issue 13): text that is not UTF-8, NaN in a float column, a null in a
// column declared not null, and numbers a configuration cannot hold. Each
// bad row is its own error item, every other row goes on, and every command
// that shows the row (run, drift, status, errors) finishes normally.
#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// `count` bytes 0xNN as an SQL expression of type TEXT.
std::string TextOfBytes(const std::string& hex_byte, size_t count) {
  std::string hex;
  for (size_t i = 0; i < count; ++i) hex += hex_byte;
  return "CAST(x'" + hex + "' AS TEXT)";
}

// A command that must finish by itself: it exited (no signal, no abort) with
// one of the documented codes.
void ExpectFinished(const RunResult& r, const std::string& what) {
  EXPECT_TRUE(r.exited && r.exit_code >= 0 && r.exit_code <= kExitError)
      << what << " did not finish normally (exit " << r.exit_code << ")\n"
      << r.err;
}

class ItemsValuesTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseItems();
    if (HasFatalFailure()) return;
  }

  Rows CeItems() { return ce_.Query("SELECT code, name, qty FROM item ORDER BY code"); }
};

// Issue 13, item 1: with `duet run` live, a row whose text is not UTF-8 (a
// stray 0xff; 300 continuation bytes, which once counted as no characters
// and passed string(100)) is that row's bad_data item with the bytes shown
// escaped; a good row inserted afterwards syncs, duet keeps running, and
// drift, status and the error commands show the rows without aborting.
TEST_F(ItemsValuesTest, TextThatIsNotUtf8IsTheRowsErrorAndEverythingElseGoesOn) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('X1', 'one', 1);"));
  WriteConfig();
  Install();
  Process run = StartRun();
  ASSERT_TRUE(PollUntil([&] { return CeItems() == Rows{{"X1", "one", "1"}}; }));

  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('X3', CAST(x'61ff' AS TEXT), 3);"
               "INSERT INTO Item (CODE, NAME, QTY) VALUES ('X4', " +
               TextOfBytes("80", 300) +
               ", 4);"
               "UPDATE Item SET NAME = " +
               TextOfBytes("ff", 1) + " WHERE CODE = 'X1';"));
  ASSERT_TRUE(fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('X5', 'five', 5);"));
  ASSERT_TRUE(PollUntil([&] { return OpenErrors() == 3 && CeItems().size() == 2; }))
      << FormatRows(ErrorItems("items")) << FormatRows(CeItems());
  EXPECT_EQ(CeItems(), (Rows{{"X1", "one", "1"}, {"X5", "five", "5"}}))
      << "the good row syncs; the bad ones do not, and X1's partner keeps its last good name";
  RunResult still;
  EXPECT_FALSE(run.TryWait(&still)) << "duet run stopped:\n" << still.err;

  Rows items = ErrorItems("items");
  ASSERT_EQ(items.size(), 3u) << FormatRows(items);
  for (const auto& item : items) {
    EXPECT_EQ(item[0], "bad_data") << FormatRows(items);
    EXPECT_THAT(item[3], HasSubstr("column 'NAME': not valid UTF-8 text")) << FormatRows(items);
  }
  std::string reasons = FormatRows(items);
  EXPECT_THAT(reasons, HasSubstr("'a\\xff'")) << "the bytes are shown escaped";
  EXPECT_THAT(reasons, HasSubstr("'\\x80\\x80\\x80")) << "the bytes are shown escaped";

  RunResult drift = Duet("drift", {"items", "--json"});
  ExpectFinished(drift, "duet drift");
  json report = json::parse(drift.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(report.is_discarded()) << drift.out << drift.err;
  EXPECT_EQ(report["bad_rows"], 3) << drift.out;
  ExpectFinished(Duet("drift", {"items"}), "duet drift (text)");
  std::vector<std::string> show_args = {"show"};
  for (const auto& row : state_.Query("SELECT id FROM duet_errors WHERE status = 'open'")) {
    show_args.push_back(row[0]);
  }
  RunResult show = DuetExpect(kExitOk, "errors", show_args);
  EXPECT_THAT(show.out, HasSubstr("a\\xff"));
  EXPECT_THAT(DuetExpect(kExitOk, "errors", {"list"}).out, HasSubstr("a\\xff"));
  RunResult list = DuetExpect(kExitOk, "errors", {"list", "--json"});
  EXPECT_FALSE(json::parse(list.out, nullptr, /*allow_exceptions=*/false).is_discarded())
      << list.out;
  EXPECT_FALSE(StatusJson().is_null());
  StopRun(run);

  // A restart retries the items and fails them again, without aborting.
  RunOnce(kExitRowErrors);
  EXPECT_EQ(OpenErrors(), 3);
  ExpectFinished(Duet("resync", {"items", "--from", "fo"}), "duet resync");

  ASSERT_TRUE(
      fo_.Exec("UPDATE Item SET NAME = 'three' WHERE CODE = 'X3';"
               "UPDATE Item SET NAME = 'four' WHERE CODE = 'X4';"
               "UPDATE Item SET NAME = 'uno' WHERE CODE = 'X1';"));
  RunOnce(kExitOk);
  EXPECT_EQ(
      CeItems(),
      (Rows{{"X1", "uno", "1"}, {"X3", "three", "3"}, {"X4", "four", "4"}, {"X5", "five", "5"}}));
  EXPECT_EQ(OpenErrors(), 0);
}

// Issue 13, item 6: a number nlohmann cannot hold, an unsigned value past
// int64, a threshold that is no number and a key given twice are
// configuration errors naming the key (exit 2), for every command.
TEST_F(ItemsValuesTest, ConfigurationValuesOutOfRangeOrGivenTwiceAreErrorsNamingTheKey) {
  const std::string base =
      R"("bundle": "maps.duetb", "systems": {"fo": "sqlite:fo.db", "ce": "sqlite:ce.db"},
         "state": "sqlite:state.db")";
  const std::pair<std::string, std::string> cases[] = {
      {R"("batch_size": 1e400)", "'batch_size': value out of range"},
      {R"("batch_size": 18446744073709551615)",
       "'batch_size' must be between 1 and 100000, got 18446744073709551615"},
      {R"("alerts": [{"when": "errors > nan within 1m", "then": "log"}])",
       "'alerts[0].when': expected a number after '>', got 'nan'"},
      {R"("alerts": [{"when": "errors > 1e999 within 1m", "then": "log"}])",
       "'alerts[0].when': expected a number after '>', got '1e999'"},
      {R"("batch_size": 5, "batch_size": 6)", "'batch_size' is given twice"},
  };
  for (const auto& [extra, message] : cases) {
    WriteConfigText("{" + base + ", " + extra + "}\n");
    for (const char* command : {"run", "status", "install"}) {
      RunResult r = Duet(command, std::string(command) == "run" ? std::vector<std::string>{"--once"}
                                                                : std::vector<std::string>{});
      EXPECT_TRUE(r.exited && r.exit_code == kExitError)
          << command << " with " << extra << ": exit " << r.exit_code << "\n"
          << r.err;
      EXPECT_THAT(r.err, HasSubstr(message)) << command << " with " << extra;
    }
  }
}

class ReadingsTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"readings.duet"});
    ASSERT_TRUE(fo_.Exec(kReadingsFo));
    ASSERT_TRUE(ce_.Exec(kReadingsCe));
  }
};

// Issue 13, item 7: the text 'NaN' in a float column is no value (SQLite
// would write it as null, and drift would report the pair forever), and a
// null in a column the map declares not null must not be carried over: each
// is the row's bad_data item naming the column; the other rows sync, and
// drift finds nothing once the rows are fixed and synced.
TEST_F(ReadingsTest, NaNAndNullInANotNullSourceColumnAreTheRowsErrors) {
  WriteConfig();
  Install();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Reading (CODE, VAL, GRP) VALUES ('R1', 'NaN', 'g'), "
               "('R2', 1.5, NULL), ('R3', 2.5, 'g');"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT code, val, grp FROM reading ORDER BY code"),
            (Rows{{"R3", "2.5", "g"}}));
  Rows items = state_.Query(
      "SELECT row_id, kind, reason FROM duet_errors WHERE status = 'open' "
      "ORDER BY CAST(row_id AS INTEGER)");
  ASSERT_EQ(items.size(), 2u) << FormatRows(items);
  EXPECT_EQ(items[0][0], fo_.Value("SELECT RECID FROM Reading WHERE CODE = 'R1'"));
  EXPECT_EQ(items[0][1], "bad_data");
  EXPECT_THAT(items[0][2], HasSubstr("column 'VAL'"));
  EXPECT_THAT(items[0][2], HasSubstr("NaN"));
  EXPECT_EQ(items[1][0], fo_.Value("SELECT RECID FROM Reading WHERE CODE = 'R2'"));
  EXPECT_EQ(items[1][1], "bad_data");
  EXPECT_THAT(items[1][2], HasSubstr("column 'GRP'"));
  EXPECT_THAT(items[1][2], HasSubstr("not null"));

  ASSERT_TRUE(
      fo_.Exec("UPDATE Reading SET VAL = 0.5 WHERE CODE = 'R1';"
               "UPDATE Reading SET GRP = 'h' WHERE CODE = 'R2';"));
  RunOnce(kExitOk);
  EXPECT_EQ(ce_.Query("SELECT code, val, grp FROM reading ORDER BY code"),
            (Rows{{"R1", "0.5", "g"}, {"R2", "1.5", "h"}, {"R3", "2.5", "g"}}));
  DuetExpect(kExitOk, "drift", {"readings"});
}

}  // namespace
}  // namespace duet::e2e
