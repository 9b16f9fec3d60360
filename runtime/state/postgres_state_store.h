// The state store in a PostgreSQL database (docs/postgresql.md, "State
// store on PostgreSQL"), with the contract of SqliteStateStore
// (state_store.h; the conformance suite holds both to it).
//
// Where the tables go: the first schema of the connection's search_path
// (current_schema(); `?options=-csearch_path%3Dduet_state` in a URL names
// one). A search_path whose first schema does not exist is refused rather
// than letting the tables land in the next one.
//
// Schema versions (duet_meta 'schema_version'): 1 is the first layout on
// PostgreSQL; there is no earlier one to migrate from yet, and a newer one
// is refused.
//
// Connections. One libpq connection per handle. A lost connection (a
// terminated backend, a restarting server) fails the operation and the unit
// of work under way with Unavailable (nothing of the unit is applied: the
// server rolls it back); the next operation outside a unit, or the next
// Begin, connects again. Serialization failures, deadlocks and a lock
// waited for longer than 30 s (or the URL's lock_timeout) are Unavailable
// too (pg_conn.h): the engine does the batch again.
//
// Links written in a unit are buffered and sent in sets (one DELETE and one
// INSERT per few thousand links) before anything else touches the store,
// and at Commit: an initial sync writes a link per row.
#ifndef DUET_RUNTIME_STATE_POSTGRES_STATE_STORE_H_
#define DUET_RUNTIME_STATE_POSTGRES_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/pg/pg_conn.h"
#include "runtime/state/state_store.h"

namespace duet::state {

// The schema version this duet writes on PostgreSQL.
inline constexpr int kPostgresSchemaVersion = 1;

class PostgresStateStore final : public StateStore {
 public:
  // `conninfo` is a libpq connection string (postgresql://... or
  // key=value); it never appears in a message.
  static Expected<std::unique_ptr<StateStore>> Open(const std::string& conninfo, OpenMode mode);
  ~PostgresStateStore() override;

  const std::string& id() const override { return id_; }
  // DataLoss once the tables are gone or duet_meta holds another id;
  // Unavailable while the server cannot be reached.
  Status CheckFile() const override;
  int SchemaVersion() const override { return kPostgresSchemaVersion; }
  Expected<int64_t> AcquireLease(const std::string& owner) override;

  Status Begin() override;
  Status BeginRead() override;
  Status Commit() override;
  void Rollback() override;

  Expected<MapState> GetMap(const std::string& name) override;
  Status PutMap(const MapState& map) override;
  Expected<endpoint::Position> GetCheckpoint(const std::string& map,
                                             const std::string& system) override;
  Status SetCheckpoint(const std::string& map, const std::string& system,
                       const endpoint::Position& position) override;
  Expected<endpoint::Position> GetCommitEnd(const std::string& map,
                                            const std::string& system) override;
  Status SetCommitEnd(const std::string& map, const std::string& system,
                      const endpoint::Position& end) override;

  Expected<std::optional<Link>> LinkByLeft(const std::string& map,
                                           const std::string& left_id) override;
  Expected<std::optional<Link>> LinkByRight(const std::string& map,
                                            const std::string& right_id) override;
  Expected<std::vector<Link>> LinksByLeft(const std::string& map,
                                          const std::vector<std::string>& left_ids) override;
  Expected<std::vector<std::string>> LinkedAmong(const std::string& map, int side,
                                                 const std::vector<std::string>& ids) override;
  Expected<std::vector<Link>> LinksByRight(const std::string& map,
                                           const std::vector<std::string>& right_ids) override;
  Status PutLink(const std::string& map, const Link& link) override;
  Status DeleteLink(const std::string& map, const std::string& left_id) override;
  Status UpdateBase(const std::string& map, const std::string& left_id,
                    const std::string& base) override;
  Expected<int64_t> CountLinks(const std::string& map) override;

  Status AddWaiting(const std::string& map, const Waiting& waiting) override;
  Status RemoveWaiting(const std::string& map, const std::string& system,
                       const std::string& row_id) override;
  Expected<std::vector<Waiting>> ListWaiting(const std::string& map) override;

  Status RecordError(const ErrorItem& item) override;
  Status ResolveErrors(const std::string& map, const std::string& system, const std::string& row_id,
                       double at, const std::string& why = "") override;
  Status PauseMap(const Pause& pause) override;
  Status ResumeMap(const std::string& map) override;
  Expected<std::map<std::string, Pause>> Paused() override;

  Status AddLatency(const std::string& map, const std::string& direction, int64_t minute,
                    const LatencyHistogram& h) override;
  Expected<std::map<std::string, LatencyHistogram>> LatencySince(const std::string& map,
                                                                 int64_t since_minute) override;
  Status PruneLatency(int64_t before_minute) override;
  Status RecordBacklog(const std::string& map, const RecordedBacklog& backlog) override;
  Expected<std::optional<RecordedBacklog>> GetRecordedBacklog(const std::string& map) override;

  Status PutResync(const Resync& resync) override;
  Expected<std::optional<Resync>> GetResync(const std::string& map) override;
  Status EndResync(const std::string& map) override;

  Expected<std::vector<ErrorItem>> OpenErrors(const std::string& map) override;
  Expected<int64_t> CountOpenErrors(const std::string& map) override;
  Expected<int64_t> CountErrorsSince(const std::string& map, double since) override;
  Expected<std::vector<ErrorItem>> ListErrors(const ErrorFilter& filter) override;
  Expected<std::optional<ErrorItem>> GetError(int64_t id) override;
  Status RequestRetry(int64_t id, const ItemRequest& request) override;
  Expected<std::vector<ErrorItem>> RequestedErrors(const std::string& map) override;
  Status ClearRequest(int64_t id) override;
  Status DiscardError(int64_t id, const std::string& by, double at) override;

 private:
  struct PendingLink {
    int64_t map_id;
    Link link;
  };

  explicit PostgresStateStore(std::string conninfo);
  // A usable connection: the open one, or (outside a unit of work) a new
  // one when it was lost. Unavailable inside a unit whose connection is
  // gone: the server rolled the unit back.
  Expected<pg::Connection*> Conn() const;
  // Runs `sql` after sending the buffered links, so that every statement
  // sees them; `what` names it in errors.
  Expected<pg::Result> Exec(const std::string& sql, const std::vector<pg::Param>& params,
                            const char* what);
  // Runs `sql` as it is. The first failure inside a unit is kept and
  // returned for every later statement of the unit, unsent: the server has
  // aborted the transaction and would only answer "current transaction is
  // aborted", which would hide the failure's code (Unavailable, say).
  Expected<pg::Result> Send(const std::string& sql, const std::vector<pg::Param>& params,
                            const char* what);
  Status StartUnit(const char* begin);
  // Commits the unit, checking the lease first when `fenced`.
  Status Finish(bool fenced);
  // Inside the unit: still this handle's epoch (see state_store.h).
  Status CheckLease();
  // Sends the buffered links (one DELETE and one INSERT per map).
  Status FlushLinks();
  Status WriteLinkSet(int64_t map_id, const std::vector<const Link*>& links);
  // The map's id in duet_map_ids; 0 when it has none and `create` is false.
  Expected<int64_t> MapId(const std::string& map, bool create);
  Expected<std::vector<Link>> LinksOf(const std::string& map, const char* column,
                                      const std::vector<std::string>& ids);
  Expected<std::optional<Link>> ReadLink(const char* column, const std::string& map,
                                         const std::string& id);
  Expected<endpoint::Position> ReadPosition(const char* column, const std::string& map,
                                            const std::string& system);
  Status WritePosition(const char* column, const std::string& map, const std::string& system,
                       const endpoint::Position& position);
  // The error items a SELECT of kErrorColumns returned.
  Expected<std::vector<ErrorItem>> ErrorItems(const std::string& sql,
                                              const std::vector<pg::Param>& params);
  // Ends the unit (after COMMIT or ROLLBACK): forgets what it made.
  void EndUnit(bool committed);

  std::string conninfo_;
  std::string place_;  // "schema S of database D", for messages
  // The connection is the handle's session with the server, not part of
  // the store's observable state: CheckFile (const) may make a new one.
  mutable std::unique_ptr<pg::Connection> conn_;
  std::string id_;
  bool in_unit_ = false;
  Status unit_failure_;  // the first failure of the open unit
  int64_t epoch_ = 0;    // the lease this handle holds; 0: none, not fenced
  // Map ids known to be committed (a unit that rolls back forgets its own).
  std::map<std::string, int64_t> map_ids_;
  std::map<std::string, int64_t> new_map_ids_;  // made in the open unit
  std::vector<PendingLink> pending_links_;      // PutLinks not sent yet
};

}  // namespace duet::state

#endif  // DUET_RUNTIME_STATE_POSTGRES_STATE_STORE_H_
