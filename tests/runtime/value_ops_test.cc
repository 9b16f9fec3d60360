// Table-driven tests of runtime/value: the semantics both the interpreter
// and generated code rely on.
#include "runtime/value/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "runtime/jit/helpers.h"

namespace duet::value {
namespace {

int128 Dec(const std::string& text, int scale) {
  std::optional<int128> v = ParseDecimal(text, scale);
  EXPECT_TRUE(v.has_value()) << text;
  return v.value_or(0);
}

std::string Max38() { return std::string(38, '9'); }

TEST(DecimalTest, ParseAndFormatRoundTrip) {
  struct Case {
    std::string in;
    int scale;
    std::string out;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"0", 0, "0"},
           {"-0", 2, "0.00"},
           {"12.5", 2, "12.50"},
           {"-12.345", 2, "-12.35"},
           {"12.344", 2, "12.34"},
           {"0.005", 2, "0.01"},
           {"-0.005", 2, "-0.01"},
           {"+7", 1, "7.0"},
           {"1.", 0, "1"},
           {Max38(), 0, Max38()},
           {"123", 3, "123.000"},
       }) {
    std::optional<int128> v = ParseDecimal(c.in, c.scale);
    ASSERT_TRUE(v) << c.in;
    EXPECT_EQ(FormatDecimal(*v, c.scale), c.out) << c.in;
  }
  for (const char* bad : {"", "-", "1.2.3", "abc", "1e5", "12a"})
    EXPECT_FALSE(ParseDecimal(bad, 2)) << bad;
  EXPECT_FALSE(ParseDecimal("1" + Max38(), 0)) << "39 digits";
  EXPECT_FALSE(ParseDecimal(Max38(), 1)) << "38 digits plus a fraction digit";
}

TEST(DecimalTest, ArithmeticRoundsHalfAwayFromZero) {
  int128 r = 0;
  ASSERT_TRUE(DecimalAdd(Dec("1.25", 2), 2, Dec("0.005", 3), 3, 2, &r));
  EXPECT_EQ(FormatDecimal(r, 2), "1.26");
  ASSERT_TRUE(DecimalSubtract(Dec("1.00", 2), 2, Dec("2.5", 1), 1, 1, &r));
  EXPECT_EQ(FormatDecimal(r, 1), "-1.5");
  ASSERT_TRUE(DecimalMultiply(Dec("-1.5", 1), 1, Dec("1.5", 1), 1, 1, &r));
  EXPECT_EQ(FormatDecimal(r, 1), "-2.3") << "-2.25 rounds away from zero";
  bool by_zero = false;
  ASSERT_TRUE(DecimalDivide(Dec("1", 0), 0, Dec("3", 0), 0, 6, &r, &by_zero));
  EXPECT_EQ(FormatDecimal(r, 6), "0.333333");
  ASSERT_TRUE(DecimalDivide(Dec("2", 0), 0, Dec("3", 0), 0, 2, &r, &by_zero));
  EXPECT_EQ(FormatDecimal(r, 2), "0.67");
  ASSERT_TRUE(DecimalDivide(Dec("-2", 0), 0, Dec("3", 0), 0, 2, &r, &by_zero));
  EXPECT_EQ(FormatDecimal(r, 2), "-0.67");
  EXPECT_FALSE(DecimalDivide(Dec("1", 0), 0, 0, 0, 2, &r, &by_zero));
  EXPECT_TRUE(by_zero);
  ASSERT_TRUE(DecimalModulo(Dec("-7.5", 1), 1, Dec("2", 0), 0, 1, &r, &by_zero));
  EXPECT_EQ(FormatDecimal(r, 1), "-1.5") << "the remainder takes the dividend's sign";
}

TEST(DecimalTest, OverflowPastThirtyEightDigitsFails) {
  int128 r = 0;
  int128 max = Dec(Max38(), 0);
  EXPECT_FALSE(DecimalAdd(max, 0, 1, 0, 0, &r));
  EXPECT_TRUE(DecimalAdd(max, 0, -1, 0, 0, &r));
  EXPECT_FALSE(DecimalMultiply(max, 0, max, 0, 0, &r));
  EXPECT_TRUE(DecimalMultiply(max, 0, max, 0, 38, &r) == false)
      << "a 76-digit product cannot fit either";
  // A product whose unscaled form needs 200 bits but that rescales back
  // into range is fine: 10^10 * 10^10 from operands at scale 20.
  int128 ten_to_30 = Dec("1" + std::string(30, '0'), 0);
  ASSERT_TRUE(DecimalMultiply(ten_to_30, 20, ten_to_30, 20, 0, &r));
  EXPECT_EQ(FormatDecimal(r, 0), "1" + std::string(20, '0'));
  bool by_zero = false;
  EXPECT_FALSE(DecimalDivide(max, 0, Dec("0.1", 1), 1, 0, &r, &by_zero));
  EXPECT_FALSE(by_zero);
  EXPECT_FALSE(Rescale(max, 0, 1, &r));
  EXPECT_TRUE(Rescale(max, 1, 0, &r));
}

TEST(DecimalTest, CompareAcrossScales) {
  EXPECT_EQ(DecimalCompare(Dec("1.50", 2), 2, Dec("1.5", 1), 1), 0);
  EXPECT_EQ(DecimalCompare(Dec("-1.5", 1), 1, Dec("1.5", 1), 1), -1);
  EXPECT_EQ(DecimalCompare(Dec("2", 0), 0, Dec("1.999", 3), 3), 1);
  EXPECT_EQ(DecimalCompare(Dec("-2", 0), 0, Dec("-1.999", 3), 3), -1);
}

TEST(DecimalTest, RoundKeepsScale) {
  int128 r = 0;
  ASSERT_TRUE(DecimalRound(Dec("12.3456", 4), 4, 2, &r));
  EXPECT_EQ(FormatDecimal(r, 4), "12.3500");
  ASSERT_TRUE(DecimalRound(Dec("-15", 0), 0, -1, &r));
  EXPECT_EQ(FormatDecimal(r, 0), "-20");
  ASSERT_TRUE(DecimalRound(Dec("1.5", 1), 1, 5, &r));
  EXPECT_EQ(FormatDecimal(r, 1), "1.5");
  EXPECT_FALSE(DecimalRound(Dec(Max38(), 0), 0, -1, &r)) << "rounds up to 39 digits";
}

TEST(DecimalTest, Conversions) {
  EXPECT_EQ(DecimalToInt(Dec("2.5", 1), 1), 3);
  EXPECT_EQ(DecimalToInt(Dec("-2.5", 1), 1), -3);
  EXPECT_FALSE(DecimalToInt(Dec("9223372036854775808", 0), 0));
  EXPECT_EQ(DecimalToInt(Dec("-9223372036854775808", 0), 0), std::numeric_limits<int64_t>::min());
  EXPECT_DOUBLE_EQ(DecimalToDouble(Dec("1.25", 2), 2), 1.25);
  EXPECT_EQ(FormatDecimal(*DoubleToDecimal(0.125, 2), 2), "0.13");
  EXPECT_FALSE(DoubleToDecimal(std::nan(""), 2));
  EXPECT_FALSE(DoubleToDecimal(std::numeric_limits<double>::infinity(), 2));
  EXPECT_FALSE(DoubleToDecimal(1e40, 0));
}

// A double converts from its exact binary value, rounded once half away from
// zero to the scale (Python's Decimal(x) gives the exact values quoted).
TEST(DecimalTest, DoubleToDecimalRoundsTheExactValueOnce) {
  auto text = [](double d, int scale) {
    std::optional<int128> v = DoubleToDecimal(d, scale);
    return v ? FormatDecimal(*v, scale) : std::string("none");
  };
  // 0.04999999999000000194...: not a half at scale 1.
  EXPECT_EQ(text(0.04999999999, 1), "0.0");
  EXPECT_EQ(text(-0.04999999999, 1), "0.0") << "a zero result is never negative";
  // 2.67499999999999982236...
  EXPECT_EQ(text(2.675, 2), "2.67");
  // 1.00499999999999989341...
  EXPECT_EQ(text(1.005, 2), "1.00");
  EXPECT_EQ(text(-1.005, 2), "-1.00");
  // Exact halves in binary round away from zero.
  EXPECT_EQ(text(0.125, 2), "0.13");
  EXPECT_EQ(text(-0.125, 2), "-0.13");
  EXPECT_EQ(text(2.5, 0), "3");
  EXPECT_EQ(text(-2.5, 0), "-3");
  // Every digit of the exact value, where the scale has room for them.
  EXPECT_EQ(text(0.1, 30), "0.100000000000000005551115123126");
  EXPECT_EQ(text(1e37, 0), "9999999999999999538762658202121142272");
  EXPECT_EQ(text(123456789.0, 0), "123456789");
  EXPECT_EQ(text(1.5, 38), "none") << "1.5 at scale 38 has 39 digits";
  EXPECT_EQ(text(0.5, 38), "0.50000000000000000000000000000000000000");
  // The smallest doubles, normal and subnormal, are 0 at any scale.
  EXPECT_EQ(text(5e-324, 38), "0.00000000000000000000000000000000000000");
  EXPECT_EQ(text(2.2250738585072014e-308, 10), "0.0000000000");
  EXPECT_EQ(text(-0.0, 2), "0.00");
  // Half a unit of scale 38 is 5e-39: just below and just above it.
  EXPECT_EQ(text(4.9e-39, 38), "0.00000000000000000000000000000000000000");
  EXPECT_EQ(text(5.1e-39, 38), "0.00000000000000000000000000000000000001");
}

TEST(IntTest, ParseRoundAndConvert) {
  EXPECT_EQ(ParseInt(" 42 "), 42);
  EXPECT_EQ(ParseInt("+7"), 7);
  EXPECT_EQ(ParseInt("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", " ", "1.5", "9223372036854775808", "12x", "0x10"})
    EXPECT_FALSE(ParseInt(bad)) << bad;
  EXPECT_EQ(ParseFloat(" 1.5 "), 1.5);
  EXPECT_FALSE(ParseFloat("1.5.5"));
  EXPECT_EQ(FloatToInt(2.5), 3);
  EXPECT_EQ(FloatToInt(-2.5), -3);
  EXPECT_FALSE(FloatToInt(1e19));
  EXPECT_FALSE(FloatToInt(std::nan("")));
  EXPECT_EQ(RoundInt(15, -1), 20);
  EXPECT_EQ(RoundInt(-15, -1), -20);
  EXPECT_EQ(RoundInt(14, -1), 10);
  EXPECT_EQ(RoundInt(123, 2), 123);
  EXPECT_FALSE(RoundInt(std::numeric_limits<int64_t>::max(), -1));
  EXPECT_EQ(RoundInt(5, -19), 0);
  // 10^19 and more do not fit 64 bits: rounding there is an overflow, not 0.
  EXPECT_FALSE(RoundInt(9'000'000'000'000'000'000, -19));
  EXPECT_FALSE(RoundInt(5'000'000'000'000'000'000, -19));
  EXPECT_FALSE(RoundInt(-5'000'000'000'000'000'000, -19));
  EXPECT_EQ(RoundInt(4'999'999'999'999'999'999, -19), 0);
  EXPECT_EQ(RoundInt(-4'999'999'999'999'999'999, -19), 0);
  EXPECT_EQ(RoundInt(std::numeric_limits<int64_t>::max(), -20), 0);
  EXPECT_EQ(RoundInt(std::numeric_limits<int64_t>::min(), -38), 0);
  EXPECT_EQ(RoundInt(std::numeric_limits<int64_t>::min(), -39), 0);
  EXPECT_EQ(RoundInt(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min()), 0);
  EXPECT_EQ(RoundInt(-9'223'372'036'854'775'807, -18), -9'000'000'000'000'000'000);
  EXPECT_DOUBLE_EQ(RoundFloat(2.345, 2), 2.35);
  EXPECT_DOUBLE_EQ(RoundFloat(-2.5, 0), -3);
}

TEST(StringTest, CodePointsNotBytes) {
  EXPECT_EQ(CodePointLength("h\xC3\xA9llo"), 5u);
  EXPECT_EQ(CodePointLength("\xF0\x9F\x98\x80"), 1u);
  EXPECT_EQ(Substring("h\xC3\xA9llo", 2, 2), "\xC3\xA9l");
  EXPECT_EQ(Substring("hello", 0, 2), "h") << "a start before 1 uses up count";
  EXPECT_EQ(Substring("hello", 4, 10), "lo");
  EXPECT_EQ(Substring("hello", 2, 0), "");
  EXPECT_EQ(Substring("hello", 2, -1), "");
  EXPECT_EQ(Left("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(Right("h\xC3\xA9llo", 4), "\xC3\xA9llo");
  EXPECT_EQ(Right("abc", 10), "abc");
  EXPECT_EQ(Left("abc", -1), "");
  EXPECT_EQ(TruncateCodePoints("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9");
}

// Issue 13, item 1: text read from a database may hold any bytes. Well-formed
// UTF-8 is told from the rest (overlong forms, surrogates, code points past
// U+10FFFF, cut sequences), and an invalid byte counts as a character of its
// own, so 300 stray continuation bytes cannot pass a string(100) check.
TEST(StringTest, InvalidUtf8IsFoundCountedAndEscaped) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  for (std::string_view bad :
       {"\xFF", "a\x80", "\xC3", "\xC3(", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
        "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\xF0\x9F\x98"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << EscapeInvalidUtf8(bad);
  }
  EXPECT_EQ(FirstInvalidUtf8("ab\xC3\xA9\xFFz"), 4u);
  EXPECT_EQ(CodePointLength(std::string(300, '\x80')), 300u);
  EXPECT_EQ(CodePointLength("a\xFF\xC3\xA9"), 3u);
  EXPECT_EQ(CodePointLength("\xF0\x9F\x98"), 3u) << "a cut sequence is three bytes, not one";
  EXPECT_EQ(Left("\x80\x80\x80", 2), "\x80\x80");
  EXPECT_EQ(EscapeInvalidUtf8("h\xC3\xA9\xFF\x80z"), "h\xC3\xA9\\xff\\x80z");
  EXPECT_EQ(EscapeInvalidUtf8("plain"), "plain");
  EXPECT_TRUE(IsValidUtf8(EscapeInvalidUtf8(std::string(300, '\x80'))));
}

TEST(StringTest, CaseTrimReplace) {
  // straße été łódź -> STRAßE ÉTÉ ŁÓDŹ (ß has no one-letter upper case).
  EXPECT_EQ(Upper("stra\xC3\x9F"
                  "e \xC3\xA9t\xC3\xA9 \xC5\x82\xC3\xB3"
                  "d\xC5\xBA"),
            "STRA\xC3\x9F"
            "E \xC3\x89T\xC3\x89 \xC5\x81\xC3\x93"
            "D\xC5\xB9");
  EXPECT_EQ(Lower("\xC3\x89T\xC3\x89 ABC"), "\xC3\xA9t\xC3\xA9 abc");
  EXPECT_EQ(Upper("\xE4\xB8\xAD"), "\xE4\xB8\xAD") << "outside the mapped ranges: unchanged";
  EXPECT_EQ(Trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(TrimLeft("  a "), "a ");
  EXPECT_EQ(TrimRight("  a "), "  a");
  EXPECT_EQ(Replace("a-b-c", "-", "--"), "a--b--c");
  EXPECT_EQ(Replace("abc", "", "x"), "abc");
}

TEST(DateTest, CivilCalendar) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  for (int64_t days : {-800000, -1, 0, 59, 60, 11016, 11017, 2932896}) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    EXPECT_EQ(DaysFromCivil(y, m, d), days);
  }
  EXPECT_EQ(ParseDate("2024-02-29"), DaysFromCivil(2024, 2, 29));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2024-13-01"));
  EXPECT_FALSE(ParseDate("2024-1-01"));
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(ParseDateTime("1970-01-01T00:00:01Z"), 1'000'000);
  EXPECT_EQ(ParseDateTime("1970-01-01 00:00:00.5"), 500'000);
  EXPECT_FALSE(ParseDateTime("1970-01-01T24:00:00Z"));
  EXPECT_FALSE(ParseDateTime("1970-01-01T00:00:00.1234567Z"));
  EXPECT_EQ(FormatDateTime(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FloorDiv(-1, kMicrosPerDay), -1);
}

TEST(GuidTest, ParseAndFormat) {
  std::optional<std::array<uint8_t, 16>> g = ParseGuid("0189F0A2-7C1E-7D2A-9B3C-4D5E6F708192");
  ASSERT_TRUE(g);
  EXPECT_EQ(FormatGuid(*g), "0189f0a2-7c1e-7d2a-9b3c-4d5e6f708192");
  EXPECT_FALSE(ParseGuid("0189f0a2-7c1e-7d2a-9b3c-4d5e6f70819"));
  EXPECT_FALSE(ParseGuid("0189f0a2x7c1e-7d2a-9b3c-4d5e6f708192"));
}

TEST(HelperTest, ArenaStringsSurviveUntilReset) {
  jit::Context context;
  duet_string a;
  duet_string b;
  ASSERT_EQ(duet_rt_str_unary(context.get(), 0, "abc", 3, &a), 0);
  ASSERT_EQ(duet_rt_str_unary(context.get(), 0, "def", 3, &b), 0);
  EXPECT_EQ(std::string(a.data, a.length), "ABC");
  EXPECT_EQ(std::string(b.data, b.length), "DEF");
  // A string larger than a chunk gets its own.
  std::string big(200'000, 'x');
  duet_string c;
  ASSERT_EQ(duet_rt_str_unary(context.get(), 0, big.data(), static_cast<uint32_t>(big.size()), &c),
            0);
  EXPECT_EQ(c.length, big.size());
  EXPECT_EQ(std::string(a.data, a.length), "ABC");
  context.Reset();
  EXPECT_EQ(context.get()->error_kind, DUET_ERR_NONE);
  EXPECT_EQ(context.get()->error_slot, -1);
}

TEST(HelperTest, FailRecordsTheError) {
  jit::Context context;
  EXPECT_EQ(duet_rt_fail(context.get(), DUET_ERR_STRING_TOO_LONG, 3, "too long"), DUET_ERROR);
  EXPECT_EQ(context.get()->error_kind, DUET_ERR_STRING_TOO_LONG);
  EXPECT_EQ(context.get()->error_slot, 3);
  EXPECT_STREQ(context.get()->error_message, "too long");
  std::string huge(1000, 'm');
  duet_rt_fail(context.get(), DUET_ERR_BAD_CONVERSION, 0, huge.c_str());
  EXPECT_EQ(std::string(context.get()->error_message).size(),
            sizeof(context.get()->error_message) - 1);
}

TEST(HelperTest, EveryHelperIsExposedByName) {
  std::set<std::string_view> names;
  for (const jit::HelperSymbol& h : jit::HelperSymbols()) {
    EXPECT_NE(h.address, nullptr) << h.name;
    EXPECT_TRUE(names.insert(h.name).second) << "twice: " << h.name;
  }
  for (std::string_view name :
       {"duet_rt_fail", "duet_rt_dec_arith", "duet_rt_str_concat", "duet_rt_to_string"}) {
    EXPECT_TRUE(names.contains(name)) << name;
  }
}

}  // namespace
}  // namespace duet::value
