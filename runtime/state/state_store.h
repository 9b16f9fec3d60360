// The state store: what the runtime knows between runs — per map its
// initial-sync progress and changelog checkpoints, the links between rows
// with their bases, changes waiting for a referenced row, and the error
// queue (docs/sync.md, "The state store"). An interface: SQLite implements
// it today (sqlite_state_store.h).
//
// The engine writes it in one transaction per batch, after the batch's
// target transactions have committed, so a crash can only leave it behind
// the databases, never ahead of them.
#ifndef DUET_RUNTIME_STATE_STATE_STORE_H_
#define DUET_RUNTIME_STATE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/position.h"

namespace duet::state {

enum class MapPhase { kNew, kInitial, kLive };

struct MapState {
  std::string name;
  MapPhase phase = MapPhase::kNew;
  // Initial sync: 1 reads the seeding side, 2 the other side; the RowId
  // after which the current side resumes; rows done and the total estimate.
  int initial_step = 1;
  std::optional<std::string> initial_cursor;
  int64_t initial_done = 0;
  int64_t initial_total = 0;
  std::optional<double> last_sync;  // when the last batch committed, Unix seconds
};

struct Link {
  std::string left_id;
  std::string right_id;
  std::string base;  // engine-defined bytes
  // The end of each side's change stream when the link was made. A captured
  // insert of a linked RowId after it that follows a delete of the RowId
  // names a new row under a deleted row's key, not this one.
  endpoint::Position left_position;
  endpoint::Position right_position;
};

struct Waiting {
  std::string system;
  std::string row_id;
  double since = 0;  // Unix seconds
  std::string reason;
};

enum class ItemStatus { kOpen, kResolved, kDiscarded };
// "open", "resolved", "discarded": as `duet errors` shows and stores them.
std::string_view ItemStatusName(ItemStatus status);
std::optional<ItemStatus> ParseItemStatus(std::string_view name);

// What an operator asked of an open item (`duet errors retry|resolve`):
// reconcile its pair again, or with `take`'s side winning.
struct ItemRequest {
  enum class Kind { kNone, kRetry, kTake };
  Kind kind = Kind::kNone;
  std::string take;  // kTake: the system whose row wins
  bool empty() const { return kind == Kind::kNone; }
  // "", "retry" or "take:SYSTEM".
  std::string Text() const;
  // nullopt for text that is none of those.
  static std::optional<ItemRequest> Parse(std::string_view text);
  bool operator==(const ItemRequest& other) const = default;
  auto operator<=>(const ItemRequest& other) const = default;
};

// An item of the error queue (docs/operations.md). `system` is the side the
// change came from; the other side's row, when there is one, is `other_id`.
struct ErrorItem {
  int64_t id = 0;
  std::string map;
  std::string system;
  std::string row_id;
  std::string kind;
  std::string reason;
  std::string source_row;  // JSON, as read when the item was last recorded
  std::string other_id;
  std::string other_row;  // JSON, likewise; empty when there is no partner
  std::string detail;     // JSON; for a conflict: each field's values and base
  int64_t attempts = 0;
  // Unix seconds: when the item was first recorded, and when it was last
  // recorded again or closed. RecordError stamps both from `last_at`.
  double first_at = 0;
  double last_at = 0;
  ItemStatus status = ItemStatus::kOpen;
  ItemRequest request;  // open items only
  std::string closed_by;
};

// A map an operator paused (`duet pause`): nothing of it is read or
// written until it is resumed; its changes wait in the changelogs.
struct Pause {
  std::string map;
  double since = 0;  // Unix seconds
  std::string by;
  std::string reason;
};

// A map's backlog (changes captured and not reconciled yet, per system) as
// the running `duet run` last counted it: what `duet status` shows for a
// system whose capture that run holds (endpoint::IsCaptureHeld).
struct RecordedBacklog {
  double at = 0;  // when it was counted, seconds since the Unix epoch
  std::map<std::string, int64_t> changes;
};

// A resync an operator started (`duet resync`): the map's rows read again
// in pages, `from`'s side first, with `from` winning every difference.
struct Resync {
  std::string map;
  std::string from;  // a system
  int step = 1;      // 1: `from`'s side, 2: the other side
  std::optional<std::string> cursor;
  int64_t done = 0;
  int64_t total = 0;
  double started = 0;  // Unix seconds
  std::string by;
  // Only `from`'s rows for which this holds (an SQL condition), and only
  // step 1; empty: every pair.
  std::string where;
};

// Latency from a change's capture on one side to duet's commit on the
// other, per map, direction ("fo->ce") and minute: a histogram whose
// bucket i counts latencies up to kLatencyBase * 2^i seconds (the last one
// everything above).
inline constexpr int kLatencyBuckets = 28;
inline constexpr double kLatencyBase = 0.00025;
struct LatencyHistogram {
  std::vector<int64_t> counts = std::vector<int64_t>(kLatencyBuckets, 0);
  int64_t n = 0;
  double sum = 0;  // seconds; kept in memory only (the state store has counts)
  void Add(double seconds);
  void Merge(const LatencyHistogram& other);
  // The upper bound of the bucket that holds the p-th quantile (0 < p <= 1),
  // in seconds: at most twice the true value; 0 when empty.
  double Quantile(double p) const;
};

struct ErrorFilter {
  std::string map;   // empty: every map
  std::string kind;  // empty: every kind
  bool open_only = true;
  // Only items first recorded at or before this time (Unix seconds).
  std::optional<double> first_at_most;
};

// The state store's interface (docs/sync.md, "The state store"). One
// implementation today, SQLite (sqlite_state_store.h); OpenStateStore (open_state_store.h) picks
// the implementation by URL. The conformance suite (tests/conformance)
// holds every implementation to this contract.
//
// Units of work. Writes happen inside Begin() ... Commit(): everything
// written between them is applied at once or not at all (Rollback, a failed
// Commit, or a crash leave the store as it was before Begin). BeginRead()
// starts a unit that reads one consistent snapshot and may write; it is
// committed the same way. Reads outside a unit see the latest commit.
//
// Fencing. A worker that syncs calls AcquireLease(owner) once: it records
// (owner, epoch) in the store, the epoch one above the last one recorded
// unless `owner` already holds the lease (then it keeps its epoch). From
// then on every Commit of this handle checks, atomically with the commit,
// that the store's epoch is still its own; once another worker acquired
// the lease, Commit fails with a FailedPrecondition "lease lost" status
// (IsLeaseLost) and nothing of the unit is applied. A handle that never
// acquired a lease (operator commands: pause, errors retry) is not fenced.
class StateStore {
 public:
  // Only `duet install` creates a state store: any other command that finds
  // none fails with NotFound, so that a lost state store is never silently
  // replaced by an empty one. Only install (kCreate) upgrades a store of an
  // earlier schema version, too: kExisting refuses one with a status
  // IsEarlierSchema tells, and leaves it as it was, so that the earlier
  // version of duet still runs it until the operator upgrades.
  enum class OpenMode { kExisting, kCreate };
  virtual ~StateStore() = default;

  // A random id made when the store was created; `duet install` records it
  // in each database (Endpoint::BindState), so that `duet run` can tell a
  // state store that does not describe the databases.
  virtual const std::string& id() const = 0;
  // Ok while the store is the one that was opened; DataLoss once it was
  // deleted or replaced (a running duet must then stop: its writes would go
  // nowhere).
  virtual Status CheckFile() const = 0;

  // The schema version of the opened store (after any migration on open).
  virtual int SchemaVersion() const = 0;
  // Takes the lease for `owner` (see above) and returns its epoch (>= 1).
  virtual Expected<int64_t> AcquireLease(const std::string& owner) = 0;

  // A write unit now (Begin), or one that starts reading now and becomes a
  // write unit at its first write (BeginRead): the engine reads links for a
  // whole batch in one snapshot and writes at its end.
  virtual Status Begin() = 0;
  virtual Status BeginRead() = 0;
  // Applies the unit; on failure (lease lost included) nothing of it is
  // applied and the unit is over.
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;

  virtual Expected<MapState> GetMap(const std::string& name) = 0;
  virtual Status PutMap(const MapState& map) = 0;

  // Positions (endpoint/position.h) are stored as their bytes and read back
  // equal; Position::AfterAll is never stored (InvalidArgument).
  // The position in `system`'s change stream up to which the map has
  // reconciled; the beginning when it has none yet.
  virtual Expected<endpoint::Position> GetCheckpoint(const std::string& map,
                                                     const std::string& system) = 0;
  virtual Status SetCheckpoint(const std::string& map, const std::string& system,
                               const endpoint::Position& position) = 0;
  // The end of `system`'s change stream when the map's last batch
  // committed there (the beginning before the first): duet's own inserts
  // after it belong to a batch whose state was never recorded.
  virtual Expected<endpoint::Position> GetCommitEnd(const std::string& map,
                                                    const std::string& system) = 0;
  virtual Status SetCommitEnd(const std::string& map, const std::string& system,
                              const endpoint::Position& end) = 0;

  virtual Expected<std::optional<Link>> LinkByLeft(const std::string& map,
                                                   const std::string& left_id) = 0;
  virtual Expected<std::optional<Link>> LinkByRight(const std::string& map,
                                                    const std::string& right_id) = 0;
  // The links of these left rows, at most one per row; rows without a link
  // are absent.
  virtual Expected<std::vector<Link>> LinksByLeft(const std::string& map,
                                                  const std::vector<std::string>& left_ids) = 0;
  // Which of `ids` of side `side` (0 left, 1 right) have a link.
  virtual Expected<std::vector<std::string>> LinkedAmong(const std::string& map, int side,
                                                         const std::vector<std::string>& ids) = 0;
  virtual Expected<std::vector<Link>> LinksByRight(const std::string& map,
                                                   const std::vector<std::string>& right_ids) = 0;
  // Replaces any link of either row.
  virtual Status PutLink(const std::string& map, const Link& link) = 0;
  virtual Status DeleteLink(const std::string& map, const std::string& left_id) = 0;
  // A new base for an existing link (cheaper than PutLink: no key changes).
  virtual Status UpdateBase(const std::string& map, const std::string& left_id,
                            const std::string& base) = 0;
  virtual Expected<int64_t> CountLinks(const std::string& map) = 0;

  // Keeps the first `since` of a row that was already waiting.
  virtual Status AddWaiting(const std::string& map, const Waiting& waiting) = 0;
  virtual Status RemoveWaiting(const std::string& map, const std::string& system,
                               const std::string& row_id) = 0;
  virtual Expected<std::vector<Waiting>> ListWaiting(const std::string& map) = 0;

  // Opens an item, or counts another attempt of the open item of that row,
  // at item.last_at (a new item's first_at too).
  virtual Status RecordError(const ErrorItem& item) = 0;
  // Resolves the open items of the row at time `at`; no-op when there are
  // none. With `why` (the row no longer exists, say) they are closed by duet
  // without a sync: closed_by is "duet" and `why` is added to each item's
  // reason.
  virtual Status ResolveErrors(const std::string& map, const std::string& system,
                               const std::string& row_id, double at,
                               const std::string& why = "") = 0;
  // Pausing a paused map keeps its first pause; resuming one that is not
  // paused is NotFound.
  virtual Status PauseMap(const Pause& pause) = 0;
  virtual Status ResumeMap(const std::string& map) = 0;
  virtual Expected<std::map<std::string, Pause>> Paused() = 0;

  // Adds to the histogram of (map, direction, minute since the epoch).
  virtual Status AddLatency(const std::string& map, const std::string& direction, int64_t minute,
                            const LatencyHistogram& h) = 0;
  // Per direction, the histograms of the minutes from `since_minute` on,
  // merged.
  virtual Expected<std::map<std::string, LatencyHistogram>> LatencySince(const std::string& map,
                                                                         int64_t since_minute) = 0;
  virtual Status PruneLatency(int64_t before_minute) = 0;

  // The map's backlog as last recorded, replacing the one before (kept in
  // duet_meta under 'backlog MAP': no table of its own, so no schema
  // version of its own); none recorded is nullopt.
  virtual Status RecordBacklog(const std::string& map, const RecordedBacklog& backlog) = 0;
  virtual Expected<std::optional<RecordedBacklog>> GetRecordedBacklog(const std::string& map) = 0;

  // At most one resync per map: PutResync starts or advances it.
  virtual Status PutResync(const Resync& resync) = 0;
  virtual Expected<std::optional<Resync>> GetResync(const std::string& map) = 0;
  virtual Status EndResync(const std::string& map) = 0;

  virtual Expected<std::vector<ErrorItem>> OpenErrors(const std::string& map) = 0;
  virtual Expected<int64_t> CountOpenErrors(const std::string& map) = 0;
  // Items of the map recorded or attempted again at or after `since`.
  virtual Expected<int64_t> CountErrorsSince(const std::string& map, double since) = 0;
  virtual Expected<std::vector<ErrorItem>> ListErrors(const ErrorFilter& filter) = 0;
  virtual Expected<std::optional<ErrorItem>> GetError(int64_t id) = 0;
  // Asks whoever runs the map next (a running `duet run`, or the command
  // itself) to reconcile the item's pair again. NotFound unless the item is
  // open; InvalidArgument for an empty request.
  virtual Status RequestRetry(int64_t id, const ItemRequest& request) = 0;
  // Open items of the map with a request, oldest first.
  virtual Expected<std::vector<ErrorItem>> RequestedErrors(const std::string& map) = 0;
  virtual Status ClearRequest(int64_t id) = 0;
  // Closes an open item at time `at` without touching the data. NotFound
  // unless open.
  virtual Status DiscardError(int64_t id, const std::string& by, double at) = 0;
};

// The status Commit returns once another worker took the lease, and how to
// tell it.
Status LeaseLostError(const std::string& detail);
bool IsLeaseLost(const Status& status);

// The status an open with OpenMode::kExisting returns for a store of an
// earlier schema version (nothing changed), and how to tell it.
Status EarlierSchemaError(const std::string& detail);
bool IsEarlierSchema(const Status& status);

// A time as ISO text with milliseconds, "2026-11-26T10:04:11.120Z", and
// back (nullopt for text that is not such a time, with or without the
// milliseconds). The state store keeps times as this text, readable with
// the database's own client; its interface carries Unix seconds.
std::string IsoAt(double unix_seconds);
std::optional<double> ParseIso(std::string_view text);
// The current time as ISO text, and in Unix seconds (the system clock; the
// engine reads its own, base::Clock).
std::string NowIso();
double NowSeconds();

}  // namespace duet::state

#endif  // DUET_RUNTIME_STATE_STATE_STORE_H_
