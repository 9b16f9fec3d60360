// The functions map expressions can call. One table describes each: name,
// arity and how argument types determine the result type; the checker, the
// IR and the docs all read it.
#ifndef DUET_COMPILER_CHECK_BUILTINS_H_
#define DUET_COMPILER_CHECK_BUILTINS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/check/types.h"

namespace duet::check {

enum class Builtin {
  kUpper,
  kLower,
  kTrim,
  kLtrim,
  kRtrim,
  kLength,
  kSubstr,
  kLeft,
  kRight,
  kReplace,
  kConcat,
  kCoalesce,
  kAbs,
  kRound,
  kYear,
  kMonth,
  kDay,
  kDate,
  kAddDays,
  kToString,
  kToInt,
  kToFloat,
};

struct BuiltinInfo {
  Builtin id;
  std::string_view name;
  std::string_view signature;  // for messages and docs: "substr(string, int, int) -> string"
  std::string_view summary;
  size_t min_args;
  size_t max_args;  // SIZE_MAX: variadic
};

std::span<const BuiltinInfo> AllBuiltins();
std::optional<Builtin> FindBuiltin(std::string_view name);
const BuiltinInfo& Info(Builtin builtin);

// The result type of calling `builtin` with arguments of `args` types (arity
// already checked). On a mismatch returns nullopt and sets `*problem` to a
// sentence naming the argument and the types.
std::optional<Type> ResolveCall(Builtin builtin, std::span<const Type> args, std::string* problem);

}  // namespace duet::check

#endif  // DUET_COMPILER_CHECK_BUILTINS_H_
