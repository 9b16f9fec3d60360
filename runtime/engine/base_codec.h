// The bytes of a link's base (docs/sync.md, "The state store"): the four
// value vectors P[0], C[1], P[1], C[0] of a pair (engine_impl.h, Base).
//
// Version 1, written from schema version 2 of the SQLite state store on:
//
//   base    := 0x01 vector(P0) same(C1, P0) refs(P1, P0) same(C0, P1)
//   vector  := varint(n) value*n
//   same    := varint(n) bitmap(ceil(n/8) bytes, bit i of byte i/8 set when
//              value i is the reference's value i) value* (the others)
//   refs    := varint(n) (varint(0) value | varint(k + 1))*n: value k of the
//              reference vector, or a value of its own
//   value   := tag (a DUET_* type tag, Value::kUnknownTag or kDigestTag)
//              then: bool, int, date, datetime: zigzag varint; float: 8
//              bytes of its IEEE bits, little-endian; decimal: scale byte,
//              zigzag varint of the 128-bit unscaled value; string:
//              varint(length) bytes; guid: 16 bytes; digest: 8 bytes,
//              little-endian; null and unknown: nothing.
//
// Varints are LEB128 (7 bits a byte, low first). Nothing depends on the
// host's byte order or padding. A string longer than kDigestFrom bytes is
// kept as its digest (Value::Digest): a base only needs to tell whether a
// value changed, and a long text is rarely a conflict's whole story. The
// same value in both sides' vectors is written once (`same`, `refs`).
//
// Version 2, written since this version (the state store's schema is
// unchanged: a base is a blob, and its first byte says how to read it):
// version 1 with a value's small payload folded into its tag, a `same`
// that says "all of them" in its count, and refs in runs:
//
//   base    := 0x02 vector2(P0) same2(C1, P0) refs2(P1, P0) same2(C0, P1)
//   vector2 := varint(n) value2*n
//   same2   := varint(2n + 1) (every value is the reference's)
//            | varint(2n) bitmap value2* (as `same`)
//   refs2   := varint(n) token* (n values in all), token :=
//              varint(0) value2 | varint(2k + 1): value k of the reference
//            | varint(2k + 2) varint(r): values k..k+r of it (r >= 1)
//   value2  := 0x40 + v: int v in [0, 63] | 0x80, 0x81: bool false, true
//            | 0x90 zigzag-varint(m) byte(s): a float that is exactly the
//              double nearest m / 10^s (its shortest decimal text), where
//              that is shorter than its 8 bytes
//            | 0xa0 + s, zigzag varint: a decimal of scale s in [0, 31]
//            | 0xc0 + n, n bytes: a string of n <= kDigestFrom bytes
//            | value (version 1's, for everything else)
//
// Version 1 is still read (bases written before), and so is version 0.
//
// Version 0 is the layout before: no version byte of its own (the state
// store's migration prefixes those bases with a 0 byte), host-endian
// uint32 counts, a 0xfe byte for "same as the reference", and Value::Encode.
#ifndef DUET_RUNTIME_ENGINE_BASE_CODEC_H_
#define DUET_RUNTIME_ENGINE_BASE_CODEC_H_

#include <string>
#include <string_view>
#include <vector>

#include "runtime/endpoint/value.h"

namespace duet::engine::base_codec {

using endpoint::Value;

inline constexpr uint8_t kVersion0 = 0x00;
inline constexpr uint8_t kVersion1 = 0x01;
inline constexpr uint8_t kVersion2 = 0x02;
inline constexpr size_t kDigestFrom = 16;

struct Vectors {
  std::vector<const Value*> p[2];
  std::vector<const Value*> c[2];
};
struct Decoded {
  std::vector<Value> p[2];
  std::vector<Value> c[2];
};

// Version 2.
std::string Encode(const Vectors& v);
// Version 1, as duet wrote it before version 2 (tests make the bases of an
// earlier duet with it).
std::string EncodeV1(const Vectors& v);
// Either version; false when the bytes are not a base.
bool Decode(std::string_view bytes, Decoded* out);

}  // namespace duet::engine::base_codec

#endif  // DUET_RUNTIME_ENGINE_BASE_CODEC_H_
