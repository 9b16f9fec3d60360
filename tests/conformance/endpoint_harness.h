// What the endpoint conformance suite needs of a database besides the
// Endpoint under test: a throwaway database holding the suite's tables, and
// an application that writes to it through the database's own client
// library, outside duet. Each Endpoint implementation provides one harness
// (sqlite_endpoint_harness.cc, postgres_endpoint_harness.cc), linked into a
// test executable of its own, and passes the same suite unchanged
// (PostgreSQL: but two tests, tests/conformance/CMakeLists.txt says which
// and why).
#ifndef DUET_TESTS_CONFORMANCE_ENDPOINT_HARNESS_H_
#define DUET_TESTS_CONFORMANCE_ENDPOINT_HARNESS_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/endpoint.h"

namespace duet::conformance {

// The suite's tables, system "fo":
//   customer (code text key, unique, not null; name text; credit
//             decimal(19,4); system-assigned integer identity)
//   contact  (email text key, unique, not null; customer_code text;
//             system-assigned integer identity)
//   account  (accountid guid primary key, the system-assigned identity;
//             name text)
//   line     (order_no integer, line_no integer: a composite primary key,
//             stored without a separate row identity where the database
//             has one (SQLite: WITHOUT ROWID); qty integer)
bundle::Manifest SuiteManifest();

// An application's own connection to the database.
class AppSession {
 public:
  virtual ~AppSession() = default;
  // Runs SQL the suite writes portably (plain INSERT, UPDATE, DELETE with
  // literals) in autocommit, or inside the session's open transaction.
  virtual Status Exec(const std::string& sql) = 0;
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  // Runs `sql` on a thread of its own and returns once the database has
  // made it wait for a lock another session holds (Ok), or once it finished
  // without waiting (FailedPrecondition: the test's premise failed).
  // WaitDone then waits for it to finish and returns its outcome.
  virtual Status StartBlockedWrite(const std::string& sql) = 0;
  virtual Status WaitDone() = 0;
};

class EndpointHarness {
 public:
  virtual ~EndpointHarness() = default;
  // A new empty database with the suite's tables and no capture.
  virtual Status CreateDatabase() = 0;
  // An endpoint on it, as `duet` opens one from its configuration.
  virtual Expected<std::unique_ptr<endpoint::Endpoint>> Open(const bundle::Manifest& manifest) = 0;
  // A statement of the dialect that writes account `id` whether or not it
  // exists, as one statement (SQLite: INSERT OR REPLACE; PostgreSQL:
  // INSERT ... ON CONFLICT DO UPDATE).
  virtual std::string UpsertAccount(const std::string& id, const std::string& name) = 0;
  // A new application session (its own connection).
  virtual std::unique_ptr<AppSession> App() = 0;
};

struct HarnessFactory {
  std::string name;
  std::function<std::unique_ptr<EndpointHarness>()> make;
};
// How GoogleTest shows a parameter (in ctest's list and in failures).
inline void PrintTo(const HarnessFactory& f, std::ostream* os) { *os << f.name; }
// Every harness the suite runs against.
std::vector<HarnessFactory> Harnesses();

}  // namespace duet::conformance

#endif  // DUET_TESTS_CONFORMANCE_ENDPOINT_HARNESS_H_
