#include "runtime/pg/replication_stream.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>

#include "runtime/pg/wire_reader.h"

namespace duet::pg {
namespace {

// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
constexpr int64_t kPgEpochUnixSeconds = 946684800;

}  // namespace

std::string LsnText(Lsn lsn) {
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIX32 "/%" PRIX32, static_cast<uint32_t>(lsn >> 32),
                static_cast<uint32_t>(lsn));
  return text;
}

Expected<Lsn> ParseLsn(std::string_view text) {
  size_t slash = text.find('/');
  auto hex = [](std::string_view part, uint64_t* out) {
    if (part.empty() || part.size() > 8) return false;
    uint64_t v = 0;
    for (char c : part) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint64_t>(d);
    }
    *out = v;
    return true;
  };
  uint64_t high = 0, low = 0;
  if (slash == std::string_view::npos || !hex(text.substr(0, slash), &high) ||
      !hex(text.substr(slash + 1), &low)) {
    return InvalidArgumentError("'" + std::string(text.substr(0, 40)) + "' is not an LSN");
  }
  return (high << 32) | low;
}

Expected<CopyMessage> ParseCopyData(std::string_view bytes) {
  WireReader in(bytes);
  uint8_t kind = 0;
  if (!in.U8(&kind)) return InvalidArgumentError("replication stream: an empty message");
  if (kind == 'w') {
    XLogData d;
    if (in.U64(&d.wal_start) && in.U64(&d.wal_end) && in.I64(&d.send_time)) {
      d.data = in.rest();
      return CopyMessage(d);
    }
    return InvalidArgumentError("replication stream: a WAL data message cut short");
  }
  if (kind == 'k') {
    Keepalive k;
    uint8_t reply = 0;
    if (in.U64(&k.wal_end) && in.I64(&k.send_time) && in.U8(&reply) && in.left() == 0 &&
        reply <= 1) {
      k.reply_requested = reply == 1;
      return CopyMessage(k);
    }
    return InvalidArgumentError("replication stream: a malformed keepalive");
  }
  return InvalidArgumentError("replication stream: unknown message type " +
                              std::to_string(static_cast<int>(kind)));
}

std::string StandbyStatusUpdate(Lsn write, Lsn flush, Lsn apply, int64_t now,
                                bool reply_requested) {
  std::string out = "r";
  PutBigEndian(write, 8, &out);
  PutBigEndian(flush, 8, &out);
  PutBigEndian(apply, 8, &out);
  PutBigEndian(static_cast<uint64_t>(now), 8, &out);
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

int64_t PgEpochMicros(int64_t unix_micros) { return unix_micros - kPgEpochUnixSeconds * 1000000; }

double UnixSecondsOfPgMicros(int64_t pg_micros) {
  return static_cast<double>(pg_micros) / 1e6 + static_cast<double>(kPgEpochUnixSeconds);
}

Expected<std::unique_ptr<ReplicationStream>> ReplicationStream::Start(
    const std::string& conninfo, const ConnectOptions& options, std::string_view slot, Lsn start,
    const std::vector<std::pair<std::string, std::string>>& plugin_options) {
  ConnectOptions walsender = options;
  walsender.replication = true;
  Expected<std::unique_ptr<Connection>> conn = Connection::Open(conninfo, walsender);
  if (!conn.ok()) return conn.status();
  std::string sql =
      "START_REPLICATION SLOT " + QuoteIdent(slot) + " LOGICAL " + LsnText(start) + " (";
  for (size_t i = 0; i < plugin_options.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdent(plugin_options[i].first) + " " + QuoteLiteral(plugin_options[i].second);
  }
  sql += ")";
  Result result(PQexec((*conn)->raw(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    return (*conn)->ErrorOf(result.get(), "start streaming from the replication slot");
  }
  return std::unique_ptr<ReplicationStream>(new ReplicationStream(std::move(*conn)));
}

ReplicationStream::~ReplicationStream() = default;

Status ReplicationStream::Lost(std::string_view what) {
  ended_ = true;
  return conn_->ErrorOf(nullptr, what);
}

Expected<std::optional<std::string>> ReplicationStream::Next() {
  if (ended_) return UnavailableError("postgresql (" + conn_->label() + "): the stream ended");
  PGconn* conn = conn_->raw();
  if (PQconsumeInput(conn) == 0) return Lost("read the replication stream");
  char* buffer = nullptr;
  int n = PQgetCopyData(conn, &buffer, /*async=*/1);
  if (n > 0) {
    std::string message(buffer, static_cast<size_t>(n));
    PQfreemem(buffer);
    return std::optional<std::string>(std::move(message));
  }
  if (n == 0) return std::optional<std::string>();
  // -1: the server ended the COPY (shutting down); -2: an error. Either
  // way the stream must be started again.
  Result result(PQgetResult(conn));
  ended_ = true;
  if (result.get() != nullptr && PQresultStatus(result.get()) == PGRES_FATAL_ERROR) {
    return conn_->ErrorOf(result.get(), "read the replication stream");
  }
  return UnavailableError("postgresql (" + conn_->label() + "): the server ended the stream");
}

Status ReplicationStream::Wait(std::chrono::milliseconds timeout) {
  pollfd fd{Socket(), POLLIN, 0};
  if (fd.fd < 0) return Lost("wait for the replication stream");
  int rc = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  if (rc < 0 && errno != EINTR) return Lost("wait for the replication stream");
  return Status::Ok();
}

Status ReplicationStream::Send(std::string_view message) {
  PGconn* conn = conn_->raw();
  if (ended_ || PQputCopyData(conn, message.data(), static_cast<int>(message.size())) != 1 ||
      PQflush(conn) != 0) {
    return Lost("send a status update");
  }
  return Status::Ok();
}

int ReplicationStream::Socket() const { return ended_ ? -1 : conn_->Socket(); }

}  // namespace duet::pg
