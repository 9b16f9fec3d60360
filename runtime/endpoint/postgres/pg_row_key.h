// How the PostgreSQL endpoint names a row: the RowId (endpoint.h) is made
// from the text forms PostgreSQL itself gives the primary key's values (the
// type's output function, under pg::kSessionSettings), so a reader's SELECT
// and the replication stream, which both print values that way, make the
// same RowId for the same row. The engine never parses it; the endpoint
// binds it back as text parameters the server reads as the key's types.
//
// The encodings, by the number of primary key columns:
// - one: the value's text ("42", "6f9619ff-8b86-d011-b42d-00c04fc964ff",
//   "C-001");
// - several (a composite key): a JSON array of the values' texts, in key
//   order (["1","2"]).
// A key value is never NULL (PostgreSQL's primary keys are NOT NULL).
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_ROW_KEY_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_ROW_KEY_H_

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"

namespace duet::pg {

// The RowId of the row whose key columns have these texts, in key order.
// `texts` must not be empty.
std::string EncodeRowId(const std::vector<std::string>& texts);

// The texts EncodeRowId made RowId `id` from, for a key of `columns`
// columns; InvalidArgument when `id` is not such a RowId (a composite key's
// RowId that is not a JSON array of that many strings).
Expected<std::vector<std::string>> DecodeRowId(size_t columns, std::string_view id);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_ROW_KEY_H_
