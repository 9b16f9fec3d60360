// The reference interpreter of the transform IR. Deliberately plain: it is
// the oracle that generated code is compared against, so it favours being
// obviously right over being fast. The semantics it implements are the ones
// docs/abi.md writes down.
#ifndef DUET_COMPILER_INTERP_INTERP_H_
#define DUET_COMPILER_INTERP_INTERP_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compiler/ir/ir.h"

namespace duet::interp {

enum class Outcome { kOk, kFiltered, kError };

struct RowResult {
  Outcome outcome = Outcome::kOk;
  int32_t error_kind = 0;  // duet_error_kind (runtime/abi/duet/abi.h)
  int error_slot = -1;     // output slot the error concerns, or -1
  std::string message;
};

// Runs `transform` on one input row. `inputs` must have one value per input
// slot, of the slot's kind or null. On kOk, `outputs` holds one value per
// output slot; on kFiltered or kError its contents are unspecified.
RowResult Run(const ir::Transform& transform, std::span<const ir::Value> inputs,
              std::vector<ir::Value>& outputs);

}  // namespace duet::interp

#endif  // DUET_COMPILER_INTERP_INTERP_H_
