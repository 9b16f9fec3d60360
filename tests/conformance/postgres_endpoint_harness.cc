// The PostgreSQL harness of the endpoint conformance suite: a throwaway
// PostgreSQL 15 server per harness (tests/support/pg_server.h), a fresh
// database per CreateDatabase, and applications that write to it on
// connections of their own (runtime/pg's libpq wrapper, as psql would).
//
// Capture: until logical decoding lands (pg_capture.cc is a placeholder
// whose Install fails, and the suite installs capture before every test),
// the endpoint is opened with StandInCapture below, which records what is
// installed and has no change stream. The tests that need the stream are
// excluded in CMakeLists.txt, by name. Once capture is built, kRealCapture
// becomes true and the exclusion goes.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/endpoint/open_endpoint.h"
#include "runtime/endpoint/postgres/postgres_endpoint.h"
#include "runtime/pg/pg_conn.h"
#include "tests/conformance/endpoint_harness.h"
#include "tests/support/pg_server.h"

namespace duet::conformance {
namespace {

constexpr bool kRealCapture = false;

// What StandInCapture installed, shared by the endpoints a harness opens.
struct StandInState {
  std::set<std::string> installed;
  std::string bound;
};

class StandInCapture : public pg::PgCapture {
 public:
  explicit StandInCapture(std::shared_ptr<StandInState> state) : state_(std::move(state)) {}

  Expected<endpoint::CaptureCounts> Install(const std::vector<std::string>& tables) override {
    endpoint::CaptureCounts counts;
    for (const std::string& t : tables) counts.objects += state_->installed.insert(t).second;
    counts.tables = static_cast<int>(tables.size());
    return counts;
  }
  Expected<endpoint::CaptureCounts> Uninstall() override {
    endpoint::CaptureCounts counts;
    counts.tables = counts.objects = static_cast<int>(state_->installed.size());
    state_->installed.clear();
    return counts;
  }
  Status Check(const std::vector<std::string>& tables) override {
    for (const std::string& t : tables) {
      if (!state_->installed.count(t)) return FailedPreconditionError(t + " has no capture");
    }
    return Status::Ok();
  }
  Expected<std::string> BoundState() override { return state_->bound; }
  Status BindState(const std::string& id) override {
    state_->bound = id;
    return Status::Ok();
  }
  Expected<endpoint::Endpoint::Stream> ReadStream(const std::vector<std::string>&,
                                                  const endpoint::Position&, size_t) override {
    return NoStream();
  }
  Expected<endpoint::Position> StreamEnd() override { return NoStream(); }
  Expected<endpoint::Endpoint::Inserts> ReadInserts(
      const std::string&, const endpoint::Position&, std::string_view,
      const std::optional<endpoint::Position>&) override {
    return NoStream();
  }
  Expected<std::vector<std::pair<endpoint::RowId, endpoint::Position>>> ReadOwnInserts(
      const std::string&, std::string_view, const endpoint::Position&) override {
    return NoStream();
  }
  Expected<int64_t> CountChanges(const std::string&, const endpoint::Position&,
                                 std::string_view) override {
    return NoStream();
  }
  Expected<std::optional<double>> LatestChangeTime(const std::string&, const endpoint::RowId&,
                                                   const endpoint::Position&) override {
    return NoStream();
  }
  Expected<bool> OwnChangeAfter(const std::string&, const endpoint::RowId&, std::string_view,
                                const endpoint::Position&) override {
    return NoStream();
  }
  Status PruneChangelog(const endpoint::Position&) override { return NoStream(); }
  int ChangeFd() override { return -1; }
  endpoint::Endpoint::ChangeState CheckChanges() override {
    return endpoint::Endpoint::ChangeState::kNone;
  }
  Status MarkSession(pg::Connection&, std::string_view) override { return Status::Ok(); }

 private:
  static Status NoStream() {
    return FailedPreconditionError("the conformance stand-in capture has no change stream");
  }

  std::shared_ptr<StandInState> state_;
};

class PgApp : public AppSession {
 public:
  PgApp(std::unique_ptr<pg::Connection> conn, std::string conninfo)
      : conn_(std::move(conn)), conninfo_(std::move(conninfo)) {}
  ~PgApp() override {
    if (thread_.joinable()) thread_.join();
  }

  Status Exec(const std::string& sql) override {
    if (!conn_) return InternalError("the application could not connect");
    return conn_->Run(sql, sql);
  }
  Status Begin() override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }

  // The write runs on this session's connection on a thread; another
  // connection watches pg_blocking_pids of its backend.
  Status StartBlockedWrite(const std::string& sql) override;
  Status WaitDone() override {
    if (thread_.joinable()) thread_.join();
    return outcome_;
  }

 private:
  std::unique_ptr<pg::Connection> conn_;
  std::string conninfo_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  Status outcome_;
};

Status PgApp::StartBlockedWrite(const std::string& sql) {
  Expected<pg::Result> pid = conn_->Exec("SELECT pg_backend_pid()");
  if (!pid.ok()) return pid.status();
  Expected<std::unique_ptr<pg::Connection>> watch =
      pg::Connection::Open(conninfo_, {.label = "watch", .application_name = "conformance-watch"});
  if (!watch.ok()) return watch.status();
  thread_ = std::thread([this, sql] {
    outcome_ = conn_->Run(sql, sql);
    done_ = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done_ && std::chrono::steady_clock::now() < deadline) {
    Expected<pg::Result> blocked = (*watch)->Exec(
        "SELECT cardinality(pg_blocking_pids($1::int)) > 0", {std::string(pid->Text(0, 0))});
    if (!blocked.ok()) return blocked.status();
    if (blocked->Text(0, 0) == "t") return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the poll's pace
  }
  if (!done_) return InternalError("the write neither waited for a lock nor finished in 60 s");
  if (thread_.joinable()) thread_.join();
  return FailedPreconditionError("the write did not wait for a lock: " + outcome_.ToString());
}

class PgHarness : public EndpointHarness {
 public:
  PgHarness() : stand_in_(std::make_shared<StandInState>()) {}

  Status CreateDatabase() override {
    if (Status s = server_.Start(); !s.ok()) return s;
    database_ = "conformance_" + std::to_string(++databases_);
    Expected<std::string> made = server_.AdminPsql("CREATE DATABASE " + database_ + " OWNER duet");
    if (!made.ok()) return made.status();
    Expected<std::unique_ptr<pg::Connection>> conn = Connect("conformance-setup");
    if (!conn.ok()) return conn.status();
    return (*conn)->Run(
        "CREATE TABLE customer (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
        " code varchar(20) NOT NULL UNIQUE, name varchar(100), credit numeric(19,4));"
        "CREATE TABLE contact (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
        " email varchar(100) NOT NULL UNIQUE, customer_code varchar(20));"
        "CREATE TABLE account (accountid uuid PRIMARY KEY, name varchar(100));"
        "CREATE TABLE line (order_no bigint NOT NULL, line_no bigint NOT NULL, qty bigint,"
        " PRIMARY KEY (order_no, line_no))",
        "create the suite's tables");
  }

  Expected<std::unique_ptr<endpoint::Endpoint>> Open(const bundle::Manifest& manifest) override {
    if (kRealCapture) return endpoint::OpenEndpoint(Uri(), "fo", manifest);
    std::shared_ptr<StandInState> state = stand_in_;
    return endpoint::OpenPostgresEndpoint(
        Uri(), "fo", manifest,
        [state](const std::string&, const std::string&,
                std::vector<pg::CapturedTable>) -> Expected<std::unique_ptr<pg::PgCapture>> {
          return std::unique_ptr<pg::PgCapture>(new StandInCapture(state));
        });
  }

  std::string UpsertAccount(const std::string& id, const std::string& name) override {
    return "INSERT INTO account (accountid, name) VALUES ('" + id + "', '" + name +
           "') ON CONFLICT (accountid) DO UPDATE SET name = excluded.name";
  }

  std::unique_ptr<AppSession> App() override {
    Expected<std::unique_ptr<pg::Connection>> conn = Connect("conformance-app");
    return std::make_unique<PgApp>(conn.ok() ? std::move(*conn) : nullptr, ConnInfo());
  }

 private:
  std::string Uri() const {
    return "postgresql://duet:" + server_.password() +
           "@127.0.0.1:" + std::to_string(server_.port()) + "/" + database_;
  }
  std::string ConnInfo() const {
    return "host=127.0.0.1 port=" + std::to_string(server_.port()) + " dbname=" + database_ +
           " user=duet password=" + server_.password();
  }
  Expected<std::unique_ptr<pg::Connection>> Connect(const std::string& name) {
    return pg::Connection::Open(ConnInfo(), {.label = name, .application_name = name});
  }

  test::PgServer server_;
  std::string database_;
  int databases_ = 0;
  std::shared_ptr<StandInState> stand_in_;
};

}  // namespace

std::vector<HarnessFactory> Harnesses() {
  return {{"postgres", [] { return std::make_unique<PgHarness>(); }}};
}

}  // namespace duet::conformance
