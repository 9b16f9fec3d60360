// The state store implementations the conformance suite runs over: each
// says how to make a store of its kind, one of its previous schema version
// with known content (when it has a previous version), and one of a newer
// version than it knows.
#ifndef DUET_TESTS_CONFORMANCE_STATE_STORE_FACTORY_H_
#define DUET_TESTS_CONFORMANCE_STATE_STORE_FACTORY_H_

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/endpoint/position.h"
#include "runtime/endpoint/value.h"

namespace duet::conformance {

// The content every previous-version fixture holds (what a store of the
// layout before holds after a few syncs), and what must survive migration.
struct PreviousContent {
  struct FixtureLink {
    std::string map, left_id, right_id;
    std::vector<endpoint::Value> p0, c1, p1, c0;  // the base's vectors
    int64_t left_seq, right_seq;
  };
  std::vector<FixtureLink> links;
  std::string checkpoint_map = "customers", checkpoint_system = "fo";
  int64_t checkpoint_seq = 1234, commit_end = 1240;
  std::string error_map = "customers", error_row = "17", error_kind = "conflict";
  std::string error_detail = R"({"fields":[{"column":"ce.name","base":"a0"}]})";
  std::string paused_map = "orders";
  std::string store_id = "0123456789abcdef0123456789abcdef";
};
PreviousContent ThePreviousContent();

struct StateStoreFactory {
  std::string name;
  // The URL of a store that does not exist yet, in `dir`.
  std::string (*new_url)(const std::filesystem::path& dir);
  // Writes a store of the schema version before the current one holding
  // ThePreviousContent(), with that version's exact layout; its URL.
  // Null for an implementation still at its first schema version (the
  // PostgreSQL store): the migration tests (StateStoreMigration) are
  // instantiated only over the factories that have one, and the suite
  // checks that a factory without one is at version 1.
  std::string (*previous_version)(const std::filesystem::path& dir);
  // The same for the oldest schema version it migrates from (the same
  // function when there is one previous version; null with the above).
  std::string (*oldest_version)(const std::filesystem::path& dir);
  // Marks the (existing, current) store at `url` as of a schema version
  // newer than this duet knows.
  void (*make_newer)(const std::string& url);
  // The position a seq stored by an earlier schema version becomes (the
  // encoding of the endpoint those versions ran on); null with
  // previous_version.
  endpoint::Position (*position_of)(int64_t seq);
};
// How GoogleTest shows a parameter (in ctest's list and in failures).
inline void PrintTo(const StateStoreFactory& f, std::ostream* os) { *os << f.name; }

// The implementations this test executable runs over: each executable links
// one factory file, which defines it (sqlite_state_store_factory.cc in
// state_store_conformance_test; postgres_state_store_factory.cc in
// state_store_conformance_pg_test, ctest label pg, which needs PostgreSQL
// 15's programs). A new implementation adds a factory file and an
// executable.
std::vector<StateStoreFactory> StateStoreFactories();

}  // namespace duet::conformance

#endif  // DUET_TESTS_CONFORMANCE_STATE_STORE_FACTORY_H_
