// The bytes of a link's base (runtime/engine/base_codec.h): version 2 round
// trips every value kind with fixed byte order, keeps long strings as
// digests that still compare equal, writes values both sides share once,
// reads version-1 and version-0 bases, and refuses damaged bytes without
// crashing.
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

// `bytes` decode to the four vectors of `b`.
void ExpectDecodes(std::string_view bytes, const Owned& b, Decoded* d) {
  ASSERT_TRUE(Decode(bytes, d));
  for (int s = 0; s < 2; ++s) {
    ExpectSame(b.p[s], d->p[s]);
    ExpectSame(b.c[s], d->c[s]);
  }
}

TEST(BaseCodec, EveryKindRoundTrips) {
  Owned b;
  b.p[0] = EveryKind();
  b.c[1] = EveryKind();
  b.c[1][3] = Value::Int(3);  // one side changed
  b.p[1] = {Value::Int(INT64_MAX), Value::String("other")};
  b.c[0] = {Value::Int(INT64_MAX), Value::Null()};
  for (auto [encode, version] : {std::pair{&Encode, kVersion2}, std::pair{&EncodeV1, kVersion1}}) {
    std::string bytes = encode(b.Refs());
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), version);
    Decoded d;
    ExpectDecodes(bytes, b, &d);
    EXPECT_EQ(std::signbit(d.p[0][6].float_value()), true) << "-0.0 stays -0.0";
  }
}

// The short forms of version 2 at and around their limits: each value
// comes back with its kind, scale and bits.
TEST(BaseCodec, ShortFormsRoundTripAtTheirEdges) {
  std::vector<Value> values = {Value::Int(0),
                               Value::Int(63),
                               Value::Int(64),
                               Value::Int(-1),
                               Value::Bool(false),
                               Value::Bool(true),
                               Value::Decimal(0, 0),
                               Value::Decimal(-5, 31),
                               Value::Decimal(5, 32),
                               Value::String(std::string(kDigestFrom, 'z')),
                               Value::String(std::string(kDigestFrom + 1, 'z'))};
  for (double f : {0.0, 0.1, -0.1, 47.6062, -122.3321, 1e-7, 123456789.125, 1e22, 1e300, 5e-324,
                   2.2250738585072014e-308, 0.30000000000000004, 1.0 / 3, -1e-40,
                   std::nextafter(1.0, 2.0), HUGE_VAL, -HUGE_VAL, std::nan("")}) {
    values.push_back(Value::Float(f));
  }
  Owned b;
  b.p[0] = values;
  b.c[1] = values;
  b.p[1] = values;
  b.c[0] = values;
  std::string bytes = Encode(b.Refs());
  Decoded d;
  ASSERT_TRUE(Decode(bytes, &d));
  ASSERT_EQ(d.p[0].size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& have = d.p[0][i];
    bool digest = values[i].tag() == DUET_STRING && values[i].string_value().size() > kDigestFrom;
    EXPECT_EQ(have.tag(), digest ? Value::kDigestTag : values[i].tag()) << i;
    EXPECT_EQ(have.scale(), values[i].scale()) << i;
    if (values[i].tag() == DUET_FLOAT) {
      double want = values[i].float_value(), got = have.float_value();
      EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0) << i << " " << want;
    } else {
      EXPECT_TRUE(have == values[i]) << i << " " << values[i].ToText();
    }
    EXPECT_EQ(d.p[1][i].tag(), have.tag()) << i;
  }
}

// Fields mapped in the same order cost a run, not a byte each; sides that
// agree cost their count alone.
TEST(BaseCodec, RunsAndAgreementAreShort) {
  Owned b;
  for (int i = 0; i < 20; ++i) b.p[0].push_back(Value::Int(100 + i));
  b.c[1] = b.p[0];
  b.p[1] = {b.p[0][3], b.p[0][4], b.p[0][5], Value::String("own"), b.p[0][9], b.p[0][0]};
  b.c[0] = b.p[1];
  std::string bytes = Encode(b.Refs());
  std::string p1 = std::string(
      "\x06"       // P1: 6 values
      "\x08\x02"   // a run: P0's 3, 4, 5
      "\x00\xc3"   // its own string of 3 bytes
      "own"        //
      "\x13\x01",  // P0's 9, then P0's 0
      10);
  EXPECT_NE(bytes.find(p1), std::string::npos);
  EXPECT_EQ(bytes.substr(bytes.size() - 1), "\x0d") << "C0: all 6 the same as P1";
  Decoded d;
  ASSERT_TRUE(Decode(bytes, &d));
  ExpectSame(b.p[1], d.p[1]);
  ExpectSame(b.c[0], d.c[0]);
  ExpectSame(b.c[1], d.c[1]);
}

TEST(BaseCodec, BytesAreFixedWhateverTheHost) {
  Owned b;
  b.p[0] = {Value::Int(-2), Value::String("ab"), Value::Float(1.5), Value::Float(0.1 + 0.2)};
  b.c[1] = b.p[0];
  b.p[1] = {Value::String("ab"), Value::Int(300)};
  b.c[0] = {Value::String("ab"), Value::Int(1)};
  std::string want = std::string(
      "\x02"                                  // version
      "\x04"                                  // P0: 4 values
      "\x02\x03"                              // int -2: zigzag 3
      "\xc2"                                  // string of 2 bytes
      "ab"                                    //
      "\x90\x1e\x01"                          // float 1.5: 15 / 10^1
      "\x03\x34\x33\x33\x33\x33\x33\xd3\x3f"  // float 0.30000000000000004, little-endian
      "\x09"                                  // C1: all four the same as P0
      "\x02\x03\x00\x02\xd8\x04"              // P1: P0's value 1; its own int 300
      "\x04\x01\x41",                         // C0: the first as P1, then int 1
      29);
  ASSERT_EQ(DUET_INT, 2);
  ASSERT_EQ(DUET_FLOAT, 3);
  EXPECT_EQ(Encode(b.Refs()), want);
}

// Version 1 as duet wrote it before version 2, byte for byte: still read.
TEST(BaseCodec, VersionOneBasesDecode) {
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
  EXPECT_EQ(EncodeV1(b.Refs()), want);
  Decoded d;
  ExpectDecodes(want, b, &d);
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
  Decoded d;
  for (const std::string& bytes : {Encode(b.Refs()), EncodeV1(b.Refs())}) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(Decode(std::string_view(bytes).substr(0, n), &d)) << n;
    }
    EXPECT_FALSE(Decode(bytes + "x", &d));
  }
  EXPECT_FALSE(Decode("\x03", &d)) << "an unknown version";
  EXPECT_FALSE(Decode(std::string("\x01\xff\xff\xff\xff\x0f", 6), &d)) << "a huge count";
  // Found by tests/fuzz/stored_state_fuzzer: a string whose length counts
  // its own length byte ran the reader past the end.
  EXPECT_FALSE(Decode(std::string("\x01\x01\x05\x02\x00\x19", 6), &d)) << "a long length";
  EXPECT_FALSE(Decode(std::string("\x01\x01\x05\x01", 4), &d)) << "a length past the end";
  EXPECT_FALSE(Decode(std::string("\x02\xff\xff\xff\xff\x0f", 6), &d)) << "a huge count";
  // A run past the end of its reference; a float of an absurd scale.
  EXPECT_FALSE(Decode(std::string("\x02\x01\x41\x01\x02\x02\x02\x05\x01", 9), &d));
  EXPECT_FALSE(Decode(std::string("\x02\x01\x90\x02\xff\x01\x00\x00\x01", 9), &d));
}

}  // namespace
}  // namespace duet::engine::base_codec
