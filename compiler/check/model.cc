#include "compiler/check/model.h"

#include <fmt/format.h>

namespace duet::check {

Type Constant::type() const {
  switch (kind) {
    case TypeKind::kDecimal: {
      size_t point = text.find('.');
      int scale = point == std::string::npos ? 0 : static_cast<int>(text.size() - point - 1);
      int digits = 0;
      for (char c : text) digits += c >= '0' && c <= '9';
      return Type::Decimal(std::max(digits, 1), scale);
    }
    case TypeKind::kString: {
      int64_t length = 0;
      for (char c : text) length += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      return Type::String(length);
    }
    default: {
      Type t;
      t.kind = kind;
      return t;
    }
  }
}

std::string Constant::ToString() const {
  switch (kind) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return bool_value ? "true" : "false";
    case TypeKind::kInt:
      return std::to_string(int_value);
    case TypeKind::kDecimal:
      return text;
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kDateTime:
    case TypeKind::kGuid: {
      std::string out = "\"";
      for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    default:
      return text;
  }
}

std::optional<int> Table::FindColumn(const std::string& column) const {
  auto it = column_index.find(column);
  if (it == column_index.end()) return std::nullopt;
  return it->second;
}

bool Flows(Direction direction, Side from) {
  switch (direction) {
    case Direction::kBoth:
      return true;
    case Direction::kToRight:
      return from == Side::kLeft;
    case Direction::kToLeft:
      return from == Side::kRight;
  }
  return false;
}

std::string Version::ToString() const {
  return build < 0 ? fmt::format("{}.{}.{}", major, minor, patch)
                   : fmt::format("{}.{}.{}.{}", major, minor, patch, build);
}

std::optional<int> CheckedModule::FindTable(const std::string& qualified_name) const {
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].qualified_name == qualified_name) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> CheckedModule::FindMap(const std::string& name) const {
  for (size_t i = 0; i < maps.size(); ++i) {
    if (maps[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

namespace {

const char* UnarySpelling(ast::UnaryOp op) { return op == ast::UnaryOp::kNegate ? "-" : "not "; }

std::string Operand(const BoundExpr& e, const CheckedModule& model) {
  bool compound =
      std::holds_alternative<BinaryNode>(e.node) || std::holds_alternative<IfNode>(e.node) ||
      std::holds_alternative<IsNullNode>(e.node) || std::holds_alternative<InNode>(e.node);
  std::string text = ExprText(e, model);
  return compound ? "(" + text + ")" : text;
}

}  // namespace

std::string ExprText(const BoundExpr& expr, const CheckedModule& model) {
  struct Printer {
    const CheckedModule& model;
    std::string operator()(const ConstantNode& n) const { return n.value.ToString(); }
    std::string operator()(const PathNode& n) const {
      std::string out;
      for (const ColumnRef& hop : n.hops) {
        if (!out.empty()) out += '.';
        out += model.tables[static_cast<size_t>(hop.table)]
                   .columns[static_cast<size_t>(hop.column)]
                   .name;
      }
      return out;
    }
    std::string operator()(const UnaryNode& n) const {
      return UnarySpelling(n.op) + Operand(*n.operand, model);
    }
    std::string operator()(const BinaryNode& n) const {
      return Operand(*n.lhs, model) + " " + ast::BinaryOpSpelling(n.op) + " " +
             Operand(*n.rhs, model);
    }
    std::string operator()(const IsNullNode& n) const {
      return Operand(*n.operand, model) + (n.negated ? " is not null" : " is null");
    }
    std::string operator()(const InNode& n) const {
      std::string out = Operand(*n.operand, model) + (n.negated ? " not in (" : " in (");
      for (size_t i = 0; i < n.candidates.size(); ++i) {
        out += (i ? ", " : "") + ExprText(*n.candidates[i], model);
      }
      return out + ")";
    }
    std::string operator()(const IfNode& n) const {
      return "if " + ExprText(*n.condition, model) + " then " + Operand(*n.then_value, model) +
             " else " + Operand(*n.else_value, model);
    }
    std::string operator()(const CallNode& n) const {
      std::string out = std::string(Info(n.function).name) + "(";
      for (size_t i = 0; i < n.args.size(); ++i)
        out += (i ? ", " : "") + ExprText(*n.args[i], model);
      return out + ")";
    }
  };
  return std::visit(Printer{model}, expr.node);
}

std::string RuleText(const ConflictRule& rule, const Map& map, const CheckedModule& model) {
  switch (rule.kind) {
    case RuleKind::kNewest:
      return "newest";
    case RuleKind::kManual:
      return "manual";
    case RuleKind::kSide:
      return model.systems[static_cast<size_t>(map.systems[static_cast<size_t>(rule.side)])].name;
  }
  return "?";
}

const char* DirectionText(Direction direction) {
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

}  // namespace duet::check
