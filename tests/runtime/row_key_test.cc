// The SQLite endpoint's row ids (runtime/endpoint/sqlite/row_key.h): which
// encoding a primary key gets, and reading a row id back into typed values,
// where anything not of the table's encoding is InvalidArgument.
#include "runtime/endpoint/sqlite/row_key.h"

#include <gtest/gtest.h>

namespace duet::endpoint {
namespace {

using Kind = KeyParam::Kind;

TEST(RowKeyTest, TheDeclaredKeyChoosesTheEncoding) {
  EXPECT_EQ(MakeRowKey({}, {}, false).kind, RowKey::Kind::kRowid);
  EXPECT_EQ(MakeRowKey({"id"}, {"INTEGER"}, false).kind, RowKey::Kind::kRowid);
  EXPECT_EQ(MakeRowKey({"id"}, {"integer"}, true).kind, RowKey::Kind::kJson)
      << "a WITHOUT ROWID table's integer key is no rowid";
  EXPECT_EQ(MakeRowKey({"id"}, {"TEXT"}, false).kind, RowKey::Kind::kText);
  EXPECT_EQ(MakeRowKey({"id"}, {"VARCHAR(36)"}, true).kind, RowKey::Kind::kText);
  EXPECT_EQ(MakeRowKey({"id"}, {"UNIQUEIDENTIFIER"}, false).kind, RowKey::Kind::kJson)
      << "INT in the name: integer affinity";
  EXPECT_EQ(MakeRowKey({"a", "b"}, {"TEXT", "INTEGER"}, false).kind, RowKey::Kind::kJson);
}

TEST(RowKeyTest, SqlOfACompositeKey) {
  RowKey key = MakeRowKey({"co", "n\"o"}, {"TEXT", "INTEGER"}, false);
  EXPECT_EQ(key.Columns("t"), "t.\"co\", t.\"n\"\"o\"");
  EXPECT_EQ(key.Compare("t", ">", 3), "(t.\"co\", t.\"n\"\"o\") > (?3, ?4)");
  EXPECT_EQ(key.Same("OLD", "NEW"),
            "OLD.\"co\" IS NEW.\"co\" AND OLD.\"n\"\"o\" IS NEW.\"n\"\"o\"");
  RowKey rowid;
  EXPECT_EQ(rowid.Compare("", "=", 1), "rowid = ?1");
}

TEST(RowKeyTest, DecodesEachEncoding) {
  Expected<std::vector<KeyParam>> r = DecodeRowId(RowKey(), "-42");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, Kind::kInt);
  EXPECT_EQ((*r)[0].i, -42);

  RowKey text = MakeRowKey({"id"}, {"TEXT"}, false);
  r = DecodeRowId(text, "1f0c-x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].kind, Kind::kText);
  EXPECT_EQ((*r)[0].s, "1f0c-x");

  RowKey json = MakeRowKey({"a", "b", "c", "d", "e"}, {"", "", "", "", ""}, false);
  r = DecodeRowId(json, R"(["us\"mf\u00e9\ud83d\ude00",10,1.5,null,{"blob":"01FF"}])");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].kind, Kind::kText);
  EXPECT_EQ((*r)[0].s, "us\"mf\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ((*r)[1].kind, Kind::kInt);
  EXPECT_EQ((*r)[1].i, 10);
  EXPECT_EQ((*r)[2].kind, Kind::kReal);
  EXPECT_EQ((*r)[2].d, 1.5);
  EXPECT_EQ((*r)[3].kind, Kind::kNull);
  EXPECT_EQ((*r)[4].kind, Kind::kBlob);
  EXPECT_EQ((*r)[4].s, std::string("\x01\xff", 2));
}

TEST(RowKeyTest, AMalformedRowIdIsInvalidArgumentNeverAnException) {
  for (const char* id : {"", "x", "12x", "99999999999999999999", " 1"}) {
    Expected<std::vector<KeyParam>> r = DecodeRowId(RowKey(), id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << id;
  }
  RowKey json = MakeRowKey({"a", "b"}, {"TEXT", "INTEGER"}, false);
  for (const char* id : {"", "42", "[\"a\"]", "[\"a\",1,2]", "[\"a\",1", "[\"a\" 1]", "[\"a,1]",
                         "[\"a\",1]x", "[\"\\q\",1]", "[{\"blob\":\"0\"},1]", "[1e999999,1]"}) {
    Expected<std::vector<KeyParam>> r = DecodeRowId(json, id);
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << id;
  }
}

}  // namespace
}  // namespace duet::endpoint
