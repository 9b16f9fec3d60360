// PostgreSQL's column types against the bundle's, and values to and from
// the text forms PostgreSQL prints and reads (under pg::kSessionSettings:
// ISO dates, UTC, floats that round-trip). No I/O: the endpoint reads the
// catalog and the rows, and asks these functions what they mean.
//
// The mapping (docs/postgresql.md, "Types"):
//   bundle        PostgreSQL                        text
//   string(n)     text, varchar(m), char(m)         as stored (char(m): its
//                                                   trailing blanks removed)
//   decimal(p,s)  numeric(q,s), numeric             digits; read exactly: a
//                                                   value with more decimals
//                                                   than s is a problem
//   int           int2, int4, int8                  digits
//   float         float4, float8                    shortest round-trip form
//   bool          bool                              t / f
//   guid          uuid                              lower-case, hyphens
//   date          date                              YYYY-MM-DD
//   datetime      timestamp, timestamptz            UTC: YYYY-MM-DD HH:MM:SS
//                                                   [.ffffff] (+00 for tz)
//   ref T         what T's id column's type allows
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_TYPES_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_TYPES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/value.h"

namespace duet::pg {

// A column's type as the catalog describes it (a domain by its base type).
struct PgType {
  std::string name;     // pg_type.typname: "varchar", "numeric", "timestamptz"
  int typmod = -1;      // pg_attribute.atttypmod (-1: none)
  std::string display;  // format_type(): "numeric(19,4)", "character varying(20)"
};

// Ok when values of bundle type `want` can be stored in and read back from
// a column of type `have` without a silent change; otherwise why not, as a
// phrase ("numeric(10,2) has 2 decimals, the bundle's decimal(19, 4) has
// 4"). `want` must not be a ref (the caller resolves it to its target's id
// type).
Status TypeFits(const PgType& have, const bundle::ColumnType& want);

// A value of `type` from PostgreSQL's text of it; `blank_padded` for a
// char(n) column, whose trailing blanks are padding. An error says what is
// wrong with the text (the caller names the column).
Expected<endpoint::Value> ReadPgText(std::string_view text, const bundle::ColumnType& type,
                                     bool blank_padded);

// The text PostgreSQL reads `v` from (nullopt: NULL; a float NaN is NULL,
// as on SQLite). A string holding a NUL character, which PostgreSQL cannot
// store, is FailedPrecondition.
Expected<std::optional<std::string>> WritePgText(const endpoint::Value& v);

// Ok when `text` can be a value of a key column of type `have` (a RowId's
// part, bound back as a parameter), checked before the server sees it so
// that a malformed RowId is InvalidArgument and does not abort the
// transaction it is used in. Types it does not know are left to the server.
Status CheckKeyText(std::string_view text, const PgType& have);

// `texts` as a PostgreSQL array literal ({"a","b\"c"}), each element quoted.
std::string ArrayLiteral(const std::vector<std::string>& texts);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_TYPES_H_
