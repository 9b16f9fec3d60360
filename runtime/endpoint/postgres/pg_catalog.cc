#include "runtime/endpoint/postgres/pg_catalog.h"

#include <cstdlib>

namespace duet::pg {
namespace {

// The table's schema and oid, when search_path finds an ordinary or
// partitioned table of that name.
constexpr char kFindTable[] =
    "SELECT n.nspname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')";

// Per column: name, base type (a domain's), its typmod, the type as SQL
// writes it, and its place in the primary key (null when not in it).
constexpr char kColumns[] =
    "SELECT a.attname, b.typname, CASE WHEN t.typtype = 'd' THEN t.typtypmod"
    " ELSE a.atttypmod END, format_type(a.atttypid, a.atttypmod), k.ord"
    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
    " JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
    " LEFT JOIN (SELECT u.attnum, u.ord FROM pg_index i,"
    " unnest(i.indkey::int2[]) WITH ORDINALITY AS u(attnum, ord)"
    " WHERE i.indrelid = $1::oid AND i.indisprimary) k ON k.attnum = a.attnum"
    " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY k.ord";

}  // namespace

Expected<std::optional<TableInfo>> LoadTable(Connection& session, const std::string& name) {
  Expected<Result> found = session.Exec(kFindTable, {QuoteIdent(name)}, "finding table " + name);
  if (!found.ok()) return found.status();
  if (found->rows() == 0) return std::optional<TableInfo>();
  TableInfo info;
  info.name = name;
  info.schema = std::string(found->Text(0, 0));
  Expected<Result> columns =
      session.Exec(kColumns, {std::string(found->Text(0, 1))}, "reading the columns of " + name);
  if (!columns.ok()) return columns.status();
  for (int row = 0; row < columns->rows(); ++row) {
    std::string column(columns->Text(row, 0));
    PgType type{std::string(columns->Text(row, 1)),
                std::atoi(std::string(columns->Text(row, 2)).c_str()),
                std::string(columns->Text(row, 3))};
    // ORDER BY k.ord puts the key's columns first, in key order.
    if (!columns->IsNull(row, 4)) {
      info.key.push_back(column);
      info.key_types.push_back(type);
    }
    info.columns.emplace(std::move(column), std::move(type));
  }
  return std::optional<TableInfo>(std::move(info));
}

Expected<std::string> TableInOtherCase(Connection& session, const std::string& name) {
  Expected<Result> r = session.Exec(
      "SELECT c.relname FROM pg_class c WHERE lower(c.relname) = lower($1) AND"
      " c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) ORDER BY 1 LIMIT 1",
      {name}, "finding table " + name);
  if (!r.ok()) return r.status();
  return r->rows() ? std::string(r->Text(0, 0)) : std::string();
}

}  // namespace duet::pg
