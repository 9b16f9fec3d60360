// The streaming replication protocol over libpq, for logical decoding: a
// walsender connection in COPY BOTH mode after START_REPLICATION ...
// LOGICAL, the messages the server sends in it (XLogData carrying the
// output plugin's bytes, and keepalives) and the standby status updates the
// client sends back (which is how a logical slot's confirmed position
// advances). What the plugin's bytes mean is not this file's business
// (runtime/endpoint/postgres/pg_output.h decodes pgoutput).
//
// ParseCopyData and StandbyStatusUpdate are pure; ReplicationStream does
// the I/O, never blocking except in Wait.
#ifndef DUET_RUNTIME_PG_REPLICATION_STREAM_H_
#define DUET_RUNTIME_PG_REPLICATION_STREAM_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/pg/pg_conn.h"

namespace duet::pg {

// A WAL location (an LSN) as a number; 0 is PostgreSQL's InvalidXLogRecPtr.
using Lsn = uint64_t;

// "16/B374D848" for people and for SQL (pg_lsn's text form).
std::string LsnText(Lsn lsn);
// The inverse of LsnText; InvalidArgument for anything else.
Expected<Lsn> ParseLsn(std::string_view text);

// 'w': WAL data. For a logical slot, `data` is one message of the output
// plugin and both LSNs are the WAL location it was decoded at.
struct XLogData {
  Lsn wal_start = 0;
  Lsn wal_end = 0;
  int64_t send_time = 0;  // microseconds since 2000-01-01 UTC
  std::string_view data;  // points into the parsed bytes
};
// 'k': the server's keepalive. For a logical walsender `wal_end` is the
// location it has decoded and sent up to: every transaction whose commit
// record ends at or before it was sent before this message.
struct Keepalive {
  Lsn wal_end = 0;
  int64_t send_time = 0;
  bool reply_requested = false;
};
using CopyMessage = std::variant<XLogData, Keepalive>;

// One CopyData message of the stream; InvalidArgument when the bytes are
// not a well-formed XLogData or keepalive.
Expected<CopyMessage> ParseCopyData(std::string_view bytes);

// The bytes of a standby status update ('r'): the client has written
// `write`, flushed `flush` (a logical slot's confirmed_flush_lsn follows
// it) and applied `apply`; `now` in microseconds since 2000-01-01 UTC.
std::string StandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t now, bool reply_requested);

// Microseconds since 2000-01-01 UTC (PostgreSQL's epoch) of `unix_micros`,
// and back to seconds since the Unix epoch.
int64_t PgEpochMicros(int64_t unix_micros);
double UnixSecondsOfPgMicros(int64_t pg_micros);

// A walsender connection streaming one logical slot.
class ReplicationStream {
 public:
  // Connects (a replication=database connection to `conninfo`) and runs
  // START_REPLICATION SLOT slot LOGICAL start (options...), where each
  // option's value is sent as a literal. start 0 resumes from the slot's
  // confirmed_flush_lsn.
  static Expected<std::unique_ptr<ReplicationStream>> Start(
      const std::string& conninfo, const ConnectOptions& options, std::string_view slot, Lsn start,
      const std::vector<std::pair<std::string, std::string>>& plugin_options);
  ~ReplicationStream();

  // The next complete message the server sent, without blocking: nullopt
  // when none has arrived yet. Unavailable when the connection is lost or
  // the server ended the stream (it must then be started again).
  Expected<std::optional<std::string>> Next();
  // Waits until the socket is readable or `timeout` has passed.
  Status Wait(std::chrono::milliseconds timeout);
  Status Send(std::string_view message);
  // The socket: readable when the server has sent something.
  int Socket() const;
  // The walsender's process id: the active_pid of the slot it streams.
  int BackendPid() const { return conn_->BackendPid(); }

 private:
  explicit ReplicationStream(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
  Status Lost(std::string_view what);

  std::unique_ptr<Connection> conn_;
  bool ended_ = false;
};

}  // namespace duet::pg

#endif  // DUET_RUNTIME_PG_REPLICATION_STREAM_H_
