// The names of duet_error_kind values as the runtime's users see them: in
// `duet transform` error lines, in the sync engine's error items and in the
// differential tests' reports. A kind that is not one of them is "error".
#ifndef DUET_RUNTIME_JIT_ERROR_KINDS_H_
#define DUET_RUNTIME_JIT_ERROR_KINDS_H_

#include <cstdint>

#include "duet/abi.h"

namespace duet::jit {

inline const char* ErrorKindName(int32_t kind) {
  switch (kind) {
    case DUET_ERR_NONE:
      return "none";
    case DUET_ERR_STRING_TOO_LONG:
      return "string_too_long";
    case DUET_ERR_DECIMAL_OVERFLOW:
      return "decimal_overflow";
    case DUET_ERR_INT_OVERFLOW:
      return "int_overflow";
    case DUET_ERR_DIVISION_BY_ZERO:
      return "division_by_zero";
    case DUET_ERR_NO_VALUE_MAPPING:
      return "no_value_mapping";
    case DUET_ERR_NULL_IN_NOT_NULL:
      return "null_in_not_null";
    case DUET_ERR_BAD_CONVERSION:
      return "bad_conversion";
    case DUET_ERR_OUT_OF_MEMORY:
      return "out_of_memory";
    default:
      return "error";
  }
}

}  // namespace duet::jit

#endif  // DUET_RUNTIME_JIT_ERROR_KINDS_H_
