// Unit tests of the builtin function table (compiler/check/builtins.h):
// FindBuiltin, Info and ResolveCall for every builtin, with right, wrong and
// null argument types.
#include "compiler/check/builtins.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace duet::check {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Type Ref(int table, const std::string& name) {
  Type t = Type::Of(TypeKind::kRef);
  t.ref_table = table;
  t.ref_name = name;
  return t;
}

TEST(FindBuiltin, FindsEveryBuiltinByItsName) {
  ASSERT_FALSE(AllBuiltins().empty());
  for (const BuiltinInfo& info : AllBuiltins()) {
    std::optional<Builtin> found = FindBuiltin(info.name);
    ASSERT_TRUE(found.has_value()) << info.name;
    EXPECT_EQ(*found, info.id) << info.name;
  }
}

TEST(FindBuiltin, UnknownNamesAreNotFound) {
  for (const char* name : {"", "uppercase", "to_str", "substring", "len", "upper ", " upper"}) {
    EXPECT_FALSE(FindBuiltin(name).has_value()) << "'" << name << "'";
  }
}

// Info(id) indexes the table by enum value, so the table must list the
// builtins in enum order; a misordered entry would describe another function.
TEST(BuiltinInfo, TableIsConsistent) {
  std::set<std::string_view> names;
  for (const BuiltinInfo& info : AllBuiltins()) {
    EXPECT_EQ(Info(info.id).name, info.name);
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate name " << info.name;
    EXPECT_TRUE(info.signature.starts_with(std::string(info.name) + "(")) << info.signature;
    EXPECT_FALSE(info.summary.empty()) << info.name;
    EXPECT_GE(info.min_args, 1u) << info.name;
    EXPECT_LE(info.min_args, info.max_args) << info.name;
  }
  EXPECT_EQ(AllBuiltins().size(), static_cast<size_t>(Builtin::kToFloat) + 1);
}

struct CallCase {
  Builtin builtin;
  std::vector<Type> args;
  std::optional<Type> expected;  // nullopt: a mismatch
  std::string problem;           // a substring of the problem sentence, on a mismatch
};

// One row per signature rule; every builtin has at least one accepted and,
// where some type is refused, one refused row.
std::vector<CallCase> CallCases() {
  const Type s = Type::String();
  const Type i = Type::Int();
  const Type n = Type::Null();
  return {
      // upper, lower, trim, ltrim, rtrim: string -> string of the same bound.
      {Builtin::kUpper, {Type::String(10)}, Type::String(10), ""},
      {Builtin::kUpper, {n}, Type::String(), ""},
      {Builtin::kUpper, {i}, std::nullopt, "the first argument of upper must be a string, not int"},
      {Builtin::kLower, {Type::String(3)}, Type::String(3), ""},
      {Builtin::kLower,
       {Type::Bool()},
       std::nullopt,
       "the first argument of lower must be a string, not bool"},
      {Builtin::kTrim, {s}, s, ""},
      {Builtin::kTrim, {Type::Date()}, std::nullopt, "must be a string, not date"},
      {Builtin::kLtrim, {Type::String(8)}, Type::String(8), ""},
      {Builtin::kLtrim, {Type::Guid()}, std::nullopt, "must be a string, not guid"},
      {Builtin::kRtrim, {Type::String(8)}, Type::String(8), ""},
      {Builtin::kRtrim, {Type::Float()}, std::nullopt, "must be a string, not float"},
      // length: string -> int.
      {Builtin::kLength, {Type::String(5)}, i, ""},
      {Builtin::kLength, {n}, i, ""},
      {Builtin::kLength, {i}, std::nullopt, "the first argument of length must be a string"},
      // substr(string, int, int).
      {Builtin::kSubstr, {Type::String(20), i, i}, Type::String(20), ""},
      {Builtin::kSubstr, {s, i, n}, s, ""},
      {Builtin::kSubstr,
       {s, s, i},
       std::nullopt,
       "the second argument of substr must be an int, not string"},
      {Builtin::kSubstr,
       {s, i, Type::Decimal(5, 0)},
       std::nullopt,
       "the third argument of substr must be an int, not decimal(5, 0)"},
      // left, right (string, int).
      {Builtin::kLeft, {Type::String(8), i}, Type::String(8), ""},
      {Builtin::kLeft,
       {s, Type::Float()},
       std::nullopt,
       "the second argument of left must be an int"},
      {Builtin::kRight, {Type::String(8), n}, Type::String(8), ""},
      {Builtin::kRight, {i, i}, std::nullopt, "the first argument of right must be a string"},
      // replace(string, string, string) -> unbounded string.
      {Builtin::kReplace, {Type::String(5), s, s}, s, ""},
      {Builtin::kReplace,
       {s, s, i},
       std::nullopt,
       "the third argument of replace must be a string, not int"},
      // concat: bounds add up; any unbounded (or null) part makes it unbounded.
      {Builtin::kConcat, {Type::String(3), Type::String(4)}, Type::String(7), ""},
      {Builtin::kConcat, {Type::String(3)}, Type::String(3), ""},
      {Builtin::kConcat, {Type::String(3), s, Type::String(4)}, s, ""},
      {Builtin::kConcat, {Type::String(3), n}, s, ""},
      {Builtin::kConcat,
       {s, i},
       std::nullopt,
       "the second argument of concat must be a string, not int"},
      // coalesce: the common type of all arguments.
      {Builtin::kCoalesce, {i, Type::Decimal(10, 2)}, Type::Decimal(21, 2), ""},
      {Builtin::kCoalesce, {n, Type::String(5)}, Type::String(5), ""},
      {Builtin::kCoalesce, {Type::String(3), Type::String(7), n}, Type::String(7), ""},
      {Builtin::kCoalesce, {i, s}, std::nullopt, "int and string do not mix"},
      {Builtin::kCoalesce,
       {Ref(1, "ce.a"), Ref(2, "ce.b")},
       std::nullopt,
       "ref ce.a and ref ce.b do not mix"},
      // abs: number -> same.
      {Builtin::kAbs, {Type::Decimal(10, 2)}, Type::Decimal(10, 2), ""},
      {Builtin::kAbs, {i}, i, ""},
      {Builtin::kAbs, {n}, n, ""},
      {Builtin::kAbs, {s}, std::nullopt, "the first argument of abs must be a number, not string"},
      // round(number[, int]) -> same; a decimal gains a digit of precision, up to 38.
      {Builtin::kRound, {Type::Decimal(10, 4)}, Type::Decimal(11, 4), ""},
      {Builtin::kRound, {Type::Decimal(38, 4)}, Type::Decimal(38, 4), ""},
      {Builtin::kRound, {Type::Float(), i}, Type::Float(), ""},
      {Builtin::kRound,
       {Type::Float(), s},
       std::nullopt,
       "the second argument of round must be an int"},
      {Builtin::kRound,
       {Type::Bool(), i},
       std::nullopt,
       "the first argument of round must be a number"},
      // year, month, day: date|datetime -> int.
      {Builtin::kYear, {Type::Date()}, i, ""},
      {Builtin::kYear, {Type::DateTime()}, i, ""},
      {Builtin::kYear, {n}, i, ""},
      {Builtin::kYear,
       {s},
       std::nullopt,
       "the first argument of year must be a date or datetime, not string"},
      {Builtin::kMonth, {Type::DateTime()}, i, ""},
      {Builtin::kMonth,
       {i},
       std::nullopt,
       "the first argument of month must be a date or datetime"},
      {Builtin::kDay, {Type::Date()}, i, ""},
      {Builtin::kDay,
       {Type::Guid()},
       std::nullopt,
       "the first argument of day must be a date or datetime"},
      // date: datetime|string -> date.
      {Builtin::kDate, {Type::DateTime()}, Type::Date(), ""},
      {Builtin::kDate, {Type::String(10)}, Type::Date(), ""},
      {Builtin::kDate, {n}, Type::Date(), ""},
      {Builtin::kDate,
       {i},
       std::nullopt,
       "the first argument of date must be a datetime or a string, not int"},
      // add_days(date|datetime, int) -> same (null: date).
      {Builtin::kAddDays, {Type::Date(), i}, Type::Date(), ""},
      {Builtin::kAddDays, {Type::DateTime(), i}, Type::DateTime(), ""},
      {Builtin::kAddDays, {n, i}, Type::Date(), ""},
      {Builtin::kAddDays,
       {Type::Date(), s},
       std::nullopt,
       "the second argument of add_days must be an int"},
      {Builtin::kAddDays,
       {s, i},
       std::nullopt,
       "the first argument of add_days must be a date or datetime"},
      // to_string: any value -> string; not a ref.
      {Builtin::kToString, {i}, s, ""},
      {Builtin::kToString, {Type::Guid()}, s, ""},
      {Builtin::kToString, {n}, s, ""},
      {Builtin::kToString,
       {Ref(0, "ce.company")},
       std::nullopt,
       "the first argument of to_string must be a value, not a ref"},
      // to_int: string|decimal|float|bool -> int.
      {Builtin::kToInt, {s}, i, ""},
      {Builtin::kToInt, {Type::Decimal(10, 2)}, i, ""},
      {Builtin::kToInt, {Type::Bool()}, i, ""},
      {Builtin::kToInt,
       {Type::Date()},
       std::nullopt,
       "the first argument of to_int must be a string, number or bool"},
      {Builtin::kToInt, {Type::Guid()}, std::nullopt, "must be a string, number or bool, not guid"},
      {Builtin::kToInt, {Ref(0, "ce.company")}, std::nullopt, "not ref ce.company"},
      // to_float: string|number -> float.
      {Builtin::kToFloat, {i}, Type::Float(), ""},
      {Builtin::kToFloat, {s}, Type::Float(), ""},
      {Builtin::kToFloat, {n}, Type::Float(), ""},
      {Builtin::kToFloat,
       {Type::Bool()},
       std::nullopt,
       "the first argument of to_float must be a string or a number"},
  };
}

TEST(ResolveCall, Table) {
  for (const CallCase& c : CallCases()) {
    std::string where = std::string(Info(c.builtin).name) + "(";
    for (size_t k = 0; k < c.args.size(); ++k) where += (k ? ", " : "") + c.args[k].ToString();
    where += ")";
    std::string problem;
    std::optional<Type> result = ResolveCall(c.builtin, c.args, &problem);
    if (c.expected) {
      ASSERT_TRUE(result.has_value()) << where << ": " << problem;
      EXPECT_EQ(*result, *c.expected) << where << " gave " << result->ToString();
      EXPECT_EQ(problem, "") << where;
    } else {
      EXPECT_FALSE(result.has_value()) << where << " gave " << result->ToString();
      EXPECT_THAT(problem, HasSubstr(c.problem)) << where;
    }
  }
}

TEST(ResolveCall, TableCoversEveryBuiltin) {
  std::set<Builtin> accepted;
  std::set<Builtin> refused;
  for (const CallCase& c : CallCases()) (c.expected ? accepted : refused).insert(c.builtin);
  for (const BuiltinInfo& info : AllBuiltins()) {
    EXPECT_TRUE(accepted.contains(info.id)) << info.name << " has no accepted call in the table";
    EXPECT_TRUE(refused.contains(info.id)) << info.name << " has no refused call in the table";
  }
}

// The problem names the argument by position. For positions past the fourth
// the sentence currently reads "the argument 5 argument of concat ...";
// disabled until compiler/check/builtins.cc words it (see the report).
TEST(ResolveCall, FifthArgumentIsNamedReadably) {
  const Type s = Type::String();
  std::vector<Type> args = {s, s, s, s, Type::Int()};
  std::string problem;
  EXPECT_FALSE(ResolveCall(Builtin::kConcat, args, &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("5"));
  EXPECT_THAT(problem, Not(HasSubstr("argument 5 argument")));
}

}  // namespace
}  // namespace duet::check
