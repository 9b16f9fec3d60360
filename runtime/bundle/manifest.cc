#include "runtime/bundle/manifest.h"

#include <charconv>
#include <climits>
#include <nlohmann/json.hpp>

namespace duet::bundle {
namespace {

using nlohmann::json;

std::string KindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kInt:
      return "int";
    case ValueKind::kFloat:
      return "float";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kString:
      return "string";
    case ValueKind::kDate:
      return "date";
    case ValueKind::kDateTime:
      return "datetime";
    case ValueKind::kGuid:
      return "guid";
    case ValueKind::kRef:
      return "ref";
  }
  return "?";
}

json SlotJson(const Slot& s) {
  return json{{"path", s.path},  {"type", s.type.ToString()}, {"not_null", s.not_null},
              {"key", s.key},    {"truncate", s.truncate},    {"deferred", s.deferred},
              {"field", s.field}};
}

Status Malformed(const std::string& what) {
  return DataLossError("the bundle manifest is malformed: " + what);
}

// An int member; anything else (a string, a fraction, a number beyond int)
// is malformed, never converted.
Expected<int> IntAt(const json& j, const char* key) {
  const json& v = j.at(key);
  bool fits = v.is_number_unsigned()  ? v.get<uint64_t>() <= INT_MAX
              : v.is_number_integer() ? v.get<int64_t>() >= INT_MIN && v.get<int64_t>() <= INT_MAX
                                      : false;
  if (!fits) return Malformed(std::string("'") + key + "' must be an integer, got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

Expected<Slot> SlotFrom(const json& j) {
  Slot s;
  s.path = j.at("path").get<std::vector<std::string>>();
  Expected<ColumnType> type = ColumnType::Parse(j.at("type").get<std::string>());
  if (!type.ok()) return type.status();
  s.type = *type;
  s.not_null = j.at("not_null").get<bool>();
  s.key = j.at("key").get<bool>();
  s.truncate = j.at("truncate").get<bool>();
  s.deferred = j.at("deferred").get<bool>();
  Expected<int> field = IntAt(j, "field");
  if (!field.ok()) return field.status();
  s.field = *field;
  return s;
}

}  // namespace

std::string ColumnType::ToString() const {
  switch (kind) {
    case ValueKind::kDecimal:
      return "decimal(" + std::to_string(precision) + ", " + std::to_string(scale) + ")";
    case ValueKind::kString:
      return length == 0 ? "string" : "string(" + std::to_string(length) + ")";
    case ValueKind::kRef:
      return "ref " + ref;
    default:
      return KindName(kind);
  }
}

Expected<ColumnType> ColumnType::Parse(std::string_view text) {
  ColumnType t;
  auto number = [](std::string_view s, int64_t* out) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && ptr == s.data() + s.size();
  };
  if (text.starts_with("ref ")) {
    t.kind = ValueKind::kRef;
    t.ref = std::string(text.substr(4));
    return t;
  }
  size_t paren = text.find('(');
  std::string_view name = text.substr(0, paren);
  std::string_view args = paren == std::string_view::npos ? "" : text.substr(paren + 1);
  if (!args.empty() && args.back() == ')') args.remove_suffix(1);
  for (ValueKind k :
       {ValueKind::kBool, ValueKind::kInt, ValueKind::kFloat, ValueKind::kDecimal,
        ValueKind::kString, ValueKind::kDate, ValueKind::kDateTime, ValueKind::kGuid}) {
    if (KindName(k) != name) continue;
    t.kind = k;
    if (k == ValueKind::kDecimal) {
      size_t comma = args.find(',');
      int64_t p = 0, s = 0;
      // Decimals hold at most 38 digits (value::kMaxDecimalPrecision).
      if (comma == std::string_view::npos || !number(args.substr(0, comma), &p) ||
          !number(args.substr(comma + 1), &s) || p < 1 || p > 38 || s < 0 || s > p) {
        return InvalidArgumentError("bad decimal type '" + std::string(text) + "'");
      }
      t.precision = static_cast<int>(p);
      t.scale = static_cast<int>(s);
    } else if (k == ValueKind::kString && !args.empty()) {
      if (!number(args, &t.length) || t.length < 0)
        return InvalidArgumentError("bad string type '" + std::string(text) + "'");
    }
    return t;
  }
  return InvalidArgumentError("unknown type '" + std::string(text) + "'");
}

std::string Slot::Name() const {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

const Map* Manifest::FindMap(std::string_view name) const {
  for (const Map& m : maps) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const Table* Manifest::FindTable(std::string_view name) const {
  for (const Table& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string LayoutText(const Transform& t) {
  std::string out = "in " + std::to_string(t.inputs.size()) + ":";
  for (const Slot& slot : t.inputs) out += " " + slot.type.ToString() + ";";
  out += " out " + std::to_string(t.outputs.size()) + ":";
  for (const Slot& slot : t.outputs) {
    out += " " + slot.type.ToString() + (slot.not_null ? " not null" : "") +
           (slot.truncate ? " truncate" : "") + ";";
  }
  return out;
}

std::string LayoutSymbol(std::string_view transform_symbol) {
  // Map names are identifiers, so no transform's symbol contains a '.'.
  return std::string(transform_symbol) + ".layout";
}

namespace {

// nullopt as JSON null; null as {"null": true}; a value as {"text": ...}.
json ConstantJson(const std::optional<Constant>& c) {
  if (!c) return nullptr;
  if (c->is_null) return {{"null", true}};
  return {{"text", c->text}};
}

std::optional<Constant> ConstantFrom(const json& j) {
  if (j.is_null()) return std::nullopt;
  Constant c;
  c.is_null = j.contains("null") && j.at("null").get<bool>();
  if (!c.is_null) c.text = j.at("text").get<std::string>();
  return c;
}

}  // namespace

std::string WriteManifest(const Manifest& m) {
  json sources = json::array();
  for (const Source& s : m.sources) sources.push_back({{"path", s.path}, {"sha256", s.sha256}});
  json tables = json::array();
  for (const Table& t : m.tables) {
    json columns = json::array();
    for (const Column& c : t.columns) {
      columns.push_back({{"name", c.name},
                         {"type", c.type.ToString()},
                         {"not_null", c.not_null},
                         {"local", c.local},
                         {"default", ConstantJson(c.default_value)}});
    }
    tables.push_back({{"name", t.name},
                      {"system", t.system},
                      {"columns", columns},
                      {"key", t.key},
                      {"id", t.id},
                      {"id_type", t.id_type}});
  }
  json maps = json::array();
  for (const Map& map : m.maps) {
    json fields = json::array();
    for (const Field& f : map.fields) {
      json values = json::array();
      for (const ValueMapEntry& e : f.values) values.push_back({e.left, e.right});
      fields.push_back({{"left", f.left},
                        {"direction", f.direction},
                        {"right", f.right},
                        {"master", f.master},
                        {"truncate", f.truncate},
                        {"values", values},
                        {"left_default", f.left_default},
                        {"right_default", f.right_default},
                        {"deferred", f.deferred},
                        {"left_constant", ConstantJson(f.left_constant)},
                        {"right_constant", ConstantJson(f.right_constant)}});
    }
    json transforms = json::array();
    for (const Transform& t : map.transforms) {
      json inputs = json::array();
      for (const Slot& s : t.inputs) inputs.push_back(SlotJson(s));
      json outputs = json::array();
      for (const Slot& s : t.outputs) outputs.push_back(SlotJson(s));
      transforms.push_back({{"symbol", t.symbol},
                            {"from", t.from},
                            {"to", t.to},
                            {"source_table", t.source_table},
                            {"target_table", t.target_table},
                            {"inputs", inputs},
                            {"outputs", outputs}});
    }
    maps.push_back({{"name", map.name},
                    {"label", map.label},
                    {"version", map.version},
                    {"left_table", map.left_table},
                    {"right_table", map.right_table},
                    {"direction", map.direction},
                    {"master", map.master},
                    {"initial", map.initial},
                    {"left_filter", map.left_filter},
                    {"right_filter", map.right_filter},
                    {"depends_on", map.depends_on},
                    {"fields", fields},
                    {"transforms", transforms}});
  }
  json root = {{"format", m.format},
               {"abi_version", m.abi_version},
               {"compiler", m.compiler},
               {"target_triple", m.target_triple},
               {"sources", sources},
               {"systems", m.systems},
               {"tables", tables},
               {"maps", maps},
               {"initial_sync_order", m.initial_sync_order}};
  // nlohmann orders object keys, so equal manifests give equal text.
  return root.dump(1, ' ', false, json::error_handler_t::strict) + "\n";
}

Expected<Manifest> ParseManifest(std::string_view text) {
  try {
    json root = json::parse(text);
    Manifest m;
    Expected<int> format = IntAt(root, "format");
    if (!format.ok()) return format.status();
    m.format = *format;
    if (m.format != kManifestFormat) {
      return FailedPreconditionError("the bundle manifest has format " + std::to_string(m.format) +
                                     "; this duet reads format " + std::to_string(kManifestFormat) +
                                     " (compile the maps again with the matching duetc)");
    }
    Expected<int> abi_version = IntAt(root, "abi_version");
    if (!abi_version.ok()) return abi_version.status();
    m.abi_version = *abi_version;
    m.compiler = root.at("compiler").get<std::string>();
    m.target_triple = root.at("target_triple").get<std::string>();
    for (const json& s : root.at("sources"))
      m.sources.push_back({s.at("path").get<std::string>(), s.at("sha256").get<std::string>()});
    m.systems = root.at("systems").get<std::vector<std::string>>();
    for (const json& t : root.at("tables")) {
      Table table;
      table.name = t.at("name").get<std::string>();
      table.system = t.at("system").get<std::string>();
      table.key = t.at("key").get<std::vector<std::string>>();
      table.id = t.at("id").get<std::string>();
      table.id_type = t.at("id_type").get<std::string>();
      for (const json& c : t.at("columns")) {
        Column column;
        column.name = c.at("name").get<std::string>();
        Expected<ColumnType> type = ColumnType::Parse(c.at("type").get<std::string>());
        if (!type.ok()) return type.status();
        column.type = *type;
        column.not_null = c.at("not_null").get<bool>();
        column.local = c.at("local").get<bool>();
        column.default_value = ConstantFrom(c.at("default"));
        table.columns.push_back(std::move(column));
      }
      m.tables.push_back(std::move(table));
    }
    for (const json& j : root.at("maps")) {
      Map map;
      map.name = j.at("name").get<std::string>();
      map.label = j.at("label").get<std::string>();
      map.version = j.at("version").get<std::string>();
      map.left_table = j.at("left_table").get<std::string>();
      map.right_table = j.at("right_table").get<std::string>();
      map.direction = j.at("direction").get<std::string>();
      map.master = j.at("master").get<std::string>();
      map.initial = j.at("initial").get<std::string>();
      map.left_filter = j.at("left_filter").get<std::string>();
      map.right_filter = j.at("right_filter").get<std::string>();
      map.depends_on = j.at("depends_on").get<std::vector<std::string>>();
      for (const json& f : j.at("fields")) {
        Field field;
        field.left = f.at("left").get<std::string>();
        field.direction = f.at("direction").get<std::string>();
        field.right = f.at("right").get<std::string>();
        field.master = f.at("master").get<std::string>();
        field.truncate = f.at("truncate").get<bool>();
        for (const json& e : f.at("values"))
          field.values.push_back({e.at(0).get<std::string>(), e.at(1).get<std::string>()});
        field.left_default = f.at("left_default").get<std::string>();
        field.right_default = f.at("right_default").get<std::string>();
        field.deferred = f.at("deferred").get<bool>();
        field.left_constant = ConstantFrom(f.at("left_constant"));
        field.right_constant = ConstantFrom(f.at("right_constant"));
        map.fields.push_back(std::move(field));
      }
      for (const json& t : j.at("transforms")) {
        Transform transform;
        transform.symbol = t.at("symbol").get<std::string>();
        transform.from = t.at("from").get<std::string>();
        transform.to = t.at("to").get<std::string>();
        transform.source_table = t.at("source_table").get<std::string>();
        transform.target_table = t.at("target_table").get<std::string>();
        for (const json& s : t.at("inputs")) {
          Expected<Slot> slot = SlotFrom(s);
          if (!slot.ok()) return slot.status();
          transform.inputs.push_back(std::move(*slot));
        }
        for (const json& s : t.at("outputs")) {
          Expected<Slot> slot = SlotFrom(s);
          if (!slot.ok()) return slot.status();
          transform.outputs.push_back(std::move(*slot));
        }
        for (const Slot& slot : transform.outputs) {
          if (slot.field < -1 || slot.field >= static_cast<int>(map.fields.size())) {
            return Malformed("an output of " + transform.symbol + " names field " +
                             std::to_string(slot.field) + " of " +
                             std::to_string(map.fields.size()));
          }
        }
        map.transforms.push_back(std::move(transform));
      }
      m.maps.push_back(std::move(map));
    }
    m.initial_sync_order = root.at("initial_sync_order").get<std::vector<std::string>>();
    return m;
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(std::string("the bundle manifest is malformed: ") + e.what());
  }
}

}  // namespace duet::bundle
