// Capture for the PostgreSQL endpoint: the change stream of endpoint.h and
// its per-table questions, over one of the ways PostgreSQL can report
// committed changes. The endpoint (postgres_endpoint.h) forwards its
// capture methods here, each with the contract of the Endpoint method of
// the same name (endpoint.h), and asks MarkSession before each write
// transaction so that the changes duet commits carry their origin.
//
// Implementations:
// - logical decoding (OpenLogicalCapture): a publication of exactly the
//   captured tables, a logical replication slot with pgoutput read over
//   the replication protocol, duet's own transactions marked with
//   replication origins; no trigger on application tables. Positions are
//   commit LSNs with the change's index in its transaction. The slot is
//   confirmed only up to what PruneChangelog acknowledges, so a crash of
//   duet or of the server replays the unacknowledged changes from the slot.
// - triggers (OpenTriggerCapture): for servers where logical replication
//   cannot be enabled, row-level triggers on the captured tables write
//   change rows to a table of duet's, and reads number the transactions
//   that have ended in the order capture sees them end (trigger_capture.h);
//   duet's own transactions are marked by the session setting duet.origin,
//   a NOTIFY from a statement-level trigger wakes the engine.
// OpenCapture picks one by the connection string's duet_capture option
// (capture_option.h).
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CAPTURE_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CAPTURE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/endpoint.h"
#include "runtime/pg/pg_conn.h"

namespace duet::pg {

// A table capture may be asked for: how the stream names it and makes the
// RowIds of its rows (pg_row_key.h, from the key columns' texts).
struct CapturedTable {
  std::string name;                      // duet's qualified name, "fo.customer"
  std::string schema;                    // PostgreSQL's schema of the table, "public"
  std::string table;                     // PostgreSQL's name of the table
  std::vector<std::string> key_columns;  // the primary key, in key order
};

class PgCapture {
 public:
  virtual ~PgCapture() = default;

  virtual Expected<endpoint::CaptureCounts> Install(const std::vector<std::string>& tables) = 0;
  virtual Expected<endpoint::CaptureCounts> Uninstall() = 0;
  virtual Status Check(const std::vector<std::string>& tables) = 0;
  virtual Expected<std::string> BoundState() = 0;
  virtual Status BindState(const std::string& state_id) = 0;

  virtual Expected<endpoint::Endpoint::Stream> ReadStream(const std::vector<std::string>& tables,
                                                          const endpoint::Position& after,
                                                          size_t limit) = 0;
  virtual Expected<endpoint::Position> StreamEnd() = 0;
  virtual Expected<endpoint::Endpoint::Inserts> ReadInserts(
      const std::string& table, const endpoint::Position& after, std::string_view origin,
      const std::optional<endpoint::Position>& own_after) = 0;
  virtual Expected<std::vector<std::pair<endpoint::RowId, endpoint::Position>>> ReadOwnInserts(
      const std::string& table, std::string_view origin, const endpoint::Position& after) = 0;
  virtual Expected<int64_t> CountChanges(const std::string& table, const endpoint::Position& after,
                                         std::string_view origin) = 0;
  virtual Expected<std::optional<double>> LatestChangeTime(const std::string& table,
                                                           const endpoint::RowId& id,
                                                           const endpoint::Position& after) = 0;
  virtual Expected<bool> OwnChangeAfter(const std::string& table, const endpoint::RowId& id,
                                        std::string_view origin,
                                        const endpoint::Position& after) = 0;
  virtual Status PruneChangelog(const endpoint::Position& through) = 0;
  // Endpoint::CaptureRetainedBytes: what capture keeps for changes not yet
  // acknowledged, which grows while nothing is acknowledged; nullopt when
  // capture is not installed. Logical decoding: the WAL the replication
  // slot retains (from its restart_lsn to the server's current WAL
  // position). Triggers: the size of the change and commit-order tables
  // with their indexes (pg_total_relation_size).
  virtual Expected<std::optional<int64_t>> RetainedBytes() = 0;
  virtual int ChangeFd() = 0;
  virtual endpoint::Endpoint::ChangeState CheckChanges() = 0;

  // Makes the transactions `session` commits from now on carry `origin`
  // (Change::origin; "" for none, an application's), until the next call.
  // The endpoint calls it on its write connection outside a transaction,
  // before each BEGIN. Must hold while applications commit on other
  // sessions at the same time: only this session's transactions are
  // marked. Logical decoding: the session is set up with a replication
  // origin (made and recorded at the origin's first use, so capture must be
  // installed), one session per origin at a time, and everything it
  // commits until the next call is marked, outside write transactions too.
  // Triggers: the session's setting duet.origin (set_config, session-wide,
  // since only duet's transactions run on the session), which the row
  // triggers store with each change.
  virtual Status MarkSession(Connection& session, std::string_view origin) = 0;
};

// Capture by logical decoding (see above) for the database `conninfo`
// names, as system `system`; `tables` are every table of the system in the
// manifest (capture is installed for those Install names).
Expected<std::unique_ptr<PgCapture>> OpenLogicalCapture(const std::string& conninfo,
                                                        const std::string& system,
                                                        std::vector<CapturedTable> tables);

// Capture by triggers (see above); the same arguments.
Expected<std::unique_ptr<PgCapture>> OpenTriggerCapture(const std::string& conninfo,
                                                        const std::string& system,
                                                        std::vector<CapturedTable> tables);

// The capture the connection string's duet_capture option names
// (capture_option.h; logical decoding without it), opened on the string
// without the option. The endpoint opens its capture with this.
Expected<std::unique_ptr<PgCapture>> OpenCapture(const std::string& conninfo,
                                                 const std::string& system,
                                                 std::vector<CapturedTable> tables);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_PG_CAPTURE_H_
