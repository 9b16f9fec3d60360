// `duetc docs PATH... -o DIR`: writes the generated "what syncs" pages of a
// module (compiler/docs/docs.h) into a directory, with the map dependency
// diagram drawn by Graphviz.
#ifndef DUET_COMPILER_DRIVER_DOCS_COMMAND_H_
#define DUET_COMPILER_DRIVER_DOCS_COMMAND_H_

#include <string>

#include "compiler/frontend/frontend.h"

namespace duet::driver {

struct DocsFlags {
  std::string output;   // the directory; created when missing
  bool no_svg = false;  // write no maps.svg, so Graphviz is not needed
};

// Writes the documentation of a module that checked without errors into
// flags.output: the Markdown pages, maps.dot, and maps.svg rendered by
// Graphviz's `dot` (found on PATH) unless flags.no_svg. Pages (*.md) in the
// directory that this run did not write are removed, and so is maps.svg under
// no_svg: they describe maps that are gone. Nothing is written when `dot`
// cannot be run. Returns the exit code: 0, or 2 for I/O problems and a missing
// or failing `dot`.
int WriteDocs(const frontend::Result& result, const DocsFlags& flags);

}  // namespace duet::driver

#endif  // DUET_COMPILER_DRIVER_DOCS_COMMAND_H_
