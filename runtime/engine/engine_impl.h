// The sync engine's insides, shared by its source files (plan.cc,
// batch.cc, reconcile.cc, sync_engine.cc) and by nothing else: the plan of
// each map, the batch, and SyncEngine::Impl. Not an interface.
#ifndef DUET_RUNTIME_ENGINE_ENGINE_IMPL_H_
#define DUET_RUNTIME_ENGINE_ENGINE_IMPL_H_

#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "runtime/engine/decide.h"
#include "runtime/engine/operations.h"
#include "runtime/engine/sync_engine.h"
#include "runtime/jit/helpers.h"

namespace duet::engine {

using endpoint::ColumnPath;
using endpoint::Endpoint;
using endpoint::Position;
using endpoint::Row;
using endpoint::RowId;
using endpoint::Value;

inline std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

inline const bundle::Column* FindColumn(const bundle::Table& table, std::string_view name) {
  for (const bundle::Column& c : table.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// One side of a map: its table, how its rows are read, and the transform
// that reads them (absent when the map only writes this side).
struct Side {
  int index = 0;
  std::string system;
  std::string table;
  const bundle::Table* info = nullptr;
  Endpoint* endpoint = nullptr;
  std::vector<ColumnPath> shape;
  std::unique_ptr<endpoint::RowReader> reader;
  const bundle::Transform* transform = nullptr;  // this side -> the other
  duet_transform_fn function = nullptr;
  std::vector<int> input_index;              // transform->inputs[i] -> shape index
  std::vector<int> current_index;            // other transform's outputs[j] -> shape index here
  std::map<std::string, int> raw_ref_index;  // ref column -> shape index (stored id)
  std::vector<int> all_outputs;              // 0 .. transform->outputs.size() - 1
  // What an insert on this side adds to the other transform's columns:
  // the columns with a `default` that no mapping writes.
  std::vector<std::pair<std::string, Value>> insert_defaults;
  // Inserting this side's rows on the other side when no output is a
  // lookup: the projection is the row to insert, in insert_columns (the
  // outputs' columns, then the other side's defaults); key_columns are
  // the key outputs' columns; image_from[i] is where the other side's
  // shape entry i comes from in insert_columns, when image_complete.
  bool plain_insert = false;
  std::vector<std::string> insert_columns;
  std::vector<std::string> key_columns;
  std::vector<int> image_from;
  bool image_complete = false;
};

// A write the database refused (Endpoint: constraint, too-long value); any
// other failure of a write loses the batch.
inline bool IsRejected(const Status& s) { return s.code() == StatusCode::kFailedPrecondition; }

struct MapPlan {
  const bundle::Map* map = nullptr;
  std::string name;
  Side side[2];
  std::vector<FieldPlan> fields;
  int seed = 0;
  bool initial_none = false;
  bool live = false;              // seen live in the state store (InitialSync)
  std::vector<int> key_slots[2];  // outputs of side s's transform that are keys of the other side
  // A mapping flows only from side s, and not from a constant: a partner
  // duet inserts on side s must then write it back to the row it was made
  // from (`concat(CODE, "-", NAME) -> label` for a row created in ce).
  bool one_way_from[2] = {false, false};
  // Application inserts that follow a delete of their RowId (ReadInserts),
  // captured but not yet behind the checkpoint, per side: RowId -> newest
  // position, read up to inserts_scanned (nullopt: not read yet). Such an insert of a linked RowId
  // after its link was made names a new row (a deleted row's key taken again, as SQLite reuses the
  // rowid of a deleted last row); an upsert of an existing key is not listed, and stays an update
  // of its pair.
  std::unordered_map<RowId, endpoint::Position> pending_inserts[2];
  // By position, for pruning.
  std::deque<std::pair<endpoint::Position, RowId>> pending_order[2];
  std::optional<endpoint::Position> inserts_scanned[2];
  // duet's own inserts count only after this position: at start, those of
  // a batch whose state never committed; afterwards none (nullopt;
  // insert_row checks its own).
  std::optional<endpoint::Position> own_inserts_after[2] = {endpoint::Position(),
                                                            endpoint::Position()};
  // Rows duet inserted on side s after the last commit_end the state store
  // holds for s: the work of a batch whose state never committed, whose
  // links are lost. They are looked for at the first batch after a start or
  // a failure (FindUnconfirmed). Once every change of the other side that
  // was captured before they were found is reconciled, a row of them that
  // is still unlinked was made for a row that is gone (deleted, or no
  // longer matched by key), and is deleted (SweepUnconfirmed). Until then
  // the side's commit_end stays where it was, so that a crash before the
  // sweep finds them again.
  bool check_unconfirmed = true;
  // Until then Reconcile leaves them alone: they are no application's rows.
  struct Unconfirmed {
    // RowId, position of duet's insert.
    std::vector<std::pair<RowId, endpoint::Position>> rows;
    std::unordered_set<RowId> ids;  // the RowIds of `rows`
    // The side's commit_end they were read after: the changelog keeps what
    // follows it until they are settled.
    endpoint::Position found_after;
    // The other side's stream end when they were found.
    endpoint::Position ready_at;
  };
  Unconfirmed unconfirmed[2];
};

// A row as pointers to its values in its side's shape order: what the
// initial sync's fast path has of a row it just wrote, without copying.
using RowRef = std::vector<const Value*>;
RowRef RefOf(const Row& row);
RowRef RefOf(const std::vector<Value>& values);

// A base as pointers to values held elsewhere (rows, projections): the one
// place that says which values make a base, and what EncodeBase encodes.
struct BaseRef {
  std::vector<const Value*> p[2];
  std::vector<const Value*> c[2];
};
std::string EncodeBase(const BaseRef& b);
std::string EncodeBase(const Base& b);
Base CopyBase(const BaseRef& b);
bool DecodeBase(std::string_view bytes, Base* b);
// A column's `default` constant as a value of its type.
Expected<Value> DefaultValue(const bundle::Column& column);
int AddPath(Side& side, const std::vector<std::string>& path, const bundle::ColumnType& type);

// A write the engine could not do because a referenced row is missing.
struct Missing {
  std::string reason;
};

class SyncEngine::Impl {
 public:
  // DUET_TRACE=FILE appends one line per reconcile decision to FILE: a
  // debugging aid for engineers, not an interface.
  FILE* trace = nullptr;
  template <typename... Args>
  void Trace(fmt::format_string<Args...> format, Args&&... args) {
    if (!trace) return;
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    std::fprintf(trace, "%d %s\n", static_cast<int>(::getpid()), line.c_str());
    std::fflush(trace);
  }
  ~Impl() {
    if (trace) std::fclose(trace);
  }

  Config config;
  const Clock* clock = &SystemClock::Get();  // SyncEngine::Create
  const bundle::Transforms* bundle = nullptr;
  std::map<std::string, std::unique_ptr<Endpoint>> endpoints;
  std::unique_ptr<state::StateStore> state;
  std::vector<std::unique_ptr<MapPlan>> plans;  // in initial sync order
  // Maps an operator paused, as of the last RefreshPaused (once a cycle and
  // once an initial-sync batch); LogFn tells when that changes.
  std::map<std::string, state::Pause> paused;
  std::function<void(const std::string&)> log;
  Status RefreshPaused();
  // Latency, lock hold times and races, and the /metrics text
  // (operations.h); the loop records into it and says when to flush and
  // publish.
  Operations ops;
  std::chrono::steady_clock::time_point last_latency_flush{};
  Status FlushLatency();
  // SyncEngine::SetObservers.
  std::function<void()> heartbeat;
  std::function<void(std::string)> metrics;
  std::chrono::steady_clock::time_point last_metrics{};
  // When a live run last recorded its maps' backlogs (RecordBacklogs).
  std::chrono::steady_clock::time_point last_backlog_record{};
  // When the loop last checked the state store (CheckFile).
  std::chrono::steady_clock::time_point last_store_check{};
  RunCounts total_counts;  // over the process's runs, for the counters
  // Gathers the gauges of every map and hands /metrics its text.
  Status PublishMetrics();
  // What /metrics and `duet status` show of a map now.
  Expected<MapGauges> Gauges(MapPlan& plan);
  // Alert rules (config.alerts): a rule fires once when its condition
  // starts to hold (for `for` rules, after it has held that long) and again
  // only after it stopped holding.
  struct AlertState {
    std::optional<double> since;  // Unix seconds the condition began to hold
    bool fired = false;
  };
  std::map<std::pair<size_t, std::string>, AlertState> alert_state;  // (rule, map)
  std::chrono::steady_clock::time_point last_alerts{};
  Expected<double> AlertValue(const AlertRule& rule, MapPlan& plan);
  Status EvaluateAlerts();
  // A failure of one map's work that is the map's alone: a table of the map
  // no longer matches the bundle (a column dropped or renamed while duet
  // runs). Then the map is paused with that reason and Ok comes back, so
  // the other maps go on; otherwise `failure` comes back.
  Status StopMapIfSchemaChanged(MapPlan& plan, Status failure);
  // Lock races (Endpoint::WriteLock): a batch whose first write to a
  // database found its write lock held was given up; that database is
  // locked first, waiting for it while holding nothing, by the batches
  // that follow, until the loop is idle again.
  Endpoint* lock_first = nullptr;
  // Records in `ops` how long the map's batch held each side's write lock
  // (max_transaction_ms bounds it).
  void NoteLockHeld(const MapPlan& plan);
  // Whether the map's last batch failed because it lost a lock race; then
  // the batch's database is locked first from now on, and what the engine
  // keeps between batches is read again (Recover).
  bool LockRace(MapPlan& plan);
  // A failure of one map's work: a lost lock race is tried again (Ok back);
  // anything else goes to StopMapIfSchemaChanged.
  Status MapFailed(MapPlan& plan, Status failure);
  // After a failed run: no transaction left open anywhere, and nothing kept
  // in memory that the failed batch may have changed.
  void Recover();
  bool IsPaused(const MapPlan& plan) const { return paused.count(plan.name) != 0; }
  jit::Context ctx;
  RunCounts counts;

  Status Plan();
  Status PlanSide(MapPlan& plan, int s);

  // ---- one batch: the write transactions on both sides and the state
  // changes that follow them ----
  struct Batch {
    MapPlan* plan = nullptr;
    bool open = false;
    // Each side's write transaction; write[1] is empty when both sides are
    // one endpoint (both write through write[0]).
    std::unique_ptr<endpoint::WriteTransaction> write[2];
    endpoint::WriteTransaction& Writer(int s) { return write[s] ? *write[s] : *write[0]; }
    std::vector<std::function<Status(state::StateStore&)>> state_ops;
    // Links made or dropped in this batch, before the state store has them.
    std::unordered_map<std::string, std::optional<state::Link>> by_left;
    std::unordered_map<std::string, std::optional<std::string>> by_right;  // -> left id
    std::unordered_set<std::string> done;      // pairs reconciled, "L:id" / "R:id"
    std::unordered_set<std::string> replaced;  // rows handled as replaced, "L:id" / "R:id"
    bool has_errors = false;
    bool has_waiting = false;
    bool state_open = false;  // the state store's transaction of this batch
    // An operator's `duet errors resolve --take`: this side wins every field
    // that differs and an update against a delete; -1 otherwise.
    int take = -1;
    int64_t writes = 0;
    // Changes of rows this map's filter leaves out and that have no partner:
    // not synced, so not counted in latency.
    int64_t filtered_out = 0;
    // Each side's stream end just before the batch commits: the position of
    // the links the batch makes (state::Link), known only then.
    std::shared_ptr<std::array<endpoint::Position, 2>> commit_end =
        std::make_shared<std::array<endpoint::Position, 2>>();
    // Links of pairs made new, neither row linked before (AddNewLink): one
    // state op writes each run of them that no other state op interrupts.
    std::shared_ptr<std::vector<state::Link>> new_links;
    size_t new_links_op = 0;  // state_ops.size() once new_links' op was added
    // Side s's unconfirmed rows were settled in this batch: its commit_end
    // may move on when the batch commits.
    bool swept[2] = {false, false};
    bool sweeping = false;  // SweepUnconfirmed is reconciling an unconfirmed row
    // The initial sync's page of the seeding side sets defer_inserts: then
    // InsertPartner's plain inserts wait in `pending` (their keys, as text,
    // in pending_keys) for FlushInserts, which matches them by key in one
    // query and inserts the unmatched ones with one InsertMany.
    struct PendingInsert {
      int from = 0;
      const Row* row = nullptr;  // the page's, alive until the flush
      Projection proj;
      std::vector<Value> key;
      std::vector<Value> values;
    };
    bool defer_inserts = false;
    std::vector<PendingInsert> pending;
    std::unordered_set<std::string> pending_keys;
  };
  // The position of a link made in the current batch until it commits:
  // newer than any change captured so far, duet's own inserts included.
  static endpoint::Position ThisBatch() { return endpoint::Position::AfterAll(); }

  Status BeginBatch(Batch& batch, MapPlan& plan);
  // Reads the plan's unconfirmed rows (MapPlan::unconfirmed) afresh.
  Status FindUnconfirmed(MapPlan& plan);
  // Whether side s's unconfirmed rows can be settled once the other side's
  // checkpoint is `other_checkpoint`.
  static bool UnconfirmedReady(const MapPlan& plan, int s,
                               const endpoint::Position& other_checkpoint);
  Status SweepUnconfirmed(Batch& batch, int s);
  // Forgets what the plan keeps between batches, to be read again from the
  // state store and the changelogs (after a batch that may have committed
  // on a database but not in the state store).
  static void ResetPlanMemory(MapPlan& plan);
  Status CommitBatch(Batch& batch, const std::function<Status(state::StateStore&)>& extra);
  void AbortBatch(Batch& batch);

  Expected<std::optional<state::Link>> FindLink(Batch& batch, int s, const RowId& id);
  // Links the pair, dropping any other link either row had.
  Status PutLink(Batch& batch, const state::Link& link);
  void DropLink(Batch& batch, const state::Link& link);
  // PutLink for a pair neither of whose rows has a link, in this batch or
  // the state store: nothing to drop.
  void AddNewLink(Batch& batch, state::Link link);

  // Reconciles the pair that row `id` of side `s` belongs to. `seed` >= 0
  // during initial sync: that side wins every field that differs.
  // `gone`: bit i set when the linked row of side i was deleted and its
  // RowId reused by a new row; the pair is reconciled as if that row were
  // gone.
  // `known`: row `id` as the caller just read it in this batch.
  Status Reconcile(Batch& batch, int s, const RowId& id, int seed, int gone = 0,
                   const Row* known = nullptr);

  // ---- the parts of one Reconcile ----
  // What Reconcile knows of the pair it works on, as it learns it.
  struct Pair {
    int s = 0;      // the side whose row Reconcile was asked for
    int seed = -1;  // see Reconcile; a new pair's first row once it is made
    std::optional<state::Link> link;
    RowId ids[2];
    std::optional<Row> rows[2];  // each side's row (as written, after a write)
    Projection proj[2];
    Base base;  // the link's, when has_base
    bool has_base = false;
    // Lookups marked `deferred` that could not be resolved yet: (side whose
    // transform produced the value, output slot). Their base is unknown so
    // a later retry writes them, and the pair waits for that retry.
    std::vector<std::pair<int, int>> deferred_slots;
    // The row the last InsertRowFor made, when its values alone give every
    // column its side reads (no lookups, no column left to the database).
    std::optional<Row> last_insert;
    // The pair came into being by that insert: the merge writes back the
    // mappings that flow only from the new row (MapPlan::one_way_from), but
    // not constants, which are defaults for rows their side creates.
    bool just_inserted = false;
  };
  // Bit i set when side i's linked row was replaced by a new row under its
  // RowId since the link was made.
  int ReusedIds(Batch& batch, const Pair& p);
  // Settles the gone rows of `reused` first, then reconciles the new ones.
  Status ReconcileReused(Batch& batch, const Pair& p, int reused);
  // Reads and projects the pair's rows (`known`: see Reconcile); false when
  // a row's stored values cannot be read (an item is recorded).
  Expected<bool> ReadPair(Batch& batch, Pair& p, int gone_mask, const Row* known);
  // The link's base, when it fits the plan's transforms.
  static Status LoadBase(const MapPlan& plan, Pair& p);
  static PairSnapshot Snapshot(const Batch& batch, const Pair& p, const PairRules& rules,
                               bool matched);
  // Carries out a decision other than a merge: true when both rows exist
  // now and the pair is to be merged.
  Expected<bool> ApplyStep(Batch& batch, Pair& p, const Decision& decision);
  // Inserts the partner of side `from`'s row on the other side; nullopt
  // when it cannot be made yet or at all (an item or a wait is recorded).
  Expected<std::optional<RowId>> InsertRowFor(Batch& batch, Pair& p, int from);
  // Links the pair's rows with the base they give, keeping the old base of
  // `kept_fields` (open conflicts).
  Status LinkPair(Batch& batch, const Pair& p, const std::vector<const FieldPlan*>& kept_fields);
  // The row of side `to` whose alternate key matches side (1 - to)'s
  // projected `values` (`current` as for Columns): nullopt when none does,
  // and while a lookup in the key waits for its row (the insert path that
  // follows records the wait).
  Expected<std::optional<RowId>> FindPartnerByKey(MapPlan& plan, int to,
                                                  const std::vector<Value>& values,
                                                  const Row* current);
  // Step::kRestore: side `gone`'s row comes back.
  Expected<bool> RestorePartner(Batch& batch, Pair& p, int gone);
  // Step::kFindPartner: an unlinked row's partner by alternate key, or a
  // new one.
  Expected<bool> FindPartner(Batch& batch, Pair& p);
  Expected<bool> InsertPartnerOf(Batch& batch, Pair& p);
  // Initial sync: the side whose values win in a pair matched by key.
  Expected<int> SeedOfMatchedPair(MapPlan& plan, const Pair& p);
  // Writes the decision's fields into both rows, then links the pair.
  Status MergePair(Batch& batch, Pair& p, const Decision& decision);
  void RecordConflict(Batch& batch, const Pair& p, const std::vector<const FieldPlan*>& conflicts);

  Projection Project(Side& side, const Row& row);
  Projection Project(Side& side, const RowRef& row);
  // The row `id` of `side` as the values just written to it give it, if
  // they cover every column the side's reader reads; nullopt otherwise (the
  // database filled some: read it back).
  // Applies an update's values to the row as read before it; false when
  // the row must be read again instead.
  static bool PatchImage(const Side& side, const std::vector<std::string>& columns,
                         const std::vector<Value>& values, Row* row);
  static std::optional<Row> ImageOfWrite(const Side& side, const RowId& id,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& values);
  // `other`: the other side's row of the pair, when there is one (its id
  // alone when `other_row` is null); `detail`: JSON for the item.
  void RecordError(Batch& batch, int s, const RowId& id, const std::string& kind,
                   const std::string& reason, const Row* row, const RowId& other_id = {},
                   const Row* other_row = nullptr, std::string detail = {});
  std::string RowJson(const Side& side, const Row& row) const;
  // The pair synced: its waiting changes are done and, unless `keep_errors`
  // (a conflict still open), its open error items resolved.
  void Resolved(Batch& batch, const std::string& left, const std::string& right,
                bool keep_errors = false);
  void Wait(Batch& batch, int s, const RowId& id, const std::string& reason);
  // Row `id` of side `s` has nothing left to sync and no partner (deleted
  // before it was linked, or left out by the map's filter): its waiting
  // change ends and its open items close, saying `why`.
  void NothingToSync(Batch& batch, int s, const RowId& id, const std::string& why);

  // Values to write on side `to` for `slots` of side (1 - to)'s transform,
  // with lookups resolved to stored references. `current` is side `to`'s
  // current row, when it exists, for the references composite keys need.
  Expected<std::variant<std::pair<std::vector<std::string>, std::vector<Value>>, Missing>> Columns(
      MapPlan& plan, int to, const std::vector<int>& slots, const std::vector<Value>& values,
      const Row* current, std::vector<int>* deferred_missing);
  // The reference written from the lookups `group` (output slots of side
  // (1 - to)'s transform through one ref column) with their `values`, or
  // Missing while the referenced row does not exist.
  Expected<std::variant<Value, Missing>> ResolveLookup(MapPlan& plan, int to,
                                                       const std::vector<int>& group,
                                                       const std::vector<Value>& values,
                                                       const std::map<std::string, Value>& refs);
  static std::vector<std::vector<int>> LookupGroups(const bundle::Transform& t,
                                                    const std::vector<int>& slots);

  Expected<Base> ComputeBase(MapPlan& plan, const std::optional<Row> rows[2]);
  // The base of a pair whose rows (null when missing) projected to `proj`;
  // it points into both.
  static BaseRef BaseOf(const MapPlan& plan, const RowRef* const rows[2], const Projection proj[2]);
  Expected<std::optional<Row>> ReadRow(Side& side, const RowId& id);

  // Whether row `id` of side `s`, which differs from the pair's base, was
  // changed by an application: always, unless duet wrote it in a batch
  // whose state never committed; then only if an application changed it
  // since the map's checkpoint there.
  Expected<bool> AppChanged(MapPlan& plan, int s, const RowId& id);
  // Whether an application changed row `id` of side `s` since the map's
  // checkpoint there (duet's own writes do not count).
  Expected<bool> EditedSinceCheckpoint(MapPlan& plan, int s, const RowId& id);
  // Decide for the pair `ids` of `pair`, reading each fact it asks for
  // (Decision::need) into pair->facts.
  Expected<Decision> DecidePair(MapPlan& plan, const RowId ids[2], PairSnapshot* pair);
  // The map's rules as Decide reads them.
  static PairRules RulesOf(const MapPlan& plan);
  // Records the error item of a decision (Step::kError).
  void RecordDecided(Batch& batch, const ErrorItem& item, const RowId ids[2],
                     const std::optional<Row> rows[2]);

  Expected<int64_t> ProcessChanges(MapPlan& plan, size_t limit);
  // Side `s`'s changes of the map after *checkpoint, at least one page
  // unless there are none but echoes; *checkpoint moves to what was read.
  Status ReadSideChanges(const MapPlan& plan, int s, size_t limit, endpoint::Position* checkpoint,
                         std::vector<endpoint::Change>* changes);
  void RecordLatencies(const MapPlan& plan, const std::vector<endpoint::Change> changes[2],
                       const std::vector<bool> synced[2]);
  // Reads the links of every row of the changes into the batch's overlay,
  // a few queries instead of one per change.
  Status PrefetchLinks(Batch& batch, const std::vector<endpoint::Change> changes[2]);
  Status PrefetchLinks(Batch& batch, int s, std::vector<std::string> ids);
  // Forgets pending inserts at or before the checkpoints.
  void PrunePending(MapPlan& plan, const endpoint::Position checkpoint[2]);
  Status InitialSync(MapPlan& plan, const ProgressFn& progress, const std::atomic<bool>* stop);
  // The initial sync's common case: row `row` of side `from` has no link
  // and no partner by alternate key, so its partner is inserted and the
  // pair linked, as Reconcile would, from the values at hand. False, having
  // changed nothing, when the row needs Reconcile.
  Expected<bool> InsertPartner(Batch& batch, int from, const Row& row);
  // The inserts InsertPartner deferred (Batch::defer_inserts): the rows a
  // key now matches are reconciled, the others inserted and linked.
  Status FlushInserts(Batch& batch);
  // The rest of InsertPartner once `inserted` is the outcome of inserting
  // `values` (columns `names`) for `row`: the error item of a refused row,
  // else the pair linked. `linked`: the new rows' ids the state store has
  // links for, or null to ask it for this one.
  Status Inserted(Batch& batch, int from, const Row& row, Projection (&proj)[2],
                  const std::vector<std::string>& names, const std::vector<Value>& values,
                  Expected<RowId> inserted, const std::unordered_set<std::string>* linked);
  // One page of the map's resync (state::Resync), if one is under way and
  // the map is live; whether it did one.
  Expected<bool> ResyncBatch(MapPlan& plan, const ProgressFn& progress);
  // When this process took each resync up, and how far it was then.
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, int64_t>> resync_started;
  Expected<std::string> Drift(MapPlan& plan, const ProgressFn& progress);
  // Per system the map reads: changes captured and not reconciled yet.
  // A system whose capture another process holds (a running duet,
  // endpoint::IsCaptureHeld) is left out, and named in `held` if given.
  Expected<std::map<std::string, int64_t>> Backlog(MapPlan& plan,
                                                   std::vector<std::string>* held = nullptr);
  // Records every map's backlog in the state store (RecordBacklog), for
  // `duet status` in a process that cannot count it while this one holds
  // the capture.
  Status RecordBacklogs();
  // Per system, the bytes its database keeps for capture beyond what duet
  // acknowledged (Endpoint::CaptureRetainedBytes); systems with none absent.
  Expected<std::map<std::string, int64_t>> RetainedBytes();
  // The row a plain insert of `values` made on `target`, as pointers into
  // `values`; empty when the database fills a column the target reads.
  static RowRef ImageOfInsert(const Side& source, const Side& target,
                              const std::vector<Value>& values);
  Expected<int64_t> RetryWaiting(MapPlan& plan, bool retry_errors);
  // ---- the live loop's pace (Run) ----
  // Times the loop went round since the engine was made
  // (duet_loop_wakeups_total): an idle engine goes round about once a
  // second, not once per poll.
  int64_t loop_cycles = 0;
  // Waiting changes are tried again when something they may depend on
  // changed (changes reconciled, rows written, another writer's commit),
  // and otherwise after `wait_backoff`, which doubles from 1 s to a minute
  // while the retries resolve nothing (so that lookup_timeout_seconds is
  // noticed).
  bool waits_stale = true;
  std::chrono::seconds wait_backoff{1};
  std::chrono::steady_clock::time_point next_wait_retry{};
  // The operators' requests of every map, then the waiting changes when
  // they are due; how many of either were resolved.
  Expected<int64_t> RetryDue(std::chrono::steady_clock::time_point now);
  // Waits until another writer committed to one of the endpoints (true) or
  // `timeout` passed or a signal came (false), on every endpoint's
  // ChangeFd at once.
  bool WaitForChanges(std::chrono::milliseconds timeout);
  // Reconciles the pairs of the map's error items an operator asked to
  // retry or resolve (`duet errors`); the number of items.
  Expected<int64_t> ProcessRequests(MapPlan& plan);
  Status Prune();
  Expected<RunCounts> Run(const std::atomic<bool>* stop, const ProgressFn& progress);
};

}  // namespace duet::engine

#endif  // DUET_RUNTIME_ENGINE_ENGINE_IMPL_H_
