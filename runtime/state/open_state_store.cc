// OpenStateStore: the state store implementation a URL names.
#include "runtime/state/open_state_store.h"

#include "runtime/state/postgres_state_store.h"
#include "runtime/state/sqlite_state_store.h"

#include <cctype>
#include <string_view>

namespace duet::state {
namespace {

// "postgres" of "postgres://...": a letter, then letters, digits, '+', '-'
// or '.', then ':'. Empty for a plain path (so a path that starts like a
// scheme needs "sqlite:").
std::string SchemeOf(const std::string& url) {
  size_t colon = url.find(':');
  if (colon == std::string::npos || colon < 2 || !std::isalpha(static_cast<unsigned char>(url[0])))
    return "";
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(url[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return url.substr(0, colon);
}

}  // namespace

Expected<std::unique_ptr<StateStore>> OpenStateStore(const std::string& url,
                                                     StateStore::OpenMode mode) {
  constexpr std::string_view kSqlite = "sqlite:";
  std::string path = url;
  if (url.rfind(kSqlite, 0) == 0) {
    path = url.substr(kSqlite.size());
  } else if (std::string scheme = SchemeOf(url); scheme == "postgresql" || scheme == "postgres") {
    return PostgresStateStore::Open(url, mode);
  } else if (!scheme.empty()) {
    return InvalidArgumentError("unsupported state store '" + scheme +
                                ":...' (expected sqlite:PATH, a path, or postgresql://...)");
  }
  if (path.empty()) return InvalidArgumentError("the state store URL names no path");
  return SqliteStateStore::Open(path, mode);
}

}  // namespace duet::state
