#include "runtime/state/state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>
#include <set>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/base/files.h"
#include "runtime/endpoint/sqlite/sqlite_db.h"

namespace duet::state {
namespace {

using sqlite::ScopedStatement;
using sqlite::Statement;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS duet_maps (
  name TEXT PRIMARY KEY, state TEXT NOT NULL, initial_step INTEGER NOT NULL DEFAULT 1,
  initial_cursor TEXT, initial_done INTEGER NOT NULL DEFAULT 0,
  initial_total INTEGER NOT NULL DEFAULT 0, last_sync TEXT);
CREATE TABLE IF NOT EXISTS duet_checkpoints (
  map TEXT NOT NULL, system TEXT NOT NULL, seq INTEGER NOT NULL,
  commit_end INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (map, system));
CREATE TABLE IF NOT EXISTS duet_links (
  map TEXT NOT NULL, left_id TEXT NOT NULL, right_id TEXT NOT NULL, base BLOB NOT NULL,
  left_seq INTEGER NOT NULL, right_seq INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS duet_links_left ON duet_links (map, left_id);
CREATE UNIQUE INDEX IF NOT EXISTS duet_links_right ON duet_links (map, right_id);
CREATE TABLE IF NOT EXISTS duet_waiting (
  map TEXT NOT NULL, system TEXT NOT NULL, row_id TEXT NOT NULL, since REAL NOT NULL,
  reason TEXT NOT NULL, PRIMARY KEY (map, system, row_id));
CREATE TABLE IF NOT EXISTS duet_errors (
  id INTEGER PRIMARY KEY, map TEXT NOT NULL, system TEXT NOT NULL, row_id TEXT NOT NULL,
  kind TEXT NOT NULL, reason TEXT NOT NULL, source_row TEXT, attempts INTEGER NOT NULL,
  first_at TEXT NOT NULL, last_at TEXT NOT NULL, status TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS duet_errors_open ON duet_errors (map, system, row_id)
  WHERE status = 'open';
CREATE TABLE IF NOT EXISTS duet_latency (
  map TEXT NOT NULL, direction TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL,
  counts TEXT NOT NULL, PRIMARY KEY (map, direction, minute));
CREATE TABLE IF NOT EXISTS duet_resync (
  map TEXT PRIMARY KEY, from_system TEXT NOT NULL, step INTEGER NOT NULL, cursor TEXT,
  done INTEGER NOT NULL, total INTEGER NOT NULL, started TEXT NOT NULL, by TEXT NOT NULL,
  filter TEXT);
CREATE TABLE IF NOT EXISTS duet_paused (
  map TEXT PRIMARY KEY, since TEXT NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS duet_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql";

// 128 random bits as hex: the store's id.
std::string NewStoreId() {
  std::random_device random;
  std::string out;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(random()));
    out += part;
  }
  return out;
}

// The store's id, made on first open (also for a store an earlier version
// made, which had none).
Expected<std::string> LoadStoreId(sqlite::Db& db) {
  {
    Expected<Statement*> s =
        db.Prepare("INSERT OR IGNORE INTO duet_meta (key, value) VALUES ('id', ?1)");
    if (!s.ok()) return s.status();
    (*s)->BindText(1, NewStoreId());
    if (Status st = db.Run(**s); !st.ok()) return st;
  }
  Expected<Statement*> s = db.Prepare("SELECT value FROM duet_meta WHERE key = 'id'");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  if (st->Step() != SQLITE_ROW) return db.Error("reading the state store's id");
  return std::string(st->ColumnText(0));
}

const char* PhaseName(MapPhase phase) {
  switch (phase) {
    case MapPhase::kNew:
      return "new";
    case MapPhase::kInitial:
      return "initial";
    case MapPhase::kLive:
      return "live";
  }
  return "new";
}

MapPhase ParsePhase(std::string_view text) {
  if (text == "initial") return MapPhase::kInitial;
  if (text == "live") return MapPhase::kLive;
  return MapPhase::kNew;
}

// Columns added to duet_errors after its first release; a store made
// before gets them on open.
Status AddMissingColumns(sqlite::Db& db) {
  std::set<std::string> have;
  {
    Expected<Statement*> s = db.Prepare("SELECT name FROM pragma_table_info('duet_errors')");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    while (st->Step() == SQLITE_ROW) have.emplace(st->ColumnText(0));
  }
  for (const char* column : {"other_id", "other_row", "detail", "request", "closed_by"}) {
    if (have.count(column)) continue;
    if (Status s = db.Exec(std::string("ALTER TABLE duet_errors ADD COLUMN ") + column + " TEXT");
        !s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

constexpr char kErrorColumns[] =
    "id, map, system, row_id, kind, reason, coalesce(source_row, ''), coalesce(other_id, ''), "
    "coalesce(other_row, ''), coalesce(detail, ''), attempts, first_at, last_at, status, "
    "coalesce(request, ''), coalesce(closed_by, '')";

ErrorItem ReadErrorItem(const Statement& st) {
  ErrorItem e;
  e.id = st.ColumnInt(0);
  e.map = std::string(st.ColumnText(1));
  e.system = std::string(st.ColumnText(2));
  e.row_id = std::string(st.ColumnText(3));
  e.kind = std::string(st.ColumnText(4));
  e.reason = std::string(st.ColumnText(5));
  e.source_row = std::string(st.ColumnText(6));
  e.other_id = std::string(st.ColumnText(7));
  e.other_row = std::string(st.ColumnText(8));
  e.detail = std::string(st.ColumnText(9));
  e.attempts = st.ColumnInt(10);
  e.first_at = std::string(st.ColumnText(11));
  e.last_at = std::string(st.ColumnText(12));
  e.status = std::string(st.ColumnText(13));
  e.request = std::string(st.ColumnText(14));
  e.closed_by = std::string(st.ColumnText(15));
  return e;
}

std::optional<std::string> OptionalText(const Statement& s, int i) {
  if (s.ColumnType(i) == SQLITE_NULL) return std::nullopt;
  return std::string(s.ColumnText(i));
}

}  // namespace

std::string IsoAt(double unix_seconds) {
  std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  int millis = static_cast<int>((unix_seconds - static_cast<double>(seconds)) * 1000);
  std::tm tm;
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, millis);
  return out;
}

std::string NowIso() { return IsoAt(NowSeconds()); }

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

StateStore::StateStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
StateStore::~StateStore() = default;

Expected<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path, OpenMode mode) {
  struct stat st;
  if (mode == OpenMode::kExisting && ::stat(path.c_str(), &st) != 0) {
    return NotFoundError("there is no state store at '" + path +
                         "': `duet install -c CONFIG` creates it (if duet ran with one before, "
                         "restore it from a backup instead)");
  }
  // The store keeps copies of rows (error items, bases): a new one is
  // private, and SQLite gives its -wal and -shm files the mode of the
  // database file.
  Expected<int> fd = OpenPrivateFile(path, O_RDWR, "state store");
  if (!fd.ok()) return fd.status();
  ::close(*fd);
  Expected<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(path, /*create=*/true, "state store (sqlite:" + path + ")");
  if (!db.ok()) return db.status();
  if (::stat(path.c_str(), &st) != 0) {
    return IoError("cannot stat the state store '" + path + "': " + std::strerror(errno));
  }
  // The state store may fall behind the databases after a power loss (the
  // engine repairs that), never ahead, so NORMAL durability is enough.
  // Links are read and written for every reconciled pair: a larger page
  // cache than SQLite's 2 MiB default, still well inside the runtime's
  // memory budget (docs/performance.md).
  if (Status s = (*db)->Exec(
          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384");
      !s.ok()) {
    return s;
  }
  if (Status s = (*db)->Exec(kSchema); !s.ok()) return s;
  if (Status s = AddMissingColumns(**db); !s.ok()) return s;
  Expected<std::string> id = LoadStoreId(**db);
  if (!id.ok()) return id.status();
  std::unique_ptr<StateStore> store(new StateStore(std::move(*db)));
  store->path_ = path;
  store->id_ = std::move(*id);
  store->device_ = static_cast<uint64_t>(st.st_dev);
  store->inode_ = static_cast<uint64_t>(st.st_ino);
  return store;
}

Status StateStore::CheckFile() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    return DataLossError("the state store '" + path_ +
                         "' was deleted while duet ran; duet stops (restore it from a backup, "
                         "then start duet again)");
  }
  if (static_cast<uint64_t>(st.st_dev) != device_ || static_cast<uint64_t>(st.st_ino) != inode_) {
    return DataLossError("the state store '" + path_ +
                         "' was replaced by another file while duet ran; duet stops");
  }
  return Status::Ok();
}

Status StateStore::Begin() { return db_->Exec("BEGIN IMMEDIATE"); }
Status StateStore::BeginRead() { return db_->Exec("BEGIN"); }
Status StateStore::Commit() { return db_->Exec("COMMIT"); }
void StateStore::Rollback() { (void)db_->Exec("ROLLBACK"); }

Expected<MapState> StateStore::GetMap(const std::string& name) {
  Expected<Statement*> s = db_->Prepare(
      "SELECT state, initial_step, initial_cursor, initial_done, initial_total, last_sync "
      "FROM duet_maps WHERE name = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, name);
  MapState map;
  map.name = name;
  int rc = st->Step();
  if (rc == SQLITE_ROW) {
    map.phase = ParsePhase(st->ColumnText(0));
    map.initial_step = static_cast<int>(st->ColumnInt(1));
    map.initial_cursor = OptionalText(*st, 2);
    map.initial_done = st->ColumnInt(3);
    map.initial_total = st->ColumnInt(4);
    map.last_sync = OptionalText(*st, 5);
  } else if (rc != SQLITE_DONE) {
    return db_->Error("reading map state");
  }
  return map;
}

Status StateStore::PutMap(const MapState& map) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT OR REPLACE INTO duet_maps (name, state, initial_step, initial_cursor, "
      "initial_done, initial_total, last_sync) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!s.ok()) return s.status();
  Statement& st = **s;
  st.BindText(1, map.name);
  st.BindText(2, PhaseName(map.phase));
  st.BindInt(3, map.initial_step);
  if (map.initial_cursor) st.BindText(4, *map.initial_cursor);
  st.BindInt(5, map.initial_done);
  // The total is an estimate counted at the start; rows added since are
  // read too. It grows with them, so done never shows above total.
  st.BindInt(6, std::max(map.initial_total, map.initial_done));
  if (map.last_sync) st.BindText(7, *map.last_sync);
  return db_->Run(st);
}

Expected<int64_t> StateStore::GetCheckpoint(const std::string& map, const std::string& system) {
  Expected<Statement*> s =
      db_->Prepare("SELECT seq FROM duet_checkpoints WHERE map = ?1 AND system = ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, system);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

Expected<int64_t> StateStore::GetCommitEnd(const std::string& map, const std::string& system) {
  Expected<Statement*> s =
      db_->Prepare("SELECT commit_end FROM duet_checkpoints WHERE map = ?1 AND system = ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, system);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

Status StateStore::SetCommitEnd(const std::string& map, const std::string& system, int64_t end) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT INTO duet_checkpoints (map, system, seq, commit_end) VALUES (?1, ?2, 0, ?3) "
      "ON CONFLICT (map, system) DO UPDATE SET commit_end = excluded.commit_end");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindInt(3, end);
  return db_->Run(**s);
}

Status StateStore::SetCheckpoint(const std::string& map, const std::string& system, int64_t seq) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT INTO duet_checkpoints (map, system, seq) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (map, system) DO UPDATE SET seq = excluded.seq");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindInt(3, seq);
  return db_->Run(**s);
}

namespace {

Expected<std::optional<Link>> ReadLink(sqlite::Db& db, const std::string& sql,
                                       const std::string& map, const std::string& id) {
  Expected<Statement*> s = db.Prepare(sql);
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, id);
  int rc = st->Step();
  if (rc == SQLITE_ROW) {
    Link link;
    link.left_id = std::string(st->ColumnText(0));
    link.right_id = std::string(st->ColumnText(1));
    link.base = std::string(st->ColumnBlob(2));
    link.left_seq = st->ColumnInt(3);
    link.right_seq = st->ColumnInt(4);
    return std::optional<Link>(std::move(link));
  }
  if (rc != SQLITE_DONE) return db.Error("reading a link");
  return std::optional<Link>();
}

}  // namespace

Expected<std::optional<Link>> StateStore::LinkByLeft(const std::string& map,
                                                     const std::string& left_id) {
  return ReadLink(*db_,
                  "SELECT left_id, right_id, base, left_seq, right_seq FROM duet_links "
                  "WHERE map = ?1 AND left_id = ?2",
                  map, left_id);
}

Expected<std::optional<Link>> StateStore::LinkByRight(const std::string& map,
                                                      const std::string& right_id) {
  return ReadLink(*db_,
                  "SELECT left_id, right_id, base, left_seq, right_seq FROM duet_links "
                  "WHERE map = ?1 AND right_id = ?2",
                  map, right_id);
}

namespace {

Expected<std::vector<Link>> LinksOf(sqlite::Db& db, const std::string& map, const char* column,
                                    const std::vector<std::string>& ids) {
  const std::vector<std::string>& left_ids = ids;
  sqlite::Db* db_ = &db;
  constexpr size_t kChunk = 500;
  std::vector<Link> out;
  for (size_t start = 0; start < left_ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, left_ids.size() - start);
    std::string sql = std::string(
                          "SELECT left_id, right_id, base, left_seq, right_seq FROM duet_links "
                          "WHERE map = ?1 AND ") +
                      column + " IN (";
    for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
    sql += ")";
    Expected<Statement*> s = db_->Prepare(sql);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, map);
    for (size_t i = 0; i < n; ++i) st->BindText(static_cast<int>(i + 2), left_ids[start + i]);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      Link link;
      link.left_id = std::string(st->ColumnText(0));
      link.right_id = std::string(st->ColumnText(1));
      link.base = std::string(st->ColumnBlob(2));
      link.left_seq = st->ColumnInt(3);
      link.right_seq = st->ColumnInt(4);
      out.push_back(std::move(link));
    }
    if (rc != SQLITE_DONE) return db_->Error("reading links");
  }
  return out;
}

}  // namespace

Expected<std::vector<Link>> StateStore::LinksByLeft(const std::string& map,
                                                    const std::vector<std::string>& left_ids) {
  return LinksOf(*db_, map, "left_id", left_ids);
}

Expected<std::vector<Link>> StateStore::LinksByRight(const std::string& map,
                                                     const std::vector<std::string>& right_ids) {
  return LinksOf(*db_, map, "right_id", right_ids);
}

Expected<std::vector<std::string>> StateStore::LinkedAmong(const std::string& map, int side,
                                                           const std::vector<std::string>& ids) {
  // Index-only: both id columns have a unique index on (map, id).
  const char* column = side == 0 ? "left_id" : "right_id";
  constexpr size_t kChunk = 500;
  std::vector<std::string> out;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, ids.size() - start);
    std::string sql =
        std::string("SELECT ") + column + " FROM duet_links WHERE map = ?1 AND " + column + " IN (";
    for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
    sql += ")";
    Expected<Statement*> s = db_->Prepare(sql);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, map);
    for (size_t i = 0; i < n; ++i) st->BindText(static_cast<int>(i + 2), ids[start + i]);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) out.emplace_back(st->ColumnText(0));
    if (rc != SQLITE_DONE) return db_->Error("reading links");
  }
  return out;
}

Status StateStore::PutLink(const std::string& map, const Link& link) {
  // REPLACE removes the old link of either row: both ids are unique keys.
  Expected<Statement*> s = db_->Prepare(
      "INSERT OR REPLACE INTO duet_links (map, left_id, right_id, base, left_seq, right_seq) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, link.left_id);
  (*s)->BindText(3, link.right_id);
  (*s)->BindBlob(4, link.base);
  (*s)->BindInt(5, link.left_seq);
  (*s)->BindInt(6, link.right_seq);
  return db_->Run(**s);
}

Status StateStore::UpdateBase(const std::string& map, const std::string& left_id,
                              const std::string& base) {
  Expected<Statement*> s =
      db_->Prepare("UPDATE duet_links SET base = ?3 WHERE map = ?1 AND left_id = ?2");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, left_id);
  (*s)->BindBlob(3, base);
  return db_->Run(**s);
}

Status StateStore::DeleteLink(const std::string& map, const std::string& left_id) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_links WHERE map = ?1 AND left_id = ?2");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, left_id);
  return db_->Run(**s);
}

Expected<int64_t> StateStore::CountLinks(const std::string& map) {
  Expected<Statement*> s = db_->Prepare("SELECT count(*) FROM duet_links WHERE map = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

Status StateStore::AddWaiting(const std::string& map, const Waiting& waiting) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT INTO duet_waiting (map, system, row_id, since, reason) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (map, system, row_id) DO UPDATE SET reason = excluded.reason");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, waiting.system);
  (*s)->BindText(3, waiting.row_id);
  (*s)->BindDouble(4, waiting.since);
  (*s)->BindText(5, waiting.reason);
  return db_->Run(**s);
}

Status StateStore::RemoveWaiting(const std::string& map, const std::string& system,
                                 const std::string& row_id) {
  Expected<Statement*> s =
      db_->Prepare("DELETE FROM duet_waiting WHERE map = ?1 AND system = ?2 AND row_id = ?3");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindText(3, row_id);
  return db_->Run(**s);
}

Expected<std::vector<Waiting>> StateStore::ListWaiting(const std::string& map) {
  Expected<Statement*> s = db_->Prepare(
      "SELECT system, row_id, since, reason FROM duet_waiting WHERE map = ?1 ORDER BY since");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  std::vector<Waiting> out;
  while (st->Step() == SQLITE_ROW) {
    out.push_back(Waiting{std::string(st->ColumnText(0)), std::string(st->ColumnText(1)),
                          st->ColumnDouble(2), std::string(st->ColumnText(3))});
  }
  return out;
}

Status StateStore::RecordError(const ErrorItem& item) {
  std::string now = NowIso();
  Expected<Statement*> update = db_->Prepare(
      "UPDATE duet_errors SET kind = ?4, reason = ?5, source_row = ?6, attempts = attempts + 1, "
      "last_at = ?7, other_id = ?8, other_row = ?9, detail = ?10 "
      "WHERE map = ?1 AND system = ?2 AND row_id = ?3 AND status = 'open'");
  if (!update.ok()) return update.status();
  Statement& u = **update;
  u.BindText(1, item.map);
  u.BindText(2, item.system);
  u.BindText(3, item.row_id);
  u.BindText(4, item.kind);
  u.BindText(5, item.reason);
  u.BindText(6, item.source_row);
  u.BindText(7, now);
  u.BindText(8, item.other_id);
  u.BindText(9, item.other_row);
  u.BindText(10, item.detail);
  if (Status s = db_->Run(u); !s.ok()) return s;
  if (sqlite3_changes(db_->handle()) > 0) return Status::Ok();
  Expected<Statement*> insert = db_->Prepare(
      "INSERT INTO duet_errors (map, system, row_id, kind, reason, source_row, attempts, "
      "first_at, last_at, status, other_id, other_row, detail) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, 'open', ?8, ?9, ?10)");
  if (!insert.ok()) return insert.status();
  Statement& i = **insert;
  i.BindText(1, item.map);
  i.BindText(2, item.system);
  i.BindText(3, item.row_id);
  i.BindText(4, item.kind);
  i.BindText(5, item.reason);
  i.BindText(6, item.source_row);
  i.BindText(7, now);
  i.BindText(8, item.other_id);
  i.BindText(9, item.other_row);
  i.BindText(10, item.detail);
  return db_->Run(i);
}

Status StateStore::ResolveErrors(const std::string& map, const std::string& system,
                                 const std::string& row_id, const std::string& why) {
  Expected<Statement*> s = db_->Prepare(
      "UPDATE duet_errors SET status = 'resolved', last_at = ?4, "
      "closed_by = CASE WHEN ?5 = '' THEN closed_by ELSE 'duet' END, "
      "reason = CASE WHEN ?5 = '' THEN reason ELSE reason || ' (closed: ' || ?5 || ')' END "
      "WHERE map = ?1 AND system = ?2 AND row_id = ?3 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindText(3, row_id);
  (*s)->BindText(4, NowIso());
  (*s)->BindText(5, why);
  return db_->Run(**s);
}

void LatencyHistogram::Add(double seconds) {
  int i = 0;
  double bound = kLatencyBase;
  while (i + 1 < kLatencyBuckets && seconds > bound) {
    bound *= 2;
    ++i;
  }
  ++counts[static_cast<size_t>(i)];
  ++n;
  sum += seconds;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts.size() && i < other.counts.size(); ++i)
    counts[i] += other.counts[i];
  n += other.n;
}

double LatencyHistogram::Quantile(double p) const {
  if (n == 0) return 0;
  int64_t rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(n)));
  int64_t seen = 0;
  double bound = kLatencyBase;
  for (size_t i = 0; i < counts.size(); ++i, bound *= 2) {
    seen += counts[i];
    if (seen >= rank) return bound;
  }
  return bound;
}

namespace {

std::string CountsText(const LatencyHistogram& h) {
  std::string out;
  for (size_t i = 0; i < h.counts.size(); ++i) out += (i ? "," : "") + std::to_string(h.counts[i]);
  return out;
}

LatencyHistogram ParseCounts(std::string_view text, int64_t n) {
  LatencyHistogram h;
  size_t i = 0;
  while (!text.empty() && i < h.counts.size()) {
    size_t comma = text.find(',');
    std::string part(text.substr(0, comma));
    h.counts[i++] = std::strtoll(part.c_str(), nullptr, 10);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  h.n = n;
  return h;
}

}  // namespace

Status StateStore::AddLatency(const std::string& map, const std::string& direction, int64_t minute,
                              const LatencyHistogram& h) {
  Expected<Statement*> read = db_->Prepare(
      "SELECT n, counts FROM duet_latency WHERE map = ?1 AND direction = ?2 AND minute = ?3");
  if (!read.ok()) return read.status();
  LatencyHistogram merged = h;
  {
    ScopedStatement st(*read);
    st->BindText(1, map);
    st->BindText(2, direction);
    st->BindInt(3, minute);
    int rc = st->Step();
    if (rc == SQLITE_ROW) merged.Merge(ParseCounts(st->ColumnText(1), st->ColumnInt(0)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_->Error("reading latency");
  }
  Expected<Statement*> write = db_->Prepare(
      "INSERT OR REPLACE INTO duet_latency (map, direction, minute, n, counts) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!write.ok()) return write.status();
  (*write)->BindText(1, map);
  (*write)->BindText(2, direction);
  (*write)->BindInt(3, minute);
  (*write)->BindInt(4, merged.n);
  (*write)->BindText(5, CountsText(merged));
  return db_->Run(**write);
}

Expected<std::map<std::string, LatencyHistogram>> StateStore::LatencySince(const std::string& map,
                                                                           int64_t since_minute) {
  Expected<Statement*> s =
      db_->Prepare("SELECT direction, n, counts FROM duet_latency WHERE map = ?1 AND minute >= ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindInt(2, since_minute);
  std::map<std::string, LatencyHistogram> out;
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) {
    out[std::string(st->ColumnText(0))].Merge(ParseCounts(st->ColumnText(2), st->ColumnInt(1)));
  }
  if (rc != SQLITE_DONE) return db_->Error("reading latency");
  return out;
}

Status StateStore::PruneLatency(int64_t before_minute) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_latency WHERE minute < ?1");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, before_minute);
  return db_->Run(**s);
}

Status StateStore::PutResync(const Resync& r) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT OR REPLACE INTO duet_resync (map, from_system, step, cursor, done, total, started, "
      "by, filter) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!s.ok()) return s.status();
  Statement& st = **s;
  st.BindText(1, r.map);
  st.BindText(2, r.from);
  st.BindInt(3, r.step);
  if (r.cursor) {
    st.BindText(4, *r.cursor);
  } else {
    st.BindNull(4);
  }
  st.BindInt(5, r.done);
  st.BindInt(6, std::max(r.total, r.done));  // an estimate, as the initial sync's
  st.BindText(7, r.started.empty() ? NowIso() : r.started);
  st.BindText(8, r.by);
  st.BindText(9, r.where);
  return db_->Run(st);
}

Expected<std::optional<Resync>> StateStore::GetResync(const std::string& map) {
  Expected<Statement*> s = db_->Prepare(
      "SELECT from_system, step, cursor, done, total, started, by, coalesce(filter, '') "
      "FROM duet_resync WHERE map = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  int rc = st->Step();
  if (rc == SQLITE_DONE) return std::optional<Resync>();
  if (rc != SQLITE_ROW) return db_->Error("reading a resync");
  Resync r;
  r.map = map;
  r.from = std::string(st->ColumnText(0));
  r.step = static_cast<int>(st->ColumnInt(1));
  r.cursor = OptionalText(*st, 2);
  r.done = st->ColumnInt(3);
  r.total = st->ColumnInt(4);
  r.started = std::string(st->ColumnText(5));
  r.by = std::string(st->ColumnText(6));
  r.where = std::string(st->ColumnText(7));
  return std::optional<Resync>(std::move(r));
}

Status StateStore::EndResync(const std::string& map) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_resync WHERE map = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  return db_->Run(**s);
}

Status StateStore::PauseMap(const Pause& pause) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT INTO duet_paused (map, since, by, reason) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (map) DO NOTHING");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, pause.map);
  (*s)->BindText(2, pause.since.empty() ? NowIso() : pause.since);
  (*s)->BindText(3, pause.by);
  (*s)->BindText(4, pause.reason);
  return db_->Run(**s);
}

Status StateStore::ResumeMap(const std::string& map) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_paused WHERE map = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) return NotFoundError("map " + map + " is not paused");
  return Status::Ok();
}

Expected<std::map<std::string, Pause>> StateStore::Paused() {
  Expected<Statement*> s = db_->Prepare("SELECT map, since, by, reason FROM duet_paused");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  std::map<std::string, Pause> out;
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) {
    Pause p{std::string(st->ColumnText(0)), std::string(st->ColumnText(1)),
            std::string(st->ColumnText(2)), std::string(st->ColumnText(3))};
    out.emplace(p.map, std::move(p));
  }
  if (rc != SQLITE_DONE) return db_->Error("reading paused maps");
  return out;
}

Expected<std::vector<ErrorItem>> StateStore::OpenErrors(const std::string& map) {
  ErrorFilter filter;
  filter.map = map;
  return ListErrors(filter);
}

Expected<std::vector<ErrorItem>> StateStore::ListErrors(const ErrorFilter& filter) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns +
                   " FROM duet_errors WHERE (?1 = '' OR map = ?1) AND (?2 = '' OR kind = ?2)"
                   " AND (?3 = 0 OR status = 'open') AND first_at <= ?4 ORDER BY id");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, filter.map);
  st->BindText(2, filter.kind);
  st->BindInt(3, filter.open_only ? 1 : 0);
  std::string cutoff = filter.older_than_seconds > 0
                           ? IsoAt(NowSeconds() - filter.older_than_seconds)
                           : std::string("9999");
  st->BindText(4, cutoff);
  std::vector<ErrorItem> out;
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) out.push_back(ReadErrorItem(**s));
  if (rc != SQLITE_DONE) return db_->Error("reading the error queue");
  return out;
}

Expected<std::optional<ErrorItem>> StateStore::GetError(int64_t id) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns + " FROM duet_errors WHERE id = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindInt(1, id);
  int rc = st->Step();
  if (rc == SQLITE_ROW) return std::optional<ErrorItem>(ReadErrorItem(**s));
  if (rc != SQLITE_DONE) return db_->Error("reading an error item");
  return std::optional<ErrorItem>();
}

Status StateStore::RequestRetry(int64_t id, const std::string& request) {
  Expected<Statement*> s =
      db_->Prepare("UPDATE duet_errors SET request = ?2 WHERE id = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  (*s)->BindText(2, request);
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) {
    return NotFoundError("no open error item " + std::to_string(id));
  }
  return Status::Ok();
}

Expected<std::vector<ErrorItem>> StateStore::RequestedErrors(const std::string& map) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns +
                   " FROM duet_errors WHERE map = ?1 AND status = 'open' AND request IS NOT NULL"
                   " AND request <> '' ORDER BY id");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  std::vector<ErrorItem> out;
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) out.push_back(ReadErrorItem(**s));
  if (rc != SQLITE_DONE) return db_->Error("reading the error queue");
  return out;
}

Status StateStore::ClearRequest(int64_t id) {
  Expected<Statement*> s = db_->Prepare("UPDATE duet_errors SET request = NULL WHERE id = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  return db_->Run(**s);
}

Status StateStore::DiscardError(int64_t id, const std::string& by) {
  Expected<Statement*> s = db_->Prepare(
      "UPDATE duet_errors SET status = 'discarded', closed_by = ?2, last_at = ?3, request = NULL "
      "WHERE id = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  (*s)->BindText(2, by);
  (*s)->BindText(3, NowIso());
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) {
    return NotFoundError("no open error item " + std::to_string(id));
  }
  return Status::Ok();
}

Expected<int64_t> StateStore::CountErrorsSince(const std::string& map, const std::string& since) {
  Expected<Statement*> s =
      db_->Prepare("SELECT count(*) FROM duet_errors WHERE map = ?1 AND last_at >= ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, since);
  if (st->Step() != SQLITE_ROW) return db_->Error("counting error items");
  return st->ColumnInt(0);
}

Expected<int64_t> StateStore::CountOpenErrors(const std::string& map) {
  Expected<Statement*> s =
      db_->Prepare("SELECT count(*) FROM duet_errors WHERE map = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

}  // namespace duet::state
