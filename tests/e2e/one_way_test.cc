// One-way mappings when a pair comes into being (docs/sync.md, "How a pair
// of rows is reconciled"): every mapping whose source side has a value is
// applied, one-way fields included, whether the pair was created on either
// side, matched by key, or resynced; and right after `duet resync M --from
// S`, `duet drift M` reports nothing that S can write.
#include <string>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

constexpr std::string_view kPairsFo = R"sql(
CREATE TABLE Pair (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT);
CREATE INDEX Pair_key ON Pair (CODE);
)sql";
constexpr std::string_view kPairsCe = R"sql(
CREATE TABLE pair (pairid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT, label TEXT);
CREATE INDEX pair_key ON pair (code);
)sql";

class OneWayTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"pairs.duet"});
    ASSERT_TRUE(fo_.Exec(kPairsFo));
    ASSERT_TRUE(ce_.Exec(kPairsCe));
  }
  Rows Ce() const { return ce_.Query("SELECT code, name, label FROM pair ORDER BY code"); }
};

TEST_F(OneWayTest, APairCreatedOnEitherSideGetsItsOneWayFields) {
  // At initial sync: a row only in ce, a row only in fo, a pair matched by key.
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO pair (code, name) VALUES ('B', 'made in ce');"
               "INSERT INTO pair (code, name) VALUES ('M', 'matched');"));
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Pair (CODE, NAME) VALUES ('A', 'made in fo');"
               "INSERT INTO Pair (CODE, NAME) VALUES ('M', 'matched');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(Ce(), (Rows{{"A", "made in fo", "A-made in fo"},
                        {"B", "made in ce", "B-made in ce"},
                        {"M", "matched", "M-matched"}}));
  // In live sync, likewise.
  ASSERT_TRUE(ce_.Exec("INSERT INTO pair (code, name) VALUES ('C', 'live in ce');"));
  ASSERT_TRUE(fo_.Exec("INSERT INTO Pair (CODE, NAME) VALUES ('D', 'live in fo');"));
  RunOnce();
  EXPECT_EQ(ce_.Value("SELECT label FROM pair WHERE code = 'C'"), "C-live in ce");
  EXPECT_EQ(ce_.Value("SELECT label FROM pair WHERE code = 'D'"), "D-live in fo");
  EXPECT_EQ(fo_.Value("SELECT NAME FROM Pair WHERE CODE = 'C'"), "live in ce");
  RunResult drift = Duet("drift", {"pairs"});
  EXPECT_EQ(drift.exit_code, kExitOk) << drift.out << drift.err;
}

TEST_F(OneWayTest, ResyncWritesWhatDriftReports) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Pair (CODE, NAME) VALUES ('A', 'alpha');"
               "INSERT INTO Pair (CODE, NAME) VALUES ('B', 'beta');"));
  WriteConfig();
  Install();
  RunOnce();
  // ce's user overwrites a label: a one-way target's edit is left alone...
  ASSERT_TRUE(ce_.Exec("UPDATE pair SET label = 'overwritten' WHERE code = 'A';"));
  RunOnce();
  EXPECT_EQ(ce_.Value("SELECT label FROM pair WHERE code = 'A'"), "overwritten");
  RunResult drift = Duet("drift", {"pairs"});
  EXPECT_EQ(drift.exit_code, 1) << drift.out << drift.err;
  // ...until a resync from fo, after which drift has nothing fo can write.
  RunResult resync = Duet("resync", {"pairs", "--from", "fo"});
  EXPECT_EQ(resync.exit_code, kExitOk) << resync.out << resync.err;
  EXPECT_EQ(ce_.Value("SELECT label FROM pair WHERE code = 'A'"), "A-alpha");
  drift = Duet("drift", {"pairs"});
  EXPECT_EQ(drift.exit_code, kExitOk) << drift.out << drift.err;
}

}  // namespace
}  // namespace duet::e2e
