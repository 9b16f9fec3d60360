// What capture costs an application's writes on PostgreSQL, side by side
// on one throwaway server (tests/support/pg_server.h, wal_level = logical
// for all three): three tables of one shape, one without capture, one
// captured by logical decoding, one by triggers. Each round writes, to each
// table in turn (the order rotates), K single-row inserts and K single-row
// updates, each its own transaction as pgbench's are, and one 100k-row
// INSERT ... SELECT; between rounds, untimed, both captures are read to the
// end and pruned, as a running duet would. Prints, per workload, the median
// time per row of each mode and the median of the per-round ratios to no
// capture (paired medians).
//
//   build/bench/pg/capture_bench [ROUNDS [K]]    (default 7 rounds, K = 2000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "runtime/endpoint/postgres/pg_capture.h"
#include "runtime/pg/pg_conn.h"
#include "tests/support/pg_server.h"

namespace {

using duet::Status;
using Clock = std::chrono::steady_clock;

constexpr int kBatch = 100000;
constexpr const char* kModes[] = {"none", "logical", "triggers"};
constexpr const char* kTables[] = {"plain", "logical", "triggered"};

bool Check(const Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "%s: %s\n", what, s.message().c_str());
  return false;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Seconds to run `sql(i)` for i in [from, from + k), each statement its own
// transaction; negative on an error.
template <typename Fn>
double Time(duet::pg::Connection& conn, int from, int k, Fn sql) {
  auto start = Clock::now();
  for (int i = from; i < from + k; ++i) {
    if (!Check(conn.Run(sql(i)), "write")) return -1;
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Reads a capture to its end and acknowledges everything.
bool Drain(duet::pg::PgCapture& capture) {
  duet::Expected<duet::endpoint::Position> end = capture.StreamEnd();
  if (!Check(end.status(), "read the stream")) return false;
  return Check(capture.PruneChangelog(*end), "prune");
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
  int k = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (rounds < 1 || k < 1) {
    std::fprintf(stderr, "usage: capture_bench [ROUNDS [K]]\n");
    return 2;
  }
  duet::test::PgServer pg;
  if (!Check(pg.Start(), "start the server")) return 1;
  std::string ddl;
  for (const char* t : kTables) {
    ddl +=
        std::string("CREATE TABLE ") + t + " (id int PRIMARY KEY, code text, name text, qty int);";
  }
  if (!Check(pg.Psql(ddl).status(), "create the tables")) return 1;
  if (!Check(pg.AdminPsql("GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text),"
                          " pg_replication_origin_drop(text), pg_replication_origin_oid(text),"
                          " pg_replication_origin_session_setup(text),"
                          " pg_replication_origin_session_reset(),"
                          " pg_replication_origin_session_is_setup() TO duet")
                 .status(),
             "grant")) {
    return 1;
  }
  std::vector<std::unique_ptr<duet::pg::PgCapture>> captures;
  for (int m = 1; m < 3; ++m) {
    std::string conninfo = pg.ConnInfoWithPassword() + " duet_capture=" + kModes[m];
    auto capture = duet::pg::OpenCapture(
        conninfo, kModes[m], {{std::string("b.") + kTables[m], "public", kTables[m], {"id"}}});
    if (!Check(capture.status(), "open capture")) return 1;
    if (!Check((*capture)->Install({std::string("b.") + kTables[m]}).status(), "install")) {
      return 1;
    }
    captures.push_back(std::move(*capture));
  }
  auto conn = duet::pg::Connection::Open(pg.ConnInfoWithPassword(), {.label = "bench"});
  if (!Check(conn.status(), "connect")) return 1;
  duet::pg::Connection& app = **conn;

  const char* kWorkloads[] = {"insert", "update", "batch 100k"};
  // seconds[workload][mode][round]
  std::vector<std::vector<std::vector<double>>> seconds(3, std::vector<std::vector<double>>(3));
  for (int r = 0; r < rounds; ++r) {
    for (int j = 0; j < 3; ++j) {
      int m = (r + j) % 3;
      std::string t = kTables[m];
      int from = r * k;
      double ins = Time(app, from, k, [&](int i) {
        return "INSERT INTO " + t + " VALUES (" + std::to_string(i) + ", 'C" + std::to_string(i) +
               "', 'customer name', 1)";
      });
      double upd = Time(app, from, k, [&](int i) {
        return "UPDATE " + t + " SET qty = qty + 1 WHERE id = " + std::to_string(i);
      });
      int base = 100000000 + r * kBatch;
      double batch = Time(app, 0, 1, [&](int) {
        return "INSERT INTO " + t +
               " SELECT i, 'C' || i, 'customer name', 1 FROM generate_series(" +
               std::to_string(base) + ", " + std::to_string(base + kBatch - 1) + ") i";
      });
      if (ins < 0 || upd < 0 || batch < 0) return 1;
      seconds[0][static_cast<size_t>(m)].push_back(ins / k);
      seconds[1][static_cast<size_t>(m)].push_back(upd / k);
      seconds[2][static_cast<size_t>(m)].push_back(batch / kBatch);
    }
    for (auto& c : captures) {
      if (!Drain(*c)) return 1;
    }
  }
  std::printf("%d rounds, K = %d single-row transactions, batch of %d rows\n", rounds, k, kBatch);
  std::printf("%-11s %-9s %12s %18s\n", "workload", "capture", "us per row", "x none (paired)");
  for (int w = 0; w < 3; ++w) {
    for (int m = 0; m < 3; ++m) {
      std::vector<double> ratios;
      for (int r = 0; r < rounds; ++r) {
        ratios.push_back(seconds[w][static_cast<size_t>(m)][static_cast<size_t>(r)] /
                         seconds[w][0][static_cast<size_t>(r)]);
      }
      std::printf("%-11s %-9s %12.1f %18.2f\n", kWorkloads[w], kModes[m],
                  Median(seconds[w][static_cast<size_t>(m)]) * 1e6, Median(ratios));
    }
  }
  return 0;
}
