// Values as the sync engine holds them between a database and a transform:
// owned (strings are copied out of the database and out of the transform's
// arena), comparable by meaning (decimals by value, whatever their scales),
// and encodable into the compact bytes the state store keeps as a link's base.
#ifndef DUET_RUNTIME_ENDPOINT_VALUE_H_
#define DUET_RUNTIME_ENDPOINT_VALUE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "runtime/base/clock.h"
#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"

namespace duet::endpoint {

__extension__ typedef __int128 int128;

class Value {
 public:
  // A tag the engine uses in a base for "not known": it equals no value, so
  // a field whose base is unknown always counts as changed.
  static constexpr uint8_t kUnknownTag = 0xff;
  // A tag the engine uses in a base for a string held only as its digest
  // (a 64-bit keyed hash, SipHash-2-4 under a fixed key): it equals a string
  // with that digest and an equal digest, nothing else. Two different
  // strings compare equal through it with probability 2^-64; its text is
  // not recoverable.
  static constexpr uint8_t kDigestTag = 0xfe;

  Value() = default;
  static Value Null() { return Value(); }
  static Value Unknown();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value Decimal(int128 unscaled, int scale);
  static Value String(std::string s);
  static Value Date(int64_t days);
  static Value DateTime(int64_t micros);
  static Value Guid(const std::array<uint8_t, 16>& bytes);
  static Value Digest(uint64_t digest);
  static uint64_t DigestOf(std::string_view text);
  // Copies a value a transform produced (its strings live in the arena).
  static Value FromAbi(const duet_value& v);

  uint8_t tag() const { return tag_; }
  bool is_null() const { return tag_ == DUET_NULL; }
  bool is_unknown() const { return tag_ == kUnknownTag; }
  bool is_digest() const { return tag_ == kDigestTag; }
  uint64_t digest_value() const { return static_cast<uint64_t>(i_); }
  int64_t int_value() const { return i_; }  // BOOL, INT, DATE, DATETIME
  double float_value() const { return f_; }
  int128 decimal_value() const { return d_; }
  int scale() const { return scale_; }
  const std::string& string_value() const { return s_; }
  const std::array<uint8_t, 16>& guid_value() const { return g_; }

  // A view for a transform's input row; valid while this value lives.
  duet_value ToAbi() const;

  // Equality by meaning: decimals by value, floats bitwise except that 0.0
  // and -0.0 differ and NaN equals NaN (a base must compare equal to itself).
  friend bool operator==(const Value& a, const Value& b);

  // Text for messages, error items and status output ("null", "1500.5000"):
  // always valid UTF-8 (a string's invalid bytes are written \xNN), so JSON
  // made of it cannot fail.
  std::string ToText() const;

  // Appends a self-delimiting encoding to `out`; Decode reads one back.
  void Encode(std::string* out) const;
  static bool Decode(std::string_view* in, Value* out);

 private:
  uint8_t tag_ = DUET_NULL;
  uint8_t scale_ = 0;
  int64_t i_ = 0;
  double f_ = 0;
  int128 d_ = 0;
  std::string s_;
  std::array<uint8_t, 16> g_{};
};

// A value of `type` read from text as databases and JSON give it: the ISO
// forms for dates, datetimes and guids, digits for decimals (rounded half
// away from zero to the type's scale). Text for a string or ref must be valid
// UTF-8, so a transform never sees invalid text. Error text says what was
// wrong and is valid UTF-8 itself.
Expected<Value> ValueFromText(std::string_view text, const bundle::ColumnType& type);

// `v` as a value of `type` (its kind and, for a decimal, its scale), for
// comparing by value (an endpoint's FindRow): a string is read as the
// type's text; nullopt when it cannot be (then only SQL equality can find
// the row).
std::optional<Value> AsKeyValue(const Value& v, const bundle::ColumnType& type);

// A guid's text without one pair of enclosing braces ("{...}"), the form
// SQL Server and .NET print; other text as it is.
std::string_view StripGuidBraces(std::string_view text);

std::string EncodeValues(const std::vector<Value>& values);
bool DecodeValues(std::string_view bytes, std::vector<Value>* out);

// A new time-ordered UUID (version 7, RFC 9562): 48 bits of Unix
// milliseconds, then random bits. Rows the runtime creates get these, so
// inserts land at the end of B-trees keyed by them. The milliseconds are
// `clock`'s.
std::array<uint8_t, 16> NewUuidV7(const Clock& clock = SystemClock::Get());

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_VALUE_H_
