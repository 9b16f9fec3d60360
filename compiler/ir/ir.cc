#include "compiler/ir/ir.h"

#include <fmt/format.h>

#include "runtime/value/ops.h"

namespace duet::ir {
namespace {

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

std::string Quote(const std::string& text) { return value::QuoteString(text); }

}  // namespace

std::string Type::ToString() const {
  switch (kind) {
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kDecimal:
      return fmt::format("decimal({}, {})", precision, scale);
    case Kind::kString:
      return length == 0 ? "string" : fmt::format("string({})", length);
    case Kind::kDate:
      return "date";
    case Kind::kDateTime:
      return "datetime";
    case Kind::kGuid:
      return "guid";
  }
  return "?";
}

Value Value::Null(Kind kind) {
  Value v;
  v.kind = kind;
  return v;
}
Value Value::Bool(bool b) {
  Value v = Null(Kind::kBool);
  v.is_null = false;
  v.b = b;
  return v;
}
Value Value::Int(int64_t i) {
  Value v = Null(Kind::kInt);
  v.is_null = false;
  v.i = i;
  return v;
}
Value Value::Float(double f) {
  Value v = Null(Kind::kFloat);
  v.is_null = false;
  v.f = f;
  return v;
}
Value Value::Decimal(value::int128 unscaled, int scale) {
  Value v = Null(Kind::kDecimal);
  v.is_null = false;
  v.d = unscaled;
  v.scale = scale;
  return v;
}
Value Value::String(std::string s) {
  Value v = Null(Kind::kString);
  v.is_null = false;
  v.s = std::move(s);
  return v;
}
Value Value::Date(int64_t days) {
  Value v = Null(Kind::kDate);
  v.is_null = false;
  v.i = days;
  return v;
}
Value Value::DateTime(int64_t micros) {
  Value v = Null(Kind::kDateTime);
  v.is_null = false;
  v.i = micros;
  return v;
}

std::string Value::ToString() const {
  if (is_null) return "null";
  switch (kind) {
    case Kind::kBool:
      return b ? "true" : "false";
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kFloat:
      return value::FormatFloat(f);
    case Kind::kDecimal:
      return value::FormatDecimal(d, scale);
    case Kind::kString:
      return Quote(s);
    case Kind::kDate:
      return value::FormatDate(i);
    case Kind::kDateTime:
      return value::FormatDateTime(i);
    case Kind::kGuid:
      return value::FormatGuid(guid);
  }
  return "?";
}

bool Value::Equals(const Value& other) const {
  if (kind != other.kind || is_null != other.is_null) return false;
  if (is_null) return true;
  switch (kind) {
    case Kind::kBool:
      return b == other.b;
    case Kind::kInt:
    case Kind::kDate:
    case Kind::kDateTime:
      return i == other.i;
    case Kind::kFloat:
      return f == other.f || (f != f && other.f != other.f);
    case Kind::kDecimal:
      return value::DecimalCompare(d, scale, other.d, other.scale) == 0;
    case Kind::kString:
      return s == other.s;
    case Kind::kGuid:
      return guid == other.guid;
  }
  return false;
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kConst:
      return "const";
    case Op::kInput:
      return "input";
    case Op::kNeg:
      return "neg";
    case Op::kNot:
      return "not";
    case Op::kAdd:
      return "add";
    case Op::kSub:
      return "sub";
    case Op::kMul:
      return "mul";
    case Op::kDiv:
      return "div";
    case Op::kMod:
      return "mod";
    case Op::kEq:
      return "eq";
    case Op::kNe:
      return "ne";
    case Op::kLt:
      return "lt";
    case Op::kLe:
      return "le";
    case Op::kGt:
      return "gt";
    case Op::kGe:
      return "ge";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kIsNull:
      return "is_null";
    case Op::kIsNotNull:
      return "is_not_null";
    case Op::kIf:
      return "if";
    case Op::kCoalesce:
      return "coalesce";
    case Op::kIn:
      return "in";
    case Op::kCast:
      return "cast";
    case Op::kCall:
      return "call";
    case Op::kValueMap:
      return "valuemap";
  }
  return "?";
}

const char* FnName(Fn fn) {
  switch (fn) {
    case Fn::kUpper:
      return "upper";
    case Fn::kLower:
      return "lower";
    case Fn::kTrim:
      return "trim";
    case Fn::kLtrim:
      return "ltrim";
    case Fn::kRtrim:
      return "rtrim";
    case Fn::kLength:
      return "length";
    case Fn::kSubstr:
      return "substr";
    case Fn::kLeft:
      return "left";
    case Fn::kRight:
      return "right";
    case Fn::kReplace:
      return "replace";
    case Fn::kConcat:
      return "concat";
    case Fn::kAbs:
      return "abs";
    case Fn::kRound:
      return "round";
    case Fn::kYear:
      return "year";
    case Fn::kMonth:
      return "month";
    case Fn::kDay:
      return "day";
    case Fn::kDateOfDateTime:
      return "date_of_datetime";
    case Fn::kDateOfString:
      return "date_of_string";
    case Fn::kAddDays:
      return "add_days";
    case Fn::kToString:
      return "to_string";
    case Fn::kToInt:
      return "to_int";
    case Fn::kToFloat:
      return "to_float";
  }
  return "?";
}

std::string InputSlot::Name() const { return JoinPath(path); }
std::string OutputSlot::Name() const { return JoinPath(path); }

std::string Transform::SymbolName() const {
  return fmt::format("{}__{}_to_{}", map, from_system, to_system);
}

std::string Dump(const Transform& t) {
  std::string out = fmt::format("transform {} {} -> {} ({} -> {})\n", t.map, t.from_system,
                                t.to_system, t.source_table, t.target_table);
  for (size_t i = 0; i < t.inputs.size(); ++i) {
    out += fmt::format("  in  ${} {} : {}\n", i, t.inputs[i].Name(), t.inputs[i].type.ToString());
  }
  for (size_t i = 0; i < t.outputs.size(); ++i) {
    const OutputSlot& o = t.outputs[i];
    out += fmt::format("  out @{} {} : {}{}{}{}\n", i, o.Name(), o.type.ToString(),
                       o.not_null ? " not null" : "", o.is_key ? " key" : "",
                       o.truncate ? " truncate" : "");
  }
  for (size_t i = 0; i < t.value_maps.size(); ++i) {
    const ValueMapTable& v = t.value_maps[i];
    out += fmt::format("  valuemap #{} {} -> {} {{", i, v.from.ToString(), v.to.ToString());
    for (size_t e = 0; e < v.entries.size(); ++e) {
      out += fmt::format("{} {} = {}", e == 0 ? "" : ",", v.entries[e].first.ToString(),
                         v.entries[e].second.ToString());
    }
    if (v.otherwise)
      out += fmt::format("{} * = {}", v.entries.empty() ? "" : ",", v.otherwise->ToString());
    out += " }\n";
  }
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    std::string operands;
    switch (n.op) {
      case Op::kConst:
        operands = " " + n.constant.ToString();
        break;
      case Op::kInput:
        operands = fmt::format(" ${}", n.slot);
        break;
      case Op::kCall:
        operands = fmt::format(" {}", FnName(n.fn));
        break;
      case Op::kValueMap:
        operands = fmt::format(" #{}", n.value_map);
        break;
      default:
        break;
    }
    for (size_t a = 0; a < n.args.size(); ++a) {
      operands += fmt::format(
          "{} %{}", a == 0 && (n.op != Op::kCall && n.op != Op::kValueMap) ? "" : ",", n.args[a]);
    }
    out += fmt::format("  %{} = {}{} : {}\n", i, OpName(n.op), operands, n.type.ToString());
  }
  if (t.filter) out += fmt::format("  filter %{}\n", *t.filter);
  for (const Assignment& a : t.assignments) out += fmt::format("  @{} <- %{}\n", a.output, a.node);
  return out;
}

std::string Dump(const Module& module) {
  std::string out;
  for (size_t i = 0; i < module.transforms.size(); ++i) {
    if (i > 0) out += "\n";
    out += Dump(module.transforms[i]);
  }
  return out;
}

}  // namespace duet::ir
