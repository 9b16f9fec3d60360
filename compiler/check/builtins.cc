#include "compiler/check/builtins.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace duet::check {
namespace {

constexpr size_t kVariadic = SIZE_MAX;

constexpr std::array kBuiltins = {
    BuiltinInfo{Builtin::kUpper, "upper", "upper(string) -> string", "upper-case letters", 1, 1},
    BuiltinInfo{Builtin::kLower, "lower", "lower(string) -> string", "lower-case letters", 1, 1},
    BuiltinInfo{Builtin::kTrim, "trim", "trim(string) -> string", "spaces removed at both ends", 1,
                1},
    BuiltinInfo{Builtin::kLtrim, "ltrim", "ltrim(string) -> string", "spaces removed at the start",
                1, 1},
    BuiltinInfo{Builtin::kRtrim, "rtrim", "rtrim(string) -> string", "spaces removed at the end", 1,
                1},
    BuiltinInfo{Builtin::kLength, "length", "length(string) -> int", "length in characters", 1, 1},
    BuiltinInfo{Builtin::kSubstr, "substr", "substr(string, int start, int count) -> string",
                "characters from 1-based `start`", 3, 3},
    BuiltinInfo{Builtin::kLeft, "left", "left(string, int count) -> string", "the first characters",
                2, 2},
    BuiltinInfo{Builtin::kRight, "right", "right(string, int count) -> string",
                "the last characters", 2, 2},
    BuiltinInfo{Builtin::kReplace, "replace", "replace(string, string from, string to) -> string",
                "every occurrence replaced", 3, 3},
    BuiltinInfo{Builtin::kConcat, "concat", "concat(string, ...) -> string",
                "strings joined; null parts are skipped", 1, kVariadic},
    BuiltinInfo{Builtin::kCoalesce, "coalesce", "coalesce(T, T, ...) -> T",
                "the first argument that is not null", 2, kVariadic},
    BuiltinInfo{Builtin::kAbs, "abs", "abs(number) -> number", "absolute value", 1, 1},
    BuiltinInfo{Builtin::kRound, "round",
                "round(decimal|float, int digits) -> same (a decimal gets one more digit)",
                "rounded half away from zero to `digits` decimals", 1, 2},
    BuiltinInfo{Builtin::kYear, "year", "year(date|datetime) -> int", "the year", 1, 1},
    BuiltinInfo{Builtin::kMonth, "month", "month(date|datetime) -> int", "the month, 1-12", 1, 1},
    BuiltinInfo{Builtin::kDay, "day", "day(date|datetime) -> int", "the day of the month", 1, 1},
    BuiltinInfo{Builtin::kDate, "date", "date(datetime|string) -> date",
                "the date part, or an ISO date parsed", 1, 1},
    BuiltinInfo{Builtin::kAddDays, "add_days", "add_days(date|datetime, int) -> same", "days added",
                2, 2},
    BuiltinInfo{Builtin::kToString, "to_string", "to_string(any) -> string",
                "the value as text (ISO forms for dates and guids)", 1, 1},
    BuiltinInfo{Builtin::kToInt, "to_int", "to_int(string|decimal|float|bool) -> int",
                "converted; fractions round half away from zero", 1, 1},
    BuiltinInfo{Builtin::kToFloat, "to_float", "to_float(string|number) -> float", "converted", 1,
                1},
};

bool IsNullOr(const Type& t, TypeKind kind) { return t.kind == TypeKind::kNull || t.kind == kind; }

std::string Ordinal(size_t i) {
  static constexpr std::array<std::string_view, 4> kNames = {"first", "second", "third", "fourth"};
  return i < kNames.size() ? std::string(kNames[i]) : fmt::format("{}th", i + 1);
}

}  // namespace

std::span<const BuiltinInfo> AllBuiltins() { return kBuiltins; }

std::optional<Builtin> FindBuiltin(std::string_view name) {
  for (const BuiltinInfo& info : kBuiltins) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

const BuiltinInfo& Info(Builtin builtin) { return kBuiltins[static_cast<size_t>(builtin)]; }

std::optional<Type> ResolveCall(Builtin builtin, std::span<const Type> args, std::string* problem) {
  const BuiltinInfo& info = Info(builtin);
  auto expect = [&](size_t i, bool ok, std::string_view wanted) {
    if (!ok) {
      *problem = fmt::format("the {} argument of {} must be {}, not {}", Ordinal(i), info.name,
                             wanted, args[i].ToString());
    }
    return ok;
  };
  auto string_arg = [&](size_t i) {
    return expect(i, IsNullOr(args[i], TypeKind::kString), "a string");
  };
  auto int_arg = [&](size_t i) { return expect(i, IsNullOr(args[i], TypeKind::kInt), "an int"); };
  auto temporal_arg = [&](size_t i) {
    return expect(i, args[i].kind == TypeKind::kNull || args[i].is_temporal(),
                  "a date or datetime");
  };
  switch (builtin) {
    case Builtin::kUpper:
    case Builtin::kLower:
    case Builtin::kTrim:
    case Builtin::kLtrim:
    case Builtin::kRtrim:
      if (!string_arg(0)) return std::nullopt;
      return Type::String(args[0].length);
    case Builtin::kLength:
      if (!string_arg(0)) return std::nullopt;
      return Type::Int();
    case Builtin::kSubstr:
      if (!string_arg(0) || !int_arg(1) || !int_arg(2)) return std::nullopt;
      return Type::String(args[0].length);
    case Builtin::kLeft:
    case Builtin::kRight:
      if (!string_arg(0) || !int_arg(1)) return std::nullopt;
      return Type::String(args[0].length);
    case Builtin::kReplace:
      if (!string_arg(0) || !string_arg(1) || !string_arg(2)) return std::nullopt;
      return Type::String();
    case Builtin::kConcat: {
      int64_t total = 0;
      for (size_t i = 0; i < args.size(); ++i) {
        if (!string_arg(i)) return std::nullopt;
        total = (total < 0 || args[i].length == 0) ? -1 : total + args[i].length;
      }
      return Type::String(total < 0 ? 0 : total);
    }
    case Builtin::kCoalesce: {
      Type result = args[0];
      for (size_t i = 1; i < args.size(); ++i) {
        std::optional<Type> common = CommonType(result, args[i]);
        if (!common) {
          *problem =
              fmt::format("the arguments of coalesce must have one type; {} and {} do not mix",
                          result.ToString(), args[i].ToString());
          return std::nullopt;
        }
        result = *common;
      }
      return result;
    }
    case Builtin::kAbs:
      if (!expect(0, args[0].kind == TypeKind::kNull || args[0].is_numeric(), "a number"))
        return std::nullopt;
      return args[0];
    case Builtin::kRound:
      if (!expect(0, args[0].kind == TypeKind::kNull || args[0].is_numeric(), "a number"))
        return std::nullopt;
      if (args.size() > 1 && !int_arg(1)) return std::nullopt;
      // Rounding a decimal up can add a whole digit (9.99 -> 10.00), so the
      // result has room for one more digit, up to 38; the scale stays.
      if (args[0].kind == TypeKind::kDecimal) {
        return Type::Decimal(std::min(args[0].precision + 1, 38), args[0].scale);
      }
      return args[0];
    case Builtin::kYear:
    case Builtin::kMonth:
    case Builtin::kDay:
      if (!temporal_arg(0)) return std::nullopt;
      return Type::Int();
    case Builtin::kDate:
      if (!expect(0,
                  args[0].kind == TypeKind::kNull || args[0].is_temporal() ||
                      args[0].kind == TypeKind::kString,
                  "a datetime or a string")) {
        return std::nullopt;
      }
      return Type::Date();
    case Builtin::kAddDays:
      if (!temporal_arg(0) || !int_arg(1)) return std::nullopt;
      return args[0].kind == TypeKind::kNull ? Type::Date() : args[0];
    case Builtin::kToString:
      if (!expect(0, args[0].kind != TypeKind::kRef, "a value, not a ref")) return std::nullopt;
      return Type::String();
    case Builtin::kToInt:
      if (!expect(0,
                  args[0].kind != TypeKind::kRef && !args[0].is_temporal() &&
                      args[0].kind != TypeKind::kGuid,
                  "a string, number or bool")) {
        return std::nullopt;
      }
      return Type::Int();
    case Builtin::kToFloat:
      if (!expect(0,
                  args[0].kind == TypeKind::kNull || args[0].is_numeric() ||
                      args[0].kind == TypeKind::kString,
                  "a string or a number")) {
        return std::nullopt;
      }
      return Type::Float();
  }
  return std::nullopt;
}

}  // namespace duet::check
