#include "compiler/schema/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/endpoint/sqlite/sql_quote.h"

namespace duet::schema {
namespace {

// Names are quoted always: map files allow names that are SQL keywords.
// Doubling the quote is the SQL standard's quoting, which SQLite and
// PostgreSQL (with standard_conforming_strings, its default) share.
using sqlite::QuoteIdentifier;
using sqlite::QuoteLiteral;

using check::Column;
using check::Constant;
using check::Table;
using check::TypeKind;

// PostgreSQL's limit for varchar(n); a longer declared length is text.
constexpr int64_t kMaxVarchar = 10485760;

bool IsIntId(const Table& table) {
  return table.id_column &&
         table.columns[static_cast<size_t>(*table.id_column)].type.kind == TypeKind::kInt;
}

// Whether the table gets the RECID column as its primary key: SQLite gives
// every table but one with an `int` id a rowid alias; PostgreSQL makes the
// `id` the primary key, so only a table without one needs it.
bool NeedsRowIdColumn(const Table& table, Dialect dialect) {
  if (table.FindColumn(kRowIdColumn)) return false;
  return dialect == Dialect::kSqlite ? !IsIntId(table) : !table.id_column;
}

// The SQLite type for values of `type`; a ref holds its target's id.
std::string SqliteType(const check::CheckedModule& model, const check::Type& type) {
  switch (type.kind) {
    case TypeKind::kBool:
    case TypeKind::kInt:
      return "INTEGER";
    case TypeKind::kFloat:
      return "REAL";
    case TypeKind::kRef: {
      const Table& target = model.tables[static_cast<size_t>(type.ref_table)];
      // A ref holds the target's id, or its rowid when the id is not declared.
      if (!target.id_column || IsIntId(target)) return "INTEGER";
      return SqliteType(model, target.columns[static_cast<size_t>(*target.id_column)].type);
    }
    case TypeKind::kNull:
    case TypeKind::kDecimal:
    case TypeKind::kString:
    case TypeKind::kDate:
    case TypeKind::kDateTime:
    case TypeKind::kGuid:
      return "TEXT";
  }
  return "TEXT";
}

// The PostgreSQL type for values of `type`; a ref holds its target's id, or
// its RECID when the target declares none.
std::string PostgresType(const check::CheckedModule& model, const check::Type& type) {
  switch (type.kind) {
    case TypeKind::kBool:
      return "boolean";
    case TypeKind::kInt:
      return "bigint";
    case TypeKind::kFloat:
      return "double precision";
    case TypeKind::kDecimal:
      return fmt::format("numeric({},{})", type.precision, type.scale);
    case TypeKind::kString:
      return type.length > 0 && type.length <= kMaxVarchar ? fmt::format("varchar({})", type.length)
                                                           : "text";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kDateTime:
      return "timestamptz";
    case TypeKind::kGuid:
      return "uuid";
    case TypeKind::kRef: {
      const Table& target = model.tables[static_cast<size_t>(type.ref_table)];
      if (!target.id_column) return "bigint";
      return PostgresType(model, target.columns[static_cast<size_t>(*target.id_column)].type);
    }
    case TypeKind::kNull:
      return "text";
  }
  return "text";
}

std::string DefaultLiteral(const Constant& value, Dialect dialect) {
  switch (value.kind) {
    case TypeKind::kNull:
      return "NULL";
    case TypeKind::kBool:
      if (dialect == Dialect::kPostgresql) return value.bool_value ? "true" : "false";
      return value.bool_value ? "1" : "0";
    case TypeKind::kInt:
      return std::to_string(value.int_value);
    default:
      return QuoteLiteral(value.text);
  }
}

// A random id in the lowercase 8-4-4-4-12 form duet writes.
constexpr const char* kSqliteRandomGuid =
    "(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || "
    "'-' || hex(randomblob(2)) || '-' || hex(randomblob(6))))";

// A column's definition in SQLite, without its trailing comma.
std::string SqliteColumn(const check::CheckedModule& model, const Column& column) {
  std::string out =
      fmt::format("{} {}", QuoteIdentifier(column.name), SqliteType(model, column.type));
  if (column.is_id && column.type.kind == TypeKind::kInt) return out + " PRIMARY KEY";
  if (column.not_null) out += " NOT NULL";
  if (column.is_id) {
    if (column.type.kind == TypeKind::kGuid) out += fmt::format(" DEFAULT {}", kSqliteRandomGuid);
    out += " UNIQUE";
  } else if (column.default_value) {
    out += fmt::format(" DEFAULT {}", DefaultLiteral(*column.default_value, Dialect::kSqlite));
  }
  return out;
}

// The same in PostgreSQL: the id is the primary key.
std::string PostgresColumn(const check::CheckedModule& model, const Column& column) {
  std::string out =
      fmt::format("{} {}", QuoteIdentifier(column.name), PostgresType(model, column.type));
  if (column.is_id) {
    if (column.type.kind == TypeKind::kInt)
      return out + " GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
    if (column.type.kind == TypeKind::kGuid) out += " DEFAULT gen_random_uuid()";
    return out + " PRIMARY KEY";
  }
  if (column.not_null) out += " NOT NULL";
  if (column.default_value) {
    out += fmt::format(" DEFAULT {}", DefaultLiteral(*column.default_value, Dialect::kPostgresql));
  }
  return out;
}

std::string RowIdColumn(Dialect dialect) {
  return dialect == Dialect::kSqlite
             ? fmt::format("{} INTEGER PRIMARY KEY", QuoteIdentifier(kRowIdColumn))
             : fmt::format("{} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                           QuoteIdentifier(kRowIdColumn));
}

// A label is free text: a line break in it would end an SQL comment.
std::string OneLine(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string CreateTable(const check::CheckedModule& model, const Table& table, Dialect dialect) {
  std::string label = OneLine(table.label.value_or(""));
  std::string out = fmt::format("\n-- {}{}\n", table.qualified_name,
                                label.empty() ? "" : fmt::format(" \"{}\"", label));
  out += fmt::format("CREATE TABLE IF NOT EXISTS {} (\n", QuoteIdentifier(table.name));
  // Each line ends with the column's type as map files write it.
  std::vector<std::pair<std::string, std::string>> lines;
  if (NeedsRowIdColumn(table, dialect)) lines.emplace_back(RowIdColumn(dialect), "row id");
  for (const Column& column : table.columns) {
    lines.emplace_back(
        dialect == Dialect::kSqlite ? SqliteColumn(model, column) : PostgresColumn(model, column),
        column.type.ToString());
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    out += fmt::format("  {}{}  -- {}\n", lines[i].first, i + 1 < lines.size() ? "," : "",
                       lines[i].second);
  }
  out += ");\n";
  if (dialect == Dialect::kPostgresql && table.label) {
    out += fmt::format("COMMENT ON TABLE {} IS {};\n", QuoteIdentifier(table.name),
                       QuoteLiteral(*table.label));
  }
  return out;
}

std::string KeyIndex(const Table& table) {
  if (table.key_columns.empty()) return "";
  std::string columns;
  for (int index : table.key_columns) {
    if (!columns.empty()) columns += ", ";
    columns += QuoteIdentifier(table.columns[static_cast<size_t>(index)].name);
  }
  return fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({});\n",
                     QuoteIdentifier(table.name + "_key"), QuoteIdentifier(table.name), columns);
}

}  // namespace

std::optional<Dialect> ParseDialect(std::string_view name) {
  if (name == "sqlite") return Dialect::kSqlite;
  if (name == "postgresql" || name == "postgres") return Dialect::kPostgresql;
  return std::nullopt;
}

std::string TableSchema(const check::CheckedModule& model, int system, Dialect dialect,
                        const std::set<std::string>* only) {
  const std::string& system_name = model.systems[static_cast<size_t>(system)].name;
  std::string out = fmt::format(
      "-- {} tables for system {}, generated by `duetc schema` from the map files.\n"
      "-- Safe to run again: it creates only what is missing.\n",
      dialect == Dialect::kSqlite ? "SQLite" : "PostgreSQL", system_name);
  for (const Table& table : model.tables) {
    if (table.system != system) continue;
    if (only && !only->contains(table.qualified_name)) continue;
    out += CreateTable(model, table, dialect) + KeyIndex(table);
  }
  return out;
}

}  // namespace duet::schema
