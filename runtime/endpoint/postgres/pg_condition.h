// A row condition an operator gives (`duet resync --where`), checked before
// the PostgreSQL endpoint puts it inside its own statements: it must be one
// SQL expression, which cannot end the statement, close a parenthesis it did
// not open, or leave a quote, dollar quote or comment open over the text
// duet appends. Decided on PostgreSQL's lexical rules (strings with ''
// and E'' escapes, "names", $tag$ quotes $tag$, -- and nested /* */
// comments); whether it is a valid expression is the server's to say.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CONDITION_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CONDITION_H_

#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet::pg {

// The condition in parentheses, for a WHERE clause, once it is checked
// (runtime/endpoint/condition.h); InvalidArgument saying what is wrong.
Expected<std::string> Condition(std::string_view where);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CONDITION_H_
