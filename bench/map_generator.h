// A generator of large, realistic map files for benchmarks: the shape of
// examples/minimal/customers.duet (ERP customers synced with CRM accounts
// through a company lookup) repeated in numbered groups, each with its
// tables, a named and inline value maps, filters, computed fields, a table
// and map extension, and unit tests.
#ifndef DUET_BENCH_MAP_GENERATOR_H_
#define DUET_BENCH_MAP_GENERATOR_H_

#include <cstddef>
#include <string>

namespace duet::bench {

// A map file of exactly `lines` lines (newline-terminated) that `duetc check`
// accepts with no diagnostics at all, errors or warnings. Whole groups are
// emitted while they fit; the rest is filled with comment lines, so the
// result is deterministic for a given `lines`. `lines` must be at least
// kMinGeneratedLines.
std::string GenerateMapFile(size_t lines);

// The header (systems) plus one group, with room to spare.
inline constexpr size_t kMinGeneratedLines = 150;

// Lines of `text`: the number of '\n' characters, plus one if the last line
// has no newline.
size_t CountLines(const std::string& text);

}  // namespace duet::bench

#endif  // DUET_BENCH_MAP_GENERATOR_H_
