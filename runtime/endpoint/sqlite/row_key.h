// How the SQLite endpoint names a row: the RowId (endpoint.h) is the
// canonical text of the table's primary key, made by SQLite itself (the
// capture triggers and the readers use the same SQL expression), and read
// back here into typed values to bind, never parsed by the engine.
//
// The encodings, by the table's declared primary key:
// - none (a rowid table), or a single INTEGER PRIMARY KEY (the rowid's
//   alias): the rowid in decimal, as before primary keys were the identity;
// - a single column of TEXT affinity (a GUID text key, a code): the text;
// - anything else (a composite key, a WITHOUT ROWID table's integer key, a
//   key of numeric or no affinity): a JSON array of the values as SQLite's
//   json_array writes them, a blob as {"blob":"HEX"} (json_array cannot hold
//   one, and a capture trigger must never fail an application's write).
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_ROW_KEY_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_ROW_KEY_H_

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/sqlite/key_match.h"

namespace duet::endpoint {

struct RowKey {
  enum class Kind { kRowid, kText, kJson };
  Kind kind = Kind::kRowid;
  // The primary key's columns in key order; empty for kRowid.
  std::vector<std::string> columns;
  bool without_rowid = false;

  // The number of values a RowId holds.
  size_t size() const { return kind == Kind::kRowid ? 1 : columns.size(); }
  // `alias`.column (the bare column when `alias` is empty), quoted.
  std::string Column(std::string_view alias, size_t i) const;
  // The key's columns, comma-separated: for ORDER BY and row values.
  std::string Columns(std::string_view alias) const;
  // The SQL expression whose value is the RowId of the row `alias` names
  // ("t", "NEW", "OLD", or "" inside the table's own statement).
  std::string Expr(std::string_view alias) const;
  // `(columns) OP (?first, ?first+1, ...)`: a row-value comparison with
  // size() parameters, bound from DecodeRowId.
  std::string Compare(std::string_view alias, std::string_view op, int first) const;
  // Whether the rows `a` and `b` (NEW and OLD) have the same key.
  std::string Same(std::string_view a, std::string_view b) const;
};

// The key's declared type decides the kind: `types` are the declared types
// of the primary key's columns in key order (empty: no primary key).
RowKey MakeRowKey(std::vector<std::string> columns, const std::vector<std::string>& types,
                  bool without_rowid);

// The typed values of RowId `id` of a table with key `key`, to bind in key
// order; InvalidArgument when `id` is not a RowId of that key's encoding.
// KeyParam kind kNull stands for a null (which matches no row).
Expected<std::vector<KeyParam>> DecodeRowId(const RowKey& key, std::string_view id);

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_ROW_KEY_H_
