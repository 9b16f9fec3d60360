#include "runtime/engine/base_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

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

using PutFn = void (*)(const Value&, std::string*);
using GetFn = bool (*)(std::string_view*, Value*);

// A bitmap (bit i of byte i/8 set when value i is the reference's value i),
// then the other values, each written by `put`.
void PutBitmap(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
               PutFn put, std::string* out) {
  size_t at = out->size();
  out->append((values.size() + 7) / 8, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i < ref.size() && Same(*values[i], *ref[i])) {
      (*out)[at + i / 8] = static_cast<char>((*out)[at + i / 8] | (1 << (i % 8)));
    } else {
      put(*values[i], out);
    }
  }
}

// The n values of PutBitmap's bytes, the others read by `get`.
bool GetBitmap(std::string_view* in, size_t n, const std::vector<Value>& ref, GetFn get,
               std::vector<Value>* out) {
  size_t bitmap = (n + 7) / 8;
  if (in->size() < bitmap) return false;
  std::string_view bits = in->substr(0, bitmap);
  in->remove_prefix(bitmap);
  out->assign(n, Value());
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<uint8_t>(bits[i / 8]) & (1 << (i % 8))) {
      if (i >= ref.size()) return false;
      (*out)[i] = ref[i];
    } else if (!get(in, &(*out)[i])) {
      return false;
    }
  }
  return true;
}

void PutSame(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
             std::string* out) {
  PutVarint(values.size(), out);
  PutBitmap(values, ref, PutValue, out);
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
  return GetBitmap(in, n, ref, GetValue, out);
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

// ---- version 2 ----

// Tags of version 2 beyond the DUET_* ones (which keep their version-1
// payloads): a value's small payload folded into its tag.
constexpr uint8_t kSmallInt = 0x40;  // 0x40 + v: int v in [0, 63]
constexpr uint8_t kSmallIntEnd = 0x80;
constexpr uint8_t kFalse = 0x80;         // bool false
constexpr uint8_t kTrue = 0x81;          // bool true
constexpr uint8_t kFloatDecimal = 0x90;  // float: zigzag varint m, scale byte s: m / 10^s
constexpr uint8_t kDecimalScale = 0xa0;  // 0xa0 + s: decimal of scale s in [0, 31], varint
constexpr uint8_t kDecimalScaleEnd = 0xc0;
constexpr uint8_t kShortString = 0xc0;  // 0xc0 + n: string of n bytes, n in [0, 31]
constexpr uint8_t kShortStringEnd = 0xe0;

// A float's shortest decimal text (std::to_chars) as m / 10^s, when that is
// exact: parsing it gives back the same bits. Not for -0.0, infinities and
// NaN, nor when m or s would not fit.
bool FloatAsDecimal(double f, int64_t* m, int* scale) {
  if (!std::isfinite(f) || (f == 0 && std::signbit(f))) return false;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  if (ec != std::errc()) return false;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  int64_t digits = 0;
  int count = 0, fraction = 0, exponent = 0;
  bool point = false;
  size_t i = 0;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '.') {
      point = true;
      continue;
    }
    if (text[i] < '0' || text[i] > '9' || ++count > 17) return false;
    digits = digits * 10 + (text[i] - '0');
    if (point) ++fraction;
  }
  if (i < text.size()) {
    auto [p, e] = std::from_chars(text.data() + i + 1, text.data() + text.size(), exponent);
    if (e != std::errc() || p != text.data() + text.size()) return false;
  }
  int s = fraction - exponent;
  while (s < 0 && digits <= INT64_MAX / 10) {
    digits *= 10;
    ++s;
  }
  if (s < 0 || s > 40) return false;
  *m = negative ? -digits : digits;
  *scale = s;
  return true;
}

bool DecimalAsFloat(int64_t m, int scale, double* f) {
  std::string text = std::to_string(m) + "e-" + std::to_string(scale);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *f);
  return ec == std::errc() && end == text.data() + text.size();
}

void PutValueV2(const Value& v, std::string* out) {
  switch (v.tag()) {
    case DUET_BOOL:
      out->push_back(static_cast<char>(v.int_value() != 0 ? kTrue : kFalse));
      return;
    case DUET_INT:
      if (v.int_value() >= 0 && v.int_value() < kSmallIntEnd - kSmallInt) {
        out->push_back(static_cast<char>(kSmallInt + v.int_value()));
        return;
      }
      break;
    case DUET_FLOAT: {
      int64_t m;
      int scale;
      double back;
      // The decimal form only where it is shorter and gives back the bits.
      double f = v.float_value();
      if (FloatAsDecimal(f, &m, &scale) && DecimalAsFloat(m, scale, &back) &&
          std::memcmp(&back, &f, sizeof back) == 0) {
        std::string form;
        PutVarint(ZigZag(m), &form);
        if (form.size() + 2 < 9) {
          out->push_back(static_cast<char>(kFloatDecimal));
          out->append(form);
          out->push_back(static_cast<char>(scale));
          return;
        }
      }
      break;
    }
    case DUET_DECIMAL:
      if (v.scale() >= 0 && v.scale() < kDecimalScaleEnd - kDecimalScale) {
        out->push_back(static_cast<char>(kDecimalScale + v.scale()));
        PutVarint(ZigZag(v.decimal_value()), out);
        return;
      }
      break;
    case DUET_STRING:
      if (v.string_value().size() <= kDigestFrom &&
          v.string_value().size() < kShortStringEnd - kShortString) {
        out->push_back(static_cast<char>(kShortString + v.string_value().size()));
        out->append(v.string_value());
        return;
      }
      break;
    default:
      break;
  }
  PutValue(v, out);
}

bool GetValueV2(std::string_view* in, Value* out) {
  if (in->empty()) return false;
  uint8_t tag = static_cast<uint8_t>(in->front());
  if (tag >= kSmallInt && tag < kSmallIntEnd) {
    in->remove_prefix(1);
    *out = Value::Int(tag - kSmallInt);
    return true;
  }
  if (tag == kFalse || tag == kTrue) {
    in->remove_prefix(1);
    *out = Value::Bool(tag == kTrue);
    return true;
  }
  if (tag == kFloatDecimal) {
    in->remove_prefix(1);
    uint128 u;
    if (!GetVarint(in, &u) || in->empty()) return false;
    int128 m = UnZigZag(u);
    int scale = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    double f;
    if (m < INT64_MIN || m > INT64_MAX || scale > 40 ||
        !DecimalAsFloat(static_cast<int64_t>(m), scale, &f)) {
      return false;
    }
    *out = Value::Float(f);
    return true;
  }
  if (tag >= kDecimalScale && tag < kDecimalScaleEnd) {
    in->remove_prefix(1);
    uint128 u;
    if (!GetVarint(in, &u)) return false;
    *out = Value::Decimal(UnZigZag(u), tag - kDecimalScale);
    return true;
  }
  if (tag >= kShortString && tag < kShortStringEnd) {
    in->remove_prefix(1);
    size_t n = tag - kShortString;
    if (in->size() < n) return false;
    *out = Value::String(std::string(in->substr(0, n)));
    in->remove_prefix(n);
    return true;
  }
  return GetValue(in, out);
}

void PutVectorV2(const std::vector<const Value*>& values, std::string* out) {
  PutVarint(values.size(), out);
  for (const Value* v : values) PutValueV2(*v, out);
}

// varint(2n + 1) when every value is the reference's; otherwise varint(2n),
// the bitmap and the other values.
void PutSameV2(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
               std::string* out) {
  bool all = values.size() <= ref.size();
  for (size_t i = 0; all && i < values.size(); ++i) all = Same(*values[i], *ref[i]);
  PutVarint(2 * static_cast<uint128>(values.size()) + (all ? 1 : 0), out);
  if (!all) PutBitmap(values, ref, PutValueV2, out);
}

// Each value: varint(0) and a value of its own; varint(2k + 1): value k of
// the reference; varint(2k + 2) varint(r): values k, k + 1, ..., k + r of
// the reference (a run; r >= 1), for fields mapped in the same order.
void PutRefsV2(const std::vector<const Value*>& values, const std::vector<const Value*>& ref,
               std::string* out) {
  PutVarint(values.size(), out);
  auto find = [&](const Value& v) {
    size_t k = 0;
    while (k < ref.size() && !Same(v, *ref[k])) ++k;
    return k;
  };
  for (size_t i = 0; i < values.size();) {
    size_t k = find(*values[i]);
    if (k == ref.size()) {
      PutVarint(0, out);
      PutValueV2(*values[i], out);
      ++i;
      continue;
    }
    size_t r = 0;
    while (i + r + 1 < values.size() && k + r + 1 < ref.size() &&
           Same(*values[i + r + 1], *ref[k + r + 1])) {
      ++r;
    }
    if (r == 0) {
      PutVarint(2 * static_cast<uint128>(k) + 1, out);
    } else {
      PutVarint(2 * static_cast<uint128>(k) + 2, out);
      PutVarint(r, out);
    }
    i += r + 1;
  }
}

bool GetVectorV2(std::string_view* in, std::vector<Value>* out) {
  size_t n;
  if (!GetSize(in, in->size(), &n)) return false;  // a value takes >= 1 byte
  out->assign(n, Value());
  for (Value& v : *out)
    if (!GetValueV2(in, &v)) return false;
  return true;
}

bool GetSameV2(std::string_view* in, const std::vector<Value>& ref, std::vector<Value>* out) {
  uint128 head;
  if (!GetVarint(in, &head) || head / 2 > ref.size() + 8 * in->size()) return false;
  size_t n = static_cast<size_t>(head / 2);
  if (head & 1) {
    if (n > ref.size()) return false;
    out->assign(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(n));
    return true;
  }
  return GetBitmap(in, n, ref, GetValueV2, out);
}

bool GetRefsV2(std::string_view* in, const std::vector<Value>& ref, std::vector<Value>* out) {
  size_t n;
  // A token of at least one byte stands for at most ref.size() values.
  if (!GetSize(in, (ref.size() + 1) * in->size(), &n)) return false;
  out->clear();
  out->reserve(n);
  while (out->size() < n) {
    uint128 t;
    if (!GetVarint(in, &t) || t > 2 * static_cast<uint128>(ref.size())) return false;
    if (t == 0) {
      Value v;
      if (!GetValueV2(in, &v)) return false;
      out->push_back(std::move(v));
      continue;
    }
    size_t k = static_cast<size_t>((t - 1) / 2);
    size_t r = 0;
    if (t % 2 == 0 && (!GetSize(in, ref.size(), &r) || r == 0)) return false;
    if (k + r >= ref.size() || out->size() + r + 1 > n) return false;
    for (size_t j = 0; j <= r; ++j) out->push_back(ref[k + j]);
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

std::string EncodeV1(const Vectors& v) {
  std::string out(1, static_cast<char>(kVersion1));
  PutVector(v.p[0], &out);
  PutSame(v.c[1], v.p[0], &out);
  PutRefs(v.p[1], v.p[0], &out);
  PutSame(v.c[0], v.p[1], &out);
  return out;
}

std::string Encode(const Vectors& v) {
  std::string out(1, static_cast<char>(kVersion2));
  PutVectorV2(v.p[0], &out);
  PutSameV2(v.c[1], v.p[0], &out);
  PutRefsV2(v.p[1], v.p[0], &out);
  PutSameV2(v.c[0], v.p[1], &out);
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
  if (version == kVersion2) {
    return GetVectorV2(&bytes, &b->p[0]) && GetSameV2(&bytes, b->p[0], &b->c[1]) &&
           GetRefsV2(&bytes, b->p[0], &b->p[1]) && GetSameV2(&bytes, b->p[1], &b->c[0]) &&
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
