// SQLite tables shaped like the tables a module declares: the schema an
// application of that system would have, for demos, tests and trying maps
// out against empty databases. Not a migration tool: it never alters a table.
#ifndef DUET_COMPILER_SCHEMA_SQLITE_SCHEMA_H_
#define DUET_COMPILER_SCHEMA_SQLITE_SCHEMA_H_

#include <set>
#include <string>

#include "compiler/check/model.h"

namespace duet::schema {

// The name of the INTEGER PRIMARY KEY added to a table whose `id` is not an
// `int` (or that has none): docs/sync.md asks synced tables for one, so that
// rowids stay stable. A table that declares a column of this name gets none.
inline constexpr const char* kRowIdColumn = "RECID";

// `CREATE TABLE IF NOT EXISTS` and `CREATE UNIQUE INDEX IF NOT EXISTS` for
// every table of system `system` (an index into `model.systems`), in
// declaration order, as one SQL script. Running it twice is harmless.
//
// Column types follow the forms duet writes (docs/sync.md, "How values are
// stored"): decimals, dates, datetimes and guids are TEXT, so values stay
// exact. A guid `id` gets a random guid by default, as Dataverse
// assigns ids; a column with a map default gets it as its SQL default. The
// alternate key gets a unique index, as both systems enforce. With `only`,
// just the tables named there (qualified names, "ce.account").
std::string SqliteSchema(const check::CheckedModule& model, int system,
                         const std::set<std::string>* only = nullptr);

}  // namespace duet::schema

#endif  // DUET_COMPILER_SCHEMA_SQLITE_SCHEMA_H_
