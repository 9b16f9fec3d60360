#include "runtime/endpoint/value.h"

#include <sodium.h>

#include <cmath>
#include <cstring>

#include "runtime/value/ops.h"

namespace duet::endpoint {
namespace {

void AppendRaw(std::string* out, const void* data, size_t size) {
  out->append(static_cast<const char*>(data), size);
}

template <typename T>
bool ReadRaw(std::string_view* in, T* out) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(out, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

// `text` for a message: its first 60 characters, with bytes that are not
// UTF-8 written as \xNN (each counts as a character).
std::string Shown(std::string_view text) {
  std::string_view head = value::TruncateCodePoints(text, 60);
  return value::EscapeInvalidUtf8(head) + (head.size() < text.size() ? "..." : "");
}

}  // namespace

Value Value::Unknown() {
  Value v;
  v.tag_ = kUnknownTag;
  return v;
}
Value Value::Digest(uint64_t digest) {
  Value v;
  v.tag_ = kDigestTag;
  v.i_ = static_cast<int64_t>(digest);
  return v;
}

uint64_t Value::DigestOf(std::string_view text) {
  // Fixed, so that a digest stays comparable across runs and machines.
  static constexpr unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      'd', 'u', 'e', 't', '-', 'b', 'a', 's', 'e', '-', 'd', 'i', 'g', 'e', 's', 't'};
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(text.data()), text.size(), kKey);
  uint64_t d = 0;
  for (int i = crypto_shorthash_BYTES - 1; i >= 0; --i) d = d << 8 | out[i];
  return d;
}

Value Value::Bool(bool b) {
  Value v;
  v.tag_ = DUET_BOOL;
  v.i_ = b ? 1 : 0;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.tag_ = DUET_INT;
  v.i_ = i;
  return v;
}
Value Value::Float(double f) {
  Value v;
  v.tag_ = DUET_FLOAT;
  v.f_ = f;
  return v;
}
Value Value::Decimal(int128 unscaled, int scale) {
  Value v;
  v.tag_ = DUET_DECIMAL;
  v.d_ = unscaled;
  v.scale_ = static_cast<uint8_t>(scale);
  return v;
}
Value Value::String(std::string s) {
  Value v;
  v.tag_ = DUET_STRING;
  v.s_ = std::move(s);
  return v;
}
Value Value::Date(int64_t days) {
  Value v;
  v.tag_ = DUET_DATE;
  v.i_ = days;
  return v;
}
Value Value::DateTime(int64_t micros) {
  Value v;
  v.tag_ = DUET_DATETIME;
  v.i_ = micros;
  return v;
}
Value Value::Guid(const std::array<uint8_t, 16>& bytes) {
  Value v;
  v.tag_ = DUET_GUID;
  v.g_ = bytes;
  return v;
}

Value Value::FromAbi(const duet_value& in) {
  switch (in.tag) {
    case DUET_BOOL:
      return Bool(in.u.i != 0);
    case DUET_INT:
      return Int(in.u.i);
    case DUET_FLOAT:
      return Float(in.u.f);
    case DUET_DECIMAL: {
      int128 d = (static_cast<int128>(in.u.d.hi) << 64) | static_cast<int128>(in.u.d.lo);
      return Decimal(d, in.scale);
    }
    case DUET_STRING:
      return String(in.length == 0 ? std::string() : std::string(in.u.s, in.length));
    case DUET_DATE:
      return Date(in.u.i);
    case DUET_DATETIME:
      return DateTime(in.u.i);
    case DUET_GUID: {
      std::array<uint8_t, 16> g;
      std::memcpy(g.data(), in.u.guid, 16);
      return Guid(g);
    }
    default:
      return Null();
  }
}

duet_value Value::ToAbi() const {
  duet_value v;
  std::memset(&v, 0, sizeof v);
  v.tag = tag_ == kUnknownTag ? static_cast<uint8_t>(DUET_NULL) : tag_;
  switch (tag_) {
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME:
      v.u.i = i_;
      break;
    case DUET_FLOAT:
      v.u.f = f_;
      break;
    case DUET_DECIMAL:
      v.scale = scale_;
      v.u.d.lo = static_cast<uint64_t>(d_);
      v.u.d.hi = static_cast<int64_t>(d_ >> 64);
      break;
    case DUET_STRING:
      v.u.s = s_.data();
      v.length = static_cast<uint32_t>(s_.size());
      break;
    case DUET_GUID:
      std::memcpy(v.u.guid, g_.data(), 16);
      break;
    default:
      break;
  }
  return v;
}

bool operator==(const Value& a, const Value& b) {
  if (a.tag_ != b.tag_) {
    if (a.tag_ == Value::kDigestTag && b.tag_ == DUET_STRING)
      return a.digest_value() == Value::DigestOf(b.s_);
    if (b.tag_ == Value::kDigestTag && a.tag_ == DUET_STRING)
      return b.digest_value() == Value::DigestOf(a.s_);
    return false;
  }
  switch (a.tag_) {
    case DUET_NULL:
      return true;
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME:
      return a.i_ == b.i_;
    case DUET_FLOAT:
      return std::memcmp(&a.f_, &b.f_, sizeof(double)) == 0 ||
             (std::isnan(a.f_) && std::isnan(b.f_));
    case DUET_DECIMAL:
      return value::DecimalCompare(a.d_, a.scale_, b.d_, b.scale_) == 0;
    case DUET_STRING:
      return a.s_ == b.s_;
    case DUET_GUID:
      return a.g_ == b.g_;
    case Value::kDigestTag:
      return a.i_ == b.i_;
    default:
      return false;  // kUnknownTag equals nothing, itself included
  }
}

std::string Value::ToText() const {
  switch (tag_) {
    case DUET_NULL:
      return "null";
    case DUET_BOOL:
      return i_ ? "true" : "false";
    case DUET_INT:
      return std::to_string(i_);
    case DUET_FLOAT:
      return value::FormatFloat(f_);
    case DUET_DECIMAL:
      return value::FormatDecimal(d_, scale_);
    case DUET_STRING:
      return value::EscapeInvalidUtf8(s_);
    case DUET_DATE:
      return value::FormatDate(i_);
    case DUET_DATETIME:
      return value::FormatDateTime(i_);
    case DUET_GUID:
      return value::FormatGuid(g_);
    default:
      return "unknown";
  }
}

void Value::Encode(std::string* out) const {
  out->push_back(static_cast<char>(tag_));
  switch (tag_) {
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME:
      AppendRaw(out, &i_, sizeof i_);
      break;
    case DUET_FLOAT:
      AppendRaw(out, &f_, sizeof f_);
      break;
    case DUET_DECIMAL:
      out->push_back(static_cast<char>(scale_));
      AppendRaw(out, &d_, sizeof d_);
      break;
    case DUET_STRING: {
      uint32_t n = static_cast<uint32_t>(s_.size());
      AppendRaw(out, &n, sizeof n);
      out->append(s_);
      break;
    }
    case DUET_GUID:
      AppendRaw(out, g_.data(), 16);
      break;
    default:
      break;
  }
}

bool Value::Decode(std::string_view* in, Value* out) {
  uint8_t tag;
  if (!ReadRaw(in, &tag)) return false;
  Value v;
  v.tag_ = tag;
  switch (tag) {
    case DUET_NULL:
    case kUnknownTag:
      break;
    case DUET_BOOL:
    case DUET_INT:
    case DUET_DATE:
    case DUET_DATETIME:
      if (!ReadRaw(in, &v.i_)) return false;
      // A bool is 0 or 1 however the bytes came (Value::Bool), so that a
      // damaged one compares and encodes as the value it reads as.
      if (tag == DUET_BOOL) v.i_ = v.i_ != 0;
      break;
    case DUET_FLOAT:
      if (!ReadRaw(in, &v.f_)) return false;
      break;
    case DUET_DECIMAL:
      if (!ReadRaw(in, &v.scale_) || !ReadRaw(in, &v.d_)) return false;
      break;
    case DUET_STRING: {
      uint32_t n;
      if (!ReadRaw(in, &n) || in->size() < n) return false;
      v.s_.assign(in->data(), n);
      in->remove_prefix(n);
      break;
    }
    case DUET_GUID:
      if (in->size() < 16) return false;
      std::memcpy(v.g_.data(), in->data(), 16);
      in->remove_prefix(16);
      break;
    default:
      return false;
  }
  *out = std::move(v);
  return true;
}

std::string EncodeValues(const std::vector<Value>& values) {
  std::string out;
  uint32_t n = static_cast<uint32_t>(values.size());
  AppendRaw(&out, &n, sizeof n);
  for (const Value& v : values) v.Encode(&out);
  return out;
}

bool DecodeValues(std::string_view bytes, std::vector<Value>* out) {
  uint32_t n;
  if (!ReadRaw(&bytes, &n) || n > bytes.size()) return false;
  out->clear();
  out->reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    Value v;
    if (!Value::Decode(&bytes, &v)) return false;
    out->push_back(std::move(v));
  }
  return bytes.empty();
}

Expected<Value> ValueFromText(std::string_view text, const bundle::ColumnType& type) {
  auto bad = [&](std::string_view what) -> Status {
    return InvalidArgumentError("expected " + std::string(what) + ", got '" + Shown(text) + "'");
  };
  if ((type.kind == bundle::ValueKind::kString || type.kind == bundle::ValueKind::kRef) &&
      !value::IsValidUtf8(text)) {
    return InvalidArgumentError("not valid UTF-8 text: '" + Shown(text) + "'");
  }
  switch (type.kind) {
    case bundle::ValueKind::kBool:
      if (text == "1" || text == "true") return Value::Bool(true);
      if (text == "0" || text == "false") return Value::Bool(false);
      return bad("a bool");
    case bundle::ValueKind::kInt: {
      std::optional<int64_t> i = value::ParseInt(text);
      if (!i) return bad("an integer");
      return Value::Int(*i);
    }
    case bundle::ValueKind::kFloat: {
      // NaN is no value a database column holds (SQLite stores it as null).
      std::optional<double> f = value::ParseFloat(text);
      if (!f || std::isnan(*f)) return bad("a number");
      return Value::Float(*f);
    }
    case bundle::ValueKind::kDecimal: {
      std::optional<value::int128> d = value::ParseDecimal(value::Trim(text), type.scale);
      if (!d) return bad(type.ToString());
      if (!value::FitsPrecision(*d, type.precision)) {
        return InvalidArgumentError("value " + std::string(text) + " has more digits than " +
                                    type.ToString() + " allows");
      }
      return Value::Decimal(*d, type.scale);
    }
    case bundle::ValueKind::kString:
      if (type.length > 0 && value::CodePointLength(text) > static_cast<size_t>(type.length)) {
        return InvalidArgumentError("value is longer than " + type.ToString() + " allows (" +
                                    std::to_string(value::CodePointLength(text)) + " characters)");
      }
      return Value::String(std::string(text));
    case bundle::ValueKind::kDate: {
      std::optional<int64_t> d = value::ParseDate(text);
      if (!d) return bad("a date (YYYY-MM-DD)");
      return Value::Date(*d);
    }
    case bundle::ValueKind::kDateTime: {
      std::optional<int64_t> t = value::ParseDateTime(text);
      if (!t) return bad("a datetime (YYYY-MM-DDTHH:MM:SS[.ffffff][Z])");
      return Value::DateTime(*t);
    }
    case bundle::ValueKind::kGuid: {
      std::optional<std::array<uint8_t, 16>> g = value::ParseGuid(text);
      if (!g) return bad("a guid");
      return Value::Guid(*g);
    }
    case bundle::ValueKind::kRef:
      return Value::String(std::string(text));
  }
  return bad("a value");
}

std::string_view StripGuidBraces(std::string_view text) {
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

std::optional<Value> AsKeyValue(const Value& v, const bundle::ColumnType& type) {
  if (v.is_null()) return std::nullopt;
  switch (type.kind) {
    case bundle::ValueKind::kDecimal:
      if (v.tag() == DUET_DECIMAL) {
        // Only a lossless change of scale: a value with more decimals than
        // the column keeps is no stored value of the column.
        value::int128 scaled, back;
        if (!value::Rescale(v.decimal_value(), v.scale(), type.scale, &scaled) ||
            !value::Rescale(scaled, type.scale, v.scale(), &back) || back != v.decimal_value()) {
          return std::nullopt;
        }
        return Value::Decimal(scaled, type.scale);
      }
      break;
    case bundle::ValueKind::kGuid:
      if (v.tag() == DUET_GUID) return v;
      break;
    case bundle::ValueKind::kDate:
      if (v.tag() == DUET_DATE) return v;
      break;
    case bundle::ValueKind::kDateTime:
      if (v.tag() == DUET_DATETIME) return v;
      break;
    case bundle::ValueKind::kInt:
      if (v.tag() == DUET_INT) return v;
      break;
    case bundle::ValueKind::kBool:
      if (v.tag() == DUET_BOOL) return v;
      break;
    case bundle::ValueKind::kFloat:
      if (v.tag() == DUET_FLOAT) return v;
      break;
    case bundle::ValueKind::kString:
    case bundle::ValueKind::kRef:
      if (v.tag() == DUET_STRING) return v;
      return std::nullopt;
  }
  // A ref's value is the referenced id as text: read it as the id's type.
  if (v.tag() != DUET_STRING) return std::nullopt;
  std::string_view text = v.string_value();
  if (type.kind == bundle::ValueKind::kGuid) text = StripGuidBraces(text);
  Expected<Value> typed = ValueFromText(text, type);
  if (!typed.ok()) return std::nullopt;
  return *typed;
}

std::array<uint8_t, 16> NewUuidV7(const Clock& clock) {
  std::array<uint8_t, 16> g;
  randombytes_buf(g.data(), g.size());
  uint64_t ms = static_cast<uint64_t>(std::floor(clock.Now() * 1000));
  for (int i = 0; i < 6; ++i) g[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  g[6] = static_cast<uint8_t>(0x70 | (g[6] & 0x0f));
  g[8] = static_cast<uint8_t>(0x80 | (g[8] & 0x3f));
  return g;
}

}  // namespace duet::endpoint
