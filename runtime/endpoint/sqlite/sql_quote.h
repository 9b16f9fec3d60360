// Quoting names and text into SQLite SQL. Header-only and free of SQLite
// itself, so that duetc (which prints SQL, `duetc schema`) shares it
// without linking the endpoint.
#ifndef DUET_RUNTIME_ENDPOINT_SQLITE_SQL_QUOTE_H_
#define DUET_RUNTIME_ENDPOINT_SQLITE_SQL_QUOTE_H_

#include <string>
#include <string_view>

namespace duet::sqlite {

namespace internal {
inline std::string Enclose(std::string_view text, char quote) {
  std::string out(1, quote);
  for (char c : text) {
    if (c == quote) out += quote;
    out += c;
  }
  return out + quote;
}
}  // namespace internal

// "name" with embedded quotes doubled: a safe SQL identifier.
inline std::string QuoteIdentifier(std::string_view name) { return internal::Enclose(name, '"'); }
// 'text' with embedded quotes doubled: a safe SQL string literal.
inline std::string QuoteLiteral(std::string_view text) { return internal::Enclose(text, '\''); }

}  // namespace duet::sqlite

#endif  // DUET_RUNTIME_ENDPOINT_SQLITE_SQL_QUOTE_H_
