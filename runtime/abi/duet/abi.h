/* The C ABI shared by generated transform code and the duet runtime.
 *
 * A row is an array of duet_value, laid out as the bundle's manifest says
 * (source columns and lookup paths in, target columns out). Generated code and
 * the runtime agree on this header only; docs/abi.md is its prose.
 *
 * Semantics that every implementation (JIT code, the reference interpreter,
 * the runtime helpers) follows:
 *  - DUET_NULL is absence of a value; any other tag carries a value.
 *  - Decimals are exact: an integer `unscaled` with `scale` digits after the
 *    point, |unscaled| < 10^38.
 *  - Strings are UTF-8, pointer + byte length, not NUL-terminated. Strings a
 *    transform produces live in the context's arena until duet_ctx_reset.
 *  - Dates count days since 1970-01-01; datetimes count microseconds since
 *    1970-01-01T00:00:00Z.
 */
#ifndef DUET_RUNTIME_ABI_DUET_ABI_H_
#define DUET_RUNTIME_ABI_DUET_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: generated code reports an output's row errors through
 * duet_rt_slot_error (duet_ctx::slot_errors). */
#define DUET_ABI_VERSION 2

typedef enum duet_tag {
  DUET_NULL = 0,
  DUET_BOOL = 1,
  DUET_INT = 2,
  DUET_FLOAT = 3,
  DUET_DECIMAL = 4,
  DUET_STRING = 5,
  DUET_DATE = 6,
  DUET_DATETIME = 7,
  DUET_GUID = 8,
} duet_tag;

typedef struct duet_decimal {
  uint64_t lo; /* low 64 bits of the two's-complement 128-bit unscaled value */
  int64_t hi;  /* high 64 bits */
} duet_decimal;

typedef struct duet_string {
  const char* data;
  uint32_t length; /* bytes */
} duet_string;

typedef struct duet_value {
  uint8_t tag;   /* duet_tag */
  uint8_t scale; /* DUET_DECIMAL: digits after the point, 0..38 */
  uint16_t reserved;
  uint32_t length; /* DUET_STRING: bytes */
  union {
    int64_t i;        /* BOOL (0 or 1), INT, DATE (days), DATETIME (microseconds) */
    double f;         /* FLOAT */
    const char* s;    /* STRING data */
    duet_decimal d;   /* DECIMAL unscaled value */
    uint8_t guid[16]; /* GUID, RFC 4122 byte order */
  } u;
} duet_value;

/* What a transform returns. */
typedef enum duet_status {
  DUET_OK = 0,       /* the output row is complete */
  DUET_FILTERED = 1, /* the source row does not pass the map's filter */
  DUET_ERROR = 2,    /* bad data: the context says why; other rows continue */
} duet_status;

/* Why a row failed; stable numbers, reported in the error queue. */
typedef enum duet_error_kind {
  DUET_ERR_NONE = 0,
  DUET_ERR_STRING_TOO_LONG = 1,
  DUET_ERR_DECIMAL_OVERFLOW = 2,
  DUET_ERR_INT_OVERFLOW = 3,
  DUET_ERR_DIVISION_BY_ZERO = 4,
  DUET_ERR_NO_VALUE_MAPPING = 5,
  DUET_ERR_NULL_IN_NOT_NULL = 6,
  DUET_ERR_BAD_CONVERSION = 7,
  DUET_ERR_OUT_OF_MEMORY = 8,
} duet_error_kind;

typedef struct duet_arena duet_arena; /* opaque; owned by the runtime */

/* Per-thread state for a run of transforms. Reset between rows. */
typedef struct duet_ctx {
  duet_arena* arena;
  int32_t error_kind; /* duet_error_kind */
  int32_t error_slot; /* output slot the error concerns, or -1 */
  char error_message[256];
  /* Owned by the runtime. When set, a value that does not fit its output
   * slot (a null for `not null`, a string too long, a decimal too large) is
   * not an error of the transform: the slot is stored as null, the error is
   * noted here, and the runtime fails the row only if it writes that slot (a
   * slot the other side's value wins is never written). */
  void* slot_errors;
} duet_ctx;

/* Every transform in a bundle has this signature. `in` has the source
 * layout, `out` the target layout. On DUET_ERROR, ctx->error_* are set. */
typedef int32_t (*duet_transform_fn)(const duet_value* in, duet_value* out, duet_ctx* ctx);

#ifdef __cplusplus
}
#endif

#endif /* DUET_RUNTIME_ABI_DUET_ABI_H_ */
