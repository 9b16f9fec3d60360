#include "compiler/ir/lower.h"

#include <fmt/format.h>

#include <map>

namespace duet::ir {
namespace {

using check::BoundExpr;
using check::Side;
using check::TypeKind;

// The IR type of a checked type. `null` literals have no type of their own;
// they take `fallback` (the type the context expects).
Type ToIr(const check::Type& t, const check::CheckedModule& model, Kind fallback = Kind::kBool) {
  Type out;
  switch (t.kind) {
    case TypeKind::kNull:
      out.kind = fallback;
      break;
    case TypeKind::kBool:
      out.kind = Kind::kBool;
      break;
    case TypeKind::kInt:
      out.kind = Kind::kInt;
      break;
    case TypeKind::kFloat:
      out.kind = Kind::kFloat;
      break;
    case TypeKind::kDecimal:
      out.kind = Kind::kDecimal;
      out.precision = t.precision;
      out.scale = t.scale;
      break;
    case TypeKind::kString:
      out.kind = Kind::kString;
      out.length = t.length;
      break;
    case TypeKind::kDate:
      out.kind = Kind::kDate;
      break;
    case TypeKind::kDateTime:
      out.kind = Kind::kDateTime;
      break;
    case TypeKind::kGuid:
      out.kind = Kind::kGuid;
      break;
    case TypeKind::kRef: {
      // A ref read for `is null`: it holds the referenced row's id.
      const check::Table& target = model.tables[static_cast<size_t>(t.ref_table)];
      if (target.id_column) {
        return ToIr(target.columns[static_cast<size_t>(*target.id_column)].type, model);
      }
      out.kind = Kind::kString;
      break;
    }
  }
  return out;
}

}  // namespace

Value ConvertConstant(const check::Constant& c, const Type& type) {
  if (c.kind == TypeKind::kNull) return Value::Null(type.kind);
  switch (type.kind) {
    case Kind::kBool:
      return Value::Bool(c.bool_value);
    case Kind::kInt:
      return Value::Int(c.int_value);
    case Kind::kFloat:
      if (c.kind == TypeKind::kInt) return Value::Float(static_cast<double>(c.int_value));
      return Value::Float(std::strtod(c.text.c_str(), nullptr));
    case Kind::kDecimal: {
      std::string text = c.kind == TypeKind::kInt ? std::to_string(c.int_value) : c.text;
      std::optional<value::int128> v = value::ParseDecimal(text, type.scale);
      return v ? Value::Decimal(*v, type.scale) : Value::Null(Kind::kDecimal);
    }
    case Kind::kString:
      return Value::String(c.text);
    case Kind::kDate: {
      std::optional<int64_t> days = value::ParseDate(c.text);
      return days ? Value::Date(*days) : Value::Null(Kind::kDate);
    }
    case Kind::kDateTime: {
      std::optional<int64_t> micros =
          c.kind == TypeKind::kDate
              ? std::optional<int64_t>(value::ParseDate(c.text).value_or(0) * value::kMicrosPerDay)
              : value::ParseDateTime(c.text);
      return micros ? Value::DateTime(*micros) : Value::Null(Kind::kDateTime);
    }
    case Kind::kGuid: {
      std::optional<std::array<uint8_t, 16>> guid = value::ParseGuid(c.text);
      if (!guid) return Value::Null(Kind::kGuid);
      Value v = Value::Null(Kind::kGuid);
      v.is_null = false;
      v.guid = *guid;
      return v;
    }
  }
  return Value::Null(type.kind);
}

namespace {

// The literal's own IR type (a decimal literal "12.50" is decimal(4, 2)).
Type ConstantType(const check::Constant& c, const check::CheckedModule& model, Kind fallback) {
  return ToIr(c.type(), model, fallback);
}

class TransformBuilder {
 public:
  TransformBuilder(const check::CheckedModule& model, Transform& out) : model_(model), out_(out) {}

  int Add(Node node) {
    out_.nodes.push_back(std::move(node));
    return static_cast<int>(out_.nodes.size() - 1);
  }

  int Constant(Value v, Type type) {
    Node n;
    n.op = Op::kConst;
    n.type = type;
    n.constant = std::move(v);
    return Add(std::move(n));
  }

  int Input(const std::vector<check::ColumnRef>& hops) {
    std::vector<std::string> path;
    for (const check::ColumnRef& hop : hops) {
      path.push_back(model_.tables[static_cast<size_t>(hop.table)]
                         .columns[static_cast<size_t>(hop.column)]
                         .name);
    }
    std::string key = fmt::format("{}", fmt::join(path, "."));
    auto it = input_nodes_.find(key);
    if (it != input_nodes_.end()) return it->second;
    const check::ColumnRef& last = hops.back();
    InputSlot slot;
    slot.path = std::move(path);
    slot.type = ToIr(model_.tables[static_cast<size_t>(last.table)]
                         .columns[static_cast<size_t>(last.column)]
                         .type,
                     model_);
    Node n;
    n.op = Op::kInput;
    n.type = slot.type;
    n.slot = static_cast<int>(out_.inputs.size());
    out_.inputs.push_back(std::move(slot));
    int index = Add(std::move(n));
    input_nodes_.emplace(key, index);
    return index;
  }

  // `node` converted to `type`; a no-op when it already has it. Null
  // constants are retyped rather than cast.
  int Coerce(int node, const Type& type) {
    const Node& n = out_.nodes[static_cast<size_t>(node)];
    if (n.type == type) return node;
    if (n.op == Op::kConst && n.constant.is_null) return Constant(Value::Null(type.kind), type);
    if (n.type.kind == type.kind &&
        (type.kind == Kind::kString || type.kind == Kind::kBool || type.kind == Kind::kInt ||
         type.kind == Kind::kDate || type.kind == Kind::kDateTime || type.kind == Kind::kGuid ||
         type.kind == Kind::kFloat)) {
      return node;  // lengths are checked when stored, not by casts
    }
    if (type.kind == Kind::kDecimal && n.type.kind == Kind::kDecimal &&
        n.type.scale == type.scale) {
      return node;  // precision is checked when stored
    }
    Node cast;
    cast.op = Op::kCast;
    cast.type = type;
    cast.args = {node};
    return Add(std::move(cast));
  }

  int Lower(const BoundExpr& e, Kind null_kind = Kind::kBool) {
    Type type = ToIr(e.type, model_, null_kind);
    // An expression typed null is built from null literals only (`-null`,
    // `abs(null)`): it cannot fail and is null, in whatever type the context
    // wants.
    if (e.type.kind == TypeKind::kNull) return Constant(Value::Null(type.kind), type);
    if (const auto* c = std::get_if<check::ConstantNode>(&e.node)) {
      Type own = ConstantType(c->value, model_, null_kind);
      return Constant(ConvertConstant(c->value, own), own);
    }
    if (const auto* p = std::get_if<check::PathNode>(&e.node)) return Input(p->hops);
    if (const auto* u = std::get_if<check::UnaryNode>(&e.node)) {
      int operand = Coerce(Lower(*u->operand, type.kind), type);
      Node n;
      n.op = u->op == ast::UnaryOp::kNegate ? Op::kNeg : Op::kNot;
      n.type = type;
      n.args = {operand};
      return Add(std::move(n));
    }
    if (const auto* b = std::get_if<check::BinaryNode>(&e.node)) return LowerBinary(e, *b, type);
    if (const auto* n = std::get_if<check::IsNullNode>(&e.node)) {
      Node out;
      out.op = n->negated ? Op::kIsNotNull : Op::kIsNull;
      out.type = type;
      out.args = {Lower(*n->operand)};
      return Add(std::move(out));
    }
    if (const auto* in = std::get_if<check::InNode>(&e.node)) {
      check::Type common = in->operand->type;
      for (const auto& c : in->candidates)
        common = check::CommonType(common, c->type).value_or(common);
      Type operand_type = ToIr(common, model_);
      if (operand_type.kind == Kind::kString) operand_type.length = 0;
      // Decimals compare by value at their own scales, as `==` does: a
      // common scale could overflow where the comparison cannot.
      auto coerce = [&](int node) {
        return operand_type.kind == Kind::kDecimal ? Coerce(node, DecimalOf(node))
                                                   : Coerce(node, operand_type);
      };
      Node out;
      out.op = Op::kIn;
      out.type = type;
      out.args.push_back(coerce(Lower(*in->operand, operand_type.kind)));
      for (const auto& c : in->candidates) out.args.push_back(coerce(Lower(*c, operand_type.kind)));
      int index = Add(std::move(out));
      if (!in->negated) return index;
      Node negate;
      negate.op = Op::kNot;
      negate.type = type;
      negate.args = {index};
      return Add(std::move(negate));
    }
    if (const auto* i = std::get_if<check::IfNode>(&e.node)) {
      Node out;
      out.op = Op::kIf;
      out.type = type;
      out.args = {Coerce(Lower(*i->condition), Type{Kind::kBool}),
                  Coerce(Lower(*i->then_value, type.kind), type),
                  Coerce(Lower(*i->else_value, type.kind), type)};
      return Add(std::move(out));
    }
    return LowerCall(std::get<check::CallNode>(e.node), type);
  }

  int LowerBinary(const BoundExpr& e, const check::BinaryNode& b, const Type& type) {
    Node n;
    n.type = type;
    switch (b.op) {
      case ast::BinaryOp::kAnd:
      case ast::BinaryOp::kOr:
        n.op = b.op == ast::BinaryOp::kAnd ? Op::kAnd : Op::kOr;
        n.args = {Coerce(Lower(*b.lhs), type), Coerce(Lower(*b.rhs), type)};
        return Add(std::move(n));
      case ast::BinaryOp::kEqual:
      case ast::BinaryOp::kNotEqual:
      case ast::BinaryOp::kLess:
      case ast::BinaryOp::kLessEqual:
      case ast::BinaryOp::kGreater:
      case ast::BinaryOp::kGreaterEqual: {
        static const std::map<ast::BinaryOp, Op> kOps = {
            {ast::BinaryOp::kEqual, Op::kEq},   {ast::BinaryOp::kNotEqual, Op::kNe},
            {ast::BinaryOp::kLess, Op::kLt},    {ast::BinaryOp::kLessEqual, Op::kLe},
            {ast::BinaryOp::kGreater, Op::kGt}, {ast::BinaryOp::kGreaterEqual, Op::kGe}};
        n.op = kOps.at(b.op);
        Type common =
            ToIr(check::CommonType(b.lhs->type, b.rhs->type).value_or(b.lhs->type), model_);
        // Strings compare by value whatever their declared lengths.
        if (common.kind == Kind::kString) common.length = 0;
        int lhs = Lower(*b.lhs, common.kind);
        int rhs = Lower(*b.rhs, common.kind);
        if (common.kind == Kind::kDecimal) {
          // Decimals compare by value; scales may differ.
          n.args = {Coerce(lhs, DecimalOf(lhs)), Coerce(rhs, DecimalOf(rhs))};
        } else {
          n.args = {Coerce(lhs, common), Coerce(rhs, common)};
        }
        return Add(std::move(n));
      }
      default:
        break;
    }
    static const std::map<ast::BinaryOp, Op> kArithmetic = {{ast::BinaryOp::kAdd, Op::kAdd},
                                                            {ast::BinaryOp::kSubtract, Op::kSub},
                                                            {ast::BinaryOp::kMultiply, Op::kMul},
                                                            {ast::BinaryOp::kDivide, Op::kDiv},
                                                            {ast::BinaryOp::kModulo, Op::kMod}};
    n.op = kArithmetic.at(b.op);
    int lhs = Lower(*b.lhs, type.kind);
    int rhs = Lower(*b.rhs, type.kind);
    if (type.kind == Kind::kDecimal) {
      // Operands keep their own scales; the operation rounds to the result's.
      n.args = {Coerce(lhs, DecimalOf(lhs)), Coerce(rhs, DecimalOf(rhs))};
    } else {
      n.args = {Coerce(lhs, type), Coerce(rhs, type)};
    }
    (void)e;
    return Add(std::move(n));
  }

  // The decimal type a node's value has as a decimal: itself, or an int as
  // decimal(19, 0).
  Type DecimalOf(int node) {
    const Type& t = out_.nodes[static_cast<size_t>(node)].type;
    if (t.kind == Kind::kDecimal) return t;
    return Type{Kind::kDecimal, 19, 0, 0};
  }

  int LowerCall(const check::CallNode& call, const Type& type) {
    using check::Builtin;
    std::vector<int> args;
    auto arg = [&](size_t i, const Type& want) {
      return Coerce(Lower(*call.args[i], want.kind), want);
    };
    const Type kStr{Kind::kString};
    const Type kInt{Kind::kInt};
    Node n;
    n.op = Op::kCall;
    n.type = type;
    auto simple = [&](Fn fn, std::initializer_list<Type> types) {
      n.fn = fn;
      size_t i = 0;
      for (const Type& t : types) n.args.push_back(arg(i++, t));
      return Add(std::move(n));
    };
    auto own = [&](size_t i) { return Lower(*call.args[i], type.kind); };
    switch (call.function) {
      case Builtin::kUpper:
        return simple(Fn::kUpper, {kStr});
      case Builtin::kLower:
        return simple(Fn::kLower, {kStr});
      case Builtin::kTrim:
        return simple(Fn::kTrim, {kStr});
      case Builtin::kLtrim:
        return simple(Fn::kLtrim, {kStr});
      case Builtin::kRtrim:
        return simple(Fn::kRtrim, {kStr});
      case Builtin::kLength:
        return simple(Fn::kLength, {kStr});
      case Builtin::kSubstr:
        return simple(Fn::kSubstr, {kStr, kInt, kInt});
      case Builtin::kLeft:
        return simple(Fn::kLeft, {kStr, kInt});
      case Builtin::kRight:
        return simple(Fn::kRight, {kStr, kInt});
      case Builtin::kReplace:
        return simple(Fn::kReplace, {kStr, kStr, kStr});
      case Builtin::kConcat:
        n.fn = Fn::kConcat;
        for (size_t i = 0; i < call.args.size(); ++i) n.args.push_back(arg(i, kStr));
        return Add(std::move(n));
      case Builtin::kCoalesce:
        n.op = Op::kCoalesce;
        for (size_t i = 0; i < call.args.size(); ++i) n.args.push_back(Coerce(own(i), type));
        return Add(std::move(n));
      case Builtin::kAbs:
        n.fn = Fn::kAbs;
        n.args = {Coerce(own(0), type)};
        return Add(std::move(n));
      case Builtin::kRound:
        n.fn = Fn::kRound;
        n.args = {Coerce(own(0), type),
                  call.args.size() > 1 ? arg(1, kInt) : Constant(Value::Int(0), kInt)};
        return Add(std::move(n));
      case Builtin::kYear:
      case Builtin::kMonth:
      case Builtin::kDay: {
        n.fn = call.function == Builtin::kYear    ? Fn::kYear
               : call.function == Builtin::kMonth ? Fn::kMonth
                                                  : Fn::kDay;
        int a = Lower(*call.args[0], Kind::kDate);
        n.args = {a};
        return Add(std::move(n));
      }
      case Builtin::kDate: {
        int a = Lower(*call.args[0], Kind::kDateTime);
        Kind k = out_.nodes[static_cast<size_t>(a)].type.kind;
        if (k == Kind::kDate) return a;
        n.fn = k == Kind::kString ? Fn::kDateOfString : Fn::kDateOfDateTime;
        n.args = {a};
        return Add(std::move(n));
      }
      case Builtin::kAddDays:
        n.fn = Fn::kAddDays;
        n.args = {Coerce(own(0), type), arg(1, kInt)};
        return Add(std::move(n));
      case Builtin::kToString:
        n.fn = Fn::kToString;
        n.args = {Lower(*call.args[0], Kind::kString)};
        return Add(std::move(n));
      case Builtin::kToInt:
        n.fn = Fn::kToInt;
        n.args = {Lower(*call.args[0], Kind::kInt)};
        return Add(std::move(n));
      case Builtin::kToFloat:
        n.fn = Fn::kToFloat;
        n.args = {Lower(*call.args[0], Kind::kFloat)};
        return Add(std::move(n));
    }
    return Constant(Value::Null(type.kind), type);
  }

  // Whether a decimal or int key is a value of decimal type `t`: a key with
  // more digits than `t` holds equals no value of `t`, so it must not be
  // rounded into one that it does not name.
  static bool HoldsExactly(const check::Constant& c, const Type& t) {
    if (t.kind != Kind::kDecimal || (c.kind != TypeKind::kDecimal && c.kind != TypeKind::kInt))
      return true;
    std::string text = c.kind == TypeKind::kInt ? std::to_string(c.int_value) : c.text;
    size_t point = text.find('.');
    std::string whole = text.substr(0, point);
    std::string fraction = point == std::string::npos ? "" : text.substr(point + 1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    size_t first = whole.find_first_not_of("-+0");
    size_t integer_digits = first == std::string::npos ? 0 : whole.size() - first;
    return static_cast<int>(integer_digits) <= t.precision - t.scale &&
           static_cast<int>(fraction.size()) <= t.scale;
  }

  int AddValueMap(const check::ValueMap& vm, Side from, const Type& from_type,
                  const Type& to_type) {
    ValueMapTable table;
    table.from = from_type;
    table.to = to_type;
    for (const auto& [left, right] : vm.entries) {
      const check::Constant& key = from == Side::kLeft ? left : right;
      const check::Constant& value = from == Side::kLeft ? right : left;
      if (!HoldsExactly(key, from_type)) continue;  // matches nothing
      table.entries.emplace_back(ConvertConstant(key, from_type), ConvertConstant(value, to_type));
    }
    const std::optional<check::Constant>& otherwise =
        from == Side::kLeft ? vm.left_default : vm.right_default;
    if (otherwise) table.otherwise = ConvertConstant(*otherwise, to_type);
    out_.value_maps.push_back(std::move(table));
    return static_cast<int>(out_.value_maps.size() - 1);
  }

 private:
  const check::CheckedModule& model_;
  Transform& out_;
  std::map<std::string, int> input_nodes_;
};

Transform LowerDirection(const check::CheckedModule& model, const check::Map& map, Side from) {
  Side to = check::Other(from);
  const check::Table& source = model.tables[static_cast<size_t>(map.table(from))];
  const check::Table& target = model.tables[static_cast<size_t>(map.table(to))];
  Transform t;
  t.map = map.name;
  t.from_system = source.system_name;
  t.to_system = target.system_name;
  t.source_table = source.qualified_name;
  t.target_table = target.qualified_name;
  TransformBuilder b(model, t);
  if (const check::BoundExprPtr& filter = map.filters[static_cast<size_t>(from)]) {
    t.filter = b.Coerce(b.Lower(*filter), Type{Kind::kBool});
  }
  for (const check::FieldMap& f : map.fields) {
    if (!check::Flows(f.direction, from)) continue;
    const BoundExpr& source_end = from == Side::kLeft ? *f.left : *f.right;
    const BoundExpr& target_end = from == Side::kLeft ? *f.right : *f.left;
    const auto& hops = std::get<check::PathNode>(target_end.node).hops;
    OutputSlot slot;
    for (const check::ColumnRef& hop : hops) {
      slot.path.push_back(model.tables[static_cast<size_t>(hop.table)]
                              .columns[static_cast<size_t>(hop.column)]
                              .name);
    }
    const check::Column& written = target.columns[static_cast<size_t>(hops.front().column)];
    slot.type = ToIr(target_end.type, model);
    slot.not_null = written.not_null;
    slot.truncate = f.truncate;
    slot.is_key = written.key_position >= 0;
    int node = b.Lower(source_end, slot.type.kind);
    if (f.values) {
      const Type& from_type = t.nodes[static_cast<size_t>(node)].type;
      int table = b.AddValueMap(*f.values, from, from_type, slot.type);
      Node n;
      n.op = Op::kValueMap;
      n.type = slot.type;
      n.value_map = table;
      n.args = {node};
      node = b.Add(std::move(n));
    }
    node = b.Coerce(node, slot.type);
    t.assignments.push_back(Assignment{static_cast<int>(t.outputs.size()), node});
    t.outputs.push_back(std::move(slot));
  }
  return t;
}

}  // namespace

Module Lower(const check::CheckedModule& model) {
  Module module;
  for (const check::Map& map : model.maps) {
    for (Side from : {Side::kLeft, Side::kRight}) {
      if (check::Flows(map.direction, from))
        module.transforms.push_back(LowerDirection(model, map, from));
    }
  }
  return module;
}

}  // namespace duet::ir
