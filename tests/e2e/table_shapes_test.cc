// Real table shapes (issue 14): rows are named by their table's primary key
// (docs/sync.md, "Row identity"), so a Dataverse-like table keyed by a GUID
// text, an ERP table with a composite key and a WITHOUT ROWID table sync
// like any other, and an application's INSERT OR REPLACE of an existing
// key syncs as an update of the same pair. sqlite3 is the applications,
// `duet` a separate process.
#include <gmock/gmock.h>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

// maps/shapes.duet's tables; the partners of the shaped tables are plain
// rowid tables.
constexpr std::string_view kShapesFo = R"sql(
CREATE TABLE Acct (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT);
CREATE TABLE Line (DATAAREAID TEXT NOT NULL, LINENUM INTEGER NOT NULL, NAME TEXT,
                   PRIMARY KEY (DATAAREAID, LINENUM));
CREATE TABLE Part (PARTNO INTEGER PRIMARY KEY, NAME TEXT) WITHOUT ROWID;
)sql";
constexpr std::string_view kShapesCe = R"sql(
CREATE TABLE account (accountid TEXT PRIMARY KEY, accountnumber TEXT NOT NULL, name TEXT);
CREATE TABLE line (lineid INTEGER PRIMARY KEY, company TEXT NOT NULL, linenum INTEGER NOT NULL,
                   name TEXT);
CREATE TABLE part (partid INTEGER PRIMARY KEY, partno INTEGER NOT NULL, name TEXT);
)sql";

// A GUID for row `n` of the applications' own inserts into ce.account.
std::string Guid(int n) {
  std::string digits = std::to_string(n);
  return "00000000-0000-4000-8000-" + std::string(12 - digits.size(), '0') + digits;
}

// The SQL an application runs on one side of a map for logical row `n`
// (its key), and the side's rows as (key, name) in key order.
struct Side {
  std::function<std::string(int n, const std::string& name)> insert;
  std::function<std::string(int n, const std::string& name)> update;
  std::function<std::string(int n)> del;
  std::string rows;
};

class TableShapesTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"shapes.duet"});
    ASSERT_TRUE(fo_.Exec(kShapesFo));
    ASSERT_TRUE(ce_.Exec(kShapesCe));
  }

  // Initial sync of two rows from fo; then live inserts, updates and
  // deletes from fo and from ce, each synced; drift finds nothing.
  void SyncBothWays(const std::string& map, const Side& fo, const Side& ce) {
    ASSERT_TRUE(fo_.Exec(fo.insert(1, "one") + fo.insert(2, "two")));
    WriteConfig();
    Install();
    RunOnce();
    EXPECT_EQ(ce_.Query(ce.rows), (Rows{{"1", "one"}, {"2", "two"}})) << "initial sync";

    ASSERT_TRUE(fo_.Exec(fo.insert(3, "three") + fo.update(1, "uno") + fo.del(2)));
    RunOnce();
    EXPECT_EQ(ce_.Query(ce.rows), (Rows{{"1", "uno"}, {"3", "three"}})) << "live, from fo";

    ASSERT_TRUE(ce_.Exec(ce.insert(4, "four") + ce.update(3, "tres") + ce.del(1)));
    RunOnce();
    Rows expected = {{"3", "tres"}, {"4", "four"}};
    EXPECT_EQ(fo_.Query(fo.rows), expected) << "live, from ce";
    EXPECT_EQ(ce_.Query(ce.rows), expected);

    EXPECT_EQ(OpenErrors(), 0) << FormatRows(ErrorItems(map));
    RunResult drift = Duet("drift", {map});
    EXPECT_EQ(drift.exit_code, kExitOk) << Show({"duet", "drift", map}, drift);
  }

  // fo.Acct, a plain rowid table keyed by CODE.
  static Side Acct() {
    return Side{[](int n, const std::string& name) {
                  return "INSERT INTO Acct (CODE, NAME) VALUES ('" + std::to_string(n) + "', " +
                         Quote(name) + ");";
                },
                [](int n, const std::string& name) {
                  return "UPDATE Acct SET NAME = " + Quote(name) + " WHERE CODE = '" +
                         std::to_string(n) + "';";
                },
                [](int n) { return "DELETE FROM Acct WHERE CODE = '" + std::to_string(n) + "';"; },
                "SELECT CODE, NAME FROM Acct ORDER BY CODE"};
  }

  // ce.account, keyed by a GUID text primary key.
  static Side Account() {
    return Side{[](int n, const std::string& name) {
                  return "INSERT INTO account (accountid, accountnumber, name) VALUES (" +
                         Quote(Guid(n)) + ", '" + std::to_string(n) + "', " + Quote(name) + ");";
                },
                [](int n, const std::string& name) {
                  return "UPDATE account SET name = " + Quote(name) + " WHERE accountnumber = '" +
                         std::to_string(n) + "';";
                },
                [](int n) {
                  return "DELETE FROM account WHERE accountnumber = '" + std::to_string(n) + "';";
                },
                "SELECT accountnumber, name FROM account ORDER BY accountnumber"};
  }
};

// A Dataverse-like table: rows named by their GUID text primary key.
TEST_F(TableShapesTest, GuidTextPrimaryKey) {
  SyncBothWays("accounts", Acct(), Account());
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account WHERE length(accountid) = 36"), 2)
      << "duet's inserts get a GUID key";
}

// An ERP table keyed by (company, line number).
TEST_F(TableShapesTest, CompositePrimaryKey) {
  Side line{
      [](int n, const std::string& name) {
        return "INSERT INTO Line (DATAAREAID, LINENUM, NAME) VALUES ('usmf', " + std::to_string(n) +
               ", " + Quote(name) + "), ('dat', " + std::to_string(n) + ", 'other company');";
      },
      [](int n, const std::string& name) {
        return "UPDATE Line SET NAME = " + Quote(name) +
               " WHERE DATAAREAID = 'usmf' AND LINENUM = " + std::to_string(n) + ";";
      },
      [](int n) {
        return "DELETE FROM Line WHERE DATAAREAID = 'usmf' AND LINENUM = " + std::to_string(n) +
               ";";
      },
      "SELECT LINENUM, NAME FROM Line WHERE DATAAREAID = 'usmf' ORDER BY LINENUM"};
  Side ce_line{
      [](int n, const std::string& name) {
        return "INSERT INTO line (company, linenum, name) VALUES ('usmf', " + std::to_string(n) +
               ", " + Quote(name) + ");";
      },
      [](int n, const std::string& name) {
        return "UPDATE line SET name = " + Quote(name) +
               " WHERE company = 'usmf' AND linenum = " + std::to_string(n) + ";";
      },
      [](int n) {
        return "DELETE FROM line WHERE company = 'usmf' AND linenum = " + std::to_string(n) + ";";
      },
      "SELECT linenum, name FROM line WHERE company = 'usmf' ORDER BY linenum"};
  SyncBothWays("lines", line, ce_line);
  EXPECT_EQ(fo_.Query("SELECT LINENUM, NAME FROM Line WHERE DATAAREAID = 'dat' ORDER BY 1"),
            (Rows{{"1", "other company"}, {"2", "other company"}, {"3", "other company"}}))
      << "the other company's lines, with the same line numbers, are other rows";
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM line WHERE company = 'dat'"), 3);
}

// A WITHOUT ROWID table: installing capture on it leaves the application's
// writes working, and its rows sync.
TEST_F(TableShapesTest, WithoutRowidTable) {
  Side part{[](int n, const std::string& name) {
              return "INSERT INTO Part (PARTNO, NAME) VALUES (" + std::to_string(n) + ", " +
                     Quote(name) + ");";
            },
            [](int n, const std::string& name) {
              return "UPDATE Part SET NAME = " + Quote(name) +
                     " WHERE PARTNO = " + std::to_string(n) + ";";
            },
            [](int n) { return "DELETE FROM Part WHERE PARTNO = " + std::to_string(n) + ";"; },
            "SELECT PARTNO, NAME FROM Part ORDER BY PARTNO"};
  Side ce_part{[](int n, const std::string& name) {
                 return "INSERT INTO part (partno, name) VALUES (" + std::to_string(n) + ", " +
                        Quote(name) + ");";
               },
               [](int n, const std::string& name) {
                 return "UPDATE part SET name = " + Quote(name) +
                        " WHERE partno = " + std::to_string(n) + ";";
               },
               [](int n) { return "DELETE FROM part WHERE partno = " + std::to_string(n) + ";"; },
               "SELECT partno, name FROM part ORDER BY partno"};
  SyncBothWays("parts", part, ce_part);

  // A change of the primary key is the old row's delete and a new row.
  ASSERT_TRUE(fo_.Exec("UPDATE Part SET PARTNO = 7 WHERE PARTNO = 4;"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT partno, name FROM part ORDER BY partno"),
            (Rows{{"3", "tres"}, {"7", "four"}}));
  EXPECT_EQ(OpenErrors(), 0) << FormatRows(ErrorItems("parts"));
}

// INSERT OR REPLACE of an existing GUID key (an upsert by primary key) is
// an update of the same pair: the other side's row keeps its record id, and
// later changes keep syncing. SQLite fires no delete trigger for the row
// REPLACE removes.
TEST_F(TableShapesTest, InsertOrReplaceIsAnUpdateOfTheSamePair) {
  ASSERT_TRUE(fo_.Exec(Acct().insert(1, "one") + Acct().insert(2, "two")));
  WriteConfig();
  Install();
  RunOnce();
  std::string recid = fo_.Value("SELECT RECID FROM Acct WHERE CODE = '1'");
  std::string guid = ce_.Value("SELECT accountid FROM account WHERE accountnumber = '1'");
  ASSERT_FALSE(guid.empty());

  ASSERT_TRUE(ce_.Exec("INSERT OR REPLACE INTO account (accountid, accountnumber, name) VALUES (" +
                       Quote(guid) + ", '1', 'replaced');"));
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT RECID, CODE, NAME FROM Acct WHERE CODE = '1'"),
            (Rows{{recid, "1", "replaced"}}))
      << "the same fo row, updated";
  EXPECT_EQ(ce_.Query("SELECT accountid, name FROM account WHERE accountnumber = '1'"),
            (Rows{{guid, "replaced"}}))
      << "the ce row keeps its record id";

  ASSERT_TRUE(
      ce_.Exec("UPDATE account SET name = 'edited' WHERE accountid = " + Quote(guid) + ";"));
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT RECID, NAME FROM Acct WHERE CODE = '1'"), (Rows{{recid, "edited"}}));

  // The same from fo, whose INTEGER PRIMARY KEY is the rowid.
  ASSERT_TRUE(fo_.Exec("INSERT OR REPLACE INTO Acct (RECID, CODE, NAME) VALUES (" + recid +
                       ", '1', 'from fo');"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT accountid, name FROM account WHERE accountnumber = '1'"),
            (Rows{{guid, "from fo"}}));
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account"), 2);
  EXPECT_EQ(OpenErrors(), 0) << FormatRows(ErrorItems("accounts"));
  RunResult drift = Duet("drift", {"accounts"});
  EXPECT_EQ(drift.exit_code, kExitOk) << Show({"duet", "drift", "accounts"}, drift);
}

}  // namespace
}  // namespace duet::e2e

namespace duet::e2e {
namespace {

// The capture layout before primary keys (the first release's install,
// its DDL copied here): the changelog named the table as text and kept
// julianday times, and the triggers recorded the rowid. Built from the
// current layout of `tables`, every captured table of its database,
// keeping every change and its seq.
std::string FirstLayout(const std::vector<std::string>& tables) {
  std::string sql;
  for (const std::string& table : tables) {
    for (const char* op : {"insert", "update", "delete"}) {
      sql += "DROP TRIGGER \"duet_" + table + "_" + op + "\";\n";
    }
  }
  sql += R"sql(
CREATE TABLE duet_changelog_first (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL,
  rid INTEGER NOT NULL, op INTEGER NOT NULL, at REAL NOT NULL, origin TEXT);
INSERT INTO duet_changelog_first SELECT c.seq, t.name, c.rid, c.op,
  2440587.5 + c.at / 86400000.0, c.origin FROM duet_changelog AS c JOIN duet_tables AS t USING (tid);
DROP TABLE duet_changelog;
DROP TABLE duet_tables;
ALTER TABLE duet_changelog_first RENAME TO duet_changelog;
DELETE FROM duet_installed WHERE name IN ('duet_tables', 'duet_changelog_row',
  'duet_changelog_delete');
)sql";
  for (const std::string& table : tables) {
    for (auto [op, event, row, code] :
         {std::tuple{"insert", "INSERT", "NEW", 1}, std::tuple{"update", "UPDATE", "NEW", 2},
          std::tuple{"delete", "DELETE", "OLD", 3}}) {
      sql += std::string("CREATE TRIGGER IF NOT EXISTS \"duet_") + table + "_" + op + "\" AFTER " +
             event + " ON \"" + table +
             "\" BEGIN INSERT INTO duet_changelog (tbl, rid, op, at) VALUES ('" + table + "', " +
             row + ".rowid, " + std::to_string(code) + ", julianday('now')); END;\n";
    }
  }
  return sql;
}

class CaptureUpgradeTest : public E2eTest {};

// `duet install` upgrades a changelog of the first layout with changes
// still unread, and `duet run` then syncs every one of them; before the
// upgrade, `duet run` refuses with a message that says what to do.
TEST_F(CaptureUpgradeTest, InstallUpgradesTheFirstLayoutWithoutLosingAChange) {
  UseItems();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('I1', 'one', 1), ('I2', 'two', 2);"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM item"), 2);
  ASSERT_TRUE(fo_.Exec(FirstLayout({"Item"})));

  // The application's writes under the first layout's triggers, unread.
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (CODE, NAME, QTY) VALUES ('I3', 'three', 3);"
               "UPDATE Item SET NAME = 'uno' WHERE CODE = 'I1';"
               "DELETE FROM Item WHERE CODE = 'I2';"));
  ASSERT_EQ(fo_.Int("SELECT count(*) FROM duet_changelog WHERE origin IS NULL AND seq > "
                    "(SELECT max(seq) - 3 FROM duet_changelog)"),
            3);
  RunResult refused = Duet("run", {"--once"});
  EXPECT_EQ(refused.exit_code, kExitError) << refused.out << refused.err;
  EXPECT_THAT(refused.err, testing::HasSubstr("duet install")) << refused.err;

  Install();
  EXPECT_THAT(fo_.Value("SELECT sql FROM sqlite_master WHERE name = 'duet_Item_update'"),
              testing::HasSubstr("tid"))
      << "the first layout's trigger is replaced";
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT code, name, qty FROM item ORDER BY code"),
            (Rows{{"I1", "uno", "1"}, {"I3", "three", "3"}}));

  // A capture trigger whose definition differs is replaced as well.
  ASSERT_TRUE(
      fo_.Exec("DROP TRIGGER duet_Item_update;"
               "CREATE TRIGGER duet_Item_update AFTER UPDATE ON Item BEGIN SELECT 1; END;"));
  Install();
  ASSERT_TRUE(fo_.Exec("UPDATE Item SET QTY = 30 WHERE CODE = 'I3';"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT code, qty FROM item ORDER BY code"),
            (Rows{{"I1", "1"}, {"I3", "30"}}));
  EXPECT_EQ(OpenErrors(), 0);
}

// The layout before the partial index of deletes kept an index on (tid,
// rid) of every change (docs/performance.md, "Capture keyed by primary
// key"). `duet install` drops it and its record, adds the partial index, and
// every change captured under the old layout still syncs, a key deleted and
// inserted again (a new row under a reused rowid) included.
TEST_F(CaptureUpgradeTest, InstallReplacesTheRowIndexOfThePreviousLayout) {
  UseItems();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (RECID, CODE, NAME, QTY) VALUES (1, 'I1', 'one', 1),"
               " (2, 'I2', 'two', 2);"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM item"), 2);
  ASSERT_TRUE(
      fo_.Exec("DROP INDEX duet_changelog_delete;"
               "DELETE FROM duet_installed WHERE name = 'duet_changelog_delete';"
               "CREATE INDEX duet_changelog_row ON duet_changelog (tid, rid);"
               "INSERT INTO duet_installed (kind, name) VALUES ('index', 'duet_changelog_row');"));
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Item (RECID, CODE, NAME, QTY) VALUES (3, 'I3', 'three', 3);"
               "UPDATE Item SET NAME = 'uno' WHERE CODE = 'I1';"
               "DELETE FROM Item WHERE RECID = 2;"
               "INSERT INTO Item (RECID, CODE, NAME, QTY) VALUES (2, 'I4', 'four', 4);"));

  Install();
  auto indexes = [&] {
    return fo_.Query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'duet_changelog'"
        " UNION ALL SELECT '~' || name FROM duet_installed WHERE kind = 'index' AND"
        " name LIKE 'duet_changelog%' ORDER BY 1");
  };
  EXPECT_EQ(indexes(), (Rows{{"duet_changelog_delete"}, {"~duet_changelog_delete"}}));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT code, name, qty FROM item ORDER BY code"),
            (Rows{{"I1", "uno", "1"}, {"I3", "three", "3"}, {"I4", "four", "4"}}));
  EXPECT_EQ(OpenErrors(), 0);
  RunResult removed = Duet("uninstall");
  EXPECT_EQ(removed.exit_code, kExitOk) << removed.out << removed.err;
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM sqlite_master WHERE name LIKE 'duet%'"), 0);
}

// The first layout named rows by rowid, and so did the links of the state
// store: a table now named by a GUID primary key that holds rows is not
// upgraded (its links would name rows that do not exist), with a message,
// and its capture keeps working as it was.
TEST_F(TableShapesTest, UpgradeOfATableNamedByAnotherKeyIsRefused) {
  ASSERT_TRUE(fo_.Exec(Acct().insert(1, "one")));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM account"), 1);
  ASSERT_TRUE(ce_.Exec(FirstLayout({"account", "line", "part"})));
  Rows before = ce_.Schema();

  RunResult r = Duet("install");
  EXPECT_EQ(r.exit_code, kExitError) << r.out << r.err;
  EXPECT_THAT(r.err, testing::HasSubstr("named the rows of table 'account' by their rowid"));
  EXPECT_EQ(ce_.Schema(), before) << "nothing changed";
  ASSERT_TRUE(ce_.Exec(Account().update(1, "still captured")));
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM duet_changelog WHERE tbl = 'account' AND op = 2"), 1);
}

}  // namespace
}  // namespace duet::e2e
