// End-to-end: values compared by value, whatever form a database holds
// them in (docs/sync.md, "How values are stored in SQLite"): rows matched by
// alternate key however each application spelled it, and `duet drift`
// comparing what a write would leave. Tables come from `duetc schema`, as a
// new user makes them; the applications are the sqlite3 client and duet
// runs as a process.
#include <gmock/gmock.h>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

using json = nlohmann::json;
using testing::HasSubstr;

// Both databases made by `duetc schema` from one map file, which is also
// the bundle.
class SchemaTest : public E2eTest {
 protected:
  void UseMaps(const std::string& file) {
    Compile({file});
    for (const auto& [system, db] : {std::pair<std::string, Sqlite*>{"fo", &fo_}, {"ce", &ce_}}) {
      std::vector<std::string> argv = {GetTools().duetc, "schema",
                                       (fs::path(GetTools().maps_dir) / file).string(), "--system",
                                       system};
      RunResult r = RunProcess(argv, dir_, dir_ / ".scratch");
      ASSERT_EQ(r.exit_code, kExitOk) << Show(argv, r);
      ASSERT_TRUE(db->Exec(r.out));
    }
  }

  int64_t Links(const std::string& map) {
    return state_.Int("SELECT count(*) FROM duet_links WHERE map = " + Quote(map));
  }
};

class KeysTest : public SchemaTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseMaps("keys.duet");
  }
};

// Issue 12, item 1: the decimal 1 written as 1 on both sides (stored as the
// text '1' in the TEXT column `duetc schema` makes) is the key duet writes
// as '1.00': one pair, not a copy of each row on the other side.
TEST_F(KeysTest, DecimalKeysMatchWhateverTheirScale) {
  ASSERT_TRUE(fo_.Exec(
      "INSERT INTO Line (CODE, LINE, QTY) VALUES ('A', 1, 5), ('B', '2.5', 1), ('C', 3.0, 1);"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO line (code, linenum, qty) VALUES ('A', 1, 7), ('B', '2.500', 2), ('C', "
               "'3', 2);"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT CODE, LINE, QTY FROM Line ORDER BY CODE"),
            (Rows{{"A", "1", "5"}, {"B", "2.5", "1"}, {"C", "3.0", "1"}}));
  EXPECT_EQ(ce_.Query("SELECT code, linenum, qty FROM line ORDER BY code"),
            (Rows{{"A", "1", "5"}, {"B", "2.500", "1"}, {"C", "3", "1"}}))
      << "the keys are equal by value: linked, and fo (the master) wins QTY";
  EXPECT_EQ(Links("lines"), 3);

  // Live sync: a row inserted on both sides before duet sees either.
  ASSERT_TRUE(fo_.Exec("INSERT INTO Line (CODE, LINE, QTY) VALUES ('D', 4, 8);"));
  ASSERT_TRUE(ce_.Exec("INSERT INTO line (code, linenum, qty) VALUES ('D', 4.0, 9);"));
  RunOnce();
  EXPECT_EQ(fo_.Query("SELECT CODE, LINE, QTY FROM Line WHERE CODE = 'D'"),
            (Rows{{"D", "4", "8"}}));
  EXPECT_EQ(ce_.Query("SELECT code, linenum, qty FROM line WHERE code = 'D'"),
            (Rows{{"D", "4.0", "8"}}));
  EXPECT_EQ(Links("lines"), 4);

  // The pairs stay linked: an edit reaches the partner, no row is added.
  ASSERT_TRUE(fo_.Exec("UPDATE Line SET QTY = 50 WHERE CODE = 'A';"));
  RunOnce();
  EXPECT_EQ(ce_.Query("SELECT code, linenum, qty FROM line WHERE code = 'A'"),
            (Rows{{"A", "1", "50"}}));
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM Line"), 4);
  EXPECT_EQ(ce_.Int("SELECT count(*) FROM line"), 4);
}

// A guid key in upper case and in braces on one side, in lower case on the
// other, is one value.
TEST_F(KeysTest, GuidKeysMatchWhateverTheirCaseAndBraces) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Token (TOKEN, NAME) VALUES "
               "('{6F9619FF-8B86-D011-B42D-00C04FC964FF}', 'braces'), "
               "('0B7E3B2C-1D2E-4F30-8A4B-5C6D7E8F9A0B', 'upper');"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO token (token, name) VALUES "
               "('6f9619ff-8b86-d011-b42d-00c04fc964ff', 'ce 1'), "
               "('0b7e3b2c-1d2e-4f30-8a4b-5c6d7e8f9a0b', 'ce 2');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM Token"), 2);
  EXPECT_EQ(ce_.Query("SELECT token, name FROM token ORDER BY name"),
            (Rows{{"6f9619ff-8b86-d011-b42d-00c04fc964ff", "braces"},
                  {"0b7e3b2c-1d2e-4f30-8a4b-5c6d7e8f9a0b", "upper"}}));
  EXPECT_EQ(Links("tokens"), 2);
  EXPECT_EQ(OpenErrors(), 0) << "a guid in braces is a guid, not bad data";
}

// A date written as a datetime at midnight, and a datetime with a space or
// a 'T', with or without fraction and Z, are the same key.
TEST_F(KeysTest, DateAndDatetimeKeysMatchWhateverTheirSpelling) {
  ASSERT_TRUE(
      fo_.Exec("INSERT INTO Shift (DAY, STARTS, NOTE) VALUES "
               "('2024-03-01', '2024-03-01 08:00:00', 'early'), "
               "('2024-03-02', '2024-03-02T09:30:00Z', 'late');"));
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO shift (day, starts, note) VALUES "
               "('2024-03-01 00:00:00', '2024-03-01T08:00:00.000000Z', 'ce 1'), "
               "('2024-03-02', '2024-03-02 09:30:00.000', 'ce 2');"));
  WriteConfig();
  Install();
  RunOnce();
  EXPECT_EQ(fo_.Int("SELECT count(*) FROM Shift"), 2);
  EXPECT_EQ(ce_.Query("SELECT day, starts, note FROM shift ORDER BY note"),
            (Rows{{"2024-03-01 00:00:00", "2024-03-01T08:00:00.000000Z", "early"},
                  {"2024-03-02", "2024-03-02 09:30:00.000", "late"}}));
  EXPECT_EQ(Links("shifts"), 2);
  EXPECT_EQ(OpenErrors(), 0);
}

class DriftTest : public SchemaTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    UseMaps("amounts.duet");
  }

  // `duet drift MAP --json`, expecting `exit_code`; the parsed report.
  json Drift(const std::string& map, int exit_code) {
    RunResult r = DuetExpect(exit_code, "drift", {map, "--json"});
    json report = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(report.is_discarded()) << r.out;
    return report.is_discarded() ? json::object() : report;
  }
};

// Issue 12, item 4: F&O's decimal(32, 6) 100.123456 is 100.1235 in a
// decimal(19, 4) column. That pair is as synced as it can be (writing fo's
// value to ce changes nothing), so it is no drift; a real difference still
// is, and resync removes it.
TEST_F(DriftTest, ADecimalRoundedByItsTargetColumnIsNoDrift) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Payment (CODE, AMOUNT) VALUES ('P1', 100.123456), ('P2', 7);"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Query("SELECT code, amount FROM payment ORDER BY code"),
            (Rows{{"P1", "100.1235"}, {"P2", "7.0000"}}));
  json clean = Drift("payments", kExitOk);
  EXPECT_EQ(clean["drift"], false) << clean.dump(2);
  EXPECT_EQ(clean["differing_pairs"]["count"], 0) << clean.dump(2);

  // A change behind duet's back (capture off) is drift, named by key.
  ASSERT_TRUE(
      ce_.Exec("DROP TRIGGER duet_payment_update; UPDATE payment SET amount = '100.1299' WHERE "
               "code = 'P1';"));
  Install();
  json found = Drift("payments", kExitRowErrors);
  ASSERT_EQ(found["differing_pairs"]["count"], 1) << found.dump(2);
  json pair = found["differing_pairs"]["listed"][0];
  EXPECT_EQ(pair["left_key"], (json{{"CODE", "P1"}})) << found.dump(2);
  EXPECT_EQ(pair["right_key"], (json{{"code", "P1"}})) << found.dump(2);
  RunResult text = DuetExpect(kExitRowErrors, "drift", {"payments"});
  EXPECT_THAT(text.out, HasSubstr("(CODE=P1) / ce row"));
  EXPECT_THAT(text.out, HasSubstr("(code=P1): ce.payment.amount is \"100.1299\""));

  DuetExpect(kExitOk, "resync", {"payments", "--from", "fo"});
  EXPECT_EQ(ce_.Value("SELECT amount FROM payment WHERE code = 'P1'"), "100.1235");
  EXPECT_EQ(Drift("payments", kExitOk)["drift"], false);
}

// A one-way map never syncs the target's own rows back: they have no
// partner by design. A source row without one is drift, shown by its key.
TEST_F(DriftTest, AOneWayMapsTargetRowsAreNoDrift) {
  ASSERT_TRUE(fo_.Exec("INSERT INTO Note (CODE, TEXT) VALUES ('N1', 'from fo');"));
  ASSERT_TRUE(ce_.Exec("INSERT INTO note (code, text) VALUES ('C1', 'ce''s own');"));
  WriteConfig();
  Install();
  RunOnce();
  ASSERT_EQ(ce_.Int("SELECT count(*) FROM note"), 2);
  json clean = Drift("notes", kExitOk);
  EXPECT_EQ(clean["without_partner"]["ce"]["count"], 0) << clean.dump(2);

  ASSERT_TRUE(fo_.Exec("INSERT INTO Note (CODE, TEXT) VALUES ('N2', 'not synced yet');"));
  json found = Drift("notes", kExitRowErrors);
  ASSERT_EQ(found["without_partner"]["fo"]["count"], 1) << found.dump(2);
  EXPECT_EQ(found["without_partner"]["fo"]["listed"][0]["key"], (json{{"CODE", "N2"}}));
  EXPECT_EQ(found["without_partner"]["ce"]["count"], 0) << found.dump(2);
  RunResult text = DuetExpect(kExitRowErrors, "drift", {"notes"});
  EXPECT_THAT(text.out, HasSubstr("(CODE=N2)"));
}

}  // namespace
}  // namespace duet::e2e
