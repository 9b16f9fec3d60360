// The Endpoint interface: everything the sync engine asks of one system's
// database, and nothing about how that database does it. SQLite implements
// it first (runtime/endpoint/sqlite); PostgreSQL (a logical replication
// slot: one ordered stream per database, LSNs as positions; replication
// origins for origin marking) is meant to fit the same interface.
//
// Contracts shared by every implementation:
// - A row is named by an opaque RowId: the endpoint's canonical encoding of
//   the table's primary key (SQLite: runtime/endpoint/sqlite/row_key.h), so
//   it does not change while the row lives unless its key is changed, which
//   capture reports as the old RowId's delete and the new one's insert. The
//   engine and the state store only store and compare it; the endpoint
//   binds it as the key's typed values, and one that is not of the table's
//   encoding is InvalidArgument.
// - Capture is a change stream (ReadStream): one Change per row inserted,
//   updated or deleted in a captured table, across all captured tables in
//   the database's commit order, each at an opaque Position
//   (position.h) whose bytewise order is stream order. A position names
//   the same place after a reopen; the engine keeps positions as
//   checkpoints and never computes one from another. Positions are
//   self-checking: bytes the endpoint did not return (cut short, run on,
//   another database's) are InvalidArgument, never a crash.
// - Writes happen inside a WriteTransaction (Begin). Reads made in it see
//   the state the writes apply to: no other writer can change the tables in
//   between, or the first write fails and the transaction is lost (SQLite:
//   BEGIN IMMEDIATE, or BEGIN and a snapshot checked at the first write;
//   PostgreSQL: row locks). Changes the
//   transaction makes are captured with the origin given to Begin, so
//   the map that made them can skip them (echo suppression).
// - Failures: Unavailable when trying again later may succeed (a lock held
//   too long, I/O, an unreachable database); other codes are not retried.
// - Values cross the interface as endpoint::Value of the column's type in
//   the bundle; a stored value that cannot be read as that type is reported
//   in Row::problem, never silently converted.
#ifndef DUET_RUNTIME_ENDPOINT_ENDPOINT_H_
#define DUET_RUNTIME_ENDPOINT_ENDPOINT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/position.h"
#include "runtime/endpoint/value.h"

namespace duet::endpoint {

// The canonical text of a row's primary key (see above).
using RowId = std::string;

// What a capture returns at once when another process (a running `duet
// run`) holds it, so that it cannot read changes now: Unavailable, with
// kCaptureHeld in the message. Observers (`duet status`, `drift`) show
// what they can without the capture instead of failing.
inline constexpr std::string_view kCaptureHeld = "capture is held by another process";
Status CaptureHeldError(std::string_view context, std::string_view detail);
bool IsCaptureHeld(const Status& status);

enum class ChangeOp { kInsert = 1, kUpdate = 2, kDelete = 3 };

// One change of the stream (Endpoint::ReadStream).
struct Change {
  std::string table;  // qualified name, "fo.CustCustomerV3Entity"
  RowId row_id;
  ChangeOp op = ChangeOp::kUpdate;
  // "" for an application's write; the origin given to Begin for duet's.
  std::string origin;
  // When the change was made, seconds since the Unix epoch (SQLite: the
  // time of the statement, within its transaction): what `newest` compares.
  double at = 0;
  Position position;
};

// A value a reader returns: a column of the table, or a lookup path whose
// hops go through ref columns (`msdyn_company.cdm_companycode`). `type` is
// the type of the path's last column.
struct ColumnPath {
  std::vector<std::string> path;
  bundle::ColumnType type;
};

struct Row {
  RowId id;
  std::vector<Value> values;  // one per ColumnPath of the reader
  // Non-empty when a stored value cannot be read as its type: the reason,
  // naming the column. The row must then not be synced.
  std::string problem;
};

// Reads rows of one table as one list of ColumnPaths. Valid while its
// endpoint lives.
class RowReader {
 public:
  virtual ~RowReader() = default;
  virtual Expected<std::optional<Row>> Read(const RowId& id) = 0;
  // The rows of `ids` that exist, in no particular order: a few queries
  // instead of one per row.
  virtual Expected<std::vector<Row>> ReadMany(const std::vector<RowId>& ids) = 0;
  // At most `limit` rows after `after` (from the first row when nullopt), in
  // RowId order, for scans that resume from a checkpoint.
  virtual Expected<std::vector<Row>> Scan(const std::optional<RowId>& after, size_t limit) = 0;
  // Scan of the rows for which `where`, a condition in the database's own
  // language over the table's columns (an operator's, for `duet resync
  // --where`), holds; an invalid condition is InvalidArgument.
  virtual Expected<std::vector<Row>> ScanWhere(const std::optional<RowId>& after, size_t limit,
                                               const std::string& where) = 0;
  virtual Expected<int64_t> CountWhere(const std::string& where) = 0;
  // Scan's RowIds alone, for passes that read few of the rows.
  virtual Expected<std::vector<RowId>> ScanIds(const std::optional<RowId>& after, size_t limit) = 0;
  virtual Expected<int64_t> Count() = 0;
};

struct CaptureCounts {
  int tables = 0;
  int objects = 0;  // triggers, tables and indexes install added
};

// A write transaction of one endpoint (Endpoint::Begin). Insert, Update
// and Delete are each atomic inside it: a write the database refuses (a
// constraint, a too-long value) returns FailedPrecondition with the
// database's reason, has changed nothing, and the transaction goes on (a
// database that aborts a transaction on an error wraps each write in a
// savepoint). Any other error means the transaction is lost: the caller
// rolls it back and abandons the batch. Destroying an open transaction
// rolls it back. Valid while its endpoint lives.
//
// What the engine relies on: a batch reads a pair's rows inside the
// transaction (with its RowReaders) and then writes them, and a write must
// never overwrite an application's change the batch has not read. So
// between the transaction's read of a row and its write of it, either no
// other writer can change the row, or the write fails with Unavailable,
// losing the transaction (the batch is done again). SQLite gives this for
// every row: under kNow the
// transaction holds the database-wide write lock from Begin, and under
// kAtFirstWrite its first write fails when anyone has committed since the
// snapshot its reads saw, so the engine reads without locking and locks
// only a database it writes to. A database that locks rows instead must
// give the same, in one of two ways: its transactions read one snapshot
// and fail a write to a row changed since (PostgreSQL: REPEATABLE READ,
// whose serialization failure is then Unavailable, with LostLockRace under
// kAtFirstWrite), or the rows to be written are read with ReadForUpdate,
// which locks them before their values are read. Either way no
// application write is lost; ReadForUpdate also spares doing the batch
// again. The engine today reads with RowReaders (enough on SQLite); an
// endpoint offering only the second way needs the engine to read the rows
// it writes with ReadForUpdate (docs/sync.md, "Locks").
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;
  // Inserts a row; the table's `id` column, when it is a guid, gets a new
  // UUIDv7 unless `columns` names it. Returns the new row's RowId.
  virtual Expected<RowId> Insert(const std::string& table, const std::vector<std::string>& columns,
                                 const std::vector<Value>& values) = 0;
  // Inserts rows of the same columns: one outcome per row, in order, each
  // as Insert's (a refused row does not stop the others). The bulk path a
  // database with a faster way to load many rows implements.
  virtual Expected<std::vector<Expected<RowId>>> InsertMany(
      const std::string& table, const std::vector<std::string>& columns,
      const std::vector<std::vector<Value>>& rows);
  virtual Status Update(const std::string& table, const RowId& id,
                        const std::vector<std::string>& columns,
                        const std::vector<Value>& values) = 0;
  virtual Status Delete(const std::string& table, const RowId& id) = 0;
  // Reads rows `ids` of `table` as Endpoint::Reader(table, paths) reads
  // them, and locks them for this transaction: once it returns, no other
  // writer can update or delete the rows it returned until the transaction
  // ends, so their values are the ones the transaction's writes apply to.
  // Returns the rows that exist, in no particular order; a RowId without a
  // row is left out, and where locks are per row it is not locked (another
  // writer may insert it meanwhile). No `ids`, no lock. The locks are taken
  // as the transaction's WriteLock says:
  // - kNow: waiting up to the lock timeout for a writer that holds one, then
  //   Unavailable (SQLite: the transaction holds the database-wide write
  //   lock since Begin; PostgreSQL: SELECT ... FOR UPDATE under its
  //   lock_timeout);
  // - kAtFirstWrite: as the first write takes the write lock, without
  //   waiting: when another writer holds a lock it needs, or has changed the
  //   rows (SQLite: the database) since the transaction's snapshot,
  //   Unavailable, and LostLockRace then says so (SQLite: the database-wide
  //   write lock, which a transaction that has read a snapshot cannot wait
  //   for anyway; PostgreSQL: FOR UPDATE NOWAIT in a REPEATABLE READ
  //   transaction).
  // Once taken the locks are held until Commit or Rollback, including
  // after a refused write. Any error loses the transaction: roll it back.
  virtual Expected<std::vector<Row>> ReadForUpdate(const std::string& table,
                                                   const std::vector<ColumnPath>& paths,
                                                   const std::vector<RowId>& ids) = 0;
  // Makes the writes durable. On failure the transaction is still open, to
  // be rolled back.
  virtual Status Commit() = 0;
  // Ends an open transaction without its writes; nothing when it is not open.
  virtual void Rollback() = 0;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  virtual const std::string& system() const = 0;

  // Every table of this system in the manifest exists with every declared
  // column; otherwise an error naming the system, table and column.
  virtual Status CheckSchema() = 0;
  // The same for the tables named (qualified names) only.
  virtual Status CheckTables(const std::vector<std::string>& tables) = 0;

  // Adds capture for `tables` (qualified names, "fo.CustCustomerV3Entity").
  // Idempotent. Uninstall removes exactly what Install added.
  virtual Expected<CaptureCounts> InstallCapture(const std::vector<std::string>& tables) = 0;
  virtual Expected<CaptureCounts> UninstallCapture() = 0;
  // Whether capture is installed for every table in `tables`.
  virtual Status CheckCapture(const std::vector<std::string>& tables) = 0;
  // The id of the state store whose links and checkpoints describe this
  // database (BindState, at `duet install`), or "" when none was recorded
  // (capture installed by an earlier version). Requires capture installed.
  virtual Expected<std::string> BoundState() = 0;
  virtual Status BindState(const std::string& state_id) = 0;

  // The change stream: committed changes of `tables` (qualified names;
  // every captured table when empty) after `after`, in commit order across
  // tables and transactions, each with its own increasing position, at most
  // `limit`; and the position read up to, the checkpoint to record once
  // they are reconciled: the last change's when `limit` were returned, else
  // the end of the stream as this read saw it (past changes of other
  // tables too). A table without capture has no changes. `after` must be
  // the beginning or a position this endpoint returned (also before a
  // reopen); other bytes are InvalidArgument.
  struct Stream {
    std::vector<Change> changes;
    Position read_to;
  };
  virtual Expected<Stream> ReadStream(const std::vector<std::string>& tables, const Position& after,
                                      size_t limit) = 0;
  // The position of the newest committed change (the beginning when there
  // is none).
  virtual Expected<Position> StreamEnd() = 0;
  // The per-table questions the engine asks of the changes after a
  // position (`after`: the beginning or a position this endpoint returned;
  // other bytes are InvalidArgument). `origin` is a map's name: the changes
  // of duet's writes for that map.
  //
  // Inserts into `table` after `after` that follow a delete of the same
  // RowId (the key's previous change is a delete): the application's, and
  // those captured with `origin` after `own_after` only (none when
  // nullopt); and the position up to which it looked (rows inserted later
  // are left for the next call). How the engine notices a RowId reused by a
  // new row; an insert of a key whose row exists (an upsert, INSERT OR
  // REPLACE) is not one: it is the same row, an update of its pair.
  struct Inserts {
    std::vector<std::pair<RowId, Position>> rows;
    Position scanned_to;
  };
  virtual Expected<Inserts> ReadInserts(const std::string& table, const Position& after,
                                        std::string_view origin,
                                        const std::optional<Position>& own_after) = 0;
  // duet's own inserts into `table` captured with `origin` after `after`,
  // oldest first: after a batch whose state never committed, the rows it
  // inserted, which no link names yet (docs/sync.md, "Crash safety").
  virtual Expected<std::vector<std::pair<RowId, Position>>> ReadOwnInserts(
      const std::string& table, std::string_view origin, const Position& after) = 0;
  // The number of changes of `table` after `after` not captured with `origin`.
  virtual Expected<int64_t> CountChanges(const std::string& table, const Position& after,
                                         std::string_view origin) = 0;
  // The time (Change::at) of the newest application change (no origin) of
  // the row after `after`; nullopt if there is none.
  virtual Expected<std::optional<double>> LatestChangeTime(const std::string& table,
                                                           const RowId& id,
                                                           const Position& after) = 0;
  // Whether row `id` of `table` has a change captured with `origin` (duet's
  // own write for that map) after `after`.
  virtual Expected<bool> OwnChangeAfter(const std::string& table, const RowId& id,
                                        std::string_view origin, const Position& after) = 0;
  // Forgets changes up to and including `through`; the stream's positions
  // and what later reads return are unchanged.
  //
  // This is also the engine's acknowledgment: it calls it, after the state
  // store committed, with the lowest position any map of this process
  // still needs on this endpoint (its checkpoint, or the commit end before
  // an unconfirmed insert). Maps read the stream independently, each its
  // own tables from its own checkpoint (a paused or failing map holds no
  // other back); an endpoint whose source is one ordered stream that cannot
  // be re-read per table (a replication slot) confirms `through` to it and
  // serves the maps' reads from what it kept since: it must keep every
  // change after the last `through` until the next.
  virtual Status PruneChangelog(const Position& through) = 0;
  // How many bytes the database keeps for this endpoint's capture beyond
  // what the engine acknowledged (PruneChangelog): PostgreSQL's WAL that the
  // replication slot retains, which grows without bound while no duet
  // acknowledges it (an abandoned slot). nullopt where capture keeps
  // nothing of the kind (SQLite: its changelog rows are the backlog the
  // stream shows). For `duet status`, /metrics and the `retained_bytes`
  // alert.
  virtual Expected<std::optional<int64_t>> CaptureRetainedBytes();
  // Waiting for changes without polling. ChangeFd is a descriptor that
  // becomes readable when another writer may have changed the database
  // (SQLite: inotify on the directory of the database file, for the file
  // and its WAL), or -1 when the endpoint has none. The engine waits on the
  // descriptors of every endpoint at once (poll), and after each wake-up
  // asks CheckChanges, which reads what the descriptor has without
  // blocking:
  // - kChanged: another writer committed since the last kChanged (or since
  //   the endpoint was opened); exact, never missed;
  // - kSoon: a commit may be under way (the files are being written, or
  //   the endpoint has no descriptor): ask again after a short poll;
  // - kNone: nothing to look at until the descriptor wakes the engine.
  enum class ChangeState { kNone, kSoon, kChanged };
  virtual int ChangeFd() = 0;
  virtual ChangeState CheckChanges() = 0;

  virtual Expected<std::unique_ptr<RowReader>> Reader(const std::string& table,
                                                      const std::vector<ColumnPath>& paths) = 0;

  // How long a read or write waits for another process's lock before it
  // fails with Unavailable (which the engine retries later).
  virtual void SetLockTimeout(std::chrono::milliseconds timeout) = 0;

  // Begins a write transaction (WriteTransaction, below); reads from then
  // on see one snapshot of the database. At most one is open per endpoint.
  // `lock` says when it takes the database's write lock:
  // - kNow: at once, waiting up to the lock timeout for other writers (so
  //   only when the caller holds no other database's lock);
  // - kAtFirstWrite: at its first Insert, Update or Delete, without
  //   waiting: when another writer holds the lock, or has committed since
  //   the snapshot, that write fails with Unavailable and the transaction
  //   is lost (roll it back and try again; LostLockRace then says so).
  // A transaction that wrote nothing never takes the lock. How the
  // transaction's changes are captured with `origin` is the endpoint's
  // business, and must hold while applications commit at the same time
  // (SQLite: stamped under its database-wide write lock).
  enum class WriteLock { kNow, kAtFirstWrite };
  virtual Expected<std::unique_ptr<WriteTransaction>> Begin(std::string_view origin,
                                                            WriteLock lock) = 0;
  // Whether a transaction ended because its first write found the write
  // lock held (kAtFirstWrite), since the last call.
  virtual bool LostLockRace() = 0;
  // How long the last committed or rolled back transaction held the write
  // lock (zero when it took none).
  virtual std::chrono::nanoseconds LastLockHeld() const = 0;
  // The row whose `columns` hold `values`, compared as values of each
  // column's type in the bundle (a ref's as its target's id) whatever form
  // the database stores them in, without scanning the table; a null matches
  // nothing. nullopt if none; the first row by RowId if several.
  virtual Expected<std::optional<RowId>> FindRow(const std::string& table,
                                                 const std::vector<std::string>& columns,
                                                 const std::vector<Value>& values) = 0;
  // FindRow for each of `keys` (each one value per column of `columns`):
  // one outcome per key, in order, as FindRow's. The default asks FindRow
  // key by key; a database where each question is a round trip answers
  // many in one.
  virtual Expected<std::vector<std::optional<RowId>>> FindRows(
      const std::string& table, const std::vector<std::string>& columns,
      const std::vector<std::vector<Value>>& keys);
  // What a ref column stores to refer to row `id` of `table`: its `id`
  // column's value, or the RowId when the table has no `id`.
  virtual Expected<Value> RefValue(const std::string& table, const RowId& id) = 0;
};

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_ENDPOINT_H_
