#include "runtime/bundle/manifest_diff.h"

#include <algorithm>
#include <map>

namespace duet::bundle {
namespace {

std::string FieldName(const Field& f) { return f.left + " " + f.direction + " " + f.right; }

std::string ValueMapText(const Field& f) {
  std::string out;
  for (const ValueMapEntry& e : f.values) out += e.left + "=" + e.right + ";";
  return out + "*" + f.left_default + "/" + f.right_default;
}

class Differ {
 public:
  Differ(const Manifest& a, const Manifest& b) : a_(a), b_(b) {}

  ManifestDiff Run() {
    for (const std::string& system : a_.systems) {
      if (std::find(b_.systems.begin(), b_.systems.end(), system) == b_.systems.end()) {
        Add("", "system removed", system, UpgradeClass::kBreaking);
      }
    }
    for (const std::string& system : b_.systems) {
      if (std::find(a_.systems.begin(), a_.systems.end(), system) == a_.systems.end()) {
        Add("", "system added", system, UpgradeClass::kCompatible);
      }
    }
    for (const Table& t : b_.tables) {
      const Table* old = a_.FindTable(t.name);
      if (old) Tables(*old, t);
    }
    for (const Map& m : a_.maps) {
      if (!b_.FindMap(m.name)) {
        // Its links stay in the state store, unused; its tables stop syncing.
        Add(m.name, "map removed", m.left_table + " / " + m.right_table, UpgradeClass::kCompatible);
      }
    }
    for (const Map& m : b_.maps) {
      const Map* old = a_.FindMap(m.name);
      if (!old) {
        Add(m.name, "map added", "an initial sync runs for it", UpgradeClass::kCompatible);
        continue;
      }
      Maps(*old, m);
    }
    for (const Change& c : diff_.changes) {
      diff_.cls = std::max(diff_.cls, c.cls);
      std::vector<std::string>* list = c.cls == UpgradeClass::kResync     ? &diff_.resync
                                       : c.cls == UpgradeClass::kBreaking ? &diff_.broken
                                                                          : nullptr;
      if (list && !c.map.empty() && std::find(list->begin(), list->end(), c.map) == list->end()) {
        list->push_back(c.map);
      }
    }
    // A map both broken and needing a resync is listed as broken.
    std::erase_if(diff_.resync, [&](const std::string& m) {
      return std::find(diff_.broken.begin(), diff_.broken.end(), m) != diff_.broken.end();
    });
    return std::move(diff_);
  }

 private:
  void Add(const std::string& map, std::string what, std::string detail, UpgradeClass cls) {
    diff_.changes.push_back(Change{map, std::move(what), std::move(detail), cls});
  }

  // Maps over a table: a change of the table concerns them.
  std::vector<std::string> MapsOver(const std::string& table) const {
    std::vector<std::string> out;
    for (const Map& m : b_.maps) {
      if (m.left_table == table || m.right_table == table) out.push_back(m.name);
    }
    return out;
  }

  void Tables(const Table& a, const Table& b) {
    std::vector<std::string> maps = MapsOver(b.name);
    auto each_map = [&](const std::string& what, const std::string& detail, UpgradeClass cls) {
      if (maps.empty()) Add("", what, detail, cls);
      for (const std::string& m : maps) Add(m, what, detail, cls);
    };
    if (a.key != b.key) {
      // Pairs were matched by the old key; rows match differently now.
      each_map("key changed", b.name, UpgradeClass::kBreaking);
    }
    if (a.id != b.id) each_map("id column changed", b.name, UpgradeClass::kBreaking);
    for (const Column& c : b.columns) {
      auto old = std::find_if(a.columns.begin(), a.columns.end(),
                              [&](const Column& o) { return o.name == c.name; });
      if (old == a.columns.end()) {
        each_map("column declared", b.name + "." + c.name, UpgradeClass::kCompatible);
      } else if (!(old->type == c.type)) {
        // Values already stored were converted as the old type said.
        each_map("column type changed",
                 b.name + "." + c.name + ": " + old->type.ToString() + " -> " + c.type.ToString(),
                 UpgradeClass::kResync);
      } else if (old->default_value != c.default_value) {
        each_map("column default changed", b.name + "." + c.name, UpgradeClass::kCompatible);
      }
    }
    for (const Column& c : a.columns) {
      if (std::none_of(b.columns.begin(), b.columns.end(),
                       [&](const Column& n) { return n.name == c.name; })) {
        each_map("column no longer declared", b.name + "." + c.name, UpgradeClass::kCompatible);
      }
    }
  }

  void Maps(const Map& a, const Map& b) {
    const std::string& m = b.name;
    if (a.left_table != b.left_table || a.right_table != b.right_table) {
      Add(m, "tables changed",
          a.left_table + " / " + a.right_table + " -> " + b.left_table + " / " + b.right_table,
          UpgradeClass::kBreaking);
      return;
    }
    if (a.direction != b.direction) {
      // A side that was only written is now read, or the other way round.
      Add(m, "direction changed", a.direction + " -> " + b.direction, UpgradeClass::kResync);
    }
    if (a.master != b.master) {
      // Rules apply to the next conflict; nothing stored depends on them.
      Add(m, "master changed", a.master + " -> " + b.master, UpgradeClass::kCompatible);
    }
    if (a.initial != b.initial) {
      Add(m, "initial changed", a.initial + " -> " + b.initial, UpgradeClass::kCompatible);
    }
    if (a.left_filter != b.left_filter || a.right_filter != b.right_filter) {
      // Rows that match now and did not are only found by reading them all.
      Add(m, "filter changed",
          (a.left_filter != b.left_filter ? a.left_filter + " -> " + b.left_filter
                                          : a.right_filter + " -> " + b.right_filter),
          UpgradeClass::kResync);
    }
    std::map<std::pair<std::string, std::string>, const Field*> old_fields;
    for (const Field& f : a.fields) old_fields[{f.left, f.right}] = &f;
    std::map<std::pair<std::string, std::string>, const Field*> new_fields;
    for (const Field& f : b.fields) new_fields[{f.left, f.right}] = &f;
    for (const auto& [key, f] : new_fields) {
      auto it = old_fields.find(key);
      if (it == old_fields.end()) {
        // Existing pairs get the column filled only when a row changes.
        Add(m, "field added", FieldName(*f), UpgradeClass::kResync);
        continue;
      }
      const Field& o = *it->second;
      if (o.direction != f->direction) {
        Add(m, "field direction changed", FieldName(o) + " -> " + f->direction,
            UpgradeClass::kResync);
      }
      if (ValueMapText(o) != ValueMapText(*f)) {
        Add(m, "value map changed", FieldName(*f), UpgradeClass::kResync);
      }
      if (o.master != f->master) {
        Add(m, "field master changed", FieldName(*f) + ": " + o.master + " -> " + f->master,
            UpgradeClass::kCompatible);
      }
      if (o.truncate != f->truncate || o.deferred != f->deferred) {
        Add(m, "field options changed", FieldName(*f), UpgradeClass::kCompatible);
      }
    }
    for (const auto& [key, f] : old_fields) {
      if (!new_fields.count(key)) {
        // The stored bases are per output of the old transforms: rebuilt
        // by a resync, else each pair is merged without one at its next change.
        Add(m, "field removed", FieldName(*f), UpgradeClass::kResync);
      }
    }
  }

  const Manifest& a_;
  const Manifest& b_;
  ManifestDiff diff_;
};

}  // namespace

const char* UpgradeClassName(UpgradeClass c) {
  switch (c) {
    case UpgradeClass::kCompatible:
      return "compatible";
    case UpgradeClass::kResync:
      return "resync";
    case UpgradeClass::kBreaking:
      return "breaking";
  }
  return "breaking";
}

ManifestDiff DiffManifests(const Manifest& old_manifest, const Manifest& new_manifest) {
  return Differ(old_manifest, new_manifest).Run();
}

}  // namespace duet::bundle
