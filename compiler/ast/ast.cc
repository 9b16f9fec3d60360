#include "compiler/ast/ast.h"

#include <fmt/format.h>

#include "runtime/value/ops.h"

namespace duet::ast {
namespace {

std::string Quote(const std::string& text) { return value::QuoteString(text); }

std::string PathToString(const std::vector<Name>& segments) {
  std::string out;
  for (const Name& n : segments) {
    if (!out.empty()) out += '.';
    out += n.text;
  }
  return out;
}

std::string ValueKeyToString(const ValueKey& key) {
  return key.wildcard ? "*" : LiteralToString(key.value);
}

std::string ValuesToString(const ValueMapBody& body) {
  std::string out = "{";
  for (size_t i = 0; i < body.entries.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += ValueKeyToString(body.entries[i].left) + " = " + ValueKeyToString(body.entries[i].right);
  }
  return out + " }";
}

std::string RowToString(const RowLiteral& row) {
  std::string out = "{";
  for (size_t i = 0; i < row.fields.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += PathToString(row.fields[i].path) + " = " + LiteralToString(row.fields[i].value);
  }
  return out + " }";
}

}  // namespace

const char* BinaryOpSpelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kModulo:
      return "%";
    case BinaryOp::kEqual:
      return "==";
    case BinaryOp::kNotEqual:
      return "!=";
    case BinaryOp::kLess:
      return "<";
    case BinaryOp::kLessEqual:
      return "<=";
    case BinaryOp::kGreater:
      return ">";
    case BinaryOp::kGreaterEqual:
      return ">=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
  }
  return "?";
}

const char* DirectionSpelling(Direction direction) {
  switch (direction) {
    case Direction::kBoth:
      return "<->";
    case Direction::kToRight:
      return "->";
    case Direction::kToLeft:
      return "<-";
  }
  return "?";
}

std::string LiteralToString(const Literal& literal) {
  switch (literal.kind) {
    case LiteralKind::kNull:
      return "null";
    case LiteralKind::kBool:
      return literal.bool_value ? "true" : "false";
    case LiteralKind::kInt:
    case LiteralKind::kDecimal:
      return literal.text;
    case LiteralKind::kString:
      return Quote(literal.text);
  }
  return "?";
}

std::string ExprToString(const Expr& expr) {
  struct Printer {
    std::string operator()(const LiteralExpr& e) const { return LiteralToString(e.value); }
    std::string operator()(const PathExpr& e) const { return PathToString(e.segments); }
    std::string operator()(const UnaryExpr& e) const {
      return (e.op == UnaryOp::kNegate ? "-" : "not ") + ExprToString(*e.operand);
    }
    std::string operator()(const BinaryExpr& e) const {
      return fmt::format("({} {} {})", ExprToString(*e.lhs), BinaryOpSpelling(e.op),
                         ExprToString(*e.rhs));
    }
    std::string operator()(const IsNullExpr& e) const {
      return fmt::format("({} is {}null)", ExprToString(*e.operand), e.negated ? "not " : "");
    }
    std::string operator()(const InExpr& e) const {
      std::string out =
          fmt::format("({} {}in (", ExprToString(*e.operand), e.negated ? "not " : "");
      for (size_t i = 0; i < e.candidates.size(); ++i) {
        if (i > 0) out += ", ";
        out += ExprToString(*e.candidates[i]);
      }
      return out + "))";
    }
    std::string operator()(const IfExpr& e) const {
      return fmt::format("(if {} then {} else {})", ExprToString(*e.condition),
                         ExprToString(*e.then_value), ExprToString(*e.else_value));
    }
    std::string operator()(const CallExpr& e) const {
      std::string out = e.callee.text + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i > 0) out += ", ";
        out += ExprToString(*e.args[i]);
      }
      return out + ")";
    }
  };
  return std::visit(Printer{}, expr.node);
}

std::string DumpModule(const Module& module) {
  std::string out;
  for (const SourceUnit& unit : module.units) {
    for (const ImportDecl& d : unit.imports) out += fmt::format("import {}\n", Quote(d.path));
    for (const SystemDecl& d : unit.systems) {
      out += fmt::format("system {}{}\n", d.name.text, d.label ? " " + Quote(*d.label) : "");
    }
    for (const TableDecl& t : unit.tables) {
      out += fmt::format("{}table {}{}\n", t.is_extension ? "extend " : "", t.name.ToString(),
                         t.label ? " " + Quote(*t.label) : "");
      for (const ColumnDecl& c : t.columns) {
        std::string type = c.type.ref ? "ref " + c.type.ref->ToString() : c.type.name.text;
        if (!c.type.args.empty()) {
          type += "(";
          for (size_t i = 0; i < c.type.args.size(); ++i) {
            type += (i ? ", " : "") + c.type.args[i].text;
          }
          type += ")";
        }
        out +=
            fmt::format("  column {} {}{}{}{}\n", c.name.text, type, c.not_null ? " not null" : "",
                        c.default_value ? " default " + LiteralToString(*c.default_value) : "",
                        c.local ? " local" : "");
      }
      for (const IdDecl& id : t.ids) out += fmt::format("  id {}\n", id.column.text);
      for (const KeyDecl& k : t.keys) {
        std::string names;
        for (const Name& n : k.columns) names += (names.empty() ? "" : ", ") + n.text;
        out += fmt::format("  key ({})\n", names);
      }
    }
    for (const ValueMapDecl& v : unit.value_maps) {
      out += fmt::format("valuemap {} {}\n", v.name.text, ValuesToString(v.body));
    }
    for (const MapDecl& m : unit.maps) {
      if (m.is_extension) {
        out += fmt::format("extend map {}\n", m.name.text);
      } else {
        out +=
            fmt::format("map {}{}: {} {} {}\n", m.name.text, m.label ? " " + Quote(*m.label) : "",
                        m.left.ToString(), DirectionSpelling(m.direction), m.right.ToString());
      }
      for (const VersionSetting& v : m.versions) out += fmt::format("  version {}\n", v.text);
      for (const MasterSetting& s : m.masters) out += fmt::format("  master {}\n", s.rule.text);
      for (const InitialSetting& s : m.initials) {
        out += fmt::format("  initial {}\n", s.side ? "from " + s.side->text : "none");
      }
      for (const FilterDecl& f : m.filters) {
        out += fmt::format("  filter {}: {}\n", f.side.text, ExprToString(*f.condition));
      }
      for (const FieldMapping& f : m.fields) {
        out += fmt::format("  field {} {} {}", ExprToString(*f.left),
                           DirectionSpelling(f.direction), ExprToString(*f.right));
        if (f.inline_values) out += " values " + ValuesToString(*f.inline_values);
        if (f.named_values) out += " values " + f.named_values->text;
        if (f.master) out += " master " + f.master->text;
        if (f.truncate) out += " truncate";
        if (f.rounded) out += " rounded";
        if (f.deferred) out += " deferred";
        out += "\n";
      }
    }
    for (const TestDecl& t : unit.tests) {
      out += fmt::format("test {}{}\n", t.map.text, t.label ? " " + Quote(*t.label) : "");
      for (const TestStep& s : t.steps) {
        switch (s.kind) {
          case TestStepKind::kGiven:
            out += fmt::format("  given {} {}\n", s.side->text, RowToString(s.row));
            break;
          case TestStepKind::kExpectRow:
            out += fmt::format("  expect {} {}\n", s.side->text, RowToString(s.row));
            break;
          case TestStepKind::kExpectFiltered:
            out += "  expect filtered\n";
            break;
          case TestStepKind::kExpectError:
            out +=
                fmt::format("  expect error{}\n", s.error_text ? " " + Quote(*s.error_text) : "");
            break;
        }
      }
    }
  }
  return out;
}

}  // namespace duet::ast
