// Tables shaped like the tables a module declares, for SQLite or
// PostgreSQL: the schema an application of that system would have, for
// demos, tests and trying maps out against empty databases. Not a
// migration tool: it never alters a table.
#ifndef DUET_COMPILER_SCHEMA_SCHEMA_H_
#define DUET_COMPILER_SCHEMA_SCHEMA_H_

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "compiler/check/model.h"

namespace duet::schema {

enum class Dialect { kSqlite, kPostgresql };
// "sqlite" and "postgresql" (also "postgres"); nullopt for anything else.
std::optional<Dialect> ParseDialect(std::string_view name);

// The name of the row identity column added to a table whose `id` is not
// an `int` (SQLite) or that has no `id` (both): docs/sync.md asks synced
// tables for a primary key that stays stable. A table that declares a
// column of this name gets none.
inline constexpr const char* kRowIdColumn = "RECID";

// `CREATE TABLE IF NOT EXISTS` and `CREATE UNIQUE INDEX IF NOT EXISTS` for
// every table of system `system` (an index into `model.systems`), in
// declaration order, as one SQL script in `dialect`. Running it twice is
// harmless.
//
// SQLite: column types follow the forms duet writes (docs/sync.md, "How
// values are stored"): decimals, dates, datetimes and guids are TEXT, so
// values stay exact; an `int` id is the INTEGER PRIMARY KEY, any other
// table gets RECID as its rowid alias. PostgreSQL: the types the endpoint
// checks (docs/postgresql.md, "Types"): varchar(n) or text, numeric(p,s),
// bigint, double precision, boolean, date, timestamptz, uuid; the `id` is
// the primary key (an `int` one an identity), a table without one gets
// RECID as an identity; labels become COMMENTs. In both, a guid `id` gets a
// random guid by default, as Dataverse assigns ids; a column with a map
// default gets it as its SQL default; the alternate key gets a unique
// index, as both systems enforce. With `only`, just the tables named there
// (qualified names, "ce.account").
std::string TableSchema(const check::CheckedModule& model, int system, Dialect dialect,
                        const std::set<std::string>* only = nullptr);

}  // namespace duet::schema

#endif  // DUET_COMPILER_SCHEMA_SCHEMA_H_
