#include "compiler/bundler/selection.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <deque>

namespace duet::bundler {
namespace {

// The tables a column path starting at `table` passes through after its
// first hop: "msdyn_company.cdm_companycode" from ce.account gives
// ce.cdm_company. The path is one the checker accepted, so every hop but
// the last is a ref column.
std::vector<int> LookupTables(const check::CheckedModule& model, const std::string& table,
                              const std::vector<std::string>& path) {
  std::vector<int> out;
  std::optional<int> at = model.FindTable(table);
  for (size_t hop = 0; at && hop + 1 < path.size(); ++hop) {
    const check::Table& t = model.tables[static_cast<size_t>(*at)];
    std::optional<int> column = t.FindColumn(path[hop]);
    if (!column) break;
    const check::Column& ref = t.columns[static_cast<size_t>(*column)];
    if (ref.type.kind != check::TypeKind::kRef) break;
    at = ref.type.ref_table;
    out.push_back(*at);
  }
  return out;
}

Status UnknownMap(const check::CheckedModule& model, const std::string& name) {
  std::vector<std::string> known;
  for (const check::Map& m : model.maps) known.push_back(m.name);
  std::sort(known.begin(), known.end());
  return NotFoundError(
      fmt::format("no map '{}' in these map files (they have: {})", name,
                  known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
}

// Adds to `tables` the tables `map` uses (its own two and those its lookup
// paths pass through); returns the tables it writes lookups into.
std::set<int> UseTables(const check::CheckedModule& model, const ir::Module& module,
                        const check::Map& map, std::set<std::string>& tables) {
  auto use = [&](int table) {
    tables.insert(model.tables[static_cast<size_t>(table)].qualified_name);
  };
  use(map.table(check::Side::kLeft));
  use(map.table(check::Side::kRight));
  std::set<int> written_into;
  for (const ir::Transform& t : module.transforms) {
    if (t.map != map.name) continue;
    for (const ir::InputSlot& in : t.inputs) {
      for (int table : LookupTables(model, t.source_table, in.path)) use(table);
    }
    for (const ir::OutputSlot& out : t.outputs) {
      for (int table : LookupTables(model, t.target_table, out.path)) {
        use(table);
        written_into.insert(table);
      }
    }
  }
  return written_into;
}

}  // namespace

Expected<Selection> SelectMaps(const check::CheckedModule& model, const ir::Module& module,
                               const std::vector<std::string>& names) {
  Selection out;
  std::deque<int> pending;
  for (const std::string& name : names) {
    std::optional<int> map = model.FindMap(name);
    if (!map) return UnknownMap(model, name);
    if (out.maps.insert(name).second) pending.push_back(*map);
  }
  while (!pending.empty()) {
    const check::Map& map = model.maps[static_cast<size_t>(pending.front())];
    pending.pop_front();
    std::set<int> written_into = UseTables(model, module, map, out.tables);
    for (size_t other = 0; other < model.maps.size(); ++other) {
      const check::Map& m = model.maps[other];
      bool syncs = written_into.contains(m.table(check::Side::kLeft)) ||
                   written_into.contains(m.table(check::Side::kRight));
      if (syncs && out.maps.insert(m.name).second) pending.push_back(static_cast<int>(other));
    }
  }
  return out;
}

void KeepSelected(const Selection& selection, ir::Module& module) {
  std::erase_if(module.transforms,
                [&](const ir::Transform& t) { return !selection.maps.contains(t.map); });
}

void KeepSelected(const Selection& selection, bundle::Manifest& manifest) {
  std::erase_if(manifest.maps,
                [&](const bundle::Map& m) { return !selection.maps.contains(m.name); });
  std::erase_if(manifest.tables,
                [&](const bundle::Table& t) { return !selection.tables.contains(t.name); });
  std::erase_if(manifest.initial_sync_order,
                [&](const std::string& name) { return !selection.maps.contains(name); });
}

}  // namespace duet::bundler
