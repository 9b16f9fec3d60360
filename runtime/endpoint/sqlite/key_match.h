// Matching rows by value in SQLite, whatever text form the database holds.
//
// Applications spell one value in many ways: a decimal(10, 2) 1 as the
// integer 1, the real 1.0 or the text '1.00'; a guid in upper case or in
// braces; a datetime with a space or a 'T' and any number of fraction
// digits. duet writes one canonical form (docs/sync.md, "How values are
// stored in SQLite"), but finding a row by alternate key, or the row a
// lookup refers to, must find it in whatever form it is stored, and must not
// scan the table to do so.
//
// How: for each key column, an index-friendly SQL condition (an equality, a
// short IN list, narrow ranges of text) that every spelling listed below
// satisfies; the few candidate rows
// it selects are then read as the column's type and compared by value (the
// endpoint's FindRow). The condition also holds for some other texts ('1-' lies
// between '1' and '1.00'); the comparison by value rejects them.
//
// Why not an expression index on a canonicalizing SQL function: every
// connection that writes the table would need the function registered, and
// an application's sqlite3 without it could no longer insert a row.
//
// What the condition covers, by type (the spellings outside it are still
// read correctly when synced, but are not found by key):
// - decimal: the number (INTEGER or REAL, compared numerically), and text
//   with any number of trailing zeros ('1', '1.0', '1.000000', '1.5', '1.50');
// - guid: lower or upper case, with or without braces, and the 16-byte blob;
// - date: text starting with YYYY-MM-DD (so '2024-03-01 00:00:00' too);
// - datetime: text starting with YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD HH:MM:SS,
//   so any fraction and an optional Z;
// - int and bool: the integer and its text; float: the number;
// - string: the same text.
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_KEY_MATCH_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_KEY_MATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/value.h"

namespace duet::endpoint {

// A parameter of a key condition, bound in the order of the condition's `?`.
struct KeyParam {
  enum class Kind { kInt, kReal, kText, kBlob, kNull };
  Kind kind = Kind::kText;
  int64_t i = 0;
  double d = 0;
  std::string s;  // kText and kBlob
};

// Appends to `sql` the condition on `column` (an SQL expression, a quoted
// name) that holds for every covered spelling of `wanted`, a non-null value
// of `type`, and its parameters to `params`.
void AppendKeyCondition(std::string_view column, const bundle::ColumnType& type,
                        const Value& wanted, std::string* sql, std::vector<KeyParam>* params);

// AsKeyValue and StripGuidBraces, which the PostgreSQL endpoint shares,
// are in runtime/endpoint/value.h.

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_KEY_MATCH_H_
