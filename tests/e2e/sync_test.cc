// End-to-end behaviour of the sync runtime, one docs/sync.md section per
// test: two SQLite databases written by sqlite3 as the applications, the
// real duet binary run between the writes, and the databases and the state
// store read back with sqlite3. Every check follows from docs/sync.md; none
// depends on timing (the `newest` rule's tests set the capture times they
// compare).
#include <gmock/gmock.h>

#include <chrono>
#include <regex>

#include "tests/e2e/harness.h"
#include "tests/e2e/schemas.h"

namespace duet::e2e {
namespace {

using testing::HasSubstr;

// ---------------------------------------------------------------------------
// Customers and groups (maps/customers.duet).

class CustomersTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"customers.duet"});
    ASSERT_TRUE(fo_.Exec(kCustomersFo));
    ASSERT_TRUE(ce_.Exec(kCustomersCe));
  }

  // The fo customer as the map sees it: NAME, GROUPID, ONHOLD, PARTYTYPE,
  // MEMO; empty when there is no such row.
  std::vector<std::string> FoCustomer(const std::string& account) {
    Rows rows =
        fo_.Query("SELECT NAME, GROUPID, ONHOLD, PARTYTYPE, MEMO FROM Customer WHERE ACCOUNT = " +
                  Quote(account));
    EXPECT_LE(rows.size(), 1u) << "duplicate fo customer " << account << "\n" << FormatRows(rows);
    return rows.empty() ? std::vector<std::string>() : rows[0];
  }

  // The ce account: name, the code of the group its ref points at, onhold,
  // searchname, memo, typecode; empty when there is no such row.
  std::vector<std::string> CeAccount(const std::string& number) {
    Rows rows = ce_.Query(
        "SELECT a.name, g.code, a.onhold, a.searchname, a.memo, a.typecode FROM account a "
        "LEFT JOIN customergroup g ON g.groupid = a.groupref WHERE a.accountnumber = " +
        Quote(number));
    EXPECT_LE(rows.size(), 1u) << "duplicate ce account " << number << "\n" << FormatRows(rows);
    return rows.empty() ? std::vector<std::string>() : rows[0];
  }

  std::string CeGroupId(const std::string& code) {
    return ce_.Value("SELECT groupid FROM customergroup WHERE code = " + Quote(code));
  }
};

using Row = std::vector<std::string>;

// Issue 4, item 1: inserts, updates and deletes on either side reach the
// other with the value map, the constants, the computed one-way field, the
// lookup and the filters applied; a row that stops matching its filter stops
// syncing and its partner stays as it is.
TEST_F(CustomersTest, CreateUpdateDeleteReachTheOtherSideWithMapsAndFiltersApplied) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO CustGroup (GROUPID, DESCRIPTION) VALUES ('G1', 'Wholesale'), "
               "('G2', 'Retail');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT code, description FROM customergroup ORDER BY code"),
            (Rows{{"G1", "Wholesale"}, {"G2", "Retail"}}));

  // Inserts on both sides; P1 (a person) and X4 (typecode 4) are filtered.
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Customer (ACCOUNT, NAME, GROUPID, ONHOLD, PARTYTYPE, MEMO) VALUES "
               "('C1', ' Contoso ', 'G1', 'no', 'Organization', 'memo1'),"
               "('C5', 'Five', 'G2', 'all', 'Organization', NULL),"
               "('P1', 'Person One', NULL, 'no', 'Person', NULL);"));
  ASSERT_TRUE(ce_.Exec(
      "INSERT INTO account (accountnumber, name, groupref, onhold, typecode) VALUES "
      "('A2', 'Fabrikam', (SELECT groupid FROM customergroup WHERE code = 'G2'), 806380001, 3),"
      "('A6', 'Six', NULL, NULL, 3),"
      "('X4', 'Not a customer', NULL, NULL, 4);"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{" Contoso ", "G1", "806380000", "CONTOSO", "memo1", "3"}));
  EXPECT_EQ(CeAccount("C5"), (Row{"Five", "G2", "806380002", "FIVE", "NULL", "3"}));
  EXPECT_EQ(CeAccount("P1"), Row{}) << "a fo row its filter rejects must not be synced";
  EXPECT_EQ(FoCustomer("A2"), (Row{"Fabrikam", "G2", "invoice", "Organization", "NULL"}));
  EXPECT_EQ(FoCustomer("A6"), (Row{"Six", "NULL", "NULL", "Organization", "NULL"}));
  EXPECT_EQ(FoCustomer("X4"), Row{}) << "a ce row its filter rejects must not be synced";
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM Customer"), 5);
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account"), 5);

  // Updates on both sides, including a lookup change each way, and an edit
  // of the one-way target column searchname, which is left alone.
  ASSERT_TRUE(
      fo_.Exec("UPDATE Customer SET NAME = 'Contoso Ltd', GROUPID = 'G2' "
               "WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(
      ce_.Exec("UPDATE account SET name = 'Fabrikam Inc', onhold = 806380002, "
               "groupref = (SELECT groupid FROM customergroup WHERE code = 'G1') "
               "WHERE accountnumber = 'A2';"
               "UPDATE account SET searchname = 'edited in ce' WHERE accountnumber = 'C5';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Contoso Ltd", "G2", "806380000", "CONTOSO LTD", "memo1", "3"}));
  EXPECT_EQ(FoCustomer("A2"), (Row{"Fabrikam Inc", "G1", "all", "Organization", "NULL"}));
  EXPECT_EQ(CeAccount("C5"), (Row{"Five", "G2", "806380002", "edited in ce", "NULL", "3"}))
      << "an edit of a one-way target column is left alone";
  EXPECT_EQ(FoCustomer("C5"), (Row{"Five", "G2", "all", "Organization", "NULL"}));

  // The next change of the source overwrites the one-way target column.
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET NAME = 'Five Ltd' WHERE ACCOUNT = 'C5';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C5"), (Row{"Five Ltd", "G2", "806380002", "FIVE LTD", "NULL", "3"}));

  // C1 and A2 stop matching their filters: the links are dropped, the
  // partners stay as they are, and later edits (even a delete) do not sync.
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET PARTYTYPE = 'Person' WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(ce_.Exec("UPDATE account SET typecode = 4 WHERE accountnumber = 'A2';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Contoso Ltd", "G2", "806380000", "CONTOSO LTD", "memo1", "3"}));
  EXPECT_EQ(FoCustomer("A2"), (Row{"Fabrikam Inc", "G1", "all", "Organization", "NULL"}));
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET NAME = 'Contoso Person' WHERE ACCOUNT = 'C1';"));
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Fabrikam Gone' WHERE accountnumber = 'A2';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Contoso Ltd", "G2", "806380000", "CONTOSO LTD", "memo1", "3"}))
      << "a row that stopped matching its filter must not sync";
  EXPECT_EQ(FoCustomer("A2"), (Row{"Fabrikam Inc", "G1", "all", "Organization", "NULL"}))
      << "a row that stopped matching its filter must not sync";
  ASSERT_TRUE(fo_.Exec("DELETE FROM Customer WHERE ACCOUNT = 'C1';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Contoso Ltd", "G2", "806380000", "CONTOSO LTD", "memo1", "3"}))
      << "deleting an unlinked (filtered) row must not delete its former partner";

  // A2 matches again: matched by key as if new (no second row), and the
  // map's rule (master fo) settles the name, which differs.
  ASSERT_TRUE(ce_.Exec("UPDATE account SET typecode = 3 WHERE accountnumber = 'A2';"));
  RunOnce();
  EXPECT_EQ(FoCustomer("A2"), (Row{"Fabrikam Inc", "G1", "all", "Organization", "NULL"}));
  EXPECT_EQ(CeAccount("A2"), (Row{"Fabrikam Inc", "G1", "806380002", "FABRIKAM INC", "NULL", "3"}));

  // Deletes on either side delete the partner.
  ASSERT_TRUE(fo_.Exec("DELETE FROM Customer WHERE ACCOUNT = 'C5';"));
  ASSERT_TRUE(ce_.Exec("DELETE FROM account WHERE accountnumber = 'A6';"));
  RunOnce();
  EXPECT_EQ(CeAccount("C5"), Row{});
  EXPECT_EQ(FoCustomer("A6"), Row{});
  EXPECT_EQ(fo_.Query("SELECT ACCOUNT FROM Customer ORDER BY ACCOUNT"), (Rows{{"A2"}, {"P1"}}));
  EXPECT_EQ(ce_.Query("SELECT accountnumber FROM account ORDER BY accountnumber"),
            (Rows{{"A2"}, {"C1"}, {"X4"}}));
  EXPECT_EQ(OpenErrors(), 0);
}

// Issue 4, item 2: rows on both sides before the first run are matched by
// alternate key (the `initial from` side wins differing fields), and a later
// key change updates the partner row in place.
TEST_F(CustomersTest, AlternateKeysMatchAtInitialSyncAndKeyChangesUpdateThePartner) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Customer (ACCOUNT, NAME, ONHOLD, PARTYTYPE) VALUES "
               "('C1', 'Fo One', 'no', 'Organization'), ('C2', 'Fo Two', NULL, 'Organization');"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO account (accountnumber, name, onhold, typecode) VALUES "
               "('C1', 'Ce One', 806380001, 3), ('C3', 'Ce Three', NULL, 3);"));
  std::string c1_id = ce_.Value("SELECT accountid FROM account WHERE accountnumber = 'C1'");
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT ACCOUNT, count(*) FROM Customer GROUP BY ACCOUNT ORDER BY 1"),
            (Rows{{"C1", "1"}, {"C2", "1"}, {"C3", "1"}}));
  EXPECT_EQ(ce_.Query("SELECT accountnumber, count(*) FROM account GROUP BY 1 ORDER BY 1"),
            (Rows{{"C1", "1"}, {"C2", "1"}, {"C3", "1"}}));
  EXPECT_EQ(ce_.Value("SELECT accountid FROM account WHERE accountnumber = 'C1'"), c1_id)
      << "the existing ce row is the partner, not a new one";
  EXPECT_EQ(FoCustomer("C1"), (Row{"Fo One", "NULL", "no", "Organization", "NULL"}));
  EXPECT_EQ(CeAccount("C1"), (Row{"Fo One", "NULL", "806380000", "FO ONE", "NULL", "3"}))
      << "initial from fo: fo's values win the fields that differ";
  EXPECT_EQ(FoCustomer("C3"), (Row{"Ce Three", "NULL", "NULL", "Organization", "NULL"}));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_links WHERE map = 'customers'"), 3);

  // A key change on fo renames the partner (the same ce row).
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET ACCOUNT = 'C1X' WHERE ACCOUNT = 'C1';"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT accountnumber FROM account ORDER BY 1"),
            (Rows{{"C1X"}, {"C2"}, {"C3"}}));
  EXPECT_EQ(ce_.Value("SELECT accountid FROM account WHERE accountnumber = 'C1X'"), c1_id);
  // And one on ce renames its fo partner.
  std::string c3_recid = fo_.Value("SELECT RECID FROM Customer WHERE ACCOUNT = 'C3'");
  ASSERT_TRUE(ce_.Exec("UPDATE account SET accountnumber = 'C3Y' WHERE accountnumber = 'C3';"));
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT ACCOUNT FROM Customer ORDER BY 1"), (Rows{{"C1X"}, {"C2"}, {"C3Y"}}));
  EXPECT_EQ(fo_.Value("SELECT RECID FROM Customer WHERE ACCOUNT = 'C3Y'"), c3_recid);
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_links WHERE map = 'customers'"), 3);
}

// Issue 4, item 3a: a customer whose group does not exist on the target yet
// waits (neither written nor an error) and completes when the group arrives.
TEST_F(CustomersTest, LookupWaitsForTheReferencedRowAndCompletesWhenItArrives) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO CustGroup (GROUPID) VALUES ('G1');"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Customer (ACCOUNT, NAME, GROUPID, PARTYTYPE) VALUES "
               "('C1', 'Waits', 'G9', 'Organization'), ('C2', 'Goes', 'G1', 'Organization');"));
  RunOnce(kExitOk);
  EXPECT_EQ(CeAccount("C1"), Row{}) << "the group G9 does not exist on ce yet";
  EXPECT_EQ(CeAccount("C2"), (Row{"Goes", "G1", "NULL", "GOES", "NULL", "3"}));
  EXPECT_EQ(OpenErrors(), 0) << "a waiting change is not an error";
  EXPECT_GE(state_.Int("SELECT count(*) FROM duet_waiting WHERE map = 'customers'"), 1);

  ASSERT_TRUE(fo_.Exec("INSERT INTO CustGroup (GROUPID) VALUES ('G9');"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Waits", "G9", "NULL", "WAITS", "NULL", "3"}));
  EXPECT_EQ(ce_.Value("SELECT groupref FROM account WHERE accountnumber = 'C1'"), CeGroupId("G9"));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_waiting WHERE map = 'customers'"), 0);
  EXPECT_EQ(OpenErrors(), 0);
}

// Issue 4, item 3b: with lookup_timeout_seconds 0 a reference that never
// arrives becomes a missing_reference item; it resolves once the row comes.
TEST_F(CustomersTest, LookupThatNeverArrivesBecomesMissingReference) {
  WriteConfig({{"lookup_timeout_seconds", 0}});
  Install();
  RunOnce();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Customer (ACCOUNT, NAME, GROUPID, PARTYTYPE) VALUES "
               "('C1', 'Orphan', 'G9', 'Organization');"));
  std::string recid = fo_.Value("SELECT RECID FROM Customer WHERE ACCOUNT = 'C1'");
  // docs/sync.md does not say whether a timeout of 0 turns the wait into an
  // item in the same cycle or the next, so up to three runs may take it
  // there; each must exit 0 (waiting) or 1 (the item is open).
  Rows items;
  for (int i = 0; i < 3 && items.empty(); ++i) {
    RunResult r = Duet("run", {"--once"});
    ASSERT_TRUE(r.exit_code == kExitOk || r.exit_code == kExitRowErrors)
        << Show({"duet", "run", "--once"}, r);
    items = ErrorItems("customers");
  }
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "missing_reference");
  EXPECT_EQ(items[0][1], "fo");
  EXPECT_FALSE(items[0][3].empty()) << "an item has a reason";
  EXPECT_EQ(items[0][4], recid);
  EXPECT_THAT(items[0][5], HasSubstr("Orphan")) << "the source row is kept as JSON";
  EXPECT_EQ(CeAccount("C1"), Row{});
  RunOnce(kExitRowErrors);  // the item is still open

  // The group arrives; the next run retries the item and closes it.
  ASSERT_TRUE(fo_.Exec("INSERT INTO CustGroup (GROUPID) VALUES ('G9');"));
  RunOnce();
  EXPECT_EQ(CeAccount("C1"), (Row{"Orphan", "G9", "NULL", "ORPHAN", "NULL", "3"}));
  Rows all = ErrorItems("customers", /*open_only=*/false);
  ASSERT_EQ(all.size(), 1u) << FormatRows(all);
  EXPECT_EQ(all[0][2], "resolved");
}

// Issue 4, item 3c: initial sync runs the maps in the bundle's dependency
// order (groups first), although customers is declared first. With a lookup
// timeout of 0, a customer synced before its group would be an error item.
TEST_F(CustomersTest, InitialSyncRunsMapsInDependencyOrder) {
  std::string sql =
      "INSERT INTO CustGroup (GROUPID, DESCRIPTION) VALUES ('G1', 'one'), "
      "('G2', 'two'), ('G3', 'three');";
  for (int i = 0; i < 12; ++i) {
    sql += "INSERT INTO Customer (ACCOUNT, NAME, GROUPID, PARTYTYPE) VALUES ('C" +
           std::to_string(i) + "', 'n" + std::to_string(i) + "', 'G" + std::to_string(1 + i % 3) +
           "', 'Organization');";
  }
  ASSERT_TRUE(fo_.Exec(sql));
  WriteConfig({{"lookup_timeout_seconds", 0}});
  Install();
  RunOnce(kExitOk);
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account"), 12);
  EXPECT_EQ(ce_.Query("SELECT a.accountnumber FROM account a LEFT JOIN customergroup g "
                      "ON g.groupid = a.groupref WHERE g.code IS NULL"),
            Rows{})
      << "every customer must have its group reference set";
  Rows fo_rows = fo_.Query("SELECT ACCOUNT, GROUPID FROM Customer ORDER BY ACCOUNT");
  Rows ce_rows = ce_.Query(
      "SELECT a.accountnumber, g.code FROM account a JOIN customergroup g "
      "ON g.groupid = a.groupref ORDER BY a.accountnumber");
  EXPECT_EQ(fo_rows, ce_rows);
  EXPECT_EQ(state_.Query("SELECT kind, reason FROM duet_errors"), Rows{});
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_waiting"), 0);
}

// Issue 4, item 5: no echo. Test triggers count every write per row on
// both sides; one application write causes exactly one write on the other
// side and none back (but the one-way field the other side computes from
// it, once), and further runs write nothing.
TEST_F(CustomersTest, NoEcho) {
  constexpr std::string_view kWriteLog = R"sql(
CREATE TABLE write_log (seq INTEGER PRIMARY KEY, tbl TEXT, rid INTEGER, op TEXT);
)sql";
  ASSERT_TRUE(fo_.Exec(std::string(kWriteLog) + R"sql(
CREATE TRIGGER test_customer_ins AFTER INSERT ON Customer BEGIN
  INSERT INTO write_log (tbl, rid, op) VALUES ('Customer', NEW.RECID, 'insert'); END;
CREATE TRIGGER test_customer_upd AFTER UPDATE ON Customer BEGIN
  INSERT INTO write_log (tbl, rid, op) VALUES ('Customer', NEW.RECID, 'update'); END;
INSERT INTO CustGroup (GROUPID) VALUES ('G1');
INSERT INTO Customer (ACCOUNT, NAME, GROUPID, ONHOLD, PARTYTYPE)
  VALUES ('C1', 'Echo', 'G1', 'no', 'Organization');
)sql"));
  ASSERT_TRUE(ce_.Exec(std::string(kWriteLog) + R"sql(
CREATE TRIGGER test_account_ins AFTER INSERT ON account BEGIN
  INSERT INTO write_log (tbl, rid, op) VALUES ('account', NEW.accountid, 'insert'); END;
CREATE TRIGGER test_account_upd AFTER UPDATE ON account BEGIN
  INSERT INTO write_log (tbl, rid, op) VALUES ('account', NEW.accountid, 'update'); END;
)sql"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT op FROM write_log"), (Rows{{"insert"}}));
  EXPECT_EQ(fo_.Query("SELECT op FROM write_log"), (Rows{{"insert"}}))
      << "initial sync must not write back to the seeding side";
  ASSERT_TRUE(fo_.Exec("DELETE FROM write_log;"));
  ASSERT_TRUE(ce_.Exec("DELETE FROM write_log;"));
  std::string recid = fo_.Value("SELECT RECID FROM Customer WHERE ACCOUNT = 'C1'");
  std::string accountid = ce_.Value("SELECT accountid FROM account WHERE accountnumber = 'C1'");
  // The changelog's rows with their table's name (duet_tables).
  const std::string kChangesAfter =
      "SELECT t.name, c.rid, c.op, c.origin FROM duet_changelog AS c JOIN duet_tables AS t "
      "USING (tid) WHERE c.seq > ";
  auto max_seq = [](const Sqlite& db) {
    return std::to_string(db.Int("SELECT coalesce(max(seq), 0) FROM duet_changelog"));
  };

  // One application update on fo: one changelog row with origin null.
  std::string fo_seq = max_seq(fo_);
  std::string ce_seq = max_seq(ce_);
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET NAME = 'Echo 2' WHERE ACCOUNT = 'C1';"));
  EXPECT_EQ(fo_.Query(kChangesAfter + fo_seq), (Rows{{"Customer", recid, "2", "NULL"}}));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT rid, op FROM write_log"), (Rows{{accountid, "update"}}))
      << "one application write: exactly one write on the other side";
  EXPECT_EQ(fo_.Query("SELECT rid, op FROM write_log"), (Rows{{recid, "update"}}))
      << "and none back";
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM duet_changelog WHERE origin IS NULL AND seq > " + ce_seq),
            0)
      << "duet's own write is captured with its map as origin";
  EXPECT_EQ(ce_.Query("SELECT DISTINCT origin FROM duet_changelog WHERE seq > " + ce_seq +
                      " AND origin IS NOT NULL"),
            ce_.Int("SELECT count(*) FROM duet_changelog WHERE seq > " + ce_seq) > 0
                ? Rows{{"customers"}}
                : Rows{});
  EXPECT_EQ(CeAccount("C1"), (Row{"Echo 2", "G1", "806380000", "ECHO 2", "NULL", "3"}));

  // The same from ce, except that ce's searchname is computed from fo's
  // NAME, which ce's write changes: that is the one write back, duet's own.
  fo_seq = max_seq(fo_);
  ce_seq = max_seq(ce_);
  ASSERT_TRUE(ce_.Exec("UPDATE account SET name = 'Echo 3' WHERE accountnumber = 'C1';"));
  EXPECT_EQ(ce_.Query(kChangesAfter + ce_seq), (Rows{{"account", accountid, "2", "NULL"}}));
  std::string ce_app_seq = max_seq(ce_);
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT rid, op FROM write_log"),
            (Rows{{recid, "update"}, {recid, "update"}}));
  EXPECT_EQ(ce_.Query("SELECT rid, op FROM write_log"),
            (Rows{{accountid, "update"}, {accountid, "update"}, {accountid, "update"}}));
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM duet_changelog WHERE origin IS NULL AND seq > " + fo_seq),
            0);
  EXPECT_EQ(ce_.Query("SELECT DISTINCT origin FROM duet_changelog WHERE seq > " + ce_app_seq),
            (Rows{{"customers"}}));
  EXPECT_EQ(FoCustomer("C1"), (Row{"Echo 3", "G1", "no", "Organization", "NULL"}));
  EXPECT_EQ(CeAccount("C1"), (Row{"Echo 3", "G1", "806380000", "ECHO 3", "NULL", "3"}));

  // Nothing is pending, so further runs write nothing at all.
  Rows fo_before = fo_.Query("SELECT * FROM Customer ORDER BY RECID");
  Rows ce_before = ce_.Query("SELECT * FROM account ORDER BY accountid");
  RunOnce();
  RunOnce();
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM write_log"), 2);
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM write_log"), 3);
  EXPECT_EQ(fo_.Query("SELECT * FROM Customer ORDER BY RECID"), fo_before);
  EXPECT_EQ(ce_.Query("SELECT * FROM account ORDER BY accountid"), ce_before);
}

// `status --json`: its shape before and after a run, and backlog counts.
TEST_F(CustomersTest, StatusJsonShape) {
  WriteConfig();
  Install();
  auto find = [](const nlohmann::json& status, const std::string& name) {
    for (const auto& m : status["maps"])
      if (m.value("name", "") == name) return m;
    ADD_FAILURE() << "no map " << name << " in " << status.dump();
    return nlohmann::json();
  };
  nlohmann::json status = StatusJson();
  ASSERT_TRUE(status.is_object() && status["maps"].is_array()) << status.dump();
  ASSERT_EQ(status["maps"].size(), 2u) << status.dump();
  for (nlohmann::json m : status["maps"]) {  // a copy: operator[] may add keys
    EXPECT_TRUE(m["name"].is_string()) << m.dump();
    EXPECT_EQ(m["state"], "new") << m.dump();
    EXPECT_EQ(m["linked"], 0) << m.dump();
    EXPECT_TRUE(m["backlog"].is_object() && m["backlog"]["fo"].is_number_integer() &&
                m["backlog"]["ce"].is_number_integer())
        << m.dump();
    EXPECT_TRUE(m["last_sync"].is_null()) << m.dump();
    EXPECT_EQ(m["errors"], 0) << m.dump();
  }

  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO CustGroup (GROUPID) VALUES ('G1'), ('G2');"
      "INSERT INTO Customer (ACCOUNT, GROUPID, PARTYTYPE) VALUES ('C1', 'G1', 'Organization'),"
      "('C2', 'G2', 'Organization'), ('C3', NULL, 'Organization');"));
  RunOnce();
  status = StatusJson();
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  for (const auto& [name, linked] : {std::pair<std::string, int>{"customers", 3},
                                     std::pair<std::string, int>{"customergroups", 2}}) {
    nlohmann::json m = find(status, name);
    EXPECT_EQ(m["state"], "live") << m.dump();
    EXPECT_EQ(m["linked"], linked) << m.dump();
    EXPECT_EQ(m["backlog"], (nlohmann::json{{"fo", 0}, {"ce", 0}})) << m.dump();
    EXPECT_TRUE(m["last_sync"].is_string() &&
                std::regex_match(m["last_sync"].get<std::string>(), iso))
        << m.dump();
    EXPECT_EQ(m["errors"], 0) << m.dump();
  }

  // A captured change not yet reconciled is backlog on its side.
  ASSERT_TRUE(fo_.Exec("UPDATE Customer SET NAME = 'x' WHERE ACCOUNT = 'C1';"));
  status = StatusJson();
  EXPECT_EQ(find(status, "customers")["backlog"], (nlohmann::json{{"fo", 1}, {"ce", 0}}));
  EXPECT_EQ(find(status, "customergroups")["backlog"], (nlohmann::json{{"fo", 0}, {"ce", 0}}));

  // Latency counts the changes the map synced: the update above and a new
  // organization, not a person the filter leaves out.
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO Customer (ACCOUNT, GROUPID, PARTYTYPE) VALUES ('C4', 'G1', 'Organization'),"
      "('P1', 'G1', 'Person');"));
  RunOnce();
  EXPECT_EQ(find(StatusJson(), "customers")["latency"]["fo->ce"]["15m"]["changes"], 2)
      << StatusJson().dump(2);
}

// `install` adds exactly the documented objects, a second install changes
// nothing, and `uninstall` leaves sqlite_master as it was before install.
TEST_F(CustomersTest, InstallIsIdempotentAndUninstallRestoresTheSchema) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Customer (ACCOUNT, PARTYTYPE) VALUES ('C1', 'Organization');"));
  Rows fo_before = fo_.Schema();
  Rows ce_before = ce_.Schema();
  WriteConfig();
  Install();
  Rows fo_installed = fo_.Schema();
  Rows ce_installed = ce_.Schema();
  auto duet_objects = [](const Sqlite& db) {
    return db.Query(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name LIKE 'duet\\_%' ESCAPE '\\' "
        "AND type IN ('table', 'trigger') ORDER BY name");
  };
  // ORDER BY name is by bytes: upper case before lower case.
  EXPECT_EQ(duet_objects(fo_), (Rows{{"trigger", "duet_CustGroup_delete", "CustGroup"},
                                     {"trigger", "duet_CustGroup_insert", "CustGroup"},
                                     {"trigger", "duet_CustGroup_update", "CustGroup"},
                                     {"trigger", "duet_Customer_delete", "Customer"},
                                     {"trigger", "duet_Customer_insert", "Customer"},
                                     {"trigger", "duet_Customer_update", "Customer"},
                                     {"table", "duet_changelog", "duet_changelog"},
                                     {"table", "duet_installed", "duet_installed"},
                                     {"table", "duet_tables", "duet_tables"}}));
  EXPECT_EQ(duet_objects(ce_), (Rows{{"trigger", "duet_account_delete", "account"},
                                     {"trigger", "duet_account_insert", "account"},
                                     {"trigger", "duet_account_update", "account"},
                                     {"table", "duet_changelog", "duet_changelog"},
                                     {"trigger", "duet_customergroup_delete", "customergroup"},
                                     {"trigger", "duet_customergroup_insert", "customergroup"},
                                     {"trigger", "duet_customergroup_update", "customergroup"},
                                     {"table", "duet_installed", "duet_installed"},
                                     {"table", "duet_tables", "duet_tables"}}));
  EXPECT_EQ(fo_.Query("SELECT kind, name FROM duet_installed WHERE name = 'duet_Customer_update'"),
            (Rows{{"trigger", "duet_Customer_update"}}));

  Install();
  EXPECT_EQ(fo_.Schema(), fo_installed) << "a second install must change nothing";
  EXPECT_EQ(ce_.Schema(), ce_installed) << "a second install must change nothing";

  RunOnce();
  DuetExpect(kExitOk, "uninstall");
  EXPECT_EQ(fo_.Schema(), fo_before) << FormatRows(fo_.Schema());
  EXPECT_EQ(ce_.Schema(), ce_before) << FormatRows(ce_.Schema());
  EXPECT_EQ(ce_.Query("SELECT accountnumber FROM account"), (Rows{{"C1"}}))
      << "uninstall leaves the data alone";
}

// Configuration errors name the key, exit 2 and touch no database.
TEST_F(CustomersTest, ConfigurationErrorsNameTheKeyAndTouchNothing) {
  Rows fo_before = fo_.Schema();
  Rows ce_before = ce_.Schema();
  auto expect_refused = [&](const std::string& config, const std::string& named,
                            const EnvChanges& env = {}) {
    WriteConfigText(config);
    for (const char* command : {"install", "run", "status"}) {
      std::vector<std::string> args;
      if (std::string(command) == "run") args = {"--once"};
      RunResult r = Duet(command, args, env);
      EXPECT_EQ(r.exit_code, kExitError) << config << "\n" << Show({"duet", command}, r);
      EXPECT_THAT(r.err, HasSubstr(named)) << config << "\n" << Show({"duet", command}, r);
    }
  };
  const std::string base =
      R"("bundle": "maps.duetb", "systems": {"fo": "sqlite:fo.db", "ce": "sqlite:ce.db"})";
  expect_refused("{" + base + R"(, "state": "sqlite:state.db", "bogus_key": 1})", "bogus_key");
  expect_refused(R"({"bundle": "maps.duetb", "systems": {"fo": "sqlite:fo.db"},
                    "state": "sqlite:state.db"})",
                 "ce");
  expect_refused(R"({"bundle": "maps.duetb", "state": "sqlite:state.db",
                    "systems": {"fo": "sqlite:fo.db", "ce": "sqlite:ce.db", "crm": "sqlite:x.db"}})",
                 "crm");
  expect_refused("{" + base + R"(, "state": "sqlite:${DUET_E2E_UNSET_VARIABLE}.db"})",
                 "DUET_E2E_UNSET_VARIABLE", {{"DUET_E2E_UNSET_VARIABLE", std::nullopt}});
  expect_refused("{" + base + R"(, "state": "sqlite:state.db", "batch_size": "ten"})",
                 "batch_size");
  expect_refused("{" + base + R"(, "state": "sqlite:state.db", "batch_size": 0})", "batch_size");
  expect_refused("{" + base + R"(, "state": "sqlite:state.db", "poll_interval_ms": 60001})",
                 "poll_interval_ms");
  expect_refused(R"({"systems": {"fo": "sqlite:fo.db", "ce": "sqlite:ce.db"},
                    "state": "sqlite:state.db"})",
                 "bundle");
  EXPECT_EQ(fo_.Schema(), fo_before);
  EXPECT_EQ(ce_.Schema(), ce_before);
  EXPECT_FALSE(fs::exists(dir_ / "state.db"));
  EXPECT_FALSE(fs::exists(dir_ / "x.db"));

  // With the variable set, the same configuration works.
  WriteConfigText("{" + base + R"(, "state": "sqlite:${DUET_E2E_STATE}.db"})");
  EnvChanges env = {{"DUET_E2E_STATE", "state-from-env"}};
  RunResult r = Duet("install", {}, env);
  EXPECT_EQ(r.exit_code, kExitOk) << Show({"duet", "install"}, r);
  r = Duet("run", {"--once"}, env);
  EXPECT_EQ(r.exit_code, kExitOk) << Show({"duet", "run", "--once"}, r);
  EXPECT_TRUE(fs::exists(dir_ / "state-from-env.db"));
}

// `run` checks the live schema first and refuses a missing column, naming
// system, table and column; it also refuses a database without install.
TEST_F(CustomersTest, RunRefusesASchemaMismatchAndAMissingInstall) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Customer (ACCOUNT, PARTYTYPE) VALUES ('C1', 'Organization');"));
  WriteConfig();
  RunResult r = Duet("run", {"--once"});
  EXPECT_EQ(r.exit_code, kExitError) << "run before install\n" << Show({"duet", "run"}, r);
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account"), 0);

  Install();
  // RENAME COLUMN keeps the table (and any trigger on it) valid.
  ASSERT_TRUE(ce_.Exec("ALTER TABLE account RENAME COLUMN memo TO memo_renamed;"));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--once"}, std::vector<std::string>{}}) {
    r = Duet("run", args, {}, std::chrono::seconds(60));
    EXPECT_EQ(r.exit_code, kExitError) << Show({"duet", "run"}, r);
    EXPECT_THAT(r.err, HasSubstr("ce")) << r.err;
    EXPECT_THAT(r.err, HasSubstr("account")) << r.err;
    EXPECT_THAT(r.err, HasSubstr("memo")) << r.err;
  }
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account"), 0) << "nothing is synced";
}

// ---------------------------------------------------------------------------
// Conflict rules (maps/conflicts.duet): edits on both sides while duet is
// stopped, then one `run --once`.

class ConflictsTest : public E2eTest {
 protected:
  // The four table pairs: map name, fo table, ce table.
  struct Pair {
    const char* map;
    const char* fo;
    const char* ce;
  };
  static constexpr Pair kFo{"conf_fo", "ConfFo", "conf_fo"};
  static constexpr Pair kCe{"conf_ce", "ConfCe", "conf_ce"};
  static constexpr Pair kNewest{"conf_newest", "ConfNewest", "conf_newest"};
  static constexpr Pair kManual{"conf_manual", "ConfManual", "conf_manual"};

  // Seeds R1..R4 (A = 'a0', B = 'b0') on fo in every table and syncs them.
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"conflicts.duet"});
    ASSERT_TRUE(fo_.Exec(kConflictsFo));
    ASSERT_TRUE(ce_.Exec(kConflictsCe));
    std::string sql;
    for (const Pair& p : {kFo, kCe, kNewest, kManual}) {
      sql += std::string("INSERT INTO ") + p.fo +
             " (CODE, A, B) VALUES ('R1', 'a0', 'b0'), ('R2', 'a0', 'b0'), ('R3', 'a0', 'b0'),"
             " ('R4', 'a0', 'b0');";
    }
    ASSERT_TRUE(fo_.Exec(sql));
    WriteConfig();
    Install();
    RunOnce();
    ASSERT_EQ(ce_.Int("SELECT count(*) FROM conf_manual"), 4);
  }

  void Fo(const Pair& p, const std::string& set_where) {
    ASSERT_TRUE(fo_.Exec(std::string("UPDATE ") + p.fo + " SET " + set_where + ";"));
  }
  void Ce(const Pair& p, const std::string& set_where) {
    ASSERT_TRUE(ce_.Exec(std::string("UPDATE ") + p.ce + " SET " + set_where + ";"));
  }
  // A and B of `code` on each side: {fo A, fo B} and {ce a, ce b}; empty when
  // the row is absent.
  Row FoRow(const Pair& p, const std::string& code) {
    Rows rows = fo_.Query(std::string("SELECT A, B FROM ") + p.fo + " WHERE CODE = " + Quote(code));
    EXPECT_LE(rows.size(), 1u) << FormatRows(rows);
    return rows.empty() ? Row{} : rows[0];
  }
  Row CeRow(const Pair& p, const std::string& code) {
    Rows rows = ce_.Query(std::string("SELECT a, b FROM ") + p.ce + " WHERE code = " + Quote(code));
    EXPECT_LE(rows.size(), 1u) << FormatRows(rows);
    return rows.empty() ? Row{} : rows[0];
  }

  // The `newest` rule compares capture times: the changes captured on each
  // side after `after` (ChangelogEnd) are given the time `unix_ms`.
  void SetCaptureTimes(const int64_t after[2], int64_t unix_ms) {
    SetCaptureTime(fo_, after[0], unix_ms);
    SetCaptureTime(ce_, after[1], unix_ms);
  }
};

TEST_F(ConflictsTest, SameFieldMasterFoWinsOnBothSides) {
  Fo(kFo, "A = 'fo-edit' WHERE CODE = 'R1'");
  Ce(kFo, "a = 'ce-edit' WHERE code = 'R1'");
  RunOnce();
  EXPECT_EQ(FoRow(kFo, "R1"), (Row{"fo-edit", "b0"}));
  EXPECT_EQ(CeRow(kFo, "R1"), (Row{"fo-edit", "b0"}));
}

TEST_F(ConflictsTest, SameFieldMasterCeWinsOnBothSides) {
  Fo(kCe, "A = 'fo-edit' WHERE CODE = 'R1'");
  Ce(kCe, "a = 'ce-edit' WHERE code = 'R1'");
  RunOnce();
  EXPECT_EQ(FoRow(kCe, "R1"), (Row{"ce-edit", "b0"}));
  EXPECT_EQ(CeRow(kCe, "R1"), (Row{"ce-edit", "b0"}));
}

TEST_F(ConflictsTest, SameFieldNewestChangeWins) {
  // R1: fo first, ce later; R2: ce first, fo later.
  const int64_t start[2] = {ChangelogEnd(fo_), ChangelogEnd(ce_)};
  Fo(kNewest, "A = 'fo-early' WHERE CODE = 'R1'");
  Ce(kNewest, "a = 'ce-early' WHERE code = 'R2'");
  const int64_t middle[2] = {ChangelogEnd(fo_), ChangelogEnd(ce_)};
  Ce(kNewest, "a = 'ce-late' WHERE code = 'R1'");
  Fo(kNewest, "A = 'fo-late' WHERE CODE = 'R2'");
  constexpr int64_t kEarly = 1'700'000'000'000;  // ms since the Unix epoch
  SetCaptureTimes(start, kEarly);
  SetCaptureTimes(middle, kEarly + 1000);
  RunOnce();
  EXPECT_EQ(FoRow(kNewest, "R1"), (Row{"ce-late", "b0"}));
  EXPECT_EQ(CeRow(kNewest, "R1"), (Row{"ce-late", "b0"}));
  EXPECT_EQ(FoRow(kNewest, "R2"), (Row{"fo-late", "b0"}));
  EXPECT_EQ(CeRow(kNewest, "R2"), (Row{"fo-late", "b0"}));
}

TEST_F(ConflictsTest, SameFieldManualKeepsBothSidesAndQueuesAConflict) {
  Fo(kManual, "A = 'fo-edit', B = 'b-fo' WHERE CODE = 'R1'");
  Ce(kManual, "a = 'ce-edit' WHERE code = 'R1'");
  RunOnce(kExitRowErrors);
  EXPECT_EQ(FoRow(kManual, "R1"), (Row{"fo-edit", "b-fo"}));
  EXPECT_EQ(CeRow(kManual, "R1"), (Row{"ce-edit", "b-fo"}))
      << "the conflicting field stays; a field changed on one side still flows";
  Rows items = ErrorItems("conf_manual");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "conflict");
  EXPECT_FALSE(items[0][3].empty());
  EXPECT_EQ(OpenErrors(), 1);

  // One side changes the field again to agree: the item is closed.
  Ce(kManual, "a = 'fo-edit' WHERE code = 'R1'");
  RunOnce(kExitOk);
  EXPECT_EQ(FoRow(kManual, "R1"), (Row{"fo-edit", "b-fo"}));
  EXPECT_EQ(CeRow(kManual, "R1"), (Row{"fo-edit", "b-fo"}));
  Rows all = ErrorItems("conf_manual", /*open_only=*/false);
  ASSERT_EQ(all.size(), 1u) << FormatRows(all);
  EXPECT_EQ(all[0][2], "resolved");
}

TEST_F(ConflictsTest, DifferentFieldsOnTheTwoSidesBothSurviveUnderEveryRule) {
  for (const Pair& p : {kFo, kCe, kNewest, kManual}) {
    Fo(p, "A = 'fo-a' WHERE CODE = 'R2'");
    Ce(p, "b = 'ce-b' WHERE code = 'R2'");
  }
  RunOnce(kExitOk);
  for (const Pair& p : {kFo, kCe, kNewest, kManual}) {
    EXPECT_EQ(FoRow(p, "R2"), (Row{"fo-a", "ce-b"})) << p.map;
    EXPECT_EQ(CeRow(p, "R2"), (Row{"fo-a", "ce-b"})) << p.map;
  }
  EXPECT_EQ(OpenErrors(), 0);
}

TEST_F(ConflictsTest, UpdateAgainstDeleteFollowsTheRule) {
  // R3: update on fo, delete on ce. R4: delete on fo, update on ce. For
  // newest, the delete of R3 and the update of R4 are the later changes.
  const int64_t start[2] = {ChangelogEnd(fo_), ChangelogEnd(ce_)};
  for (const Pair& p : {kFo, kCe, kManual}) {
    Fo(p, "A = 'fo-upd' WHERE CODE = 'R3'");
    ASSERT_TRUE(ce_.Exec(std::string("DELETE FROM ") + p.ce + " WHERE code = 'R3';"));
    ASSERT_TRUE(fo_.Exec(std::string("DELETE FROM ") + p.fo + " WHERE CODE = 'R4';"));
    Ce(p, "a = 'ce-upd' WHERE code = 'R4'");
  }
  Fo(kNewest, "A = 'fo-upd' WHERE CODE = 'R3'");
  ASSERT_TRUE(fo_.Exec("DELETE FROM ConfNewest WHERE CODE = 'R4';"));
  const int64_t middle[2] = {ChangelogEnd(fo_), ChangelogEnd(ce_)};
  ASSERT_TRUE(ce_.Exec("DELETE FROM conf_newest WHERE code = 'R3';"));
  Ce(kNewest, "a = 'ce-upd' WHERE code = 'R4'");
  constexpr int64_t kEarly = 1'700'000'000'000;  // ms since the Unix epoch
  SetCaptureTimes(start, kEarly);
  SetCaptureTimes(middle, kEarly + 1000);
  RunOnce(kExitRowErrors);  // the manual map's two conflicts

  // master fo: fo's update recreates R3 on ce; fo's delete deletes R4.
  EXPECT_EQ(FoRow(kFo, "R3"), (Row{"fo-upd", "b0"}));
  EXPECT_EQ(CeRow(kFo, "R3"), (Row{"fo-upd", "b0"}));
  EXPECT_EQ(FoRow(kFo, "R4"), Row{});
  EXPECT_EQ(CeRow(kFo, "R4"), Row{});
  // master ce: ce's delete deletes R3; ce's update recreates R4 on fo.
  EXPECT_EQ(FoRow(kCe, "R3"), Row{});
  EXPECT_EQ(CeRow(kCe, "R3"), Row{});
  EXPECT_EQ(FoRow(kCe, "R4"), (Row{"ce-upd", "b0"}));
  EXPECT_EQ(CeRow(kCe, "R4"), (Row{"ce-upd", "b0"}));
  // newest: the later change wins (a delete of R3, an update of R4).
  EXPECT_EQ(FoRow(kNewest, "R3"), Row{});
  EXPECT_EQ(CeRow(kNewest, "R3"), Row{});
  EXPECT_EQ(FoRow(kNewest, "R4"), (Row{"ce-upd", "b0"}));
  EXPECT_EQ(CeRow(kNewest, "R4"), (Row{"ce-upd", "b0"}));
  // manual: both sides stay as they are, and each pair is a conflict item.
  EXPECT_EQ(FoRow(kManual, "R3"), (Row{"fo-upd", "b0"}));
  EXPECT_EQ(CeRow(kManual, "R3"), Row{});
  EXPECT_EQ(FoRow(kManual, "R4"), Row{});
  EXPECT_EQ(CeRow(kManual, "R4"), (Row{"ce-upd", "b0"}));
  Rows items = ErrorItems("conf_manual");
  ASSERT_EQ(items.size(), 2u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "conflict");
  EXPECT_EQ(items[1][0], "conflict");
  EXPECT_EQ(OpenErrors(), 2) << "only the manual map queues items";
  for (const Pair& p : {kFo, kCe, kNewest}) {
    EXPECT_EQ(FoRow(p, "R1"), (Row{"a0", "b0"})) << p.map;
    EXPECT_EQ(CeRow(p, "R1"), (Row{"a0", "b0"})) << p.map;
  }
}

// ---------------------------------------------------------------------------
// Bad data (maps/baddata.duet): rows the target cannot take.

class BadDataTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"baddata.duet"});
    ASSERT_TRUE(fo_.Exec(kBadDataFo));
    ASSERT_TRUE(ce_.Exec(kBadDataCe));
  }
};

// Issue 4, item 8: each bad row becomes an error item with a kind and a
// reason, the following rows still arrive, and after the source row is
// fixed a later run syncs it and closes the item.
TEST_F(BadDataTest, RejectedRowsAreQueuedOthersArriveAndFixedRowsResolve) {
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Product (CODE, NAME, QTY, NOTE) VALUES "
               "('P1', 'fine', 1, 'n1'),"
               "('P2', 'a name far too long', 2, 'n2'),"  // string(10) on ce
               "('P3', 'negative', -3, 'n3'),"            // CHECK (qty >= 0)
               "('P4', 'no note', 4, NULL),"              // note NOT NULL
               "('P5', 'text qty', 'lots', 'n5'),"        // not an int
               "('P6', 'fine too', 6, 'n6');"));
  auto recid = [&](const char* code) {
    return fo_.Value(std::string("SELECT RECID FROM Product WHERE CODE = '") + code + "'");
  };
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT code, name, qty, note FROM product ORDER BY code"),
            (Rows{{"P1", "fine", "1", "n1"}, {"P6", "fine too", "6", "n6"}}))
      << "rows after the bad ones still arrive";
  Rows items = state_.Query(
      "SELECT row_id, kind, system, status, reason, source_row FROM duet_errors "
      "WHERE map = 'products' ORDER BY row_id");
  ASSERT_EQ(items.size(), 4u) << FormatRows(items);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {recid("P2"), "string_too_long"},
      {recid("P3"), "rejected"},
      {recid("P4"), "rejected"},
      {recid("P5"), "bad_data"}};
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i][0], expected[i].first) << FormatRows(items);
    EXPECT_EQ(items[i][1], expected[i].second) << FormatRows(items);
    EXPECT_EQ(items[i][2], "fo");
    EXPECT_EQ(items[i][3], "open");
    EXPECT_FALSE(items[i][4].empty()) << "every item has a reason";
    EXPECT_THAT(items[i][5], HasSubstr("\"P" + std::to_string(i + 2) + "\""))
        << "the source row is kept as JSON";
  }
  EXPECT_THAT(items[1][4], HasSubstr("CHECK")) << "a rejection's reason is SQLite's message";
  EXPECT_THAT(items[2][4], HasSubstr("NOT NULL")) << "a rejection's reason is SQLite's message";

  // Nothing changed: the next run retries them and they still fail.
  RunOnce(kExitRowErrors);
  EXPECT_EQ(OpenErrors(), 4);

  ASSERT_TRUE(
      fo_.Exec("UPDATE Product SET NAME = 'short' WHERE CODE = 'P2';"
               "UPDATE Product SET QTY = 3 WHERE CODE = 'P3';"
               "UPDATE Product SET NOTE = 'n4' WHERE CODE = 'P4';"
               "UPDATE Product SET QTY = 5 WHERE CODE = 'P5';"));
  RunOnce(kExitOk);
  EXPECT_EQ(ce_.Query("SELECT code, name, qty, note FROM product ORDER BY code"),
            (Rows{{"P1", "fine", "1", "n1"},
                  {"P2", "short", "2", "n2"},
                  {"P3", "negative", "3", "n3"},
                  {"P4", "no note", "4", "n4"},
                  {"P5", "text qty", "5", "n5"},
                  {"P6", "fine too", "6", "n6"}}));
  EXPECT_EQ(state_.Query("SELECT DISTINCT status FROM duet_errors WHERE map = 'products'"),
            (Rows{{"resolved"}}));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_errors"), 4) << "items are closed, not added";
}

// The same at initial sync, whose rows take a faster path than live sync's;
// and an update the target refuses, which leaves the target row as it was.
TEST_F(BadDataTest, RejectedRowsAtInitialSyncAndRejectedUpdatesAreQueued) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Product (CODE, NAME, QTY, NOTE) VALUES "
               "('P1', 'fine', 1, 'n1'),"
               "('P2', 'negative', -2, 'n2'),"  // CHECK (qty >= 0)
               "('P3', 'no note', 3, NULL),"    // note NOT NULL
               "('P4', 'fine too', 4, 'n4');"));
  WriteConfig();
  Install();
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT code, name, qty, note FROM product ORDER BY code"),
            (Rows{{"P1", "fine", "1", "n1"}, {"P4", "fine too", "4", "n4"}}));
  Rows items = ErrorItems("products");
  ASSERT_EQ(items.size(), 2u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "rejected");
  EXPECT_EQ(items[1][0], "rejected");
  EXPECT_EQ(state_.Query("SELECT reason LIKE '%CHECK%', reason LIKE '%NOT NULL%' FROM duet_errors "
                         "ORDER BY row_id"),
            (Rows{{"1", "0"}, {"0", "1"}}))
      << "a rejection's reason is SQLite's message";

  ASSERT_TRUE(fo_.Exec("UPDATE Product SET QTY = -1, NAME = 'changed' WHERE CODE = 'P1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT name, qty FROM product WHERE code = 'P1'"), (Rows{{"fine", "1"}}))
      << "a refused update changes nothing of the row";
  EXPECT_EQ(OpenErrors(), 3);
  ASSERT_TRUE(
      fo_.Exec("UPDATE Product SET QTY = 1 WHERE CODE = 'P1';"
               "UPDATE Product SET QTY = 2 WHERE CODE = 'P2';"
               "UPDATE Product SET NOTE = 'n3' WHERE CODE = 'P3';"));
  RunOnce(kExitOk);
  EXPECT_EQ(ce_.Query("SELECT code, name, qty, note FROM product ORDER BY code"),
            (Rows{{"P1", "changed", "1", "n1"},
                  {"P2", "negative", "2", "n2"},
                  {"P3", "no note", "3", "n3"},
                  {"P4", "fine too", "4", "n4"}}));
  EXPECT_EQ(OpenErrors(), 0);
}

// Writes are not wrapped in a savepoint each (docs/sync.md, "Rows the target
// refuses"): a trigger of the application that rolls the whole transaction
// back stops the run with an error and loses nothing, and one that ignores
// the row is an error item, not a row silently missing.
TEST_F(BadDataTest, ApplicationTriggersThatRollBackOrIgnoreAreNotSilent) {
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_TRUE(
      ce_.Exec("CREATE TRIGGER app_refuses BEFORE INSERT ON product WHEN NEW.code = 'P2' "
               "BEGIN SELECT RAISE(ROLLBACK, 'P2 is refused'); END;"
               "CREATE TRIGGER app_ignores BEFORE INSERT ON product WHEN NEW.code = 'P3' "
               "BEGIN SELECT RAISE(IGNORE); END;"));
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Product (CODE, NAME, QTY, NOTE) VALUES "
               "('P1', 'one', 1, 'n1'), ('P2', 'two', 2, 'n2'), ('P3', 'three', 3, 'n3');"));
  RunResult failed = RunOnce(kExitError);
  EXPECT_THAT(failed.err, HasSubstr("rolled back")) << failed.err;
  EXPECT_THAT(failed.err, HasSubstr("P2 is refused")) << failed.err;
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM product"), 0) << "the batch was rolled back whole";

  ASSERT_TRUE(ce_.Exec("DROP TRIGGER app_refuses;"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT code FROM product ORDER BY code"), (Rows{{"P1"}, {"P2"}}));
  Rows items = state_.Query("SELECT kind, reason FROM duet_errors WHERE status = 'open'");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "rejected");
  EXPECT_THAT(items[0][1], HasSubstr("RAISE(IGNORE)"));

  ASSERT_TRUE(ce_.Exec("DROP TRIGGER app_ignores;"));
  RunOnce(kExitOk);
  EXPECT_EQ(ce_.Query("SELECT code FROM product ORDER BY code"), (Rows{{"P1"}, {"P2"}, {"P3"}}));
}

// Lookups that refer to each other: `deferred` lets the vendor sync before
// its primary contact exists and fills the reference once the contact has
// synced; a not-null column no mapping writes gets the bundle's default.
class DeferredTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"deferred.duet"});
    ASSERT_TRUE(fo_.Exec(kDeferredFo));
    ASSERT_TRUE(ce_.Exec(kDeferredCe));
  }
};

TEST_F(DeferredTest, DeferredLookupIsFilledOnceBothRowsExistAndDefaultsFillNewRows) {
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO Vendor (VENDORID, NAME, PRIMARYCONTACT) VALUES ('V1', 'Fabrikam', 'K1');"
      "INSERT INTO Contact (CONTACTID, NAME, VENDORID) VALUES ('K1', 'Pat', 'V1');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT v.code, v.name, c.contactnumber, v.statecode FROM vendor v "
                      "LEFT JOIN contact c ON c.contactid = v.primarycontact"),
            (Rows{{"V1", "Fabrikam", "K1", "0"}}));
  EXPECT_EQ(ce_.Query("SELECT c.contactnumber, c.fullname, v.code FROM contact c "
                      "LEFT JOIN vendor v ON v.vendorid = c.vendor"),
            (Rows{{"K1", "Pat", "V1"}}));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_waiting"), 0);
  EXPECT_EQ(OpenErrors(), 0);

  // In live sync too: a new vendor whose contact arrives in the same run.
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Vendor (VENDORID, NAME, PRIMARYCONTACT) VALUES ('V2', 'Contoso', 'K2');"
               "INSERT INTO Contact (CONTACTID, NAME, VENDORID) VALUES ('K2', 'Sam', 'V2');"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT v.code, c.contactnumber, v.statecode FROM vendor v "
                      "LEFT JOIN contact c ON c.contactid = v.primarycontact ORDER BY v.code"),
            (Rows{{"V1", "K1", "0"}, {"V2", "K2", "0"}}));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_waiting"), 0);
  RunOnce();  // nothing left to do: the vendors stay as they are
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM vendor"), 2);
}

// ---------------------------------------------------------------------------
// Exchange rates (maps/rates.duet): a rate's currency pair is found by three
// written lookups at once, one per key column of the pair.

class RatesTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"rates.duet"});
    ASSERT_TRUE(fo_.Exec(kRatesFo));
    ASSERT_TRUE(ce_.Exec(kRatesCe));
  }

  // ce's rates as the pair they refer to names them: type, from, to,
  // validfrom, rate; a rate whose pair is not found shows NULLs there.
  Rows CeRates() {
    return ce_.Query(
        "SELECT t.name, f.isocurrencycode, o.isocurrencycode, r.validfrom, r.rate FROM rate r "
        "LEFT JOIN ratepair p ON p.ratepairid = r.pair "
        "LEFT JOIN ratetype t ON t.ratetypeid = p.ratetype "
        "LEFT JOIN transactioncurrency f ON f.transactioncurrencyid = p.fromcurrency "
        "LEFT JOIN transactioncurrency o ON o.transactioncurrencyid = p.tocurrency "
        "ORDER BY 1, 2, 3, 4");
  }

  Rows FoRates() {
    return fo_.Query(
        "SELECT RATETYPENAME, FROMCURRENCY, TOCURRENCY, STARTDATE, RATE FROM ExchangeRate "
        "ORDER BY 1, 2, 3, 4");
  }
};

// Issue 12, item 5: rates flow fo -> ce finding the pair by (type name,
// from iso, to iso), a rate made in ce flows back to fo through the three
// paths, a changed type repoints the rate, and a rate whose pair does not
// exist yet waits and completes when the pair arrives.
TEST_F(RatesTest, APairIsFoundByAllThreeKeyColumnsInBothDirections) {
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO ExchangeRate (RATETYPENAME, FROMCURRENCY, TOCURRENCY, STARTDATE, RATE) VALUES "
      "('Default', 'EUR', 'USD', '2026-01-01', '1.1'), "
      "('Budget', 'EUR', 'USD', '2026-01-01', '1.2'), "
      "('Default', 'USD', 'EUR', '2026-01-01', '0.9');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(CeRates(), (Rows{{"Budget", "EUR", "USD", "2026-01-01", "1.200000"},
                             {"Default", "EUR", "USD", "2026-01-01", "1.100000"},
                             {"Default", "USD", "EUR", "2026-01-01", "0.900000"}}));
  EXPECT_EQ(ce_.Value("SELECT pair FROM rate WHERE rate = '1.200000'"), "2");

  // A rate made in ce reads its three paths back into fo (the rates fo's
  // application wrote stay as written).
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO rate (pair, validfrom, rate) VALUES (3, '2026-02-01', '0.95');"));
  RunOnce();
  EXPECT_EQ(FoRates(), (Rows{{"Budget", "EUR", "USD", "2026-01-01", "1.2"},
                             {"Default", "EUR", "USD", "2026-01-01", "1.1"},
                             {"Default", "USD", "EUR", "2026-01-01", "0.9"},
                             {"Default", "USD", "EUR", "2026-02-01", "0.950000"}}));

  // One of the three changes: the whole pair is found again.
  ASSERT_TRUE(
      fo_.Exec("UPDATE ExchangeRate SET RATETYPENAME = 'Default', STARTDATE = '2026-03-01' "
               "WHERE RATETYPENAME = 'Budget';"));
  RunOnce();
  EXPECT_EQ(ce_.Value("SELECT pair FROM rate WHERE validfrom = '2026-03-01'"), "1");

  // No pair (Default, EUR, GBP) yet: the rate waits, and is no error.
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO ExchangeRate (RATETYPENAME, FROMCURRENCY, TOCURRENCY, STARTDATE, RATE) VALUES "
      "('Default', 'EUR', 'GBP', '2026-01-01', '0.85');"));
  RunOnce();
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM rate WHERE rate = '0.850000'"), 0);
  EXPECT_GE(state_.Int("SELECT count(*) FROM duet_waiting WHERE map = 'rates'"), 1);
  EXPECT_EQ(OpenErrors(), 0) << "a waiting change is not an error";

  ASSERT_TRUE(ce_.Exec("INSERT INTO ratepair VALUES (4, 1, 1, 3);"));
  RunOnce();
  EXPECT_EQ(ce_.Value("SELECT pair FROM rate WHERE rate = '0.850000'"), "4");
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_waiting WHERE map = 'rates'"), 0);
  EXPECT_EQ(CeRates(), (Rows{{"Default", "EUR", "GBP", "2026-01-01", "0.850000"},
                             {"Default", "EUR", "USD", "2026-01-01", "1.100000"},
                             {"Default", "EUR", "USD", "2026-03-01", "1.200000"},
                             {"Default", "USD", "EUR", "2026-01-01", "0.900000"},
                             {"Default", "USD", "EUR", "2026-02-01", "0.95"}}));
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM ExchangeRate"), 5) << "nothing echoed back as new";
  EXPECT_EQ(OpenErrors(), 0);
}

// The same lookups `deferred` (maps/rates_deferred.duet): the rate is written
// at once with no pair, and the pair is filled once it exists.
class RatesDeferredTest : public RatesTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"rates_deferred.duet"});
    ASSERT_TRUE(fo_.Exec(kRatesFo));
    ASSERT_TRUE(ce_.Exec(kRatesCe));
  }
};

TEST_F(RatesDeferredTest, ADeferredGroupWritesNullAndFillsThePairWhenItArrives) {
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO ExchangeRate (RATETYPENAME, FROMCURRENCY, TOCURRENCY, STARTDATE, RATE) VALUES "
      "('Default', 'EUR', 'GBP', '2026-01-01', '0.85'), "
      "('Budget', 'EUR', 'USD', '2026-02-01', '1.2');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT validfrom, pair FROM rate ORDER BY validfrom"),
            (Rows{{"2026-01-01", "NULL"}, {"2026-02-01", "2"}}));
  EXPECT_EQ(OpenErrors(), 0);

  ASSERT_TRUE(ce_.Exec("INSERT INTO ratepair VALUES (4, 1, 1, 3);"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT validfrom, pair FROM rate ORDER BY validfrom"),
            (Rows{{"2026-01-01", "4"}, {"2026-02-01", "2"}}));
  EXPECT_EQ(OpenErrors(), 0);
}

// ---------------------------------------------------------------------------
// A column one side requires (maps/required.duet): a null the other side
// holds there fails a row only when duet would write it.

class RequiredTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    Compile({"required.duet"});
    ASSERT_TRUE(
        fo_.Exec("CREATE TABLE Supplier (RECID INTEGER PRIMARY KEY, CODE TEXT NOT NULL, NAME TEXT,"
                 " GRP TEXT NOT NULL, STATUS TEXT);"));
    ASSERT_TRUE(
        ce_.Exec("CREATE TABLE supplier (rid INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT, "
                 "grp TEXT, status INTEGER);"));
  }
};

// A CRM row matched at initial sync lacks the group F&O requires, has a
// name too long for F&O and a status F&O has no value for; F&O seeds and wins, so the pair links
// and F&O's values replace them. A CRM row with no partner cannot be inserted into F&O, and a later
// CRM edit that F&O cannot hold cannot be written there: those are error items, and nothing else of
// those rows is written.
TEST_F(RequiredTest, AValueTheOtherSideCannotHoldFailsARowOnlyWhenItWouldBeWritten) {
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO Supplier (CODE, NAME, GRP, STATUS) VALUES ('S1', 'Fo One', 'G1', 'active');"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO supplier (code, name, grp, status) VALUES ('S1', 'Ce One, a long "
               "name', NULL, 9),"
               " ('S2', 'Ce Two', NULL, NULL);"));
  WriteConfig();
  Install();
  RunOnce(kExitRowErrors);
  EXPECT_EQ(ce_.Query("SELECT code, name, grp, status FROM supplier ORDER BY code"),
            (Rows{{"S1", "Fo One", "G1", "1"}, {"S2", "Ce Two", "NULL", "NULL"}}));
  EXPECT_EQ(fo_.Query("SELECT CODE FROM Supplier ORDER BY CODE"), (Rows{{"S1"}}));
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_links WHERE map = 'suppliers'"), 1);
  Rows items = ErrorItems("suppliers");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "null_in_not_null");
  EXPECT_EQ(items[0][1], "ce");
  EXPECT_EQ(items[0][3], "GRP: column 'GRP' is not null, but the mapped value is null");

  // Only the CRM edits the linked pair: its changes would win, but one of
  // them cannot be written, so none is.
  ASSERT_TRUE(ce_.Exec("UPDATE supplier SET name = 'Renamed', grp = NULL WHERE code = 'S1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(fo_.Query("SELECT NAME, GRP FROM Supplier WHERE CODE = 'S1'"),
            (Rows{{"Fo One", "G1"}}));
  items = ErrorItems("suppliers");
  ASSERT_EQ(items.size(), 2u) << FormatRows(items);
  EXPECT_EQ(items[1][0], "null_in_not_null");

  // The same for a name too long for F&O: a new item, the pair as it was.
  ASSERT_TRUE(ce_.Exec("UPDATE supplier SET grp = 'G2';"));
  ASSERT_TRUE(
      ce_.Exec("UPDATE supplier SET name = 'Renamed to something long' WHERE code = 'S1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(fo_.Query("SELECT CODE, NAME, GRP FROM Supplier ORDER BY CODE"),
            (Rows{{"S1", "Fo One", "G1"}, {"S2", "Ce Two", "G2"}}));
  items = ErrorItems("suppliers");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "string_too_long");
  EXPECT_EQ(items[0][3], "NAME: value is longer than column 'NAME' allows (10 characters)");

  // Fixing the name in the CRM syncs the row and closes the item.
  ASSERT_TRUE(ce_.Exec("UPDATE supplier SET name = 'Renamed' WHERE code = 'S1';"));
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT CODE, NAME, GRP FROM Supplier ORDER BY CODE"),
            (Rows{{"S1", "Renamed", "G2"}, {"S2", "Ce Two", "G2"}}));
  EXPECT_EQ(OpenErrors(), 0);

  // An error inside a mapping's expression (no value mapping) is the same:
  // the CRM's status 7 cannot be written, so the row waits as an item.
  ASSERT_TRUE(ce_.Exec("UPDATE supplier SET status = 7, name = 'Again' WHERE code = 'S1';"));
  RunOnce(kExitRowErrors);
  EXPECT_EQ(fo_.Query("SELECT NAME, STATUS FROM Supplier WHERE CODE = 'S1'"),
            (Rows{{"Renamed", "active"}}));
  items = ErrorItems("suppliers");
  ASSERT_EQ(items.size(), 1u) << FormatRows(items);
  EXPECT_EQ(items[0][0], "no_value_mapping");
}

}  // namespace
}  // namespace duet::e2e
