#include "runtime/state/sqlite_state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <set>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/base/files.h"
#include "runtime/endpoint/sqlite/seq_position.h"
#include "runtime/endpoint/sqlite/sqlite_db.h"
#include "runtime/state/store_fields.h"

namespace duet::state {
namespace {

using sqlite::ScopedStatement;
using sqlite::Statement;

// Version 3: positions (endpoint/position.h) as BLOBs, x'' the beginning.
// duet_links stays readable (a view) for tools and tests that
// count links per map.
constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS duet_maps (
  name TEXT PRIMARY KEY, state TEXT NOT NULL, initial_step INTEGER NOT NULL DEFAULT 1,
  initial_cursor TEXT, initial_done INTEGER NOT NULL DEFAULT 0,
  initial_total INTEGER NOT NULL DEFAULT 0, last_sync TEXT);
CREATE TABLE IF NOT EXISTS duet_checkpoints (
  map TEXT NOT NULL, system TEXT NOT NULL, position BLOB NOT NULL DEFAULT x'',
  commit_end BLOB NOT NULL DEFAULT x'', PRIMARY KEY (map, system));
CREATE TABLE IF NOT EXISTS duet_map_ids (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS duet_link (
  map_id INTEGER NOT NULL, left_id NOT NULL, right_id NOT NULL, base BLOB NOT NULL,
  left_position BLOB NOT NULL, right_position BLOB NOT NULL,
  PRIMARY KEY (map_id, left_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS duet_link_right ON duet_link (map_id, right_id);
CREATE VIEW IF NOT EXISTS duet_links AS
  SELECT m.name AS map, l.left_id, l.right_id, l.base, l.left_position, l.right_position
  FROM duet_link l JOIN duet_map_ids m ON m.id = l.map_id;
CREATE TABLE IF NOT EXISTS duet_waiting (
  map TEXT NOT NULL, system TEXT NOT NULL, row_id TEXT NOT NULL, since REAL NOT NULL,
  reason TEXT NOT NULL, PRIMARY KEY (map, system, row_id));
CREATE TABLE IF NOT EXISTS duet_errors (
  id INTEGER PRIMARY KEY, map TEXT NOT NULL, system TEXT NOT NULL, row_id TEXT NOT NULL,
  kind TEXT NOT NULL, reason TEXT NOT NULL, source_row TEXT, attempts INTEGER NOT NULL,
  first_at TEXT NOT NULL, last_at TEXT NOT NULL, status TEXT NOT NULL, other_id TEXT,
  other_row TEXT, detail TEXT, request TEXT, closed_by TEXT);
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

// Version 1 -> 2: links move to duet_link under map ids; ids that are
// canonical integers become integers; each base gets a leading 0 byte,
// which tells the engine it is in the encoding of version 1 (a version
// byte of its own starts every base written since).
constexpr char kMigrateLinks[] = R"sql(
ALTER TABLE duet_links RENAME TO duet_links_v1;
)sql";
constexpr char kCopyLinks[] = R"sql(
INSERT OR IGNORE INTO duet_map_ids (name) SELECT DISTINCT map FROM duet_links_v1;
INSERT INTO duet_link (map_id, left_id, right_id, base, left_position, right_position)
  SELECT m.id,
    CASE WHEN l.left_id = CAST(CAST(l.left_id AS INTEGER) AS TEXT)
      THEN CAST(l.left_id AS INTEGER) ELSE l.left_id END,
    CASE WHEN l.right_id = CAST(CAST(l.right_id AS INTEGER) AS TEXT)
      THEN CAST(l.right_id AS INTEGER) ELSE l.right_id END,
    CAST(X'00' || l.base AS BLOB), duet_seq_position(l.left_seq),
    duet_seq_position(l.right_seq)
  FROM duet_links_v1 l JOIN duet_map_ids m ON m.name = l.map;
DROP TABLE duet_links_v1;
)sql";

// Versions 1 and 2 -> 3: the int64 seqs of checkpoints, commit ends and
// links become positions in the SQLite endpoint's encoding
// (duet_seq_position, endpoint/sqlite/seq_position.h): the only endpoint
// those versions ran on. The tables are renamed, made anew and copied.
constexpr char kDetachCheckpoints[] = "ALTER TABLE duet_checkpoints RENAME TO duet_checkpoints_v2;";
constexpr char kCopyCheckpoints[] = R"sql(
INSERT INTO duet_checkpoints (map, system, position, commit_end)
  SELECT map, system, duet_seq_position(seq), duet_seq_position(commit_end)
  FROM duet_checkpoints_v2;
DROP TABLE duet_checkpoints_v2;
)sql";
// The view would follow the renamed table, and the index keep its name.
constexpr char kDetachLinksV2[] = R"sql(
DROP VIEW IF EXISTS duet_links;
DROP INDEX IF EXISTS duet_link_right;
ALTER TABLE duet_link RENAME TO duet_link_v2;
)sql";
constexpr char kCopyLinksV2[] = R"sql(
INSERT INTO duet_link (map_id, left_id, right_id, base, left_position, right_position)
  SELECT map_id, left_id, right_id, base, duet_seq_position(left_seq),
    duet_seq_position(right_seq)
  FROM duet_link_v2;
DROP TABLE duet_link_v2;
)sql";

// duet_seq_position(seq): SeqPosition's bytes, for the migrations above. A
// value that is not an integer is an error: the migration fails and the
// store stays as it was.
void SeqPositionSql(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
    sqlite3_result_error(ctx, "a stored seq that is not an integer", -1);
    return;
  }
  endpoint::Position p = sqlite::SeqPosition(sqlite3_value_int64(argv[0]));
  sqlite3_result_blob(ctx, p.bytes().data(), static_cast<int>(p.bytes().size()), SQLITE_TRANSIENT);
}

// The store's id, made on first open (also for a store an earlier version
// made, which had none).
Expected<std::string> LoadStoreId(sqlite::Db& db) {
  auto read = [&]() -> Expected<std::optional<std::string>> {
    Expected<Statement*> s = db.Prepare("SELECT value FROM duet_meta WHERE key = 'id'");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    int rc = st->Step();
    if (rc == SQLITE_ROW) return std::optional<std::string>(std::string(st->ColumnText(0)));
    if (rc != SQLITE_DONE) return db.Error("reading the state store's id");
    return std::optional<std::string>();
  };
  // Read first: opening a store with an id takes no write lock.
  if (Expected<std::optional<std::string>> id = read(); !id.ok() || *id) {
    if (!id.ok()) return id.status();
    return **id;
  }
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

Expected<ErrorItem> ReadErrorItem(const Statement& st) {
  return ErrorItemFromColumns([&st](int i) { return st.ColumnText(i); });
}

// Steps `st` (a statement of `db`) to its end, reading an error item per
// row.
Expected<std::vector<ErrorItem>> ReadErrorItems(const sqlite::Db& db, Statement& st) {
  std::vector<ErrorItem> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    Expected<ErrorItem> e = ReadErrorItem(st);
    if (!e.ok()) return e.status();
    out.push_back(std::move(*e));
  }
  if (rc != SQLITE_DONE) return db.Error("reading the error queue");
  return out;
}

std::optional<std::string> OptionalText(const Statement& s, int i) {
  if (s.ColumnType(i) == SQLITE_NULL) return std::nullopt;
  return std::string(s.ColumnText(i));
}

}  // namespace

namespace {

Expected<bool> HasTable(sqlite::Db& db, const char* name) {
  Expected<Statement*> s =
      db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, name);
  return st->Step() == SQLITE_ROW;
}

// The store's schema version: 0 for an empty database, 1 for a store of
// the layout before the version table.
Expected<int> ReadSchemaVersion(sqlite::Db& db) {
  Expected<bool> meta = HasTable(db, "duet_meta");
  if (!meta.ok()) return meta.status();
  if (*meta) {
    Expected<Statement*> s = db.Prepare("SELECT value FROM duet_meta WHERE key = 'schema_version'");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    if (st->Step() == SQLITE_ROW) {
      std::string text(st->ColumnText(0));
      char* end = nullptr;
      long version = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end || version < 1) {
        return DataLossError("the state store's schema version '" + text + "' is damaged");
      }
      return static_cast<int>(version);
    }
  }
  Expected<bool> links = HasTable(db, "duet_links");
  if (!links.ok()) return links.status();
  return *links ? 1 : 0;
}

// Brings a store of `version` (0: empty) to kSqliteSchemaVersion. Runs
// inside the caller's transaction.
Status Migrate(sqlite::Db& db, int version) {
  if (version >= 1 && version < 3) {
    if (sqlite3_create_function_v2(db.handle(), "duet_seq_position", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, &SeqPositionSql,
                                   nullptr, nullptr, nullptr) != SQLITE_OK) {
      return db.Error("registering the migration's functions");
    }
    if (Status s = db.Exec(kDetachCheckpoints); !s.ok()) return s;
  }
  if (version == 1) {
    if (Status s = AddMissingColumns(db); !s.ok()) return s;
    if (Status s = db.Exec(kMigrateLinks); !s.ok()) return s;
  }
  if (version == 2) {
    if (Status s = db.Exec(kDetachLinksV2); !s.ok()) return s;
  }
  if (Status s = db.Exec(kSchema); !s.ok()) return s;
  if (version == 1) {
    if (Status s = db.Exec(kCopyLinks); !s.ok()) return s;
  }
  if (version == 2) {
    if (Status s = db.Exec(kCopyLinksV2); !s.ok()) return s;
  }
  if (version >= 1 && version < 3) {
    if (Status s = db.Exec(kCopyCheckpoints); !s.ok()) return s;
  }
  return db.Exec("INSERT OR REPLACE INTO duet_meta (key, value) VALUES ('schema_version', '" +
                 std::to_string(kSqliteSchemaVersion) + "')");
}

// Checks the store's version and migrates an older one when `migrate`
// (install), all in one transaction (a crash midway leaves the old version
// as it was); without `migrate` an older one is refused, unchanged.
Status UpgradeSchema(sqlite::Db& db, const std::string& path, bool migrate) {
  // A current store is opened without a write lock (a unit of work of
  // another handle may hold it).
  if (Expected<int> current = ReadSchemaVersion(db);
      current.ok() && *current == kSqliteSchemaVersion) {
    return Status::Ok();
  }
  if (Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Expected<int> version = ReadSchemaVersion(db);
  Status s = version.ok() ? Status::Ok() : version.status();
  if (s.ok() && *version > kSqliteSchemaVersion) {
    s = FailedPreconditionError(
        "the state store '" + path + "' has schema version " + std::to_string(*version) +
        ", newer than this duet knows (" + std::to_string(kSqliteSchemaVersion) +
        "): it was written by a newer duet; run that one (or restore a backup of the store)");
  }
  if (s.ok() && *version >= 1 && *version < kSqliteSchemaVersion && !migrate) {
    s = EarlierSchemaError("'" + path + "' has schema version " + std::to_string(*version) +
                           " (this duet's is " + std::to_string(kSqliteSchemaVersion) +
                           "): `duet install -c CONFIG` upgrades it; " +
                           "until then the earlier version of duet still runs it");
  }
  if (s.ok() && *version < kSqliteSchemaVersion) s = Migrate(db, *version);
  if (!s.ok()) {
    (void)db.Exec("ROLLBACK");
    return s;
  }
  return db.Exec("COMMIT");
}

// A link id as SQLite holds it: an integer when the text is one in
// canonical form (so that rowid-like ids are small and ordered), else text.
// Every read and write binds ids this way, so the same id always compares
// equal; ColumnText reads either back as the same text.
void BindId(Statement& st, int i, const std::string& id) {
  if (!id.empty() && id.size() <= 20) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(id.c_str(), &end, 10);
    if (errno == 0 && *end == '\0' && std::to_string(v) == id) {
      st.BindInt(i, static_cast<int64_t>(v));
      return;
    }
  }
  st.BindText(i, id);
}

Link ReadLinkRow(const Statement& st) {
  Link link;
  link.left_id = std::string(st.ColumnText(0));
  link.right_id = std::string(st.ColumnText(1));
  link.base = std::string(st.ColumnBlob(2));
  link.left_position = endpoint::Position::FromBytes(std::string(st.ColumnBlob(3)));
  link.right_position = endpoint::Position::FromBytes(std::string(st.ColumnBlob(4)));
  return link;
}

}  // namespace

SqliteStateStore::SqliteStateStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
SqliteStateStore::~SqliteStateStore() = default;

Expected<std::unique_ptr<StateStore>> SqliteStateStore::Open(const std::string& path,
                                                             OpenMode mode) {
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
  if (Status s = UpgradeSchema(**db, path, mode == OpenMode::kCreate); !s.ok()) return s;
  Expected<std::string> id = LoadStoreId(**db);
  if (!id.ok()) return id.status();
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(std::move(*db)));
  store->path_ = path;
  store->id_ = std::move(*id);
  store->device_ = static_cast<uint64_t>(st.st_dev);
  store->inode_ = static_cast<uint64_t>(st.st_ino);
  return std::unique_ptr<StateStore>(std::move(store));
}

Expected<int64_t> SqliteStateStore::AcquireLease(const std::string& owner) {
  if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto fail = [&](Status s) -> Expected<int64_t> {
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  std::string held_by;
  int64_t epoch = 0;
  {
    Expected<Statement*> s = db_->Prepare(
        "SELECT key, value FROM duet_meta WHERE key IN ('lease_owner', 'lease_epoch')");
    if (!s.ok()) return fail(s.status());
    ScopedStatement st(*s);
    while (st->Step() == SQLITE_ROW) {
      if (st->ColumnText(0) == "lease_owner") held_by = std::string(st->ColumnText(1));
      if (st->ColumnText(0) == "lease_epoch") epoch = st->ColumnInt(1);
    }
  }
  if (held_by != owner || epoch == 0) ++epoch;
  Expected<Statement*> s = db_->Prepare(
      "INSERT OR REPLACE INTO duet_meta (key, value) VALUES ('lease_owner', ?1), "
      "('lease_epoch', ?2)");
  if (!s.ok()) return fail(s.status());
  (*s)->BindText(1, owner);
  (*s)->BindText(2, std::to_string(epoch));
  if (Status st = db_->Run(**s); !st.ok()) return fail(st);
  if (Status st = db_->Exec("COMMIT"); !st.ok()) return fail(st);
  epoch_ = epoch;
  return epoch;
}

Status SqliteStateStore::CheckFile() const {
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

Status SqliteStateStore::Begin() { return db_->Exec("BEGIN IMMEDIATE"); }
Status SqliteStateStore::BeginRead() { return db_->Exec("BEGIN"); }

Status SqliteStateStore::Commit() {
  if (epoch_ > 0) {
    // Inside the unit: a unit that wrote holds the write lock and reads the
    // newest epoch, so no other worker can take the lease between this
    // check and the commit.
    Expected<Statement*> s = db_->Prepare("SELECT value FROM duet_meta WHERE key = 'lease_epoch'");
    if (!s.ok()) {
      Rollback();
      return s.status();
    }
    std::string epoch;
    {
      ScopedStatement st(*s);
      if (st->Step() == SQLITE_ROW) epoch = std::string(st->ColumnText(0));
    }
    if (epoch != std::to_string(epoch_)) {
      Rollback();
      return LeaseLostError("another worker took the lease of the state store '" + path_ +
                            "' (epoch " + epoch + ", this one holds " + std::to_string(epoch_) +
                            "); this worker's unit of work was not committed");
    }
  }
  if (Status s = db_->Exec("COMMIT"); !s.ok()) {
    Rollback();
    return s;
  }
  for (auto& [name, id] : new_map_ids_) map_ids_[name] = id;
  new_map_ids_.clear();
  return Status::Ok();
}

void SqliteStateStore::Rollback() {
  (void)db_->Exec("ROLLBACK");
  new_map_ids_.clear();
}

Expected<int64_t> SqliteStateStore::MapId(const std::string& map, bool create) {
  if (auto it = map_ids_.find(map); it != map_ids_.end()) return it->second;
  if (auto it = new_map_ids_.find(map); it != new_map_ids_.end()) return it->second;
  if (create) {
    Expected<Statement*> s = db_->Prepare("INSERT OR IGNORE INTO duet_map_ids (name) VALUES (?1)");
    if (!s.ok()) return s.status();
    (*s)->BindText(1, map);
    if (Status st = db_->Run(**s); !st.ok()) return st;
  }
  Expected<Statement*> s = db_->Prepare("SELECT id FROM duet_map_ids WHERE name = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  if (st->Step() != SQLITE_ROW) return int64_t{0};
  int64_t id = st->ColumnInt(0);
  // Outside a unit the row is committed; inside one it may yet roll back.
  (sqlite3_get_autocommit(db_->handle()) != 0 ? map_ids_ : new_map_ids_)[map] = id;
  return id;
}

Expected<MapState> SqliteStateStore::GetMap(const std::string& name) {
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
    if (std::optional<std::string> at = OptionalText(*st, 5)) {
      Expected<double> t = StoredTime(*at, "map " + name + "'s last_sync");
      if (!t.ok()) return t.status();
      map.last_sync = *t;
    }
  } else if (rc != SQLITE_DONE) {
    return db_->Error("reading map state");
  }
  return map;
}

Status SqliteStateStore::PutMap(const MapState& map) {
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
  if (map.last_sync) st.BindText(7, IsoAt(*map.last_sync));
  return db_->Run(st);
}

namespace {

// A stored position, or InvalidArgument for one that must not be stored.
Status Storable(const endpoint::Position& p) {
  if (p.is_after_all()) return InvalidArgumentError("a position after all changes is not stored");
  return Status::Ok();
}

}  // namespace

Expected<endpoint::Position> SqliteStateStore::ReadPosition(const char* column,
                                                            const std::string& map,
                                                            const std::string& system) {
  Expected<Statement*> s = db_->Prepare(std::string("SELECT ") + column +
                                        " FROM duet_checkpoints WHERE map = ?1 AND system = ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, system);
  if (st->Step() != SQLITE_ROW) return endpoint::Position();
  return endpoint::Position::FromBytes(std::string(st->ColumnBlob(0)));
}

Status SqliteStateStore::WritePosition(const char* column, const std::string& map,
                                       const std::string& system,
                                       const endpoint::Position& position) {
  if (Status s = Storable(position); !s.ok()) return s;
  Expected<Statement*> s =
      db_->Prepare(std::string("INSERT INTO duet_checkpoints (map, system, ") + column +
                   ") VALUES (?1, ?2, ?3) " + "ON CONFLICT (map, system) DO UPDATE SET " + column +
                   " = excluded." + column);
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindBlob(3, position.bytes());
  return db_->Run(**s);
}

Expected<endpoint::Position> SqliteStateStore::GetCheckpoint(const std::string& map,
                                                             const std::string& system) {
  return ReadPosition("position", map, system);
}

Expected<endpoint::Position> SqliteStateStore::GetCommitEnd(const std::string& map,
                                                            const std::string& system) {
  return ReadPosition("commit_end", map, system);
}

Status SqliteStateStore::SetCommitEnd(const std::string& map, const std::string& system,
                                      const endpoint::Position& end) {
  return WritePosition("commit_end", map, system, end);
}

Status SqliteStateStore::SetCheckpoint(const std::string& map, const std::string& system,
                                       const endpoint::Position& position) {
  return WritePosition("position", map, system, position);
}

namespace {

constexpr char kLinkColumns[] =
    "SELECT left_id, right_id, base, left_position, right_position FROM duet_link ";

// "?, ?, ..." for n parameters.
std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

}  // namespace

Expected<std::optional<Link>> SqliteStateStore::ReadLink(const char* column, const std::string& map,
                                                         const std::string& id) {
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  if (*map_id == 0) return std::optional<Link>();
  Expected<Statement*> s =
      db_->Prepare(std::string(kLinkColumns) + "WHERE map_id = ?1 AND " + column + " = ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindInt(1, *map_id);
  BindId(**s, 2, id);
  int rc = st->Step();
  if (rc == SQLITE_ROW) return std::optional<Link>(ReadLinkRow(**s));
  if (rc != SQLITE_DONE) return db_->Error("reading a link");
  return std::optional<Link>();
}

Expected<std::optional<Link>> SqliteStateStore::LinkByLeft(const std::string& map,
                                                           const std::string& left_id) {
  return ReadLink("left_id", map, left_id);
}

Expected<std::optional<Link>> SqliteStateStore::LinkByRight(const std::string& map,
                                                            const std::string& right_id) {
  return ReadLink("right_id", map, right_id);
}

// One query per few hundred ids.
Expected<std::vector<Link>> SqliteStateStore::LinksOf(const std::string& map, const char* column,
                                                      const std::vector<std::string>& ids) {
  std::vector<Link> out;
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  if (*map_id == 0) return out;
  constexpr size_t kChunk = 500;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, ids.size() - start);
    Expected<Statement*> s = db_->Prepare(std::string(kLinkColumns) + "WHERE map_id = ?1 AND " +
                                          column + " IN (" + Placeholders(n) + ")");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *map_id);
    for (size_t i = 0; i < n; ++i) BindId(**s, static_cast<int>(i + 2), ids[start + i]);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) out.push_back(ReadLinkRow(**s));
    if (rc != SQLITE_DONE) return db_->Error("reading links");
  }
  return out;
}

Expected<std::vector<Link>> SqliteStateStore::LinksByLeft(
    const std::string& map, const std::vector<std::string>& left_ids) {
  return LinksOf(map, "left_id", left_ids);
}

Expected<std::vector<Link>> SqliteStateStore::LinksByRight(
    const std::string& map, const std::vector<std::string>& right_ids) {
  return LinksOf(map, "right_id", right_ids);
}

Expected<std::vector<std::string>> SqliteStateStore::LinkedAmong(
    const std::string& map, int side, const std::vector<std::string>& ids) {
  // Index-only: (map_id, left_id) is the table's key, (map_id, right_id) an
  // index.
  const char* column = side == 0 ? "left_id" : "right_id";
  std::vector<std::string> out;
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  if (*map_id == 0) return out;
  constexpr size_t kChunk = 500;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, ids.size() - start);
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT ") + column + " FROM duet_link WHERE map_id = ?1 AND " +
                     column + " IN (" + Placeholders(n) + ")");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *map_id);
    for (size_t i = 0; i < n; ++i) BindId(**s, static_cast<int>(i + 2), ids[start + i]);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) out.emplace_back(st->ColumnText(0));
    if (rc != SQLITE_DONE) return db_->Error("reading links");
  }
  return out;
}

Status SqliteStateStore::PutLink(const std::string& map, const Link& link) {
  Expected<int64_t> map_id = MapId(map, true);
  if (!map_id.ok()) return map_id.status();
  if (Status st = Storable(link.left_position); !st.ok()) return st;
  if (Status st = Storable(link.right_position); !st.ok()) return st;
  // REPLACE removes the old link of either row: both ids are unique keys.
  Expected<Statement*> s = db_->Prepare(
      "INSERT OR REPLACE INTO duet_link (map_id, left_id, right_id, base, left_position, "
      "right_position) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, *map_id);
  BindId(**s, 2, link.left_id);
  BindId(**s, 3, link.right_id);
  (*s)->BindBlob(4, link.base);
  (*s)->BindBlob(5, link.left_position.bytes());
  (*s)->BindBlob(6, link.right_position.bytes());
  return db_->Run(**s);
}

Status SqliteStateStore::UpdateBase(const std::string& map, const std::string& left_id,
                                    const std::string& base) {
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  if (*map_id == 0) return Status::Ok();
  Expected<Statement*> s =
      db_->Prepare("UPDATE duet_link SET base = ?3 WHERE map_id = ?1 AND left_id = ?2");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, *map_id);
  BindId(**s, 2, left_id);
  (*s)->BindBlob(3, base);
  return db_->Run(**s);
}

Status SqliteStateStore::DeleteLink(const std::string& map, const std::string& left_id) {
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  if (*map_id == 0) return Status::Ok();
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_link WHERE map_id = ?1 AND left_id = ?2");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, *map_id);
  BindId(**s, 2, left_id);
  return db_->Run(**s);
}

Expected<int64_t> SqliteStateStore::CountLinks(const std::string& map) {
  Expected<int64_t> map_id = MapId(map, false);
  if (!map_id.ok()) return map_id.status();
  Expected<Statement*> s = db_->Prepare("SELECT count(*) FROM duet_link WHERE map_id = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindInt(1, *map_id);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

Status SqliteStateStore::AddWaiting(const std::string& map, const Waiting& waiting) {
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

Status SqliteStateStore::RemoveWaiting(const std::string& map, const std::string& system,
                                       const std::string& row_id) {
  Expected<Statement*> s =
      db_->Prepare("DELETE FROM duet_waiting WHERE map = ?1 AND system = ?2 AND row_id = ?3");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindText(3, row_id);
  return db_->Run(**s);
}

Expected<std::vector<Waiting>> SqliteStateStore::ListWaiting(const std::string& map) {
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

Status SqliteStateStore::RecordError(const ErrorItem& item) {
  std::string now = IsoAt(item.last_at);
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

Status SqliteStateStore::ResolveErrors(const std::string& map, const std::string& system,
                                       const std::string& row_id, double at,
                                       const std::string& why) {
  Expected<Statement*> s = db_->Prepare(
      "UPDATE duet_errors SET status = 'resolved', last_at = ?4, "
      "closed_by = CASE WHEN ?5 = '' THEN closed_by ELSE 'duet' END, "
      "reason = CASE WHEN ?5 = '' THEN reason ELSE reason || ' (closed: ' || ?5 || ')' END "
      "WHERE map = ?1 AND system = ?2 AND row_id = ?3 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  (*s)->BindText(2, system);
  (*s)->BindText(3, row_id);
  (*s)->BindText(4, IsoAt(at));
  (*s)->BindText(5, why);
  return db_->Run(**s);
}

Status SqliteStateStore::AddLatency(const std::string& map, const std::string& direction,
                                    int64_t minute, const LatencyHistogram& h) {
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

Expected<std::map<std::string, LatencyHistogram>> SqliteStateStore::LatencySince(
    const std::string& map, int64_t since_minute) {
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

Status SqliteStateStore::RecordBacklog(const std::string& map, const RecordedBacklog& backlog) {
  Expected<Statement*> s =
      db_->Prepare("INSERT OR REPLACE INTO duet_meta (key, value) VALUES (?1, ?2)");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, BacklogKey(map));
  (*s)->BindText(2, BacklogText(backlog));
  return db_->Run(**s);
}

Expected<std::optional<RecordedBacklog>> SqliteStateStore::GetRecordedBacklog(
    const std::string& map) {
  Expected<Statement*> s = db_->Prepare("SELECT value FROM duet_meta WHERE key = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, BacklogKey(map));
  int rc = st->Step();
  if (rc == SQLITE_DONE) return std::optional<RecordedBacklog>();
  if (rc != SQLITE_ROW) return db_->Error("reading the recorded backlog");
  Expected<RecordedBacklog> backlog = ParseBacklog(st->ColumnText(0));
  if (!backlog.ok()) return backlog.status();
  return std::optional<RecordedBacklog>(std::move(*backlog));
}

Status SqliteStateStore::PruneLatency(int64_t before_minute) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_latency WHERE minute < ?1");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, before_minute);
  return db_->Run(**s);
}

Status SqliteStateStore::PutResync(const Resync& r) {
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
  st.BindText(7, IsoAt(r.started));
  st.BindText(8, r.by);
  st.BindText(9, r.where);
  return db_->Run(st);
}

Expected<std::optional<Resync>> SqliteStateStore::GetResync(const std::string& map) {
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
  Expected<double> started = StoredTime(st->ColumnText(5), "the resync of map " + map + "'s start");
  if (!started.ok()) return started.status();
  r.started = *started;
  r.by = std::string(st->ColumnText(6));
  r.where = std::string(st->ColumnText(7));
  return std::optional<Resync>(std::move(r));
}

Status SqliteStateStore::EndResync(const std::string& map) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_resync WHERE map = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  return db_->Run(**s);
}

Status SqliteStateStore::PauseMap(const Pause& pause) {
  Expected<Statement*> s = db_->Prepare(
      "INSERT INTO duet_paused (map, since, by, reason) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (map) DO NOTHING");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, pause.map);
  (*s)->BindText(2, IsoAt(pause.since));
  (*s)->BindText(3, pause.by);
  (*s)->BindText(4, pause.reason);
  return db_->Run(**s);
}

Status SqliteStateStore::ResumeMap(const std::string& map) {
  Expected<Statement*> s = db_->Prepare("DELETE FROM duet_paused WHERE map = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindText(1, map);
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) return NotFoundError("map " + map + " is not paused");
  return Status::Ok();
}

Expected<std::map<std::string, Pause>> SqliteStateStore::Paused() {
  Expected<Statement*> s = db_->Prepare("SELECT map, since, by, reason FROM duet_paused");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  std::map<std::string, Pause> out;
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) {
    std::string map(st->ColumnText(0));
    Expected<double> since = StoredTime(st->ColumnText(1), "the pause of map " + map);
    if (!since.ok()) return since.status();
    Pause p{map, *since, std::string(st->ColumnText(2)), std::string(st->ColumnText(3))};
    out.emplace(p.map, std::move(p));
  }
  if (rc != SQLITE_DONE) return db_->Error("reading paused maps");
  return out;
}

Expected<std::vector<ErrorItem>> SqliteStateStore::OpenErrors(const std::string& map) {
  ErrorFilter filter;
  filter.map = map;
  return ListErrors(filter);
}

Expected<std::vector<ErrorItem>> SqliteStateStore::ListErrors(const ErrorFilter& filter) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns +
                   " FROM duet_errors WHERE (?1 = '' OR map = ?1) AND (?2 = '' OR kind = ?2)"
                   " AND (?3 = 0 OR status = 'open') AND first_at <= ?4 ORDER BY id");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, filter.map);
  st->BindText(2, filter.kind);
  st->BindInt(3, filter.open_only ? 1 : 0);
  st->BindText(4, filter.first_at_most ? IsoAt(*filter.first_at_most) : std::string("9999"));
  return ReadErrorItems(*db_, **s);
}

Expected<std::optional<ErrorItem>> SqliteStateStore::GetError(int64_t id) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns + " FROM duet_errors WHERE id = ?1");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindInt(1, id);
  int rc = st->Step();
  if (rc == SQLITE_ROW) {
    Expected<ErrorItem> e = ReadErrorItem(**s);
    if (!e.ok()) return e.status();
    return std::optional<ErrorItem>(std::move(*e));
  }
  if (rc != SQLITE_DONE) return db_->Error("reading an error item");
  return std::optional<ErrorItem>();
}

Status SqliteStateStore::RequestRetry(int64_t id, const ItemRequest& request) {
  if (request.empty())
    return InvalidArgumentError("an empty request for error item " + std::to_string(id));
  Expected<Statement*> s =
      db_->Prepare("UPDATE duet_errors SET request = ?2 WHERE id = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  (*s)->BindText(2, request.Text());
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) {
    return NotFoundError("no open error item " + std::to_string(id));
  }
  return Status::Ok();
}

Expected<std::vector<ErrorItem>> SqliteStateStore::RequestedErrors(const std::string& map) {
  Expected<Statement*> s =
      db_->Prepare(std::string("SELECT ") + kErrorColumns +
                   " FROM duet_errors WHERE map = ?1 AND status = 'open' AND request IS NOT NULL"
                   " AND request <> '' ORDER BY id");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  return ReadErrorItems(*db_, **s);
}

Status SqliteStateStore::ClearRequest(int64_t id) {
  Expected<Statement*> s = db_->Prepare("UPDATE duet_errors SET request = NULL WHERE id = ?1");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  return db_->Run(**s);
}

Status SqliteStateStore::DiscardError(int64_t id, const std::string& by, double at) {
  Expected<Statement*> s = db_->Prepare(
      "UPDATE duet_errors SET status = 'discarded', closed_by = ?2, last_at = ?3, request = NULL "
      "WHERE id = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  (*s)->BindInt(1, id);
  (*s)->BindText(2, by);
  (*s)->BindText(3, IsoAt(at));
  if (Status st = db_->Run(**s); !st.ok()) return st;
  if (sqlite3_changes(db_->handle()) == 0) {
    return NotFoundError("no open error item " + std::to_string(id));
  }
  return Status::Ok();
}

Expected<int64_t> SqliteStateStore::CountErrorsSince(const std::string& map, double since) {
  Expected<Statement*> s =
      db_->Prepare("SELECT count(*) FROM duet_errors WHERE map = ?1 AND last_at >= ?2");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  st->BindText(2, IsoAt(since));
  if (st->Step() != SQLITE_ROW) return db_->Error("counting error items");
  return st->ColumnInt(0);
}

Expected<int64_t> SqliteStateStore::CountOpenErrors(const std::string& map) {
  Expected<Statement*> s =
      db_->Prepare("SELECT count(*) FROM duet_errors WHERE map = ?1 AND status = 'open'");
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  st->BindText(1, map);
  return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : 0;
}

}  // namespace duet::state
