// Unit tests of the type rules (compiler/check/types.h): CanAssign,
// CommonType, ArithmeticType and Type::ToString.
#include "compiler/check/types.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace duet::check {

// gtest prints values of these types in failure messages.
void PrintTo(const Type& type, std::ostream* out) { *out << type.ToString(); }
void PrintTo(Assignability a, std::ostream* out) {
  *out << (a == Assignability::kYes ? "kYes" : a == Assignability::kLossy ? "kLossy" : "kNo");
}

namespace {

Type Ref(int table, const std::string& name) {
  Type t = Type::Of(TypeKind::kRef);
  t.ref_table = table;
  t.ref_name = name;
  return t;
}

// ---- ToString ----

TEST(TypeToString, SpellsTypesAsMapFilesWriteThem) {
  struct Case {
    Type type;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {Type::Null(), "null"},
      {Type::Bool(), "bool"},
      {Type::Int(), "int"},
      {Type::Float(), "float"},
      {Type::Decimal(32, 6), "decimal(32, 6)"},
      {Type::String(), "string"},
      {Type::String(100), "string(100)"},
      {Type::Date(), "date"},
      {Type::DateTime(), "datetime"},
      {Type::Guid(), "guid"},
      {Ref(3, "ce.account"), "ref ce.account"},
  };
  for (const Case& c : cases) EXPECT_EQ(c.type.ToString(), c.expected);
}

TEST(TypeEquality, RefsCompareByTableNotByName) {
  EXPECT_EQ(Ref(1, "a.x"), Ref(1, "other spelling"));
  EXPECT_NE(Ref(1, "a.x"), Ref(2, "a.x"));
  EXPECT_NE(Type::Decimal(10, 2), Type::Decimal(10, 3));
  EXPECT_NE(Type::String(5), Type::String());
}

// ---- CanAssign ----

struct AssignCase {
  Type from;
  Type to;
  Assignability expected;
};

TEST(CanAssign, Table) {
  const auto kYes = Assignability::kYes;
  const auto kLossy = Assignability::kLossy;
  const auto kNo = Assignability::kNo;
  const std::vector<AssignCase> cases = {
      // null fits every value column but never a ref (a ref is written through
      // its lookup path, not as a value).
      {Type::Null(), Type::Int(), kYes},
      {Type::Null(), Type::String(10), kYes},
      {Type::Null(), Type::Decimal(10, 2), kYes},
      {Type::Null(), Type::Guid(), kYes},
      {Type::Null(), Ref(0, "ce.company"), kNo},
      // Refs are never assigned, not even to a ref of the same table.
      {Ref(0, "ce.company"), Ref(0, "ce.company"), kNo},
      {Ref(0, "ce.company"), Type::Guid(), kNo},
      {Type::Guid(), Ref(0, "ce.company"), kNo},
      // int only from int.
      {Type::Int(), Type::Int(), kYes},
      {Type::Decimal(10, 0), Type::Int(), kNo},
      {Type::Float(), Type::Int(), kNo},
      {Type::String(), Type::Int(), kNo},
      {Type::Bool(), Type::Int(), kNo},
      // decimal from int and decimal (range is checked per row), float rounds.
      {Type::Int(), Type::Decimal(5, 2), kYes},
      {Type::Decimal(38, 10), Type::Decimal(5, 2), kYes},
      {Type::Float(), Type::Decimal(19, 4), kLossy},
      {Type::String(), Type::Decimal(19, 4), kNo},
      // float from any number.
      {Type::Int(), Type::Float(), kYes},
      {Type::Decimal(19, 4), Type::Float(), kYes},
      {Type::Float(), Type::Float(), kYes},
      {Type::Bool(), Type::Float(), kNo},
      // datetime from date or datetime; date only from date.
      {Type::Date(), Type::DateTime(), kYes},
      {Type::DateTime(), Type::DateTime(), kYes},
      {Type::DateTime(), Type::Date(), kNo},
      {Type::Date(), Type::Date(), kYes},
      {Type::String(), Type::Date(), kNo},
      // strings of any length (length is checked per row).
      {Type::String(100), Type::String(4), kYes},
      {Type::String(), Type::String(4), kYes},
      {Type::Int(), Type::String(), kNo},
      // the rest only from their own kind.
      {Type::Bool(), Type::Bool(), kYes},
      {Type::Int(), Type::Bool(), kNo},
      {Type::Guid(), Type::Guid(), kYes},
      {Type::String(36), Type::Guid(), kNo},
  };
  for (const AssignCase& c : cases) {
    EXPECT_EQ(CanAssign(c.from, c.to), c.expected)
        << "from " << c.from.ToString() << " to " << c.to.ToString();
  }
}

// ---- CommonType ----

struct CommonCase {
  Type a;
  Type b;
  std::optional<Type> expected;
};

TEST(CommonType, Table) {
  const std::vector<CommonCase> cases = {
      // null joins with anything, refs included.
      {Type::Null(), Type::Int(), Type::Int()},
      {Type::String(7), Type::Null(), Type::String(7)},
      {Type::Null(), Type::Null(), Type::Null()},
      {Type::Null(), Ref(2, "ce.x"), Ref(2, "ce.x")},
      // numbers widen int < decimal < float.
      {Type::Int(), Type::Int(), Type::Int()},
      {Type::Int(), Type::Float(), Type::Float()},
      {Type::Decimal(10, 2), Type::Float(), Type::Float()},
      // int is decimal(19, 0): scale 2, 19 integer digits.
      {Type::Int(), Type::Decimal(10, 2), Type::Decimal(21, 2)},
      {Type::Decimal(10, 2), Type::Int(), Type::Decimal(21, 2)},
      // max scale, max integer digits.
      {Type::Decimal(10, 2), Type::Decimal(5, 4), Type::Decimal(12, 4)},
      {Type::Decimal(19, 4), Type::Decimal(19, 4), Type::Decimal(19, 4)},
      // temporal: equal kinds stay, date and datetime meet in datetime.
      {Type::Date(), Type::Date(), Type::Date()},
      {Type::Date(), Type::DateTime(), Type::DateTime()},
      {Type::DateTime(), Type::Date(), Type::DateTime()},
      // strings: the longer bound, unbounded if either is.
      {Type::String(10), Type::String(20), Type::String(20)},
      {Type::String(10), Type::String(), Type::String()},
      // refs only to the same table.
      {Ref(1, "ce.a"), Ref(1, "ce.a"), Ref(1, "ce.a")},
      {Ref(1, "ce.a"), Ref(2, "ce.b"), std::nullopt},
      // same kinds.
      {Type::Bool(), Type::Bool(), Type::Bool()},
      {Type::Guid(), Type::Guid(), Type::Guid()},
      // nothing in common.
      {Type::Bool(), Type::Int(), std::nullopt},
      {Type::String(), Type::Int(), std::nullopt},
      {Type::Guid(), Type::String(36), std::nullopt},
      {Type::Date(), Type::String(), std::nullopt},
      {Ref(1, "ce.a"), Type::Guid(), std::nullopt},
  };
  for (const CommonCase& c : cases) {
    EXPECT_EQ(CommonType(c.a, c.b), c.expected) << c.a.ToString() << " and " << c.b.ToString();
  }
}

TEST(CommonType, IsSymmetric) {
  const std::vector<Type> types = {
      Type::Null(),         Type::Bool(),         Type::Int(),     Type::Float(),
      Type::Decimal(10, 2), Type::Decimal(38, 0), Type::String(5), Type::String(),
      Type::Date(),         Type::DateTime(),     Type::Guid(),    Ref(1, "ce.a"),
  };
  for (const Type& a : types) {
    for (const Type& b : types) {
      EXPECT_EQ(CommonType(a, b), CommonType(b, a)) << a.ToString() << " and " << b.ToString();
    }
  }
}

TEST(CommonType, DecimalPrecisionIsCappedAt38) {
  std::optional<Type> t = CommonType(Type::Decimal(38, 30), Type::Decimal(38, 0));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, TypeKind::kDecimal);
  EXPECT_EQ(t->precision, kMaxDecimalPrecision);
  EXPECT_EQ(t->scale, 30);
}

// ---- ArithmeticType ----

struct ArithmeticCase {
  char op;
  Type a;
  Type b;
  std::optional<Type> expected;
};

TEST(ArithmeticType, Table) {
  const Type d10_2 = Type::Decimal(10, 2);
  const Type d5_4 = Type::Decimal(5, 4);
  const std::vector<ArithmeticCase> cases = {
      // Not numbers, null included (the checker handles null operands).
      {'+', Type::String(), Type::Int(), std::nullopt},
      {'+', Type::Int(), Type::Bool(), std::nullopt},
      {'*', Type::Null(), Type::Int(), std::nullopt},
      {'-', Type::Date(), Type::Int(), std::nullopt},
      // float wins, for every operator.
      {'+', Type::Float(), Type::Int(), Type::Float()},
      {'/', d10_2, Type::Float(), Type::Float()},
      {'%', Type::Float(), Type::Int(), Type::Float()},
      // int op int stays int, division included (integer division).
      {'+', Type::Int(), Type::Int(), Type::Int()},
      {'-', Type::Int(), Type::Int(), Type::Int()},
      {'*', Type::Int(), Type::Int(), Type::Int()},
      {'/', Type::Int(), Type::Int(), Type::Int()},
      {'%', Type::Int(), Type::Int(), Type::Int()},
      // + and -: scale max(s1, s2), precision max(p1-s1, p2-s2) + 1 + scale.
      {'+', d10_2, d5_4, Type::Decimal(13, 4)},
      {'-', d5_4, d10_2, Type::Decimal(13, 4)},
      {'+', Type::Int(), d10_2, Type::Decimal(22, 2)},
      // *: precision p1 + p2, scale s1 + s2.
      {'*', d10_2, d5_4, Type::Decimal(15, 6)},
      {'*', Type::Int(), d10_2, Type::Decimal(29, 2)},
      // /: scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale.
      {'/', d10_2, d5_4, Type::Decimal(20, 8)},
      {'/', Type::Decimal(4, 0), Type::Decimal(2, 0), Type::Decimal(10, 6)},
      // %: scale max(s1, s2), precision min(p1-s1, p2-s2) + scale.
      {'%', d10_2, d5_4, Type::Decimal(5, 4)},
      {'%', Type::Int(), d10_2, Type::Decimal(10, 2)},
      // Capped at 38.
      {'+', Type::Decimal(38, 0), Type::Decimal(38, 0), Type::Decimal(38, 0)},
      {'*', Type::Decimal(20, 2), Type::Decimal(20, 2), Type::Decimal(38, 4)},
  };
  for (const ArithmeticCase& c : cases) {
    EXPECT_EQ(ArithmeticType(c.op, c.a, c.b), c.expected)
        << c.a.ToString() << " " << c.op << " " << c.b.ToString();
  }
}

// Whatever the operands, a decimal result is a valid decimal type: precision
// 1..38 and scale 0..precision.
TEST(ArithmeticType, DecimalResultsAreAlwaysValidTypes) {
  std::vector<Type> operands = {Type::Int()};
  for (int p : {1, 2, 10, 19, 30, 38}) {
    for (int s : {0, 1, p / 2, p}) operands.push_back(Type::Decimal(p, s));
  }
  for (char op : {'+', '-', '*', '/', '%'}) {
    for (const Type& a : operands) {
      for (const Type& b : operands) {
        std::optional<Type> t = ArithmeticType(op, a, b);
        ASSERT_TRUE(t.has_value()) << a.ToString() << " " << op << " " << b.ToString();
        if (t->kind == TypeKind::kInt) continue;
        ASSERT_EQ(t->kind, TypeKind::kDecimal);
        EXPECT_GE(t->precision, 1) << a.ToString() << " " << op << " " << b.ToString();
        EXPECT_LE(t->precision, kMaxDecimalPrecision)
            << a.ToString() << " " << op << " " << b.ToString();
        EXPECT_GE(t->scale, 0) << a.ToString() << " " << op << " " << b.ToString();
        EXPECT_LE(t->scale, t->precision) << a.ToString() << " " << op << " " << b.ToString();
      }
    }
  }
}

// When the exact precision passes 38, SQL engines (SQL Server, whose decimal
// rules these are) give up fraction digits to keep the integer part, keeping
// at least 6 fraction digits for * and /. ArithmeticType instead keeps the
// scale and drops integer digits: decimal(38,10) / decimal(38,10) becomes
// decimal(38,38), which cannot hold 1.0 / 3.0 = 0.33... fine but not
// 1000.0 / 3.0. Disabled until compiler/check/types.cc decides; see the
// report of the unit tests.
TEST(ArithmeticType, CapKeepsIntegerDigitsBeforeFractionDigits) {
  // Exact: decimal(87, 49); 38 integer digits needed, scale reduced to 6.
  EXPECT_EQ(ArithmeticType('/', Type::Decimal(38, 10), Type::Decimal(38, 10)),
            Type::Decimal(38, 6));
  // Exact: decimal(60, 40); 20 integer digits kept, scale 18.
  EXPECT_EQ(ArithmeticType('*', Type::Decimal(30, 20), Type::Decimal(30, 20)),
            Type::Decimal(38, 18));
}

}  // namespace
}  // namespace duet::check
