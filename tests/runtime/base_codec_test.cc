// The bytes of a link's base (runtime/engine/base_codec.h): version 1 round
// trips every value kind with fixed byte order, keeps long strings as
// digests that still compare equal, writes values both sides share once,
// reads version-0 bases, and refuses damaged bytes without crashing.
#include "runtime/engine/base_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace duet::engine::base_codec {
namespace {

struct Owned {
  std::vector<Value> p[2], c[2];
  Vectors Refs() const {
    Vectors v;
    for (int s = 0; s < 2; ++s) {
      for (const Value& x : p[s]) v.p[s].push_back(&x);
      for (const Value& x : c[s]) v.c[s].push_back(&x);
    }
    return v;
  }
};

std::vector<Value> EveryKind() {
  std::array<uint8_t, 16> g{};
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<uint8_t>(255 - i);
  return {Value::Null(),
          Value::Unknown(),
          Value::Bool(true),
          Value::Int(INT64_MIN),
          Value::Int(INT64_MAX),
          Value::Int(-1),
          Value::Float(-0.0),
          Value::Float(1e300),
          Value::Decimal(-(static_cast<endpoint::int128>(1) << 100), 6),
          Value::Decimal(150050, 4),
          Value::String(""),
          Value::String("short"),
          Value::Date(-719162),
          Value::DateTime(1764150000123456),
          Value::Guid(g)};
}

void ExpectSame(const std::vector<Value>& want, const std::vector<Value>& have) {
  ASSERT_EQ(have.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(have[i].tag(), want[i].tag()) << i;
    EXPECT_EQ(have[i].scale(), want[i].scale()) << i;
    if (!want[i].is_unknown()) {
      EXPECT_TRUE(have[i] == want[i]) << i << " " << want[i].ToText();
    }
  }
}

TEST(BaseCodec, EveryKindRoundTrips) {
  Owned b;
  b.p[0] = EveryKind();
  b.c[1] = EveryKind();
  b.c[1][3] = Value::Int(3);  // one side changed
  b.p[1] = {Value::Int(INT64_MAX), Value::String("other")};
  b.c[0] = {Value::Int(INT64_MAX), Value::Null()};
  std::string bytes = Encode(b.Refs());
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kVersion1);
  Decoded d;
  ASSERT_TRUE(Decode(bytes, &d));
  for (int s = 0; s < 2; ++s) {
    ExpectSame(b.p[s], d.p[s]);
    ExpectSame(b.c[s], d.c[s]);
  }
  EXPECT_EQ(std::signbit(d.p[0][6].float_value()), true) << "-0.0 stays -0.0";
}

TEST(BaseCodec, BytesAreFixedWhateverTheHost) {
  Owned b;
  b.p[0] = {Value::Int(-2), Value::String("ab"), Value::Float(1.0)};
  b.c[1] = {Value::Int(-2), Value::String("ab"), Value::Float(1.0)};
  b.p[1] = {Value::String("ab"), Value::Int(300)};
  b.c[0] = {Value::String("ab"), Value::Int(1)};
  std::string want = std::string(
      "\x01"      // version
      "\x03"      // P0: 3 values
      "\x02\x03"  // int -2: zigzag 3
      "\x05\x02"
      "ab"                                    // string, length 2
      "\x03\x00\x00\x00\x00\x00\x00\xf0\x3f"  // float 1.0, little-endian
      "\x03\x07"                              // C1: all three the same as P0
      "\x02\x02\x00\x02\xd8\x04"              // P1: P0's value 1; its own int 300
      "\x02\x01\x02\x02",                     // C0: the first as P1, then int 1
      29);
  ASSERT_EQ(DUET_INT, 2);
  ASSERT_EQ(DUET_FLOAT, 3);
  ASSERT_EQ(DUET_STRING, 5);
  EXPECT_EQ(Encode(b.Refs()), want);
}

TEST(BaseCodec, LongStringsAreDigestsThatStillCompare) {
  std::string text(kDigestFrom + 1, 'x');
  Owned b;
  b.p[0] = {Value::String(text), Value::String(std::string(kDigestFrom, 'y'))};
  b.c[1] = b.p[0];
  b.p[1] = {Value::String(text)};
  b.c[0] = {Value::String(text + "!")};
  std::string bytes = Encode(b.Refs());
  EXPECT_EQ(bytes.find(text), std::string::npos) << "the long text is not kept";
  EXPECT_NE(bytes.find(std::string(kDigestFrom, 'y')), std::string::npos) << "short is kept";
  Decoded d;
  ASSERT_TRUE(Decode(bytes, &d));
  EXPECT_TRUE(d.p[0][0].is_digest());
  EXPECT_TRUE(d.p[0][0] == Value::String(text));
  EXPECT_TRUE(Value::String(text) == d.p[0][0]);
  EXPECT_FALSE(d.p[0][0] == Value::String(text + "."));
  EXPECT_FALSE(d.p[0][0] == Value::Null());
  EXPECT_TRUE(d.p[1][0] == d.p[0][0]) << "a value both sides share is one digest";
  EXPECT_TRUE(d.c[0][0] == Value::String(text + "!"));
  EXPECT_EQ(d.p[0][1].string_value(), std::string(kDigestFrom, 'y'));
}

TEST(BaseCodec, VersionZeroBasesDecode) {
  // As duet wrote them before (host-endian uint32 counts, 0xfe for "same
  // as P"), with the 0 byte the state store's migration puts in front.
  std::string v0(1, '\0');
  auto count = [&](uint32_t n) { v0.append(reinterpret_cast<const char*>(&n), sizeof n); };
  count(2);
  Value::Int(7).Encode(&v0);
  Value::String("a").Encode(&v0);
  count(2);
  v0.push_back(static_cast<char>(0xfe));
  Value::String("b").Encode(&v0);
  count(0);
  count(0);
  Decoded d;
  ASSERT_TRUE(Decode(v0, &d));
  ExpectSame({Value::Int(7), Value::String("a")}, d.p[0]);
  ExpectSame({Value::Int(7), Value::String("b")}, d.c[1]);
  EXPECT_TRUE(d.p[1].empty());
}

TEST(BaseCodec, AVersionZeroBoolReadsAsTheBoolItIs) {
  // Found by tests/fuzz/stored_state_fuzzer: a damaged version-0 bool of
  // raw value 10 read as a bool that was not Value::Bool(true), so it
  // compared unequal to true and encoded differently after a round trip.
  std::string v0(1, '\0');
  uint32_t one = 1, zero = 0;
  int64_t raw = 10;
  v0.append(reinterpret_cast<const char*>(&one), sizeof one);
  v0.push_back(static_cast<char>(DUET_BOOL));
  v0.append(reinterpret_cast<const char*>(&raw), sizeof raw);
  for (int i = 0; i < 3; ++i) v0.append(reinterpret_cast<const char*>(&zero), sizeof zero);
  Decoded d;
  ASSERT_TRUE(Decode(v0, &d));
  ExpectSame({Value::Bool(true)}, d.p[0]);
  Owned again;
  again.p[0] = d.p[0];
  Decoded round;
  ASSERT_TRUE(Decode(Encode(again.Refs()), &round));
  ExpectSame({Value::Bool(true)}, round.p[0]);
}

TEST(BaseCodec, DamagedBytesAreRefused) {
  Owned b;
  b.p[0] = EveryKind();
  b.c[1] = EveryKind();
  b.p[1] = EveryKind();
  b.c[0] = EveryKind();
  std::string bytes = Encode(b.Refs());
  Decoded d;
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(Decode(std::string_view(bytes).substr(0, n), &d)) << n;
  }
  EXPECT_FALSE(Decode(bytes + "x", &d));
  EXPECT_FALSE(Decode("\x02", &d)) << "an unknown version";
  EXPECT_FALSE(Decode(std::string("\x01\xff\xff\xff\xff\x0f", 6), &d)) << "a huge count";
  // Found by tests/fuzz/stored_state_fuzzer: a string whose length counts
  // its own length byte ran the reader past the end.
  EXPECT_FALSE(Decode(std::string("\x01\x01\x05\x02\x00\x19", 6), &d)) << "a long length";
  EXPECT_FALSE(Decode(std::string("\x01\x01\x05\x01", 4), &d)) << "a length past the end";
}

}  // namespace
}  // namespace duet::engine::base_codec
