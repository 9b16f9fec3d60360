// The PostgreSQL endpoint's decisions that need no server
// (runtime/endpoint/postgres/pg_types.h, pg_condition.h): which column
// types fit the bundle's, values to and from PostgreSQL's text forms, key
// texts checked before the server sees them, and row conditions.
#include "runtime/endpoint/postgres/pg_types.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/endpoint/postgres/pg_condition.h"

namespace duet::pg {
namespace {

using endpoint::Value;

bundle::ColumnType Type(const std::string& text) { return *bundle::ColumnType::Parse(text); }

// numeric(p,s)'s typmod, as the catalog stores it.
int NumericTypmod(int precision, int scale) { return ((precision << 16) | scale) + 4; }

TEST(PgTypes, ColumnTypesFitTheBundlesByKindAndDecimalsByScale) {
  EXPECT_TRUE(TypeFits({"varchar", 24, "character varying(20)"}, Type("string(10)")).ok());
  EXPECT_TRUE(TypeFits({"bpchar", 9, "character(5)"}, Type("string")).ok());
  EXPECT_TRUE(TypeFits({"int2", -1, "smallint"}, Type("int")).ok());
  EXPECT_TRUE(TypeFits({"timestamptz", -1, "timestamp with time zone"}, Type("datetime")).ok());
  EXPECT_TRUE(TypeFits({"numeric", -1, "numeric"}, Type("decimal(19, 4)")).ok());
  EXPECT_TRUE(
      TypeFits({"numeric", NumericTypmod(30, 4), "numeric(30,4)"}, Type("decimal(19, 4)")).ok());
  Status scale =
      TypeFits({"numeric", NumericTypmod(10, 2), "numeric(10,2)"}, Type("decimal(19, 4)"));
  EXPECT_EQ(scale.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(scale.message().find("numeric(10,2) has 2 decimals"), std::string::npos)
      << scale.ToString();
  Status kind = TypeFits({"int4", -1, "integer"}, Type("string"));
  EXPECT_NE(kind.message().find("integer cannot hold the bundle's string"), std::string::npos)
      << kind.ToString();
  EXPECT_FALSE(TypeFits({"float8", -1, "double precision"}, Type("decimal(10, 2)")).ok());
  EXPECT_FALSE(TypeFits({"text", -1, "text"}, Type("guid")).ok());
  EXPECT_FALSE(TypeFits({"json", -1, "json"}, Type("string")).ok());
}

TEST(PgTypes, TextFormsReadAsTheBundlesValues) {
  EXPECT_EQ(*ReadPgText("t", Type("bool"), false), Value::Bool(true));
  EXPECT_EQ(*ReadPgText("f", Type("bool"), false), Value::Bool(false));
  EXPECT_FALSE(ReadPgText("true", Type("bool"), false).ok()) << "PostgreSQL prints t or f";
  EXPECT_EQ(*ReadPgText("1.50", Type("decimal(10, 4)"), false), Value::Decimal(15000, 4));
  EXPECT_EQ(*ReadPgText("1.5000", Type("decimal(10, 1)"), false), Value::Decimal(15, 1))
      << "trailing zeros are no decimals";
  Expected<Value> rounded = ReadPgText("1.55", Type("decimal(10, 1)"), false);
  EXPECT_FALSE(rounded.ok()) << "never rounded";
  EXPECT_FALSE(ReadPgText("NaN", Type("decimal(10, 1)"), false).ok());
  EXPECT_EQ(ReadPgText("2024-03-01 13:45:00.5+00", Type("datetime"), false)->ToText(),
            "2024-03-01T13:45:00.500000Z");
  EXPECT_EQ(ReadPgText("2024-03-01 13:45:00", Type("datetime"), false)->ToText(),
            "2024-03-01T13:45:00.000000Z");
  EXPECT_FALSE(ReadPgText("2024-03-01 13:45:00+01", Type("datetime"), false).ok())
      << "sessions run in UTC; another offset is no value of ours";
  EXPECT_FALSE(ReadPgText("infinity", Type("date"), false).ok());
  EXPECT_EQ(*ReadPgText("ab   ", Type("string(5)"), true), Value::String("ab"));
  EXPECT_EQ(*ReadPgText("ab   ", Type("string(5)"), false), Value::String("ab   "));
  EXPECT_EQ(ReadPgText("-Infinity", Type("float"), false)->float_value(),
            -std::numeric_limits<double>::infinity());
  EXPECT_FALSE(ReadPgText("NaN", Type("float"), false).ok());
}

TEST(PgTypes, ValuesWriteAsTextPostgreSQLReads) {
  EXPECT_EQ(**WritePgText(Value::Bool(true)), "t");
  EXPECT_EQ(**WritePgText(Value::Decimal(-5, 3)), "-0.005");
  EXPECT_EQ(**WritePgText(Value::DateTime(0)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(**WritePgText(Value::Float(0.1)), "0.1");
  EXPECT_FALSE(WritePgText(Value::Null())->has_value());
  EXPECT_FALSE(WritePgText(Value::Float(std::nan("")))->has_value()) << "NaN is written as null";
  Expected<std::optional<std::string>> nul = WritePgText(Value::String(std::string("a\0b", 3)));
  EXPECT_EQ(nul.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(WritePgText(Value::Unknown()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ArrayLiteral({"a", "b\"c", "d\\e", ""}), R"({"a","b\"c","d\\e",""})");
}

TEST(PgTypes, KeyTextsAreCheckedBeforeTheServerSeesThem) {
  EXPECT_TRUE(CheckKeyText("-32768", {"int2", -1, "smallint"}).ok());
  EXPECT_FALSE(CheckKeyText("32768", {"int2", -1, "smallint"}).ok());
  EXPECT_FALSE(CheckKeyText("99999999999999999999", {"int8", -1, "bigint"}).ok());
  EXPECT_FALSE(CheckKeyText("1.5e400", {"numeric", -1, "numeric"}).ok());
  EXPECT_TRUE(CheckKeyText("2024-03-01 00:00:00+00", {"timestamptz", -1, "timestamptz"}).ok());
  EXPECT_FALSE(CheckKeyText("x", {"uuid", -1, "uuid"}).ok());
  EXPECT_EQ(CheckKeyText(std::string("a\0", 2), {"text", -1, "text"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckKeyText("anything", {"my_enum", -1, "my_enum"}).ok()) << "the server's to say";
}

TEST(PgCondition, OneExpressionWhateverHidesItsParentheses) {
  for (const char* good : {"a = 1", "b = 'x;)' AND c = \"we;ird\"", "d = $$;)$$", "e = $t$)$t$",
                           "f = E'\\');' -- ;", "/* ( /* nested ) */ ; */ g = 1", "(h)"}) {
    Expected<std::string> c = Condition(good);
    EXPECT_TRUE(c.ok()) << good << ": " << c.status().ToString();
  }
  EXPECT_EQ(*Condition("a = 1 -- note"), "(a = 1 -- note\n)");
  for (const char* bad : {"a = 1; DROP TABLE t", "a = 1) OR (b", "a = 'open", "a = \"open",
                          "$$ open", "/* /* */", "(a", "f = E'\\'"}) {
    EXPECT_EQ(Condition(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace duet::pg
