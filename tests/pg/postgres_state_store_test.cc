// What the PostgreSQL state store adds to the conformance suite's contract
// (runtime/state/postgres_state_store.h), against a real server: a lost
// connection or a restarting server is Unavailable and the next unit
// reconnects with nothing half applied, serialization failures are
// Unavailable, a dropped or replaced store is DataLoss, the tables go to the
// search_path's first schema (and a missing one is refused), and no message
// carries the password.
#include "runtime/state/postgres_state_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "runtime/state/open_state_store.h"
#include "tests/support/pg_server.h"

namespace duet::state {
namespace {

using test::PgServer;
using Store = std::unique_ptr<StateStore>;

MapState Phase(MapPhase phase) {
  MapState m;
  m.name = "m";
  m.phase = phase;
  return m;
}

Link L(std::string left, std::string right) {
  return Link{std::move(left), std::move(right), "b", endpoint::Position(), endpoint::Position()};
}

class PostgresStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = pg_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // The test database's URL with the password in it (the generated one is
  // URL-safe), and `query` after it.
  std::string Url(const std::string& query = "") const {
    return "postgresql://duet:" + pg_.password() + "@127.0.0.1:" + std::to_string(pg_.port()) +
           "/duet" + query;
  }
  Store Open(StateStore::OpenMode mode = StateStore::OpenMode::kCreate) {
    Expected<Store> store = OpenStateStore(Url(), mode);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  // Ends duet's state store sessions on the server; how many it ended.
  int TerminateStateConnections() {
    Expected<int> n = pg_.TerminateSessions("duet state store");
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : 0;
  }
  // What psql printed, or the error.
  std::string Query(const std::string& sql) {
    Expected<std::string> out = pg_.Psql(sql);
    return out.ok() ? *out : out.status().ToString();
  }
  void ExpectNoPassword(const Status& s) {
    EXPECT_EQ(s.message().find(pg_.password()), std::string::npos) << s.message();
  }

  PgServer pg_;
};

TEST_F(PostgresStateStoreTest, ALostConnectionFailsTheUnitAndTheNextOneReconnects) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->AcquireLease("host:1").ok());
  ASSERT_TRUE(store->Begin().ok());
  ASSERT_TRUE(store->PutLink("m", L("1", "a")).ok());
  ASSERT_TRUE(store->SetCheckpoint("m", "fo", endpoint::Position::FromBytes("p")).ok());
  ASSERT_EQ(TerminateStateConnections(), 1);
  Status commit = store->Commit();
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable) << commit.ToString();
  ExpectNoPassword(commit);

  // The next unit runs on a new connection and sees nothing of the lost one.
  ASSERT_TRUE(store->Begin().ok());
  EXPECT_FALSE(*store->LinkByLeft("m", "1"));
  EXPECT_EQ(*store->GetCheckpoint("m", "fo"), endpoint::Position());
  ASSERT_TRUE(store->PutLink("m", L("2", "b")).ok());
  ASSERT_TRUE(store->Commit().ok()) << "the lease held across the new connection";
  Store other = Open(StateStore::OpenMode::kExisting);
  ASSERT_TRUE(other);
  EXPECT_EQ(*other->CountLinks("m"), 1);

  // Outside a unit: the operation that finds the connection gone fails, the
  // next one reconnects.
  ASSERT_GE(TerminateStateConnections(), 1);
  Expected<int64_t> lost = store->CountLinks("m");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*store->CountLinks("m"), 1);
  EXPECT_TRUE(store->CheckFile().ok());
}

TEST_F(PostgresStateStoreTest, ARestartingServerIsUnavailableThenReconnected) {
  Store store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->PutLink("m", L("1", "a")).ok());
  ASSERT_TRUE(pg_.Restart().ok());
  Status first = store->Begin();
  EXPECT_EQ(first.code(), StatusCode::kUnavailable) << first.ToString();
  ExpectNoPassword(first);
  ASSERT_TRUE(store->Begin().ok());
  EXPECT_TRUE(*store->LinkByLeft("m", "1"));
  EXPECT_TRUE(store->Commit().ok());
}

TEST_F(PostgresStateStoreTest, ASerializationFailureIsUnavailable) {
  Store a = Open();
  Store b = Open(StateStore::OpenMode::kExisting);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->PutMap(Phase(MapPhase::kNew)).ok());
  ASSERT_TRUE(a->BeginRead().ok());
  ASSERT_TRUE(a->GetMap("m").ok());  // the unit's snapshot
  ASSERT_TRUE(b->PutMap(Phase(MapPhase::kLive)).ok());
  Status write = a->PutMap(Phase(MapPhase::kInitial));
  EXPECT_EQ(write.code(), StatusCode::kUnavailable) << write.ToString();
  // The unit is over on the server: every later statement of it, and its
  // commit, fail with the same code (not "the transaction is aborted").
  EXPECT_EQ(a->GetMap("m").status().code(), StatusCode::kUnavailable);
  Status commit = a->Commit();
  EXPECT_EQ(commit.code(), StatusCode::kUnavailable) << commit.ToString();
  EXPECT_EQ(a->GetMap("m")->phase, MapPhase::kLive) << "nothing of the failed unit";
}

// A statement that waits too long for a lock held by another transaction
// fails as Unavailable (the engine retries it) rather than hanging: 30 s
// unless the URL sets lock_timeout, as here.
TEST_F(PostgresStateStoreTest, ALockHeldTooLongIsUnavailable) {
  ASSERT_TRUE(Open());
  Expected<Store> holder = OpenStateStore(Url(), StateStore::OpenMode::kExisting);
  Expected<Store> waiter =
      OpenStateStore(Url("?options=-clock_timeout%3D200ms"), StateStore::OpenMode::kExisting);
  ASSERT_TRUE(holder.ok() && waiter.ok());
  ASSERT_TRUE((*holder)->Begin().ok());
  ASSERT_TRUE((*holder)->PauseMap({"m", 1, "ops", "held"}).ok());
  Status waited = (*waiter)->PauseMap({"m", 2, "ops", "waits"});
  EXPECT_EQ(waited.code(), StatusCode::kUnavailable) << waited.ToString();
  EXPECT_TRUE(pg::HasSqlState(waited, "55P03")) << waited.ToString();
  ASSERT_TRUE((*holder)->Commit().ok());
  EXPECT_TRUE((*waiter)->PauseMap({"m", 2, "ops", "again"}).ok()) << "the next one goes through";
  EXPECT_EQ((*waiter)->Paused()->at("m").reason, "held");
}

TEST_F(PostgresStateStoreTest, ADroppedOrReplacedStoreIsDataLoss) {
  Store store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->CheckFile().ok());
  ASSERT_TRUE(pg_.Psql("UPDATE duet_meta SET value = 'another' WHERE key = 'id'").ok());
  EXPECT_EQ(store->CheckFile().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(pg_.Psql("UPDATE duet_meta SET value = '" + store->id() + "' WHERE key = 'id'").ok());
  EXPECT_TRUE(store->CheckFile().ok());
  ASSERT_TRUE(pg_.Psql("DROP TABLE duet_meta").ok());
  Status dropped = store->CheckFile();
  EXPECT_EQ(dropped.code(), StatusCode::kDataLoss) << dropped.ToString();
  ExpectNoPassword(dropped);
}

TEST_F(PostgresStateStoreTest, TheTablesGoToTheSearchPathsFirstSchema) {
  ASSERT_TRUE(pg_.Psql("CREATE SCHEMA duet_state").ok());
  std::string in_schema = Url("?options=-csearch_path%3Dduet_state,public");
  Expected<Store> missing = OpenStateStore(in_schema, StateStore::OpenMode::kExisting);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  ExpectNoPassword(missing.status());
  Expected<Store> made = OpenStateStore(in_schema, StateStore::OpenMode::kCreate);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(Query("SELECT count(*) FROM pg_tables WHERE schemaname = 'duet_state' AND "
                  "tablename LIKE 'duet%'"),
            "10");
  EXPECT_EQ(Query("SELECT to_regclass('public.duet_meta') IS NULL"), "t");

  // A first schema that does not exist is refused, not skipped for public.
  Expected<Store> nope =
      OpenStateStore(Url("?options=-csearch_path%3Dnope,public"), StateStore::OpenMode::kCreate);
  ASSERT_FALSE(nope.ok());
  EXPECT_EQ(nope.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(nope.status().message().find("\"nope\""), std::string::npos) << nope.status().message();
  EXPECT_EQ(Query("SELECT to_regclass('public.duet_meta') IS NULL"), "t");
}

// docs/postgresql.md's least privilege: once the store exists, a role with
// USAGE on its schema and SELECT, INSERT, UPDATE, DELETE on its tables runs
// it (new map ids and error items included: identity columns need no
// sequence grant).
TEST_F(PostgresStateStoreTest, ARoleWithTheDocumentedGrantsRunsTheStore) {
  ASSERT_TRUE(pg_.Psql("CREATE SCHEMA duet_state").ok());
  std::string query = "?options=-csearch_path%3Dduet_state";
  ASSERT_TRUE(OpenStateStore(Url(query), StateStore::OpenMode::kCreate).ok());
  Expected<std::string> granted = pg_.AdminPsql(
      "CREATE ROLE duet_worker LOGIN PASSWORD 'worker-pw';"
      "GRANT USAGE ON SCHEMA duet_state TO duet_worker;"
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA duet_state TO duet_worker;");
  ASSERT_TRUE(granted.ok()) << granted.status().ToString();
  std::string url = "postgresql://duet_worker:worker-pw@127.0.0.1:" + std::to_string(pg_.port()) +
                    "/duet" + query;
  Expected<Store> store = OpenStateStore(url, StateStore::OpenMode::kExisting);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->AcquireLease("host:1").ok());
  ASSERT_TRUE((*store)->Begin().ok());
  ASSERT_TRUE((*store)->PutLink("m", L("1", "a")).ok());
  ErrorItem item;
  item.map = "m";
  item.system = "fo";
  item.row_id = "1";
  item.kind = "conflict";
  ASSERT_TRUE((*store)->RecordError(item).ok());
  ASSERT_TRUE((*store)->PauseMap({"m", 1, "ops", "x"}).ok());
  Status commit = (*store)->Commit();
  ASSERT_TRUE(commit.ok()) << commit.ToString();
  EXPECT_EQ(*(*store)->CountLinks("m"), 1);
  EXPECT_EQ(*(*store)->CountOpenErrors("m"), 1);
  // Without the grants, the same role cannot even read it.
  ASSERT_TRUE(
      pg_.AdminPsql("REVOKE SELECT ON ALL TABLES IN SCHEMA duet_state FROM duet_worker").ok());
  Expected<Store> refused = OpenStateStore(url, StateStore::OpenMode::kExisting);
  EXPECT_FALSE(refused.ok());
}

TEST_F(PostgresStateStoreTest, AWrongPasswordIsRefusedWithoutShowingIt) {
  std::string url =
      "postgresql://duet:not-the-password@127.0.0.1:" + std::to_string(pg_.port()) + "/duet";
  Expected<Store> refused = OpenStateStore(url, StateStore::OpenMode::kCreate);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().find("not-the-password"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("state store"), std::string::npos);
}

}  // namespace
}  // namespace duet::state
