// Printing diagnostics for people (text with source line and caret) and for
// tools (JSON). Both print the same diagnostics, sorted and capped the same way.
#ifndef DUET_COMPILER_DIAG_RENDER_H_
#define DUET_COMPILER_DIAG_RENDER_H_

#include <cstddef>
#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/diag/source.h"

namespace duet::diag {

struct RenderOptions {
  // At most this many errors are printed (warnings among them while the cap
  // is not reached); a final line says how many more there were. 0: no cap.
  size_t max_diagnostics = 50;
  bool color = false;
};

// Text form, one block per diagnostic:
//   path:line:col: error[E0202]: message
//      12 |   NAEM <-> name;
//         |   ^^^^
//      = note: did you mean 'NAME'?
// followed by a summary line ("2 errors, 1 warning") when there is anything.
std::string RenderText(const Diagnostics& diagnostics, const SourceManager& sources,
                       const RenderOptions& options);

// {"diagnostics": [...], "errors": N, "warnings": N, "omitted": N}
std::string RenderJson(const Diagnostics& diagnostics, const SourceManager& sources,
                       const RenderOptions& options);

}  // namespace duet::diag

#endif  // DUET_COMPILER_DIAG_RENDER_H_
