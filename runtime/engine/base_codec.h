// The bytes of a link's base (docs/sync.md, "The state store"): the four
// value vectors P[0], C[1], P[1], C[0] of a pair (engine_impl.h, Base).
//
// Version 1, written since schema version 2 of the SQLite state store:
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
inline constexpr size_t kDigestFrom = 16;

struct Vectors {
  std::vector<const Value*> p[2];
  std::vector<const Value*> c[2];
};
struct Decoded {
  std::vector<Value> p[2];
  std::vector<Value> c[2];
};

// Version 1.
std::string Encode(const Vectors& v);
// Either version; false when the bytes are not a base.
bool Decode(std::string_view bytes, Decoded* out);

}  // namespace duet::engine::base_codec

#endif  // DUET_RUNTIME_ENGINE_BASE_CODEC_H_
