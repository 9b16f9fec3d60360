// One-way mappings (docs/sync.md, "How a pair of rows is reconciled"):
// when a pair comes into being, every mapping whose source side has a value
// is applied, one-way fields included, whether the pair was created on
// either side, matched by key, or resynced; right after `duet resync M
// --from S`, `duet drift M` reports nothing that S can write; and a one-way
// field computed from two-way columns is made of its source row as the
// reconcile leaves it, whichever side changed those columns.
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

// A map of maps/ with its tables made on both sides.
class MapTest : public E2eTest {
 protected:
  void SetUpMap(const std::string& map_file, std::string_view fo_tables,
                std::string_view ce_tables) {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({map_file});
    ASSERT_TRUE(fo_.Exec(fo_tables));
    ASSERT_TRUE(ce_.Exec(ce_tables));
  }
  // `duet drift MAP` exits with `exit_code` (0: no drift, 1: drift).
  void ExpectDrift(const std::string& map, int exit_code) {
    RunResult drift = Duet("drift", {map});
    EXPECT_EQ(drift.exit_code, exit_code) << drift.out << drift.err;
  }
};

class OneWayTest : public MapTest {
 protected:
  void SetUp() override { SetUpMap("pairs.duet", kPairsFo, kPairsCe); }
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
  ExpectDrift("pairs", kExitOk);
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
  ExpectDrift("pairs", 1);
  // ...until a resync from fo, after which drift has nothing fo can write.
  RunResult resync = Duet("resync", {"pairs", "--from", "fo"});
  EXPECT_EQ(resync.exit_code, kExitOk) << resync.out << resync.err;
  EXPECT_EQ(ce_.Value("SELECT label FROM pair WHERE code = 'A'"), "A-alpha");
  ExpectDrift("pairs", kExitOk);
}

// A one-way field computed from two-way columns (maps/searchnames.duet):
// after every run it equals its expression on its source row as that run
// left it, the values the other side wrote into that row included.
constexpr std::string_view kOrgsFo = R"sql(
CREATE TABLE Org (RECID INTEGER PRIMARY KEY, ACCOUNT TEXT NOT NULL,
                  ORGANIZATIONNAME TEXT CHECK (ORGANIZATIONNAME IS NOT 'Refused'),
                  FIRSTNAME TEXT, LASTNAME TEXT, SEARCHNAME TEXT);
CREATE INDEX Org_key ON Org (ACCOUNT);
)sql";
constexpr std::string_view kOrgsCe = R"sql(
CREATE TABLE account (accountid INTEGER PRIMARY KEY, accountnumber TEXT NOT NULL, name TEXT,
                      firstname TEXT, lastname TEXT, msdyn_searchname TEXT, contactname TEXT);
CREATE INDEX account_key ON account (accountnumber);
)sql";

class ComputedFieldTest : public MapTest {
 protected:
  void SetUp() override { SetUpMap("searchnames.duet", kOrgsFo, kOrgsCe); }
  // fo's ORGANIZATIONNAME, FIRSTNAME, LASTNAME, SEARCHNAME of `account`.
  Rows Fo(const std::string& account) const {
    return fo_.Query(
        "SELECT ORGANIZATIONNAME, FIRSTNAME, LASTNAME, SEARCHNAME FROM Org WHERE ACCOUNT = " +
        Quote(account));
  }
  // ce's name, firstname, lastname, msdyn_searchname, contactname of `account`.
  Rows Ce(const std::string& account) const {
    return ce_.Query(
        "SELECT name, firstname, lastname, msdyn_searchname, contactname FROM account "
        "WHERE accountnumber = " +
        Quote(account));
  }
  void ExpectNoDrift() { ExpectDrift("orgs", kExitOk); }
  // Creates C1 (Contoso, Ann Lee) in fo and syncs it.
  void SyncContoso() {
    ASSERT_TRUE(
        fo_.Exec("INSERT INTO Org (ACCOUNT, ORGANIZATIONNAME, FIRSTNAME, LASTNAME) VALUES "
                 "('C1', 'Contoso', 'Ann', 'Lee');"));
    WriteConfig();
    Install();
    RunOnce();
  }
};

TEST_F(ComputedFieldTest, AnEditOfASourceColumnOnEitherSideRecomputesTheComputedFields) {
  // Initial sync from ce: C1 only in fo; M1 on both sides, matched by key,
  // where ce's name wins and fo's computed fields must follow it.
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Org (ACCOUNT, ORGANIZATIONNAME, FIRSTNAME, LASTNAME) VALUES "
               "('C1', ' Contoso ', 'Ann', 'Lee'), ('M1', 'Fo Name', 'Max', 'Fo');"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO account (accountnumber, name, firstname, lastname) VALUES "
               "('M1', 'Ce Name', 'Max', 'Ce');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(Ce("C1"), (Rows{{" Contoso ", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  EXPECT_EQ(Fo("C1"), (Rows{{" Contoso ", "Ann", "Lee", "contoso"}}));
  EXPECT_EQ(Ce("M1"), (Rows{{"Ce Name", "Max", "Ce", "CE NAME", "Max Ce"}}))
      << "computed from fo's row as the initial sync left it, with ce's values";
  EXPECT_EQ(Fo("M1"), (Rows{{"Ce Name", "Max", "Ce", "ce name"}}));
  ExpectNoDrift();

  // The defect's scenario: ce renames the account.
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Fabrikam' WHERE accountnumber = 'C1';"));
  RunOnce();
  EXPECT_EQ(Fo("C1"), (Rows{{"Fabrikam", "Ann", "Lee", "fabrikam"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Fabrikam", "Ann", "Lee", "FABRIKAM", "Ann Lee"}}))
      << "ce's search name is computed from fo's name as merged, not as it was";
  ExpectNoDrift();

  // The mirror: fo renames it, and fo's SEARCHNAME comes from ce's new name.
  ASSERT_TRUE(fo_.Exec("UPDATE Org SET ORGANIZATIONNAME = 'Northwind' WHERE ACCOUNT = 'C1';"));
  RunOnce();
  EXPECT_EQ(Ce("C1"), (Rows{{"Northwind", "Ann", "Lee", "NORTHWIND", "Ann Lee"}}));
  EXPECT_EQ(Fo("C1"), (Rows{{"Northwind", "Ann", "Lee", "northwind"}}));
  ExpectNoDrift();

  // Each side changes one of contactname's two source columns.
  ASSERT_TRUE(fo_.Exec("UPDATE Org SET FIRSTNAME = 'Bo' WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(ce_.Exec("UPDATE account SET lastname = 'Kim' WHERE accountnumber = 'C1';"));
  RunOnce();
  EXPECT_EQ(Fo("C1"), (Rows{{"Northwind", "Bo", "Kim", "northwind"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Northwind", "Bo", "Kim", "NORTHWIND", "Bo Kim"}}));
  ExpectNoDrift();

  // Both rename it: the rule (master fo) picks fo's name, and fo's
  // SEARCHNAME is computed from ce's name as merged, not from ce's edit.
  ASSERT_TRUE(fo_.Exec("UPDATE Org SET ORGANIZATIONNAME = 'Fo Wins' WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Ce Loses' WHERE accountnumber = 'C1';"));
  RunOnce();
  EXPECT_EQ(Ce("C1"), (Rows{{"Fo Wins", "Bo", "Kim", "FO WINS", "Bo Kim"}}));
  EXPECT_EQ(Fo("C1"), (Rows{{"Fo Wins", "Bo", "Kim", "fo wins"}}));
  ExpectNoDrift();
  EXPECT_EQ(OpenErrors(), 0);
}

TEST_F(ComputedFieldTest, AResyncRecomputesFromTheRowItMerged) {
  SyncContoso();
  if (HasFatalFailure()) return;
  // fo's name changes behind duet's back (its change is not captured, as
  // after a restore); a resync from ce writes ce's name into fo, and ce's
  // search name is computed from that, not from the name it replaced.
  int64_t end = ChangelogEnd(fo_);
  ASSERT_TRUE(
      fo_.Exec("UPDATE Org SET ORGANIZATIONNAME = 'Lost', SEARCHNAME = 'lost' WHERE ACCOUNT = 'C1';"
               "DELETE FROM duet_changelog WHERE seq > " +
               std::to_string(end) + ";"));
  RunResult resync = Duet("resync", {"orgs", "--from", "ce"});
  EXPECT_EQ(resync.exit_code, kExitOk) << resync.out << resync.err;
  EXPECT_EQ(Fo("C1"), (Rows{{"Contoso", "Ann", "Lee", "contoso"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Contoso", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  RunOnce();
  EXPECT_EQ(Ce("C1"), (Rows{{"Contoso", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  ExpectNoDrift();
}

TEST_F(ComputedFieldTest, ARefusedWriteOfTheSourceLeavesTheComputedFieldAsItWas) {
  SyncContoso();
  if (HasFatalFailure()) return;
  // fo refuses the name (its CHECK): ce keeps its edit, but nothing computed
  // from a merge that did not happen reaches ce.
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Refused' WHERE accountnumber = 'C1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(Fo("C1"), (Rows{{"Contoso", "Ann", "Lee", "contoso"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Refused", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  Rows items = ErrorItems("orgs");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "rejected");
  // Once ce's name is one fo takes, both follow.
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Accepted' WHERE accountnumber = 'C1';"));
  RunOnce();
  EXPECT_EQ(Fo("C1"), (Rows{{"Accepted", "Ann", "Lee", "accepted"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Accepted", "Ann", "Lee", "ACCEPTED", "Ann Lee"}}));
  EXPECT_EQ(OpenErrors(), 0);
  ExpectNoDrift();
}

TEST_F(ComputedFieldTest, ARefusedSecondWriteKeepsTheFirstAndThePairConvergesLater) {
  SyncContoso();
  if (HasFatalFailure()) return;
  // Both sides changed: the merge writes fo first (ce's new name, and the
  // search name computed from it; ce's values computed from fo's row as
  // merged go only once fo took it), then ce, whose application refuses
  // Bo. The two databases have no common transaction, so fo's write stays;
  // the link's base does not move, and the item says what was refused.
  ASSERT_TRUE(
      ce_.Exec("CREATE TRIGGER app_refuses_bo BEFORE UPDATE ON account "
               "WHEN NEW.firstname = 'Bo' BEGIN SELECT RAISE(ABORT, 'Bo is refused'); END;"));
  ASSERT_TRUE(fo_.Exec("UPDATE Org SET FIRSTNAME = 'Bo' WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Renamed' WHERE accountnumber = 'C1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(Fo("C1"), (Rows{{"Renamed", "Bo", "Lee", "renamed"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Renamed", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  Rows items = ErrorItems("orgs");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "rejected");
  // The item is tried again in the next run, refused again, and nothing
  // else moves: fo's write is not taken for a change of fo's.
  RunOnce(kExitRowErrors);
  EXPECT_EQ(Fo("C1"), (Rows{{"Renamed", "Bo", "Lee", "renamed"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Renamed", "Ann", "Lee", "CONTOSO", "Ann Lee"}}));
  EXPECT_EQ(ErrorItems("orgs").size(), 1u);
  // Once ce takes Bo, the pair converges and the item closes.
  ASSERT_TRUE(ce_.Exec("DROP TRIGGER app_refuses_bo;"));
  RunOnce();
  EXPECT_EQ(Fo("C1"), (Rows{{"Renamed", "Bo", "Lee", "renamed"}}));
  EXPECT_EQ(Ce("C1"), (Rows{{"Renamed", "Bo", "Lee", "RENAMED", "Bo Lee"}}));
  EXPECT_EQ(OpenErrors(), 0);
  ExpectNoDrift();
}

}  // namespace
}  // namespace duet::e2e
