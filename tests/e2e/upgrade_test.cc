// Upgrade from the release before issue 14 (issue 14: "`duet install` must
// upgrade a state store and changelogs installed by today's version with
// no lost change"). The fixture tests/e2e/fixtures/v1 holds two databases
// and a state store as that release's own duet and duetc left them
// (fixtures/make_v1.sh made them; fixtures/README.md names the commit): the
// first changelog layout with changes it never read, a batch it was
// killed in after both databases committed and before its state did, an
// error item in its queue, and links and bases of the state store's first
// schema. The test restores them with sqlite3, compiles the same map
// source with today's duetc (the bundle format changed), and upgrades
// with today's duet.
#include <gmock/gmock.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

const fs::path& FixtureDir() {
  static const fs::path dir = fs::path(DUET_E2E_FIXTURES_DIR) / "v1";
  return dir;
}

class UpgradeTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    for (const char* db : {"fo", "ce", "state"}) {
      // The dump is one transaction of its own, so sqlite3 reads it as is.
      std::vector<std::string> argv = {GetTools().sqlite3, "-bail",
                                       (dir_ / (std::string(db) + ".db")).string()};
      RunResult r = RunProcess(argv, dir_, dir_ / ".scratch",
                               ReadFile(FixtureDir() / (std::string(db) + ".sql")));
      ASSERT_TRUE(r.exited && r.exit_code == 0 && r.err.empty()) << Show(argv, r);
    }
    std::vector<std::string> argv = {GetTools().duetc, "compile",
                                     (FixtureDir() / "customers.duet").string(), "-o",
                                     (dir_ / "maps.duetb").string()};
    RunResult r = RunProcess(argv, dir_, dir_ / ".scratch");
    ASSERT_EQ(r.exit_code, kExitOk) << Show(argv, r);
    WriteConfig();
  }

  // fo's customers as the map sees them, by account.
  Rows FoCustomers() const {
    return fo_.Query(
        "SELECT DATAAREAID, CUSTOMERACCOUNT, ORGANIZATIONNAME, CREDITLIMIT, ONHOLDSTATUS, "
        "SALESMEMO FROM CustCustomerV3Entity WHERE PARTYTYPE = 'Organization' "
        "ORDER BY CUSTOMERACCOUNT, RECID");
  }
  // ce's accounts with their company's code, by account number.
  Rows CeAccounts() const {
    return ce_.Query(
        "SELECT c.cdm_companycode, a.accountnumber, a.name, a.creditlimit, "
        "a.msdyn_onholdstatus, a.description FROM account a "
        "LEFT JOIN cdm_company c ON c.cdm_companyid = a.msdyn_company "
        "ORDER BY a.accountnumber, a.RECID");
  }

  // The links as (fo rowid, ce rowid).
  Rows Links() const {
    return state_.Query(
        "SELECT left_id, right_id FROM duet_links WHERE map = 'customers' ORDER BY left_id");
  }

  // Each link pairs the fo customer and the ce account of one key
  // (company, account); returns the keys, one per link.
  std::vector<std::string> LinkedKeys() const {
    std::vector<std::string> keys;
    for (const auto& link : Links()) {
      std::string fo_key = fo_.Value(
          "SELECT DATAAREAID || '/' || CUSTOMERACCOUNT FROM CustCustomerV3Entity WHERE RECID = " +
          link[0]);
      std::string ce_key = ce_.Value(
          "SELECT c.cdm_companycode || '/' || a.accountnumber FROM account a "
          "JOIN cdm_company c ON c.cdm_companyid = a.msdyn_company WHERE a.RECID = " +
          link[1]);
      EXPECT_EQ(fo_key, ce_key) << "link " << link[0] << " <-> " << link[1];
      keys.push_back(fo_key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  json Drift() {
    RunResult r = Duet("drift", {"customers", "--json"});
    EXPECT_TRUE(r.exited && (r.exit_code == kExitOk || r.exit_code == kExitRowErrors))
        << Show({"duet", "drift", "customers", "--json"}, r);
    json report = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(report.is_discarded()) << r.out << r.err;
    return report.is_discarded() ? json() : report;
  }
};

// The whole upgrade: `duet run` on the old capture refuses and names
// `duet install`; install replaces the triggers and moves the unread
// changes; one `duet run --once` then carries every change made under the
// old release to the other side, settles the killed batch without a second
// row, keeps the links of the rows that still exist and the error item,
// and leaves no drift but the error item's row; the applications' writes
// after the upgrade sync as before.
TEST_F(UpgradeTest, InstallUpgradesCaptureAndStateStoreOfTheReleaseBeforeWithoutLosingAChange) {
  // What the old release left (the fixture is what this test believes).
  ASSERT_EQ(fo_.Int("SELECT count(*) FROM pragma_table_info('duet_changelog') WHERE name = 'tbl'"),
            1);
  ASSERT_EQ(state_.Int("SELECT count(*) FROM duet_meta WHERE key = 'schema_version'"), 0)
      << "the fixture's state store is of the first schema (no version)";
  for (const Sqlite* db : {&fo_, &ce_}) {
    std::string system = db == &fo_ ? "fo" : "ce";
    int64_t checkpoint = state_.Int(
        "SELECT seq FROM duet_checkpoints WHERE map = 'customers' AND system = " + Quote(system));
    EXPECT_EQ(
        db->Int("SELECT count(*) FROM duet_changelog WHERE seq > " + std::to_string(checkpoint)),
        system == "fo" ? 9 : 6)
        << "the changes the old release never read in " << system;
  }
  Rows links_before = Links();
  ASSERT_EQ(links_before, (Rows{{"1", "2"}, {"2", "3"}, {"3", "4"}, {"4", "5"}, {"6", "1"}}));
  Rows error_before = state_.Query(
      "SELECT id, system, row_id, kind, first_at FROM duet_errors WHERE status = 'open'");
  ASSERT_EQ(error_before.size(), 1u);
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM account WHERE accountnumber = 'C-8'"), 1)
      << "the killed batch's account, made by the old duet and linked nowhere";

  // Before install: refused with what to do, and nothing synced.
  RunResult refused = Duet("run", {"--once"});
  EXPECT_EQ(refused.exit_code, kExitError) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("duet install")) << refused.err;
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM account WHERE accountnumber = 'C-5'"), 0);
  // Neither the refused run nor a status upgraded the state store: until
  // install, the earlier release can still run it.
  EXPECT_EQ(Duet("status").exit_code, kExitError);
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_meta WHERE key = 'schema_version'"), 0);
  EXPECT_EQ(state_.Value("SELECT type FROM sqlite_master WHERE name = 'duet_links'"), "table");

  Install();
  for (const Sqlite* db : {&fo_, &ce_}) {
    Rows triggers = db->Query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'");
    EXPECT_EQ(triggers.size(), 3u) << FormatRows(triggers);
    for (const auto& trigger : triggers) {
      EXPECT_THAT(trigger[1], HasSubstr("INSERT INTO duet_changelog (tid, rid, op, at)"))
          << trigger[0] << " has the new definition";
      EXPECT_THAT(trigger[1], Not(HasSubstr("tbl"))) << trigger[0];
    }
    EXPECT_EQ(db->Int("SELECT count(*) FROM pragma_table_info('duet_changelog') WHERE name = "
                      "'tbl'"),
              0)
        << db->path();
    EXPECT_EQ(db->Int("SELECT count(*) FROM sqlite_master WHERE name = 'duet_changelog_v1'"), 0);
  }

  RunOnce(kExitRowErrors);  // the error item's row is still too long
  EXPECT_EQ(state_.Value("SELECT value FROM duet_meta WHERE key = 'schema_version'"), "3");

  // Every change made under the old release is on the other side: fo's
  // inserts (C-5; C-7 under C-9's rowid, a new row), updates (C-1; C-2's
  // name and credit limit) and deletes (C-9; C-3 after an update), ce's
  // insert then update (C-6), update (C-2's on-hold status, master fo: it
  // reaches fo only because the old base says fo left it alone; C-2's
  // memo, master ce) and delete (C-4); the killed batch's C-8 and C-1's
  // memo.
  Rows expected_fo = {
      {"usmf", "C-1", "Contoso Ltd", "2500", "no", "memo 1 from ce"},
      {"usmf", "C-2", "Fabrikam Group", "2200", "all", "memo from ce"},
      {"usmf", "C-5", "Tailspin", "5000", "invoice", "NULL"},
      {"dat", "C-6", "Proseware Inc", "600.000000", "all", "NULL"},
      {"usmf", "C-7", "Wingtip", "700", "no", "NULL"},
      {"usmf", "C-8", "Margie", "800", "no", "NULL"},
  };
  EXPECT_EQ(FoCustomers(), expected_fo);
  std::string long_name(120, 'x');
  Rows expected_ce = {
      {"usmf", "C-1", "Contoso Ltd", "2500.0000", "806380000", "memo 1 from ce"},
      {"usmf", "C-2", "Fabrikam Group", "2200.0000", "806380002", "memo from ce"},
      {"usmf", "C-5", "Tailspin", "5000.0000", "806380001", "NULL"},
      {"dat", "C-6", "Proseware Inc", "600.0000", "806380002", "NULL"},
      {"usmf", "C-7", "Wingtip", "700.0000", "806380000", "NULL"},
      {"usmf", "C-8", "Margie", "800.0000", "806380000", "NULL"},
      {"usmf", "C-E", long_name, "NULL", "NULL", "NULL"},
  };
  EXPECT_EQ(CeAccounts(), expected_ce);

  // The links pair the same rows: the old links of the rows that still
  // exist are as they were, each link pairs one key, no key twice.
  Rows links_after = Links();
  for (const Rows::value_type& link : {links_before[0], links_before[1]}) {  // C-1, C-2
    EXPECT_NE(std::find(links_after.begin(), links_after.end(), link), links_after.end())
        << link[0] << " <-> " << link[1] << "\n"
        << FormatRows(links_after);
  }
  EXPECT_EQ(LinkedKeys(), (std::vector<std::string>{"dat/C-6", "usmf/C-1", "usmf/C-2", "usmf/C-5",
                                                    "usmf/C-7", "usmf/C-8"}));

  // The error item survived: the same item, still open, first seen when
  // the old release recorded it.
  EXPECT_EQ(state_.Query("SELECT id, system, row_id, kind, first_at FROM duet_errors "
                         "WHERE status = 'open'"),
            error_before);
  EXPECT_EQ(state_.Int("SELECT count(*) FROM duet_errors"), 1);

  // Drift: nothing differs, no row is without its partner but the error
  // item's.
  json drift = Drift();
  EXPECT_EQ(drift["differing_pairs"]["count"], 0) << drift.dump();
  EXPECT_EQ(drift["without_partner"]["fo"]["count"], 0) << drift.dump();
  EXPECT_EQ(drift["without_partner"]["ce"]["count"], 1) << drift.dump();
  EXPECT_EQ(drift["without_partner"]["ce"]["listed"][0]["id"], error_before[0][2]) << drift.dump();
  EXPECT_EQ(drift["links_to_vanished_rows"]["fo"]["count"], 0) << drift.dump();
  EXPECT_EQ(drift["links_to_vanished_rows"]["ce"]["count"], 0) << drift.dump();

  // The applications' writes after the upgrade: the error item's row
  // mended, an insert, an update and a delete on each side.
  ASSERT_TRUE(
      ce_.Exec("UPDATE account SET name = 'Eagle' WHERE accountnumber = 'C-E';"
               "UPDATE account SET description = 'later memo' WHERE accountnumber = 'C-5';"
               "DELETE FROM account WHERE accountnumber = 'C-7';"
               "INSERT INTO account (accountnumber, msdyn_company, name, customertypecode) "
               "VALUES ('C-11', '00000000-0000-4000-8000-000000000002', 'Eleven', 3);"));
  ASSERT_TRUE(
      fo_.Exec("UPDATE CustCustomerV3Entity SET ORGANIZATIONNAME = 'Margie Travel' "
               "WHERE CUSTOMERACCOUNT = 'C-8';"
               "DELETE FROM CustCustomerV3Entity WHERE CUSTOMERACCOUNT = 'C-6';"
               "INSERT INTO CustCustomerV3Entity (DATAAREAID, CUSTOMERACCOUNT, ORGANIZATIONNAME, "
               "PARTYTYPE) VALUES ('usmf', 'C-10', 'Ten', 'Organization');"));
  RunOnce();
  EXPECT_EQ(OpenErrors(), 0) << FormatRows(ErrorItems("customers"));
  EXPECT_EQ(fo_.Query("SELECT DATAAREAID, CUSTOMERACCOUNT, ORGANIZATIONNAME, SALESMEMO FROM "
                      "CustCustomerV3Entity WHERE PARTYTYPE = 'Organization' "
                      "ORDER BY CUSTOMERACCOUNT, RECID"),
            (Rows{{"usmf", "C-1", "Contoso Ltd", "memo 1 from ce"},
                  {"usmf", "C-10", "Ten", "NULL"},
                  {"dat", "C-11", "Eleven", "NULL"},
                  {"usmf", "C-2", "Fabrikam Group", "memo from ce"},
                  {"usmf", "C-5", "Tailspin", "later memo"},
                  {"usmf", "C-8", "Margie Travel", "NULL"},
                  {"usmf", "C-E", "Eagle", "NULL"}}));
  EXPECT_EQ(ce_.Query("SELECT accountnumber, name, description FROM account "
                      "ORDER BY accountnumber, RECID"),
            (Rows{{"C-1", "Contoso Ltd", "memo 1 from ce"},
                  {"C-10", "Ten", "NULL"},
                  {"C-11", "Eleven", "NULL"},
                  {"C-2", "Fabrikam Group", "memo from ce"},
                  {"C-5", "Tailspin", "later memo"},
                  {"C-8", "Margie Travel", "NULL"},
                  {"C-E", "Eagle", "NULL"}}));
  EXPECT_EQ(LinkedKeys(), (std::vector<std::string>{"dat/C-11", "usmf/C-1", "usmf/C-10", "usmf/C-2",
                                                    "usmf/C-5", "usmf/C-8", "usmf/C-E"}));
  DuetExpect(kExitOk, "drift", {"customers"});
}

}  // namespace
}  // namespace duet::e2e
