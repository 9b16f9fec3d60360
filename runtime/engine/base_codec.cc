#include "runtime/engine/base_codec.h"

#include <cstring>

#include "runtime/engine/engine_impl.h"

namespace duet::engine {
namespace base_codec {
namespace {

using int128 = endpoint::int128;
__extension__ typedef unsigned __int128 uint128;

void PutVarint(uint128 v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(static_cast<uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint128* v) {
  *v = 0;
  for (int shift = 0; shift < 128; shift += 7) {
    if (in->empty()) return false;
    uint8_t byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint128>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

uint128 ZigZag(int128 v) { return (static_cast<uint128>(v) << 1) ^ static_cast<uint128>(v >> 127); }
int128 UnZigZag(uint128 v) { return static_cast<int128>((v >> 1) ^ (~(v & 1) + 1)); }

void PutFixed64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = 0;
  for (int i = 7; i >= 0; --i) *v = *v << 8 | static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(8);
  return true;
}

bool GetSize(std::string_view* in, size_t limit, size_t* n) {
  uint128 v;
  if (!GetVarint(in, &v) || v > limit) return false;
  *n = static_cast<size_t>(v);
  return true;
}

void PutValue(const Value& v, std::string* out) {
  bool digest = v.tag() == DUET_STRING && v.string_value().size() > kDigestFrom;
  out->push_back(static_cast<char>(digest ? Value::kDigestTag : v.tag()));
  switch (v.tag()) {
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME:
      PutVarint(ZigZag(v.int_value()), out);
      break;
    case DUET_FLOAT: {
      double f = v.float_value();
      uint64_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      PutFixed64(bits, out);
      break;
    }
    case DUET_DECIMAL:
      out->push_back(static_cast<char>(v.scale()));
      PutVarint(ZigZag(v.decimal_value()), out);
      break;
    case DUET_STRING:
      if (digest) {
        PutFixed64(Value::DigestOf(v.string_value()), out);
      } else {
        PutVarint(v.string_value().size(), out);
        out->append(v.string_value());
      }
      break;
    case DUET_GUID:
      out->append(reinterpret_cast<const char*>(v.guid_value().data()), 16);
      break;
    case Value::kDigestTag:
      PutFixed64(v.digest_value(), out);
      break;
    default:  // null, unknown
      break;
  }
}

bool GetValue(std::string_view* in, Value* out) {
  if (in->empty()) return false;
  uint8_t tag = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  uint128 u;
  uint64_t bits;
  switch (tag) {
    case DUET_NULL:
      *out = Value::Null();
      return true;
    case Value::kUnknownTag:
      *out = Value::Unknown();
      return true;
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME: {
      if (!GetVarint(in, &u)) return false;
      int64_t i = static_cast<int64_t>(UnZigZag(u));
      *out = tag == DUET_BOOL   ? Value::Bool(i != 0)
             : tag == DUET_INT  ? Value::Int(i)
             : tag == DUET_DATE ? Value::Date(i)
                                : Value::DateTime(i);
      return true;
    }
    case DUET_FLOAT: {
      if (!GetFixed64(in, &bits)) return false;
      double f;
      std::memcpy(&f, &bits, sizeof f);
      *out = Value::Float(f);
      return true;
    }
    case DUET_DECIMAL: {
      if (in->empty()) return false;
      int scale = static_cast<uint8_t>(in->front());
      in->remove_prefix(1);
      if (!GetVarint(in, &u)) return false;
      *out = Value::Decimal(UnZigZag(u), scale);
      return true;
    }
    case DUET_STRING: {
      size_t n;
      // The length is checked against what is left after it.
      if (!GetSize(in, in->size(), &n) || n > in->size()) return false;
      *out = Value::String(std::string(in->substr(0, n)));
      in->remove_prefix(n);
      return true;
    }
    case DUET_GUID: {
      if (in->size() < 16) return false;
      std::array<uint8_t, 16> g;
      std::memcpy(g.data(), in->data(), 16);
      in->remove_prefix(16);
      *out = Value::Guid(g);
      return true;
    }
    case Value::kDigestTag:
      if (!GetFixed64(in, &bits)) return false;
      *out = Value::Digest(bits);
      return true;
    default:
      return false;
  }
}

// Whether `v` can be written as `ref`: the same value in the same form, so
// that decoding gives back what was encoded (1.50 is not 1.5 here).
bool Same(const Value& v, const Value& ref) {
  return !v.is_unknown() && v.tag() == ref.tag() && v.scale() == ref.scale() && v == ref;
}

void PutVector(const std::vector<const Value*>& values, std::string* out) {
  PutVarint(values.size(), out);
  for (const Value* v : values) PutValue(*v, out);
}

void PutSame(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
             std::string* out) {
  PutVarint(values.size(), out);
  size_t at = out->size();
  out->append((values.size() + 7) / 8, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i < ref.size() && Same(*values[i], *ref[i])) {
      (*out)[at + i / 8] = static_cast<char>((*out)[at + i / 8] | (1 << (i % 8)));
    } else {
      PutValue(*values[i], out);
    }
  }
}

void PutRefs(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
             std::string* out) {
  PutVarint(values.size(), out);
  for (const Value* v : values) {
    size_t k = 0;
    while (k < ref.size() && !Same(*v, *ref[k])) ++k;
    if (k < ref.size()) {
      PutVarint(k + 1, out);
    } else {
      PutVarint(0, out);
      PutValue(*v, out);
    }
  }
}

bool GetVector(std::string_view* in, std::vector<Value>* out) {
  size_t n;
  if (!GetSize(in, in->size(), &n)) return false;  // a value takes >= 1 byte
  out->assign(n, Value());
  for (Value& v : *out)
    if (!GetValue(in, &v)) return false;
  return true;
}

bool GetSame(std::string_view* in, const std::vector<Value>& ref, std::vector<Value>* out) {
  size_t n;
  if (!GetSize(in, 8 * in->size(), &n)) return false;
  size_t bitmap = (n + 7) / 8;
  if (in->size() < bitmap) return false;
  std::string_view bits = in->substr(0, bitmap);
  in->remove_prefix(bitmap);
  out->assign(n, Value());
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint8_t>(bits[i / 8]) & (1 << (i % 8))) {
      if (i >= ref.size()) return false;
      (*out)[i] = ref[i];
    } else if (!GetValue(in, &(*out)[i])) {
      return false;
    }
  }
  return true;
}

bool GetRefs(std::string_view* in, const std::vector<Value>& ref, std::vector<Value>* out) {
  size_t n;
  if (!GetSize(in, in->size(), &n)) return false;
  out->assign(n, Value());
  for (Value& v : *out) {
    size_t k;
    if (!GetSize(in, ref.size(), &k)) return false;
    if (k > 0) {
      v = ref[k - 1];
    } else if (!GetValue(in, &v)) {
      return false;
    }
  }
  return true;
}

// Version 0: host-endian uint32 counts, 0xfe for "same as the reference".
bool GetRelativeV0(std::string_view* in, const std::vector<Value>& reference,
                   std::vector<Value>* out) {
  constexpr uint8_t kSameAsProjection = 0xfe;
  uint32_t n;
  if (in->size() < sizeof n) return false;
  std::memcpy(&n, in->data(), sizeof n);
  in->remove_prefix(sizeof n);
  if (n > in->size()) return false;
  out->clear();
  out->reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (in->empty()) return false;
    if (static_cast<uint8_t>(in->front()) == kSameAsProjection) {
      if (i >= reference.size()) return false;
      in->remove_prefix(1);
      out->push_back(reference[i]);
      continue;
    }
    Value v;
    if (!Value::Decode(in, &v)) return false;
    out->push_back(std::move(v));
  }
  return true;
}

}  // namespace

std::string Encode(const Vectors& v) {
  std::string out(1, static_cast<char>(kVersion1));
  PutVector(v.p[0], &out);
  PutSame(v.c[1], v.p[0], &out);
  PutRefs(v.p[1], v.p[0], &out);
  PutSame(v.c[0], v.p[1], &out);
  return out;
}

bool Decode(std::string_view bytes, Decoded* b) {
  if (bytes.empty()) return false;
  uint8_t version = static_cast<uint8_t>(bytes.front());
  bytes.remove_prefix(1);
  static const std::vector<Value> kNone;
  if (version == kVersion0) {
    return GetRelativeV0(&bytes, kNone, &b->p[0]) && GetRelativeV0(&bytes, b->p[0], &b->c[1]) &&
           GetRelativeV0(&bytes, kNone, &b->p[1]) && GetRelativeV0(&bytes, b->p[1], &b->c[0]) &&
           bytes.empty();
  }
  if (version != kVersion1) return false;
  return GetVector(&bytes, &b->p[0]) && GetSame(&bytes, b->p[0], &b->c[1]) &&
         GetRefs(&bytes, b->p[0], &b->p[1]) && GetSame(&bytes, b->p[1], &b->c[0]) && bytes.empty();
}

}  // namespace base_codec

std::string EncodeBase(const BaseRef& b) {
  base_codec::Vectors v;
  for (int s = 0; s < 2; ++s) {
    v.p[s] = b.p[s];
    v.c[s] = b.c[s];
  }
  return base_codec::Encode(v);
}

bool DecodeBase(std::string_view bytes, Base* b) {
  base_codec::Decoded d;
  if (!base_codec::Decode(bytes, &d)) return false;
  for (int s = 0; s < 2; ++s) {
    b->p[s] = std::move(d.p[s]);
    b->c[s] = std::move(d.c[s]);
  }
  return true;
}

}  // namespace duet::engine
