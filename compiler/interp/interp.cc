#include "compiler/interp/interp.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "compiler/ir/messages.h"
#include "duet/abi.h"
#include "runtime/value/ops.h"

namespace duet::interp {
namespace {

using ir::Kind;
using ir::Node;
using ir::Op;
using ir::Value;

class Evaluator {
 public:
  Evaluator(const ir::Transform& t, std::span<const Value> inputs) : t_(t), inputs_(inputs) {}

  // Evaluates node `index`; nullopt after setting the error.
  std::optional<Value> Eval(int index) {
    const Node& n = t_.nodes[static_cast<size_t>(index)];
    switch (n.op) {
      case Op::kConst:
        return n.constant;
      case Op::kInput:
        return inputs_[static_cast<size_t>(n.slot)];
      case Op::kIf: {
        std::optional<Value> c = Eval(n.args[0]);
        if (!c) return std::nullopt;
        return Eval(!c->is_null && c->b ? n.args[1] : n.args[2]);
      }
      case Op::kAnd:
      case Op::kOr: {
        bool is_and = n.op == Op::kAnd;
        std::optional<Value> a = Eval(n.args[0]);
        if (!a) return std::nullopt;
        // false decides `and`, true decides `or`.
        if (!a->is_null && a->b != is_and) return Value::Bool(!is_and);
        std::optional<Value> b = Eval(n.args[1]);
        if (!b) return std::nullopt;
        if (!b->is_null && b->b != is_and) return Value::Bool(!is_and);
        if (a->is_null || b->is_null) return Value::Null(Kind::kBool);
        return Value::Bool(is_and);
      }
      case Op::kCoalesce: {
        for (int arg : n.args) {
          std::optional<Value> v = Eval(arg);
          if (!v) return std::nullopt;
          if (!v->is_null) return v;
        }
        return Value::Null(n.type.kind);
      }
      case Op::kIn: {
        std::optional<Value> operand = Eval(n.args[0]);
        if (!operand) return std::nullopt;
        if (operand->is_null) return Value::Null(Kind::kBool);
        bool saw_null = false;
        for (size_t i = 1; i < n.args.size(); ++i) {
          std::optional<Value> c = Eval(n.args[i]);
          if (!c) return std::nullopt;
          if (c->is_null) {
            saw_null = true;
            continue;
          }
          if (Same(*operand, *c)) return Value::Bool(true);
        }
        return saw_null ? Value::Null(Kind::kBool) : Value::Bool(false);
      }
      default:
        break;
    }
    std::vector<Value> args;
    args.reserve(n.args.size());
    for (int arg : n.args) {
      std::optional<Value> v = Eval(arg);
      if (!v) return std::nullopt;
      args.push_back(std::move(*v));
    }
    std::optional<Value> v = Apply(n, args);
    if (!v && result.message.empty())
      result.message = ir::NodeErrorMessage(t_, n, result.error_kind);
    return v;
  }

  bool Store(const ir::OutputSlot& slot, int index, Value v, Value* out) {
    if (v.is_null) {
      if (slot.not_null) {
        return Fail(DUET_ERR_NULL_IN_NOT_NULL, index, ir::NullInNotNullMessage(slot));
      }
      *out = std::move(v);
      return true;
    }
    if (slot.type.kind == Kind::kString && slot.type.length > 0) {
      size_t length = value::CodePointLength(v.s);
      if (static_cast<int64_t>(length) > slot.type.length) {
        if (!slot.truncate) {
          return Fail(DUET_ERR_STRING_TOO_LONG, index, ir::StringTooLongMessage(slot));
        }
        v.s = std::string(value::TruncateCodePoints(v.s, slot.type.length));
      }
    }
    if (slot.type.kind == Kind::kDecimal && !value::FitsPrecision(v.d, slot.type.precision)) {
      return Fail(DUET_ERR_DECIMAL_OVERFLOW, index, ir::DecimalTooLargeMessage(slot));
    }
    *out = std::move(v);
    return true;
  }

  RowResult result;

 private:
  bool Fail(int32_t kind, int slot, std::string message) {
    result.outcome = Outcome::kError;
    result.error_kind = kind;
    result.error_slot = slot;
    result.message = std::move(message);
    return false;
  }
  // An operation failed; Eval adds the node's message (ir/messages.h), so
  // `detail` is only for reading this file.
  std::optional<Value> Error(int32_t kind, std::string_view detail) {
    (void)detail;
    Fail(kind, -1, "");
    return std::nullopt;
  }

  // Total order within one kind (operands of a comparison share a kind).
  static int Compare(const Value& a, const Value& b) {
    switch (a.kind) {
      case Kind::kBool:
        return (a.b ? 1 : 0) - (b.b ? 1 : 0);
      case Kind::kInt:
      case Kind::kDate:
      case Kind::kDateTime:
        return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
      case Kind::kFloat:
        return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
      case Kind::kDecimal:
        return value::DecimalCompare(a.d, a.scale, b.d, b.scale);
      case Kind::kString: {
        int c = a.s.compare(b.s);
        return c < 0 ? -1 : c > 0 ? 1 : 0;
      }
      case Kind::kGuid:
        return a.guid < b.guid ? -1 : a.guid > b.guid ? 1 : 0;
    }
    return 0;
  }

  // Equality as `==` means it: NaN equals nothing, decimals by value.
  static bool Same(const Value& a, const Value& b) {
    if (a.kind == Kind::kFloat) return a.f == b.f;
    return Compare(a, b) == 0;
  }

  std::optional<Value> Decimal(value::int128 v, const ir::Type& type) {
    if (!value::FitsPrecision(v, type.precision)) {
      return Error(DUET_ERR_DECIMAL_OVERFLOW, "result does not fit");
    }
    return Value::Decimal(v, type.scale);
  }

  std::optional<Value> Arithmetic(const Node& n, const Value& a, const Value& b) {
    if (a.is_null || b.is_null) return Value::Null(n.type.kind);
    switch (n.type.kind) {
      case Kind::kInt: {
        int64_t r = 0;
        bool overflow = false;
        switch (n.op) {
          case Op::kAdd:
            overflow = __builtin_add_overflow(a.i, b.i, &r);
            break;
          case Op::kSub:
            overflow = __builtin_sub_overflow(a.i, b.i, &r);
            break;
          case Op::kMul:
            overflow = __builtin_mul_overflow(a.i, b.i, &r);
            break;
          case Op::kDiv:
          case Op::kMod:
            if (b.i == 0) return Error(DUET_ERR_DIVISION_BY_ZERO, "division by zero");
            if (a.i == INT64_MIN && b.i == -1) {
              overflow = n.op == Op::kDiv;
              r = 0;
            } else {
              r = n.op == Op::kDiv ? a.i / b.i : a.i % b.i;
            }
            break;
          default:
            break;
        }
        if (overflow) return Error(DUET_ERR_INT_OVERFLOW, "integer overflow in");
        return Value::Int(r);
      }
      case Kind::kFloat:
        switch (n.op) {
          case Op::kAdd:
            return Value::Float(a.f + b.f);
          case Op::kSub:
            return Value::Float(a.f - b.f);
          case Op::kMul:
            return Value::Float(a.f * b.f);
          case Op::kDiv:
            if (b.f == 0) return Error(DUET_ERR_DIVISION_BY_ZERO, "division by zero");
            return Value::Float(a.f / b.f);
          case Op::kMod:
            if (b.f == 0) return Error(DUET_ERR_DIVISION_BY_ZERO, "division by zero");
            return Value::Float(std::fmod(a.f, b.f));
          default:
            break;
        }
        break;
      case Kind::kDecimal: {
        value::int128 r = 0;
        bool ok = false;
        bool by_zero = false;
        int s = n.type.scale;
        switch (n.op) {
          case Op::kAdd:
            ok = value::DecimalAdd(a.d, a.scale, b.d, b.scale, s, &r);
            break;
          case Op::kSub:
            ok = value::DecimalSubtract(a.d, a.scale, b.d, b.scale, s, &r);
            break;
          case Op::kMul:
            ok = value::DecimalMultiply(a.d, a.scale, b.d, b.scale, s, &r);
            break;
          case Op::kDiv:
            ok = value::DecimalDivide(a.d, a.scale, b.d, b.scale, s, &r, &by_zero);
            break;
          case Op::kMod:
            ok = value::DecimalModulo(a.d, a.scale, b.d, b.scale, s, &r, &by_zero);
            break;
          default:
            break;
        }
        if (by_zero) return Error(DUET_ERR_DIVISION_BY_ZERO, "division by zero");
        if (!ok) return Error(DUET_ERR_DECIMAL_OVERFLOW, "decimal overflow in");
        return Decimal(r, n.type);
      }
      default:
        break;
    }
    return Error(DUET_ERR_BAD_CONVERSION, "unsupported arithmetic");
  }

  std::optional<Value> Cast(const ir::Type& to, const Value& v) {
    if (v.is_null) return Value::Null(to.kind);
    switch (to.kind) {
      case Kind::kDecimal: {
        value::int128 r = 0;
        bool ok = false;
        if (v.kind == Kind::kDecimal) {
          ok = value::Rescale(v.d, v.scale, to.scale, &r);
        } else if (v.kind == Kind::kInt) {
          ok = value::Rescale(v.i, 0, to.scale, &r);
        } else if (v.kind == Kind::kFloat) {
          std::optional<value::int128> d = value::DoubleToDecimal(v.f, to.scale);
          if (!d) return Error(DUET_ERR_BAD_CONVERSION, "float has no decimal value");
          ok = true;
          r = *d;
        }
        if (!ok) return Error(DUET_ERR_DECIMAL_OVERFLOW, "does not fit");
        return Decimal(r, to);
      }
      case Kind::kFloat:
        if (v.kind == Kind::kInt) return Value::Float(static_cast<double>(v.i));
        if (v.kind == Kind::kDecimal) return Value::Float(value::DecimalToDouble(v.d, v.scale));
        return v;
      case Kind::kInt:
        if (v.kind == Kind::kDecimal) {
          std::optional<int64_t> i = value::DecimalToInt(v.d, v.scale);
          if (!i) return Error(DUET_ERR_INT_OVERFLOW, "does not fit an int");
          return Value::Int(*i);
        }
        return v;
      case Kind::kDateTime:
        if (v.kind == Kind::kDate) {
          int64_t micros = 0;
          if (__builtin_mul_overflow(v.i, value::kMicrosPerDay, &micros))
            return Error(DUET_ERR_INT_OVERFLOW, "datetime out of range");
          return Value::DateTime(micros);
        }
        return v;
      default:
        return v;
    }
  }

  std::optional<Value> ToInt(const Value& v) {
    switch (v.kind) {
      case Kind::kInt:
        return v;
      case Kind::kBool:
        return Value::Int(v.b ? 1 : 0);
      case Kind::kDecimal:
        return Cast(ir::Type{Kind::kInt}, v);
      case Kind::kFloat: {
        std::optional<int64_t> i = value::FloatToInt(v.f);
        if (!i && std::isnan(v.f)) return Error(DUET_ERR_BAD_CONVERSION, "is not a number");
        if (!i) return Error(DUET_ERR_INT_OVERFLOW, "does not fit an int");
        return Value::Int(*i);
      }
      case Kind::kString: {
        std::optional<int64_t> i = value::ParseInt(v.s);
        if (!i) return Error(DUET_ERR_BAD_CONVERSION, "is not an integer");
        return Value::Int(*i);
      }
      default:
        return Error(DUET_ERR_BAD_CONVERSION, "cannot become an int");
    }
  }

  std::optional<Value> ToFloat(const Value& v) {
    switch (v.kind) {
      case Kind::kInt:
        return Value::Float(static_cast<double>(v.i));
      case Kind::kFloat:
        return v;
      case Kind::kDecimal:
        return Value::Float(value::DecimalToDouble(v.d, v.scale));
      case Kind::kString: {
        std::optional<double> d = value::ParseFloat(v.s);
        if (!d) return Error(DUET_ERR_BAD_CONVERSION, "is not a number");
        return Value::Float(*d);
      }
      default:
        return Error(DUET_ERR_BAD_CONVERSION, "cannot become a float");
    }
  }

  static std::string Text(const Value& v) { return v.kind == Kind::kString ? v.s : v.ToString(); }

  std::optional<Value> Round(const ir::Type& type, const Value& x, int64_t digits) {
    switch (x.kind) {
      case Kind::kDecimal: {
        value::int128 r = 0;
        if (!value::DecimalRound(x.d, x.scale, digits, &r))
          return Error(DUET_ERR_DECIMAL_OVERFLOW, "round");
        return Decimal(r, type);
      }
      case Kind::kFloat:
        return Value::Float(value::RoundFloat(x.f, digits));
      case Kind::kInt: {
        std::optional<int64_t> r = value::RoundInt(x.i, digits);
        if (!r) return Error(DUET_ERR_INT_OVERFLOW, "round");
        return Value::Int(*r);
      }
      default:
        return x;
    }
  }

  std::optional<Value> Call(const Node& n, const std::vector<Value>& a) {
    // concat skips nulls; every other function gives null for a null argument.
    if (n.fn == ir::Fn::kConcat) {
      std::string out;
      bool any = false;
      for (const Value& v : a) {
        if (v.is_null) continue;
        any = true;
        out += v.s;
      }
      return any ? Value::String(std::move(out)) : Value::Null(Kind::kString);
    }
    for (const Value& v : a) {
      if (v.is_null) return Value::Null(n.type.kind);
    }
    switch (n.fn) {
      case ir::Fn::kUpper:
        return Value::String(value::Upper(a[0].s));
      case ir::Fn::kLower:
        return Value::String(value::Lower(a[0].s));
      case ir::Fn::kTrim:
        return Value::String(std::string(value::Trim(a[0].s)));
      case ir::Fn::kLtrim:
        return Value::String(std::string(value::TrimLeft(a[0].s)));
      case ir::Fn::kRtrim:
        return Value::String(std::string(value::TrimRight(a[0].s)));
      case ir::Fn::kLength:
        return Value::Int(static_cast<int64_t>(value::CodePointLength(a[0].s)));
      case ir::Fn::kSubstr:
        return Value::String(std::string(value::Substring(a[0].s, a[1].i, a[2].i)));
      case ir::Fn::kLeft:
        return Value::String(std::string(value::Left(a[0].s, a[1].i)));
      case ir::Fn::kRight:
        return Value::String(std::string(value::Right(a[0].s, a[1].i)));
      case ir::Fn::kReplace:
        return Value::String(value::Replace(a[0].s, a[1].s, a[2].s));
      case ir::Fn::kAbs:
        switch (a[0].kind) {
          case Kind::kInt:
            if (a[0].i == INT64_MIN) return Error(DUET_ERR_INT_OVERFLOW, "integer overflow in abs");
            return Value::Int(a[0].i < 0 ? -a[0].i : a[0].i);
          case Kind::kFloat:
            return Value::Float(std::fabs(a[0].f));
          default:
            return Value::Decimal(a[0].d < 0 ? -a[0].d : a[0].d, a[0].scale);
        }
      case ir::Fn::kRound:
        return Round(n.type, a[0], a[1].i);
      case ir::Fn::kYear:
      case ir::Fn::kMonth:
      case ir::Fn::kDay: {
        int64_t days =
            a[0].kind == Kind::kDateTime ? value::FloorDiv(a[0].i, value::kMicrosPerDay) : a[0].i;
        int64_t y;
        unsigned m, d;
        value::CivilFromDays(days, &y, &m, &d);
        return Value::Int(n.fn == ir::Fn::kYear ? y : n.fn == ir::Fn::kMonth ? m : d);
      }
      case ir::Fn::kDateOfDateTime:
        return Value::Date(value::FloorDiv(a[0].i, value::kMicrosPerDay));
      case ir::Fn::kDateOfString: {
        std::optional<int64_t> days = value::ParseDate(value::Trim(a[0].s));
        if (!days) return Error(DUET_ERR_BAD_CONVERSION, "is not a date (YYYY-MM-DD)");
        return Value::Date(*days);
      }
      case ir::Fn::kAddDays: {
        int64_t r = 0;
        if (a[0].kind == Kind::kDate) {
          if (__builtin_add_overflow(a[0].i, a[1].i, &r))
            return Error(DUET_ERR_INT_OVERFLOW, "date out of range");
          return Value::Date(r);
        }
        int64_t delta = 0;
        if (__builtin_mul_overflow(a[1].i, value::kMicrosPerDay, &delta) ||
            __builtin_add_overflow(a[0].i, delta, &r)) {
          return Error(DUET_ERR_INT_OVERFLOW, "datetime out of range");
        }
        return Value::DateTime(r);
      }
      case ir::Fn::kToString:
        return Value::String(Text(a[0]));
      case ir::Fn::kToInt:
        return ToInt(a[0]);
      case ir::Fn::kToFloat:
        return ToFloat(a[0]);
      case ir::Fn::kConcat:
        break;
    }
    return Error(DUET_ERR_BAD_CONVERSION, "unknown function");
  }

  std::optional<Value> Apply(const Node& n, const std::vector<Value>& a) {
    switch (n.op) {
      case Op::kNeg:
        if (a[0].is_null) return a[0];
        switch (a[0].kind) {
          case Kind::kInt:
            if (a[0].i == INT64_MIN)
              return Error(DUET_ERR_INT_OVERFLOW, "integer overflow in negation");
            return Value::Int(-a[0].i);
          case Kind::kFloat:
            return Value::Float(-a[0].f);
          default:
            return Value::Decimal(-a[0].d, a[0].scale);
        }
      case Op::kNot:
        if (a[0].is_null) return a[0];
        return Value::Bool(!a[0].b);
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
        return Arithmetic(n, a[0], a[1]);
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        if (a[0].is_null || a[1].is_null) return Value::Null(Kind::kBool);
        // NaN compares unequal to everything, itself included.
        if (a[0].kind == Kind::kFloat && (std::isnan(a[0].f) || std::isnan(a[1].f))) {
          return Value::Bool(n.op == Op::kNe);
        }
        int c = Compare(a[0], a[1]);
        switch (n.op) {
          case Op::kEq:
            return Value::Bool(c == 0);
          case Op::kNe:
            return Value::Bool(c != 0);
          case Op::kLt:
            return Value::Bool(c < 0);
          case Op::kLe:
            return Value::Bool(c <= 0);
          case Op::kGt:
            return Value::Bool(c > 0);
          default:
            return Value::Bool(c >= 0);
        }
      }
      case Op::kIsNull:
        return Value::Bool(a[0].is_null);
      case Op::kIsNotNull:
        return Value::Bool(!a[0].is_null);
      case Op::kCast:
        return Cast(n.type, a[0]);
      case Op::kCall:
        return Call(n, a);
      case Op::kValueMap: {
        if (a[0].is_null) return Value::Null(n.type.kind);
        const ir::ValueMapTable& table = t_.value_maps[static_cast<size_t>(n.value_map)];
        for (const auto& [from, to] : table.entries) {
          if (Same(from, a[0])) return to;
        }
        if (table.otherwise) return *table.otherwise;
        return Error(DUET_ERR_NO_VALUE_MAPPING, "no value-map entry for");
      }
      default:
        break;
    }
    return Error(DUET_ERR_BAD_CONVERSION, "cannot evaluate");
  }

  const ir::Transform& t_;
  std::span<const Value> inputs_;
};

}  // namespace

namespace {

// Messages are cut where the C ABI's error buffer cuts them, so both engines
// report the same text.
RowResult Finish(RowResult r) {
  r.message = std::string(value::TruncateBytes(r.message, sizeof(duet_ctx::error_message) - 1));
  return r;
}

}  // namespace

RowResult Run(const ir::Transform& transform, std::span<const Value> inputs,
              std::vector<Value>& outputs) {
  Evaluator e(transform, inputs);
  outputs.assign(transform.outputs.size(), Value());
  if (transform.filter) {
    std::optional<Value> pass = e.Eval(*transform.filter);
    if (!pass) return Finish(e.result);
    if (pass->is_null || !pass->b) return RowResult{Outcome::kFiltered, 0, -1, {}};
  }
  for (const ir::Assignment& a : transform.assignments) {
    std::optional<Value> v = e.Eval(a.node);
    if (!v) {
      e.result.error_slot = a.output;
      return Finish(e.result);
    }
    const ir::OutputSlot& slot = transform.outputs[static_cast<size_t>(a.output)];
    if (!e.Store(slot, a.output, std::move(*v), &outputs[static_cast<size_t>(a.output)]))
      return Finish(e.result);
  }
  return e.result;
}

}  // namespace duet::interp
