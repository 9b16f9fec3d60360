#include "runtime/value/ops.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace duet::value {
namespace {

__extension__ typedef unsigned __int128 uint128;

// Unsigned 256-bit magnitudes, enough for the product of two 38-digit
// decimals and for a 38-digit value scaled by 10^38.
struct U256 {
  std::array<uint64_t, 4> limb = {0, 0, 0, 0};  // little-endian

  static U256 From(uint128 v) {
    U256 x;
    x.limb[0] = static_cast<uint64_t>(v);
    x.limb[1] = static_cast<uint64_t>(v >> 64);
    return x;
  }
  bool IsZero() const { return (limb[0] | limb[1] | limb[2] | limb[3]) == 0; }
  bool FitsU128() const { return limb[2] == 0 && limb[3] == 0; }
  uint128 ToU128() const { return (static_cast<uint128>(limb[1]) << 64) | limb[0]; }

  // false on overflow past 256 bits.
  bool MulU64(uint64_t m) {
    uint128 carry = 0;
    for (uint64_t& l : limb) {
      uint128 p = static_cast<uint128>(l) * m + carry;
      l = static_cast<uint64_t>(p);
      carry = p >> 64;
    }
    return carry == 0;
  }
  bool Add(const U256& o) {
    uint128 carry = 0;
    for (size_t i = 0; i < 4; ++i) {
      uint128 s = static_cast<uint128>(limb[i]) + o.limb[i] + carry;
      limb[i] = static_cast<uint64_t>(s);
      carry = s >> 64;
    }
    return carry == 0;
  }
  // Requires *this >= o.
  void Sub(const U256& o) {
    uint64_t borrow = 0;
    for (size_t i = 0; i < 4; ++i) {
      uint128 d = static_cast<uint128>(limb[i]) - o.limb[i] - borrow;
      limb[i] = static_cast<uint64_t>(d);
      borrow = static_cast<uint64_t>(d >> 64) != 0 ? 1 : 0;
    }
  }
  int Compare(const U256& o) const {
    for (size_t i = 4; i-- > 0;) {
      if (limb[i] != o.limb[i]) return limb[i] < o.limb[i] ? -1 : 1;
    }
    return 0;
  }
  // Divides in place; returns the remainder.
  uint64_t DivU64(uint64_t d) {
    uint128 rem = 0;
    for (size_t i = 4; i-- > 0;) {
      uint128 cur = (rem << 64) | limb[i];
      limb[i] = static_cast<uint64_t>(cur / d);
      rem = cur % d;
    }
    return static_cast<uint64_t>(rem);
  }
  // Divides in place by a divisor below 2^127; returns the remainder.
  uint128 DivU128(uint128 d) {
    U256 quotient;
    uint128 rem = 0;
    for (int bit = 255; bit >= 0; --bit) {
      rem = (rem << 1) | ((limb[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 1);
      if (rem >= d) {
        rem -= d;
        quotient.limb[static_cast<size_t>(bit / 64)] |= uint64_t{1} << (bit % 64);
      }
    }
    *this = quotient;
    return rem;
  }
};

U256 Multiply(uint128 a, uint128 b) {
  uint64_t a0 = static_cast<uint64_t>(a), a1 = static_cast<uint64_t>(a >> 64);
  uint64_t b0 = static_cast<uint64_t>(b), b1 = static_cast<uint64_t>(b >> 64);
  U256 r;
  auto add_at = [&](size_t pos, uint128 v) {
    U256 t;
    t.limb[pos] = static_cast<uint64_t>(v);
    if (pos + 1 < 4) t.limb[pos + 1] = static_cast<uint64_t>(v >> 64);
    r.Add(t);
  };
  add_at(0, static_cast<uint128>(a0) * b0);
  add_at(1, static_cast<uint128>(a0) * b1);
  add_at(1, static_cast<uint128>(a1) * b0);
  add_at(2, static_cast<uint128>(a1) * b1);
  return r;
}

bool MulPow10(U256& x, int n) {
  while (n > 0) {
    int step = std::min(n, 19);
    if (!x.MulU64(static_cast<uint64_t>(Pow10(step)))) return false;
    n -= step;
  }
  return true;
}

// Divides by 10^n rounding half away from zero (on the magnitude).
void DivPow10Round(U256& x, int n) {
  if (n <= 0) return;
  int rest = n - 1;
  while (rest > 0) {
    int step = std::min(rest, 19);
    x.DivU64(static_cast<uint64_t>(Pow10(step)));
    rest -= step;
  }
  uint64_t digit = x.DivU64(10);
  if (digit >= 5) x.Add(U256::From(1));
}

uint128 Magnitude(int128 v) { return v < 0 ? static_cast<uint128>(-v) : static_cast<uint128>(v); }

// Converts a signed magnitude back, checking the 38-digit limit.
bool Finish(const U256& magnitude, bool negative, int128* out) {
  if (!magnitude.FitsU128()) return false;
  uint128 m = magnitude.ToU128();
  if (m >= static_cast<uint128>(Pow10(kMaxDecimalPrecision))) return false;
  *out = negative ? -static_cast<int128>(m) : static_cast<int128>(m);
  return true;
}

// Brings a magnitude from `from` to `to` scale.
bool ScaleMagnitude(U256& x, int from, int to) {
  if (to >= from) return MulPow10(x, to - from);
  DivPow10Round(x, from - to);
  return true;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The bytes of the character at s[i]: a well-formed sequence, or one byte
// that is not part of one (each such byte counts as a character of its own,
// so invalid bytes never shorten a length).
size_t CharLength(std::string_view s, size_t i) {
  size_t n = Utf8SequenceLength(s, i);
  return n == 0 ? 1 : n;
}

// Byte offset of the code point with 0-based index `n`, or s.size().
size_t OffsetOfCodePoint(std::string_view s, int64_t n) {
  if (n <= 0) return 0;
  int64_t seen = 0;
  for (size_t i = 0; i < s.size(); i += CharLength(s, i)) {
    if (seen == n) return i;
    ++seen;
  }
  return s.size();
}

// Case mapping for one code point in the covered ranges.
char32_t MapCase(char32_t c, bool upper) {
  if (c < 0x80) {
    if (upper && c >= 'a' && c <= 'z') return c - 32;
    if (!upper && c >= 'A' && c <= 'Z') return c + 32;
    return c;
  }
  // Latin-1 Supplement: U+00C0..U+00DE <-> U+00E0..U+00FE, except × and ÷.
  if (c >= 0xC0 && c <= 0xFE && c != 0xD7 && c != 0xF7) {
    if (upper && c >= 0xE0 && c != 0xFF) return c - 0x20;
    if (!upper && c <= 0xDE) return c + 0x20;
    return c;
  }
  if (upper && c == 0xFF) return 0x178;
  if (!upper && c == 0x178) return 0xFF;
  // Latin Extended-A: pairs (even upper, odd lower) with the exceptions of
  // U+0130..U+0131, U+0138 and U+0149 and the odd-upper run U+0139..U+0148
  // and U+0179..U+017E.
  if (c >= 0x100 && c <= 0x17F) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F) return c;
    bool is_upper = odd_upper ? (c % 2 == 1) : (c % 2 == 0);
    if (upper && !is_upper) return c - 1;
    if (!upper && is_upper) return c + 1;
  }
  return c;
}

std::string MapCaseString(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += static_cast<char>(MapCase(b, upper));
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0 && Utf8SequenceLength(s, i) == 2) {
      char32_t c = ((b & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
      char32_t m = MapCase(c, upper);
      out += static_cast<char>(0xC0 | (m >> 6));
      out += static_cast<char>(0x80 | (m & 0x3F));
      i += 2;
      continue;
    }
    out += s[i];
    ++i;
  }
  return out;
}

int Digit(char c) { return c >= '0' && c <= '9' ? c - '0' : -1; }

}  // namespace

int128 Pow10(int n) {
  int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

bool FitsPrecision(int128 v, int precision) {
  return Magnitude(v) < static_cast<uint128>(Pow10(precision));
}

bool Rescale(int128 v, int from_scale, int to_scale, int128* out) {
  U256 m = U256::From(Magnitude(v));
  if (!ScaleMagnitude(m, from_scale, to_scale)) return false;
  return Finish(m, v < 0, out);
}

bool DecimalAdd(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out) {
  int scale = std::max(scale_a, scale_b);
  U256 x = U256::From(Magnitude(a));
  U256 y = U256::From(Magnitude(b));
  MulPow10(x, scale - scale_a);
  MulPow10(y, scale - scale_b);
  bool negative;
  if ((a < 0) == (b < 0)) {
    x.Add(y);
    negative = a < 0;
  } else if (x.Compare(y) >= 0) {
    x.Sub(y);
    negative = a < 0;
  } else {
    y.Sub(x);
    x = y;
    negative = b < 0;
  }
  if (x.IsZero()) negative = false;
  if (!ScaleMagnitude(x, scale, scale_out)) return false;
  if (x.IsZero()) negative = false;
  return Finish(x, negative, out);
}

bool DecimalSubtract(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out) {
  return DecimalAdd(a, scale_a, -b, scale_b, scale_out, out);
}

bool DecimalMultiply(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out) {
  U256 m = Multiply(Magnitude(a), Magnitude(b));
  if (!ScaleMagnitude(m, scale_a + scale_b, scale_out)) return false;
  bool negative = ((a < 0) != (b < 0)) && !m.IsZero();
  return Finish(m, negative, out);
}

bool DecimalDivide(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out,
                   bool* division_by_zero) {
  *division_by_zero = b == 0;
  if (b == 0) return false;
  // a / b at scale_out = a * 10^(scale_out - scale_a + scale_b) / b.
  int shift = scale_out - scale_a + scale_b;
  U256 n = U256::From(Magnitude(a));
  uint128 d = Magnitude(b);
  if (shift < 0) {
    // Dividing the numerator loses digits; scale the divisor up instead.
    U256 dd = U256::From(d);
    if (!MulPow10(dd, -shift) || !dd.FitsU128() || dd.ToU128() >> 127 != 0) {
      // The divisor is so large that the quotient rounds to zero.
      *out = 0;
      return true;
    }
    d = dd.ToU128();
  } else if (!MulPow10(n, shift)) {
    return false;  // the quotient cannot fit 38 digits: |b| < 10^38
  }
  uint128 rem = n.DivU128(d);
  if (rem >= d - rem) n.Add(U256::From(1));  // 2 * rem >= d, without overflow
  bool negative = ((a < 0) != (b < 0)) && !n.IsZero();
  return Finish(n, negative, out);
}

bool DecimalModulo(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out,
                   bool* division_by_zero) {
  *division_by_zero = b == 0;
  if (b == 0) return false;
  int scale = std::max(scale_a, scale_b);
  U256 x = U256::From(Magnitude(a));
  U256 y = U256::From(Magnitude(b));
  MulPow10(x, scale - scale_a);
  MulPow10(y, scale - scale_b);
  if (!y.FitsU128()) {  // |b| > |a| at this scale: the remainder is a
    return Rescale(a, scale_a, scale_out, out);
  }
  U256 r = U256::From(x.DivU128(y.ToU128()));
  // The sign of a remainder follows the dividend, as in C and SQL.
  if (!ScaleMagnitude(r, scale, scale_out)) return false;
  return Finish(r, a < 0 && !r.IsZero(), out);
}

int DecimalCompare(int128 a, int scale_a, int128 b, int scale_b) {
  if ((a < 0) != (b < 0)) return a < 0 ? -1 : 1;
  int scale = std::max(scale_a, scale_b);
  U256 x = U256::From(Magnitude(a));
  U256 y = U256::From(Magnitude(b));
  MulPow10(x, scale - scale_a);
  MulPow10(y, scale - scale_b);
  int c = x.Compare(y);
  return a < 0 ? -c : c;
}

std::optional<int128> ParseDecimal(std::string_view text, int scale) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  U256 m;
  int digits = 0;
  int fraction = 0;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    if (text[i] == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    int d = Digit(text[i]);
    if (d < 0) return std::nullopt;
    if (!m.MulU64(10) || !m.Add(U256::From(static_cast<uint128>(d)))) return std::nullopt;
    ++digits;
    if (in_fraction) ++fraction;
    if (digits > 2 * kMaxDecimalPrecision + 2) return std::nullopt;
  }
  if (digits == 0) return std::nullopt;
  if (!ScaleMagnitude(m, fraction, scale)) return std::nullopt;
  int128 out;
  if (!Finish(m, negative && !m.IsZero(), &out)) return std::nullopt;
  return out;
}

std::string FormatDecimal(int128 v, int scale) {
  uint128 m = Magnitude(v);
  std::string digits;
  do {
    digits += static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
  } while (m != 0);
  while (static_cast<int>(digits.size()) <= scale) digits += '0';
  std::reverse(digits.begin(), digits.end());
  if (scale > 0) digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  if (v < 0) digits.insert(digits.begin(), '-');
  return digits;
}

double DecimalToDouble(int128 v, int scale) {
  // Through text: correctly rounded, and not on any hot path that matters.
  std::string text = FormatDecimal(v, scale);
  return std::strtod(text.c_str(), nullptr);
}

std::optional<int128> DoubleToDecimal(double d, int scale) {
  if (!std::isfinite(d) || std::fabs(d) >= 1e38) return std::nullopt;
  // A finite double is exactly mantissa * 2^exponent with an integer
  // mantissa below 2^53. The result is that exact value times 10^scale,
  // rounded once, half away from zero: no intermediate text, so no double
  // rounding (0.04999999999 to scale 1 is 0.0, not 0.1).
  int exponent = 0;
  double fraction = std::frexp(std::fabs(d), &exponent);  // in [0.5, 1), or 0
  auto mantissa = static_cast<uint64_t>(std::ldexp(fraction, 53));
  exponent -= 53;
  U256 m = U256::From(mantissa);
  // mantissa * 10^scale < 2^53 * 10^38 < 2^180: no overflow.
  if (!MulPow10(m, std::clamp(scale, 0, kMaxDecimalPrecision))) return std::nullopt;
  if (exponent >= 0) {
    // |d| < 1e38 < 2^127, so m * 2^exponent < 2^127 * 10^38 < 2^254.
    for (int left = exponent; left > 0;) {
      int step = std::min(left, 63);
      if (!m.MulU64(uint64_t{1} << step)) return std::nullopt;
      left -= step;
    }
  } else if (-exponent > 200) {
    m = U256();  // below 2^180 / 2^201: less than half a unit, rounds to 0
  } else {
    // Shift right by all bits but one, then round on the last one.
    for (int right = -exponent - 1; right > 0;) {
      int step = std::min(right, 63);
      m.DivU64(uint64_t{1} << step);
      right -= step;
    }
    if (m.DivU64(2) != 0) m.Add(U256::From(1));
  }
  int128 out;
  if (!Finish(m, std::signbit(d) && !m.IsZero(), &out)) return std::nullopt;
  return out;
}

bool DecimalRound(int128 v, int scale, int64_t digits, int128* out) {
  if (digits >= scale) {
    *out = v;
    return true;
  }
  int target = static_cast<int>(std::max<int64_t>(digits, -kMaxDecimalPrecision));
  // Dropping `scale - target` digits, then restoring the scale with zeros.
  U256 m = U256::From(Magnitude(v));
  DivPow10Round(m, scale - target);
  if (!MulPow10(m, scale - target)) return false;
  return Finish(m, v < 0 && !m.IsZero(), out);
}

std::optional<int64_t> FloatToInt(double d) {
  double r = std::round(d);
  if (!std::isfinite(r) || r >= 9.2233720368547758e18 || r < -9.2233720368547758e18)
    return std::nullopt;
  return static_cast<int64_t>(r);
}

std::optional<int64_t> ParseInt(std::string_view text) {
  std::string_view s = Trim(text);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (!s.empty() && (s[0] == '-' || s[0] == '+') && Trim(text)[0] == '+') return std::nullopt;
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return i;
}

std::optional<double> ParseFloat(std::string_view text) {
  std::string_view s = Trim(text);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (!s.empty() && (s[0] == '-' || s[0] == '+') && Trim(text)[0] == '+') return std::nullopt;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

double RoundFloat(double d, int64_t digits) {
  if (digits > 300 || digits < -300 || !std::isfinite(d)) return d;
  double scale = std::pow(10.0, static_cast<double>(digits));
  return std::round(d * scale) / scale;
}

std::optional<int64_t> RoundInt(int64_t v, int64_t digits) {
  if (digits >= 0) return v;
  // |v| < 10^19 < 10^38 / 2: rounding to 10^38 or more always gives 0.
  if (digits < -kMaxDecimalPrecision) return 0;
  // In 128 bits, so 10^19 and beyond (which no int64 holds) round correctly:
  // round(9000000000000000000, -19) is 10^19, an overflow, not 0.
  int128 p = Pow10(static_cast<int>(-digits));
  int128 q = v / p;
  int128 rem = v % p;
  if (2 * rem >= p) ++q;
  if (-2 * rem >= p) --q;
  int128 r = q * p;  // |q| <= 1 whenever p > 10^19, so |r| <= 10^38
  if (r > INT64_MAX || r < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(r);
}

std::optional<int64_t> DecimalToInt(int128 v, int scale) {
  int128 r;
  if (!Rescale(v, scale, 0, &r)) return std::nullopt;
  if (r > INT64_MAX || r < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(r);
}

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = at(i);
  if (b < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) low = 0xA0;   // overlong
    if (b == 0xED) high = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) low = 0x90;   // overlong
    if (b == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n || at(i + 1) < low || at(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((at(i + k) & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == s.size(); }

size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return i;
    i += n;
  }
  return i;
}

std::string EscapeInvalidUtf8(std::string_view s) {
  size_t first = FirstInvalidUtf8(s);
  if (first == s.size()) return std::string(s);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(s.substr(0, first));
  for (size_t i = first; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    auto b = static_cast<unsigned char>(s[i++]);
    out += "\\x";
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

size_t CodePointLength(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += CharLength(s, i)) ++n;
  return n;
}

std::string Upper(std::string_view s) { return MapCaseString(s, true); }
std::string Lower(std::string_view s) { return MapCaseString(s, false); }

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  return s.substr(i);
}

std::string_view TrimRight(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && IsSpace(s[n - 1])) --n;
  return s.substr(0, n);
}

std::string_view Trim(std::string_view s) { return TrimRight(TrimLeft(s)); }

std::string_view Substring(std::string_view s, int64_t start, int64_t count) {
  if (count <= 0) return {};
  int64_t first = std::max<int64_t>(start, 1) - 1;
  // A start before 1 uses up part of the count, as in SQL; a sum past the
  // int64 range just means "to the end".
  int64_t start0 = start == INT64_MIN ? INT64_MIN : start - 1;
  int64_t end = 0;
  if (__builtin_add_overflow(start0, count, &end)) end = INT64_MAX;  // count > 0 here
  if (end <= first) return {};
  size_t begin = OffsetOfCodePoint(s, first);
  size_t stop = OffsetOfCodePoint(s, end);
  return s.substr(begin, stop - begin);
}

std::string_view Left(std::string_view s, int64_t count) {
  if (count <= 0) return {};
  return s.substr(0, OffsetOfCodePoint(s, count));
}

std::string_view Right(std::string_view s, int64_t count) {
  if (count <= 0) return {};
  int64_t length = static_cast<int64_t>(CodePointLength(s));
  if (count >= length) return s;
  return s.substr(OffsetOfCodePoint(s, length - count));
}

std::string Replace(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string_view TruncateBytes(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string_view TruncateCodePoints(std::string_view s, int64_t max_code_points) {
  return s.substr(0, OffsetOfCodePoint(s, max_code_points));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  int64_t era = FloorDiv(year, 400);
  auto yoe = static_cast<unsigned>(year - era * 400);
  unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t days_since_epoch, int64_t* year, unsigned* month, unsigned* day) {
  // In 128 bits: shifting the epoch must not overflow near the int64 limits.
  int128 days = static_cast<int128>(days_since_epoch) + 719468;
  int128 era = days >= 0 ? days / 146097 : (days - 146096) / 146097;
  auto doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(static_cast<int128>(yoe) + era * 400 + (*month <= 2));
}

std::optional<int64_t> ParseDate(std::string_view text) {
  // YYYY-MM-DD exactly.
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  for (size_t i : {0, 1, 2, 3}) {
    if (Digit(text[i]) < 0) return std::nullopt;
    year = year * 10 + Digit(text[i]);
  }
  for (size_t i : {5, 6}) {
    if (Digit(text[i]) < 0) return std::nullopt;
    month = month * 10 + static_cast<unsigned>(Digit(text[i]));
  }
  for (size_t i : {8, 9}) {
    if (Digit(text[i]) < 0) return std::nullopt;
    day = day * 10 + static_cast<unsigned>(Digit(text[i]));
  }
  if (month < 1 || month > 12 || day < 1) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y != year || m != month || d != day) return std::nullopt;  // Feb 30 and friends
  return days;
}

std::optional<int64_t> ParseDateTime(std::string_view text) {
  if (text.size() < 19 || (text[10] != 'T' && text[10] != ' ')) return std::nullopt;
  std::optional<int64_t> days = ParseDate(text.substr(0, 10));
  if (!days || text[13] != ':' || text[16] != ':') return std::nullopt;
  int64_t parts[3] = {0, 0, 0};
  for (int p = 0; p < 3; ++p) {
    for (size_t i :
         {size_t{11} + 3 * static_cast<size_t>(p), size_t{12} + 3 * static_cast<size_t>(p)}) {
      if (Digit(text[i]) < 0) return std::nullopt;
      parts[p] = parts[p] * 10 + Digit(text[i]);
    }
  }
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
  std::string_view rest = text.substr(19);
  int64_t micros = 0;
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && Digit(rest[0]) >= 0) {
      if (++digits > 6) return std::nullopt;
      micros = micros * 10 + Digit(rest[0]);
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  if (rest == "Z") rest.remove_prefix(1);
  if (!rest.empty()) return std::nullopt;
  return *days * kMicrosPerDay + ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1'000'000 + micros;
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buffer;
}

std::string FormatDateTime(int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - days * kMicrosPerDay;
  int64_t seconds = rest / 1'000'000;
  int64_t fraction = rest % 1'000'000;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%sT%02lld:%02lld:%02lld.%06lldZ", FormatDate(days).c_str(),
                static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
                static_cast<long long>(seconds % 60), static_cast<long long>(fraction));
  return buffer;
}

std::string FormatGuid(const std::array<uint8_t, 16>& guid) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", guid[0],
                guid[1], guid[2], guid[3], guid[4], guid[5], guid[6], guid[7], guid[8], guid[9],
                guid[10], guid[11], guid[12], guid[13], guid[14], guid[15]);
  return buffer;
}

std::optional<std::array<uint8_t, 16>> ParseGuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::array<uint8_t, 16> out{};
  size_t j = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(text[i]);
    int lo = hex(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[j++] = static_cast<uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "nan";  // whatever its sign bit, which optimisers may flip
  char buffer[64];
  auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
  return ec == std::errc() ? std::string(buffer, ptr) : std::string("nan");
}

}  // namespace duet::value
