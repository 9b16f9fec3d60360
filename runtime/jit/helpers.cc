#include "runtime/jit/helpers.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/value/ops.h"

// The arena: chunks of at least 64 KiB, bump-allocated, kept across Reset()
// so a steady stream of rows allocates nothing.
struct duet_arena {
  std::vector<std::unique_ptr<char[]>> chunks;
  std::vector<size_t> sizes;
  size_t current = 0;  // index of the chunk being filled
  size_t used = 0;     // bytes used in it
};

namespace {

using duet::value::int128;
__extension__ typedef unsigned __int128 uint128;

int128 Load(const duet_decimal* d) {
  return static_cast<int128>((static_cast<uint128>(static_cast<uint64_t>(d->hi)) << 64) | d->lo);
}

void Store(int128 v, duet_decimal* out) {
  out->lo = static_cast<uint64_t>(v);
  out->hi = static_cast<int64_t>(v >> 64);
}

int32_t SetString(duet_ctx* ctx, std::string_view s, duet_string* out) {
  char* p = duet_rt_alloc(ctx, s.size());
  if (p == nullptr && !s.empty()) return DUET_ERR_OUT_OF_MEMORY;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  out->data = p;
  out->length = static_cast<uint32_t>(s.size());
  return 0;
}

std::string_view View(const char* s, uint32_t length) {
  return std::string_view(s == nullptr ? "" : s, length);
}

// Generated code has no unwind tables and calls the helpers through extern "C"
// frames, so no exception may leave a helper. The value operations throw only
// when memory runs out (std::bad_alloc, or std::length_error from a string);
// Guarded runs `f` and turns any exception into DUET_ERR_OUT_OF_MEMORY, which
// fails the row like the arena running out does.
template <typename F>
int32_t Guarded(F f) noexcept {
  try {
    return f();
  } catch (...) {
    return DUET_ERR_OUT_OF_MEMORY;
  }
}

}  // namespace

extern "C" {

char* duet_rt_alloc(duet_ctx* ctx, uint64_t size) {
  duet_arena* a = ctx->arena;
  size = (size + 7) & ~uint64_t{7};
  while (a->current < a->chunks.size()) {
    if (a->used + size <= a->sizes[a->current]) {
      char* p = a->chunks[a->current].get() + a->used;
      a->used += size;
      return p;
    }
    ++a->current;
    a->used = 0;
  }
  size_t chunk = std::max<size_t>(size, size_t{64} << 10);
  std::unique_ptr<char[]> memory(new (std::nothrow) char[chunk]);
  if (memory == nullptr) return nullptr;
  // Room in both lists first, so a failure leaves them consistent.
  try {
    a->chunks.reserve(a->chunks.size() + 1);
    a->sizes.reserve(a->sizes.size() + 1);
  } catch (...) {
    return nullptr;
  }
  a->chunks.push_back(std::move(memory));
  a->sizes.push_back(chunk);
  a->current = a->chunks.size() - 1;
  a->used = size;
  return a->chunks.back().get();
}

int32_t duet_rt_fail(duet_ctx* ctx, int32_t kind, int32_t slot, const char* message) {
  ctx->error_kind = kind;
  ctx->error_slot = slot;
  std::string_view text = duet::value::TruncateBytes(message, sizeof ctx->error_message - 1);
  std::memcpy(ctx->error_message, text.data(), text.size());
  ctx->error_message[text.size()] = '\0';
  return DUET_ERROR;
}

int32_t duet_rt_slot_error(duet_ctx* ctx, int32_t kind, int32_t slot, const char* message) {
  if (ctx->slot_errors == nullptr) return duet_rt_fail(ctx, kind, slot, message);
  static_cast<std::vector<duet::jit::Context::SlotError>*>(ctx->slot_errors)
      ->push_back({slot, kind, message});
  return DUET_OK;
}

int32_t duet_rt_dec_arith(int32_t op, const duet_decimal* a, int32_t scale_a, const duet_decimal* b,
                          int32_t scale_b, int32_t scale_out, int32_t precision,
                          duet_decimal* out) {
  return Guarded([&]() -> int32_t {
    int128 x = Load(a), y = Load(b), r = 0;
    bool ok = false;
    bool by_zero = false;
    switch (op) {
      case 0:
        ok = duet::value::DecimalAdd(x, scale_a, y, scale_b, scale_out, &r);
        break;
      case 1:
        ok = duet::value::DecimalSubtract(x, scale_a, y, scale_b, scale_out, &r);
        break;
      case 2:
        ok = duet::value::DecimalMultiply(x, scale_a, y, scale_b, scale_out, &r);
        break;
      case 3:
        ok = duet::value::DecimalDivide(x, scale_a, y, scale_b, scale_out, &r, &by_zero);
        break;
      default:
        ok = duet::value::DecimalModulo(x, scale_a, y, scale_b, scale_out, &r, &by_zero);
        break;
    }
    if (by_zero) return DUET_ERR_DIVISION_BY_ZERO;
    if (!ok || !duet::value::FitsPrecision(r, precision)) return DUET_ERR_DECIMAL_OVERFLOW;
    Store(r, out);
    return 0;
  });
}

int32_t duet_rt_dec_cmp(const duet_decimal* a, int32_t scale_a, const duet_decimal* b,
                        int32_t scale_b) {
  return duet::value::DecimalCompare(Load(a), scale_a, Load(b), scale_b);
}

int32_t duet_rt_dec_rescale(const duet_decimal* a, int32_t from_scale, int32_t to_scale,
                            int32_t precision, duet_decimal* out) {
  return Guarded([&]() -> int32_t {
    int128 r = 0;
    if (!duet::value::Rescale(Load(a), from_scale, to_scale, &r) ||
        !duet::value::FitsPrecision(r, precision)) {
      return DUET_ERR_DECIMAL_OVERFLOW;
    }
    Store(r, out);
    return 0;
  });
}

int32_t duet_rt_dec_from_int(int64_t v, int32_t scale, int32_t precision, duet_decimal* out) {
  return Guarded([&]() -> int32_t {
    int128 r = 0;
    if (!duet::value::Rescale(v, 0, scale, &r) || !duet::value::FitsPrecision(r, precision)) {
      return DUET_ERR_DECIMAL_OVERFLOW;
    }
    Store(r, out);
    return 0;
  });
}

int32_t duet_rt_dec_from_float(double v, int32_t scale, int32_t precision, duet_decimal* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int128> r = duet::value::DoubleToDecimal(v, scale);
    if (!r) return DUET_ERR_BAD_CONVERSION;
    if (!duet::value::FitsPrecision(*r, precision)) return DUET_ERR_DECIMAL_OVERFLOW;
    Store(*r, out);
    return 0;
  });
}

double duet_rt_dec_to_float(const duet_decimal* a, int32_t scale) {
  // value::DecimalToDouble without its std::string, so nothing can throw and
  // no status is needed: strtod correctly rounds the exact value, and
  // "DIGITSe-SCALE" is the same exact value as FormatDecimal's text.
  int128 v = Load(a);
  uint128 m = v < 0 ? -static_cast<uint128>(v) : static_cast<uint128>(v);
  char digits[40];  // a 128-bit magnitude has at most 39 digits
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
  } while (m != 0);
  char text[64];
  size_t at = 0;
  if (v < 0) text[at++] = '-';
  while (n > 0) text[at++] = digits[--n];
  std::snprintf(text + at, sizeof text - at, "e-%d", static_cast<int>(scale));
  return std::strtod(text, nullptr);
}

int32_t duet_rt_dec_to_int(const duet_decimal* a, int32_t scale, int64_t* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int64_t> r = duet::value::DecimalToInt(Load(a), scale);
    if (!r) return DUET_ERR_INT_OVERFLOW;
    *out = *r;
    return 0;
  });
}

int32_t duet_rt_dec_fits(const duet_decimal* a, int32_t precision) {
  return duet::value::FitsPrecision(Load(a), precision) ? 1 : 0;
}

int32_t duet_rt_dec_round(const duet_decimal* a, int32_t scale, int64_t digits, int32_t precision,
                          duet_decimal* out) {
  return Guarded([&]() -> int32_t {
    int128 r = 0;
    if (!duet::value::DecimalRound(Load(a), scale, digits, &r) ||
        !duet::value::FitsPrecision(r, precision)) {
      return DUET_ERR_DECIMAL_OVERFLOW;
    }
    Store(r, out);
    return 0;
  });
}

int32_t duet_rt_str_cmp(const char* a, uint32_t a_length, const char* b, uint32_t b_length) {
  int c = View(a, a_length).compare(View(b, b_length));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

uint64_t duet_rt_str_length(const char* s, uint32_t length) {
  return duet::value::CodePointLength(View(s, length));
}

uint32_t duet_rt_str_prefix(const char* s, uint32_t length, int64_t max_code_points) {
  return static_cast<uint32_t>(
      duet::value::TruncateCodePoints(View(s, length), max_code_points).size());
}

int32_t duet_rt_str_unary(duet_ctx* ctx, int32_t fn, const char* s, uint32_t length,
                          duet_string* out) {
  return Guarded([&]() -> int32_t {
    std::string_view in = View(s, length);
    switch (fn) {
      case 0:
        return SetString(ctx, duet::value::Upper(in), out);
      case 1:
        return SetString(ctx, duet::value::Lower(in), out);
      case 2:
        in = duet::value::Trim(in);
        break;
      case 3:
        in = duet::value::TrimLeft(in);
        break;
      default:
        in = duet::value::TrimRight(in);
        break;
    }
    // Trimming returns a view into the input, which outlives the row.
    out->data = in.data();
    out->length = static_cast<uint32_t>(in.size());
    return 0;
  });
}

int32_t duet_rt_str_slice(int32_t fn, const char* s, uint32_t length, int64_t a, int64_t b,
                          duet_string* out) {
  return Guarded([&]() -> int32_t {
    std::string_view in = View(s, length);
    std::string_view r = fn == 0   ? duet::value::Substring(in, a, b)
                         : fn == 1 ? duet::value::Left(in, a)
                                   : duet::value::Right(in, a);
    out->data = r.data();
    out->length = static_cast<uint32_t>(r.size());
    return 0;
  });
}

int32_t duet_rt_str_replace(duet_ctx* ctx, const char* s, uint32_t length, const char* from,
                            uint32_t from_length, const char* to, uint32_t to_length,
                            duet_string* out) {
  return Guarded([&]() -> int32_t {
    return SetString(
        ctx, duet::value::Replace(View(s, length), View(from, from_length), View(to, to_length)),
        out);
  });
}

int32_t duet_rt_str_concat(duet_ctx* ctx, const duet_string* parts, int32_t count,
                           duet_string* out) {
  uint64_t total = 0;
  for (int32_t i = 0; i < count; ++i) total += parts[i].length;
  char* p = duet_rt_alloc(ctx, total);
  if (p == nullptr && total > 0) return DUET_ERR_OUT_OF_MEMORY;
  uint64_t at = 0;
  for (int32_t i = 0; i < count; ++i) {
    if (parts[i].length > 0) std::memcpy(p + at, parts[i].data, parts[i].length);
    at += parts[i].length;
  }
  out->data = p;
  out->length = static_cast<uint32_t>(total);
  return 0;
}

int32_t duet_rt_to_string(duet_ctx* ctx, const duet_value* v, duet_string* out) {
  return Guarded([&]() -> int32_t {
    std::string text;
    switch (v->tag) {
      case DUET_BOOL:
        text = v->u.i != 0 ? "true" : "false";
        break;
      case DUET_INT:
        text = std::to_string(v->u.i);
        break;
      case DUET_FLOAT:
        text = duet::value::FormatFloat(v->u.f);
        break;
      case DUET_DECIMAL:
        text = duet::value::FormatDecimal(Load(&v->u.d), v->scale);
        break;
      case DUET_STRING:
        out->data = v->u.s;
        out->length = v->length;
        return 0;
      case DUET_DATE:
        text = duet::value::FormatDate(v->u.i);
        break;
      case DUET_DATETIME:
        text = duet::value::FormatDateTime(v->u.i);
        break;
      case DUET_GUID: {
        std::array<uint8_t, 16> g;
        std::memcpy(g.data(), v->u.guid, 16);
        text = duet::value::FormatGuid(g);
        break;
      }
      default:
        text = "null";
    }
    return SetString(ctx, text, out);
  });
}

int32_t duet_rt_parse_int(const char* s, uint32_t length, int64_t* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int64_t> r = duet::value::ParseInt(View(s, length));
    if (!r) return DUET_ERR_BAD_CONVERSION;
    *out = *r;
    return 0;
  });
}

int32_t duet_rt_parse_float(const char* s, uint32_t length, double* out) {
  return Guarded([&]() -> int32_t {
    std::optional<double> r = duet::value::ParseFloat(View(s, length));
    if (!r) return DUET_ERR_BAD_CONVERSION;
    *out = *r;
    return 0;
  });
}

int32_t duet_rt_parse_date(const char* s, uint32_t length, int64_t* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int64_t> r = duet::value::ParseDate(duet::value::Trim(View(s, length)));
    if (!r) return DUET_ERR_BAD_CONVERSION;
    *out = *r;
    return 0;
  });
}

int32_t duet_rt_float_to_int(double d, int64_t* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int64_t> r = duet::value::FloatToInt(d);
    if (!r) return std::isnan(d) ? DUET_ERR_BAD_CONVERSION : DUET_ERR_INT_OVERFLOW;
    *out = *r;
    return 0;
  });
}

double duet_rt_round_float(double d, int64_t digits) { return duet::value::RoundFloat(d, digits); }

int32_t duet_rt_round_int(int64_t v, int64_t digits, int64_t* out) {
  return Guarded([&]() -> int32_t {
    std::optional<int64_t> r = duet::value::RoundInt(v, digits);
    if (!r) return DUET_ERR_INT_OVERFLOW;
    *out = *r;
    return 0;
  });
}

double duet_rt_fmod(double a, double b) { return std::fmod(a, b); }

int64_t duet_rt_civil(int64_t days, int32_t part) {
  int64_t y;
  unsigned m, d;
  duet::value::CivilFromDays(days, &y, &m, &d);
  return part == 0 ? y : part == 1 ? m : d;
}

int64_t duet_rt_floor_div(int64_t a, int64_t b) { return duet::value::FloorDiv(a, b); }

}  // extern "C"

namespace duet::jit {

std::span<const HelperSymbol> HelperSymbols() {
#define DUET_HELPER(name) \
  HelperSymbol { #name, reinterpret_cast < void*>(&name) }
  static const std::array kSymbols = {
      DUET_HELPER(duet_rt_alloc),          DUET_HELPER(duet_rt_fail),
      DUET_HELPER(duet_rt_dec_arith),      DUET_HELPER(duet_rt_dec_cmp),
      DUET_HELPER(duet_rt_dec_rescale),    DUET_HELPER(duet_rt_dec_from_int),
      DUET_HELPER(duet_rt_dec_from_float), DUET_HELPER(duet_rt_dec_to_float),
      DUET_HELPER(duet_rt_dec_to_int),     DUET_HELPER(duet_rt_dec_fits),
      DUET_HELPER(duet_rt_dec_round),      DUET_HELPER(duet_rt_str_cmp),
      DUET_HELPER(duet_rt_str_length),     DUET_HELPER(duet_rt_str_prefix),
      DUET_HELPER(duet_rt_str_unary),      DUET_HELPER(duet_rt_str_slice),
      DUET_HELPER(duet_rt_str_replace),    DUET_HELPER(duet_rt_str_concat),
      DUET_HELPER(duet_rt_to_string),      DUET_HELPER(duet_rt_parse_int),
      DUET_HELPER(duet_rt_parse_float),    DUET_HELPER(duet_rt_parse_date),
      DUET_HELPER(duet_rt_float_to_int),   DUET_HELPER(duet_rt_round_float),
      DUET_HELPER(duet_rt_round_int),      DUET_HELPER(duet_rt_fmod),
      DUET_HELPER(duet_rt_civil),          DUET_HELPER(duet_rt_floor_div),
      DUET_HELPER(duet_rt_slot_error),
  };
#undef DUET_HELPER
  return kSymbols;
}

Context::Context() {
  std::memset(&ctx_, 0, sizeof ctx_);
  ctx_.arena = new duet_arena();
  ctx_.error_slot = -1;
}

Context::~Context() { delete ctx_.arena; }

void Context::Reset() {
  ctx_.arena->current = 0;
  ctx_.arena->used = 0;
  ctx_.error_kind = DUET_ERR_NONE;
  ctx_.error_slot = -1;
  ctx_.error_message[0] = '\0';
  slot_errors_.clear();
}

}  // namespace duet::jit
