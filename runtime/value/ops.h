// Value semantics shared by every way duet evaluates a transform: the
// reference interpreter (compiler/interp) and the helpers generated code calls
// (runtime/jit). One implementation, so the two can only differ in the code
// that strings these operations together — which is what differential tests
// compare. docs/abi.md states the semantics in prose.
#ifndef DUET_RUNTIME_VALUE_OPS_H_
#define DUET_RUNTIME_VALUE_OPS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duet::value {

__extension__ typedef __int128 int128;

inline constexpr int kMaxDecimalPrecision = 38;

// 10^n for 0 <= n <= 38.
int128 Pow10(int n);

// Whether |v| < 10^precision.
bool FitsPrecision(int128 v, int precision);

// ---- decimals: unscaled integers with a scale. Every operation rounds half
// away from zero to the requested scale and fails (returns false) when the
// result has more than 38 digits. ----

bool Rescale(int128 v, int from_scale, int to_scale, int128* out);
bool DecimalAdd(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out);
bool DecimalSubtract(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out);
bool DecimalMultiply(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out);
// Fails on division by zero too; `*division_by_zero` says which.
bool DecimalDivide(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out,
                   bool* division_by_zero);
bool DecimalModulo(int128 a, int scale_a, int128 b, int scale_b, int scale_out, int128* out,
                   bool* division_by_zero);
// -1, 0, 1.
int DecimalCompare(int128 a, int scale_a, int128 b, int scale_b);

// "-12.50" at scale 2 -> -1250. Accepts an optional sign, digits, an optional
// fraction; rounds extra fraction digits. nullopt if malformed or too large.
std::optional<int128> ParseDecimal(std::string_view text, int scale);
// -1250 at scale 2 -> "-12.50".
std::string FormatDecimal(int128 v, int scale);
double DecimalToDouble(int128 v, int scale);
// nullopt for NaN, infinities and values too large for 38 digits.
std::optional<int128> DoubleToDecimal(double d, int scale);

// Rounds to `digits` decimals (negative: tens, hundreds, ...) and keeps the
// value's own scale; false on overflow.
bool DecimalRound(int128 v, int scale, int64_t digits, int128* out);

// ---- integers and floats ----

// Rounds half away from zero; nullopt when out of int64 range.
std::optional<int64_t> DecimalToInt(int128 v, int scale);
std::optional<int64_t> FloatToInt(double d);
// Text with optional surrounding spaces; nullopt unless the whole text is one
// number.
std::optional<int64_t> ParseInt(std::string_view text);
std::optional<double> ParseFloat(std::string_view text);
double RoundFloat(double d, int64_t digits);
// nullopt on overflow.
std::optional<int64_t> RoundInt(int64_t v, int64_t digits);

// ---- strings (UTF-8; lengths and positions count code points) ----

// A byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) counts as one
// character, so invalid bytes can never make a text look shorter.
size_t CodePointLength(std::string_view s);
// The length of the well-formed UTF-8 sequence that starts at s[i]
// (i < s.size()), or 0 when none does.
size_t Utf8SequenceLength(std::string_view s, size_t i);
bool IsValidUtf8(std::string_view s);
// The offset of the first byte that is not part of a well-formed sequence,
// or s.size().
size_t FirstInvalidUtf8(std::string_view s);
// `s` with every byte that is not part of a well-formed sequence written as
// \xNN (lowercase hex); valid text is returned unchanged.
std::string EscapeInvalidUtf8(std::string_view s);
// Upper/lower case of ASCII letters and of the Latin-1 Supplement and Latin
// Extended-A letters; other characters are unchanged.
std::string Upper(std::string_view s);
std::string Lower(std::string_view s);
// Spaces are ' ', '\t', '\n', '\r', '\f', '\v'.
std::string_view Trim(std::string_view s);
std::string_view TrimLeft(std::string_view s);
std::string_view TrimRight(std::string_view s);
// 1-based start; a start before 1 counts from 1, counts below 0 give "".
std::string_view Substring(std::string_view s, int64_t start, int64_t count);
std::string_view Left(std::string_view s, int64_t count);
std::string_view Right(std::string_view s, int64_t count);
std::string Replace(std::string_view s, std::string_view from, std::string_view to);
// `s` as a map-language string literal: in double quotes, with ", \, and
// newline, tab and carriage return escaped.
std::string QuoteString(std::string_view s);
// The longest prefix of at most `max_bytes` bytes that does not cut a
// character (row-error messages fit a fixed buffer this way).
std::string_view TruncateBytes(std::string_view s, size_t max_bytes);
// The longest prefix of at most `max_code_points` code points.
std::string_view TruncateCodePoints(std::string_view s, int64_t max_code_points);

// ---- dates: days since 1970-01-01; datetimes: microseconds since the epoch ----

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
inline constexpr int64_t kMicrosPerDay = 86'400'000'000;
int64_t FloorDiv(int64_t a, int64_t b);
// "2024-02-29" -> days; nullopt if malformed or not a real date.
std::optional<int64_t> ParseDate(std::string_view text);
std::string FormatDate(int64_t days);
// "2024-02-29T13:45:00Z", with an optional fraction of up to 6 digits, 'T' or
// a space between date and time, and 'Z' or nothing (both UTC).
std::optional<int64_t> ParseDateTime(std::string_view text);
std::string FormatDateTime(int64_t micros);  // "2024-02-29T13:45:00.000000Z"
std::string FormatGuid(const std::array<uint8_t, 16>& guid);
std::optional<std::array<uint8_t, 16>> ParseGuid(std::string_view text);
// Shortest text that reads back as the same double ("1.5", "1e+300").
std::string FormatFloat(double d);

}  // namespace duet::value

#endif  // DUET_RUNTIME_VALUE_OPS_H_
