#include "runtime/endpoint/postgres/kept_changes.h"

#include <algorithm>
#include <set>

namespace duet::pg {

using endpoint::ChangeOp;
using endpoint::Endpoint;
using endpoint::Position;
using endpoint::RowId;

KeptChanges::KeptChanges(std::vector<std::string> tables)
    : tables_(std::move(tables)), by_table_(tables_.size()) {
  for (size_t t = 0; t < tables_.size(); ++t) table_index_[tables_[t]] = static_cast<int>(t);
}

int KeptChanges::TableOf(const std::string& name) const {
  auto it = table_index_.find(name);
  return it == table_index_.end() ? -1 : it->second;
}

void KeptChanges::Keep(int table, RowId id, ChangeOp op, const std::string& origin, double at,
                       Position position) {
  auto [o, added] = origin_ids_.emplace(origin, static_cast<int>(origins_.size()));
  if (added) origins_.push_back(origin);
  uint64_t seq = total();
  TableKept& t = by_table_[static_cast<size_t>(table)];
  std::deque<uint64_t>& row = t.rows[id];
  bool after_delete =
      op == ChangeOp::kInsert && !row.empty() && At(row.back()).op == ChangeOp::kDelete;
  newest_ = position;
  kept_.push_back(Kept{std::move(position), table, o->second, op, after_delete, at, std::move(id)});
  t.seqs.push_back(seq);
  row.push_back(seq);
}

void KeptChanges::DropThrough(const Position& through) {
  while (!kept_.empty() && kept_.front().position <= through) {
    const Kept& k = kept_.front();
    TableKept& t = by_table_[static_cast<size_t>(k.table)];
    t.seqs.pop_front();
    auto row = t.rows.find(k.row_id);
    row->second.pop_front();
    if (row->second.empty()) t.rows.erase(row);
    kept_.pop_front();
    ++first_seq_;
  }
}

std::deque<uint64_t>::const_iterator KeptChanges::FirstAfter(const std::deque<uint64_t>& seqs,
                                                             const Position& after) const {
  return std::partition_point(seqs.begin(), seqs.end(),
                              [&](uint64_t seq) { return At(seq).position <= after; });
}

endpoint::Change KeptChanges::ToChange(const Kept& k) const {
  endpoint::Change c;
  c.table = tables_[static_cast<size_t>(k.table)];
  c.row_id = k.row_id;
  c.op = k.op;
  c.origin = origins_[static_cast<size_t>(k.origin)];
  c.at = k.at;
  c.position = k.position;
  return c;
}

template <typename Fn>
void KeptChanges::ForTableAfter(const std::string& table, const Position& after, Fn fn) const {
  int t = TableOf(table);
  if (t < 0) return;
  const std::deque<uint64_t>& seqs = by_table_[static_cast<size_t>(t)].seqs;
  for (auto it = FirstAfter(seqs, after); it != seqs.end(); ++it) fn(At(*it));
}

template <typename Fn>
void KeptChanges::ForRowAfter(const std::string& table, const RowId& id, const Position& after,
                              Fn fn) const {
  int t = TableOf(table);
  if (t < 0) return;
  const TableKept& kept = by_table_[static_cast<size_t>(t)];
  auto row = kept.rows.find(id);
  if (row == kept.rows.end()) return;
  for (auto it = FirstAfter(row->second, after); it != row->second.end(); ++it) fn(At(*it));
}

Endpoint::Stream KeptChanges::Read(const std::vector<std::string>& tables, const Position& after,
                                   size_t limit) const {
  Endpoint::Stream out;
  out.read_to = std::max(after, newest_);
  if (limit == 0) {
    out.read_to = after;
    return out;
  }
  std::set<int> wanted;
  for (const std::string& name : tables) {
    if (int t = TableOf(name); t >= 0) wanted.insert(t);
  }
  if (!tables.empty() && wanted.empty()) return out;
  auto take = [&](const Kept& k) {
    out.changes.push_back(ToChange(k));
    return out.changes.size() < limit;
  };
  if (wanted.size() == 1) {
    const std::deque<uint64_t>& seqs = by_table_[static_cast<size_t>(*wanted.begin())].seqs;
    for (auto it = FirstAfter(seqs, after); it != seqs.end() && take(At(*it)); ++it) {
    }
  } else {
    auto first = std::partition_point(kept_.begin(), kept_.end(),
                                      [&](const Kept& k) { return k.position <= after; });
    for (auto it = first; it != kept_.end(); ++it) {
      if ((wanted.empty() || wanted.count(it->table)) && !take(*it)) break;
    }
  }
  if (out.changes.size() == limit) out.read_to = out.changes.back().position;
  return out;
}

Endpoint::Inserts KeptChanges::Inserts(const std::string& table, const Position& after,
                                       std::string_view origin,
                                       const std::optional<Position>& own_after) const {
  Endpoint::Inserts out;
  out.scanned_to = std::max(after, newest_);
  ForTableAfter(table, after, [&](const Kept& k) {
    if (k.op != ChangeOp::kInsert || !k.after_delete) return;
    if (IsOrigin(k, origin) && !(own_after && k.position > *own_after)) return;
    out.rows.emplace_back(k.row_id, k.position);
  });
  return out;
}

std::vector<std::pair<RowId, Position>> KeptChanges::OwnInserts(const std::string& table,
                                                                std::string_view origin,
                                                                const Position& after) const {
  std::vector<std::pair<RowId, Position>> out;
  ForTableAfter(table, after, [&](const Kept& k) {
    if (k.op == ChangeOp::kInsert && IsOrigin(k, origin)) out.emplace_back(k.row_id, k.position);
  });
  return out;
}

int64_t KeptChanges::Count(const std::string& table, const Position& after,
                           std::string_view origin) const {
  int64_t n = 0;
  ForTableAfter(table, after, [&](const Kept& k) { n += !IsOrigin(k, origin); });
  return n;
}

std::optional<double> KeptChanges::LatestTime(const std::string& table, const RowId& id,
                                              const Position& after) const {
  std::optional<double> latest;
  ForRowAfter(table, id, after, [&](const Kept& k) {
    if (k.origin == 0) latest = std::max(latest.value_or(k.at), k.at);
  });
  return latest;
}

bool KeptChanges::OwnChangeAfter(const std::string& table, const RowId& id, std::string_view origin,
                                 const Position& after) const {
  bool found = false;
  ForRowAfter(table, id, after, [&](const Kept& k) { found = found || IsOrigin(k, origin); });
  return found;
}

namespace {

std::vector<std::string> TableNames(const std::vector<CapturedTable>& tables) {
  std::vector<std::string> names;
  for (const CapturedTable& t : tables) names.push_back(t.name);
  return names;
}

}  // namespace

KeptChangesCapture::KeptChangesCapture(std::string conninfo, std::string system,
                                       const std::vector<CapturedTable>& tables)
    : conninfo_(std::move(conninfo)), system_(std::move(system)), kept_(TableNames(tables)) {}

Expected<Connection*> KeptChangesCapture::Sql() {
  if (sql_ && sql_->ok()) return sql_.get();
  sql_.reset();
  ConnectOptions options;
  options.label = system_;
  Expected<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_, options);
  if (!conn.ok()) return conn.status();
  sql_ = std::move(*conn);
  return sql_.get();
}

Expected<const CaptureNames*> KeptChangesCapture::Names() {
  Expected<Connection*> sql = Sql();
  if (!sql.ok()) return sql.status();
  if (names_) return &*names_;
  Expected<Result> r = (*sql)->Exec("SELECT current_database(), current_schema()", {},
                                    "read the database and schema");
  if (!r.ok()) return r.status();
  if (r->rows() != 1 || r->IsNull(0, 1)) {
    return FailedPreconditionError(Context() +
                                   ": the connection has no current schema (search_path names "
                                   "no schema that exists)");
  }
  names_ = NamesFor(r->Text(0, 0), r->Text(0, 1), system_);
  return &*names_;
}

Expected<std::string> KeptChangesCapture::ReadBoundState(const std::string& table_ref) {
  Expected<Result> r = sql_->Exec("SELECT name FROM " + table_ref + " WHERE kind = 'state'", {},
                                  "read the bound state");
  if (!r.ok()) return r.status();
  return r->rows() > 0 ? std::string(r->Text(0, 0)) : std::string();
}

Status KeptChangesCapture::WriteBoundState(const std::string& table_ref,
                                           const std::string& state_id) {
  Status s = sql_->Run("BEGIN");
  if (s.ok()) s = sql_->Run("DELETE FROM " + table_ref + " WHERE kind = 'state'");
  if (s.ok()) {
    s = sql_->Exec("INSERT INTO " + table_ref + " VALUES ('state', $1)", {state_id},
                   "bind the state store")
            .status();
  }
  if (s.ok()) s = sql_->Run("COMMIT");
  if (!s.ok()) (void)sql_->Run("ROLLBACK");
  return s;
}

Expected<Endpoint::Stream> KeptChangesCapture::ReadStream(const std::vector<std::string>& tables,
                                                          const Position& after, size_t limit) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (Status s = CatchUp(); !s.ok()) return s;
  // Past the end is known for sure once caught up.
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  return kept_.Read(tables, after, limit);
}

Expected<Position> KeptChangesCapture::StreamEnd() {
  if (Status s = CatchUp(); !s.ok()) return s;
  return kept_.newest();
}

Expected<Endpoint::Inserts> KeptChangesCapture::ReadInserts(
    const std::string& table, const Position& after, std::string_view origin,
    const std::optional<Position>& own_after) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (own_after) {
    if (Status s = ValidatePosition(*own_after); !s.ok()) return s;
  }
  if (Status s = EnsureSynced(); !s.ok()) return s;
  return kept_.Inserts(table, after, origin, own_after);
}

Expected<std::vector<std::pair<RowId, Position>>> KeptChangesCapture::ReadOwnInserts(
    const std::string& table, std::string_view origin, const Position& after) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (Status s = CatchUp(); !s.ok()) return s;
  return kept_.OwnInserts(table, origin, after);
}

Expected<int64_t> KeptChangesCapture::CountChanges(const std::string& table, const Position& after,
                                                   std::string_view origin) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (Status s = CatchUp(); !s.ok()) return s;
  return kept_.Count(table, after, origin);
}

Expected<std::optional<double>> KeptChangesCapture::LatestChangeTime(const std::string& table,
                                                                     const RowId& id,
                                                                     const Position& after) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (Status s = EnsureSynced(); !s.ok()) return s;
  return kept_.LatestTime(table, id, after);
}

Expected<bool> KeptChangesCapture::OwnChangeAfter(const std::string& table, const RowId& id,
                                                  std::string_view origin, const Position& after) {
  if (Status s = ValidatePosition(after); !s.ok()) return s;
  if (Status s = EnsureSynced(); !s.ok()) return s;
  return kept_.OwnChangeAfter(table, id, origin, after);
}

}  // namespace duet::pg
