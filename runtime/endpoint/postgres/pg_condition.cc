#include "runtime/endpoint/postgres/pg_condition.h"

#include <cctype>

#include "runtime/endpoint/condition.h"

namespace duet::pg {
namespace {

constexpr size_t kOpen = std::string_view::npos;

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// One past the quote closing the string or name opened at `i` (a doubled
// quote stays inside; with `backslash`, \x escapes x); kOpen if unclosed.
size_t SkipQuoted(std::string_view sql, size_t i, bool backslash) {
  char close = sql[i];
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (backslash && sql[j] == '\\') {
      ++j;
    } else if (sql[j] == close) {
      if (j + 1 < sql.size() && sql[j + 1] == close) {
        ++j;
        continue;
      }
      return j + 1;
    }
  }
  return kOpen;
}

// One past a /* comment */ opened at `i`; they nest in PostgreSQL.
size_t SkipBlockComment(std::string_view sql, size_t i) {
  int depth = 0;
  for (size_t j = i; j + 1 < sql.size(); ++j) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      ++depth;
      ++j;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      ++j;
      if (--depth == 0) return j + 1;
    }
  }
  return kOpen;
}

// The $tag$ opening a dollar quote at `i` ("" when `i` starts none, as
// for a parameter $1).
std::string_view DollarTag(std::string_view sql, size_t i) {
  size_t j = i + 1;
  if (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j]))) return {};
  while (j < sql.size() && IsWordChar(sql[j])) ++j;
  if (j >= sql.size() || sql[j] != '$') return {};
  return sql.substr(i, j - i + 1);
}

// Where the lexical item at `i` that hides parentheses and semicolons (a
// string, name, dollar quote or comment) ends; `i` itself when none starts
// there; kOpen when it is not closed.
size_t SkipHiddenItem(std::string_view sql, size_t i) {
  char c = sql[i];
  std::string_view two = sql.substr(i, 2);
  if (two == "--") {
    size_t end = sql.find('\n', i);
    return end == std::string_view::npos ? sql.size() : end + 1;
  }
  if (two == "/*") return SkipBlockComment(sql, i);
  if (c == '"') return SkipQuoted(sql, i, false);
  if (c == '\'') {
    bool escapes =
        i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i == 1 || !IsWordChar(sql[i - 2]));
    return SkipQuoted(sql, i, escapes);
  }
  if (c == '$' && (i == 0 || !IsWordChar(sql[i - 1]))) {
    std::string_view tag = DollarTag(sql, i);
    if (tag.empty()) return i;
    size_t end = sql.find(tag, i + tag.size());
    return end == std::string_view::npos ? kOpen : end + tag.size();
  }
  return i;
}

// condition.h's SkipHidden for PostgreSQL.
Expected<size_t> SkipHidden(std::string_view sql, size_t i) {
  size_t end = SkipHiddenItem(sql, i);
  if (end != kOpen) return end;
  return InvalidArgumentError("a quote or comment is not closed");
}

}  // namespace

Expected<std::string> Condition(std::string_view where) {
  return endpoint::ConditionClause(where, SkipHidden);
}

}  // namespace duet::pg
