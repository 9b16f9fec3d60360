/* Functions generated transform code calls, by name. Plain C symbols, given
 * to the JIT as absolute addresses (HelperSymbols below), implemented on
 * runtime/value so they mean exactly what the reference interpreter means.
 * Decimals travel by pointer (duet_decimal), strings as pointer + byte length.
 * Functions that can fail return 0 or a duet_error_kind. No helper throws:
 * generated code cannot unwind, so running out of memory (in the arena or in
 * a value operation's std::string) is the status DUET_ERR_OUT_OF_MEMORY, or
 * NULL from duet_rt_alloc. */
#ifndef DUET_RUNTIME_JIT_HELPERS_H_
#define DUET_RUNTIME_JIT_HELPERS_H_

#include <stdint.h>

#include "duet/abi.h"

#ifdef __cplusplus
#include <span>
#include <string_view>
#include <vector>

extern "C" {
#endif

/* Memory for produced strings, valid until duet_ctx_reset. NULL when out of memory. */
char* duet_rt_alloc(duet_ctx* ctx, uint64_t size);
/* Records an error in ctx and returns DUET_ERROR. `message` is static. */
int32_t duet_rt_fail(duet_ctx* ctx, int32_t kind, int32_t slot, const char* message);
/* A value that does not fit output `slot`: DUET_OK when ctx defers slot
 * errors (ctx->slot_errors, noting the error), else as duet_rt_fail. */
int32_t duet_rt_slot_error(duet_ctx* ctx, int32_t kind, int32_t slot, const char* message);

/* op: 0 add, 1 sub, 2 mul, 3 div, 4 mod. Checks the result against `precision`. */
int32_t duet_rt_dec_arith(int32_t op, const duet_decimal* a, int32_t scale_a, const duet_decimal* b,
                          int32_t scale_b, int32_t scale_out, int32_t precision, duet_decimal* out);
int32_t duet_rt_dec_cmp(const duet_decimal* a, int32_t scale_a, const duet_decimal* b,
                        int32_t scale_b);
int32_t duet_rt_dec_rescale(const duet_decimal* a, int32_t from_scale, int32_t to_scale,
                            int32_t precision, duet_decimal* out);
int32_t duet_rt_dec_from_int(int64_t v, int32_t scale, int32_t precision, duet_decimal* out);
int32_t duet_rt_dec_from_float(double v, int32_t scale, int32_t precision, duet_decimal* out);
double duet_rt_dec_to_float(const duet_decimal* a, int32_t scale);
int32_t duet_rt_dec_to_int(const duet_decimal* a, int32_t scale, int64_t* out);
int32_t duet_rt_dec_fits(const duet_decimal* a, int32_t precision);
int32_t duet_rt_dec_round(const duet_decimal* a, int32_t scale, int64_t digits, int32_t precision,
                          duet_decimal* out);

int32_t duet_rt_str_cmp(const char* a, uint32_t a_length, const char* b, uint32_t b_length);
uint64_t duet_rt_str_length(const char* s, uint32_t length);
/* Bytes in the longest prefix of at most max_code_points code points. */
uint32_t duet_rt_str_prefix(const char* s, uint32_t length, int64_t max_code_points);
/* fn: 0 upper, 1 lower, 2 trim, 3 ltrim, 4 rtrim. */
int32_t duet_rt_str_unary(duet_ctx* ctx, int32_t fn, const char* s, uint32_t length,
                          duet_string* out);
/* fn: 0 substr(start, count), 1 left(count), 2 right(count). */
int32_t duet_rt_str_slice(int32_t fn, const char* s, uint32_t length, int64_t a, int64_t b,
                          duet_string* out);
int32_t duet_rt_str_replace(duet_ctx* ctx, const char* s, uint32_t length, const char* from,
                            uint32_t from_length, const char* to, uint32_t to_length,
                            duet_string* out);
/* Joins `count` parts (a null part is passed with length 0). */
int32_t duet_rt_str_concat(duet_ctx* ctx, const duet_string* parts, int32_t count,
                           duet_string* out);
/* Formats a non-null value as to_string does. */
int32_t duet_rt_to_string(duet_ctx* ctx, const duet_value* v, duet_string* out);
int32_t duet_rt_parse_int(const char* s, uint32_t length, int64_t* out);
int32_t duet_rt_parse_float(const char* s, uint32_t length, double* out);
int32_t duet_rt_parse_date(const char* s, uint32_t length, int64_t* out);
int32_t duet_rt_float_to_int(double d, int64_t* out);
double duet_rt_round_float(double d, int64_t digits);
int32_t duet_rt_round_int(int64_t v, int64_t digits, int64_t* out);
double duet_rt_fmod(double a, double b);
/* part: 0 year, 1 month, 2 day of the day count `days`. */
int64_t duet_rt_civil(int64_t days, int32_t part);
int64_t duet_rt_floor_div(int64_t a, int64_t b);

#ifdef __cplusplus
}  // extern "C"

namespace duet::jit {

struct HelperSymbol {
  std::string_view name;
  void* address;
};

// Every helper above, for the JIT's symbol table.
std::span<const HelperSymbol> HelperSymbols();

// Owns the arena behind a duet_ctx. Reset() frees every string of the
// previous row at once.
class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  duet_ctx* get() { return &ctx_; }
  void Reset();

  // A value of the last row that did not fit its output slot. `message` is
  // static (it lives as long as the transform's code).
  struct SlotError {
    int32_t slot;
    int32_t kind;  // duet_error_kind
    const char* message;
  };

  // Defers slot errors to the caller: a transform run with this context
  // stores a null in the slot, lists the error in slot_errors() and goes on.
  void DeferSlotErrors() { ctx_.slot_errors = &slot_errors_; }
  const std::vector<SlotError>& slot_errors() const { return slot_errors_; }

 private:
  duet_ctx ctx_;
  std::vector<SlotError> slot_errors_;
};

}  // namespace duet::jit
#endif

#endif /* DUET_RUNTIME_JIT_HELPERS_H_ */
