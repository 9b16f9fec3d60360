// `duetc schema --dialect postgresql` against a real PostgreSQL 15: the
// tables of every system the standard maps declare are created by psql,
// twice (the script only creates what is missing), each with a primary key
// and the types the PostgreSQL endpoint expects.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/support/pg_server.h"
#include "tests/support/process.h"

namespace duet::test {
namespace {

std::vector<std::string> StandardMaps() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(DUET_SOURCE_DIR) / "stdlib-maps")) {
    if (entry.path().extension() == ".duet") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class SchemaPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = pg_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    scratch_ = pg_.dir() / "scratch";
    fs::create_directories(scratch_);
  }
  std::string Schema(const std::string& system) {
    std::vector<std::string> argv = {DUET_DUETC, "schema",    "--system",
                                     system,     "--dialect", "postgresql"};
    for (const std::string& file : StandardMaps()) argv.push_back(file);
    RunResult r = RunProcess(argv, scratch_, scratch_);
    EXPECT_EQ(r.exit_code, 0) << Show(argv, r);
    return r.out;
  }
  PgServer pg_;
  fs::path scratch_;
};

TEST_F(SchemaPgTest, TheStandardMapsTablesAreCreatedTwiceWithKeysAndTypes) {
  ASSERT_FALSE(StandardMaps().empty()) << "no standard maps found";
  size_t tables = 0;
  for (const std::string system : {"fo", "ce"}) {
    std::string script = Schema(system);
    ASSERT_FALSE(script.empty());
    // Each system in a schema of its own, as two applications' databases.
    ASSERT_TRUE(pg_.Psql("CREATE SCHEMA " + system).ok());
    for (int round = 0; round < 2; ++round) {
      Expected<std::string> ran = pg_.Psql("SET search_path = " + system + ";\n" + script);
      ASSERT_TRUE(ran.ok()) << "round " << round << ": " << ran.status().ToString();
    }
    size_t created = Count(script, "CREATE TABLE IF NOT EXISTS");
    tables += created;
    Expected<std::string> count =
        pg_.Psql("SELECT count(*) FROM pg_tables WHERE schemaname = '" + std::string(system) + "'");
    ASSERT_TRUE(count.ok());
    EXPECT_EQ(std::stoul(*count), created) << system;
    // Every table has a primary key: the PostgreSQL endpoint's row identity.
    Expected<std::string> without_key = pg_.Psql(
        "SELECT string_agg(c.relname, ',') FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = '" +
        std::string(system) +
        "' AND c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid "
        "AND i.indisprimary)");
    ASSERT_TRUE(without_key.ok());
    EXPECT_EQ(*without_key, "") << "tables without a primary key";
  }
  EXPECT_GT(tables, 10u);
  // A Dataverse-like guid id is the uuid primary key with a default; a
  // decimal keeps its precision; labels are comments.
  Expected<std::string> contact = pg_.Psql(
      "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = "
      "'ce.contact'::regclass AND a.attname = 'contactid'");
  ASSERT_TRUE(contact.ok());
  EXPECT_EQ(*contact, "uuid");
  Expected<std::string> inserted = pg_.Psql(
      "INSERT INTO ce.contact (msdyn_company) VALUES (gen_random_uuid()) "
      "RETURNING length(contactid::text)");
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(*inserted, "36");
  Expected<std::string> label = pg_.Psql("SELECT obj_description('ce.contact'::regclass)");
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(*label, "Contact");
}

TEST_F(SchemaPgTest, AnUnknownDialectIsAUsageError) {
  std::vector<std::string> argv = {DUET_DUETC, "schema", "--system", "fo", "--dialect", "oracle"};
  for (const std::string& file : StandardMaps()) argv.push_back(file);
  RunResult r = RunProcess(argv, scratch_, scratch_);
  EXPECT_EQ(r.exit_code, 2) << Show(argv, r);
  EXPECT_NE(r.err.find("unknown dialect 'oracle'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace duet::test
