// Generated documentation of what a module syncs and what it does not: one
// Markdown page per map, an index, and the Graphviz source of the map
// dependency diagram. A pure function of the checked model, so the output can
// be golden-tested and committed next to the maps it describes, and a
// freshness check can compare it byte for byte.
#ifndef DUET_COMPILER_DOCS_DOCS_H_
#define DUET_COMPILER_DOCS_DOCS_H_

#include <map>
#include <string>
#include <string_view>

#include "compiler/check/model.h"

namespace duet::docs {

// The index page, the Graphviz source, and the picture index.md shows.
inline constexpr std::string_view kIndexFile = "index.md";
inline constexpr std::string_view kGraphFile = "maps.dot";
inline constexpr std::string_view kDiagramFile = "maps.svg";

// File name (no directory) -> contents, ordered by name.
using Files = std::map<std::string, std::string>;

// The page of the map named `map_name`: "NAME.md", except for a map named
// "index", whose page would be the index ("index-map.md"; a map name cannot
// contain '-', so this never collides with another map's page).
std::string MapPageName(std::string_view map_name);

// The documentation of `model`, which must have checked without errors:
// kIndexFile, MapPageName(m) for every map m, and kGraphFile. kDiagramFile is
// linked from the index but not produced: rendering it runs a program, which
// is the caller's business. The same model always gives the same bytes.
Files Generate(const check::CheckedModule& model);

}  // namespace duet::docs

#endif  // DUET_COMPILER_DOCS_DOCS_H_
