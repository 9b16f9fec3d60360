// The PostgreSQL state store in the conformance suite: one throwaway
// PostgreSQL 15 server per test process (tests/support/pg_server.h), started
// at the first store the process asks for, and a database of its own for
// every store. The stores are named by URLs that place the tables in a
// schema of their own (options=-csearch_path), as a deployment would; the
// password travels in PGPASSWORD, never in the URL.
//
// The store is at its first schema version: no previous-version fixture
// (state_store_factory.h says how the suite treats that).
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "tests/conformance/state_store_factory.h"
#include "tests/support/pg_server.h"

namespace duet::conformance {
namespace {

namespace fs = std::filesystem;

// Stopped and removed when the process exits (the static's destructor).
test::PgServer& Server() {
  static test::PgServer server;
  static const bool started = [] {
    if (Status s = server.Start(); !s.ok()) {
      throw std::runtime_error("cannot start a PostgreSQL server: " + s.message());
    }
    ::setenv("PGPASSWORD", server.password().c_str(), 1);
    return true;
  }();
  (void)started;
  return server;
}

void Admin(const std::string& sql, const std::string& database = "") {
  Expected<std::string> out = Server().AdminPsql(sql, database);
  if (!out.ok()) throw std::runtime_error(sql + ": " + out.status().message());
}

std::string DatabaseOf(const std::string& url) {
  size_t slash = url.rfind('/');
  size_t query = url.find('?', slash);
  return url.substr(slash + 1, query - slash - 1);
}

// A new database owned by the test role, with the schema duet_state that
// the URL's search_path names (the role's own, as docs/postgresql.md
// advises).
std::string PostgresNewUrl(const fs::path&) {
  static int count = 0;
  std::string database = "state_" + std::to_string(++count);
  Admin("CREATE DATABASE " + database + " OWNER duet");
  Admin("CREATE SCHEMA duet_state AUTHORIZATION duet", database);
  test::PgServer& pg = Server();
  return "postgresql://duet@127.0.0.1:" + std::to_string(pg.port()) + "/" + database +
         "?options=-csearch_path%3Dduet_state";
}

void PostgresMakeNewer(const std::string& url) {
  Admin("UPDATE duet_state.duet_meta SET value = '99' WHERE key = 'schema_version'",
        DatabaseOf(url));
}

}  // namespace

std::vector<StateStoreFactory> StateStoreFactories() {
  return {{"postgres", &PostgresNewUrl, nullptr, nullptr, &PostgresMakeNewer, nullptr}};
}

}  // namespace duet::conformance
