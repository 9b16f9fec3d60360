// The changes a PostgreSQL capture holds until the engine acknowledges them
// (PruneChangelog), indexed per table and per row, and the answers to the
// stream's and the per-table questions of endpoint.h drawn from them. Both
// capture implementations (logical decoding, triggers) fill one in stream
// order and answer every read from it, so the two answer alike.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_KEPT_CHANGES_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_KEPT_CHANGES_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/endpoint/endpoint.h"
#include "runtime/endpoint/position.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/endpoint/postgres/pg_capture.h"
#include "runtime/pg/pg_conn.h"

namespace duet::pg {

class KeptChanges {
 public:
  // `tables` are duet's names of the tables, by index.
  explicit KeptChanges(std::vector<std::string> tables);

  // The index of table `name`; -1 when it is not one of the tables.
  int TableOf(const std::string& name) const;
  // Keeps a change; `position` must be after every change kept before.
  void Keep(int table, endpoint::RowId id, endpoint::ChangeOp op, const std::string& origin,
            double at, endpoint::Position position);
  // Drops the changes at or before `through`.
  void DropThrough(const endpoint::Position& through);
  // The newest change ever kept (the beginning when none was).
  const endpoint::Position& newest() const { return newest_; }
  bool empty() const { return kept_.empty(); }
  // Changes kept and dropped so far: grows whenever a change is kept.
  uint64_t total() const { return first_seq_ + kept_.size(); }

  // Endpoint::ReadStream, ReadInserts, ReadOwnInserts, CountChanges,
  // LatestChangeTime and OwnChangeAfter over the kept changes.
  endpoint::Endpoint::Stream Read(const std::vector<std::string>& tables,
                                  const endpoint::Position& after, size_t limit) const;
  endpoint::Endpoint::Inserts Inserts(const std::string& table, const endpoint::Position& after,
                                      std::string_view origin,
                                      const std::optional<endpoint::Position>& own_after) const;
  std::vector<std::pair<endpoint::RowId, endpoint::Position>> OwnInserts(
      const std::string& table, std::string_view origin, const endpoint::Position& after) const;
  int64_t Count(const std::string& table, const endpoint::Position& after,
                std::string_view origin) const;
  std::optional<double> LatestTime(const std::string& table, const endpoint::RowId& id,
                                   const endpoint::Position& after) const;
  bool OwnChangeAfter(const std::string& table, const endpoint::RowId& id, std::string_view origin,
                      const endpoint::Position& after) const;

 private:
  struct Kept {
    endpoint::Position position;
    int table = 0;
    int origin = 0;  // into origins_; 0 is "" (an application's)
    endpoint::ChangeOp op = endpoint::ChangeOp::kUpdate;
    bool after_delete = false;  // the key's previous kept change is a delete
    double at = 0;
    endpoint::RowId row_id;
  };
  struct TableKept {
    std::deque<uint64_t> seqs;                                       // in stream order
    std::unordered_map<endpoint::RowId, std::deque<uint64_t>> rows;  // per row, in order
  };

  const Kept& At(uint64_t seq) const { return kept_[seq - first_seq_]; }
  std::deque<uint64_t>::const_iterator FirstAfter(const std::deque<uint64_t>& seqs,
                                                  const endpoint::Position& after) const;
  endpoint::Change ToChange(const Kept& k) const;
  bool IsOrigin(const Kept& k, std::string_view origin) const {
    return !origin.empty() && origins_[static_cast<size_t>(k.origin)] == origin;
  }
  // The table's kept changes after `after`, in order (none for an unknown
  // table).
  template <typename Fn>
  void ForTableAfter(const std::string& table, const endpoint::Position& after, Fn fn) const;
  // The row's kept changes after `after` (none when the table is unknown).
  template <typename Fn>
  void ForRowAfter(const std::string& table, const endpoint::RowId& id,
                   const endpoint::Position& after, Fn fn) const;

  std::vector<std::string> tables_;
  std::map<std::string, int> table_index_;
  std::deque<Kept> kept_;
  uint64_t first_seq_ = 0;  // the seq of kept_.front()
  std::vector<TableKept> by_table_;
  endpoint::Position newest_;
  std::vector<std::string> origins_{""};
  std::map<std::string, int> origin_ids_{{"", 0}};
};

// What both capture implementations share: a SQL connection to the
// database and the names made for it, the bound state in capture's record
// table, and every read answered from KeptChanges (each read checks its
// positions, brings the kept changes up to date as the implementation
// does, and answers from them).
class KeptChangesCapture : public PgCapture {
 public:
  // `tables` as the implementation's (duet's names, by index).
  KeptChangesCapture(std::string conninfo, std::string system,
                     const std::vector<CapturedTable>& tables);

  Expected<endpoint::Endpoint::Stream> ReadStream(const std::vector<std::string>& tables,
                                                  const endpoint::Position& after,
                                                  size_t limit) override;
  Expected<endpoint::Position> StreamEnd() override;
  Expected<endpoint::Endpoint::Inserts> ReadInserts(
      const std::string& table, const endpoint::Position& after, std::string_view origin,
      const std::optional<endpoint::Position>& own_after) override;
  Expected<std::vector<std::pair<endpoint::RowId, endpoint::Position>>> ReadOwnInserts(
      const std::string& table, std::string_view origin, const endpoint::Position& after) override;
  Expected<int64_t> CountChanges(const std::string& table, const endpoint::Position& after,
                                 std::string_view origin) override;
  Expected<std::optional<double>> LatestChangeTime(const std::string& table,
                                                   const endpoint::RowId& id,
                                                   const endpoint::Position& after) override;
  Expected<bool> OwnChangeAfter(const std::string& table, const endpoint::RowId& id,
                                std::string_view origin, const endpoint::Position& after) override;

 protected:
  // InvalidArgument for a position this stream did not make.
  virtual Status ValidatePosition(const endpoint::Position& position) = 0;
  // Keeps every change committed before the call.
  virtual Status CatchUp() = 0;
  // Keeps what is cheap to keep now, at least everything committed before
  // the first CatchUp (enough for the per-row questions, which the engine
  // asks of rows it has read changes of).
  virtual Status EnsureSynced() = 0;

  // The SQL connection, connected again when it was lost.
  Expected<Connection*> Sql();
  // The names of capture's objects for the connection's database and
  // current schema (read once).
  Expected<const CaptureNames*> Names();
  std::string Context() const { return "system '" + system_ + "'"; }
  // BoundState and BindState for a record table `table_ref` (kind, name)
  // that exists: the state is its row of kind 'state'.
  Expected<std::string> ReadBoundState(const std::string& table_ref);
  Status WriteBoundState(const std::string& table_ref, const std::string& state_id);

  std::string conninfo_;
  std::string system_;
  std::unique_ptr<Connection> sql_;
  std::optional<CaptureNames> names_;
  KeptChanges kept_;
};

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_KEPT_CHANGES_H_
