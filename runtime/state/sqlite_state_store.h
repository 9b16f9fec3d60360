// The state store in a SQLite database (docs/sync.md, "The state store").
//
// Schema versions (duet_meta 'schema_version'): 1 is the layout of duet
// before the version table (links keyed by map name, bases without a
// version byte); 2 keys links by a map id in a WITHOUT ROWID table and
// marks version-1 bases with a leading 0 byte. Opening an older store
// migrates it in one transaction; a newer one is refused.
#ifndef DUET_RUNTIME_STATE_SQLITE_STATE_STORE_H_
#define DUET_RUNTIME_STATE_SQLITE_STATE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/state/state_store.h"

namespace duet::sqlite {
class Db;
}

namespace duet::state {

// The schema version this duet writes and the oldest it migrates.
inline constexpr int kSqliteSchemaVersion = 3;
inline constexpr int kSqliteOldestSchemaVersion = 1;

class SqliteStateStore final : public StateStore {
 public:
  static Expected<std::unique_ptr<StateStore>> Open(const std::string& path, OpenMode mode);
  ~SqliteStateStore() override;

  const std::string& id() const override { return id_; }
  Status CheckFile() const override;
  int SchemaVersion() const override { return kSqliteSchemaVersion; }
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
  explicit SqliteStateStore(std::unique_ptr<sqlite::Db> db);
  // The map's id in duet_map_ids; 0 when it has none and `create` is false.
  Expected<int64_t> MapId(const std::string& map, bool create);
  Expected<std::vector<Link>> LinksOf(const std::string& map, const char* column,
                                      const std::vector<std::string>& ids);
  Expected<std::optional<Link>> ReadLink(const char* column, const std::string& map,
                                         const std::string& id);
  // A position column of duet_checkpoints (position, commit_end).
  Expected<endpoint::Position> ReadPosition(const char* column, const std::string& map,
                                            const std::string& system);
  Status WritePosition(const char* column, const std::string& map, const std::string& system,
                       const endpoint::Position& position);

  std::unique_ptr<sqlite::Db> db_;
  std::string path_;
  std::string id_;
  uint64_t device_ = 0;  // the opened file's identity (stat)
  uint64_t inode_ = 0;
  int64_t epoch_ = 0;  // the lease this handle holds; 0: none, not fenced
  // Map ids known to be committed (a unit that rolls back forgets its own).
  std::map<std::string, int64_t> map_ids_;
  std::map<std::string, int64_t> new_map_ids_;  // made in the open unit
};

}  // namespace duet::state

#endif  // DUET_RUNTIME_STATE_SQLITE_STATE_STORE_H_
