// Issue 12, reusing the standard tables: a project's map that imports a
// standard map file for its table declarations is deployed with
// `duetc compile --maps`, which bundles the chosen map, the maps it looks
// rows up from and the tables those use, so `duet run` needs nothing more in
// the databases. The module is examples/payment-methods
// (docs/standard-maps.md, "Extending a standard table").
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace duet::e2e {
namespace {

using ::testing::HasSubstr;

constexpr const char* kMap = "customer_payment_methods";

class ChosenMapsTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (HasFatalFailure()) return;
    // maps_dir is tests/e2e/maps of the source tree.
    module_ = (fs::path(GetTools().maps_dir) / ".." / ".." / ".." / "examples" / "payment-methods")
                  .lexically_normal()
                  .string();
    ASSERT_TRUE(fs::is_directory(module_)) << module_;
  }

  RunResult Duetc(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {GetTools().duetc};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, dir_, dir_ / ".scratch");
  }

  // Both databases with the tables `duetc schema --maps` prints, and no other.
  void MakeDatabases() {
    for (auto [system, db] : {std::pair{"fo", &fo_}, std::pair{"ce", &ce_}}) {
      RunResult schema = Duetc({"schema", module_, "--maps", kMap, "--system", system});
      ASSERT_EQ(schema.exit_code, kExitOk) << schema.err;
      ASSERT_TRUE(db->Exec(schema.out));
    }
  }

  Rows Tables(const Sqlite& db) const {
    return db.Query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'duet_%' "
        "ORDER BY name");
  }

  std::string module_;
};

TEST_F(ChosenMapsTest, OneMapWithWhatItNeedsSyncsBetweenDatabasesWithOnlyItsTables) {
  RunResult compiled = Duetc({"compile", module_, "--maps", kMap, "-o", "maps.duetb"});
  ASSERT_EQ(compiled.exit_code, kExitOk) << compiled.err;
  EXPECT_THAT(compiled.err, HasSubstr("2 maps, 3 transforms")) << "the map and legal_entities";
  MakeDatabases();
  ASSERT_EQ(Tables(fo_), (Rows{{"CustomerPaymentMethodEntity"}, {"OMLegalEntity"}}));
  ASSERT_EQ(Tables(ce_), (Rows{{"cdm_company"}, {"msdyn_customerpaymentmethod"}}));

  ASSERT_TRUE(
      fo_.Exec("INSERT INTO OMLegalEntity (LEGALENTITYID, NAME) VALUES ('usmf', 'Contoso USA');"
               "INSERT INTO CustomerPaymentMethodEntity (DATAAREAID, NAME, DESCRIPTION) VALUES "
               "('usmf', 'CHECK', 'Check'), ('usmf', 'ELECTRONIC', 'Electronic payment');"));
  WriteConfig();
  Install();
  RunOnce();
  // The company lookup found the company that legal_entities synced first.
  Rows expected = {{"usmf", "CHECK", "Check"}, {"usmf", "ELECTRONIC", "Electronic payment"}};
  EXPECT_EQ(ce_.Query("SELECT c.cdm_companycode, p.msdyn_name, p.msdyn_description "
                      "FROM msdyn_customerpaymentmethod p "
                      "JOIN cdm_company c ON c.cdm_companyid = p.msdyn_company ORDER BY 2"),
            expected);

  // And back: a payment method made in Dataverse.
  ASSERT_TRUE(
      ce_.Exec("INSERT INTO msdyn_customerpaymentmethod (msdyn_company, msdyn_name, "
               "msdyn_description) SELECT cdm_companyid, 'CARD', 'Card' FROM cdm_company;"));
  RunOnce();
  EXPECT_EQ(fo_.Value("SELECT DATAAREAID || '/' || DESCRIPTION FROM CustomerPaymentMethodEntity "
                      "WHERE NAME = 'CARD'"),
            "usmf/Card");
  EXPECT_EQ(OpenErrors(), 0);
}

// Without --maps the bundle holds every map the import brought in, which
// is what the user met: duet refuses databases without their tables.
TEST_F(ChosenMapsTest, TheWholeModuleNeedsEveryTableAndAnUnknownMapIsRefused) {
  RunResult all = Duetc({"compile", module_, "-o", "maps.duetb"});
  ASSERT_EQ(all.exit_code, kExitOk) << all.err;
  EXPECT_THAT(all.err, HasSubstr("8 maps"));
  MakeDatabases();
  WriteConfig();
  RunResult refused = Duet("install");
  EXPECT_EQ(refused.exit_code, kExitError) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("does not exist"));

  RunResult unknown =
      Duetc({"compile", module_, "--maps", std::string(kMap) + ",nope", "-o", "other.duetb"});
  EXPECT_EQ(unknown.exit_code, kExitError) << unknown.err;
  EXPECT_THAT(unknown.err, HasSubstr("no map 'nope'"));
  EXPECT_FALSE(fs::exists(dir_ / "other.duetb")) << "nothing written";
  RunResult schema = Duetc({"schema", module_, "--maps", "nope", "--system", "fo"});
  EXPECT_EQ(schema.exit_code, kExitError);
  EXPECT_THAT(schema.err, HasSubstr("no map 'nope'"));
  EXPECT_EQ(schema.out, "");
}

}  // namespace
}  // namespace duet::e2e
