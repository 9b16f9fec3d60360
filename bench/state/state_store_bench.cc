// PutLink throughput of the state store implementations side by side: N
// links (default 100000) of the customer shape (an integer left id, a GUID
// right id, a 214-byte base, 8-byte positions) written in units of 5000, as
// an initial sync writes them (initial_batch_size), then read back by left
// id in sets of 2000, as live sync reads them. SQLite in a temporary file,
// PostgreSQL on a throwaway server (tests/support/pg_server.h).
//
//   build/bench/state/state_store_bench [N]
//
// Prints one line per store and phase; the figures are in docs/postgresql.md.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/state/open_state_store.h"
#include "tests/support/pg_server.h"

namespace {

using duet::Status;
using duet::state::Link;
using duet::state::StateStore;
using Clock = std::chrono::steady_clock;

constexpr int kUnit = 5000;
constexpr int kReadSet = 2000;

Link CustomerLink(int i) {
  char guid[40];
  std::snprintf(guid, sizeof guid, "%08x-8b86-d011-b42d-%012x", static_cast<unsigned>(i),
                static_cast<unsigned>(i * 7));
  std::string position("\0\0\0\0", 4);
  position += std::to_string(1000000 + i).substr(0, 4);
  return Link{std::to_string(i + 1), guid, std::string(214, static_cast<char>('a' + i % 26)),
              duet::endpoint::Position::FromBytes(position),
              duet::endpoint::Position::FromBytes(position)};
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

bool Check(const Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
  return false;
}

// Writes and reads `n` links in the store at `url`; false on an error.
bool Measure(const char* name, const std::string& url, int n) {
  duet::Expected<std::unique_ptr<StateStore>> opened =
      duet::state::OpenStateStore(url, StateStore::OpenMode::kCreate);
  if (!Check(opened.status(), "open")) return false;
  StateStore& store = **opened;
  auto start = Clock::now();
  for (int i = 0; i < n; i += kUnit) {
    if (!Check(store.Begin(), "begin")) return false;
    for (int j = i; j < n && j < i + kUnit; ++j) {
      if (!Check(store.PutLink("customers", CustomerLink(j)), "put")) return false;
    }
    if (!Check(store.Commit(), "commit")) return false;
  }
  double wrote = Seconds(start);
  start = Clock::now();
  int64_t found = 0;
  for (int i = 0; i < n; i += kReadSet) {
    std::vector<std::string> ids;
    for (int j = i; j < n && j < i + kReadSet; ++j) ids.push_back(std::to_string(j + 1));
    duet::Expected<std::vector<Link>> links = store.LinksByLeft("customers", ids);
    if (!Check(links.status(), "read")) return false;
    found += static_cast<int64_t>(links->size());
  }
  double read = Seconds(start);
  std::printf("%-10s PutLink  %7d links in %6.2f s: %8.0f links/s\n", name, n, wrote, n / wrote);
  std::printf("%-10s LinksByLeft %4lld links in %6.2f s: %8.0f links/s\n", name,
              static_cast<long long>(found), read, static_cast<double>(found) / read);
  return found == n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: state_store_bench [N]\n");
    return 2;
  }
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("duet-state-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  bool ok = Measure("sqlite", "sqlite:" + (dir / "state.db").string(), n);
  std::filesystem::remove_all(dir);
  duet::test::PgServer pg;
  if (!Check(pg.Start(), "starting PostgreSQL")) return 2;
  ::setenv("PGPASSWORD", pg.password().c_str(), 1);
  ok = Measure("postgresql", pg.Uri(), n) && ok;
  return ok ? 0 : 1;
}
