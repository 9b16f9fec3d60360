// `duet transform`: runs one transform of a bundle on JSON Lines rows, for
// architects and tests, without any database.
#ifndef DUET_RUNTIME_CLI_TRANSFORM_COMMAND_H_
#define DUET_RUNTIME_CLI_TRANSFORM_COMMAND_H_

#include <istream>
#include <ostream>
#include <string>

#include "runtime/bundle/loaded_bundle.h"

namespace duet::cli {

struct TransformCounts {
  size_t rows = 0;
  size_t written = 0;
  size_t filtered = 0;
  size_t errors = 0;
};

// Reads one JSON object per line from `in` (keys: source column names and
// lookup paths such as "msdyn_company.cdm_companycode"; missing keys are
// null; other keys are ignored) and writes one line per row to `out`: the
// target row as a JSON object, {"row": N, "filtered": true}, or
// {"row": N, "error": "...", "kind": "..."} for a bad row. Decimals are
// written as JSON strings so no digit is lost; blank lines are skipped.
TransformCounts RunTransform(const bundle::LoadedTransform& transform, std::istream& in,
                             std::ostream& out);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_TRANSFORM_COMMAND_H_
