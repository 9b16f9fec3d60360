// The PostgreSQL endpoint (runtime/endpoint/postgres) against a real
// PostgreSQL 15 server, for what the conformance suite does not cover: the
// type check and its messages, every type's round trip, the search_path,
// PostgreSQL's row locks, a lost connection, and no password in any error.
// The suite itself runs in tests/conformance (pg_endpoint_conformance_test).
#include "runtime/endpoint/postgres/postgres_endpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/bundle/bundle_file.h"
#include "runtime/endpoint/open_endpoint.h"
#include "runtime/pg/pg_conn.h"
#include "tests/support/pg_server.h"
#include "tests/support/process.h"

namespace duet::endpoint {
namespace {

using test::PgServer;
namespace fs = std::filesystem;

bundle::ColumnType Type(const std::string& text) {
  Expected<bundle::ColumnType> t = bundle::ColumnType::Parse(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : bundle::ColumnType();
}

bundle::Table Table(const std::string& name, std::vector<std::pair<std::string, std::string>> cols,
                    std::vector<std::string> key, std::string id = "") {
  bundle::Table t;
  t.name = name;
  t.system = "fo";
  for (const auto& [column, type] : cols)
    t.columns.push_back({column, Type(type), false, false, std::nullopt});
  t.key = std::move(key);
  t.id = std::move(id);
  return t;
}

// Every type the bundle has, in columns of the PostgreSQL types that fit.
constexpr char kTypedDdl[] =
    "CREATE TABLE typed (k numeric(12,2) PRIMARY KEY, s text, v varchar(10), c char(5),"
    " d numeric(19,4), i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, b bool, g uuid,"
    " dt date, ts timestamp, tz timestamptz)";

bundle::Table TypedTable() {
  return Table("fo.typed",
               {{"k", "decimal(12, 2)"},
                {"s", "string"},
                {"v", "string(10)"},
                {"c", "string(5)"},
                {"d", "decimal(19, 4)"},
                {"i2", "int"},
                {"i4", "int"},
                {"i8", "int"},
                {"f4", "float"},
                {"f8", "float"},
                {"b", "bool"},
                {"g", "guid"},
                {"dt", "date"},
                {"ts", "datetime"},
                {"tz", "datetime"}},
               {"k"});
}

class PostgresEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = pg_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    // Write transactions mark their session with a replication origin,
    // which PostgreSQL 15 lets only superusers use unless granted.
    Status granted = pg_.GrantReplicationOrigins();
    ASSERT_TRUE(granted.ok()) << granted.ToString();
    manifest_.systems = {"fo"};
  }

  std::string Uri(const std::string& query = "") const {
    return "postgresql://duet:" + pg_.password() + "@127.0.0.1:" + std::to_string(pg_.port()) +
           "/duet" + query;
  }

  void Sql(const std::string& sql) {
    Expected<std::string> out = pg_.Psql(sql);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
  }

  std::string SqlValue(const std::string& sql) {
    Expected<std::string> out = pg_.Psql(sql);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    std::string text = out.ok() ? *out : "";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  // An endpoint on the manifest's tables, with capture installed for them
  // (as `duet install` leaves it) when `install`.
  std::unique_ptr<Endpoint> Open(const std::string& query = "", bool install = true) {
    Expected<std::unique_ptr<Endpoint>> ep = OpenEndpoint(Uri(query), "fo", manifest_);
    EXPECT_TRUE(ep.ok()) << ep.status().ToString();
    if (!ep.ok()) return nullptr;
    std::vector<std::string> tables;
    for (const bundle::Table& t : manifest_.tables) tables.push_back(t.name);
    if (install) {
      Expected<CaptureCounts> counts = (*ep)->InstallCapture(tables);
      EXPECT_TRUE(counts.ok()) << counts.status().ToString();
      if (!counts.ok()) return nullptr;
    }
    return std::move(*ep);
  }

  // An endpoint on table t (k int4 primary key, v text) holding (1, 'a').
  std::unique_ptr<Endpoint> OpenT() {
    Expected<std::string> made =
        pg_.Psql("CREATE TABLE t (k int4 PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')");
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    manifest_.tables = {Table("fo.t", {{"k", "int"}, {"v", "string"}}, {"k"})};
    return Open();
  }

  std::vector<ColumnPath> Paths(const bundle::Table& t) const {
    std::vector<ColumnPath> paths;
    for (const bundle::Column& c : t.columns) paths.push_back({{c.name}, c.type});
    return paths;
  }

  PgServer pg_;
  bundle::Manifest manifest_;
};

TEST_F(PostgresEndpointTest, TheTypeCheckNamesSystemTableColumnAndBothTypes) {
  Sql("CREATE TABLE customer (code varchar(20) PRIMARY KEY, credit numeric(10,2), n int4)");
  manifest_.tables = {
      Table("fo.customer", {{"code", "string(20)"}, {"credit", "decimal(19, 4)"}}, {"code"})};
  std::unique_ptr<Endpoint> ep = Open("", false);
  ASSERT_NE(ep, nullptr);
  Status s = ep->CheckSchema();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  for (const char* part : {"fo:", "'customer'", "'credit'", "numeric(10,2)", "decimal(19, 4)"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in " << s.ToString();
  }

  manifest_.tables = {Table("fo.customer", {{"code", "string(20)"}, {"n", "string"}}, {"code"})};
  ep = Open("", false);
  s = ep->CheckSchema();
  for (const char* part : {"'n'", "integer", "string"}) {
    EXPECT_NE(s.message().find(part), std::string::npos) << part << " in " << s.ToString();
  }

  manifest_.tables = {Table("fo.customer", {{"code", "string(20)"}, {"gone", "int"}}, {"code"})};
  ep = Open("", false);
  s = ep->CheckSchema();
  EXPECT_NE(s.message().find("no column 'gone'"), std::string::npos) << s.ToString();

  manifest_.tables = {Table("fo.customer",
                            {{"code", "string(20)"}, {"credit", "decimal(10, 2)"}, {"n", "int"}},
                            {"code"})};
  ep = Open("", false);
  EXPECT_TRUE(ep->CheckSchema().ok()) << ep->CheckSchema().ToString();
}

// The tables `duetc schema --dialect postgresql` makes for the standard
// maps pass the endpoint's check against the maps' own bundle: the two
// agree on every type.
TEST_F(PostgresEndpointTest, TheStandardMapsTablesFromDuetcSchemaPassTheTypeCheck) {
  fs::path scratch = pg_.dir() / "scratch";
  fs::create_directories(scratch);
  std::vector<std::string> maps;
  for (const auto& entry : fs::directory_iterator(fs::path(DUET_SOURCE_DIR) / "stdlib-maps")) {
    if (entry.path().extension() == ".duet") maps.push_back(entry.path().string());
  }
  ASSERT_FALSE(maps.empty());
  std::vector<std::string> compile = {DUET_DUETC, "compile", "-o",
                                      (scratch / "std.duetb").string()};
  compile.insert(compile.end(), maps.begin(), maps.end());
  test::RunResult compiled = test::RunProcess(compile, scratch, scratch);
  ASSERT_EQ(compiled.exit_code, 0) << test::Show(compile, compiled);
  Expected<bundle::Verified> read = bundle::ReadFile((scratch / "std.duetb").string(), {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  Expected<bundle::Manifest> manifest = bundle::ParseManifest(read->contents.manifest);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  for (const std::string system : {"fo", "ce"}) {
    std::vector<std::string> schema = {DUET_DUETC, "schema",    "--system",
                                       system,     "--dialect", "postgresql"};
    schema.insert(schema.end(), maps.begin(), maps.end());
    test::RunResult ddl = test::RunProcess(schema, scratch, scratch);
    ASSERT_EQ(ddl.exit_code, 0) << test::Show(schema, ddl);
    Sql("CREATE SCHEMA " + system + "; SET search_path = " + system + ";\n" + ddl.out);
    Expected<std::unique_ptr<Endpoint>> ep =
        OpenEndpoint(Uri("?options=-csearch_path%3D" + system), system, *manifest);
    ASSERT_TRUE(ep.ok()) << ep.status().ToString();
    Status checked = (*ep)->CheckSchema();
    EXPECT_TRUE(checked.ok()) << system << ": " << checked.ToString();
    size_t tables = std::count_if(manifest->tables.begin(), manifest->tables.end(),
                                  [&](const bundle::Table& t) { return t.system == system; });
    EXPECT_GT(tables, 5u) << system << ": the check had tables to check";
  }
}

TEST_F(PostgresEndpointTest, AMissingTableOrKeyIsNamedClearly) {
  Sql("CREATE TABLE custtable (code text PRIMARY KEY); CREATE TABLE nokey (code text)");
  manifest_.tables = {Table("fo.CustTable", {{"code", "string"}}, {"code"})};
  std::unique_ptr<Endpoint> ep = Open("", false);
  ASSERT_NE(ep, nullptr);
  Status s = ep->CheckSchema();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("'CustTable' does not exist"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("there is 'custtable'"), std::string::npos) << s.ToString();

  manifest_.tables = {Table("fo.nokey", {{"code", "string"}}, {"code"})};
  ep = Open("", false);
  s = ep->CheckSchema();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("'nokey'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("no primary key"), std::string::npos) << s.ToString();
}

// Each type written by duet and read back is the same value, NULLs too; the
// row's id is the key as PostgreSQL prints it, and FindRow compares by type.
TEST_F(PostgresEndpointTest, EveryTypeRoundTripsThroughAWriteAndARead) {
  Sql(kTypedDdl);
  manifest_.tables = {TypedTable()};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  ASSERT_TRUE(ep->CheckSchema().ok()) << ep->CheckSchema().ToString();
  std::vector<std::string> columns;
  for (const bundle::Column& c : manifest_.tables[0].columns) columns.push_back(c.name);
  std::vector<Value> full = {
      Value::Decimal(150, 2),
      Value::String("naïve 'quoted' \"text\" \\ {}"),
      Value::String("ten chars!"),
      Value::String("ab"),
      Value::Decimal(-123456789012345, 4),
      Value::Int(-32768),
      Value::Int(2147483647),
      Value::Int(INT64_MIN),
      Value::Float(0.5),
      Value::Float(0.1),
      Value::Bool(true),
      *ValueFromText("0190a5c2-1111-7000-8000-00000000000a", Type("guid")),
      *ValueFromText("2024-02-29", Type("date")),
      *ValueFromText("1999-12-31T23:59:59.123456Z", Type("datetime")),
      *ValueFromText("2024-03-01T00:00:00.000001Z", Type("datetime")),
  };
  std::vector<Value> nulls(full.size());
  nulls[0] = Value::Decimal(-2, 0);
  Expected<std::unique_ptr<WriteTransaction>> txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  Expected<RowId> a = (*txn)->Insert("fo.typed", columns, full);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, "1.50") << "the key as PostgreSQL prints numeric(12,2)";
  Expected<RowId> b = (*txn)->Insert("fo.typed", columns, nulls);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*txn)->Commit().ok());

  auto reader = ep->Reader("fo.typed", Paths(manifest_.tables[0]));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Expected<std::vector<Row>> rows = (*reader)->ReadMany({*a, *b});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  for (const Row& row : *rows) {
    EXPECT_EQ(row.problem, "");
    const std::vector<Value>& want = row.id == *a ? full : nulls;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(row.values[i], want[i])
          << columns[i] << ": " << row.values[i].ToText() << " vs " << want[i].ToText();
    }
  }
  EXPECT_EQ(SqlValue("SELECT tz FROM typed WHERE k = 1.5"), "2024-03-01 00:00:00.000001+00");
  EXPECT_EQ(SqlValue("SELECT c FROM typed WHERE k = 1.5"), "ab   ") << "char(5) pads";
  Expected<std::optional<RowId>> found =
      ep->FindRow("fo.typed", {"k"}, {*ValueFromText("1.5", Type("decimal(12, 2)"))});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::optional<RowId>(*a)) << "1.5 = 1.50, compared as numeric";
  found = ep->FindRow("fo.typed", {"k"}, {Value::String("1.500")});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::optional<RowId>(*a));
  found = ep->FindRow("fo.typed", {"i4"}, {Value::Int(int64_t{1} << 40)});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value()) << "beyond int4: no row, not an error";
  found = ep->FindRow("fo.typed", {"k"}, {Value::Decimal(1501, 3)});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value()) << "1.501 is no value of numeric(12,2)";
  found = ep->FindRow("fo.typed", {"i8"}, {Value::String("12x")});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_FALSE(found->has_value());
  found = ep->FindRow("fo.typed", {"g", "b"},
                      {Value::String("{0190A5C2-1111-7000-8000-00000000000A}"), Value::Bool(true)});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::optional<RowId>(*a)) << "a guid in braces and upper case";
  // FindRows answers each key as FindRow does, in order, in one query.
  Expected<std::vector<std::optional<RowId>>> many =
      ep->FindRows("fo.typed", {"k"},
                   {{Value::Decimal(1501, 3)},
                    {*ValueFromText("1.5", Type("decimal(12, 2)"))},
                    {Value::Null()},
                    {Value::String("1.500")},
                    {Value::String("no number")}});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_EQ(*many,
            (std::vector<std::optional<RowId>>{std::nullopt, *a, std::nullopt, *a, std::nullopt}));
}

// An application's values in other spellings read as the same values; a
// stored value that cannot be read as its type is the row's problem.
TEST_F(PostgresEndpointTest, StoredValuesAreReadExactlyOrReportedAsTheRowsProblem) {
  Sql(std::string(kTypedDdl) + "; ALTER TABLE typed ALTER d TYPE numeric");
  Sql("INSERT INTO typed (k, d, tz, dt) VALUES (1, '2.5', '2024-03-01 01:00:00+01', '2024-01-02')");
  Sql("INSERT INTO typed (k, d, dt) VALUES (2, '2.00001', 'infinity')");
  manifest_.tables = {TypedTable()};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  ASSERT_TRUE(ep->CheckSchema().ok()) << "an unconstrained numeric fits";
  auto reader = ep->Reader(
      "fo.typed",
      {{{"d"}, Type("decimal(19, 4)")}, {{"tz"}, Type("datetime")}, {{"dt"}, Type("date")}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Expected<std::vector<Row>> rows = (*reader)->Scan(std::nullopt, 10);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, "1.00");
  EXPECT_EQ((*rows)[0].problem, "");
  EXPECT_EQ((*rows)[0].values[0].ToText(), "2.5000");
  EXPECT_EQ((*rows)[0].values[1].ToText(), "2024-03-01T00:00:00.000000Z") << "in UTC";
  EXPECT_NE((*rows)[1].problem.find("column 'd'"), std::string::npos) << (*rows)[1].problem;
  EXPECT_NE((*rows)[1].problem.find("2.00001"), std::string::npos) << "never rounded";
}

TEST_F(PostgresEndpointTest, TheSearchPathPlacesTheTablesAndLookupsJoinThem) {
  Sql("CREATE SCHEMA sales; CREATE TABLE sales.company (id bigint PRIMARY KEY, code text);"
      "CREATE TABLE sales.customer (code text PRIMARY KEY, company bigint);"
      "CREATE TABLE public.customer (code text PRIMARY KEY);"
      "INSERT INTO sales.company VALUES (7, 'USMF');"
      "INSERT INTO sales.customer VALUES ('C1', 7), ('C2', NULL)");
  manifest_.tables = {
      Table("fo.company", {{"id", "int"}, {"code", "string"}}, {"code"}, "id"),
      Table("fo.customer", {{"code", "string"}, {"company", "ref fo.company"}}, {"code"})};
  std::unique_ptr<Endpoint> ep = Open("?options=-csearch_path%3Dsales");
  ASSERT_NE(ep, nullptr);
  ASSERT_TRUE(ep->CheckSchema().ok()) << ep->CheckSchema().ToString();
  auto reader = ep->Reader("fo.customer",
                           {{{"code"}, Type("string")}, {{"company", "code"}, Type("string")}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Expected<std::vector<Row>> rows = (*reader)->Scan(std::nullopt, 10);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u) << "sales.customer, not public.customer";
  EXPECT_EQ((*rows)[0].values[1].ToText(), "USMF");
  EXPECT_TRUE((*rows)[1].values[1].is_null()) << "no referenced row";
  Expected<Value> ref = ep->RefValue("fo.company", "7");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->ToText(), "7");
  Expected<std::optional<RowId>> found = ep->FindRow("fo.customer", {"company"}, {*ref});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, std::optional<RowId>("C1"));
}

// Rows are named by their primary key of any shape: a composite key's RowId
// reads, updates and deletes the row, a guid id is assigned, and a lookup
// through a ref to a table without an id joins on its RowId.
TEST_F(PostgresEndpointTest, APrimaryKeyOfAnyShapeNamesTheRow) {
  Sql("CREATE TABLE line (order_no int8, line_no int8, qty int8, PRIMARY KEY (order_no, line_no));"
      "CREATE TABLE account (accountid uuid PRIMARY KEY, name text);"
      "CREATE TABLE note (id int8 PRIMARY KEY, line text);"
      "INSERT INTO line VALUES (1, 2, 5), (1, 10, 7), (2, 1, 9);"
      "INSERT INTO note VALUES (1, '[\"1\",\"10\"]')");
  manifest_.tables = {
      Table("fo.line", {{"order_no", "int"}, {"line_no", "int"}, {"qty", "int"}},
            {"order_no", "line_no"}),
      Table("fo.account", {{"accountid", "guid"}, {"name", "string"}}, {"accountid"}, "accountid"),
      Table("fo.note", {{"id", "int"}, {"line", "ref fo.line"}}, {"id"}, "id")};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  ASSERT_TRUE(ep->CheckSchema().ok()) << ep->CheckSchema().ToString();
  auto lines = ep->Reader("fo.line", {{{"qty"}, Type("int")}});
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  std::vector<RowId> scanned;
  std::optional<RowId> after;
  for (int page = 0; page < 5; ++page) {
    Expected<std::vector<RowId>> ids = (*lines)->ScanIds(after, 1);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    if (ids->empty()) break;
    scanned.push_back(ids->front());
    after = ids->front();
  }
  EXPECT_EQ(scanned, (std::vector<RowId>{"[\"1\",\"2\"]", "[\"1\",\"10\"]", "[\"2\",\"1\"]"}))
      << "the key's order, numeric per column";

  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  Expected<RowId> made = (*txn)->Insert("fo.line", {"order_no", "line_no", "qty"},
                                        {Value::Int(3), Value::Int(1), Value::Int(1)});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(*made, "[\"3\",\"1\"]");
  ASSERT_TRUE((*txn)->Update("fo.line", scanned[0], {"qty"}, {Value::Int(6)}).ok());
  ASSERT_TRUE((*txn)->Delete("fo.line", scanned[2]).ok());
  Expected<RowId> account = (*txn)->Insert("fo.account", {"name"}, {Value::String("Made")});
  ASSERT_TRUE(account.ok()) << account.status().ToString();
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT string_agg(order_no || '/' || line_no || '=' || qty, ','"
                     " ORDER BY order_no, line_no) FROM line"),
            "1/2=6,1/10=7,3/1=1");
  Expected<Value> ref = ep->RefValue("fo.account", *account);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->ToText(), *account) << "a guid id was assigned, and it is the key";
  EXPECT_EQ(SqlValue("SELECT substr(accountid::text, 15, 1) FROM account"), "7") << "a UUIDv7";
  Expected<Value> line_ref = ep->RefValue("fo.line", scanned[1]);
  ASSERT_TRUE(line_ref.ok());
  EXPECT_EQ(line_ref->ToText(), scanned[1]) << "no id column: refs store the RowId";

  auto notes = ep->Reader("fo.note", {{{"line", "qty"}, Type("int")}});
  ASSERT_TRUE(notes.ok()) << notes.status().ToString();
  Expected<std::optional<Row>> note = (*notes)->Read("1");
  ASSERT_TRUE(note.ok() && note->has_value()) << note.status().ToString();
  EXPECT_EQ((*note)->values[0].ToText(), "7") << "joined through the composite key's RowId";
  for (const char* bad : {"1", "[\"1\"]", "[1,2]", "[\"x\",\"1\"]"}) {
    EXPECT_EQ((*lines)->Read(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// A text key sorts by its collation, which need not be bytewise (ICU's
// here): scans order and resume by the same one, so every row comes once,
// in the order the database sorts the key.
TEST_F(PostgresEndpointTest, ScansFollowTheKeysOwnCollation) {
  Sql("CREATE TABLE t (k text COLLATE \"und-x-icu\" PRIMARY KEY);"
      "INSERT INTO t VALUES ('b'), ('B'), ('a'), ('\u00c4'), ('10'), ('9'), ('c'), ('_x')");
  manifest_.tables = {Table("fo.t", {{"k", "string"}}, {"k"})};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  auto reader = ep->Reader("fo.t", {{{"k"}, Type("string")}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string sorted = SqlValue("SELECT string_agg(k, ',' ORDER BY k) FROM t");
  for (size_t page : {1, 3}) {
    std::string seen;
    std::optional<RowId> after;
    for (int i = 0; i < 20; ++i) {
      Expected<std::vector<Row>> rows = (*reader)->Scan(after, page);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      if (rows->empty()) break;
      for (const Row& row : *rows) seen += (seen.empty() ? "" : ",") + row.id;
      after = rows->back().id;
    }
    EXPECT_EQ(seen, sorted) << "pages of " << page;
  }
  EXPECT_NE(sorted, "10,9,B,_x,a,b,c,\u00c4") << "the premise: not the bytewise order";
}

// What the conformance suite's stream tests do with rows, without the
// stream: refused rows, rollback, bulk outcomes, composite keys.
TEST_F(PostgresEndpointTest, RefusedRowsLeaveTheTransactionGoingAndBulkInsertsGiveOutcomes) {
  Sql("CREATE TABLE customer (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
      " code varchar(5) NOT NULL UNIQUE, name text);"
      "INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  manifest_.tables = {Table(
      "fo.customer", {{"id", "int"}, {"code", "string(5)"}, {"name", "string"}}, {"code"}, "id")};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  Expected<std::optional<RowId>> a = ep->FindRow("fo.customer", {"code"}, {Value::String("A")});
  ASSERT_TRUE(a.ok() && a->has_value());
  auto txn = ep->Begin("m", Endpoint::WriteLock::kAtFirstWrite);
  ASSERT_TRUE(txn.ok());
  std::vector<std::string> cols = {"code", "name"};
  Status dup = (*txn)->Insert("fo.customer", cols, {Value::String("A"), Value::Null()}).status();
  EXPECT_EQ(dup.code(), StatusCode::kFailedPrecondition) << dup.ToString();
  EXPECT_NE(dup.message().find("duplicate key"), std::string::npos) << dup.ToString();
  Status null_key = (*txn)->Update("fo.customer", **a, {"code"}, {Value::Null()});
  EXPECT_EQ(null_key.code(), StatusCode::kFailedPrecondition) << null_key.ToString();
  Status nul =
      (*txn)->Update("fo.customer", **a, {"name"}, {Value::String(std::string("a\0b", 3))});
  EXPECT_EQ(nul.code(), StatusCode::kFailedPrecondition) << nul.ToString();
  std::vector<std::vector<Value>> rows;
  for (const char* code : {"B", "A", "toolong", "C"})
    rows.push_back({Value::String(code), Value::Null()});
  auto made = (*txn)->InsertMany("fo.customer", cols, rows);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->size(), 4u);
  EXPECT_TRUE((*made)[0].ok());
  EXPECT_EQ((*made)[1].status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*made)[2].status().code(), StatusCode::kFailedPrecondition) << "value too long";
  EXPECT_TRUE((*made)[3].ok());
  auto clean = (*txn)->InsertMany(
      "fo.customer", cols,
      {{Value::String("D"), Value::Null()}, {Value::String("E"), Value::String("Eve")}});
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  ASSERT_EQ(clean->size(), 2u);
  ASSERT_TRUE((*clean)[1].ok());
  ASSERT_TRUE((*txn)->Update("fo.customer", **a, {"name"}, {Value::String("Anne")}).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT string_agg(code || ':' || coalesce(name, ''), ',' ORDER BY code)"
                     " FROM customer"),
            "A:Anne,B:,C:,D:,E:Eve");
  Expected<std::optional<RowId>> e = ep->FindRow("fo.customer", {"code"}, {Value::String("E")});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, std::optional<RowId>(*(*clean)[1])) << "InsertMany's ids are the rows'";
  EXPECT_GT(ep->LastLockHeld().count(), 0);

  txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Delete("fo.customer", *(*clean)[1]).ok());
  (*txn)->Rollback();
  EXPECT_EQ(SqlValue("SELECT count(*) FROM customer WHERE code = 'E'"), "1") << "rolled back";
  txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(ep->LastLockHeld().count(), 0) << "no write, no lock";
}

// PostgreSQL locks rows, not the database: under kAtFirstWrite a write to
// a row another writer changed since the snapshot loses the race; a write
// to another row does not.
TEST_F(PostgresEndpointTest, UnderAtFirstWriteARowChangedSinceTheSnapshotLosesTheRace) {
  std::unique_ptr<Endpoint> ep = OpenT();
  ASSERT_NE(ep, nullptr);
  Sql("INSERT INTO t VALUES (2, 'b')");
  auto txn = ep->Begin("m", Endpoint::WriteLock::kAtFirstWrite);
  ASSERT_TRUE(txn.ok());
  Sql("UPDATE t SET v = 'app' WHERE k = 1");
  ASSERT_TRUE((*txn)->Update("fo.t", "2", {"v"}, {Value::String("duet")}).ok())
      << "another row: no conflict";
  Status lost = (*txn)->Update("fo.t", "1", {"v"}, {Value::String("duet")});
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  (*txn)->Rollback();
  EXPECT_TRUE(ep->LostLockRace());
  EXPECT_EQ(SqlValue("SELECT string_agg(v, ',' ORDER BY k) FROM t"), "app,b");

  // An insert of a key another writer committed since the snapshot loses
  // the race too (the batch, done again, finds that row), where an insert
  // of a key the snapshot sees is a refused row.
  txn = ep->Begin("m", Endpoint::WriteLock::kAtFirstWrite);
  ASSERT_TRUE(txn.ok());
  Sql("INSERT INTO t VALUES (3, 'app')");
  Status dup = (*txn)->Insert("fo.t", {"k", "v"}, {Value::Int(2), Value::String("duet")}).status();
  EXPECT_EQ(dup.code(), StatusCode::kFailedPrecondition) << dup.ToString();
  EXPECT_NE(dup.message().find("duplicate key"), std::string::npos) << dup.ToString();
  lost = (*txn)->Insert("fo.t", {"k", "v"}, {Value::Int(3), Value::String("duet")}).status();
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  (*txn)->Rollback();
  EXPECT_TRUE(ep->LostLockRace());
  txn = ep->Begin("m", Endpoint::WriteLock::kAtFirstWrite);
  ASSERT_TRUE(txn.ok());
  auto many = (*txn)->InsertMany("fo.t", {"k", "v"},
                                 {{Value::Int(4), Value::Null()}, {Value::Int(2), Value::Null()}});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_TRUE((*many)[0].ok());
  EXPECT_EQ((*many)[1].status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT string_agg(k || coalesce(v, '-'), ',' ORDER BY k) FROM t"),
            "1app,2b,3app,4-");
}

// A table with an insert rule takes no ON CONFLICT: kAtFirstWrite's
// inserts then go without it.
TEST_F(PostgresEndpointTest, AnInsertIntoATableWithRulesWorksUnderAtFirstWrite) {
  std::unique_ptr<Endpoint> ep = OpenT();
  ASSERT_NE(ep, nullptr);
  Sql("CREATE TABLE audit (k int4); CREATE RULE keep AS ON INSERT TO t DO ALSO"
      " INSERT INTO audit VALUES (NEW.k)");
  auto txn = ep->Begin("m", Endpoint::WriteLock::kAtFirstWrite);
  ASSERT_TRUE(txn.ok());
  Expected<RowId> one = (*txn)->Insert("fo.t", {"k", "v"}, {Value::Int(2), Value::Null()});
  EXPECT_TRUE(one.ok()) << one.status().ToString();
  auto many = (*txn)->InsertMany("fo.t", {"k", "v"},
                                 {{Value::Int(3), Value::Null()}, {Value::Int(1), Value::Null()}});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  EXPECT_TRUE((*many)[0].ok()) << (*many)[0].status().ToString();
  EXPECT_EQ((*many)[1].status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT string_agg(k::text, ',' ORDER BY k) FROM audit"), "2,3");
}

// Under kNow, reading for update waits for another writer's row lock up to
// the lock timeout, then is Unavailable (no lost race: kNow waits).
TEST_F(PostgresEndpointTest, UnderNowReadForUpdateWaitsUpToTheLockTimeout) {
  std::unique_ptr<Endpoint> ep = OpenT();
  ASSERT_NE(ep, nullptr);
  auto app = pg::Connection::Open(pg_.ConnInfoWithPassword(), {.label = "app"});
  ASSERT_TRUE(app.ok());
  ASSERT_TRUE((*app)->Run("BEGIN; UPDATE t SET v = 'app' WHERE k = 1").ok());
  ep->SetLockTimeout(std::chrono::milliseconds(100));
  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->ReadForUpdate("fo.t", {{{"v"}, Type("string")}}, {"1"});
  EXPECT_EQ(rows.status().code(), StatusCode::kUnavailable) << rows.status().ToString();
  (*txn)->Rollback();
  EXPECT_FALSE(ep->LostLockRace());
  ASSERT_TRUE((*app)->Run("COMMIT").ok());
  txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  rows = (*txn)->ReadForUpdate("fo.t", {{{"v"}, Type("string")}}, {"1"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].values[0].ToText(), "app");
}

// The engine reads a pair's rows and then writes them; under kNow too, an
// application's commit to a row between that read and the write must fail
// the write (the batch is done again), never be overwritten unseen.
TEST_F(PostgresEndpointTest, UnderNowAWriteOverAChangeTheReadDidNotSeeFailsInsteadOfLosingIt) {
  std::unique_ptr<Endpoint> ep = OpenT();
  ASSERT_NE(ep, nullptr);
  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  auto reader = ep->Reader("fo.t", {{{"v"}, Type("string")}});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Expected<std::optional<Row>> read = (*reader)->Read("1");
  ASSERT_TRUE(read.ok() && *read) << read.status().ToString();
  std::string seen = (**read).values[0].ToText();
  Sql("UPDATE t SET v = 'app' WHERE k = 1");
  Status write = (*txn)->Update("fo.t", "1", {"v"}, {Value::String(seen + "-duet")});
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.ToString();
  (*txn)->Rollback();
  EXPECT_FALSE(ep->LostLockRace()) << "kNow waits; it does not race";
  EXPECT_EQ(SqlValue("SELECT v FROM t WHERE k = 1"), "app") << "the application's change stays";
}

TEST_F(PostgresEndpointTest, AConditionIsCheckedAndAnInvalidOneKeepsTheTransaction) {
  Sql("CREATE TABLE t (k text PRIMARY KEY, n int4); INSERT INTO t VALUES ('a', 1), ('b', 2),"
      " ('c', 3)");
  manifest_.tables = {Table("fo.t", {{"k", "string"}, {"n", "int"}}, {"k"})};
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  auto reader = ep->Reader("fo.t", {{{"n"}, Type("int")}});
  ASSERT_TRUE(reader.ok());
  auto rows = (*reader)->ScanWhere(RowId("a"), 10, "n >= 2 -- a comment");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, "b");
  Expected<int64_t> count = (*reader)->CountWhere("k <> 'it''s; (not'");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);
  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  for (const char* bad : {"n = 1; DROP TABLE t", "n = 1) OR (true", "k = 'open", "nope = 1",
                          "$$ unclosed", "n = 1 /* open"}) {
    EXPECT_EQ((*reader)->CountWhere(bad).status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ((*reader)->ScanWhere(std::nullopt, 1, bad).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  ASSERT_TRUE((*txn)->Update("fo.t", "a", {"n"}, {Value::Int(9)}).ok()) << "still going";
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT n FROM t WHERE k = 'a'"), "9");
}

// A connection the server ends in the middle of a transaction is
// Unavailable; the next Begin connects again.
TEST_F(PostgresEndpointTest, AConnectionTerminatedMidTransactionIsUnavailableThenReconnects) {
  std::unique_ptr<Endpoint> ep = OpenT();
  ASSERT_NE(ep, nullptr);
  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Update("fo.t", "1", {"v"}, {Value::String("duet")}).ok());
  EXPECT_EQ(SqlValue("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     " WHERE application_name = 'duet' AND state = 'idle in transaction'"),
            "1");
  Status s = (*txn)->Update("fo.t", "1", {"v"}, {Value::String("again")});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ((*txn)->Commit().code(), StatusCode::kUnavailable);
  (*txn)->Rollback();
  txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  ASSERT_TRUE((*txn)->Update("fo.t", "1", {"v"}, {Value::String("after")}).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(SqlValue("SELECT v FROM t"), "after") << "the first transaction's write is gone";
  // Outside a transaction too: the read that finds the session gone is
  // Unavailable, the next one connects again.
  auto reader = ep->Reader("fo.t", {{{"v"}, Type("string")}});
  ASSERT_TRUE(reader.ok());
  // duet's idle sessions: the endpoint's, and capture's own.
  EXPECT_EQ(SqlValue("SELECT count(pg_terminate_backend(pid)) > 0 FROM pg_stat_activity"
                     " WHERE application_name = 'duet' AND state = 'idle'"
                     " AND backend_type = 'client backend'"),
            "t");
  EXPECT_EQ((*reader)->Count().status().code(), StatusCode::kUnavailable);
  Expected<int64_t> count = (*reader)->Count();
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 1);
}

// No message carries the password: a refused login, a server that is down,
// a connection lost, a bad statement.
TEST_F(PostgresEndpointTest, NoErrorCarriesThePassword) {
  Sql("CREATE TABLE t (k int4 PRIMARY KEY, v varchar(2))");
  manifest_.tables = {Table("fo.t", {{"k", "int"}, {"v", "string(2)"}}, {"k"})};
  std::vector<Status> errors;
  std::string wrong = "postgresql://duet:not-" + pg_.password() +
                      "@127.0.0.1:" + std::to_string(pg_.port()) + "/duet";
  errors.push_back(OpenEndpoint(wrong, "fo", manifest_).status());
  errors.push_back(OpenEndpoint(Uri("?bogus=1"), "fo", manifest_).status());
  std::unique_ptr<Endpoint> ep = Open();
  ASSERT_NE(ep, nullptr);
  auto txn = ep->Begin("m", Endpoint::WriteLock::kNow);
  ASSERT_TRUE(txn.ok());
  errors.push_back(
      (*txn)->Insert("fo.t", {"k", "v"}, {Value::Int(1), Value::String("abc")}).status());
  (*txn)->Rollback();
  ASSERT_TRUE(pg_.Stop().ok());
  errors.push_back(ep->Begin("m", Endpoint::WriteLock::kNow).status());
  errors.push_back(OpenEndpoint(Uri(), "fo", manifest_).status());
  for (const Status& s : errors) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.message().find(pg_.password()), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(errors[0].code(), StatusCode::kInvalidArgument) << errors[0].ToString();
  EXPECT_EQ(errors[3].code(), StatusCode::kUnavailable) << errors[3].ToString();
}

}  // namespace
}  // namespace duet::endpoint
