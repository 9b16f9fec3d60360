// What the PostgreSQL endpoint reads of the catalog about one table: where
// the search_path finds it, its columns' types, its primary key.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CATALOG_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CATALOG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/postgres/pg_types.h"
#include "runtime/pg/pg_conn.h"

namespace duet::pg {

struct TableInfo {
  std::string name;    // the table's name, "CustCustomerV3Entity"
  std::string schema;  // the schema the search_path found it in
  // The primary key's columns in key order, and their types; empty when
  // the table has none.
  std::vector<std::string> key;
  std::vector<PgType> key_types;
  std::map<std::string, PgType> columns;  // by exact name
};

// The ordinary or partitioned table `name` (exact, unqualified) as the
// session's search_path finds it; nullopt when there is none.
Expected<std::optional<TableInfo>> LoadTable(Connection& session, const std::string& name);

// The name of a table the search_path finds whose name differs from `name`
// only in case ("" when none): the usual reason a declared table is
// missing (PostgreSQL folds unquoted names to lower case).
Expected<std::string> TableInOtherCase(Connection& session, const std::string& name);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CATALOG_H_
