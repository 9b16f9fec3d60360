#include "runtime/endpoint/condition.h"

namespace duet::endpoint {

Status CheckCondition(std::string_view where, SkipHidden skip) {
  auto refuse = [&](const std::string& why) {
    return InvalidArgumentError("the condition '" + std::string(where) + "': " + why +
                                "; it must be one SQL expression");
  };
  int depth = 0;
  for (size_t i = 0; i < where.size();) {
    Expected<size_t> end = skip(where, i);
    if (!end.ok()) return refuse(end.status().message());
    if (*end != i) {
      i = *end;
      continue;
    }
    char c = where[i++];
    if (c == ';') return refuse("';' ends it");
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) return refuse("')' closes a parenthesis it did not open");
  }
  if (depth != 0) return refuse("a '(' is not closed");
  return Status::Ok();
}

Expected<std::string> ConditionClause(std::string_view where, SkipHidden skip) {
  if (Status s = CheckCondition(where, skip); !s.ok()) return s;
  return "(" + std::string(where) + "\n)";
}

}  // namespace duet::endpoint
