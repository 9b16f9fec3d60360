// Planning: from a map of the manifest to what the engine reads and writes
// on each side (engine_impl.h).
#include "runtime/engine/engine_impl.h"

#include <algorithm>

namespace duet::engine {

int AddPath(Side& side, const std::vector<std::string>& path, const bundle::ColumnType& type) {
  for (size_t i = 0; i < side.shape.size(); ++i) {
    if (side.shape[i].path == path) return static_cast<int>(i);
  }
  side.shape.push_back(ColumnPath{path, type});
  return static_cast<int>(side.shape.size() - 1);
}

// ---------------------------------------------------------------------------
// Planning

// Side::plain_insert and what goes with it, for side `s` as the source.
void PlanPlainInsert(MapPlan& plan, int s) {
  Side& source = plan.side[s];
  const Side& target = plan.side[1 - s];
  if (!source.transform) return;
  for (const bundle::Slot& slot : source.transform->outputs) {
    if (slot.path.size() != 1) return;
    source.insert_columns.push_back(slot.path[0]);
  }
  for (const auto& [column, value] : target.insert_defaults) {
    source.insert_columns.push_back(column);
  }
  for (int j : plan.key_slots[s]) {
    source.key_columns.push_back(source.transform->outputs[static_cast<size_t>(j)].path[0]);
  }
  source.image_complete = true;
  for (const ColumnPath& path : target.shape) {
    auto it = std::find(source.insert_columns.begin(), source.insert_columns.end(), path.path[0]);
    // A stored reference is the database's to give back.
    if (path.path.size() != 1 || path.type.kind == bundle::ValueKind::kRef ||
        it == source.insert_columns.end()) {
      source.image_complete = false;
      source.image_from.push_back(-1);
      continue;
    }
    source.image_from.push_back(static_cast<int>(it - source.insert_columns.begin()));
  }
  source.plain_insert = true;
}

Status SyncEngine::Impl::PlanSide(MapPlan& plan, int s) {
  Side& side = plan.side[s];
  Side& other = plan.side[1 - s];
  if (side.transform) {
    for (const bundle::Slot& slot : side.transform->inputs) {
      side.input_index.push_back(AddPath(side, slot.path, slot.type));
    }
  }
  if (side.transform) {
    for (size_t j = 0; j < side.transform->outputs.size(); ++j) {
      side.all_outputs.push_back(static_cast<int>(j));
    }
  }
  if (other.transform) {
    for (const bundle::Slot& slot : other.transform->outputs) {
      side.current_index.push_back(AddPath(side, slot.path, slot.type));
    }
    // Columns no mapping writes get their declared default on insert.
    for (const bundle::Column& c : side.info->columns) {
      if (!c.default_value || c.name == side.info->id ||
          std::any_of(other.transform->outputs.begin(), other.transform->outputs.end(),
                      [&](const bundle::Slot& slot) { return slot.path[0] == c.name; })) {
        continue;
      }
      Expected<Value> v = DefaultValue(c);
      if (!v.ok()) return v.status();
      side.insert_defaults.emplace_back(c.name, std::move(*v));
    }
  }
  // Stored references of every ref column: composite-key lookups take the
  // other key columns from them.
  for (const bundle::Column& c : side.info->columns) {
    if (c.type.kind == bundle::ValueKind::kRef) {
      bundle::ColumnType raw;
      raw.kind = bundle::ValueKind::kRef;
      raw.ref = c.type.ref;
      side.raw_ref_index[c.name] = AddPath(side, {c.name}, raw);
    }
  }
  Expected<std::unique_ptr<endpoint::RowReader>> reader =
      side.endpoint->Reader(side.table, side.shape);
  if (!reader.ok()) return reader.status();
  side.reader = std::move(*reader);
  return Status::Ok();
}

Status SyncEngine::Impl::Plan() {
  const bundle::Manifest& m = bundle->manifest();
  std::vector<std::string> order = m.initial_sync_order;
  for (const bundle::Map& map : m.maps) {
    if (std::find(order.begin(), order.end(), map.name) == order.end()) order.push_back(map.name);
  }
  for (const std::string& name : order) {
    const bundle::Map* map = m.FindMap(name);
    if (!map) return InvalidArgumentError("bundle: initial_sync_order names unknown map " + name);
    auto plan = std::make_unique<MapPlan>();
    plan->map = map;
    plan->name = map->name;
    const std::string tables[2] = {map->left_table, map->right_table};
    for (int s = 0; s < 2; ++s) {
      Side& side = plan->side[s];
      side.index = s;
      side.table = tables[s];
      side.info = m.FindTable(tables[s]);
      if (!side.info) return InvalidArgumentError("bundle: unknown table " + tables[s]);
      side.system = side.info->system;
      auto ep = endpoints.find(side.system);
      if (ep == endpoints.end()) {
        return InvalidArgumentError("no connection for system '" + side.system + "'");
      }
      side.endpoint = ep->second.get();
      Expected<bundle::LoadedTransform> t = bundle->Find(map->name, side.system);
      if (t.ok()) {
        side.transform = t->transform;
        side.function = t->function;
      }
    }
    for (int s = 0; s < 2; ++s) {
      if (Status st = PlanSide(*plan, s); !st.ok()) return st;
    }
    // Fields: each output slot belongs to the mapping that writes it.
    plan->fields.resize(map->fields.size());
    for (size_t f = 0; f < map->fields.size(); ++f) {
      const bundle::Field& field = map->fields[f];
      plan->fields[f].rule = field.master.empty() ? map->master : field.master;
      plan->fields[f].constant[0] = field.left_constant.has_value();
      plan->fields[f].constant[1] = field.right_constant.has_value();
    }
    for (int s = 0; s < 2; ++s) {
      const bundle::Transform* t = plan->side[s].transform;
      if (!t) continue;
      for (size_t j = 0; j < t->outputs.size(); ++j) {
        std::string name = t->outputs[j].Name();
        int found = -1;
        for (size_t f = 0; f < map->fields.size() && found < 0; ++f) {
          const bundle::Field& field = map->fields[f];
          bool flows = s == 0 ? field.direction != "<-" : field.direction != "->";
          if (flows && (s == 0 ? field.right : field.left) == name) found = static_cast<int>(f);
        }
        if (found < 0) {
          plan->fields.push_back(FieldPlan{map->master, {}});
          found = static_cast<int>(plan->fields.size() - 1);
        }
        plan->fields[static_cast<size_t>(found)].slots[s].push_back(static_cast<int>(j));
        if (t->outputs[j].key) plan->key_slots[s].push_back(static_cast<int>(j));
      }
    }
    for (const FieldPlan& field : plan->fields) {
      for (int s = 0; s < 2; ++s) {
        if (!field.slots[s].empty() && field.slots[1 - s].empty() && !field.constant[s] &&
            plan->side[1 - s].transform) {
          plan->one_way_from[s] = true;
        }
      }
    }
    for (int s = 0; s < 2; ++s) PlanPlainInsert(*plan, s);
    plan->initial_none = map->initial == "none";
    plan->seed = map->initial == plan->side[1].system ? 1 : 0;
    if (!plan->side[plan->seed].transform) plan->seed = 1 - plan->seed;
    for (int s = 0; s < 2; ++s) {
      if (plan->side[s].transform && plan->key_slots[s].empty()) {
        return InvalidArgumentError("map " + map->name + ": table " + plan->side[1 - s].table +
                                    " has no alternate key the map fills");
      }
    }
    plans.push_back(std::move(plan));
  }
  return Status::Ok();
}

}  // namespace duet::engine
