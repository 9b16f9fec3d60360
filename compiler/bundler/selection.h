// Some maps of a module and what they need (`duetc compile --maps`,
// `duetc schema --maps`): a project that imports a standard map file to
// reuse its table declarations bundles its own maps without the standard
// maps that came with the import, and its databases need only the tables
// the chosen maps use.
#ifndef DUET_COMPILER_BUNDLER_SELECTION_H_
#define DUET_COMPILER_BUNDLER_SELECTION_H_

#include <set>
#include <string>
#include <vector>

#include "compiler/check/model.h"
#include "compiler/ir/ir.h"
#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"

namespace duet::bundler {

struct Selection {
  std::set<std::string> maps;    // map names
  std::set<std::string> tables;  // qualified table names ("ce.account")
};

// The maps named in `names` and, transitively, every map that syncs a table
// one of them writes a lookup into (as for the initial-sync order, and
// `deferred` lookups too: their rows have to arrive as well); and the tables
// those maps use: their two tables and every table a lookup path of theirs
// (read or written, in fields and filters) passes through. `module` is
// `model` lowered. NotFound for a name that is no map of the module.
Expected<Selection> SelectMaps(const check::CheckedModule& model, const ir::Module& module,
                               const std::vector<std::string>& names);

// Leaves out of `module` the transforms of the maps not selected.
void KeepSelected(const Selection& selection, ir::Module& module);

// Leaves out of `manifest` the maps and tables not selected. A kept table's
// ref column may name a table left out: the runtime reads such a column
// only as the stored reference, never through it.
void KeepSelected(const Selection& selection, bundle::Manifest& manifest);

}  // namespace duet::bundler

#endif  // DUET_COMPILER_BUNDLER_SELECTION_H_
