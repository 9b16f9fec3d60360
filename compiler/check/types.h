// Column and expression types of the checked model, and the rules that
// relate them (what may be written where, what operators accept).
#ifndef DUET_COMPILER_CHECK_TYPES_H_
#define DUET_COMPILER_CHECK_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

namespace duet::check {

enum class TypeKind {
  kNull,  // only the literal `null`; fits any nullable column
  kBool,
  kInt,      // 64-bit signed
  kFloat,    // IEEE double
  kDecimal,  // exact, precision <= 38
  kString,   // UTF-8; length 0 means unbounded
  kDate,
  kDateTime,
  kGuid,
  kRef,  // a reference to a row of another table of the same system
};

inline constexpr int kMaxDecimalPrecision = 38;

struct Type {
  TypeKind kind = TypeKind::kNull;
  int precision = 0;     // kDecimal
  int scale = 0;         // kDecimal
  int64_t length = 0;    // kString; 0: unbounded
  int ref_table = -1;    // kRef: index into CheckedModule::tables
  std::string ref_name;  // kRef: "ce.account", for messages

  static Type Of(TypeKind kind) {
    Type t;
    t.kind = kind;
    return t;
  }
  static Type Null() { return Type{}; }
  static Type Bool() { return Of(TypeKind::kBool); }
  static Type Int() { return Of(TypeKind::kInt); }
  static Type Float() { return Of(TypeKind::kFloat); }
  static Type Decimal(int precision, int scale) {
    Type t = Of(TypeKind::kDecimal);
    t.precision = precision;
    t.scale = scale;
    return t;
  }
  static Type String(int64_t length = 0) {
    Type t = Of(TypeKind::kString);
    t.length = length;
    return t;
  }
  static Type Date() { return Of(TypeKind::kDate); }
  static Type DateTime() { return Of(TypeKind::kDateTime); }
  static Type Guid() { return Of(TypeKind::kGuid); }

  bool is_numeric() const {
    return kind == TypeKind::kInt || kind == TypeKind::kFloat || kind == TypeKind::kDecimal;
  }
  bool is_temporal() const { return kind == TypeKind::kDate || kind == TypeKind::kDateTime; }

  // As written in map files: "string(100)", "decimal(32, 6)", "ref ce.account".
  std::string ToString() const;

  friend bool operator==(const Type& a, const Type& b) {
    return a.kind == b.kind && a.precision == b.precision && a.scale == b.scale &&
           a.length == b.length && a.ref_table == b.ref_table;
  }
};

enum class Assignability {
  kYes,
  kLossy,  // allowed, but a value may be rounded (float -> decimal)
  kNo,
};

// Whether a value of type `from` may be written into a column of type `to`
// without an explicit conversion. String length and decimal range are checked
// per row at run time, not here.
Assignability CanAssign(const Type& from, const Type& to);

// The type both operands of a comparison or both branches of an `if` take, or
// nothing if they have none in common. Numeric types widen: int < decimal <
// float; null joins with anything.
std::optional<Type> CommonType(const Type& a, const Type& b);

// Result types of arithmetic; nullopt if the operands are not numeric.
// Decimal precision and scale follow the usual SQL rules, capped at 38.
std::optional<Type> ArithmeticType(char op, const Type& a, const Type& b);

}  // namespace duet::check

#endif  // DUET_COMPILER_CHECK_TYPES_H_
