#include "compiler/check/types.h"

#include <fmt/format.h>

#include <algorithm>

namespace duet::check {
namespace {

// An int seen as a decimal: 19 digits, no fraction.
Type AsDecimal(const Type& t) { return t.kind == TypeKind::kInt ? Type::Decimal(19, 0) : t; }

}  // namespace

std::string Type::ToString() const {
  switch (kind) {
    case TypeKind::kNull:
      return "null";
    case TypeKind::kBool:
      return "bool";
    case TypeKind::kInt:
      return "int";
    case TypeKind::kFloat:
      return "float";
    case TypeKind::kDecimal:
      return fmt::format("decimal({}, {})", precision, scale);
    case TypeKind::kString:
      return length == 0 ? "string" : fmt::format("string({})", length);
    case TypeKind::kDate:
      return "date";
    case TypeKind::kDateTime:
      return "datetime";
    case TypeKind::kGuid:
      return "guid";
    case TypeKind::kRef:
      return "ref " + ref_name;
  }
  return "?";
}

Assignability CanAssign(const Type& from, const Type& to) {
  if (from.kind == TypeKind::kNull)
    return to.kind == TypeKind::kRef ? Assignability::kNo : Assignability::kYes;
  if (from.kind == TypeKind::kRef || to.kind == TypeKind::kRef) return Assignability::kNo;
  switch (to.kind) {
    case TypeKind::kInt:
      return from.kind == TypeKind::kInt ? Assignability::kYes : Assignability::kNo;
    case TypeKind::kDecimal:
      if (from.kind == TypeKind::kInt || from.kind == TypeKind::kDecimal)
        return Assignability::kYes;
      return from.kind == TypeKind::kFloat ? Assignability::kLossy : Assignability::kNo;
    case TypeKind::kFloat:
      return from.is_numeric() ? Assignability::kYes : Assignability::kNo;
    case TypeKind::kDateTime:
      return from.is_temporal() ? Assignability::kYes : Assignability::kNo;
    default:
      return from.kind == to.kind ? Assignability::kYes : Assignability::kNo;
  }
}

std::optional<Type> CommonType(const Type& a, const Type& b) {
  if (a.kind == TypeKind::kNull) return b;
  if (b.kind == TypeKind::kNull) return a;
  if (a.is_numeric() && b.is_numeric()) {
    if (a.kind == TypeKind::kFloat || b.kind == TypeKind::kFloat) return Type::Float();
    if (a.kind == TypeKind::kInt && b.kind == TypeKind::kInt) return Type::Int();
    Type x = AsDecimal(a);
    Type y = AsDecimal(b);
    int scale = std::max(x.scale, y.scale);
    int digits = std::max(x.precision - x.scale, y.precision - y.scale);
    return Type::Decimal(std::min(kMaxDecimalPrecision, digits + scale), scale);
  }
  if (a.is_temporal() && b.is_temporal()) {
    return a.kind == b.kind ? a : Type::DateTime();
  }
  if (a.kind == TypeKind::kString && b.kind == TypeKind::kString) {
    return Type::String(a.length == 0 || b.length == 0 ? 0 : std::max(a.length, b.length));
  }
  if (a.kind == TypeKind::kRef && b.kind == TypeKind::kRef && a.ref_table == b.ref_table) return a;
  if (a.kind == b.kind && a.kind != TypeKind::kRef) return a;
  return std::nullopt;
}

std::optional<Type> ArithmeticType(char op, const Type& a, const Type& b) {
  if (!a.is_numeric() || !b.is_numeric()) return std::nullopt;
  if (op == '%') {
    if (a.kind == TypeKind::kFloat || b.kind == TypeKind::kFloat) return Type::Float();
    if (a.kind == TypeKind::kInt && b.kind == TypeKind::kInt) return Type::Int();
  }
  if (a.kind == TypeKind::kFloat || b.kind == TypeKind::kFloat) return Type::Float();
  if (a.kind == TypeKind::kInt && b.kind == TypeKind::kInt) return Type::Int();
  Type x = AsDecimal(a);
  Type y = AsDecimal(b);
  auto capped = [](int precision, int scale) {
    int p = std::min(kMaxDecimalPrecision, precision);
    return Type::Decimal(p, std::min(scale, p));
  };
  // For products and quotients, whose scales add up, fraction digits give way
  // before whole digits past 38 (down to a scale of 6, as SQL Server does):
  // the quotient of two wide decimals must still hold its whole part. Sums
  // keep their scale: only a carry digit can be lost there.
  auto capped_keeping_whole = [](int precision, int scale) {
    if (precision <= kMaxDecimalPrecision) return Type::Decimal(precision, scale);
    int whole = precision - scale;
    int reduced = std::max(std::min(scale, 6), kMaxDecimalPrecision - whole);
    return Type::Decimal(kMaxDecimalPrecision, std::min(scale, reduced));
  };
  switch (op) {
    case '+':
    case '-': {
      int scale = std::max(x.scale, y.scale);
      int digits = std::max(x.precision - x.scale, y.precision - y.scale) + 1;
      return capped(digits + scale, scale);
    }
    case '*':
      return capped_keeping_whole(x.precision + y.precision, x.scale + y.scale);
    case '/': {
      int scale = std::max(6, x.scale + y.precision + 1);
      return capped_keeping_whole(x.precision - x.scale + y.scale + scale, scale);
    }
    default: {  // '%'
      int scale = std::max(x.scale, y.scale);
      return capped(std::min(x.precision - x.scale, y.precision - y.scale) + scale, scale);
    }
  }
}

}  // namespace duet::check
