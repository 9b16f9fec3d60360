// Capture (runtime/endpoint/postgres/pg_capture.h) against real PostgreSQL
// 15 servers, driven directly: applications write through their own
// sessions (pg::Connection, psql), duet's writes through a connection
// marked with MarkSession, as the endpoint does. The tests of PgCaptureTest
// run for both implementations (logical decoding and triggers, chosen by
// the connection string's duet_capture option as the endpoint chooses);
// LogicalCaptureTest and TriggerCaptureTest hold what one of them does
// alone (the slot, the walsender; the change table, the triggers).
#include "runtime/endpoint/postgres/pg_capture.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "runtime/endpoint/postgres/capture_option.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/endpoint/postgres/pg_row_key.h"
#include "runtime/endpoint/postgres/trigger_capture.h"
#include "runtime/pg/replication_stream.h"
#include "tests/support/pg_server.h"

namespace duet::pg {
namespace {

using endpoint::ChangeOp;
using endpoint::Endpoint;
using endpoint::Position;
using test::PgServer;

constexpr char kCustomer[] = "fo.customer";
constexpr char kContact[] = "fo.contact";
constexpr char kLine[] = "fo.line";
constexpr char kOrigin[] = "customers";

constexpr char kSchema[] =
    "CREATE TABLE customer (id serial, code text PRIMARY KEY, name text);"
    "CREATE TABLE contact (email text PRIMARY KEY, customer_code text);"
    "CREATE TABLE line (order_no int, line_no int, qty int, PRIMARY KEY (order_no, line_no));";

constexpr char kGrantOrigins[] =
    "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text),"
    " pg_replication_origin_drop(text), pg_replication_origin_oid(text),"
    " pg_replication_origin_session_setup(text), pg_replication_origin_session_reset(),"
    " pg_replication_origin_session_is_setup() TO duet";

// A change as the tests compare them.
using Seen = std::tuple<std::string, ChangeOp, std::string, std::string>;  // table, op, row, origin

std::vector<CapturedTable> Tables() {
  return {{kCustomer, "public", "customer", {"code"}},
          {kContact, "public", "contact", {"email"}},
          {kLine, "public", "line", {"order_no", "line_no"}}};
}

// Polls `condition` until it holds or `deadline` passes.
template <typename Fn>
bool Eventually(Fn condition, std::chrono::seconds deadline = std::chrono::seconds(30)) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 20);  // the next look, not a synchronization
  }
  return true;
}

// The server and the connections of a test, with the capture `kind()`
// names.
class CaptureFixture : public ::testing::Test {
 protected:
  virtual CaptureKind kind() const = 0;
  bool logical() const { return kind() == CaptureKind::kLogical; }

  void SetUp() override {
    Status s = pg_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(pg_.Psql(kSchema).ok());
    ASSERT_TRUE(pg_.AdminPsql(kGrantOrigins).ok());
    Open();
    Expected<endpoint::CaptureCounts> counts = capture_->Install({kCustomer, kContact, kLine});
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    EXPECT_EQ(counts->tables, 3);
    app_ = Connect();
    duet_ = Connect();
  }

  void Open() {
    capture_.reset();
    Expected<std::unique_ptr<PgCapture>> c = OpenCapture(ConnInfo(), "fo", Tables());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    capture_ = std::move(*c);
  }

  // The server's connection string with the option choosing the capture.
  std::string ConnInfo() const {
    return pg_.ConnInfoWithPassword() +
           (logical() ? " duet_capture=logical" : " duet_capture=triggers");
  }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(pg_.ConnInfoWithPassword(), {.label = "test"});
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(*conn) : nullptr;
  }

  void App(const std::string& sql) { ASSERT_TRUE(app_->Run(sql).ok()) << sql; }

  // duet's write: `sql` in one transaction of the session marked `origin`.
  void Duet(const std::string& sql, std::string_view origin = kOrigin) {
    Status s = capture_->MarkSession(*duet_, origin);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(duet_->Run("BEGIN; " + sql + "; COMMIT").ok()) << sql;
  }

  // Every change after `after`, read in pages of `page`; checks positions
  // strictly increase and read_to is never behind.
  std::vector<Seen> Read(const Position& after = Position(),
                         std::vector<Position>* positions = nullptr,
                         const std::vector<std::string>& tables = {}, size_t page = 100) {
    std::vector<Seen> out;
    Position from = after;
    for (;;) {
      Expected<Endpoint::Stream> read = capture_->ReadStream(tables, from, page);
      EXPECT_TRUE(read.ok()) << read.status().ToString();
      if (!read.ok()) return out;
      for (const endpoint::Change& c : read->changes) {
        EXPECT_GT(c.position, from);
        from = c.position;
        if (positions) positions->push_back(c.position);
        out.emplace_back(c.table, c.op, c.row_id, c.origin);
      }
      EXPECT_GE(read->read_to, from);
      if (read->changes.size() < page) break;
      from = read->read_to;
    }
    return out;
  }

  // Reads until a read succeeds (the stream reconnects after a fault).
  std::vector<Seen> ReadAfterFault(const Position& after) {
    bool ok = Eventually([&] { return capture_->ReadStream({}, after, 1).ok(); });
    EXPECT_TRUE(ok) << "the stream did not come back";
    return Read(after);
  }

  std::string SlotConfirmed() {
    Expected<std::string> lsn = pg_.Psql(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_type = 'logical'");
    return lsn.ok() ? *lsn : "error: " + lsn.status().ToString();
  }

  PgServer pg_;
  std::unique_ptr<PgCapture> capture_;
  std::unique_ptr<Connection> app_;
  std::unique_ptr<Connection> duet_;
};

class PgCaptureTest : public CaptureFixture, public ::testing::WithParamInterface<CaptureKind> {
 protected:
  CaptureKind kind() const override { return GetParam(); }
};

}  // namespace

// For test names and messages.
void PrintTo(CaptureKind kind, std::ostream* out) {
  *out << (kind == CaptureKind::kLogical ? "logical" : "triggers");
}

namespace {

INSTANTIATE_TEST_SUITE_P(Kinds, PgCaptureTest,
                         ::testing::Values(CaptureKind::kLogical, CaptureKind::kTriggers),
                         [](const ::testing::TestParamInfo<CaptureKind>& info) {
                           return info.param == CaptureKind::kLogical ? "Logical" : "Triggers";
                         });

// What logical decoding alone does: the replication slot, the walsender,
// the publication's checks.
class LogicalCaptureTest : public CaptureFixture {
 protected:
  CaptureKind kind() const override { return CaptureKind::kLogical; }
};

// What capture by triggers alone does: the change table, the triggers.
class TriggerCaptureTest : public CaptureFixture {
 protected:
  CaptureKind kind() const override { return CaptureKind::kTriggers; }
};

TEST_P(PgCaptureTest, ChangesOfAllTablesComeInCommitOrder) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("BEGIN; INSERT INTO contact VALUES ('a@x', 'A'); UPDATE customer SET name = 'Anne'"
      " WHERE code = 'A'; COMMIT");
  // Two transactions that commit in the other order than they began.
  std::unique_ptr<Connection> first = Connect();
  ASSERT_TRUE(first->Run("BEGIN; INSERT INTO line VALUES (1, 1, 5)").ok());
  App("BEGIN; INSERT INTO customer (code, name) VALUES ('B', 'Bob'); COMMIT");
  ASSERT_TRUE(first->Run("UPDATE line SET qty = 6 WHERE order_no = 1; COMMIT").ok());
  // A key change is the old key's delete and the new key's insert.
  App("UPDATE contact SET email = 'b@x' WHERE email = 'a@x'");
  App("DELETE FROM customer WHERE code = 'B'");

  std::vector<Position> positions;
  std::vector<Seen> want = {
      {kCustomer, ChangeOp::kInsert, "A", ""},
      {kContact, ChangeOp::kInsert, "a@x", ""},
      {kCustomer, ChangeOp::kUpdate, "A", ""},
      {kCustomer, ChangeOp::kInsert, "B", ""},
      {kLine, ChangeOp::kInsert, "[\"1\",\"1\"]", ""},
      {kLine, ChangeOp::kUpdate, "[\"1\",\"1\"]", ""},
      {kContact, ChangeOp::kDelete, "a@x", ""},
      {kContact, ChangeOp::kInsert, "b@x", ""},
      {kCustomer, ChangeOp::kDelete, "B", ""},
  };
  EXPECT_EQ(Read(Position(), &positions), want);
  EXPECT_EQ(Read(Position(), nullptr, {}, 1), want) << "in pages of one";
  std::vector<Seen> contacts = {want[1], want[6], want[7]};
  EXPECT_EQ(Read(Position(), nullptr, {kContact}, 1), contacts);
  Expected<Position> end = capture_->StreamEnd();
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(*end, positions.back());
  // A one-table read passes the other tables' changes.
  Expected<Endpoint::Stream> none = capture_->ReadStream({"fo.nothing"}, Position(), 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->changes.empty());
  EXPECT_EQ(none->read_to, *end);
}

// A transaction that began first and commits after a later one was read is
// read after it, not skipped (a bare sequence or xid order would skip it).
TEST_P(PgCaptureTest, ATransactionCommittingAfterALaterOneWasReadIsNotSkipped) {
  std::unique_ptr<Connection> first = Connect();
  ASSERT_TRUE(first->Run("BEGIN; INSERT INTO customer (code) VALUES ('F')").ok());
  App("INSERT INTO customer (code) VALUES ('L')");
  std::vector<Position> positions;
  std::vector<Seen> seen = Read(Position(), &positions);
  std::vector<Seen> later = {{kCustomer, ChangeOp::kInsert, "L", ""}};
  EXPECT_EQ(seen, later);
  ASSERT_TRUE(first->Run("UPDATE customer SET name = 'f' WHERE code = 'F'; COMMIT").ok());
  std::vector<Seen> rest = Read(positions.empty() ? Position() : positions.back());
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "F", ""},
                            {kCustomer, ChangeOp::kUpdate, "F", ""}};
  EXPECT_EQ(rest, want);
}

// A row's changes come in the order they were made, also when the
// transaction that made the later one began (and took its id) first.
TEST_P(PgCaptureTest, ARowsChangesComeInTheOrderTheyWereMade) {
  App("INSERT INTO customer (code) VALUES ('R')");
  std::unique_ptr<Connection> older = Connect();
  ASSERT_TRUE(older->Run("BEGIN; INSERT INTO contact VALUES ('o@x', 'R')").ok());
  App("DELETE FROM customer WHERE code = 'R'");
  ASSERT_TRUE(older->Run("INSERT INTO customer (code) VALUES ('R'); COMMIT").ok());
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "R", ""},
                            {kCustomer, ChangeOp::kDelete, "R", ""},
                            {kContact, ChangeOp::kInsert, "o@x", ""},
                            {kCustomer, ChangeOp::kInsert, "R", ""}};
  EXPECT_EQ(Read(), want);
}

// An application's role needs no privilege on capture's objects.
TEST_P(PgCaptureTest, AnApplicationRoleWithoutPrivilegesOnCaptureIsCaptured) {
  ASSERT_TRUE(pg_.AdminPsql("CREATE ROLE app; GRANT app TO duet;"
                            " GRANT SELECT, INSERT, UPDATE ON customer TO app;"
                            " GRANT USAGE ON SEQUENCE customer_id_seq TO app")
                  .ok());
  App("SET ROLE app; INSERT INTO customer (code) VALUES ('A'); RESET ROLE");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "A", ""}};
  EXPECT_EQ(Read(), want);
}

TEST_P(PgCaptureTest, DuetsWritesCarryTheirOriginWhileAnApplicationCommitsBeside) {
  ASSERT_TRUE(capture_->MarkSession(*duet_, kOrigin).ok());
  ASSERT_TRUE(duet_->Run("BEGIN; INSERT INTO customer (code, name) VALUES ('D', 'Duet')").ok());
  // The application commits on the same table while duet's transaction is open.
  ASSERT_TRUE(pg_.Psql("INSERT INTO customer (code, name) VALUES ('A', 'Ann')").ok());
  ASSERT_TRUE(duet_->Run("UPDATE customer SET name = 'Duet 2' WHERE code = 'D'; COMMIT").ok());
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  Duet("UPDATE customer SET name = 'Bob' WHERE code = 'A'", "contacts");
  Duet("DELETE FROM customer WHERE code = 'D'", "");
  std::vector<Seen> want = {
      {kCustomer, ChangeOp::kInsert, "A", ""},         {kCustomer, ChangeOp::kInsert, "D", kOrigin},
      {kCustomer, ChangeOp::kUpdate, "D", kOrigin},    {kCustomer, ChangeOp::kUpdate, "A", ""},
      {kCustomer, ChangeOp::kUpdate, "A", "contacts"}, {kCustomer, ChangeOp::kDelete, "D", ""},
  };
  EXPECT_EQ(Read(), want);
}

// Change::at is the commit time: after the transaction began and before
// the read that returned it ended, on the server's clock; for duet's own
// transactions too (whose commit record carries no time of its own).
TEST_P(PgCaptureTest, EachChangeCarriesItsCommitTime) {
  App("INSERT INTO customer (code, name) VALUES ('A', extract(epoch FROM now())::text)");
  Duet("INSERT INTO customer (code, name) VALUES ('D', extract(epoch FROM now())::text)");
  Expected<Endpoint::Stream> read = capture_->ReadStream({}, Position(), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  Expected<Result> ended = app_->Exec(
      "SELECT extract(epoch FROM clock_timestamp())::float8, (SELECT name::float8 FROM customer"
      " WHERE code = 'A'), (SELECT name::float8 FROM customer WHERE code = 'D')");
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  double end = std::stod(std::string(ended->Text(0, 0)));
  ASSERT_EQ(read->changes.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    double began = std::stod(std::string(ended->Text(0, 1 + i)));
    EXPECT_GE(read->changes[static_cast<size_t>(i)].at, began) << i;
    EXPECT_LE(read->changes[static_cast<size_t>(i)].at, end) << i;
  }
  EXPECT_EQ(read->changes[1].origin, kOrigin);
}

// Applications and duet committing at the same moments on the same table,
// and on the same row: every change is there once, and only duet's carry
// its origin.
TEST_P(PgCaptureTest, OriginsHoldWhileApplicationsCommitAtTheSameMoments) {
  constexpr int kEach = 150;
  App("INSERT INTO customer (code) VALUES ('S')");
  Position start = *capture_->StreamEnd();
  std::unique_ptr<Connection> other_app = Connect();
  ASSERT_TRUE(capture_->MarkSession(*duet_, kOrigin).ok());
  auto writes = [](Connection& conn, char who, Status* status) {
    for (int i = 0; i < kEach && status->ok(); ++i) {
      std::string key = who + std::to_string(i);
      *status = conn.Run("BEGIN; INSERT INTO customer (code) VALUES ('" + key +
                         "'); UPDATE customer SET name = '" + key + "' WHERE code = 'S'; COMMIT");
    }
  };
  Status app_status;
  std::thread app([&] { writes(*other_app, 'a', &app_status); });
  Status duet_status;
  writes(*duet_, 'd', &duet_status);
  app.join();
  ASSERT_TRUE(app_status.ok()) << app_status.ToString();
  ASSERT_TRUE(duet_status.ok()) << duet_status.ToString();
  std::vector<Position> positions;
  std::vector<Seen> changes = Read(start, &positions);
  ASSERT_EQ(changes.size(), 4u * kEach);
  std::map<std::string, int> inserts;
  std::map<std::string, int> updates;  // of S, by origin
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& [table, op, id, origin] = changes[i];
    if (op == ChangeOp::kInsert) {
      ++inserts[id];
      EXPECT_EQ(origin, id[0] == 'd' ? kOrigin : "") << id;
      // The update of S that follows is the same transaction's.
      ASSERT_LT(i + 1, changes.size());
      EXPECT_EQ(positions[i].bytes().substr(0, 8), positions[i + 1].bytes().substr(0, 8));
      EXPECT_EQ(std::get<3>(changes[i + 1]), origin) << id;
    } else {
      EXPECT_EQ(id, "S");
      ++updates[origin];
    }
  }
  EXPECT_EQ(inserts.size(), 2u * kEach);
  for (const auto& [id, n] : inserts) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(updates[""], kEach);
  EXPECT_EQ(updates[kOrigin], kEach);
}

TEST_P(PgCaptureTest, PositionsIncreaseAndResumeAfterAReopen) {
  Expected<Position> empty = capture_->StreamEnd();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->is_beginning());
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  App("UPDATE customer SET name = 'Anne' WHERE code = 'A'");
  std::vector<Position> before;
  ASSERT_EQ(Read(Position(), &before).size(), 3u);
  Open();
  App("DELETE FROM customer WHERE code = 'B'");
  std::vector<Position> after;
  std::vector<Seen> rest = Read(before[1], &after);
  std::vector<Seen> want = {{kCustomer, ChangeOp::kUpdate, "A", ""},
                            {kCustomer, ChangeOp::kDelete, "B", ""}};
  EXPECT_EQ(rest, want);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0], before[2]) << "a change keeps its position across a reopen";
  // Bytes this stream did not make are refused.
  const std::string& good = after[1].bytes();
  for (const Position& bad :
       {Position::FromBytes(good.substr(0, good.size() - 1)), Position::FromBytes(good + '\0'),
        Position::FromBytes(std::string(good.size(), '\xff')),
        Position::FromBytes(std::string(good.size(), '\0')), Position::AfterAll()}) {
    EXPECT_EQ(capture_->ReadStream({}, bad, 10).status().code(), StatusCode::kInvalidArgument)
        << bad.ToString();
    EXPECT_EQ(capture_->CountChanges(kCustomer, bad, "").status().code(),
              StatusCode::kInvalidArgument);
  }
}

TEST_F(LogicalCaptureTest, PruneConfirmsTheSlotAndNothingElseDoes) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  std::string created = SlotConfirmed();
  std::vector<Position> positions;
  ASSERT_EQ(Read(Position(), &positions).size(), 2u);
  ASSERT_TRUE(capture_->StreamEnd().ok());  // a status update the server has answered
  EXPECT_EQ(SlotConfirmed(), created) << "reading confirmed the slot";
  ASSERT_TRUE(capture_->PruneChangelog(positions[0]).ok());
  Expected<std::optional<StreamPoint>> point = DecodePosition(positions[0]);
  ASSERT_TRUE(point.ok() && point->has_value());
  std::string want = LsnText((*point)->commit_lsn);
  EXPECT_TRUE(Eventually([&] { return SlotConfirmed() == want; }))
      << SlotConfirmed() << " != " << want;
  // What was pruned is gone; what follows is kept.
  std::vector<Seen> rest = {{kCustomer, ChangeOp::kInsert, "B", ""}};
  EXPECT_EQ(Read(), rest);
  EXPECT_EQ(capture_->PruneChangelog(Position::FromBytes(std::string(12, '\x7f'))).code(),
            StatusCode::kInvalidArgument)
      << "a position past the stream cannot be confirmed";
}

// The engine keeps checkpoints at or before the stream's end; after a
// restart the end must not be behind them, or the engine would read again
// from the beginning. The slot replays the transaction of the confirmed
// position, so the end is where it was.
TEST_P(PgCaptureTest, AfterPruningEverythingANewProcessEndsWhereTheOldOneDid) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("BEGIN; INSERT INTO customer (code, name) VALUES ('B', 'Bob');"
      " INSERT INTO contact VALUES ('b@x', 'B'); COMMIT");
  Expected<Position> end = capture_->StreamEnd();
  ASSERT_TRUE(end.ok());
  ASSERT_TRUE(capture_->PruneChangelog(*end).ok());
  if (logical()) {
    // The slot is confirmed by a status update: its effect is seen later.
    Expected<std::optional<StreamPoint>> point = DecodePosition(*end);
    ASSERT_TRUE(point.ok() && point->has_value());
    std::string want = LsnText((*point)->commit_lsn);
    ASSERT_TRUE(Eventually([&] { return SlotConfirmed() == want; })) << SlotConfirmed();
  }
  Open();
  Expected<Position> again = capture_->StreamEnd();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *end);
  EXPECT_TRUE(Read(*end).empty());
  App("INSERT INTO customer (code, name) VALUES ('C', 'Cyd')");
  std::vector<Seen> rest = {{kCustomer, ChangeOp::kInsert, "C", ""}};
  EXPECT_EQ(Read(*end), rest);
}

// The engine may checkpoint (and prune through) a position inside a
// transaction when a read's limit ends there; a new process reading from
// that position must get the rest of the transaction.
TEST_P(PgCaptureTest, APruneInsideATransactionLosesNothingOfItsRestInANewProcess) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("BEGIN; INSERT INTO line SELECT 1, n, n FROM generate_series(1, 10) n; COMMIT");
  Expected<Endpoint::Stream> first = capture_->ReadStream({}, Position(), 4);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->changes.size(), 4u);
  Position through = first->changes.back().position;
  ASSERT_TRUE(capture_->PruneChangelog(through).ok());
  if (logical()) {
    Expected<std::optional<StreamPoint>> point = DecodePosition(through);
    ASSERT_TRUE(point.ok() && point->has_value());
    std::string want = LsnText((*point)->commit_lsn);
    ASSERT_TRUE(Eventually([&] { return SlotConfirmed() == want; })) << SlotConfirmed();
  }
  Open();
  std::vector<Seen> rest = Read(through);
  ASSERT_EQ(rest.size(), 7u) << "lines 4 to 10";
  for (const Seen& s : rest) {
    EXPECT_EQ(std::get<0>(s), kLine);
    EXPECT_EQ(std::get<1>(s), ChangeOp::kInsert);
  }
}

// A commit is decoded and sent once it is in the WAL, before the
// committing session makes it visible; here it stays invisible while it
// waits for a synchronous standby that never comes. The engine reads the
// stream and then the rows in a new snapshot: a change read before its
// row is visible would be taken for a deleted row.
TEST_F(LogicalCaptureTest, AReadReturnsNoTransactionANewSnapshotCannotSee) {
  auto psql = [&](const char* sql) {
    Expected<std::string> out = pg_.Psql(sql);
    return out.ok() ? *out : "error: " + out.status().ToString();
  };
  ASSERT_TRUE(pg_.AdminPsql("ALTER SYSTEM SET synchronous_standby_names = 'nobody'").ok());
  ASSERT_TRUE(pg_.AdminPsql("SELECT pg_reload_conf()").ok());
  ASSERT_TRUE(Eventually([&] { return psql("SHOW synchronous_standby_names") == "nobody"; }));
  std::unique_ptr<Connection> app = Connect();
  ASSERT_TRUE(app);
  std::thread commit([&] { EXPECT_TRUE(app->Run("INSERT INTO line VALUES (7, 1, 1)").ok()); });
  bool waiting = Eventually([&] {
    return psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == "1";
  });
  EXPECT_TRUE(waiting) << "the commit did not wait for the standby";
  // Lets the commit end once the capture waits for it (or after a while,
  // when it does not).
  std::thread release([&] {
    Eventually(
        [&] {
          return psql(
                     "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                     "'%pg_visible_in_snapshot%' AND pid <> pg_backend_pid()") == "1";
        },
        std::chrono::seconds(10));
    EXPECT_TRUE(pg_.AdminPsql("ALTER SYSTEM RESET synchronous_standby_names").ok());
    EXPECT_TRUE(pg_.AdminPsql("SELECT pg_reload_conf()").ok());
  });
  Expected<Endpoint::Stream> read = capture_->ReadStream({}, Position(), 10);
  std::string seen = psql("SELECT count(*) FROM line");
  release.join();
  commit.join();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->changes.size(), 1u);
  EXPECT_EQ(seen, "1") << "a change was read whose row a new snapshot cannot see";
}

TEST_F(LogicalCaptureTest, TheSlotRetainsTheWalWrittenSinceItWasConfirmed) {
  Expected<Result> before = app_->Exec("SELECT pg_current_wal_lsn()");
  ASSERT_TRUE(before.ok());
  App("INSERT INTO customer (code, name) SELECT 'c' || i, repeat('x', 200)"
      " FROM generate_series(1, 5000) AS i");
  Expected<Result> written = app_->Exec("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint",
                                        {std::string(before->Text(0, 0))});
  ASSERT_TRUE(written.ok());
  Expected<std::optional<int64_t>> retained = capture_->RetainedBytes();
  ASSERT_TRUE(retained.ok()) << retained.status().ToString();
  ASSERT_TRUE(retained->has_value());
  EXPECT_GE(**retained, std::stoll(std::string(written->Text(0, 0))));
  ASSERT_TRUE(capture_->Uninstall().ok());
  retained = capture_->RetainedBytes();
  ASSERT_TRUE(retained.ok());
  EXPECT_FALSE(retained->has_value()) << "no slot, nothing retained";
}

TEST_P(PgCaptureTest, AServerCrashLosesAndDoublesNothing) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  std::vector<Position> positions;
  ASSERT_EQ(Read(Position(), &positions).size(), 2u);
  ASSERT_TRUE(capture_->PruneChangelog(positions[0]).ok());
  ASSERT_TRUE(pg_.StopImmediate().ok());
  ASSERT_TRUE(pg_.Start().ok());
  app_ = Connect();
  duet_ = Connect();
  App("INSERT INTO customer (code, name) VALUES ('C', 'Cyd')");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "B", ""},
                            {kCustomer, ChangeOp::kInsert, "C", ""}};
  EXPECT_EQ(ReadAfterFault(positions[0]), want) << "the same process, reconnected";
  Open();
  EXPECT_EQ(ReadAfterFault(positions[0]), want) << "a new process, from the slot";
  Expected<Position> end = capture_->StreamEnd();
  ASSERT_TRUE(end.ok());
  EXPECT_GE(*end, positions[1]) << "the end is never behind a position returned before";
}

TEST_F(LogicalCaptureTest, ATerminatedWalsenderLosesAndDoublesNothing) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  std::vector<Position> positions;
  ASSERT_EQ(Read(Position(), &positions).size(), 1u);
  Expected<std::string> killed = pg_.AdminPsql(
      "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT "
      "NULL");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_EQ(*killed, "t");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "A", ""},
                            {kCustomer, ChangeOp::kInsert, "B", ""}};
  EXPECT_EQ(ReadAfterFault(Position()), want);
}

TEST_F(LogicalCaptureTest, InstallIsIdempotentAndUninstallDropsExactlyIt) {
  Expected<endpoint::CaptureCounts> again = capture_->Install({kCustomer, kContact, kLine});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects, 0);
  EXPECT_TRUE(capture_->Check({kCustomer, kLine}).ok());
  Duet("INSERT INTO customer (code) VALUES ('D')");  // creates the map's origin
  // Another deployment's objects (another system) stay untouched.
  Expected<std::unique_ptr<PgCapture>> other = OpenLogicalCapture(
      pg_.ConnInfoWithPassword(), "ce", {{"ce.contact", "public", "contact", {"email"}}});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Install({"ce.contact"}).ok());
  auto objects = [&] {
    Expected<std::string> out = pg_.AdminPsql(
        "SELECT (SELECT count(*) FROM pg_replication_slots) || ' ' ||"
        " (SELECT count(*) FROM pg_publication) || ' ' ||"
        " (SELECT count(*) FROM pg_replication_origin) || ' ' ||"
        " (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'duet%')");
    return out.ok() ? *out : out.status().ToString();
  };
  EXPECT_EQ(objects(), "2 2 1 2");
  // While a session is marked with its origin (a duet run), nothing goes.
  Status busy = capture_->Uninstall().status();
  EXPECT_FALSE(busy.ok());
  EXPECT_NE(busy.message().find("in use"), std::string::npos) << busy.ToString();
  EXPECT_EQ(objects(), "2 2 1 2") << "uninstall dropped something and failed";
  ASSERT_TRUE(capture_->MarkSession(*duet_, "").ok());
  Expected<endpoint::CaptureCounts> removed = capture_->Uninstall();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->tables, 3);
  EXPECT_EQ(removed->objects, 4) << "slot, publication, origin, table";
  EXPECT_EQ(objects(), "1 1 0 1") << "the other deployment's remain";
  EXPECT_EQ(capture_->Check({kCustomer}).code(), StatusCode::kFailedPrecondition);
  App("INSERT INTO customer (code) VALUES ('A')");
  Expected<endpoint::CaptureCounts> none = capture_->Uninstall();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->objects, 0);
}

TEST_P(PgCaptureTest, InstallCapturesExactlyTheTablesNamed) {
  Expected<endpoint::CaptureCounts> fewer = capture_->Install({kCustomer});
  ASSERT_TRUE(fewer.ok()) << fewer.status().ToString();
  EXPECT_EQ(fewer->objects, logical() ? 1 : 2)
      << "the publication changed, or two tables' triggers dropped";
  EXPECT_TRUE(capture_->Check({kCustomer}).ok());
  EXPECT_EQ(capture_->Check({kContact}).code(), StatusCode::kFailedPrecondition);
  App("INSERT INTO contact VALUES ('a@x', 'A'); INSERT INTO customer (code) VALUES ('A')");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "A", ""}};
  EXPECT_EQ(Read(), want) << "a table no longer captured has no changes";
  ASSERT_TRUE(capture_->Install({kCustomer, kContact}).ok());
  App("UPDATE contact SET customer_code = 'B'");
  want.emplace_back(kContact, ChangeOp::kUpdate, "a@x", "");
  EXPECT_EQ(Read(), want);
  Expected<endpoint::CaptureCounts> none = capture_->Install({});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(capture_->Check({kCustomer}).code(), StatusCode::kFailedPrecondition);
}

TEST_F(LogicalCaptureTest, InstallSaysWhichPrivilegesLackAndCreatesNothing) {
  ASSERT_TRUE(capture_->Uninstall().ok());
  ASSERT_TRUE(pg_.AdminPsql("REVOKE EXECUTE ON FUNCTION pg_replication_origin_create(text) FROM "
                            "duet; ALTER ROLE duet NOREPLICATION")
                  .ok());
  Open();
  Expected<endpoint::CaptureCounts> counts = capture_->Install({kCustomer});
  ASSERT_EQ(counts.status().code(), StatusCode::kFailedPrecondition);
  const std::string& m = counts.status().message();
  EXPECT_NE(m.find("REPLICATION attribute"), std::string::npos) << m;
  EXPECT_NE(m.find("EXECUTE on pg_replication_origin_create(text)"), std::string::npos) << m;
  EXPECT_EQ(m.find("session_setup"), std::string::npos) << "only what lacks: " << m;
  EXPECT_EQ(m.find(pg_.password()), std::string::npos);
  Expected<std::string> left = pg_.AdminPsql(
      "SELECT (SELECT count(*) FROM pg_replication_slots) + (SELECT count(*) FROM pg_publication)"
      " + (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'duet%')");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0");
}

TEST_F(LogicalCaptureTest, InstallNamesATableWithoutAUsableReplicaIdentity) {
  ASSERT_TRUE(pg_.Psql("CREATE TABLE bare (code text, name text);"
                       "CREATE TABLE quiet (code text PRIMARY KEY);"
                       "ALTER TABLE quiet REPLICA IDENTITY NOTHING;"
                       "CREATE TABLE whole (code text PRIMARY KEY, name text);"
                       "ALTER TABLE whole REPLICA IDENTITY FULL")
                  .ok());
  Expected<std::unique_ptr<PgCapture>> c = OpenCapture(ConnInfo(), "fo",
                                                       {{"fo.bare", "public", "bare", {"code"}},
                                                        {"fo.quiet", "public", "quiet", {"code"}},
                                                        {"fo.whole", "public", "whole", {"code"}}});
  ASSERT_TRUE(c.ok());
  Status bad = (*c)->Install({"fo.bare", "fo.quiet"}).status();
  EXPECT_EQ(bad.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.message().find("REPLICA IDENTITY of table \"public\".\"quiet\""), std::string::npos)
      << bad.message();
  EXPECT_NE(bad.message().find("\"public\".\"bare\" giving its primary key in the stream (it is "
                               "DEFAULT, without a primary key"),
            std::string::npos)
      << bad.message();
  Expected<endpoint::CaptureCounts> full = (*c)->Install({"fo.whole"});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_TRUE(pg_.Psql("INSERT INTO whole VALUES ('W', 'x'); UPDATE whole SET code = 'V';"
                       "DELETE FROM whole")
                  .ok());
  Expected<Endpoint::Stream> read = (*c)->ReadStream({}, Position(), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->changes.size(), 4u);
  EXPECT_EQ(read->changes[1].op, ChangeOp::kDelete);
  EXPECT_EQ(read->changes[1].row_id, "W");
  EXPECT_EQ(read->changes[2].op, ChangeOp::kInsert);
  EXPECT_EQ(read->changes[3].row_id, "V");
}

TEST_P(PgCaptureTest, AnswersThePerTableQuestions) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('A2', 'Ann')");
  Position start = *capture_->StreamEnd();
  App("DELETE FROM customer WHERE code = 'A'");
  App("INSERT INTO customer (code, name) VALUES ('A', 'Another Ann')");  // a new row
  App("INSERT INTO customer (code, name) VALUES ('N', 'New') ON CONFLICT DO NOTHING");
  Duet("INSERT INTO customer (code, name) VALUES ('D', 'Duet')");
  Duet("UPDATE customer SET name = 'x' WHERE code = 'A2'");
  Duet("DELETE FROM customer WHERE code = 'D'; INSERT INTO customer (code) VALUES ('D')");
  std::vector<Position> positions;
  ASSERT_EQ(Read(start, &positions).size(), 7u);

  Expected<Endpoint::Inserts> inserts =
      capture_->ReadInserts(kCustomer, start, kOrigin, std::nullopt);
  ASSERT_TRUE(inserts.ok()) << inserts.status().ToString();
  ASSERT_EQ(inserts->rows.size(), 1u) << "an insert after a delete of its key; duet's not";
  EXPECT_EQ(inserts->rows[0].first, "A");
  EXPECT_EQ(inserts->rows[0].second, positions[1]);
  EXPECT_EQ(inserts->scanned_to, positions.back());
  inserts = capture_->ReadInserts(kCustomer, start, kOrigin, start);
  ASSERT_TRUE(inserts.ok());
  EXPECT_EQ(inserts->rows.size(), 2u) << "duet's own after own_after too";

  Expected<std::vector<std::pair<endpoint::RowId, Position>>> own =
      capture_->ReadOwnInserts(kCustomer, kOrigin, start);
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 2u);
  EXPECT_EQ((*own)[0].first, "D");
  Expected<int64_t> count = capture_->CountChanges(kCustomer, start, kOrigin);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 3);
  EXPECT_EQ(*capture_->CountChanges(kCustomer, start, "another map"), 7);

  Expected<std::optional<double>> latest = capture_->LatestChangeTime(kCustomer, "A", start);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  Expected<Endpoint::Stream> read = capture_->ReadStream({}, positions[0], 1);
  EXPECT_EQ(**latest, read->changes[0].at) << "the newest application change's time";
  latest = capture_->LatestChangeTime(kCustomer, "A2", start);
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value()) << "only duet changed A2";
  EXPECT_TRUE(*capture_->OwnChangeAfter(kCustomer, "A2", kOrigin, start));
  EXPECT_FALSE(*capture_->OwnChangeAfter(kCustomer, "A2", kOrigin, positions[4]));
  EXPECT_FALSE(*capture_->OwnChangeAfter(kCustomer, "A", kOrigin, start));
}

TEST_P(PgCaptureTest, TheChangeFdWakesOnAnApplicationCommit) {
  int fd = capture_->ChangeFd();
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(capture_->StreamEnd().ok());
  EXPECT_EQ(capture_->CheckChanges(), Endpoint::ChangeState::kNone);
  Duet("INSERT INTO customer (code) VALUES ('D')");
  ASSERT_TRUE(capture_->StreamEnd().ok());
  EXPECT_EQ(capture_->CheckChanges(), Endpoint::ChangeState::kNone) << "duet's own commit";
  App("INSERT INTO customer (code) VALUES ('A')");
  pollfd p{fd, POLLIN, 0};
  bool changed = Eventually([&] {
    ::poll(&p, 1, 100);
    return capture_->CheckChanges() == Endpoint::ChangeState::kChanged;
  });
  EXPECT_TRUE(changed);
  EXPECT_EQ(capture_->CheckChanges(), Endpoint::ChangeState::kNone) << "said once";
}

TEST_P(PgCaptureTest, TheBoundStateSurvivesAReopen) {
  Expected<std::string> none = capture_->BoundState();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
  ASSERT_TRUE(capture_->BindState("state-1").ok());
  ASSERT_TRUE(capture_->BindState("state-2").ok());
  Open();
  Expected<std::string> bound = capture_->BoundState();
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(*bound, "state-2");
}

TEST_F(TriggerCaptureTest, PruneDeletesTheAcknowledgedChangeRowsButTheLast) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob'); UPDATE customer SET name = 'b'");
  std::vector<Position> positions;
  ASSERT_EQ(Read(Position(), &positions).size(), 4u);
  Expected<std::optional<int64_t>> before = capture_->RetainedBytes();
  ASSERT_TRUE(before.ok() && before->has_value()) << before.status().ToString();
  ASSERT_TRUE(capture_->PruneChangelog(positions[2]).ok());
  auto left = [&] {
    Expected<std::string> t =
        pg_.Psql("SELECT tablename FROM pg_tables WHERE tablename LIKE 'duet%_trg_changes'");
    if (!t.ok()) return t.status().ToString();
    Expected<std::string> n = pg_.Psql("SELECT count(*) FROM \"" + *t + "\"");
    return n.ok() ? *n : n.status().ToString();
  };
  EXPECT_EQ(left(), "2") << "the change at the position pruned through, and the one after";
  std::vector<Seen> rest = {{kCustomer, ChangeOp::kUpdate, "B", ""}};
  EXPECT_EQ(Read(positions[2]), rest);
  Open();
  EXPECT_EQ(Read(positions[2]), rest) << "a new process";
  EXPECT_EQ(*capture_->StreamEnd(), positions[3]);
  ASSERT_TRUE(capture_->Uninstall().ok());
  Expected<std::optional<int64_t>> after = capture_->RetainedBytes();
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value()) << "no change table, nothing retained";
}

TEST_F(TriggerCaptureTest, TerminatedConnectionsLoseAndDoubleNothing) {
  App("INSERT INTO customer (code, name) VALUES ('A', 'Ann')");
  int fd = capture_->ChangeFd();
  ASSERT_GE(fd, 0);
  std::vector<Position> positions;
  ASSERT_EQ(Read(Position(), &positions).size(), 1u);
  // Every session of the role's default application name: capture's SQL
  // and LISTEN connections, and the test's own.
  Expected<int> killed = pg_.TerminateSessions("duet");
  ASSERT_TRUE(killed.ok()) << killed.status().ToString();
  ASSERT_GE(*killed, 2);
  app_ = Connect();
  App("INSERT INTO customer (code, name) VALUES ('B', 'Bob')");
  std::vector<Seen> want = {{kCustomer, ChangeOp::kInsert, "A", ""},
                            {kCustomer, ChangeOp::kInsert, "B", ""}};
  EXPECT_EQ(ReadAfterFault(Position()), want);
  // The wake-up comes back on a new LISTEN connection.
  EXPECT_TRUE(Eventually([&] { return capture_->ChangeFd() >= 0; }));
  EXPECT_TRUE(Eventually([&] { return capture_->CheckChanges() == Endpoint::ChangeState::kNone; }));
  App("INSERT INTO customer (code, name) VALUES ('C', 'Cyd')");
  EXPECT_TRUE(Eventually([&] {
    pollfd p{capture_->ChangeFd(), POLLIN, 0};
    ::poll(&p, 1, 100);
    return capture_->CheckChanges() == Endpoint::ChangeState::kChanged;
  }));
}

// The trigger's RowId is EncodeRowId's of the texts duet's own connections
// print, byte for byte, whatever the application's session settings.
TEST_F(TriggerCaptureTest, RowIdsAreThoseTheEndpointMakes) {
  ASSERT_TRUE(pg_.Psql("CREATE TABLE odd (k text, d date, t timestamptz, PRIMARY KEY (k, d, t));"
                       "CREATE TABLE day (d date PRIMARY KEY)")
                  .ok());
  Expected<std::unique_ptr<PgCapture>> c = OpenCapture(
      ConnInfo(), "fo",
      {{"fo.odd", "public", "odd", {"k", "d", "t"}}, {"fo.day", "public", "day", {"d"}}});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Install({"fo.odd", "fo.day"}).ok());
  App("SET DateStyle = 'SQL, DMY'; SET TimeZone = 'America/New_York';"
      " INSERT INTO odd VALUES (E'q\"b\\\\s\\n\\t\\x01\\x7f é ✓ ,', '2024-02-03',"
      " '2024-02-03 04:05:06.5+02');"
      " INSERT INTO day VALUES ('2024-02-03'); RESET DateStyle; RESET TimeZone");
  Expected<Endpoint::Stream> read = (*c)->ReadStream({}, Position(), 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->changes.size(), 2u);
  Expected<Result> texts = duet_->Exec("SELECT k, d::text, t::text FROM odd");
  ASSERT_TRUE(texts.ok());
  EXPECT_EQ(read->changes[0].row_id,
            EncodeRowId({std::string(texts->Text(0, 0)), std::string(texts->Text(0, 1)),
                         std::string(texts->Text(0, 2))}));
  EXPECT_EQ(read->changes[1].row_id, "2024-02-03");
}

TEST_F(TriggerCaptureTest, InstallIsIdempotentAndUninstallDropsExactlyIt) {
  Expected<endpoint::CaptureCounts> again = capture_->Install({kCustomer, kContact, kLine});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->objects, 0);
  EXPECT_TRUE(capture_->Check({kCustomer, kLine}).ok());
  // Another deployment's objects (another system) stay untouched.
  Expected<std::unique_ptr<PgCapture>> other =
      OpenCapture(ConnInfo(), "ce", {{"ce.contact", "public", "contact", {"email"}}});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Install({"ce.contact"}).ok());
  auto objects = [&] {
    Expected<std::string> out = pg_.AdminPsql(
        "SELECT (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'duet%') || ' ' ||"
        " (SELECT count(*) FROM pg_proc WHERE proname LIKE 'duet%') || ' ' ||"
        " (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'duet%') || ' ' ||"
        " (SELECT count(*) FROM pg_replication_slots) + (SELECT count(*) FROM pg_publication)");
    return out.ok() ? *out : out.status().ToString();
  };
  EXPECT_EQ(objects(), "6 6 8 0") << "per deployment: 3 tables, a function per table and the "
                                     "notify function, 2 triggers per table; no slot";
  Expected<endpoint::CaptureCounts> removed = capture_->Uninstall();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(removed->tables, 3);
  EXPECT_EQ(removed->objects, 7) << "3 tables' triggers and functions, 3 tables, the function";
  EXPECT_EQ(objects(), "3 2 2 0") << "the other deployment's remain";
  EXPECT_EQ(capture_->Check({kCustomer}).code(), StatusCode::kFailedPrecondition);
  App("INSERT INTO customer (code) VALUES ('A')");
  Expected<endpoint::CaptureCounts> none = capture_->Uninstall();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->objects, 0);
}

TEST_F(TriggerCaptureTest, InstallSaysWhichPrivilegesLackAndCreatesNothing) {
  ASSERT_TRUE(capture_->Uninstall().ok());
  ASSERT_TRUE(pg_.AdminPsql("REVOKE TRIGGER ON customer FROM duet").ok());
  Open();
  Expected<endpoint::CaptureCounts> counts = capture_->Install({kCustomer, kContact});
  ASSERT_EQ(counts.status().code(), StatusCode::kFailedPrecondition);
  const std::string& m = counts.status().message();
  EXPECT_NE(m.find("TRIGGER on table \"public\".\"customer\" (GRANT TRIGGER ON "
                   "\"public\".\"customer\" TO \"duet\")"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("contact"), std::string::npos) << "only what lacks: " << m;
  EXPECT_EQ(m.find(pg_.password()), std::string::npos);
  Expected<std::string> left = pg_.AdminPsql(
      "SELECT (SELECT count(*) FROM pg_tables WHERE tablename LIKE 'duet%') +"
      " (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'duet%')");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, "0");
}

// The connection string's option chooses the capture, and libpq never
// sees it.
TEST(CaptureOptionTest, SplitsTheOptionFromTheConnectionString) {
  struct Case {
    std::string in;
    CaptureKind kind;
    std::string out;
  };
  for (const Case& c : std::vector<Case>{
           {"postgresql://duet@h:5432/db", CaptureKind::kLogical, "postgresql://duet@h:5432/db"},
           {"postgresql://h/db?duet_capture=triggers", CaptureKind::kTriggers, "postgresql://h/db"},
           {"postgres://h/db?sslmode=require&duet_capture=triggers&options=-csearch_path%3Ds",
            CaptureKind::kTriggers, "postgres://h/db?sslmode=require&options=-csearch_path%3Ds"},
           {"postgresql://h/db?duet_capture=logical&sslmode=require", CaptureKind::kLogical,
            "postgresql://h/db?sslmode=require"},
           {"host=h dbname=db duet_capture=triggers", CaptureKind::kTriggers, "host=h dbname=db "},
           {"duet_capture = 'triggers' host=h password='a b\\' c'", CaptureKind::kTriggers,
            " host=h password='a b\\' c'"},
           {"host=h password='duet_capture=triggers'", CaptureKind::kLogical,
            "host=h password='duet_capture=triggers'"},
       }) {
    Expected<CaptureChoice> choice = SplitCaptureOption(c.in);
    ASSERT_TRUE(choice.ok()) << c.in << ": " << choice.status().ToString();
    EXPECT_EQ(choice->kind, c.kind) << c.in;
    EXPECT_EQ(choice->conninfo, c.out) << c.in;
  }
  for (const char* bad :
       {"postgresql://u:secret@h/db?duet_capture=wal", "password=secret duet_capture=",
        "postgresql://h/db?duet_capture=triggers&duet_capture=logical"}) {
    Status s = SplitCaptureOption(bad).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().find("secret"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace duet::pg
