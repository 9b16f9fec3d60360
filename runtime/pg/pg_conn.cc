#include "runtime/pg/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <string>

#include "runtime/base/redact.h"
#include "runtime/endpoint/sqlite/sql_quote.h"

namespace duet::pg {
namespace {

// libpq's messages end with a newline and may span lines; one line for ours.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return RedactConnectionString(out);
}

std::string Context(std::string_view label, std::string_view what) {
  std::string out = "postgresql";
  if (!label.empty()) out += " (" + std::string(label) + ")";
  if (!what.empty()) out += ": " + std::string(what);
  return out;
}

// Whether the connection string names a key (or, for "keepalives", any of
// keepalives*); a crude check over both forms, enough to decide whether
// to add our own default.
bool Mentions(const std::string& conninfo, std::string_view key) {
  return conninfo.find(std::string(key) + (key == "keepalives" ? "" : "=")) != std::string::npos;
}

}  // namespace

const char kSessionSettings[] =
    "SET DateStyle = ISO; SET IntervalStyle = iso_8601; SET TimeZone = 'UTC'; "
    "SET extra_float_digits = 3; SET client_encoding = 'UTF8'";

Result::Result(PGresult* result) : result_(result) {}
Result::Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}
Result::~Result() { PQclear(result_); }

int Result::rows() const { return result_ ? PQntuples(result_) : 0; }
int Result::columns() const { return result_ ? PQnfields(result_) : 0; }
bool Result::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::string_view Result::Text(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}
std::optional<std::string> Result::Optional(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return std::string(Text(row, column));
}
int64_t Result::Affected() const {
  const char* n = result_ ? PQcmdTuples(result_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

StatusCode ErrorCodeOf(std::string_view s) {
  if (s.size() != 5) return StatusCode::kInternal;
  std::string_view cls = s.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57" || cls == "40" || s == "55P03" || s == "55006")
    return StatusCode::kUnavailable;  // connection, resources, operator, rollback, locks
  if (cls == "22" || cls == "23") return StatusCode::kFailedPrecondition;
  if (cls == "42" || cls == "3F" || cls == "28") return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

bool HasSqlState(const Status& status, std::string_view sqlstate) {
  std::string tag = "(SQLSTATE " + std::string(sqlstate) + ")";
  const std::string& m = status.message();
  return m.size() >= tag.size() && m.compare(m.size() - tag.size(), tag.size(), tag) == 0;
}

std::string SqlStateOf(const Status& status) {
  const std::string& m = status.message();
  constexpr std::string_view kTag = "(SQLSTATE xxxxx)";
  if (m.size() < kTag.size() || m.back() != ')') return "";
  std::string_view tail = std::string_view(m).substr(m.size() - kTag.size());
  if (tail.substr(0, 10) != "(SQLSTATE ") return "";
  return std::string(tail.substr(10, 5));
}

Expected<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                       const ConnectOptions& options) {
  std::vector<const char*> keys{"dbname"};
  std::vector<const char*> values{conninfo.c_str()};
  std::string timeout = std::to_string(options.connect_timeout_seconds);
  if (!Mentions(conninfo, "connect_timeout")) {
    keys.push_back("connect_timeout");
    values.push_back(timeout.c_str());
  }
  std::string idle = std::to_string(options.keepalives_idle_seconds);
  std::string interval = std::to_string(options.keepalives_interval_seconds);
  std::string count = std::to_string(options.keepalives_count);
  if (!Mentions(conninfo, "keepalives")) {
    for (auto [key, value] :
         {std::pair{"keepalives", "1"}, std::pair{"keepalives_idle", idle.c_str()},
          std::pair{"keepalives_interval", interval.c_str()},
          std::pair{"keepalives_count", count.c_str()}}) {
      keys.push_back(key);
      values.push_back(value);
    }
  }
  if (!Mentions(conninfo, "application_name")) {
    keys.push_back("application_name");
    values.push_back(options.application_name.c_str());
  }
  if (options.replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return UnavailableError(Context(options.label, "out of memory connecting"));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq tells a bad string or a refused login only by its text.
    bool refused = reason.find("invalid") != std::string::npos ||
                   reason.find("authentication failed") != std::string::npos ||
                   reason.find("no password supplied") != std::string::npos ||
                   reason.find("does not exist") != std::string::npos;
    std::string message = Context(options.label, "cannot connect: " + reason);
    return refused ? InvalidArgumentError(message) : UnavailableError(message);
  }
  auto connection = std::unique_ptr<Connection>(new Connection(conn, options.label));
  if (Status s = connection->Run(kSessionSettings, "session settings"); !s.ok()) return s;
  if (options.statement_timeout_ms > 0 && !options.replication &&
      conninfo.find("statement_timeout") == std::string::npos) {
    std::string sql = "SET statement_timeout = " + std::to_string(options.statement_timeout_ms);
    if (Status s = connection->Run(sql, "statement timeout"); !s.ok()) return s;
  }
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

Status Connection::ErrorOf(const PGresult* result, std::string_view what) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string reason = OneLine(primary ? primary : PQerrorMessage(conn_));
  if (reason.empty()) reason = "unknown error";
  if (state == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    // No SQLSTATE: the connection itself failed.
    std::string code = state ? state : "08006";
    return Status(StatusCode::kUnavailable,
                  Context(label_, what) + ": " + reason + " (SQLSTATE " + code + ")");
  }
  return Status(ErrorCodeOf(state),
                Context(label_, what) + ": " + reason + " (SQLSTATE " + state + ")");
}

Expected<Result> Connection::Exec(std::string_view sql, const std::vector<Param>& params,
                                  std::string_view what) {
  std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  // Without parameters, the simple query protocol: the only one a
  // replication connection speaks.
  Result result(params.empty()
                    ? PQexec(conn_, text.c_str())
                    : PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                   values.data(), nullptr, nullptr, /*resultFormat=*/0));
  ExecStatusType status = PQresultStatus(result.get());
  if (result.get() != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK))
    return result;
  return ErrorOf(result.get(), what.empty() ? std::string_view("statement") : what);
}

Status Connection::Run(std::string_view sql, std::string_view what) {
  return Exec(sql, {}, what).status();
}

// The SQL standard's quoting, which PostgreSQL shares with SQLite: one
// implementation (sql_quote.h, header-only, free of SQLite itself).
std::string QuoteIdent(std::string_view name) { return sqlite::QuoteIdentifier(name); }
std::string QuoteLiteral(std::string_view text) { return sqlite::QuoteLiteral(text); }

bool Connection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }
bool Connection::InFailedTransaction() const {
  return PQtransactionStatus(conn_) == PQTRANS_INERROR;
}
int Connection::Socket() const { return ok() ? PQsocket(conn_) : -1; }
Expected<int> Connection::TakeNotifications() {
  if (PQconsumeInput(conn_) == 0) return ErrorOf(nullptr, "read notifications");
  int n = 0;
  while (PGnotify* notify = PQnotifies(conn_)) {
    PQfreemem(notify);
    ++n;
  }
  return n;
}

int Connection::ServerVersion() const { return PQserverVersion(conn_); }
int Connection::BackendPid() const { return PQbackendPID(conn_); }

}  // namespace duet::pg
