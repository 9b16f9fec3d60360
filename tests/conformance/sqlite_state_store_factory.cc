// The SQLite state store in the conformance suite, with the fixture of its
// previous schema version: the CREATE statements and the base encoding of
// duet before schema versions (runtime/state/state_store.cc and
// runtime/engine/reconcile.cc at 85e61a0), copied here as they were.
#include <sqlite3.h>

#include <cstring>
#include <stdexcept>

#include "runtime/endpoint/sqlite/seq_position.h"
#include "tests/conformance/state_store_factory.h"

namespace duet::conformance {
namespace {

namespace fs = std::filesystem;
using endpoint::Value;

// Schema version 1: the layout before the version table, as a store that
// was opened by that duet has it (its CREATE statements, then the columns
// it added to duet_errors on open).
constexpr char kSchemaV1[] = R"sql(
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
ALTER TABLE duet_errors ADD COLUMN other_id TEXT;
ALTER TABLE duet_errors ADD COLUMN other_row TEXT;
ALTER TABLE duet_errors ADD COLUMN detail TEXT;
ALTER TABLE duet_errors ADD COLUMN request TEXT;
ALTER TABLE duet_errors ADD COLUMN closed_by TEXT;
)sql";

// The base encoding of version 1 stores (no version byte): host-endian
// uint32 counts, 0xfe for a C value equal to its P counterpart.
void EncodeRelativeV0(const std::vector<Value>& values, const std::vector<Value>& reference,
                      std::string* out) {
  uint32_t n = static_cast<uint32_t>(values.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& v = values[i];
    if (i < reference.size() && !v.is_unknown() && v == reference[i] &&
        v.tag() == reference[i].tag() && v.scale() == reference[i].scale()) {
      out->push_back(static_cast<char>(0xfe));
    } else {
      v.Encode(out);
    }
  }
}

std::string EncodeBaseV0(const PreviousContent::FixtureLink& l) {
  std::string out;
  EncodeRelativeV0(l.p0, {}, &out);
  EncodeRelativeV0(l.c1, l.p0, &out);
  EncodeRelativeV0(l.p1, {}, &out);
  EncodeRelativeV0(l.c0, l.p1, &out);
  return out;
}

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

void Exec(sqlite3* db, const std::string& sql) {
  Check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), sql.c_str());
}

// Schema version 2 (runtime/state/sqlite_state_store.cc before positions),
// copied here as it was: seqs as integers; and what that duet did to a
// version 1 store when it opened it.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE IF NOT EXISTS duet_maps (
  name TEXT PRIMARY KEY, state TEXT NOT NULL, initial_step INTEGER NOT NULL DEFAULT 1,
  initial_cursor TEXT, initial_done INTEGER NOT NULL DEFAULT 0,
  initial_total INTEGER NOT NULL DEFAULT 0, last_sync TEXT);
CREATE TABLE IF NOT EXISTS duet_checkpoints (
  map TEXT NOT NULL, system TEXT NOT NULL, seq INTEGER NOT NULL,
  commit_end INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (map, system));
CREATE TABLE IF NOT EXISTS duet_map_ids (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS duet_link (
  map_id INTEGER NOT NULL, left_id NOT NULL, right_id NOT NULL, base BLOB NOT NULL,
  left_seq INTEGER NOT NULL, right_seq INTEGER NOT NULL,
  PRIMARY KEY (map_id, left_id)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS duet_link_right ON duet_link (map_id, right_id);
CREATE VIEW IF NOT EXISTS duet_links AS
  SELECT m.name AS map, l.left_id, l.right_id, l.base, l.left_seq, l.right_seq
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

constexpr char kCopyLinksV2[] = R"sql(
INSERT OR IGNORE INTO duet_map_ids (name) SELECT DISTINCT map FROM duet_links_v1;
INSERT INTO duet_link (map_id, left_id, right_id, base, left_seq, right_seq)
  SELECT m.id,
    CASE WHEN l.left_id = CAST(CAST(l.left_id AS INTEGER) AS TEXT)
      THEN CAST(l.left_id AS INTEGER) ELSE l.left_id END,
    CASE WHEN l.right_id = CAST(CAST(l.right_id AS INTEGER) AS TEXT)
      THEN CAST(l.right_id AS INTEGER) ELSE l.right_id END,
    CAST(X'00' || l.base AS BLOB), l.left_seq, l.right_seq
  FROM duet_links_v1 l JOIN duet_map_ids m ON m.name = l.map;
DROP TABLE duet_links_v1;
)sql";

std::string SqliteNewUrl(const fs::path& dir) { return "sqlite:" + (dir / "state.db").string(); }

std::string SqlitePrevious(const fs::path& dir) {
  fs::path path = dir / "state-v1.db";
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(path.c_str(), &db), "open");
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db, kSchemaV1);
  PreviousContent c = ThePreviousContent();
  Exec(db, "INSERT INTO duet_meta (key, value) VALUES ('id', '" + c.store_id + "')");
  Exec(db,
       "INSERT INTO duet_maps (name, state, initial_step, initial_done, initial_total, last_sync) "
       "VALUES ('customers', 'live', 2, 3, 3, '2026-11-26T10:04:11.120Z')");
  Exec(db, "INSERT INTO duet_checkpoints (map, system, seq, commit_end) VALUES ('" +
               c.checkpoint_map + "', '" + c.checkpoint_system + "', " +
               std::to_string(c.checkpoint_seq) + ", " + std::to_string(c.commit_end) + ")");
  sqlite3_stmt* s = nullptr;
  Check(db,
        sqlite3_prepare_v2(db,
                           "INSERT INTO duet_links (map, left_id, right_id, base, left_seq, "
                           "right_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &s, nullptr),
        "prepare");
  for (const PreviousContent::FixtureLink& l : c.links) {
    std::string base = EncodeBaseV0(l);
    sqlite3_bind_text(s, 1, l.map.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, l.left_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, l.right_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 4, base.data(), static_cast<int>(base.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, l.left_seq);
    sqlite3_bind_int64(s, 6, l.right_seq);
    Check(db, sqlite3_step(s), "insert link");
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  Exec(db,
       "INSERT INTO duet_errors (map, system, row_id, kind, reason, source_row, attempts, "
       "first_at, last_at, status, other_id, other_row, detail) VALUES ('" +
           c.error_map + "', 'fo', '" + c.error_row + "', '" + c.error_kind +
           "', 'both sides changed ce.name since the last sync; the rule is manual', "
           "'{\"NAME\":\"fo-edit\"}', 2, '2026-11-26T10:04:11.120Z', "
           "'2026-11-26T10:05:11.120Z', 'open', '9', '{\"name\":\"ce-edit\"}', '" +
           c.error_detail + "')");
  Exec(db, "INSERT INTO duet_paused (map, since, by, reason) VALUES ('" + c.paused_map +
               "', '2026-11-26T10:04:11.120Z', 'ops', 'maintenance')");
  Exec(db,
       "INSERT INTO duet_waiting (map, system, row_id, since, reason) VALUES "
       "('customers', 'ce', '12', 1764150000.5, 'waiting for a customer group')");
  sqlite3_close(db);
  return "sqlite:" + path.string();
}

// The version 1 fixture as version 2's duet migrated it.
std::string SqlitePreviousV2(const fs::path& dir) {
  std::string url = SqlitePrevious(dir);
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(url.substr(std::strlen("sqlite:")).c_str(), &db), "open");
  Exec(db, "BEGIN");
  Exec(db, "ALTER TABLE duet_links RENAME TO duet_links_v1");
  Exec(db, kSchemaV2);
  Exec(db, kCopyLinksV2);
  Exec(db, "INSERT OR REPLACE INTO duet_meta (key, value) VALUES ('schema_version', '2')");
  Exec(db, "COMMIT");
  sqlite3_close(db);
  return url;
}

void SqliteMakeNewer(const std::string& url) {
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(url.substr(std::strlen("sqlite:")).c_str(), &db), "open");
  Exec(db, "UPDATE duet_meta SET value = '99' WHERE key = 'schema_version'");
  sqlite3_close(db);
}

}  // namespace

std::vector<StateStoreFactory> StateStoreFactories() {
  return {{"sqlite", &SqliteNewUrl, &SqlitePreviousV2, &SqlitePrevious, &SqliteMakeNewer,
           &sqlite::SeqPosition}};
}

}  // namespace duet::conformance
