#include "compiler/check/checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "compiler/diag/diagnostic.h"
#include "runtime/value/ops.h"

namespace duet::check {
namespace {

using ast::BinaryOp;
using diag::DiagKind;
using diag::Diagnostics;

std::string Quoted(std::string_view name) { return fmt::format("'{}'", name); }

std::string SideName(Side side) { return side == Side::kLeft ? "left" : "right"; }

Direction FromAst(ast::Direction d) {
  switch (d) {
    case ast::Direction::kBoth:
      return Direction::kBoth;
    case ast::Direction::kToRight:
      return Direction::kToRight;
    case ast::Direction::kToLeft:
      return Direction::kToLeft;
  }
  return Direction::kBoth;
}

const char* Spelling(Direction d) {
  switch (d) {
    case Direction::kBoth:
      return "<->";
    case Direction::kToRight:
      return "->";
    case Direction::kToLeft:
      return "<-";
  }
  return "?";
}

bool IsComparison(BinaryOp op) {
  return op == BinaryOp::kEqual || op == BinaryOp::kNotEqual || op == BinaryOp::kLess ||
         op == BinaryOp::kLessEqual || op == BinaryOp::kGreater || op == BinaryOp::kGreaterEqual;
}

bool IsOrdering(BinaryOp op) {
  return IsComparison(op) && op != BinaryOp::kEqual && op != BinaryOp::kNotEqual;
}

char ArithmeticChar(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return '+';
    case BinaryOp::kSubtract:
      return '-';
    case BinaryOp::kMultiply:
      return '*';
    case BinaryOp::kDivide:
      return '/';
    case BinaryOp::kModulo:
      return '%';
    default:
      return 0;
  }
}

// The source-level declarations that make up one table, base and extensions.
struct TableSyntax {
  const ast::TableDecl* decl = nullptr;
  std::vector<const ast::TableDecl*> extensions;
};

struct MapSyntax {
  const ast::MapDecl* decl = nullptr;
  std::vector<const ast::FieldMapping*> fields;  // base then extensions, in order
};

// Where one bound expression is evaluated: over the row of `table`, which is
// the `side` of `map` (for hints about columns of the other side).
struct Scope {
  int table = -1;
  int other_table = -1;  // the map's other table, or -1
  std::string what;      // "the left side of a mapping", for messages
};

class Checker {
 public:
  Checker(const ast::Module& module, const CheckOptions& options, Diagnostics& diagnostics)
      : module_(module), options_(options), diags_(diagnostics) {}

  CheckedModule Run() {
    CollectSystems();
    CollectTables();
    for (size_t i = 0; i < out_.tables.size(); ++i) ResolveTable(static_cast<int>(i));
    CollectValueMaps();
    CollectMaps();
    map_ok_.assign(out_.maps.size(), false);
    for (size_t i = 0; i < out_.maps.size(); ++i) CheckMap(static_cast<int>(i));
    CheckDependencies();
    CheckTests();
    // After an error, "unused" would mostly mean "named by something broken".
    if (options_.warn_unused && !diags_.has_errors()) WarnUnused();
    return std::move(out_);
  }

 private:
  // ---- helpers ----

  diag::Diagnostic& Report(DiagKind kind, const SourceRange& range, std::string message) {
    return diags_.Report(kind, range, std::move(message));
  }

  void SuggestFrom(diag::Diagnostic& d, std::string_view name,
                   const std::vector<std::string>& candidates) {
    if (auto match = diag::ClosestMatch(name, candidates))
      d.AddNote(fmt::format("did you mean {}?", Quoted(*match)));
  }

  std::vector<std::string> ColumnNames(int table) const {
    std::vector<std::string> names;
    for (const Column& c : out_.tables[static_cast<size_t>(table)].columns) names.push_back(c.name);
    return names;
  }

  Table& table(int index) { return out_.tables[static_cast<size_t>(index)]; }
  const Table& table(int index) const { return out_.tables[static_cast<size_t>(index)]; }
  std::string ColumnName(ColumnRef ref) const {
    return table(ref.table).columns[static_cast<size_t>(ref.column)].name;
  }

  std::optional<int> FindSystem(const std::string& name) const {
    auto it = system_index_.find(name);
    if (it == system_index_.end()) return std::nullopt;
    return it->second;
  }

  // Resolves `system.table`; reports unknown system or table.
  std::optional<int> ResolveTableName(const ast::QualifiedName& name) {
    if (!FindSystem(name.system.text)) {
      auto& d = Report(DiagKind::kUnknownSystem, name.system.range,
                       fmt::format("unknown system {}", Quoted(name.system.text)));
      std::vector<std::string> systems;
      for (const System& s : out_.systems) systems.push_back(s.name);
      SuggestFrom(d, name.system.text, systems);
      if (systems.empty()) d.AddNote("declare it first: system " + name.system.text + ";");
      return std::nullopt;
    }
    if (auto it = table_index_.find(name.ToString()); it != table_index_.end()) return it->second;
    auto& d = Report(DiagKind::kUnknownTable, name.range,
                     fmt::format("unknown table {}", Quoted(name.ToString())));
    std::vector<std::string> candidates;
    for (const Table& t : out_.tables) {
      if (t.system_name == name.system.text) candidates.push_back(t.name);
    }
    if (auto match = diag::ClosestMatch(name.table.text, candidates)) {
      d.AddNote(fmt::format("did you mean '{}.{}'?", name.system.text, *match));
    }
    return std::nullopt;
  }

  std::optional<Constant> MakeConstant(const ast::Literal& literal) {
    Constant c;
    c.range = literal.range;
    switch (literal.kind) {
      case ast::LiteralKind::kNull:
        c.kind = TypeKind::kNull;
        break;
      case ast::LiteralKind::kBool:
        c.kind = TypeKind::kBool;
        c.bool_value = literal.bool_value;
        break;
      case ast::LiteralKind::kInt: {
        c.kind = TypeKind::kInt;
        const char* end = literal.text.data() + literal.text.size();
        auto [ptr, ec] = std::from_chars(literal.text.data(), end, c.int_value);
        if (ec != std::errc() || ptr != end) return std::nullopt;  // reported by syntax/
        break;
      }
      case ast::LiteralKind::kDecimal:
        c.kind = TypeKind::kDecimal;
        c.text = literal.text;
        break;
      case ast::LiteralKind::kString:
        c.kind = TypeKind::kString;
        c.text = literal.text;
        break;
    }
    return c;
  }

  // A constant as a value of column type `target`: strings stand for dates,
  // datetimes and guids in their ISO text forms. nullopt if it cannot be one.
  static std::optional<Constant> CoerceConstant(const Constant& c, const Type& target) {
    if (c.kind == TypeKind::kString) {
      bool ok = false;
      switch (target.kind) {
        case TypeKind::kDate:
          ok = value::ParseDate(c.text).has_value();
          break;
        case TypeKind::kDateTime:
          ok = value::ParseDateTime(c.text).has_value();
          break;
        case TypeKind::kGuid:
          ok = value::ParseGuid(c.text).has_value();
          break;
        default:
          ok = target.kind == TypeKind::kString;
          break;
      }
      if (!ok) return std::nullopt;
      Constant out = c;
      out.kind = target.kind == TypeKind::kString ? TypeKind::kString : target.kind;
      return out;
    }
    if (CanAssign(c.type(), target) == Assignability::kNo) return std::nullopt;
    return c;
  }

  // Whether a constant fits a column's size: string length, decimal digits.
  static std::optional<std::string> SizeProblem(const Constant& c, const Type& target) {
    if (target.kind == TypeKind::kString && c.kind == TypeKind::kString && target.length > 0) {
      Type own = c.type();
      if (own.length > target.length) {
        return fmt::format("{} has {} characters, more than {} holds", c.ToString(), own.length,
                           target.ToString());
      }
    }
    if (target.kind == TypeKind::kDecimal &&
        (c.kind == TypeKind::kDecimal || c.kind == TypeKind::kInt)) {
      std::string text = c.kind == TypeKind::kInt ? std::to_string(c.int_value) : c.text;
      size_t point = text.find('.');
      std::string whole = text.substr(0, point);
      std::string fraction = point == std::string::npos ? "" : text.substr(point + 1);
      while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
      size_t first = whole.find_first_not_of("-0");
      size_t integer_digits = first == std::string::npos ? 0 : whole.size() - first;
      if (static_cast<int>(integer_digits) > target.precision - target.scale ||
          static_cast<int>(fraction.size()) > target.scale) {
        return fmt::format("{} does not fit {} exactly", c.ToString(), target.ToString());
      }
    }
    return std::nullopt;
  }

  // Identity of a value-map entry: equal values, however written, collide.
  static std::string CanonicalKey(const Constant& c) {
    if (c.kind != TypeKind::kDecimal && c.kind != TypeKind::kInt) return c.ToString();
    std::string text = c.kind == TypeKind::kInt ? std::to_string(c.int_value) : c.text;
    bool negative = !text.empty() && text[0] == '-';
    if (negative) text.erase(0, 1);
    size_t point = text.find('.');
    std::string whole = text.substr(0, point);
    std::string fraction = point == std::string::npos ? "" : text.substr(point + 1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
    if (whole.empty()) whole = "0";
    std::string out = whole + (fraction.empty() ? "" : "." + fraction);
    return (negative && out != "0" ? "-" : "") + out;
  }

  void MarkUsed(ColumnRef ref) {
    used_[static_cast<size_t>(ref.table)][static_cast<size_t>(ref.column)] = true;
  }

  // ---- systems and tables ----

  void CollectSystems() {
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::SystemDecl& decl : unit.systems) {
        if (auto existing = FindSystem(decl.name.text)) {
          Report(DiagKind::kDuplicateSystem, decl.name.range,
                 fmt::format("system {} is declared twice", Quoted(decl.name.text)))
              .AddNote(out_.systems[static_cast<size_t>(*existing)].range, "first declared here");
          continue;
        }
        system_index_[decl.name.text] = static_cast<int>(out_.systems.size());
        out_.systems.push_back(System{decl.name.text, decl.label, decl.name.range});
      }
    }
  }

  void CollectTables() {
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::TableDecl& decl : unit.tables) {
        if (decl.is_extension) continue;
        std::optional<int> system = FindSystem(decl.name.system.text);
        if (!system) {
          auto& d =
              Report(DiagKind::kUnknownSystem, decl.name.system.range,
                     fmt::format("unknown system {} in table {}", Quoted(decl.name.system.text),
                                 Quoted(decl.name.ToString())));
          std::vector<std::string> systems;
          for (const System& s : out_.systems) systems.push_back(s.name);
          SuggestFrom(d, decl.name.system.text, systems);
          if (systems.empty()) d.AddNote("declare it first: system " + decl.name.system.text + ";");
          continue;
        }
        if (auto it = table_index_.find(decl.name.ToString()); it != table_index_.end()) {
          int existing = it->second;
          // Uses of the table may mean either declaration; stay quiet about
          // its columns rather than guess.
          ambiguous_tables_.insert(existing);
          Report(DiagKind::kDuplicateTable, decl.name.range,
                 fmt::format("table {} is declared twice", Quoted(decl.name.ToString())))
              .AddNote(table(existing).range, "first declared here")
              .AddNote("to add columns to a table declared elsewhere, write 'extend table " +
                       decl.name.ToString() + " { ... }'");
          continue;
        }
        Table t;
        t.system = *system;
        t.system_name = decl.name.system.text;
        t.name = decl.name.table.text;
        t.qualified_name = decl.name.ToString();
        t.label = decl.label;
        t.range = decl.name.range;
        table_index_[t.qualified_name] = static_cast<int>(out_.tables.size());
        out_.tables.push_back(std::move(t));
        table_syntax_.push_back(TableSyntax{&decl, {}});
      }
    }
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::TableDecl& decl : unit.tables) {
        if (!decl.is_extension) continue;
        if (auto index = ResolveTableName(decl.name)) {
          table_syntax_[static_cast<size_t>(*index)].extensions.push_back(&decl);
        }
      }
    }
    used_.resize(out_.tables.size());
  }

  std::optional<Type> ResolveType(const ast::TypeSyntax& syntax, int owner) {
    if (syntax.ref) {
      std::optional<int> target = ResolveTableName(*syntax.ref);
      if (!target) return std::nullopt;
      if (table(*target).system != table(owner).system) {
        Report(DiagKind::kBadRef, syntax.range,
               fmt::format("a column of {} cannot refer to {}: a ref stays inside its own system",
                           table(owner).qualified_name, table(*target).qualified_name))
            .AddNote("rows of the other system are reached through a map, not a ref");
        return std::nullopt;
      }
      Type t = Type::Of(TypeKind::kRef);
      t.ref_table = *target;
      t.ref_name = table(*target).qualified_name;
      return t;
    }
    static const std::map<std::string, TypeKind, std::less<>> kTypes = {
        {"bool", TypeKind::kBool},         {"int", TypeKind::kInt},
        {"float", TypeKind::kFloat},       {"decimal", TypeKind::kDecimal},
        {"string", TypeKind::kString},     {"date", TypeKind::kDate},
        {"datetime", TypeKind::kDateTime}, {"guid", TypeKind::kGuid},
    };
    auto it = kTypes.find(syntax.name.text);
    if (it == kTypes.end()) {
      auto& d = Report(DiagKind::kUnknownType, syntax.name.range,
                       fmt::format("unknown type {}", Quoted(syntax.name.text)));
      std::vector<std::string> names;
      for (const auto& [name, kind] : kTypes) names.push_back(name);
      SuggestFrom(d, syntax.name.text, names);
      d.AddNote(
          "the types are bool, int, float, decimal(p, s), string, string(n), date, datetime, guid "
          "and ref system.table");
      return std::nullopt;
    }
    std::vector<int64_t> args;
    for (const ast::Literal& arg : syntax.args) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(arg.text.data(), arg.text.data() + arg.text.size(), value);
      if (ec != std::errc()) return std::nullopt;  // reported by syntax/
      args.push_back(value);
    }
    auto bad = [&](std::string message) {
      Report(DiagKind::kBadTypeArguments, syntax.range, std::move(message));
      return std::nullopt;
    };
    switch (it->second) {
      case TypeKind::kString:
        if (args.size() > 1)
          return bad("string takes at most one argument, its length: string(100)");
        if (args.size() == 1 && (args[0] < 1 || args[0] > 1'000'000'000)) {
          return bad(fmt::format("string length {} is out of range (1 to 1000000000)", args[0]));
        }
        return Type::String(args.empty() ? 0 : args[0]);
      case TypeKind::kDecimal:
        if (args.size() != 2) return bad("decimal needs a precision and a scale: decimal(19, 4)");
        if (args[0] < 1 || args[0] > kMaxDecimalPrecision) {
          return bad(fmt::format("decimal precision {} is out of range (1 to {})", args[0],
                                 kMaxDecimalPrecision));
        }
        if (args[1] < 0 || args[1] > args[0]) {
          return bad(fmt::format("decimal scale {} must be between 0 and the precision {}", args[1],
                                 args[0]));
        }
        return Type::Decimal(static_cast<int>(args[0]), static_cast<int>(args[1]));
      default:
        if (!args.empty()) return bad(fmt::format("type {} takes no arguments", syntax.name.text));
        Type t;
        t.kind = it->second;
        return t;
    }
  }

  void ResolveTable(int index) {
    const TableSyntax& syntax = table_syntax_[static_cast<size_t>(index)];
    std::vector<const ast::TableDecl*> decls = {syntax.decl};
    decls.insert(decls.end(), syntax.extensions.begin(), syntax.extensions.end());
    // Columns first: ids and keys may name a column declared after them.
    for (const ast::TableDecl* decl : decls) {
      for (const ast::ColumnDecl& c : decl->columns) {
        if (auto existing = table(index).FindColumn(c.name.text)) {
          Report(DiagKind::kDuplicateColumn, c.name.range,
                 fmt::format("column {} is declared twice in {}", Quoted(c.name.text),
                             table(index).qualified_name))
              .AddNote(table(index).columns[static_cast<size_t>(*existing)].range,
                       "first declared here");
          continue;
        }
        Column column;
        column.name = c.name.text;
        column.not_null = c.not_null;
        column.local = c.local;
        column.range = c.name.range;
        std::optional<Type> type = ResolveType(c.type, index);
        // An unresolvable type still declares the column, so later uses of
        // it do not add "unknown column" errors to the real one.
        column.type = type.value_or(Type::Null());
        if (type && c.default_value) {
          std::optional<Constant> value = MakeConstant(*c.default_value);
          std::optional<Constant> coerced = value ? CoerceConstant(*value, *type) : std::nullopt;
          std::optional<std::string> size = coerced ? SizeProblem(*coerced, *type) : std::nullopt;
          if (value && !coerced) {
            Report(DiagKind::kDefaultType, c.default_value->range,
                   fmt::format("default {} is {}, but column {} is {}", value->ToString(),
                               value->type().ToString(), Quoted(c.name.text), type->ToString()));
          } else if (value && value->kind == TypeKind::kNull && c.not_null) {
            Report(DiagKind::kDefaultType, c.default_value->range,
                   fmt::format("column {} is not null, so its default cannot be null",
                               Quoted(c.name.text)));
          } else if (size) {
            Report(DiagKind::kDefaultType, c.default_value->range,
                   fmt::format("default of column {}: {}", Quoted(c.name.text), *size));
          } else {
            column.default_value = coerced;
          }
        }
        Table& t = table(index);
        t.column_index[column.name] = static_cast<int>(t.columns.size());
        t.columns.push_back(std::move(column));
      }
    }
    used_[static_cast<size_t>(index)].assign(table(index).columns.size(), false);
    const ast::IdDecl* first_id = nullptr;
    const ast::KeyDecl* first_key = nullptr;
    for (const ast::TableDecl* decl : decls) {
      for (const ast::IdDecl& id : decl->ids) {
        if (first_id != nullptr) {
          Report(DiagKind::kDuplicateSetting, id.range,
                 fmt::format("table {} declares its id twice", table(index).qualified_name))
              .AddNote(first_id->range, "first declared here");
          continue;
        }
        first_id = &id;
        std::optional<int> column = ResolveColumnName(index, id.column);
        if (!column) continue;
        table(index).id_column = *column;
        table(index).columns[static_cast<size_t>(*column)].is_id = true;
      }
      for (const ast::KeyDecl& key : decl->keys) {
        if (first_key != nullptr) {
          Report(DiagKind::kDuplicateSetting, key.range,
                 fmt::format("table {} declares its key twice", table(index).qualified_name))
              .AddNote(first_key->range, "first declared here")
              .AddNote("a table has one alternate key; list all its columns in one key (...)");
          continue;
        }
        first_key = &key;
        table(index).key_range = key.range;
        for (const ast::Name& name : key.columns) {
          std::optional<int> column = ResolveColumnName(index, name);
          if (!column) continue;
          Column& c = table(index).columns[static_cast<size_t>(*column)];
          if (c.key_position >= 0) {
            Report(DiagKind::kDuplicateSetting, name.range,
                   fmt::format("column {} is listed twice in the key", Quoted(name.text)));
            continue;
          }
          c.key_position = static_cast<int>(table(index).key_columns.size());
          table(index).key_columns.push_back(*column);
        }
      }
    }
  }

  std::optional<int> ResolveColumnName(int table_index, const ast::Name& name) {
    if (auto column = table(table_index).FindColumn(name.text)) return column;
    auto& d = Report(DiagKind::kUnknownColumn, name.range,
                     fmt::format("unknown column {} in table {}", Quoted(name.text),
                                 table(table_index).qualified_name));
    SuggestFrom(d, name.text, ColumnNames(table_index));
    return std::nullopt;
  }

  // ---- value maps ----

  void CollectValueMaps() {
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::ValueMapDecl& decl : unit.value_maps) {
        auto [it, inserted] = value_maps_.emplace(decl.name.text, &decl);
        if (!inserted) {
          Report(DiagKind::kDuplicateValueMap, decl.name.range,
                 fmt::format("value map {} is declared twice", Quoted(decl.name.text)))
              .AddNote(it->second->name.range, "first declared here");
        }
      }
    }
  }

  // ---- maps ----

  void CollectMaps() {
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::MapDecl& decl : unit.maps) {
        if (decl.is_extension) continue;
        if (auto existing = FindMap(decl.name.text)) {
          Report(DiagKind::kDuplicateMap, decl.name.range,
                 fmt::format("map {} is declared twice", Quoted(decl.name.text)))
              .AddNote(out_.maps[static_cast<size_t>(*existing)].range, "first declared here")
              .AddNote("to add fields to a map declared elsewhere, write 'extend map " +
                       decl.name.text + " { ... }'");
          continue;
        }
        Map map;
        map.name = decl.name.text;
        map.label = decl.label;
        map.range = decl.name.range;
        map.direction = FromAst(decl.direction);
        map_index_[map.name] = static_cast<int>(out_.maps.size());
        out_.maps.push_back(std::move(map));
        MapSyntax syntax{&decl, {}};
        for (const ast::FieldMapping& f : decl.fields) syntax.fields.push_back(&f);
        map_syntax_.push_back(std::move(syntax));
      }
    }
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::MapDecl& decl : unit.maps) {
        if (!decl.is_extension) continue;
        std::optional<int> index = FindMap(decl.name.text);
        if (!index) {
          auto& d = Report(DiagKind::kUnknownMap, decl.name.range,
                           fmt::format("unknown map {}", Quoted(decl.name.text)));
          SuggestFrom(d, decl.name.text, MapNames());
          continue;
        }
        for (const ast::FieldMapping& f : decl.fields)
          map_syntax_[static_cast<size_t>(*index)].fields.push_back(&f);
      }
    }
  }

  std::optional<int> FindMap(const std::string& name) const {
    auto it = map_index_.find(name);
    if (it == map_index_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<std::string> MapNames() const {
    std::vector<std::string> names;
    for (const Map& m : out_.maps) names.push_back(m.name);
    return names;
  }

  // A system name, `newest` or `manual`, as a rule of map `m`.
  std::optional<ConflictRule> ResolveRule(const Map& m, const ast::Name& name) {
    if (name.text == "newest") return ConflictRule{RuleKind::kNewest, Side::kLeft, name.range};
    if (name.text == "manual") return ConflictRule{RuleKind::kManual, Side::kLeft, name.range};
    if (auto side = ResolveSide(m, name, "a conflict rule"))
      return ConflictRule{RuleKind::kSide, *side, name.range};
    return std::nullopt;
  }

  // A system name as one of map `m`'s sides. `what` names the construct for
  // messages ("a filter").
  std::optional<Side> ResolveSide(const Map& m, const ast::Name& name, std::string_view what) {
    std::optional<int> system = FindSystem(name.text);
    std::string left = out_.systems[static_cast<size_t>(m.systems[0])].name;
    std::string right = out_.systems[static_cast<size_t>(m.systems[1])].name;
    if (system == m.systems[0]) return Side::kLeft;
    if (system == m.systems[1]) return Side::kRight;
    if (system) {
      Report(DiagKind::kNotASide, name.range,
             fmt::format("{} names system {}, which is not a side of map {} ({} and {})", what,
                         Quoted(name.text), Quoted(m.name), left, right));
      return std::nullopt;
    }
    bool is_rule = what == "a conflict rule";
    auto& d = Report(is_rule ? DiagKind::kUnknownRule : DiagKind::kUnknownSystem, name.range,
                     is_rule ? fmt::format("unknown conflict rule {}", Quoted(name.text))
                             : fmt::format("unknown system {}", Quoted(name.text)));
    std::vector<std::string> candidates = {left, right};
    if (is_rule) {
      candidates.push_back("newest");
      candidates.push_back("manual");
      d.AddNote(fmt::format("a conflict rule is {}, {}, newest or manual", left, right));
    }
    SuggestFrom(d, name.text, candidates);
    return std::nullopt;
  }

  void CheckMap(int index) {
    Map& m = out_.maps[static_cast<size_t>(index)];
    const ast::MapDecl& decl = *map_syntax_[static_cast<size_t>(index)].decl;
    std::optional<int> left = ResolveTableName(decl.left);
    std::optional<int> right = ResolveTableName(decl.right);
    if (!left || !right) return;
    m.tables = {*left, *right};
    m.systems = {table(*left).system, table(*right).system};
    if (m.systems[0] == m.systems[1]) {
      Report(DiagKind::kSideMismatch, decl.left.range.Through(decl.right.range),
             fmt::format("map {} connects {} and {}, two tables of system {}", Quoted(m.name),
                         table(*left).qualified_name, table(*right).qualified_name,
                         table(*left).system_name))
          .AddNote("a map keeps a table of one system in sync with a table of another");
      return;
    }
    map_ok_[static_cast<size_t>(index)] = true;
    for (Side side : {Side::kLeft, Side::kRight}) {
      const Table& t = table(m.table(side));
      if (t.key_columns.empty() && !reported_missing_key_.contains(m.table(side))) {
        reported_missing_key_.insert(m.table(side));
        Report(DiagKind::kMissingKey, side == Side::kLeft ? decl.left.range : decl.right.range,
               fmt::format("table {} has no key, so its rows cannot be matched with their partners",
                           t.qualified_name))
            .AddNote(t.range, "declare its alternate key in the table, for example: key (" +
                                  (t.columns.empty() ? std::string("COLUMN") : t.columns[0].name) +
                                  ");");
      }
    }
    CheckSettings(m, decl);
    CheckFields(index);
    CheckCoverage(index, decl);
    CheckRules(m, decl);
  }

  void CheckSettings(Map& m, const ast::MapDecl& decl) {
    for (size_t i = 0; i < decl.versions.size(); ++i) {
      const ast::VersionSetting& v = decl.versions[i];
      if (i > 0) {
        Report(DiagKind::kDuplicateSetting, v.range,
               fmt::format("map {} sets its version twice", Quoted(m.name)))
            .AddNote(decl.versions[0].range, "first set here");
        continue;
      }
      int* parts[] = {&m.version.major, &m.version.minor, &m.version.patch, &m.version.build};
      std::string_view text = v.text;
      for (int* part : parts) {
        if (text.empty()) break;
        size_t dot = text.find('.');
        std::string_view digits = text.substr(0, dot);
        auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *part);
        if (ec != std::errc()) {
          Report(DiagKind::kBadNumber, v.range,
                 fmt::format("version {} has a part too large for a number", v.text));
          break;
        }
        text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
      }
    }
    for (size_t i = 0; i < decl.masters.size(); ++i) {
      if (i > 0) {
        Report(DiagKind::kDuplicateSetting, decl.masters[i].range,
               fmt::format("map {} sets its conflict rule twice", Quoted(m.name)))
            .AddNote(decl.masters[0].range, "first set here");
        continue;
      }
      m.master = ResolveRule(m, decl.masters[i].rule);
    }
    bool initial_set = false;
    for (size_t i = 0; i < decl.initials.size(); ++i) {
      const ast::InitialSetting& s = decl.initials[i];
      if (i > 0) {
        Report(DiagKind::kDuplicateSetting, s.range,
               fmt::format("map {} sets its initial sync twice", Quoted(m.name)))
            .AddNote(decl.initials[0].range, "first set here");
        continue;
      }
      if (!s.side) {
        m.initial = InitialSync::kNone;
        initial_set = true;
        continue;
      }
      std::optional<Side> side = ResolveSide(m, *s.side, "initial sync");
      if (!side) continue;
      if (!Flows(m.direction, *side)) {
        Report(DiagKind::kNotASide, s.side->range,
               fmt::format("map {} only flows {} so it cannot be initialised from {}",
                           Quoted(m.name), Spelling(m.direction), s.side->text));
        continue;
      }
      m.initial = *side == Side::kLeft ? InitialSync::kFromLeft : InitialSync::kFromRight;
      initial_set = true;
    }
    if (!initial_set) {
      // Default: the side that wins conflicts seeds the other, or the side
      // data flows from in a one-way map.
      if (m.direction == Direction::kToLeft) {
        m.initial = InitialSync::kFromRight;
      } else if (m.direction == Direction::kBoth && m.master && m.master->kind == RuleKind::kSide &&
                 m.master->side == Side::kRight) {
        m.initial = InitialSync::kFromRight;
      }
    }
    std::array<const ast::FilterDecl*, 2> seen = {nullptr, nullptr};
    for (const ast::FilterDecl& f : decl.filters) {
      std::optional<Side> side = ResolveSide(m, f.side, "a filter");
      if (!side) continue;
      auto s = static_cast<size_t>(*side);
      if (seen[s] != nullptr) {
        Report(DiagKind::kDuplicateSetting, f.range,
               fmt::format("map {} has two filters on {}", Quoted(m.name), f.side.text))
            .AddNote(seen[s]->range, "first filter here")
            .AddNote("combine the conditions with 'and'");
        continue;
      }
      seen[s] = &f;
      if (!Flows(m.direction, *side)) {
        Report(DiagKind::kFilterNeverApplies, f.side.range,
               fmt::format(
                   "map {} only flows {}, so it never reads {} rows and this filter never applies",
                   Quoted(m.name), Spelling(m.direction), f.side.text))
            .AddNote(
                "a filter selects the source rows that flow; put it on the side data flows from");
      }
      Scope scope{m.table(*side), m.table(Other(*side)), fmt::format("the {} filter", f.side.text)};
      BoundExprPtr condition = Bind(*f.condition, scope);
      if (!condition) continue;
      if (condition->type.kind != TypeKind::kBool) {
        Report(DiagKind::kFilterNotBool, f.condition->range,
               fmt::format("a filter must be a boolean condition, but this one is {}",
                           condition->type.ToString()))
            .AddNote("compare it with a value, for example: PARTYTYPE == \"Organization\"");
        continue;
      }
      m.filters[s] = std::move(condition);
    }
  }

  // The key columns of `t` that neither `covered` holds nor a row of
  // `holder` can supply. A row supplies a key column that is a ref to a table
  // it refers to as well (the company of a company-striped table).
  std::vector<int> UnsuppliedKeyColumns(const Table& holder, const Table& t,
                                        const std::set<int>& covered) const {
    std::vector<int> missing;
    for (int k : t.key_columns) {
      if (covered.contains(k)) continue;
      const Column& other = t.columns[static_cast<size_t>(k)];
      bool supplied =
          other.type.kind == TypeKind::kRef &&
          std::any_of(holder.columns.begin(), holder.columns.end(), [&](const Column& c) {
            return c.type.kind == TypeKind::kRef && c.type.ref_table == other.type.ref_table;
          });
      if (!supplied) missing.push_back(k);
    }
    return missing;
  }

  diag::Diagnostic& ReportUnsuppliedKey(const ast::Expr& syntax, const Table& holder,
                                        const Table& t, int missing) {
    return Report(DiagKind::kLookupNotKey, syntax.range,
                  fmt::format("lookup {} cannot be written: the key of {} also has {}, which {} "
                              "cannot supply",
                              Quoted(ast::ExprToString(syntax)), t.qualified_name,
                              Quoted(t.columns[static_cast<size_t>(missing)].name),
                              holder.qualified_name))
        .AddNote(t.key_range, "the key is declared here")
        .AddNote(
            fmt::format("other key columns are taken from the row being written: they must be refs "
                        "to a table that {} also refers to",
                        holder.qualified_name));
  }

  // The column a written end writes, validating the end; nullopt after an
  // error. `end` is already bound.
  std::optional<int> WrittenColumn(const Map& m, const BoundExpr& end, const ast::Expr& syntax,
                                   Direction direction, Side side) {
    const auto* path = std::get_if<PathNode>(&end.node);
    if (path == nullptr) {
      if (direction == Direction::kBoth) {
        Report(DiagKind::kNotInvertible, syntax.range,
               fmt::format("{} cannot be written, so this mapping cannot be two-way",
                           Quoted(ast::ExprToString(syntax))))
            .AddNote("a two-way mapping needs a column or a lookup path on both sides")
            .AddNote(fmt::format("for a computed one-way field use '{}'",
                                 side == Side::kLeft ? "->" : "<-"));
      } else {
        Report(DiagKind::kTargetNotColumn, syntax.range,
               fmt::format("the written end of a mapping must be a column of {}, not {}",
                           table(m.table(side)).qualified_name, Quoted(ast::ExprToString(syntax))))
            .AddNote(
                fmt::format("the arrow points at the written column: '{}'",
                            side == Side::kLeft ? "COLUMN <- expression" : "expression -> column"));
      }
      return std::nullopt;
    }
    ColumnRef first = path->hops.front();
    const Column& column = table(first.table).columns[static_cast<size_t>(first.column)];
    if (column.is_id) {
      Report(DiagKind::kWritesIdColumn, syntax.range,
             fmt::format("{} is the system-assigned id of {} and cannot be written",
                         Quoted(column.name), table(first.table).qualified_name))
          .AddNote("rows are matched by their key; map the key columns instead");
      return std::nullopt;
    }
    // Each hop after the first lands in a table where it is found by key.
    for (size_t i = 1; i < path->hops.size(); ++i) {
      ColumnRef hop = path->hops[i];
      const Table& t = table(hop.table);
      // The first referenced table's key is judged for all the lookups
      // through the same ref at once (CheckLookupGroups). Further in, the
      // rest of a composite key comes from the row that holds the ref.
      if (i >= 2 && t.columns[static_cast<size_t>(hop.column)].key_position >= 0) {
        const Table& holder = table(path->hops[i - 1].table);
        std::vector<int> missing = UnsuppliedKeyColumns(holder, t, {hop.column});
        if (!missing.empty()) {
          ReportUnsuppliedKey(syntax, holder, t, missing.front());
          return std::nullopt;
        }
      }
      if (t.columns[static_cast<size_t>(hop.column)].key_position < 0) {
        auto& d = Report(DiagKind::kLookupNotKey, syntax.range,
                         fmt::format("lookup {} cannot be written: {} is not a key column of {}",
                                     Quoted(ast::ExprToString(syntax)), Quoted(ColumnName(hop)),
                                     t.qualified_name));
        if (t.key_columns.empty()) {
          d.AddNote(t.range, fmt::format("{} has no key", t.qualified_name));
        } else {
          std::string keys;
          for (int k : t.key_columns)
            keys += (keys.empty() ? "" : ", ") + t.columns[static_cast<size_t>(k)].name;
          d.AddNote(t.key_range, fmt::format("the key of {} is ({})", t.qualified_name, keys));
        }
        return std::nullopt;
      }
    }
    return first.column;
  }

  // Reports an end whose value is a ref (an internal id) rather than data.
  bool CheckNotRef(const BoundExpr& end, const ast::Expr& syntax) {
    if (end.type.kind != TypeKind::kRef) return true;
    const Table& target = table(end.type.ref_table);
    auto& d =
        Report(DiagKind::kLookupEndsOnRef, syntax.range,
               fmt::format("{} is a ref to {}; mappings exchange natural keys, not internal ids",
                           Quoted(ast::ExprToString(syntax)), target.qualified_name));
    if (!target.key_columns.empty()) {
      d.AddNote(fmt::format("name the referenced key column, for example: {}.{}",
                            ast::ExprToString(syntax),
                            target.columns[static_cast<size_t>(target.key_columns[0])].name));
    }
    return false;
  }

  void CheckFields(int index) {
    Map& m = out_.maps[static_cast<size_t>(index)];
    std::vector<const ast::FieldMapping*> checked;  // the syntax of each of m.fields
    for (const ast::FieldMapping* syntax : map_syntax_[static_cast<size_t>(index)].fields) {
      FieldMap field;
      field.direction = FromAst(syntax->direction);
      field.truncate = syntax->truncate;
      field.deferred = syntax->deferred;
      field.range = syntax->range;
      if ((m.direction == Direction::kToRight && field.direction != Direction::kToRight) ||
          (m.direction == Direction::kToLeft && field.direction != Direction::kToLeft)) {
        // Two fixes: usually the field's arrow is the slip, sometimes the
        // map's; the first note is the field rewritten with the map's arrow.
        Report(DiagKind::kDirectionNotAllowed, syntax->direction_range,
               fmt::format("map {} is one-way ({}), so its fields cannot flow {}", Quoted(m.name),
                           Spelling(m.direction), Spelling(field.direction)))
            .AddNote(fmt::format("to let the field flow the map's way, give it the map's arrow: "
                                 "'{} {} {}'",
                                 ast::ExprToString(*syntax->left), Spelling(m.direction),
                                 ast::ExprToString(*syntax->right)))
            .AddNote("or, to let data flow both ways, declare the map with '<->' and a 'master'");
        continue;
      }
      Scope left_scope{m.table(Side::kLeft), m.table(Side::kRight), "the left side of a mapping"};
      Scope right_scope{m.table(Side::kRight), m.table(Side::kLeft), "the right side of a mapping"};
      field.left = Bind(*syntax->left, left_scope);
      field.right = Bind(*syntax->right, right_scope);
      if (!field.left || !field.right) continue;
      bool ok = true;
      for (Side side : {Side::kLeft, Side::kRight}) {
        bool written = Flows(field.direction, Other(side));
        const BoundExprPtr& end = side == Side::kLeft ? field.left : field.right;
        const ast::Expr& end_syntax = side == Side::kLeft ? *syntax->left : *syntax->right;
        if (!CheckNotRef(*end, end_syntax)) {
          ok = false;
          continue;
        }
        if (!written) continue;
        std::optional<int> target = WrittenColumn(m, *end, end_syntax, field.direction, side);
        if (!target) {
          ok = false;
          continue;
        }
        (side == Side::kLeft ? field.left_target : field.right_target) = target;
        const Column& column = table(m.table(side)).columns[static_cast<size_t>(*target)];
        if (column.local) {
          Report(DiagKind::kLocalColumnMapped, end_syntax.range,
                 fmt::format("column {} of {} is declared local, yet this mapping syncs it",
                             Quoted(column.name), table(m.table(side)).qualified_name))
              .AddNote(column.range, "declared local here; drop 'local' or the mapping");
        }
        if (syntax->truncate && end->type.kind != TypeKind::kString) {
          Report(DiagKind::kOptionHasNoEffect, syntax->range,
                 fmt::format("'truncate' has no effect: {} is {}, not a string",
                             Quoted(ast::ExprToString(end_syntax)), end->type.ToString()));
        }
      }
      if (!ok) continue;
      if (syntax->named_values || syntax->inline_values) {
        const ast::ValueMapBody* body = nullptr;
        std::optional<std::string> name;
        if (syntax->named_values) {
          auto it = value_maps_.find(syntax->named_values->text);
          if (it == value_maps_.end()) {
            auto& d =
                Report(DiagKind::kUnknownValueMap, syntax->named_values->range,
                       fmt::format("unknown value map {}", Quoted(syntax->named_values->text)));
            std::vector<std::string> names;
            for (const auto& [n, decl] : value_maps_) names.push_back(n);
            SuggestFrom(d, syntax->named_values->text, names);
            continue;
          }
          used_value_maps_.insert(it->first);
          body = &it->second->body;
          name = it->first;
        } else {
          body = &*syntax->inline_values;
        }
        field.values = ResolveValueMap(*body, field, *syntax);
        if (!field.values) continue;
        field.values->name = name;
      } else if (!CheckFieldTypes(m, field, *syntax)) {
        continue;
      }
      if (syntax->master) {
        field.master = ResolveRule(m, *syntax->master);
        if (field.master && field.direction != Direction::kBoth) {
          Report(DiagKind::kMasterNeverApplies, syntax->master->range,
                 fmt::format("conflict rule on a one-way mapping never applies: only {} is written",
                             table(m.table(field.direction == Direction::kToRight ? Side::kRight
                                                                                  : Side::kLeft))
                                 .system_name))
              .AddNote("a conflict needs edits on both sides of a two-way ('<->') mapping");
        }
      }
      m.fields.push_back(std::move(field));
      checked.push_back(syntax);
    }
    for (Side side : {Side::kLeft, Side::kRight}) CheckLookupGroups(m, checked, side);
  }

  // A written lookup, as one member of the lookups through its ref column.
  struct GroupMember {
    const PathNode* path;
    const ast::Expr* syntax;
    const FieldMap* field;
  };

  // The written lookups of `m` into `side` that go through the same ref
  // column find one referenced row together: each gives the value of a
  // different key column of the referenced table, and with the key columns
  // the written row supplies they must cover its key. `deferred` is all or
  // none, since they write one reference.
  void CheckLookupGroups(const Map& m, const std::vector<const ast::FieldMapping*>& syntax,
                         Side side) {
    std::map<int, std::vector<GroupMember>> groups;  // by ref column
    for (size_t f = 0; f < m.fields.size(); ++f) {
      const FieldMap& field = m.fields[f];
      const std::optional<int>& target =
          side == Side::kLeft ? field.left_target : field.right_target;
      if (!target) continue;
      const auto& path = std::get<PathNode>((side == Side::kLeft ? field.left : field.right)->node);
      if (!path.is_lookup()) continue;
      const ast::Expr* end = side == Side::kLeft ? syntax[f]->left.get() : syntax[f]->right.get();
      groups[*target].push_back({&path, end, &field});
    }
    const Table& holder = table(m.table(side));
    for (const auto& [ref, members] : groups) {
      const Table& t = table(members.front().path->hops[1].table);
      std::map<int, const GroupMember*> covered;  // key column of t -> member
      bool ok = true;
      for (const GroupMember& member : members) {
        int key = member.path->hops[1].column;
        auto [it, inserted] = covered.emplace(key, &member);
        if (inserted) continue;
        ok = false;
        Report(DiagKind::kLookupKeyTwice, member.syntax->range,
               fmt::format("lookup {} gives key column {} of {}, which another lookup through "
                           "{} already gives",
                           Quoted(ast::ExprToString(*member.syntax)),
                           Quoted(t.columns[static_cast<size_t>(key)].name), t.qualified_name,
                           Quoted(holder.columns[static_cast<size_t>(ref)].name)))
            .AddNote(it->second->syntax->range, "first lookup here")
            .AddNote(
                "the lookups through one ref find one row: each must give a different key "
                "column");
      }
      if (!ok) continue;
      std::set<int> keys;
      for (const auto& [key, member] : covered) keys.insert(key);
      std::vector<int> missing = UnsuppliedKeyColumns(holder, t, keys);
      if (!missing.empty() && members.size() == 1) {
        ReportUnsuppliedKey(*members.front().syntax, holder, t, missing.front())
            .AddNote(fmt::format("or match the row by several values: one written lookup through "
                                 "{} for each other key column",
                                 Quoted(holder.columns[static_cast<size_t>(ref)].name)));
        continue;
      }
      if (!missing.empty()) {
        std::string names;
        for (int k : missing) {
          names += (names.empty() ? "" : ", ") + Quoted(t.columns[static_cast<size_t>(k)].name);
        }
        Report(DiagKind::kLookupKeyIncomplete, members.front().syntax->range,
               fmt::format("the {} lookups through {} do not cover the key of {}: {} {} missing",
                           members.size(), Quoted(holder.columns[static_cast<size_t>(ref)].name),
                           t.qualified_name, names, missing.size() == 1 ? "is" : "are"))
            .AddNote(t.key_range, "the key is declared here")
            .AddNote(fmt::format("add a written lookup through {} for each missing key column, or "
                                 "make it a ref to a table that {} also refers to",
                                 Quoted(holder.columns[static_cast<size_t>(ref)].name),
                                 holder.qualified_name));
        continue;
      }
      auto deferred = std::find_if(members.begin(), members.end(),
                                   [](const GroupMember& g) { return g.field->deferred; });
      auto plain = std::find_if(members.begin(), members.end(),
                                [](const GroupMember& g) { return !g.field->deferred; });
      if (deferred != members.end() && plain != members.end()) {
        Report(DiagKind::kLookupGroupDeferred, plain->field->range,
               fmt::format("lookup {} is not 'deferred', but {} is, and both find the {} row of {}",
                           Quoted(ast::ExprToString(*plain->syntax)),
                           Quoted(ast::ExprToString(*deferred->syntax)), t.qualified_name,
                           Quoted(holder.columns[static_cast<size_t>(ref)].name)))
            .AddNote(deferred->field->range, "'deferred' here")
            .AddNote(
                "the lookups through one ref write one reference: mark all of them "
                "'deferred' or none");
      }
    }
  }

  static std::string Describe(const BoundExpr& e, const ast::Expr& syntax) {
    return fmt::format("{} ({})", Quoted(ast::ExprToString(syntax)), e.type.ToString());
  }

  bool CheckFieldTypes(const Map& m, const FieldMap& field, const ast::FieldMapping& syntax) {
    bool reported = false;
    bool rounds = false;  // a direction rounds a float into a decimal
    for (Side from : {Side::kLeft, Side::kRight}) {
      if (!Flows(field.direction, from) || reported) continue;
      const BoundExpr& source = from == Side::kLeft ? *field.left : *field.right;
      const BoundExpr& target = from == Side::kLeft ? *field.right : *field.left;
      const ast::Expr& source_syntax = from == Side::kLeft ? *syntax.left : *syntax.right;
      const ast::Expr& target_syntax = from == Side::kLeft ? *syntax.right : *syntax.left;
      Assignability a = CanAssign(source.type, target.type);
      if (a == Assignability::kNo) {
        auto& d =
            Report(DiagKind::kMappingTypeMismatch, syntax.range,
                   fmt::format("type mismatch: {} cannot be written into {}",
                               Describe(source, source_syntax), Describe(target, target_syntax)));
        if (target.type.kind == TypeKind::kInt && source.type.kind == TypeKind::kString) {
          d.AddNote(
              "an option set stored as int is usually mapped from text with a value map: values { "
              "\"a\" = 1 }");
        } else if (source.type.kind == TypeKind::kDateTime && target.type.kind == TypeKind::kDate) {
          d.AddNote("take the date part explicitly: date(...)");
        } else if (target.type.kind == TypeKind::kString) {
          d.AddNote("convert explicitly with to_string(...)");
        }
        reported = true;
        continue;
      }
      if (a == Assignability::kLossy) {
        rounds = true;
        if (!syntax.rounded) {
          Report(DiagKind::kLossyAssignment, syntax.range,
                 fmt::format("{} is written into {}: values are rounded to the column's scale",
                             Describe(source, source_syntax), Describe(target, target_syntax)));
        }
      }
      std::optional<int> column = from == Side::kLeft ? field.right_target : field.left_target;
      if (const auto* constant = std::get_if<ConstantNode>(&source.node);
          constant != nullptr && !field.truncate) {
        if (std::optional<std::string> size = SizeProblem(constant->value, target.type)) {
          Report(DiagKind::kMappingTypeMismatch, syntax.range,
                 fmt::format("constant cannot be written into {}: {}",
                             Quoted(ast::ExprToString(target_syntax)), *size));
          reported = true;
          continue;
        }
      }
      if (source.type.kind == TypeKind::kNull && column) {
        const Table& t = table(m.table(Other(from)));
        if (t.columns[static_cast<size_t>(*column)].not_null) {
          Report(
              DiagKind::kMappingTypeMismatch, syntax.range,
              fmt::format("null cannot be written into not-null column {} of {}",
                          Quoted(t.columns[static_cast<size_t>(*column)].name), t.qualified_name));
          reported = true;
        }
      }
    }
    if (!reported) CheckRounding(m, field, syntax, rounds);
    return !reported;
  }

  // W0108 for a two-way mapping between decimals of different scales, and
  // W0107 for `rounded` on a mapping that rounds in no direction.
  // `float_rounds`: a float is written into a decimal (W0104's case).
  void CheckRounding(const Map& m, const FieldMap& field, const ast::FieldMapping& syntax,
                     bool float_rounds) {
    std::optional<Side> narrowed;  // the side whose column has the smaller scale
    for (Side from : {Side::kLeft, Side::kRight}) {
      const Type& source = (from == Side::kLeft ? *field.left : *field.right).type;
      const Type& target = (from == Side::kLeft ? *field.right : *field.left).type;
      if (Flows(field.direction, from) && source.kind == TypeKind::kDecimal &&
          target.kind == TypeKind::kDecimal && target.scale < source.scale) {
        narrowed = Other(from);
      }
    }
    if (syntax.rounded && !narrowed && !float_rounds) {
      Report(DiagKind::kOptionHasNoEffect, syntax.range,
             "'rounded' has no effect: this mapping rounds no value");
      return;
    }
    if (!narrowed || field.direction != Direction::kBoth || syntax.rounded) return;
    Side wide = Other(*narrowed);
    const BoundExpr& small = *narrowed == Side::kLeft ? *field.left : *field.right;
    const BoundExpr& large = wide == Side::kLeft ? *field.left : *field.right;
    const ast::Expr& small_syntax = *narrowed == Side::kLeft ? *syntax.left : *syntax.right;
    const ast::Expr& large_syntax = wide == Side::kLeft ? *syntax.left : *syntax.right;
    Report(DiagKind::kRoundsOneWay, syntax.range,
           fmt::format("{} and {} are synced both ways, but values written into {} are rounded "
                       "to {} decimals",
                       Describe(large, large_syntax), Describe(small, small_syntax),
                       Quoted(ast::ExprToString(small_syntax)), small.type.scale))
        .AddNote(fmt::format(
            "{} has scale {} and {} scale {}: a {} value with more than {} decimals never comes "
            "back as it was; if that is intended, say so with 'rounded' on the mapping",
            Quoted(ast::ExprToString(large_syntax)), large.type.scale,
            Quoted(ast::ExprToString(small_syntax)), small.type.scale,
            table(m.table(wide)).system_name, small.type.scale));
  }

  std::optional<ValueMap> ResolveValueMap(const ast::ValueMapBody& body, const FieldMap& field,
                                          const ast::FieldMapping& syntax) {
    ValueMap out;
    bool ok = true;
    std::array<const Type*, 2> types = {&field.left->type, &field.right->type};
    std::array<std::map<std::string, const ast::ValueKey*>, 2> seen;
    for (const ast::ValueEntry& entry : body.entries) {
      std::array<const ast::ValueKey*, 2> keys = {&entry.left, &entry.right};
      std::array<std::optional<Constant>, 2> values;
      for (Side side : {Side::kLeft, Side::kRight}) {
        auto s = static_cast<size_t>(side);
        const ast::ValueKey& key = *keys[s];
        if (key.wildcard) {
          bool written = Flows(field.direction, Other(side));
          if (field.direction == Direction::kBoth) {
            Report(DiagKind::kValueMapNotInjective, key.range,
                   "a '*' default makes a value map one-way, but this mapping is two-way")
                .AddNote("use '->' or '<-', or list every value");
            ok = false;
          } else if (written) {
            Report(DiagKind::kValueMapNoDefault, key.range,
                   fmt::format("'*' stands on the {} side, which this mapping writes; a written "
                               "value must be exact",
                               SideName(side)))
                .AddNote("'*' matches any other value read from the source side");
            ok = false;
          }
          if (auto [it, inserted] = seen[s].emplace("*", &key); !inserted) {
            Report(DiagKind::kDuplicateValueEntry, key.range,
                   "'*' appears twice on the same side of this value map")
                .AddNote(it->second->range, "first here");
            ok = false;
          }
          continue;
        }
        values[s] = MakeConstant(key.value);
        if (!values[s]) {
          ok = false;
          continue;
        }
        if (values[s]->kind == TypeKind::kNull) {
          Report(DiagKind::kValueEntryType, key.range, "null cannot be a value-map entry")
              .AddNote("null always maps to null; list only values");
          ok = false;
          continue;
        }
        std::optional<Constant> coerced = CoerceConstant(*values[s], *types[s]);
        if (coerced) values[s] = coerced;
        if (!coerced) {
          const ast::Expr& end = side == Side::kLeft ? *syntax.left : *syntax.right;
          Report(DiagKind::kValueEntryType, key.range,
                 fmt::format("value {} is {}, but the {} side {} is {}", values[s]->ToString(),
                             values[s]->type().ToString(), SideName(side),
                             Quoted(ast::ExprToString(end)), types[s]->ToString()));
          ok = false;
          continue;
        }
        std::string identity = CanonicalKey(*values[s]);
        if (auto [it, inserted] = seen[s].emplace(identity, &key); !inserted) {
          bool read = Flows(field.direction, side);
          if (field.direction == Direction::kBoth) {
            Report(DiagKind::kValueMapNotInjective, key.range,
                   fmt::format("value {} appears twice on the {} side, so the two-way value map is "
                               "not one-to-one",
                               identity, SideName(side)))
                .AddNote(it->second->range, "first here")
                .AddNote("a two-way value map must pair each value with exactly one partner");
            ok = false;
          } else if (read) {
            Report(DiagKind::kDuplicateValueEntry, key.range,
                   fmt::format("value {} appears twice on the {} side, which is read", identity,
                               SideName(side)))
                .AddNote(it->second->range, "first here");
            ok = false;
          }
        }
      }
      if (entry.left.wildcard && entry.right.wildcard) continue;
      if (entry.left.wildcard) {
        if (values[1]) out.left_default = values[1];
      } else if (entry.right.wildcard) {
        if (values[0]) out.right_default = values[0];
      } else if (values[0] && values[1]) {
        out.entries.emplace_back(*values[0], *values[1]);
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  void CheckCoverage(int index, const ast::MapDecl& decl) {
    Map& m = out_.maps[static_cast<size_t>(index)];
    for (Side target : {Side::kLeft, Side::kRight}) {
      if (!Flows(m.direction, Other(target))) continue;
      const Table& t = table(m.table(target));
      std::map<int, const FieldMap*> written;
      for (const FieldMap& f : m.fields) {
        if (!Flows(f.direction, Other(target))) continue;
        std::optional<int> column = target == Side::kLeft ? f.left_target : f.right_target;
        if (!column) continue;
        auto [it, inserted] = written.emplace(*column, &f);
        // Lookups through one ref find its row together (CheckLookupGroups).
        if (!inserted && !(IsLookup(f, target) && IsLookup(*it->second, target))) {
          Report(DiagKind::kColumnWrittenTwice, f.range,
                 fmt::format("column {} of {} is written by two mappings of map {}",
                             Quoted(t.columns[static_cast<size_t>(*column)].name), t.qualified_name,
                             Quoted(m.name)))
              .AddNote(it->second->range, "also written here");
        }
      }
      // Without the field list (errors in fields) coverage cannot be judged.
      if (field_errors_in_map(index)) continue;
      for (int key : t.key_columns) {
        if (written.contains(key)) continue;
        const Column& column = t.columns[static_cast<size_t>(key)];
        auto& d =
            Report(DiagKind::kKeyNotFilled,
                   target == Side::kLeft ? decl.left.range : decl.right.range,
                   fmt::format("key column {} of {} is not filled by any mapping of map {}",
                               Quoted(column.name), t.qualified_name, Quoted(m.name)))
                .AddNote(t.key_range, "the key is declared here")
                .AddNote(column.is_id ? "it is also the table's system-assigned id; an alternate "
                                        "key is made of data columns"
                                      : "rows written into the table could not be matched with "
                                        "their partners");
        if (column.type.kind != TypeKind::kRef) continue;
        if (std::optional<std::string> hint = RefKeyHint(m, target, column)) d.AddNote(*hint);
      }
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const Column& column = t.columns[c];
        if (!column.not_null || column.is_id || column.default_value || column.key_position >= 0)
          continue;
        if (written.contains(static_cast<int>(c))) continue;
        Report(DiagKind::kNotNullNotFilled,
               target == Side::kLeft ? decl.left.range : decl.right.range,
               fmt::format("not-null column {} of {} gets no value from map {}",
                           Quoted(column.name), t.qualified_name, Quoted(m.name)))
            .AddNote(column.range, "declared here")
            .AddNote("map a value into it, give it a default ('default ...') or let it be null");
      }
    }
  }

  // How a key column that is a ref is usually filled: a lookup by the
  // referenced table's key, as the standard maps fill the company
  // ('DATAAREAID <-> msdyn_company.cdm_companycode'). The example reads the
  // other table's key column that no field reads, when there is exactly one.
  std::optional<std::string> RefKeyHint(const Map& m, Side target, const Column& ref) const {
    const Table& referenced = table(ref.type.ref_table);
    // The path ends on the key's value column; a composite key's other
    // columns are refs, taken from the row written (E0408).
    auto value_key =
        std::find_if(referenced.key_columns.begin(), referenced.key_columns.end(), [&](int key) {
          return referenced.columns[static_cast<size_t>(key)].type.kind != TypeKind::kRef;
        });
    if (value_key == referenced.key_columns.end()) return std::nullopt;
    std::string path = ref.name + "." + referenced.columns[static_cast<size_t>(*value_key)].name;
    Side source = Other(target);
    const Table& other = table(m.table(source));
    std::vector<std::string> unread;
    for (int key : other.key_columns) {
      bool read = std::any_of(m.fields.begin(), m.fields.end(), [&](const FieldMap& f) {
        const BoundExprPtr& end = source == Side::kLeft ? f.left : f.right;
        const auto* p = end ? std::get_if<PathNode>(&end->node) : nullptr;
        return p && p->hops.size() == 1 && p->hops[0].column == key;
      });
      if (!read) unread.push_back(other.columns[static_cast<size_t>(key)].name);
    }
    std::string value = unread.size() == 1 ? unread[0] : "COLUMN";
    const char* arrow = Spelling(m.direction);
    std::string example = target == Side::kRight ? value + " " + arrow + " " + path
                                                 : path + " " + arrow + " " + value;
    return fmt::format(
        "{} is a ref to {}: fill it with a lookup by that table's key, for example "
        "'{}'",
        Quoted(ref.name), referenced.qualified_name, example);
  }

  static bool IsLookup(const FieldMap& f, Side side) {
    const BoundExprPtr& end = side == Side::kLeft ? f.left : f.right;
    const auto* path = std::get_if<PathNode>(&end->node);
    return path != nullptr && path->is_lookup();
  }

  bool field_errors_in_map(int index) const {
    return out_.maps[static_cast<size_t>(index)].fields.size() !=
           map_syntax_[static_cast<size_t>(index)].fields.size();
  }

  void CheckRules(Map& m, const ast::MapDecl& decl) {
    size_t unruled_two_way = 0;
    size_t two_way = 0;
    for (const FieldMap& f : m.fields) {
      if (f.direction != Direction::kBoth) continue;
      ++two_way;
      if (!f.master) ++unruled_two_way;
    }
    if (decl.masters.empty()) {
      if (unruled_two_way > 0) {
        std::string left = out_.systems[static_cast<size_t>(m.systems[0])].name;
        std::string right = out_.systems[static_cast<size_t>(m.systems[1])].name;
        Report(DiagKind::kMissingMaster, decl.name.range,
               fmt::format("map {} has two-way fields but no conflict rule", Quoted(m.name)))
            .AddNote(fmt::format(
                "say who wins when both sides change a field: 'master {};', 'master {};', "
                "'master newest;' or 'master manual;'",
                left, right));
      }
      return;
    }
    if (!m.master) return;
    if (m.direction != Direction::kBoth) {
      Report(DiagKind::kMasterNeverApplies, decl.masters[0].range,
             fmt::format("map {} is one-way, so its conflict rule never applies", Quoted(m.name)));
    } else if (two_way > 0 && unruled_two_way == 0) {
      Report(DiagKind::kMasterNeverApplies, decl.masters[0].range,
             fmt::format(
                 "every two-way field of map {} has its own rule, so the map's rule never applies",
                 Quoted(m.name)));
    } else if (two_way == 0 && !field_errors_in_map(static_cast<int>(&m - out_.maps.data()))) {
      Report(DiagKind::kMasterNeverApplies, decl.masters[0].range,
             fmt::format("map {} has no two-way fields, so its conflict rule never applies",
                         Quoted(m.name)));
    }
  }

  // ---- expressions ----

  BoundExprPtr NewNode(const ast::Expr& syntax, Type type, auto node) {
    auto e = std::make_unique<BoundExpr>();
    e->type = std::move(type);
    e->range = syntax.range;
    e->node = std::move(node);
    return e;
  }

  BoundExprPtr BindPath(const ast::Expr& syntax, const ast::PathExpr& path, const Scope& scope,
                        bool mark_used = true) {
    PathNode node;
    int current = scope.table;
    Type type;
    for (size_t i = 0; i < path.segments.size(); ++i) {
      const ast::Name& segment = path.segments[i];
      std::optional<int> column = table(current).FindColumn(segment.text);
      if (!column && ambiguous_tables_.contains(current)) return nullptr;
      if (!column) {
        if (i == 0 && scope.other_table >= 0 && table(scope.other_table).FindColumn(segment.text)) {
          Report(DiagKind::kWrongSideColumn, segment.range,
                 fmt::format("{} is a column of {}, but {} reads {}", Quoted(segment.text),
                             table(scope.other_table).qualified_name, scope.what,
                             table(current).qualified_name))
              .AddNote(scope.what.find("filter") != std::string::npos
                           ? "a filter reads only the table of the side it names"
                           : "the left end of a mapping is over the map's left table, the right "
                             "end over its right table");
          return nullptr;
        }
        auto& d = Report(DiagKind::kUnknownColumn, segment.range,
                         fmt::format("unknown column {} in table {}", Quoted(segment.text),
                                     table(current).qualified_name));
        SuggestFrom(d, segment.text, ColumnNames(current));
        if (i == 0 && path.segments.size() == 1 && FindBuiltin(segment.text)) {
          d.AddNote(
              fmt::format("{} is a function; call it with parentheses", Quoted(segment.text)));
        }
        return nullptr;
      }
      ColumnRef ref{current, *column};
      if (mark_used) MarkUsed(ref);
      node.hops.push_back(ref);
      type = table(current).columns[static_cast<size_t>(*column)].type;
      if (type.kind == TypeKind::kNull) return nullptr;  // its type failed to resolve; reported
      if (i + 1 < path.segments.size()) {
        if (type.kind != TypeKind::kRef) {
          Report(
              DiagKind::kLookupThroughValue, segment.range,
              fmt::format("{} is {}, not a ref, so the lookup cannot continue to {}",
                          Quoted(segment.text), type.ToString(), Quoted(path.segments[i + 1].text)))
              .AddNote("a lookup path passes through ref columns: ref_column.key_column");
          return nullptr;
        }
        current = type.ref_table;
      }
    }
    return NewNode(syntax, type, std::move(node));
  }

  // Binds `syntax` over the row of scope.table. Returns null after reporting.
  BoundExprPtr Bind(const ast::Expr& syntax, const Scope& scope) {
    struct Visitor {
      Checker& c;
      const ast::Expr& syntax;
      const Scope& scope;

      BoundExprPtr operator()(const ast::LiteralExpr& e) {
        std::optional<Constant> value = c.MakeConstant(e.value);
        if (!value) return nullptr;
        Type type = value->type();
        return c.NewNode(syntax, type, ConstantNode{*value});
      }
      BoundExprPtr operator()(const ast::PathExpr& e) { return c.BindPath(syntax, e, scope); }
      BoundExprPtr operator()(const ast::UnaryExpr& e) {
        BoundExprPtr operand = c.Bind(*e.operand, scope);
        if (!operand) return nullptr;
        if (e.op == ast::UnaryOp::kNegate) {
          if (!operand->type.is_numeric() && operand->type.kind != TypeKind::kNull) {
            c.Report(DiagKind::kOperandTypeMismatch, syntax.range,
                     fmt::format("'-' needs a number, not {}", operand->type.ToString()));
            return nullptr;
          }
        } else if (operand->type.kind != TypeKind::kBool && operand->type.kind != TypeKind::kNull) {
          c.Report(DiagKind::kOperandTypeMismatch, syntax.range,
                   fmt::format("'not' needs a bool, not {}", operand->type.ToString()));
          return nullptr;
        }
        Type type = operand->type.kind == TypeKind::kNull && e.op == ast::UnaryOp::kNot
                        ? Type::Bool()
                        : operand->type;
        return c.NewNode(syntax, type, UnaryNode{e.op, std::move(operand)});
      }
      BoundExprPtr operator()(const ast::BinaryExpr& e) {
        BoundExprPtr lhs = c.Bind(*e.lhs, scope);
        BoundExprPtr rhs = c.Bind(*e.rhs, scope);
        if (!lhs || !rhs) return nullptr;
        std::optional<Type> type = c.BinaryType(e, *lhs, *rhs);
        if (!type) return nullptr;
        return c.NewNode(syntax, *type, BinaryNode{e.op, std::move(lhs), std::move(rhs)});
      }
      BoundExprPtr operator()(const ast::IsNullExpr& e) {
        BoundExprPtr operand = c.Bind(*e.operand, scope);
        if (!operand) return nullptr;
        return c.NewNode(syntax, Type::Bool(), IsNullNode{std::move(operand), e.negated});
      }
      BoundExprPtr operator()(const ast::InExpr& e) {
        BoundExprPtr operand = c.Bind(*e.operand, scope);
        if (!operand || !c.CheckValue(*operand, *e.operand)) return nullptr;
        InNode node{std::move(operand), {}, e.negated};
        bool ok = true;
        for (const ast::ExprPtr& candidate : e.candidates) {
          BoundExprPtr bound = c.Bind(*candidate, scope);
          if (!bound) {
            ok = false;
            continue;
          }
          if (!CommonType(node.operand->type, bound->type)) {
            c.Report(
                DiagKind::kOperandTypeMismatch, candidate->range,
                fmt::format("{} is {} and cannot be compared with {} ({})",
                            Quoted(ast::ExprToString(*candidate)), bound->type.ToString(),
                            Quoted(ast::ExprToString(*e.operand)), node.operand->type.ToString()));
            ok = false;
            continue;
          }
          node.candidates.push_back(std::move(bound));
        }
        if (!ok) return nullptr;
        return c.NewNode(syntax, Type::Bool(), std::move(node));
      }
      BoundExprPtr operator()(const ast::IfExpr& e) {
        BoundExprPtr condition = c.Bind(*e.condition, scope);
        BoundExprPtr then_value = c.Bind(*e.then_value, scope);
        BoundExprPtr else_value = c.Bind(*e.else_value, scope);
        if (!condition || !then_value || !else_value) return nullptr;
        if (condition->type.kind != TypeKind::kBool) {
          c.Report(DiagKind::kConditionNotBool, e.condition->range,
                   fmt::format("the condition of 'if' must be a bool, not {}",
                               condition->type.ToString()));
          return nullptr;
        }
        if (!c.CheckValue(*then_value, *e.then_value) || !c.CheckValue(*else_value, *e.else_value))
          return nullptr;
        std::optional<Type> type = CommonType(then_value->type, else_value->type);
        if (!type) {
          c.Report(DiagKind::kConditionNotBool, syntax.range,
                   fmt::format("the branches of 'if' have different types: {} and {}",
                               then_value->type.ToString(), else_value->type.ToString()))
              .AddNote("both branches must give the same kind of value");
          return nullptr;
        }
        return c.NewNode(
            syntax, *type,
            IfNode{std::move(condition), std::move(then_value), std::move(else_value)});
      }
      BoundExprPtr operator()(const ast::CallExpr& e) {
        std::optional<Builtin> builtin = FindBuiltin(e.callee.text);
        if (!builtin) {
          auto& d = c.Report(DiagKind::kUnknownFunction, e.callee.range,
                             fmt::format("unknown function {}", Quoted(e.callee.text)));
          std::vector<std::string> names;
          for (const BuiltinInfo& info : AllBuiltins()) names.push_back(std::string(info.name));
          c.SuggestFrom(d, e.callee.text, names);
          return nullptr;
        }
        const BuiltinInfo& info = Info(*builtin);
        std::vector<BoundExprPtr> args;
        std::vector<Type> types;
        bool ok = true;
        for (const ast::ExprPtr& arg : e.args) {
          BoundExprPtr bound = c.Bind(*arg, scope);
          if (!bound || !c.CheckValue(*bound, *arg)) {
            ok = false;
            continue;
          }
          types.push_back(bound->type);
          args.push_back(std::move(bound));
        }
        if (!ok) return nullptr;
        if (e.args.size() < info.min_args || e.args.size() > info.max_args) {
          std::string expected = info.min_args == info.max_args ? std::to_string(info.min_args)
                                 : info.max_args == SIZE_MAX
                                     ? fmt::format("at least {}", info.min_args)
                                     : fmt::format("{} or {}", info.min_args, info.max_args);
          c.Report(DiagKind::kBadCall, syntax.range,
                   fmt::format("{} takes {} argument{}, not {}", info.name, expected,
                               info.max_args == 1 ? "" : "s", e.args.size()))
              .AddNote(fmt::format("{}: {}", info.signature, info.summary));
          return nullptr;
        }
        std::string problem;
        std::optional<Type> type = ResolveCall(*builtin, types, &problem);
        if (!type) {
          c.Report(DiagKind::kBadCall, syntax.range, problem)
              .AddNote(fmt::format("{}: {}", info.signature, info.summary));
          return nullptr;
        }
        return c.NewNode(syntax, *type, CallNode{*builtin, std::move(args)});
      }
    };
    return std::visit(Visitor{*this, syntax, scope}, syntax.node);
  }

  // Operands of operators and functions are values, not refs.
  bool CheckValue(const BoundExpr& e, const ast::Expr& syntax) { return CheckNotRef(e, syntax); }

  std::optional<Type> BinaryType(const ast::BinaryExpr& e, const BoundExpr& lhs,
                                 const BoundExpr& rhs) {
    const ast::Expr& lhs_syntax = *e.lhs;
    const ast::Expr& rhs_syntax = *e.rhs;
    if (!CheckValue(lhs, lhs_syntax) || !CheckValue(rhs, rhs_syntax)) return std::nullopt;
    std::string op = ast::BinaryOpSpelling(e.op);
    auto mismatch = [&](std::string what) -> diag::Diagnostic& {
      return Report(DiagKind::kOperandTypeMismatch, e.op_range,
                    fmt::format("'{}' {}, but {} is {} and {} is {}", op, what,
                                Quoted(ast::ExprToString(lhs_syntax)), lhs.type.ToString(),
                                Quoted(ast::ExprToString(rhs_syntax)), rhs.type.ToString()));
    };
    if (e.op == BinaryOp::kAnd || e.op == BinaryOp::kOr) {
      auto is_bool = [](const Type& t) {
        return t.kind == TypeKind::kBool || t.kind == TypeKind::kNull;
      };
      if (!is_bool(lhs.type) || !is_bool(rhs.type)) {
        mismatch("needs two bools");
        return std::nullopt;
      }
      return Type::Bool();
    }
    if (IsComparison(e.op)) {
      if (lhs.type.kind == TypeKind::kNull || rhs.type.kind == TypeKind::kNull) {
        Report(DiagKind::kOperandTypeMismatch, e.op_range,
               fmt::format("'{}' with null is never true", op))
            .AddNote("test for null with 'is null' or 'is not null'");
        return std::nullopt;
      }
      std::optional<Type> common = CommonType(lhs.type, rhs.type);
      if (!common) {
        mismatch("compares values of one type");
        return std::nullopt;
      }
      if (IsOrdering(e.op) &&
          (common->kind == TypeKind::kBool || common->kind == TypeKind::kGuid)) {
        Report(
            DiagKind::kOperandTypeMismatch, e.op_range,
            fmt::format("'{}' cannot order {} values ({} and {}); only '==' and '!=' compare them",
                        op, common->ToString(), Quoted(ast::ExprToString(lhs_syntax)),
                        Quoted(ast::ExprToString(rhs_syntax))));
        return std::nullopt;
      }
      return Type::Bool();
    }
    std::optional<Type> type = ArithmeticType(ArithmeticChar(e.op), lhs.type, rhs.type);
    if (type) return type;
    if ((lhs.type.kind == TypeKind::kNull && rhs.type.is_numeric()) ||
        (rhs.type.kind == TypeKind::kNull && lhs.type.is_numeric())) {
      return lhs.type.kind == TypeKind::kNull ? rhs.type : lhs.type;
    }
    auto& d = mismatch("needs numbers");
    if (e.op == BinaryOp::kAdd &&
        (lhs.type.kind == TypeKind::kString || rhs.type.kind == TypeKind::kString)) {
      d.AddNote("join strings with concat(a, b)");
    }
    return std::nullopt;
  }

  // ---- dependencies ----

  void CollectLookups(const BoundExpr& e, std::vector<std::pair<int, SourceRange>>& out) {
    struct Walker {
      Checker& c;
      std::vector<std::pair<int, SourceRange>>& out;
      const BoundExpr& self;
      void operator()(const ConstantNode&) {}
      void operator()(const PathNode& p) {
        for (size_t i = 1; i < p.hops.size(); ++i) out.emplace_back(p.hops[i].table, self.range);
      }
      void operator()(const UnaryNode& n) { c.CollectLookups(*n.operand, out); }
      void operator()(const BinaryNode& n) {
        c.CollectLookups(*n.lhs, out);
        c.CollectLookups(*n.rhs, out);
      }
      void operator()(const IsNullNode& n) { c.CollectLookups(*n.operand, out); }
      void operator()(const InNode& n) {
        c.CollectLookups(*n.operand, out);
        for (const auto& x : n.candidates) c.CollectLookups(*x, out);
      }
      void operator()(const IfNode& n) {
        c.CollectLookups(*n.condition, out);
        c.CollectLookups(*n.then_value, out);
        c.CollectLookups(*n.else_value, out);
      }
      void operator()(const CallNode& n) {
        for (const auto& x : n.args) c.CollectLookups(*x, out);
      }
    };
    std::visit(Walker{*this, out, e}, e.node);
  }

  void CheckDependencies() {
    size_t n = out_.maps.size();
    // edge[a] = {b: where a looks up a table that b syncs}
    std::vector<std::map<int, SourceRange>> edges(n);
    for (size_t a = 0; a < n; ++a) {
      if (!map_ok_[a]) continue;
      const Map& m = out_.maps[a];
      // Only a written lookup needs the referenced row to exist on the other
      // side first; reading a lookup joins the source system's own rows.
      std::vector<std::pair<int, SourceRange>> lookups;
      for (const FieldMap& f : m.fields) {
        if (f.deferred) continue;
        if (f.left_target) CollectLookups(*f.left, lookups);
        if (f.right_target) CollectLookups(*f.right, lookups);
      }
      for (const auto& [referenced, range] : lookups) {
        for (size_t b = 0; b < n; ++b) {
          if (b == a || !map_ok_[b]) continue;
          const Map& other = out_.maps[b];
          if (other.tables[0] == referenced || other.tables[1] == referenced) {
            edges[a].emplace(static_cast<int>(b), range);
          }
        }
      }
      for (const auto& [b, range] : edges[a]) out_.maps[a].depends_on.push_back(b);
    }
    // Tarjan's strongly connected components; any of more than one map is a
    // cycle that initial sync cannot order.
    std::vector<int> order(n, -1);
    std::vector<int> low(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<int> stack;
    int counter = 0;
    std::vector<std::vector<int>> components;
    std::function<void(int)> visit = [&](int v) {
      order[static_cast<size_t>(v)] = low[static_cast<size_t>(v)] = counter++;
      stack.push_back(v);
      on_stack[static_cast<size_t>(v)] = true;
      for (const auto& [w, range] : edges[static_cast<size_t>(v)]) {
        if (order[static_cast<size_t>(w)] < 0) {
          visit(w);
          low[static_cast<size_t>(v)] =
              std::min(low[static_cast<size_t>(v)], low[static_cast<size_t>(w)]);
        } else if (on_stack[static_cast<size_t>(w)]) {
          low[static_cast<size_t>(v)] =
              std::min(low[static_cast<size_t>(v)], order[static_cast<size_t>(w)]);
        }
      }
      if (low[static_cast<size_t>(v)] == order[static_cast<size_t>(v)]) {
        std::vector<int> component;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[static_cast<size_t>(w)] = false;
          component.push_back(w);
        } while (w != v);
        components.push_back(std::move(component));
      }
    };
    for (size_t v = 0; v < n; ++v) {
      if (order[v] < 0) visit(static_cast<int>(v));
    }
    std::vector<bool> in_cycle(n, false);
    for (std::vector<int>& component : components) {
      if (component.size() < 2) continue;
      std::sort(component.begin(), component.end());
      std::string names;
      for (int v : component) {
        in_cycle[static_cast<size_t>(v)] = true;
        names += (names.empty() ? "" : ", ") + Quoted(out_.maps[static_cast<size_t>(v)].name);
      }
      auto& d = Report(
          DiagKind::kDependencyCycle, out_.maps[static_cast<size_t>(component[0])].range,
          fmt::format("maps {} look each other up in a cycle, so no order of initial sync works",
                      names));
      std::set<int> members(component.begin(), component.end());
      for (int v : component) {
        for (const auto& [w, range] : edges[static_cast<size_t>(v)]) {
          if (!members.contains(w)) continue;
          d.AddNote(range, fmt::format("map {} needs rows synced by map {}",
                                       Quoted(out_.maps[static_cast<size_t>(v)].name),
                                       Quoted(out_.maps[static_cast<size_t>(w)].name)));
        }
      }
      d.AddNote(
          "mark one of these mappings 'deferred': its lookup is then filled once both sides' rows "
          "exist, "
          "after initial sync");
    }
    // Kahn's algorithm, ties broken by declaration order; maps in a cycle go last.
    std::vector<int> remaining(n, 0);
    for (size_t a = 0; a < n; ++a) {
      for (const auto& [b, range] : edges[a]) {
        if (!in_cycle[a] || !in_cycle[static_cast<size_t>(b)]) ++remaining[a];
      }
    }
    std::vector<bool> done(n, false);
    for (size_t round = 0; round < n; ++round) {
      for (size_t a = 0; a < n; ++a) {
        if (done[a] || remaining[a] > 0) continue;
        done[a] = true;
        out_.initial_sync_order.push_back(static_cast<int>(a));
        for (size_t x = 0; x < n; ++x) {
          if (edges[x].contains(static_cast<int>(a)) && (!in_cycle[x] || !in_cycle[a]))
            --remaining[x];
        }
        break;
      }
    }
    for (size_t a = 0; a < n; ++a) {
      if (!done[a]) out_.initial_sync_order.push_back(static_cast<int>(a));
    }
  }

  // ---- tests ----

  void CheckTests() {
    std::map<std::pair<int, std::string>, SourceRange> seen;
    for (const ast::SourceUnit& unit : module_.units) {
      for (const ast::TestDecl& decl : unit.tests) {
        std::optional<int> map_index = FindMap(decl.map.text);
        if (!map_index) {
          auto& d = Report(DiagKind::kUnknownMap, decl.map.range,
                           fmt::format("unknown map {}", Quoted(decl.map.text)));
          SuggestFrom(d, decl.map.text, MapNames());
          continue;
        }
        if (!map_ok_[static_cast<size_t>(*map_index)]) continue;
        const Map& m = out_.maps[static_cast<size_t>(*map_index)];
        TestCase test;
        test.map = *map_index;
        test.name = decl.label.value_or("");
        test.range = decl.range;
        if (auto [it, inserted] = seen.emplace(std::pair(*map_index, test.name), decl.map.range);
            !inserted && !test.name.empty()) {
          Report(DiagKind::kDuplicateTest, decl.map.range,
                 fmt::format("map {} has two tests named \"{}\"", Quoted(m.name), test.name))
              .AddNote(it->second, "first here");
        }
        if (CheckTestSteps(m, decl, test)) out_.tests.push_back(std::move(test));
      }
    }
  }

  bool CheckTestSteps(const Map& m, const ast::TestDecl& decl, TestCase& test) {
    bool given = false;
    bool given_ok = false;
    bool expected = false;
    bool ok = true;
    auto misplaced = [&](const ast::TestStep& step, std::string message) {
      Report(DiagKind::kTestSide, step.range, std::move(message))
          .AddNote("a test is one 'given SIDE { ... }' followed by one 'expect ...'");
      ok = false;
    };
    for (const ast::TestStep& step : decl.steps) {
      if (step.kind == ast::TestStepKind::kGiven) {
        if (given) {
          misplaced(step, "this test already has a 'given' row");
          continue;
        }
        given = true;
        std::optional<Side> side = ResolveSide(m, *step.side, "a test row");
        if (!side) {
          ok = false;
          continue;
        }
        if (!Flows(m.direction, *side)) {
          Report(DiagKind::kTestSide, step.side->range,
                 fmt::format("map {} does not flow from {}, so a test cannot start there",
                             Quoted(m.name), step.side->text));
          ok = false;
          continue;
        }
        test.given_side = *side;
        given_ok = true;
        ok &= BindRow(step.row, m.table(*side), test.given);
        continue;
      }
      if (!given) {
        misplaced(step, "an 'expect' must follow the 'given' row");
        continue;
      }
      if (expected) {
        misplaced(step, "this test already has an 'expect'");
        continue;
      }
      expected = true;
      switch (step.kind) {
        case ast::TestStepKind::kExpectFiltered:
          test.expectation = Expectation::kFiltered;
          break;
        case ast::TestStepKind::kExpectError:
          test.expectation = Expectation::kError;
          test.error_text = step.error_text;
          break;
        default: {
          test.expectation = Expectation::kRow;
          if (!given_ok) break;  // the given row's problem is already reported
          std::optional<Side> side = ResolveSide(m, *step.side, "a test row");
          if (!side) {
            ok = false;
            break;
          }
          if (*side == test.given_side) {
            Report(DiagKind::kTestSide, step.side->range,
                   fmt::format("the expected row must be on the other side than the given row ({})",
                               table(m.table(Other(test.given_side))).system_name));
            ok = false;
            break;
          }
          ok &= BindRow(step.row, m.table(*side), test.expected);
        }
      }
    }
    if (ok && (!given || !expected)) {
      Report(DiagKind::kTestSide, decl.map.range,
             given ? "this test has no 'expect'" : "this test has no 'given' row")
          .AddNote("a test is one 'given SIDE { ... }' followed by one 'expect ...'");
      ok = false;
    }
    return ok;
  }

  bool BindRow(const ast::RowLiteral& row, int table_index, std::vector<RowValue>& out) {
    bool ok = true;
    std::map<std::string, SourceRange> seen;
    for (const ast::RowField& field : row.fields) {
      ast::Expr path_expr;
      path_expr.range = field.range;
      path_expr.node = ast::PathExpr{field.path};
      // A test row does not make a column "used": only maps sync columns.
      BoundExprPtr bound = BindPath(path_expr, std::get<ast::PathExpr>(path_expr.node),
                                    Scope{table_index, -1, "a test row"}, /*mark_used=*/false);
      if (!bound || !CheckNotRef(*bound, path_expr)) {
        ok = false;
        continue;
      }
      std::string key = ast::ExprToString(path_expr);
      if (auto [it, inserted] = seen.emplace(key, field.range); !inserted) {
        Report(DiagKind::kDuplicateField, field.range,
               fmt::format("{} is given twice in this row", Quoted(key)))
            .AddNote(it->second, "first here");
        ok = false;
        continue;
      }
      std::optional<Constant> value = MakeConstant(field.value);
      if (!value) {
        ok = false;
        continue;
      }
      std::optional<Constant> coerced = CoerceConstant(*value, bound->type);
      if (coerced) value = coerced;
      if (!coerced) {
        Report(DiagKind::kTestValueType, field.value.range,
               fmt::format("{} is {}, but {} is {}", value->ToString(), value->type().ToString(),
                           Quoted(key), bound->type.ToString()));
        ok = false;
        continue;
      }
      out.push_back(RowValue{std::get<PathNode>(bound->node).hops, *value, field.range});
    }
    return ok;
  }

  // ---- unused things ----

  void WarnUnused() {
    std::vector<bool> mapped(out_.tables.size(), false);
    std::vector<bool> referenced(out_.tables.size(), false);
    for (size_t i = 0; i < out_.maps.size(); ++i) {
      if (!map_ok_[i]) continue;
      for (int t : out_.maps[i].tables) mapped[static_cast<size_t>(t)] = true;
    }
    for (size_t t = 0; t < out_.tables.size(); ++t) {
      for (size_t c = 0; c < used_[t].size(); ++c) {
        if (used_[t][c]) referenced[t] = true;
      }
    }
    // Any ref to a table that a map references keeps the table in use.
    for (size_t t = 0; t < out_.tables.size(); ++t) {
      const Table& table_ref = out_.tables[t];
      if (!mapped[t] && !referenced[t]) {
        bool target_of_ref = false;
        for (size_t u = 0; u < out_.tables.size() && !target_of_ref; ++u) {
          if (!mapped[u]) continue;
          for (const Column& c : out_.tables[u].columns) {
            target_of_ref |=
                c.type.kind == TypeKind::kRef && c.type.ref_table == static_cast<int>(t);
          }
        }
        if (!target_of_ref) {
          Report(DiagKind::kUnusedTable, table_ref.range,
                 fmt::format("table {} is not used by any map", table_ref.qualified_name));
        }
        continue;
      }
      if (!mapped[t]) continue;
      for (size_t c = 0; c < table_ref.columns.size(); ++c) {
        const Column& column = table_ref.columns[c];
        if (used_[t][c] || column.local || column.is_id || column.key_position >= 0) continue;
        if (column.type.kind == TypeKind::kNull) continue;  // its type is already an error
        Report(DiagKind::kUnusedColumn, column.range,
               fmt::format("column {} of {} is not used by any map", Quoted(column.name),
                           table_ref.qualified_name))
            .AddNote("mark it 'local' if it deliberately does not sync");
      }
    }
    for (const auto& [name, decl] : value_maps_) {
      if (!used_value_maps_.contains(name)) {
        Report(DiagKind::kUnusedValueMap, decl->name.range,
               fmt::format("value map {} is not used by any mapping", Quoted(name)));
      }
    }
  }

  const ast::Module& module_;
  const CheckOptions& options_;
  Diagnostics& diags_;
  CheckedModule out_;
  std::unordered_map<std::string, int> system_index_;
  std::unordered_map<std::string, int> table_index_;
  std::unordered_map<std::string, int> map_index_;
  std::vector<TableSyntax> table_syntax_;
  std::vector<MapSyntax> map_syntax_;
  std::map<std::string, const ast::ValueMapDecl*> value_maps_;
  std::set<std::string> used_value_maps_;
  std::vector<std::vector<bool>> used_;
  std::vector<bool> map_ok_;
  std::set<int> reported_missing_key_;
  std::set<int> ambiguous_tables_;  // declared twice (E0211)
};

}  // namespace

CheckedModule Check(const ast::Module& module, const CheckOptions& options,
                    diag::Diagnostics& diagnostics) {
  return Checker(module, options, diagnostics).Run();
}

}  // namespace duet::check
