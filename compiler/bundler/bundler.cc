#include "compiler/bundler/bundler.h"

#include <algorithm>
#include <optional>

#include "compiler/bundler/selection.h"
#include "compiler/ir/lower.h"

namespace duet::bundler {
namespace {

bundle::Constant ToBundle(const check::Constant& c) {
  bundle::Constant out;
  out.is_null = c.kind == check::TypeKind::kNull;
  if (out.is_null) return out;
  if (c.kind == check::TypeKind::kBool) {
    out.text = c.bool_value ? "true" : "false";
  } else if (c.kind == check::TypeKind::kInt) {
    out.text = std::to_string(c.int_value);
  } else {
    out.text = c.text;
  }
  return out;
}

// The value of a mapping's end that is a literal, or a negated numeric
// literal (`-5`); nullopt for anything else.
std::optional<bundle::Constant> ConstantOf(const check::BoundExpr& e) {
  if (const auto* c = std::get_if<check::ConstantNode>(&e.node)) return ToBundle(c->value);
  const auto* u = std::get_if<check::UnaryNode>(&e.node);
  if (!u || u->op != ast::UnaryOp::kNegate) return std::nullopt;
  std::optional<bundle::Constant> inner = ConstantOf(*u->operand);
  if (!inner || inner->is_null) return std::nullopt;
  inner->text = inner->text.starts_with('-') ? inner->text.substr(1) : "-" + inner->text;
  return inner;
}

bundle::ColumnType FromCheck(const check::Type& t) {
  bundle::ColumnType out;
  switch (t.kind) {
    case check::TypeKind::kBool:
      out.kind = bundle::ValueKind::kBool;
      break;
    case check::TypeKind::kInt:
      out.kind = bundle::ValueKind::kInt;
      break;
    case check::TypeKind::kFloat:
      out.kind = bundle::ValueKind::kFloat;
      break;
    case check::TypeKind::kDecimal:
      out.kind = bundle::ValueKind::kDecimal;
      break;
    case check::TypeKind::kString:
      out.kind = bundle::ValueKind::kString;
      break;
    case check::TypeKind::kDate:
      out.kind = bundle::ValueKind::kDate;
      break;
    case check::TypeKind::kDateTime:
      out.kind = bundle::ValueKind::kDateTime;
      break;
    case check::TypeKind::kGuid:
      out.kind = bundle::ValueKind::kGuid;
      break;
    case check::TypeKind::kRef:
    case check::TypeKind::kNull:
      out.kind = bundle::ValueKind::kRef;
      break;
  }
  out.precision = t.precision;
  out.scale = t.scale;
  out.length = t.length;
  out.ref = t.ref_name;
  return out;
}

bundle::ColumnType FromIr(const ir::Type& t) {
  bundle::ColumnType out;
  switch (t.kind) {
    case ir::Kind::kBool:
      out.kind = bundle::ValueKind::kBool;
      break;
    case ir::Kind::kInt:
      out.kind = bundle::ValueKind::kInt;
      break;
    case ir::Kind::kFloat:
      out.kind = bundle::ValueKind::kFloat;
      break;
    case ir::Kind::kDecimal:
      out.kind = bundle::ValueKind::kDecimal;
      break;
    case ir::Kind::kString:
      out.kind = bundle::ValueKind::kString;
      break;
    case ir::Kind::kDate:
      out.kind = bundle::ValueKind::kDate;
      break;
    case ir::Kind::kDateTime:
      out.kind = bundle::ValueKind::kDateTime;
      break;
    case ir::Kind::kGuid:
      out.kind = bundle::ValueKind::kGuid;
      break;
  }
  out.precision = t.precision;
  out.scale = t.scale;
  out.length = t.length;
  return out;
}

std::string SystemOf(const check::CheckedModule& model, const check::Map& map, check::Side side) {
  return model.systems[static_cast<size_t>(map.systems[static_cast<size_t>(side)])].name;
}

}  // namespace

bundle::Manifest MakeManifest(const frontend::Result& result, const ir::Module& module) {
  const check::CheckedModule& model = *result.checked;
  bundle::Manifest m;
  m.compiler = kCompilerVersion;
  m.target_triple = codegen::TargetTriple();
  for (const ast::SourceUnit& unit : result.module.units) {
    const diag::SourceFile& file = result.sources.file(unit.file);
    bundle::Digest d = bundle::Sha256(file.contents());
    m.sources.push_back({file.path(), bundle::Hex(std::string_view(
                                          reinterpret_cast<const char*>(d.data()), d.size()))});
  }
  std::sort(m.sources.begin(), m.sources.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  for (const check::System& s : model.systems) m.systems.push_back(s.name);
  for (const check::Table& t : model.tables) {
    bundle::Table table;
    table.name = t.qualified_name;
    table.system = t.system_name;
    for (const check::Column& c : t.columns) {
      table.columns.push_back(
          {c.name, FromCheck(c.type), c.not_null, c.local,
           c.default_value ? std::optional(ToBundle(*c.default_value)) : std::nullopt});
    }
    for (int k : t.key_columns) table.key.push_back(t.columns[static_cast<size_t>(k)].name);
    if (t.id_column) {
      const check::Column& id = t.columns[static_cast<size_t>(*t.id_column)];
      table.id = id.name;
      table.id_type = FromCheck(id.type).ToString();
    }
    m.tables.push_back(std::move(table));
  }
  for (const check::Map& map : model.maps) {
    bundle::Map out;
    out.name = map.name;
    out.label = map.label.value_or("");
    out.version = map.version.ToString();
    out.left_table =
        model.tables[static_cast<size_t>(map.table(check::Side::kLeft))].qualified_name;
    out.right_table =
        model.tables[static_cast<size_t>(map.table(check::Side::kRight))].qualified_name;
    out.direction = check::DirectionText(map.direction);
    if (map.master) out.master = check::RuleText(*map.master, map, model);
    switch (map.initial) {
      case check::InitialSync::kFromLeft:
        out.initial = SystemOf(model, map, check::Side::kLeft);
        break;
      case check::InitialSync::kFromRight:
        out.initial = SystemOf(model, map, check::Side::kRight);
        break;
      case check::InitialSync::kNone:
        out.initial = "none";
        break;
    }
    if (map.filters[0]) out.left_filter = check::ExprText(*map.filters[0], model);
    if (map.filters[1]) out.right_filter = check::ExprText(*map.filters[1], model);
    for (int d : map.depends_on) out.depends_on.push_back(model.maps[static_cast<size_t>(d)].name);
    for (const check::FieldMap& f : map.fields) {
      bundle::Field field;
      field.left = check::ExprText(*f.left, model);
      field.direction = check::DirectionText(f.direction);
      field.right = check::ExprText(*f.right, model);
      if (f.master) field.master = check::RuleText(*f.master, map, model);
      field.truncate = f.truncate;
      field.deferred = f.deferred;
      field.left_constant = ConstantOf(*f.left);
      field.right_constant = ConstantOf(*f.right);
      if (f.values) {
        for (const auto& [l, r] : f.values->entries)
          field.values.push_back({l.ToString(), r.ToString()});
        if (f.values->left_default) field.left_default = f.values->left_default->ToString();
        if (f.values->right_default) field.right_default = f.values->right_default->ToString();
      }
      out.fields.push_back(std::move(field));
    }
    // ir::Lower emits a map's transforms from the left side first, and a
    // transform's outputs in the order of the mappings that flow from its
    // source side: that pairs each output slot with its mapping.
    std::vector<check::Side> sides;
    for (check::Side from : {check::Side::kLeft, check::Side::kRight}) {
      if (check::Flows(map.direction, from)) sides.push_back(from);
    }
    size_t direction = 0;
    for (const ir::Transform& t : module.transforms) {
      if (t.map != map.name) continue;
      std::vector<int> writers;
      if (direction < sides.size()) {
        for (size_t i = 0; i < map.fields.size(); ++i) {
          if (check::Flows(map.fields[i].direction, sides[direction]))
            writers.push_back(static_cast<int>(i));
        }
      }
      ++direction;
      if (writers.size() != t.outputs.size()) writers.assign(t.outputs.size(), -1);
      bundle::Transform transform;
      transform.symbol = t.SymbolName();
      transform.from = t.from_system;
      transform.to = t.to_system;
      transform.source_table = t.source_table;
      transform.target_table = t.target_table;
      for (const ir::InputSlot& s : t.inputs) {
        bundle::Slot slot;
        slot.path = s.path;
        slot.type = FromIr(s.type);
        transform.inputs.push_back(std::move(slot));
      }
      for (size_t i = 0; i < t.outputs.size(); ++i) {
        const ir::OutputSlot& s = t.outputs[i];
        bundle::Slot slot;
        slot.path = s.path;
        slot.type = FromIr(s.type);
        slot.not_null = s.not_null;
        slot.key = s.is_key;
        slot.truncate = s.truncate;
        slot.field = writers[i];
        // `deferred` only concerns a written lookup (a path of several hops).
        slot.deferred = slot.field >= 0 && s.path.size() > 1 &&
                        map.fields[static_cast<size_t>(slot.field)].deferred;
        transform.outputs.push_back(std::move(slot));
      }
      out.transforms.push_back(std::move(transform));
    }
    m.maps.push_back(std::move(out));
  }
  for (int i : model.initial_sync_order)
    m.initial_sync_order.push_back(model.maps[static_cast<size_t>(i)].name);
  return m;
}

Expected<bundle::Contents> Build(const frontend::Result& result, const Options& options) {
  if (!result.ok() || !result.checked) return FailedPreconditionError("the maps have errors");
  ir::Module module = ir::Lower(*result.checked);
  std::optional<Selection> selection;
  if (!options.maps.empty()) {
    Expected<Selection> selected = SelectMaps(*result.checked, module, options.maps);
    if (!selected.ok()) return selected.status();
    selection = std::move(*selected);
    KeepSelected(*selection, module);
  }
  bundle::Manifest manifest = MakeManifest(result, module);
  if (selection) KeepSelected(*selection, manifest);
  bundle::Contents contents;
  contents.manifest = bundle::WriteManifest(manifest);
  codegen::Options codegen_options = options.codegen;
  for (const bundle::Map& map : manifest.maps) {
    for (const bundle::Transform& t : map.transforms) {
      codegen_options.constants.emplace_back(bundle::LayoutSymbol(t.symbol), bundle::LayoutText(t));
    }
  }
  Expected<std::string> bitcode = codegen::EmitBitcode(module, codegen_options);
  if (!bitcode.ok()) return bitcode.status();
  contents.bitcode = std::move(*bitcode);
  if (options.include_object) {
    Expected<std::string> object = codegen::EmitObject(module, codegen_options);
    if (!object.ok()) return object.status();
    contents.object = std::move(*object);
    contents.object_triple = codegen::TargetTriple();
  }
  return contents;
}

}  // namespace duet::bundler
