// libpq behind duet's conventions: the one wrapper the PostgreSQL endpoint
// and the PostgreSQL state store share (and the only runtime library that
// links libpq, tests/layering).
//
// - Nothing throws; failures are Status values. PostgreSQL's error classes
//   map onto duet's codes (ErrorCodeOf): what trying again may cure
//   (connection lost, server shutting down, serialization failure,
//   deadlock, lock not available, statement cancelled) is Unavailable; a
//   row the database refuses (integrity and data exceptions) is
//   FailedPrecondition; a statement that cannot be right (syntax, an
//   undefined table or column, insufficient privilege) is InvalidArgument;
//   the rest is Internal.
// - No message carries the connection string or a password: a connection
//   is named by its `label` (an endpoint's system, "state store"), and
//   libpq's own messages pass through RedactConnectionString.
// - Values go to and come from the server as text (the text format of each
//   type), parameters bound apart from the statement, never spliced in.
//   Every connection runs kSessionSettings first, so that the text of a
//   value is the same on every connection, the replication stream's
//   included (ISO dates, UTC times, floats that round-trip, UTF-8).
#ifndef DUET_RUNTIME_PG_PG_CONN_H_
#define DUET_RUNTIME_PG_PG_CONN_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/status.h"

// libpq's types, declared here so that users of this header need not see
// libpq-fe.h.
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace duet::pg {

extern const char kSessionSettings[];

// A statement parameter as text; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// The rows of a statement that returned some (text format). Move-only.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* result);
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  ~Result();

  int rows() const;
  int columns() const;
  bool IsNull(int row, int column) const;
  // The value's text; empty for NULL (ask IsNull).
  std::string_view Text(int row, int column) const;
  std::optional<std::string> Optional(int row, int column) const;
  // The number of rows an INSERT, UPDATE or DELETE touched.
  int64_t Affected() const;
  const PGresult* get() const { return result_; }

 private:
  PGresult* result_ = nullptr;
};

struct ConnectOptions {
  // What messages call this connection ("fo", "the state store").
  std::string label;
  // application_name unless the connection string sets one.
  std::string application_name = "duet";
  // A walsender connection for logical replication (replication=database).
  bool replication = false;
  // Seconds to wait for the server when connecting, unless the connection
  // string sets connect_timeout.
  int connect_timeout_seconds = 10;
  // TCP keepalives, unless the connection string sets any keepalives*
  // parameter: a server or network that vanishes without closing the
  // connection is noticed after about idle + interval * count seconds
  // instead of the kernel's two hours, and the waiting call fails
  // (Unavailable) instead of hanging.
  int keepalives_idle_seconds = 30;
  int keepalives_interval_seconds = 10;
  int keepalives_count = 3;
  // Milliseconds a statement may run before the server cancels it
  // (SQLSTATE 57014, Unavailable), set for the session unless the
  // connection string mentions statement_timeout (options=-cstatement_timeout%3D0
  // turns it off); 0 sets none. Not set on replication connections, whose
  // START_REPLICATION runs for as long as the stream does.
  int statement_timeout_ms = 300000;
};

class Connection {
 public:
  // Connects with a libpq connection string: a URI
  // (postgresql://user@host:5432/db?sslmode=require) or keyword=value
  // pairs. Passwords come from it, PGPASSWORD, the password file or a
  // service file, as libpq reads them. A server that cannot be reached is
  // Unavailable; a connection string libpq cannot parse, or a refused
  // login, is InvalidArgument.
  static Expected<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                    const ConnectOptions& options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one statement with `params` ($1, $2, ...; text format) and returns
  // its rows (none for a command). Without params it goes by the simple
  // query protocol, as a replication connection requires (IDENTIFY_SYSTEM). `what` names the
  // operation in an error message ("read fo.customers").
  Expected<Result> Exec(std::string_view sql, const std::vector<Param>& params = {},
                        std::string_view what = {});
  // Runs statements without parameters (several, separated by ';').
  Status Run(std::string_view sql, std::string_view what = {});

  // Whether the connection is still usable (not lost).
  bool ok() const;
  // Whether the session is inside a transaction that an error aborted (a
  // COMMIT would only roll it back).
  bool InFailedTransaction() const;
  // The socket, to wait on for notifications or replication data (-1 when
  // lost).
  int Socket() const;
  // Reads what the server sent without waiting and takes the
  // notifications (NOTIFY) among it: how many arrived since the last call.
  // Unavailable when the connection is lost.
  Expected<int> TakeNotifications();
  // The server's version as libpq gives it (150004 for 15.4).
  int ServerVersion() const;
  // The server process's id (pg_backend_pid()); 0 when not connected.
  int BackendPid() const;
  const std::string& label() const { return label_; }
  PGconn* raw() { return conn_; }

  // The Status of a failed libpq call on this connection: the server's
  // error of `result` when there is one, else the connection's.
  Status ErrorOf(const PGresult* result, std::string_view what) const;

 private:
  Connection(PGconn* conn, std::string label) : conn_(conn), label_(std::move(label)) {}

  PGconn* conn_;
  std::string label_;
};

// "name" quoted as an identifier, and 'text' as a literal
// (standard_conforming_strings, on in every supported server), for names
// and settings that cannot be parameters. Neither may hold a NUL byte.
std::string QuoteIdent(std::string_view name);
std::string QuoteLiteral(std::string_view text);

// The duet code for a SQLSTATE (five characters; "" when unknown).
StatusCode ErrorCodeOf(std::string_view sqlstate);
// Whether a Status came from one of these SQLSTATEs: the message of every
// Status made here ends with "(SQLSTATE xxxxx)".
bool HasSqlState(const Status& status, std::string_view sqlstate);
// The SQLSTATE a Status made here carries ("" when none).
std::string SqlStateOf(const Status& status);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_PG_PG_CONN_H_
