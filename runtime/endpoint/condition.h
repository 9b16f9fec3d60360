// A row condition an operator gives (`duet resync --where`) is one SQL
// expression, which an endpoint puts in parentheses inside its own
// statements: it may not close them, end the statement (;) or leave a
// comment or quote open over what follows. Decided on the text's tokens;
// what hides parentheses and semicolons (strings, quoted names, comments)
// is the dialect's, given as a SkipHidden.
#ifndef DUET_RUNTIME_ENDPOINT_CONDITION_H_
#define DUET_RUNTIME_ENDPOINT_CONDITION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet::endpoint {

// Where the item of `sql` that starts at `i` and hides its contents ends
// (one past it), `i` itself when none starts there, or an error phrase when
// it is not closed ("a quote is not closed").
using SkipHidden = Expected<size_t> (*)(std::string_view sql, size_t i);

// Ok, or InvalidArgument saying what is wrong with `where`.
Status CheckCondition(std::string_view where, SkipHidden skip);

// The condition in parentheses, for a WHERE clause; the line break ends a
// trailing -- comment before the closing parenthesis.
Expected<std::string> ConditionClause(std::string_view where, SkipHidden skip);

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_CONDITION_H_
