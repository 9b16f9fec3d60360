#include "runtime/endpoint/sqlite/sqlite_endpoint.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>
#include <variant>

#include <utility>
#include "runtime/base/redact.h"
#include "runtime/endpoint/condition.h"
#include "runtime/endpoint/endpoint_transaction.h"
#include "runtime/endpoint/sqlite/key_match.h"
#include "runtime/endpoint/sqlite/row_key.h"
#include "runtime/endpoint/sqlite/seq_position.h"

#include "runtime/endpoint/sqlite/file_watch.h"
#include "runtime/endpoint/sqlite/sqlite_db.h"
#include "runtime/value/ops.h"

namespace duet::endpoint {
namespace {

using sqlite::QuoteIdentifier;
using sqlite::QuoteLiteral;
using sqlite::ScopedStatement;
using sqlite::Statement;

constexpr char kChangelog[] = "duet_changelog";
constexpr char kInstalled[] = "duet_installed";
// The captured tables, each numbered by a small integer the changelog
// stores instead of the table's name.
constexpr char kTables[] = "duet_tables";
// (tid, rid) of the changelog's deletes only (a partial index): whether a
// key was deleted before an insert (ReadInserts). An application's insert or
// update writes no index entry; the other questions about one row look only
// at the changes after a checkpoint and range-scan seq from there.
constexpr char kChangelogDelete[] = "duet_changelog_delete";
// The index of the layout before kChangelogDelete, on (tid, rid) of every
// change: install drops it.
constexpr char kChangelogRowOld[] = "duet_changelog_row";
// The changelog as it is: a row per change, `rid` the RowId's value as
// SQLite computes it (an integer for a rowid key, text otherwise; no
// declared type, so no affinity converts it), `at` the capture time in
// milliseconds since the Unix epoch.
constexpr char kChangelogDdl[] =
    "CREATE TABLE duet_changelog (seq INTEGER PRIMARY KEY, tid INTEGER NOT NULL, rid,"
    " op INTEGER NOT NULL, at INTEGER NOT NULL, origin TEXT)";
// The capture time a trigger records: milliseconds since the Unix epoch
// (julianday of the epoch is 2440587.5).
constexpr char kNowMs[] = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

std::string LocalName(std::string_view qualified) {
  size_t dot = qualified.find('.');
  return std::string(dot == std::string_view::npos ? qualified : qualified.substr(dot + 1));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Stored text as a value of `type`: ValueFromText's forms, and also a guid
// in braces and a date written as a datetime at midnight ('2024-03-01
// 00:00:00'), as other tools write them.
Expected<Value> ReadText(std::string_view text, const bundle::ColumnType& type) {
  if (type.kind == bundle::ValueKind::kGuid) return ValueFromText(StripGuidBraces(text), type);
  if (type.kind == bundle::ValueKind::kDate && text.size() > 10) {
    std::optional<int64_t> t = value::ParseDateTime(text);
    if (t && *t % value::kMicrosPerDay == 0) return Value::Date(*t / value::kMicrosPerDay);
  }
  return ValueFromText(text, type);
}

// Reads column `i` of `s` as a value of `type`; an error says what is wrong
// with the stored value.
Expected<Value> ReadColumn(const Statement& s, int i, const bundle::ColumnType& type) {
  using bundle::ValueKind;
  switch (s.ColumnType(i)) {
    case SQLITE_NULL:
      return Value::Null();
    case SQLITE_INTEGER: {
      int64_t v = s.ColumnInt(i);
      switch (type.kind) {
        case ValueKind::kBool:
          return Value::Bool(v != 0);
        case ValueKind::kInt:
          return Value::Int(v);
        case ValueKind::kFloat:
          return Value::Float(static_cast<double>(v));
        case ValueKind::kDecimal: {
          value::int128 d;
          if (!value::Rescale(v, 0, type.scale, &d) || !value::FitsPrecision(d, type.precision)) {
            return InvalidArgumentError("value " + std::to_string(v) + " has more digits than " +
                                        type.ToString() + " allows");
          }
          return Value::Decimal(d, type.scale);
        }
        case ValueKind::kString:
        case ValueKind::kRef:
          return ValueFromText(std::to_string(v), type);
        default:
          return InvalidArgumentError("expected " + type.ToString() + ", got the integer " +
                                      std::to_string(v));
      }
    }
    case SQLITE_FLOAT: {
      double v = s.ColumnDouble(i);
      switch (type.kind) {
        case ValueKind::kFloat:
          return Value::Float(v);
        case ValueKind::kInt:
          if (std::trunc(v) == v && v >= -9.2233720368547758e18 && v < 9.2233720368547758e18) {
            return Value::Int(static_cast<int64_t>(v));
          }
          return InvalidArgumentError("expected an integer, got " + value::FormatFloat(v));
        case ValueKind::kDecimal: {
          std::optional<value::int128> d = value::DoubleToDecimal(v, type.scale);
          if (!d || !value::FitsPrecision(*d, type.precision)) {
            return InvalidArgumentError("value " + value::FormatFloat(v) + " does not fit " +
                                        type.ToString());
          }
          return Value::Decimal(*d, type.scale);
        }
        case ValueKind::kString:
          return ValueFromText(value::FormatFloat(v), type);
        default:
          return InvalidArgumentError("expected " + type.ToString() + ", got the number " +
                                      value::FormatFloat(v));
      }
    }
    case SQLITE_BLOB: {
      std::string_view blob = s.ColumnBlob(i);
      if (type.kind == ValueKind::kGuid && blob.size() == 16) {
        std::array<uint8_t, 16> g;
        std::copy(blob.begin(), blob.end(), g.begin());
        return Value::Guid(g);
      }
      return InvalidArgumentError("expected " + type.ToString() + ", got a blob of " +
                                  std::to_string(blob.size()) + " bytes");
    }
    default:
      return ReadText(s.ColumnText(i), type);
  }
}

// Binds `v`, which must live until the statement has stepped and been
// reset (strings are bound without a copy).
void BindValue(Statement& s, int i, const Value& v) {
  switch (v.tag()) {
    case DUET_BOOL:
    case DUET_INT:
      s.BindInt(i, v.int_value());
      break;
    case DUET_FLOAT:
      s.BindDouble(i, v.float_value());
      break;
    case DUET_DECIMAL:
      s.BindText(i, value::FormatDecimal(v.decimal_value(), v.scale()));
      break;
    case DUET_STRING:
      s.BindTextNoCopy(i, v.string_value());
      break;
    case DUET_DATE:
    case DUET_DATETIME:
    case DUET_GUID:
      s.BindText(i, v.ToText());
      break;
    default:
      s.BindNull(i);
      break;
  }
}

void BindKeyParam(Statement& s, int i, const KeyParam& p) {
  switch (p.kind) {
    case KeyParam::Kind::kInt:
      s.BindInt(i, p.i);
      break;
    case KeyParam::Kind::kReal:
      s.BindDouble(i, p.d);
      break;
    case KeyParam::Kind::kText:
      s.BindText(i, p.s);
      break;
    case KeyParam::Kind::kBlob:
      s.BindBlob(i, p.s);
      break;
    case KeyParam::Kind::kNull:
      s.BindNull(i);
      break;
  }
}

// Binds the values of a RowId (DecodeRowId) from parameter `first` on.
void BindKey(Statement& s, int first, const std::vector<KeyParam>& key) {
  for (size_t i = 0; i < key.size(); ++i) BindKeyParam(s, first + static_cast<int>(i), key[i]);
}

// A changelog's `rid` as the RowId it holds.
RowId RidText(const Statement& s, int i) { return RowId(s.ColumnText(i)); }

// A changelog `rid` as bytes that are equal exactly when SQLite's `=` finds
// the two values equal (kind, then value; an integral real as the integer).
std::string RidKey(KeyParam::Kind kind, int64_t i, double d, std::string_view s) {
  std::string out;
  if (kind == KeyParam::Kind::kReal && d >= -9.2e18 && d <= 9.2e18 &&
      static_cast<double>(static_cast<int64_t>(d)) == d) {
    kind = KeyParam::Kind::kInt;
    i = static_cast<int64_t>(d);
  }
  out.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  switch (kind) {
    case KeyParam::Kind::kInt:
      out.append(reinterpret_cast<const char*>(&i), sizeof i);
      break;
    case KeyParam::Kind::kReal:
      out.append(reinterpret_cast<const char*>(&d), sizeof d);
      break;
    case KeyParam::Kind::kText:
    case KeyParam::Kind::kBlob:
      out.append(s);
      break;
    case KeyParam::Kind::kNull:
      break;
  }
  return out;
}

std::string RidKey(const KeyParam& p) { return RidKey(p.kind, p.i, p.d, p.s); }

std::string RidKey(const Statement& st, int col) {
  switch (st.ColumnType(col)) {
    case SQLITE_INTEGER:
      return RidKey(KeyParam::Kind::kInt, st.ColumnInt(col), 0, {});
    case SQLITE_FLOAT:
      return RidKey(KeyParam::Kind::kReal, 0, st.ColumnDouble(col), {});
    case SQLITE_TEXT:
      return RidKey(KeyParam::Kind::kText, 0, 0, st.ColumnText(col));
    case SQLITE_BLOB:
      return RidKey(KeyParam::Kind::kBlob, 0, 0, st.ColumnBlob(col));
    default:
      return RidKey(KeyParam::Kind::kNull, 0, 0, {});
  }
}

// Where the quoted text (string, name) or comment starting at `i` ends,
// one past its last character; npos when it is not closed.
size_t SkipQuotedOrComment(std::string_view sql, size_t i) {
  char c = sql[i];
  if (c == '-' || c == '/') {
    bool line = c == '-';
    size_t end = sql.find(line ? "\n" : "*/", i + 2);
    return end == std::string_view::npos ? (line ? sql.size() : end) : end + (line ? 1 : 2);
  }
  char close = c == '[' ? ']' : c;
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (sql[j] != close) continue;
    if (close != ']' && j + 1 < sql.size() && sql[j + 1] == close) {
      ++j;  // a doubled quote stays inside
      continue;
    }
    return j + 1;
  }
  return std::string_view::npos;
}

// What hides parentheses and semicolons in SQLite's SQL: strings, quoted
// names ("", ``, []) and comments (condition.h).
Expected<size_t> SkipHidden(std::string_view where, size_t i) {
  char c = where[i];
  bool comment =
      (c == '-' && where.substr(i, 2) == "--") || (c == '/' && where.substr(i, 2) == "/*");
  if (!comment && c != '\'' && c != '"' && c != '`' && c != '[') return i;
  size_t end = SkipQuotedOrComment(where, i);
  if (end != std::string_view::npos) return end;
  return InvalidArgumentError(comment ? "a comment is not closed" : "a quote is not closed");
}

// A row condition (`duet resync --where`) in parentheses, for a WHERE
// clause, once it is checked to be one SQL expression (condition.h).
Expected<std::string> Condition(const std::string& where) {
  return ConditionClause(where, SkipHidden);
}

class SqliteEndpoint;

class SqliteReader : public RowReader {
 public:
  SqliteReader(SqliteEndpoint* endpoint, RowKey key, std::string select, std::string from,
               std::vector<bundle::ColumnType> types, std::vector<std::string> names,
               std::vector<bool> not_null)
      : endpoint_(endpoint),
        key_(std::move(key)),
        select_(std::move(select)),
        from_(std::move(from)),
        read_sql_(select_ + from_ + " WHERE " + key_.Compare("t", "=", 1)),
        types_(std::move(types)),
        names_(std::move(names)),
        not_null_(std::move(not_null)) {}

  Expected<std::optional<Row>> Read(const RowId& id) override;
  Expected<std::vector<Row>> ReadMany(const std::vector<RowId>& ids) override;
  Expected<std::vector<Row>> Scan(const std::optional<RowId>& after, size_t limit) override;
  Expected<std::vector<RowId>> ScanIds(const std::optional<RowId>& after, size_t limit) override;
  Expected<std::vector<Row>> ScanWhere(const std::optional<RowId>& after, size_t limit,
                                       const std::string& where) override;
  Expected<int64_t> CountWhere(const std::string& where) override;
  Expected<int64_t> Count() override;

 private:
  Row MakeRow(const Statement& s) const;
  // `head` (SELECT ... FROM ...) of the rows after `after` in key order
  // where `condition` (when not empty) holds, at most `limit`: each row's
  // statement to `on_row`. A statement that cannot be prepared is
  // `prepare_failed`'s status.
  Status ScanWith(const std::string& head, const std::string& condition,
                  const std::optional<RowId>& after, size_t limit,
                  const std::function<void(const Statement&)>& on_row,
                  const std::function<Status(const Status&)>& prepare_failed);
  std::string TableOnly() const;  // from_ without the lookups' joins

  SqliteEndpoint* endpoint_;
  RowKey key_;
  std::string select_;  // "SELECT <RowId of t>, ... "
  std::string from_;    // "FROM T AS t LEFT JOIN ..."
  std::string read_sql_;
  Statement* read_ = nullptr;  // prepared on first use
  std::vector<bundle::ColumnType> types_;
  std::vector<std::string> names_;
  // Per path: a column of the table itself that its declaration says is
  // not null (a lookup's value may be null: the referenced row is missing).
  std::vector<bool> not_null_;
};

class SqliteEndpoint : public Endpoint {
 public:
  SqliteEndpoint(std::unique_ptr<sqlite::Db> db, std::string system, std::string file,
                 const bundle::Manifest& manifest)
      : db_(std::move(db)),
        system_(std::move(system)),
        path_("sqlite:" + file),
        file_(std::move(file)),
        manifest_(manifest) {
    // Commits of other writers from here on are changes (CheckChanges).
    last_data_version_ = DataVersion();
  }

  sqlite::Db& db() { return *db_; }
  const bundle::Table* FindTable(std::string_view qualified) const {
    return manifest_.FindTable(qualified);
  }
  // The SQL expression that names row `alias` of `table` as refs store it:
  // its `id` column, or its RowId when it has none.
  Expected<std::string> IdColumn(const bundle::Table& table, const std::string& alias) {
    if (!table.id.empty()) return alias + "." + QuoteIdentifier(table.id);
    Expected<RowKey> key = KeyOf(table.name);
    if (!key.ok()) return key.status();
    return key->Expr(alias);
  }

  const std::string& system() const override { return system_; }

  Status CheckSchema() override { return CheckTables({}); }

  Status CheckTables(const std::vector<std::string>& only) override {
    for (const bundle::Table& table : manifest_.tables) {
      if (table.system != system_) continue;
      if (!only.empty() && std::find(only.begin(), only.end(), table.name) == only.end()) continue;
      Expected<std::set<std::string>> columns = LiveColumns(LocalName(table.name));
      if (!columns.ok()) return columns.status();
      if (columns->empty()) {
        return FailedPreconditionError(system_ + ": table '" + LocalName(table.name) +
                                       "' does not exist in " + path_ + " (the bundle declares " +
                                       table.name + ")");
      }
      for (const bundle::Column& c : table.columns) {
        if (!columns->count(Lower(c.name))) {
          return FailedPreconditionError(system_ + ": table '" + LocalName(table.name) + "' in " +
                                         path_ + " has no column '" + c.name +
                                         "' (the bundle declares " + table.name + "." + c.name +
                                         " " + c.type.ToString() + ")");
        }
      }
    }
    return Status::Ok();
  }

  Expected<CaptureCounts> InstallCapture(const std::vector<std::string>& tables) override {
    if (Status s = db_->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
    if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Expected<CaptureCounts> counts = InstallLocked(tables);
    if (!counts.ok()) {
      (void)db_->Exec("ROLLBACK");
      return counts;
    }
    if (Status s = db_->Exec("COMMIT"); !s.ok()) return s;
    return counts;
  }

  Expected<CaptureCounts> UninstallCapture() override {
    CaptureCounts counts;
    if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Expected<bool> exists = TableExists(kInstalled);
    if (!exists.ok()) return exists.status();
    if (*exists) {
      std::vector<std::pair<std::string, std::string>> objects;
      {
        Expected<Statement*> s =
            db_->Prepare(std::string("SELECT kind, name FROM ") + kInstalled + " ORDER BY kind");
        if (!s.ok()) return s.status();
        ScopedStatement st(*s);
        while (st->Step() == SQLITE_ROW) {
          objects.emplace_back(std::string(st->ColumnText(0)), std::string(st->ColumnText(1)));
        }
      }
      // Triggers and indexes first: the changelog table is what they use.
      std::stable_sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) {
        return (a.first == "table") < (b.first == "table");
      });
      for (const auto& [kind, name] : objects) {
        if (kind == "state") continue;  // a binding, not an object (BindState)
        std::string sql = "DROP " + Upper(kind) + " IF EXISTS " + QuoteIdentifier(name);
        if (Status s = db_->Exec(sql); !s.ok()) {
          (void)db_->Exec("ROLLBACK");
          return s;
        }
        ++counts.objects;
        if (kind == "trigger" && name.ends_with("_insert")) ++counts.tables;
      }
      if (Status s = db_->Exec(std::string("DROP TABLE ") + kInstalled); !s.ok()) {
        (void)db_->Exec("ROLLBACK");
        return s;
      }
    }
    if (Status s = db_->Exec("COMMIT"); !s.ok()) return s;
    return counts;
  }

  Status CheckCapture(const std::vector<std::string>& tables) override {
    Expected<bool> exists = TableExists(kInstalled);
    if (!exists.ok()) return exists.status();
    if (!*exists) {
      return FailedPreconditionError(system_ + ": capture is not installed in " + path_ +
                                     " (run `duet install -c CONFIG` first)");
    }
    Expected<std::set<std::string>> changelog = LiveColumns(kChangelog);
    if (!changelog.ok()) return changelog.status();
    if (!changelog->count("tid")) {
      return FailedPreconditionError(
          system_ + ": capture in " + path_ +
          " was installed by an earlier version of duet (run `duet install -c CONFIG` to "
          "upgrade it; the changes it captured are kept)");
    }
    for (const std::string& table : tables) {
      for (const char* op : {"insert", "update", "delete"}) {
        std::string trigger = "duet_" + LocalName(table) + "_" + op;
        Expected<bool> has = Installed("trigger", trigger);
        if (!has.ok()) return has.status();
        if (!*has) {
          return FailedPreconditionError(system_ + ": capture for table '" + LocalName(table) +
                                         "' is not installed in " + path_ +
                                         " (run `duet install -c CONFIG`)");
        }
      }
    }
    return Status::Ok();
  }

  // The binding is a row of duet_installed of kind 'state', which
  // uninstall leaves to the table's own drop (it names no object).
  Expected<std::string> BoundState() override {
    Expected<bool> exists = TableExists(kInstalled);
    if (!exists.ok()) return exists.status();
    if (!*exists) return std::string();  // capture not installed: CheckCapture says so
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT name FROM ") + kInstalled + " WHERE kind = 'state'");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    int rc = st->Step();
    if (rc == SQLITE_ROW) return std::string(st->ColumnText(0));
    if (rc != SQLITE_DONE) return db_->Error("reading what install added");
    return std::string();
  }

  Status BindState(const std::string& state_id) override {
    if (Status s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = db_->Exec(std::string("DELETE FROM ") + kInstalled + " WHERE kind = 'state'");
    if (s.ok()) {
      CaptureCounts ignored;
      s = Record("state", state_id, &ignored);
    }
    if (!s.ok()) {
      (void)db_->Exec("ROLLBACK");
      return s;
    }
    return db_->Exec("COMMIT");
  }

  // The newest seq (0 when the changelog is empty).
  Expected<int64_t> ChangelogEnd() {
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT coalesce(max(seq), 0) FROM ") + kChangelog);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    if (st->Step() != SQLITE_ROW) return db_->Error("reading the changelog");
    return st->ColumnInt(0);
  }

  Expected<Position> StreamEnd() override {
    Expected<int64_t> end = ChangelogEnd();
    if (!end.ok()) return end.status();
    return sqlite::SeqPosition(*end);
  }

  Expected<Stream> ReadStream(const std::vector<std::string>& tables, const Position& after,
                              size_t limit) override {
    Expected<int64_t> from = sqlite::PositionSeq(after);
    if (!from.ok()) return from.status();
    // Up to the end as one read sees it: a short page then passes every
    // change up to there, of any table.
    Expected<int64_t> end = ChangelogEnd();
    if (!end.ok()) return end.status();
    Stream out;
    if (limit == 0) {
      out.read_to = after;
      return out;
    }
    std::string only;
    for (const std::string& table : tables) {
      Expected<int64_t> tid = TableId(table);
      if (!tid.ok()) return tid.status();
      if (*tid == kNoTable) continue;
      only += (only.empty() ? "" : ", ") + std::to_string(*tid);
    }
    if (!tables.empty() && only.empty()) {
      out.read_to = sqlite::SeqPosition(std::max(*from, *end));
      return out;
    }
    if (tables.empty()) {
      if (Status ready = CaptureReady(); !ready.ok()) return ready;
    }
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT seq, tid, rid, op, at / 1000.0, origin FROM ") +
                     kChangelog + " WHERE seq > ?1 AND seq <= ?2" +
                     (only.empty() ? "" : " AND tid IN (" + only + ")") + " ORDER BY seq LIMIT ?3");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *from);
    st->BindInt(2, *end);
    st->BindInt(3, static_cast<int64_t>(limit));
    int rc;
    int64_t last = 0;
    while ((rc = st->Step()) == SQLITE_ROW) {
      Change c;
      last = st->ColumnInt(0);
      c.position = sqlite::SeqPosition(last);
      Expected<std::string> name = TableName(st->ColumnInt(1));
      if (!name.ok()) return name.status();
      c.table = system_ + "." + *name;
      c.row_id = RidText(*st, 2);
      c.op = static_cast<ChangeOp>(st->ColumnInt(3));
      c.at = st->ColumnDouble(4);
      if (st->ColumnType(5) != SQLITE_NULL) c.origin = std::string(st->ColumnText(5));
      out.changes.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return db_->Error("reading the changelog");
    // A full page ends at its last change; a short one read up to the end.
    out.read_to = sqlite::SeqPosition(out.changes.size() == limit ? last : std::max(*from, *end));
    return out;
  }

  Expected<Inserts> ReadInserts(const std::string& table, const Position& after_position,
                                std::string_view origin,
                                const std::optional<Position>& own_after_position) override {
    Expected<int64_t> after = sqlite::PositionSeq(after_position);
    if (!after.ok()) return after.status();
    int64_t own_after = std::numeric_limits<int64_t>::max();
    if (own_after_position) {
      Expected<int64_t> seq = sqlite::PositionSeq(*own_after_position);
      if (!seq.ok()) return seq.status();
      own_after = *seq;
    }
    Inserts out;
    Expected<int64_t> end = ChangelogEnd();
    if (!end.ok()) return end.status();
    int64_t scanned_to = std::max(*after, *end);
    out.scanned_to = sqlite::SeqPosition(scanned_to);
    Expected<int64_t> tid = TableId(table);
    if (!tid.ok()) return tid.status();
    // Only an insert whose key's previous change is a delete: a new row
    // under a deleted row's key. An insert of a key that exists is an upsert
    // (INSERT OR REPLACE fires no delete trigger), the same row. The key's
    // last delete before the insert comes from the partial index of deletes
    // (most inserts have none); then no other change of the key may lie
    // between the two, a range of seq from that delete.
    Expected<Statement*> s = db_->Prepare(
        std::string("SELECT c.rid, c.seq FROM (SELECT c.rid, c.seq, (SELECT max(d.seq) FROM ") +
        kChangelog +
        " AS d WHERE d.tid = c.tid AND d.rid = c.rid AND d.op = 3 AND d.seq < c.seq) AS"
        " deleted FROM " +
        kChangelog +
        " AS c WHERE c.seq > ?1 AND c.seq <= ?2 AND c.tid = ?3 AND c.op = 1 AND"
        " (c.origin IS NULL OR c.origin <> ?4 OR c.seq > ?5)) AS c WHERE c.deleted IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM " +
        kChangelog +
        " AS p WHERE p.seq > c.deleted AND p.seq < c.seq AND p.tid = ?3 AND p.rid = c.rid)");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *after);
    st->BindInt(2, scanned_to);
    st->BindInt(3, *tid);
    st->BindText(4, origin);
    st->BindInt(5, own_after);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      out.rows.emplace_back(RidText(*st, 0), sqlite::SeqPosition(st->ColumnInt(1)));
    }
    if (rc != SQLITE_DONE) return db_->Error("reading the changelog");
    return out;
  }

  Expected<std::vector<std::pair<RowId, Position>>> ReadOwnInserts(
      const std::string& table, std::string_view origin, const Position& after_position) override {
    Expected<int64_t> after = sqlite::PositionSeq(after_position);
    if (!after.ok()) return after.status();
    Expected<int64_t> tid = TableId(table);
    if (!tid.ok()) return tid.status();
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT rid, seq FROM ") + kChangelog +
                     " WHERE seq > ?1 AND tid = ?2 AND op = 1 AND origin = ?3 ORDER BY seq");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *after);
    st->BindInt(2, *tid);
    st->BindText(3, origin);
    std::vector<std::pair<RowId, Position>> out;
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      out.emplace_back(RidText(*st, 0), sqlite::SeqPosition(st->ColumnInt(1)));
    }
    if (rc != SQLITE_DONE) return db_->Error("reading the changelog");
    return out;
  }

  Expected<int64_t> CountChanges(const std::string& table, const Position& after_position,
                                 std::string_view origin) override {
    Expected<int64_t> after = sqlite::PositionSeq(after_position);
    if (!after.ok()) return after.status();
    Expected<int64_t> tid = TableId(table);
    if (!tid.ok()) return tid.status();
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT count(*) FROM ") + kChangelog +
                     " WHERE seq > ?1 AND tid = ?2 AND (origin IS NULL OR origin <> ?3)");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *after);
    st->BindInt(2, *tid);
    st->BindText(3, origin);
    if (st->Step() != SQLITE_ROW) return db_->Error("counting changes");
    return st->ColumnInt(0);
  }

  Expected<std::optional<double>> LatestChangeTime(const std::string& table, const RowId& id,
                                                   const Position& after_position) override {
    Expected<int64_t> after = sqlite::PositionSeq(after_position);
    if (!after.ok()) return after.status();
    Expected<std::pair<int64_t, KeyParam>> rid = ChangelogRid(table, id);
    if (!rid.ok()) return rid.status();
    // No index finds one row's changes (every captured write would pay for
    // it): the application changes of the table after `after` (a
    // checkpoint: the unreconciled tail) are read once, by seq, into
    // app_changes_, and then only the changes committed since. Inside a
    // write transaction the changes after its start are this endpoint's
    // own, not yet stamped with their origin (CommitWrite): they are not
    // an application's.
    int64_t committed = write_start_;
    if (!transaction_open_) {
      Expected<int64_t> end = ChangelogEnd();
      if (!end.ok()) return end.status();
      committed = *end;
    }
    AppChanges& memo = app_changes_[rid->first];
    if (memo.after != *after || committed < memo.to) {
      memo.after = *after;
      memo.to = *after;
      memo.latest_at.clear();
    }
    if (committed > memo.to) {
      Expected<Statement*> s =
          db_->Prepare(std::string("SELECT rid, at FROM ") + kChangelog +
                       " WHERE seq > ?1 AND seq <= ?2 AND tid = ?3 AND origin IS NULL");
      if (!s.ok()) return s.status();
      ScopedStatement st(*s);
      st->BindInt(1, memo.to);
      st->BindInt(2, committed);
      st->BindInt(3, rid->first);
      int rc;
      while ((rc = st->Step()) == SQLITE_ROW && memo.latest_at.size() <= kAppChangesMax) {
        auto [it, added] = memo.latest_at.emplace(RidKey(*st, 0), st->ColumnInt(1));
        if (!added) it->second = std::max(it->second, st->ColumnInt(1));
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        app_changes_.erase(rid->first);
        return db_->Error("reading the changelog");
      }
      if (rc == SQLITE_ROW) {
        // Too many rows changed to remember: this row's changes by seq.
        app_changes_.erase(rid->first);
        Expected<Statement*> one =
            db_->Prepare(std::string("SELECT max(at) / 1000.0 FROM ") + kChangelog +
                         " WHERE seq > ?1 AND seq <= ?2 AND tid = ?3 AND rid = ?4 AND"
                         " origin IS NULL");
        if (!one.ok()) return one.status();
        ScopedStatement q(*one);
        q->BindInt(1, *after);
        q->BindInt(2, committed);
        q->BindInt(3, rid->first);
        BindKeyParam(*q, 4, rid->second);
        if (q->Step() != SQLITE_ROW) return db_->Error("reading the changelog");
        if (q->ColumnType(0) == SQLITE_NULL) return std::optional<double>();
        return std::optional<double>(q->ColumnDouble(0));
      }
      memo.to = committed;
    }
    auto it = memo.latest_at.find(RidKey(rid->second));
    if (it == memo.latest_at.end()) return std::optional<double>();
    return std::optional<double>(static_cast<double>(it->second) / 1000.0);
  }

  Expected<bool> OwnChangeAfter(const std::string& table, const RowId& id, std::string_view origin,
                                const Position& after_position) override {
    Expected<int64_t> after = sqlite::PositionSeq(after_position);
    if (!after.ok()) return after.status();
    Expected<std::pair<int64_t, KeyParam>> rid = ChangelogRid(table, id);
    if (!rid.ok()) return rid.status();
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT 1 FROM ") + kChangelog +
                     " WHERE seq > ?1 AND tid = ?2 AND rid = ?3 AND origin = ?4 LIMIT 1");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, *after);
    st->BindInt(2, rid->first);
    BindKeyParam(*st, 3, rid->second);
    st->BindText(4, origin);
    int rc = st->Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_->Error("reading the changelog");
    return rc == SQLITE_ROW;
  }

  Status PruneChangelog(const Position& through) override {
    Expected<int64_t> seq = sqlite::PositionSeq(through);
    if (!seq.ok()) return seq.status();
    Expected<Statement*> s =
        // The newest row stays: SQLite numbers a new row max(seq) + 1, so an
        // empty changelog would hand out numbers at or below checkpoints.
        db_->Prepare(std::string("DELETE FROM ") + kChangelog + " WHERE seq <= ?1 AND seq < " +
                     "(SELECT max(seq) FROM " + kChangelog + ")");
    if (!s.ok()) return s.status();
    (*s)->BindInt(1, *seq);
    return db_->Run(**s);
  }

  int ChangeFd() override {
    if (!watch_) watch_ = std::make_unique<sqlite::FileWatch>(file_);
    return watch_->fd();
  }

  ChangeState CheckChanges() override {
    // PRAGMA data_version moves when another connection commits: exact,
    // and cheap enough to ask at every wake-up. A write of the files makes
    // a commit likely soon (the WAL's frames are written before the commit
    // becomes visible), so the engine asks again shortly for a while.
    constexpr auto kSettle = std::chrono::milliseconds(50);
    auto now = std::chrono::steady_clock::now();
    if (watch_ && watch_->Drain()) settle_until_ = now + kSettle;
    int64_t version = DataVersion();
    if (version != last_data_version_) {
      last_data_version_ = version;
      return ChangeState::kChanged;
    }
    if (!watch_ || watch_->fd() < 0 || now < settle_until_) return ChangeState::kSoon;
    return ChangeState::kNone;
  }

  Expected<std::unique_ptr<RowReader>> Reader(const std::string& table,
                                              const std::vector<ColumnPath>& paths) override {
    const bundle::Table* t = FindTable(table);
    if (!t) return NotFoundError("no table '" + table + "' in the bundle");
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    std::string select = "SELECT " + key->Expr("t");
    std::string from = "FROM " + QuoteIdentifier(LocalName(table)) + " AS t";
    std::map<std::string, std::string> aliases;  // path prefix -> alias
    std::vector<bundle::ColumnType> types;
    std::vector<std::string> names;
    std::vector<bool> not_null;
    for (const ColumnPath& p : paths) {
      std::string alias = "t";
      const bundle::Table* current = t;
      std::string prefix;
      for (size_t hop = 0; hop + 1 < p.path.size(); ++hop) {
        const bundle::Column* ref = FindColumn(*current, p.path[hop]);
        if (!ref || ref->type.kind != bundle::ValueKind::kRef) {
          return InvalidArgumentError("lookup path hop '" + p.path[hop] + "' of " + current->name +
                                      " is not a ref column");
        }
        const bundle::Table* next = FindTable(ref->type.ref);
        if (!next) return NotFoundError("no table '" + ref->type.ref + "' in the bundle");
        prefix += p.path[hop] + ".";
        auto it = aliases.find(prefix);
        if (it == aliases.end()) {
          std::string joined = "j" + std::to_string(aliases.size() + 1);
          Expected<std::string> target = IdColumn(*next, joined);
          if (!target.ok()) return target.status();
          from += " LEFT JOIN " + QuoteIdentifier(LocalName(next->name)) + " AS " + joined +
                  " ON " + *target + " = " + alias + "." + QuoteIdentifier(p.path[hop]);
          it = aliases.emplace(prefix, joined).first;
        }
        alias = it->second;
        current = next;
      }
      select += ", " + alias + "." + QuoteIdentifier(p.path.back());
      types.push_back(p.type);
      std::string name;
      for (const std::string& part : p.path) name += (name.empty() ? "" : ".") + part;
      names.push_back(std::move(name));
      const bundle::Column* column = p.path.size() == 1 ? FindColumn(*t, p.path[0]) : nullptr;
      not_null.push_back(column && column->not_null);
    }
    return std::unique_ptr<RowReader>(new SqliteReader(this, std::move(*key), select + " ", from,
                                                       std::move(types), std::move(names),
                                                       std::move(not_null)));
  }

  void SetLockTimeout(std::chrono::milliseconds timeout) override {
    lock_timeout_ = timeout;
    sqlite3_busy_timeout(db_->handle(), static_cast<int>(timeout.count()));
  }

  Expected<std::unique_ptr<WriteTransaction>> Begin(std::string_view origin,
                                                    WriteLock lock) override;

  // The write transaction's steps (SqliteWriteTransaction), on this
  // endpoint's one connection.
  Status BeginWrite(std::string_view origin, WriteLock lock) {
    // BEGIN IMMEDIATE takes the write lock now (waiting up to the lock
    // timeout); BEGIN reads a snapshot and takes it at the first write.
    bool now = lock == WriteLock::kNow;
    if (Status s = db_->Exec(now ? "BEGIN IMMEDIATE" : "BEGIN"); !s.ok()) return s;
    lock_taken_ = false;
    locked_ = now;
    if (now) locked_at_ = std::chrono::steady_clock::now();
    origin_ = std::string(origin);
    Expected<int64_t> end = ChangelogEnd();
    if (!end.ok()) {
      (void)EndWrite("ROLLBACK");
      return end.status();
    }
    write_start_ = *end;
    return Status::Ok();
  }

  Status CommitWrite() {
    if (locked_ && !origin_.empty()) {
      Expected<Statement*> s =
          db_->Prepare(std::string("UPDATE ") + kChangelog + " SET origin = ?1 WHERE seq > ?2");
      if (!s.ok()) return s.status();
      (*s)->BindText(1, origin_);
      (*s)->BindInt(2, write_start_);
      if (Status status = db_->Run(**s); !status.ok()) return status;
    }
    return EndWrite("COMMIT");
  }

  void RollbackWrite() { (void)EndWrite("ROLLBACK"); }
  void EndTransaction() { transaction_open_ = false; }

  bool LostLockRace() override { return std::exchange(lock_taken_, false); }
  std::chrono::nanoseconds LastLockHeld() const override { return last_lock_held_; }

  Expected<RowId> Insert(const std::string& table, const std::vector<std::string>& columns,
                         const std::vector<Value>& values) {
    if (Status s = TakeLock(); !s.ok()) return s;
    // A map inserts the same columns row after row: the statements are
    // made once for a table and list of columns.
    if (!insert_ || table != insert_table_ || columns != insert_columns_) {
      if (Status s = PrepareInsert(table, columns); !s.ok()) return s;
    }
    Value new_id;
    if (insert_new_guid_) new_id = Value::Guid(NewUuidV7());
    // OR IGNORE: a row a constraint refuses is skipped, not aborted, so the
    // statement needs no statement journal (a copy of every page it
    // touches, since the capture trigger makes it write two tables). A
    // skipped row is tried again with OR ABORT for the database's reason.
    for (Statement* statement : {insert_, insert_abort_}) {
      ScopedStatement st(statement, /*clear_bindings=*/false);
      for (size_t i = 0; i < values.size(); ++i) {
        BindValue(*st, static_cast<int>(i + 1), values[i]);
      }
      if (insert_new_guid_) BindValue(*st, static_cast<int>(values.size() + 1), new_id);
      // RETURNING the new row's RowId: the row is written at the first
      // step, which returns its key; none when the row was skipped.
      int rc = st->Step();
      if (rc == SQLITE_ROW) {
        RowId id(st->ColumnText(0));
        if (st->Step() != SQLITE_DONE) return Rejected();
        return id;
      }
      if (rc != SQLITE_DONE) return Rejected();
    }
    // Skipped without an error both times: a trigger of the table said
    // RAISE(IGNORE).
    return FailedPreconditionError("a trigger of " + LocalName(table) +
                                   " ignored the row (RAISE(IGNORE))");
  }

  Status Update(const std::string& table, const RowId& id, const std::vector<std::string>& columns,
                const std::vector<Value>& values) {
    if (columns.empty()) return Status::Ok();
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    Expected<std::vector<KeyParam>> row = DecodeRowId(*key, id);
    if (!row.ok()) return row.status();
    if (Status s = TakeLock(); !s.ok()) return s;
    std::string rest = QuoteIdentifier(LocalName(table)) + " SET ";
    for (size_t i = 0; i < columns.size(); ++i) {
      rest += (i ? ", " : "") + QuoteIdentifier(columns[i]) + " = ?" + std::to_string(i + 1);
    }
    int key_at = static_cast<int>(values.size() + 1);
    rest += " WHERE " + key->Compare("", "=", key_at);
    // OR IGNORE first, as Insert does; no change means a refused row or no
    // row at all, which OR ABORT tells apart.
    for (const char* verb : {"UPDATE OR IGNORE ", "UPDATE OR ABORT "}) {
      Expected<Statement*> s = db_->Prepare(verb + rest);
      if (!s.ok()) return s.status();
      ScopedStatement st(*s, /*clear_bindings=*/false);
      for (size_t i = 0; i < values.size(); ++i) {
        BindValue(*st, static_cast<int>(i + 1), values[i]);
      }
      BindKey(*st, key_at, *row);
      if (st->Step() != SQLITE_DONE) return Rejected();
      if (sqlite3_changes(db_->handle()) > 0) return Status::Ok();
    }
    // No change and no error: the row is gone, which is the caller's to
    // notice, or a trigger ignored the update.
    Expected<Statement*> exists =
        db_->Prepare("SELECT 1 FROM " + QuoteIdentifier(LocalName(table)) + " WHERE " +
                     key->Compare("", "=", 1));
    if (!exists.ok()) return exists.status();
    ScopedStatement st(*exists);
    BindKey(*st, 1, *row);
    int rc = st->Step();
    if (rc == SQLITE_ROW) {
      return FailedPreconditionError("a trigger of " + LocalName(table) +
                                     " ignored the update (RAISE(IGNORE))");
    }
    if (rc != SQLITE_DONE) return db_->Error("looking for a row of " + table);
    return Status::Ok();
  }

  Status Delete(const std::string& table, const RowId& id) {
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    Expected<std::vector<KeyParam>> row = DecodeRowId(*key, id);
    if (!row.ok()) return row.status();
    if (Status s = TakeLock(); !s.ok()) return s;
    Expected<Statement*> s = db_->Prepare("DELETE FROM " + QuoteIdentifier(LocalName(table)) +
                                          " WHERE " + key->Compare("", "=", 1));
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    BindKey(*st, 1, *row);
    if (st->Step() != SQLITE_DONE) return Rejected();
    return Status::Ok();
  }

  // The database-wide write lock keeps every row as read until the
  // transaction ends: under kAtFirstWrite it is taken as the first write
  // takes it (TakeLock: without waiting, since SQLite does not wait for it
  // in a transaction that has read a snapshot, and fails when the snapshot
  // is stale), under kNow it is held since Begin. The rows are read by a
  // RowReader's ReadMany after that, so they are the database's current
  // values.
  Expected<std::vector<Row>> ReadForUpdate(const std::string& table,
                                           const std::vector<ColumnPath>& paths,
                                           const std::vector<RowId>& ids) {
    Expected<std::unique_ptr<RowReader>> reader = Reader(table, paths);
    if (!reader.ok()) return reader.status();
    if (ids.empty()) return std::vector<Row>();
    if (Status s = TakeLock(); !s.ok()) return s;
    return (*reader)->ReadMany(ids);
  }

  // Compares by value of each column's type, whatever form the database
  // holds (key_match.h): an index-friendly condition selects candidates,
  // which are then read as the type and compared.
  Expected<std::optional<RowId>> FindRow(const std::string& table,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& values) override {
    for (const Value& v : values) {
      if (v.is_null()) return std::optional<RowId>();
    }
    const bundle::Table* t = FindTable(table);
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    // Per column, the type and value it is compared as; nullopt: by SQL
    // equality with the value as duet writes it.
    std::vector<std::optional<std::pair<bundle::ColumnType, Value>>> typed;
    std::string sql = "SELECT " + key->Expr("");
    for (const std::string& c : columns) sql += ", " + QuoteIdentifier(c);
    sql += " FROM " + QuoteIdentifier(LocalName(table)) + " WHERE ";
    std::vector<std::variant<KeyParam, const Value*>> params;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i) sql += " AND ";
      std::optional<bundle::ColumnType> type =
          t ? KeyType(*t, columns[i]) : std::optional<bundle::ColumnType>();
      std::optional<Value> v = type ? AsKeyValue(values[i], *type) : std::optional<Value>();
      if (!v) {
        typed.emplace_back();
        sql += QuoteIdentifier(columns[i]) + " = ?";
        params.emplace_back(&values[i]);
        continue;
      }
      std::vector<KeyParam> condition;
      AppendKeyCondition(QuoteIdentifier(columns[i]), *type, *v, &sql, &condition);
      for (KeyParam& p : condition) params.emplace_back(std::move(p));
      typed.emplace_back(std::make_pair(*type, std::move(*v)));
    }
    sql += " ORDER BY " + key->Columns("");
    Expected<Statement*> s = db_->Prepare(sql);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    for (size_t i = 0; i < params.size(); ++i) {
      int at = static_cast<int>(i + 1);
      if (const Value* const* v = std::get_if<const Value*>(&params[i])) {
        BindValue(*st, at, **v);
      } else {
        BindKeyParam(*st, at, std::get<KeyParam>(params[i]));
      }
    }
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) {
      if (SameKey(*st, typed)) return std::optional<RowId>(RowId(st->ColumnText(0)));
    }
    if (rc != SQLITE_DONE) return db_->Error("looking up a row of " + table);
    return std::optional<RowId>();
  }

  Expected<Value> RefValue(const std::string& table, const RowId& id) override {
    const bundle::Table* t = FindTable(table);
    if (!t) return NotFoundError("no table '" + table + "' in the bundle");
    if (t->id.empty()) return Value::String(id);
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    Expected<std::vector<KeyParam>> row = DecodeRowId(*key, id);
    if (!row.ok()) return row.status();
    Expected<Statement*> s =
        db_->Prepare("SELECT " + QuoteIdentifier(t->id) + " FROM " +
                     QuoteIdentifier(LocalName(table)) + " WHERE " + key->Compare("", "=", 1));
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    BindKey(*st, 1, *row);
    if (st->Step() != SQLITE_ROW) return db_->Error("reading the id of a row of " + table);
    bundle::ColumnType as_ref;
    as_ref.kind = bundle::ValueKind::kRef;
    return ReadColumn(*st, 0, as_ref);
  }

 private:
  static std::string Upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }

  static const bundle::Column* FindColumn(const bundle::Table& table, std::string_view name) {
    for (const bundle::Column& c : table.columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }

  // The type a key column's values are compared as: its own, or for a ref
  // the type of the referenced table's `id` (an int for its rowid).
  std::optional<bundle::ColumnType> KeyType(const bundle::Table& table, std::string_view column) {
    const bundle::Column* c = FindColumn(table, column);
    if (!c) return std::nullopt;
    if (c->type.kind != bundle::ValueKind::kRef) return c->type;
    const bundle::Table* target = FindTable(c->type.ref);
    if (!target) return std::nullopt;
    const bundle::Column* id = target->id.empty() ? nullptr : FindColumn(*target, target->id);
    if (id && id->type.kind == bundle::ValueKind::kRef) return std::nullopt;
    bundle::ColumnType rowid;
    rowid.kind = bundle::ValueKind::kInt;
    return id ? id->type : rowid;
  }

  // Whether the row `st` stands on (rowid, then the key columns) holds the
  // `typed` values; columns without one were compared by SQL already.
  static bool SameKey(
      const Statement& st,
      const std::vector<std::optional<std::pair<bundle::ColumnType, Value>>>& typed) {
    for (size_t i = 0; i < typed.size(); ++i) {
      if (!typed[i]) continue;
      Expected<Value> got = ReadColumn(st, static_cast<int>(i + 1), typed[i]->first);
      if (!got.ok() || !(*got == typed[i]->second)) return false;
    }
    return true;
  }

  Status PrepareInsert(const std::string& table, const std::vector<std::string>& columns) {
    const bundle::Table* t = FindTable(table);
    if (!t) return NotFoundError("no table '" + table + "' in the bundle");
    std::vector<std::string> cols = columns;
    insert_new_guid_ = false;
    if (!t->id.empty() && std::find(cols.begin(), cols.end(), t->id) == cols.end()) {
      const bundle::Column* id = FindColumn(*t, t->id);
      if (id && id->type.kind == bundle::ValueKind::kGuid) {
        insert_new_guid_ = true;
        cols.push_back(t->id);
      }
    }
    std::string rest = QuoteIdentifier(LocalName(table));
    if (cols.empty()) {
      rest += " DEFAULT VALUES";
    } else {
      rest += " (";
      for (size_t i = 0; i < cols.size(); ++i) rest += (i ? ", " : "") + QuoteIdentifier(cols[i]);
      rest += ") VALUES (";
      for (size_t i = 0; i < cols.size(); ++i) rest += i ? ", ?" : "?";
      rest += ")";
    }
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    rest += " RETURNING " + key->Expr("");
    Expected<Statement*> ignore = db_->Prepare("INSERT OR IGNORE INTO " + rest);
    if (!ignore.ok()) return ignore.status();
    Expected<Statement*> abort = db_->Prepare("INSERT OR ABORT INTO " + rest);
    if (!abort.ok()) return abort.status();
    insert_table_ = table;
    insert_columns_ = columns;
    insert_ = *ignore;
    insert_abort_ = *abort;
    return Status::Ok();
  }

  // The database refused a write: its message, as the reason of an error
  // item ("NOT NULL constraint failed: account.name"). Writes say OR ABORT,
  // which overrides a table's own conflict clause, so a refused write has
  // undone itself and the transaction goes on without a savepoint per row;
  // if the transaction is gone even so (RAISE(ROLLBACK) in an application's
  // trigger, a full disk), the batch cannot go on.
  Status Rejected() const {
    if (sqlite3_get_autocommit(db_->handle())) {
      // Not worth waiting for: the same rows would roll it back again.
      return IoError(path_ +
                     ": the write transaction was rolled back: " + sqlite3_errmsg(db_->handle()));
    }
    return FailedPreconditionError(sqlite3_errmsg(db_->handle()));
  }

  // The write lock of a transaction begun with WriteLock::kAtFirstWrite,
  // without waiting: a statement that writes nothing takes it (and writes
  // nothing to the WAL). Unavailable, and LostLockRace true, when another
  // writer holds it or has committed since this transaction's snapshot;
  // the caller rolls back.
  Status TakeLock() {
    if (locked_) return Status::Ok();
    sqlite3_busy_timeout(db_->handle(), 0);
    Status s = RunSql(std::string("DELETE FROM ") + kChangelog + " WHERE 0");
    sqlite3_busy_timeout(db_->handle(), static_cast<int>(lock_timeout_.count()));
    if (!s.ok()) {
      lock_taken_ = s.code() == StatusCode::kUnavailable;
      if (!lock_taken_) return s;
      return UnavailableError(db_->label() +
                              ": the write lock is held by another writer, or the database "
                              "changed since this batch read it");
    }
    locked_ = true;
    locked_at_ = std::chrono::steady_clock::now();
    return Status::Ok();
  }

  // COMMIT or ROLLBACK, noting how long the write lock was held.
  Status EndWrite(const char* sql) {
    Status s = db_->Exec(sql);
    last_lock_held_ =
        locked_ ? std::chrono::steady_clock::now() - locked_at_ : std::chrono::nanoseconds(0);
    locked_ = false;
    return s;
  }

  // A statement without parameters or results, prepared once.
  Status RunSql(const std::string& sql) {
    Expected<Statement*> s = db_->Prepare(sql);
    if (!s.ok()) return s.status();
    return db_->Run(**s);
  }

  int64_t DataVersion() {
    Expected<Statement*> s = db_->Prepare("PRAGMA data_version");
    if (!s.ok()) return -1;
    ScopedStatement st(*s);
    return st->Step() == SQLITE_ROW ? st->ColumnInt(0) : -1;
  }

  Expected<bool> TableExists(std::string_view name) {
    Expected<Statement*> s =
        db_->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, name);
    return st->Step() == SQLITE_ROW;
  }

  Expected<bool> Installed(std::string_view kind, std::string_view name) {
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT 1 FROM ") + kInstalled + " WHERE kind = ?1 AND name = ?2");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, kind);
    st->BindText(2, name);
    return st->Step() == SQLITE_ROW;
  }

  // Lower-cased column names of a live table; empty if it does not exist.
  Expected<std::set<std::string>> LiveColumns(const std::string& table) {
    Expected<Statement*> s = db_->Prepare("SELECT name FROM pragma_table_info(?1)");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, table);
    std::set<std::string> out;
    while (st->Step() == SQLITE_ROW) out.insert(Lower(st->ColumnText(0)));
    return out;
  }

  // Whether some index of `table` has exactly `columns` as its leading
  // columns (in any order), or they are the rowid.
  Expected<bool> HasIndexOn(const std::string& table, const std::vector<std::string>& columns) {
    std::set<std::string> wanted;
    for (const std::string& c : columns) wanted.insert(Lower(c));
    if (wanted.size() == 1 && (wanted.count("rowid") || IsRowidAlias(table, *wanted.begin()))) {
      return true;
    }
    Expected<Statement*> list = db_->Prepare("SELECT name FROM pragma_index_list(?1)");
    if (!list.ok()) return list.status();
    std::vector<std::string> indexes;
    {
      ScopedStatement st(*list);
      st->BindText(1, table);
      while (st->Step() == SQLITE_ROW) indexes.emplace_back(st->ColumnText(0));
    }
    for (const std::string& index : indexes) {
      Expected<Statement*> info =
          db_->Prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
      if (!info.ok()) return info.status();
      ScopedStatement st(*info);
      st->BindText(1, index);
      std::set<std::string> leading;
      while (st->Step() == SQLITE_ROW && leading.size() < wanted.size()) {
        leading.insert(Lower(st->ColumnText(0)));
      }
      if (leading == wanted) return true;
    }
    return false;
  }

  bool IsRowidAlias(const std::string& table, const std::string& column) {
    Expected<Statement*> s =
        db_->Prepare("SELECT lower(name), lower(type), pk FROM pragma_table_info(?1)");
    if (!s.ok()) return false;
    ScopedStatement st(*s);
    st->BindText(1, table);
    int pk_columns = 0;
    bool match = false;
    while (st->Step() == SQLITE_ROW) {
      if (st->ColumnInt(2) > 0) {
        ++pk_columns;
        match = match || (st->ColumnText(0) == column && st->ColumnText(1) == "integer");
      }
    }
    return match && pk_columns == 1;
  }

  // The primary key of `table` (a qualified or local name), which names its
  // rows (row_key.h); read from the database once.
  Expected<RowKey> KeyOf(const std::string& table) {
    std::string local = LocalName(table);
    auto it = keys_.find(local);
    if (it != keys_.end()) return it->second;
    Expected<Statement*> s =
        db_->Prepare("SELECT name, type FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk");
    if (!s.ok()) return s.status();
    std::vector<std::string> columns;
    std::vector<std::string> types;
    {
      ScopedStatement st(*s);
      st->BindText(1, local);
      int rc;
      while ((rc = st->Step()) == SQLITE_ROW) {
        columns.emplace_back(st->ColumnText(0));
        types.emplace_back(st->ColumnText(1));
      }
      if (rc != SQLITE_DONE) return db_->Error("reading the primary key of " + local);
    }
    Expected<Statement*> list =
        db_->Prepare("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1");
    if (!list.ok()) return list.status();
    bool without_rowid = false;
    {
      ScopedStatement st(*list);
      st->BindText(1, local);
      int rc = st->Step();
      if (rc == SQLITE_ROW) without_rowid = st->ColumnInt(0) != 0;
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_->Error("reading table " + local);
    }
    RowKey key = MakeRowKey(std::move(columns), types, without_rowid);
    keys_.emplace(local, key);
    return key;
  }

  // Ok when the changelog of this layout and duet_tables exist.
  Status CaptureReady() {
    Expected<std::set<std::string>> changelog = LiveColumns(kChangelog);
    if (!changelog.ok()) return changelog.status();
    Expected<bool> has_tables = TableExists(kTables);
    if (!has_tables.ok()) return has_tables.status();
    if (!changelog->count("tid") || !*has_tables) {
      Status s = CheckCapture({});
      if (!s.ok()) return s;
      return FailedPreconditionError(system_ + ": capture is not installed in " + path_);
    }
    return Status::Ok();
  }

  // The number the changelog gives `table`'s changes (duet_tables), or
  // kNoTable when capture is not installed for it.
  static constexpr int64_t kNoTable = -1;
  Expected<int64_t> TableId(const std::string& table) {
    std::string local = LocalName(table);
    auto it = tids_.find(local);
    if (it != tids_.end()) return it->second;
    if (Status ready = CaptureReady(); !ready.ok()) return ready;
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT tid FROM ") + kTables + " WHERE name = ?1");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, local);
    int rc = st->Step();
    // A table without capture (the target of a one-way map) has no changes.
    if (rc == SQLITE_DONE) return kNoTable;
    if (rc != SQLITE_ROW) return db_->Error("reading the captured tables");
    tids_.emplace(local, st->ColumnInt(0));
    return st->ColumnInt(0);
  }

  // The local name of the table the changelog numbers `tid`.
  Expected<std::string> TableName(int64_t tid) {
    for (const auto& [name, id] : tids_) {
      if (id == tid) return name;
    }
    Expected<Statement*> s =
        db_->Prepare(std::string("SELECT name FROM ") + kTables + " WHERE tid = ?1");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindInt(1, tid);
    int rc = st->Step();
    if (rc == SQLITE_DONE) {
      return DataLossError(system_ + ": the changelog of " + path_ + " names table number " +
                           std::to_string(tid) + ", which duet_tables does not have");
    }
    if (rc != SQLITE_ROW) return db_->Error("reading the captured tables");
    std::string name(st->ColumnText(0));
    tids_.emplace(name, tid);
    return name;
  }

  // The changelog's (tid, rid) of row `id` of `table`.
  Expected<std::pair<int64_t, KeyParam>> ChangelogRid(const std::string& table, const RowId& id) {
    Expected<int64_t> tid = TableId(table);
    if (!tid.ok()) return tid.status();
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    Expected<std::vector<KeyParam>> values = DecodeRowId(*key, id);
    if (!values.ok()) return values.status();
    if (key->kind != RowKey::Kind::kJson) return std::make_pair(*tid, std::move((*values)[0]));
    KeyParam rid;  // a JSON key is stored as its text
    rid.kind = KeyParam::Kind::kText;
    rid.s = id;
    return std::make_pair(*tid, std::move(rid));
  }

  // The first column of the rows of `sql`, as text.
  Expected<std::vector<std::string>> FirstColumn(const std::string& sql) {
    Expected<Statement*> s = db_->Prepare(sql);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    std::vector<std::string> out;
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) out.emplace_back(st->ColumnText(0));
    if (rc != SQLITE_DONE) return db_->Error("reading the capture objects");
    return out;
  }

  // Numbers `table` in duet_tables (once) and returns its number.
  Expected<int64_t> AddTable(const std::string& table) {
    Expected<Statement*> add =
        db_->Prepare(std::string("INSERT OR IGNORE INTO ") + kTables + " (name) VALUES (?1)");
    if (!add.ok()) return add.status();
    (*add)->BindText(1, table);
    if (Status s = db_->Run(**add); !s.ok()) return s;
    return TableId(table);
  }

  // Capture of `table`: its number in duet_tables and its triggers, each
  // created, or replaced when its definition changed.
  Status InstallTriggers(const std::string& table, CaptureCounts* counts) {
    Expected<std::set<std::string>> live = LiveColumns(table);
    if (!live.ok()) return live.status();
    if (live->empty()) {
      return FailedPreconditionError(system_ + ": table '" + table + "' does not exist in " +
                                     path_);
    }
    Expected<int64_t> tid = AddTable(table);
    if (!tid.ok()) return tid.status();
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    for (const char* op : {"insert", "update", "delete"}) {
      std::string trigger = "duet_" + table + "_" + op;
      std::string sql = TriggerSql(trigger, table, op, *tid, *key);
      if (Status s = ReplaceTrigger(trigger, sql); !s.ok()) return s;
      if (Status s = Record("trigger", trigger, counts); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // A capture trigger: a changelog row per row written, keyed by the
  // primary key. An update that changes the key is the old key's delete
  // and the new key's insert.
  static std::string TriggerSql(const std::string& trigger, const std::string& table,
                                std::string_view op, int64_t tid, const RowKey& key) {
    std::string head = "CREATE TRIGGER " + QuoteIdentifier(trigger) + " AFTER " +
                       (op == "insert"   ? "INSERT"
                        : op == "update" ? "UPDATE"
                                         : "DELETE") +
                       " ON " + QuoteIdentifier(table) + " BEGIN ";
    std::string insert = std::string("INSERT INTO ") + kChangelog + " (tid, rid, op, at) ";
    std::string id = std::to_string(tid);
    auto values = [&](const std::string& rid, const std::string& code) {
      return insert + "VALUES (" + id + ", " + rid + ", " + code + ", " + kNowMs + "); ";
    };
    if (op == "insert") return head + values(key.Expr("NEW"), "1") + "END";
    if (op == "delete") return head + values(key.Expr("OLD"), "3") + "END";
    std::string same = key.Same("OLD", "NEW");
    return head + insert + "SELECT " + id + ", " + key.Expr("OLD") + ", 3, " + kNowMs +
           " WHERE NOT (" + same + "); " +
           values(key.Expr("NEW"), "CASE WHEN " + same + " THEN 2 ELSE 1 END") + "END";
  }

  // Creates trigger `name` as `sql`, replacing one of that name whose
  // definition differs (an earlier version's).
  Status ReplaceTrigger(const std::string& name, const std::string& sql) {
    Expected<Statement*> s =
        db_->Prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1");
    if (!s.ok()) return s.status();
    {
      ScopedStatement st(*s);
      st->BindText(1, name);
      int rc = st->Step();
      if (rc == SQLITE_ROW && st->ColumnText(0) == sql) return Status::Ok();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_->Error("reading trigger " + name);
    }
    if (Status st = db_->Exec("DROP TRIGGER IF EXISTS " + QuoteIdentifier(name)); !st.ok()) {
      return st;
    }
    return db_->Exec(sql);
  }

  // A changelog of the first layout (table names as text, julianday
  // times): its triggers are dropped and it is renamed aside for
  // CopyOldChanges, all inside install's transaction, so no application
  // write falls in between. Returns whether there was one and the tables
  // it captured.
  struct OldLayout {
    bool found = false;
    std::vector<std::string> tables;
  };
  Expected<OldLayout> DetachOldChangelog() {
    Expected<std::set<std::string>> columns = LiveColumns(kChangelog);
    if (!columns.ok()) return columns.status();
    if (!columns->count("tbl")) return OldLayout();
    Expected<std::vector<std::string>> tables = FirstColumn(
        std::string("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' AND "
                    "name IN (SELECT name FROM ") +
        kInstalled + " WHERE kind = 'trigger') ORDER BY tbl_name");
    if (!tables.ok()) return tables.status();
    for (const std::string& table : *tables) {
      if (Status s = CheckUpgradable(table); !s.ok()) return s;
    }
    Expected<std::vector<std::string>> triggers =
        FirstColumn(std::string("SELECT name FROM ") + kInstalled + " WHERE kind = 'trigger'");
    if (!triggers.ok()) return triggers.status();
    for (const std::string& trigger : *triggers) {
      if (Status st = db_->Exec("DROP TRIGGER IF EXISTS " + QuoteIdentifier(trigger)); !st.ok()) {
        return st;
      }
    }
    if (Status st = db_->Exec(std::string("ALTER TABLE ") + kChangelog + " RENAME TO " +
                              kChangelog + "_v1");
        !st.ok()) {
      return st;
    }
    return OldLayout{true, std::move(*tables)};
  }

  // The first layout named every row by its rowid, and so do the state
  // store's links made then. A table whose rows are now named by another
  // primary key and that holds rows would leave those links naming rows
  // that do not exist, so its upgrade is refused (install's transaction
  // rolls back and the first layout keeps capturing).
  Status CheckUpgradable(const std::string& table) {
    Expected<RowKey> key = KeyOf(table);
    if (!key.ok()) return key.status();
    if (key->kind == RowKey::Kind::kRowid || key->without_rowid) return Status::Ok();
    Expected<std::vector<std::string>> any =
        FirstColumn("SELECT 1 FROM " + QuoteIdentifier(table) + " LIMIT 1");
    if (!any.ok()) return any.status();
    if (any->empty()) return Status::Ok();
    return FailedPreconditionError(
        system_ + ": capture in " + path_ + " was installed by an earlier version of duet, " +
        "which named the rows of table '" + table + "' by their rowid; this version names " +
        "them by the table's primary key, and cannot rename the state store's links of the " +
        "rows it holds: capture is left as it was (keep the earlier version for this database, " +
        "or start its maps afresh with a new state store)");
  }

  // Moves the changes of the first layout's changelog into the current one
  // with their seq (checkpoints are seqs), origin, op and time; a row id
  // that was a rowid becomes the row's primary key where the row still
  // exists and the key is not the rowid.
  Status CopyOldChanges() {
    std::string old = std::string(kChangelog) + "_v1";
    Expected<std::vector<std::string>> names = FirstColumn("SELECT DISTINCT tbl FROM " + old);
    if (!names.ok()) return names.status();
    for (const std::string& table : *names) {
      Expected<int64_t> tid = AddTable(table);
      if (!tid.ok()) return tid.status();
      std::string rid = "o.rid";
      Expected<std::set<std::string>> live = LiveColumns(table);
      if (!live.ok()) return live.status();
      if (!live->empty()) {
        Expected<RowKey> key = KeyOf(table);
        if (!key.ok()) return key.status();
        if (key->kind != RowKey::Kind::kRowid && !key->without_rowid) {
          rid = "coalesce((SELECT " + key->Expr("t") + " FROM " + QuoteIdentifier(table) +
                " AS t WHERE t.rowid = o.rid), o.rid)";
        }
      }
      Expected<Statement*> copy =
          db_->Prepare(std::string("INSERT INTO ") + kChangelog +
                       " (seq, tid, rid, op, at, origin) SELECT o.seq, ?1, " + rid +
                       ", o.op, CAST((o.at - 2440587.5) * 86400000.0 AS INTEGER), o.origin FROM " +
                       old + " AS o WHERE o.tbl = ?2");
      if (!copy.ok()) return copy.status();
      (*copy)->BindInt(1, *tid);
      (*copy)->BindText(2, table);
      if (Status s = db_->Run(**copy); !s.ok()) return s;
    }
    return db_->Exec("DROP TABLE " + old);
  }

  // The previous layout's index on (tid, rid) of every change cost every
  // captured write a second b-tree: it goes, and so does its record.
  Status DropOldIndex() {
    if (Status s = db_->Exec(std::string("DROP INDEX IF EXISTS ") + kChangelogRowOld); !s.ok()) {
      return s;
    }
    return db_->Exec(std::string("DELETE FROM ") + kInstalled +
                     " WHERE kind = 'index' AND name = " + QuoteLiteral(kChangelogRowOld));
  }

  Status Record(std::string_view kind, std::string_view name, CaptureCounts* counts) {
    Expected<Statement*> s = db_->Prepare(std::string("INSERT OR IGNORE INTO ") + kInstalled +
                                          " (kind, name) VALUES (?1, ?2)");
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    st->BindText(1, kind);
    st->BindText(2, name);
    if (st->Step() != SQLITE_DONE) return db_->Error("recording what install added");
    if (sqlite3_changes(db_->handle()) > 0) ++counts->objects;
    return Status::Ok();
  }

  Expected<CaptureCounts> InstallLocked(const std::vector<std::string>& tables) {
    CaptureCounts counts;
    if (Status s = db_->Exec(std::string("CREATE TABLE IF NOT EXISTS ") + kInstalled +
                             " (kind TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (kind, name))");
        !s.ok()) {
      return s;
    }
    Expected<OldLayout> old = DetachOldChangelog();
    if (!old.ok()) return old.status();
    Expected<bool> has_changelog = TableExists(kChangelog);
    if (!has_changelog.ok()) return has_changelog.status();
    if (!*has_changelog) {
      if (Status s = db_->Exec(kChangelogDdl); !s.ok()) return s;
    }
    if (Status s = db_->Exec(std::string("CREATE TABLE IF NOT EXISTS ") + kTables +
                             " (tid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
        !s.ok()) {
      return s;
    }
    if (Status s = DropOldIndex(); !s.ok()) return s;
    if (Status s = db_->Exec(std::string("CREATE INDEX IF NOT EXISTS ") + kChangelogDelete +
                             " ON " + kChangelog + " (tid, rid) WHERE op = 3");
        !s.ok()) {
      return s;
    }
    for (auto [kind, name] : {std::pair{"table", kChangelog}, std::pair{"table", kTables},
                              std::pair{"index", kChangelogDelete}}) {
      if (Status s = Record(kind, name, &counts); !s.ok()) return s;
    }
    if (old->found) {
      if (Status s = CopyOldChanges(); !s.ok()) return s;
    }
    std::vector<std::string> capture;
    for (const std::string& qualified : tables) capture.push_back(LocalName(qualified));
    for (const std::string& table : old->tables) {
      if (std::find(capture.begin(), capture.end(), table) == capture.end()) {
        capture.push_back(table);
      }
    }
    for (const std::string& table : capture) {
      if (Status s = InstallTriggers(table, &counts); !s.ok()) return s;
      ++counts.tables;
    }
    // Indexes that matching by alternate key and resolving lookups need, on
    // every table of this system the bundle declares, where none exists.
    for (const bundle::Table& t : manifest_.tables) {
      if (t.system != system_) continue;
      std::string table = LocalName(t.name);
      Expected<std::set<std::string>> live = LiveColumns(table);
      if (!live.ok()) return live.status();
      if (live->empty()) continue;  // CheckSchema reports it when it matters
      std::vector<std::pair<std::string, std::vector<std::string>>> wanted;
      if (!t.key.empty()) wanted.emplace_back("duet_key_" + table, t.key);
      if (!t.id.empty()) wanted.emplace_back("duet_id_" + table, std::vector<std::string>{t.id});
      for (const auto& [name, columns] : wanted) {
        bool all_live = true;
        for (const std::string& c : columns) all_live = all_live && live->count(Lower(c));
        if (!all_live) continue;
        Expected<bool> has = HasIndexOn(table, columns);
        if (!has.ok()) return has.status();
        if (*has) continue;
        std::string sql = "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(name) + " ON " +
                          QuoteIdentifier(table) + " (";
        for (size_t i = 0; i < columns.size(); ++i) {
          sql += (i ? ", " : "") + QuoteIdentifier(columns[i]);
        }
        sql += ")";
        if (Status s = db_->Exec(sql); !s.ok()) return s;
        if (Status s = Record("index", name, &counts); !s.ok()) return s;
      }
    }
    return counts;
  }

  std::unique_ptr<sqlite::Db> db_;
  std::string system_;
  std::string path_;
  std::string file_;
  const bundle::Manifest& manifest_;
  std::string origin_;
  int64_t write_start_ = 0;
  // LatestChangeTime's memory: per table (tid), the newest capture time
  // (ms) of each row's application changes with seq in (after, to], all
  // committed. Rebuilt when it is asked about another checkpoint.
  struct AppChanges {
    int64_t after = -1;
    int64_t to = 0;
    std::unordered_map<std::string, int64_t> latest_at;  // RidKey -> at
  };
  std::map<int64_t, AppChanges> app_changes_;  // by tid
  // Rows a memo holds at most (about 100 bytes each).
  static constexpr size_t kAppChangesMax = 500000;
  std::chrono::milliseconds lock_timeout_{30000};  // sqlite::Db::Open's
  bool transaction_open_ = false;                  // a SqliteWriteTransaction is open
  bool locked_ = false;                            // the open transaction holds the write lock
  bool lock_taken_ = false;                        // TakeLock found it held by another writer
  std::chrono::steady_clock::time_point locked_at_{};
  std::chrono::nanoseconds last_lock_held_{0};
  std::string insert_table_;  // the last Insert's statements, by table and columns
  std::vector<std::string> insert_columns_;
  Statement* insert_ = nullptr;        // OR IGNORE
  Statement* insert_abort_ = nullptr;  // OR ABORT, for the reason a row was refused
  bool insert_new_guid_ = false;       // the table's guid `id` gets a new UUIDv7
  int64_t last_data_version_ = -1;
  std::unique_ptr<sqlite::FileWatch> watch_;  // made by the first ChangeFd
  std::map<std::string, RowKey> keys_;        // KeyOf, by local table name
  std::map<std::string, int64_t> tids_;       // TableId, by local table name
  std::chrono::steady_clock::time_point settle_until_{};

  friend class SqliteReader;
};

Row SqliteReader::MakeRow(const Statement& s) const {
  Row row;
  row.id = RowId(s.ColumnText(0));
  row.values.reserve(types_.size());
  for (size_t i = 0; i < types_.size(); ++i) {
    Expected<Value> v = ReadColumn(s, static_cast<int>(i + 1), types_[i]);
    if (v.ok() && v->is_null() && not_null_[i]) {
      v = InvalidArgumentError("null, but the table declares the column not null");
    }
    if (!v.ok()) {
      if (row.problem.empty()) row.problem = "column '" + names_[i] + "': " + v.status().message();
      row.values.push_back(Value::Null());
    } else {
      row.values.push_back(std::move(*v));
    }
  }
  return row;
}

Expected<std::optional<Row>> SqliteReader::Read(const RowId& id) {
  Expected<std::vector<KeyParam>> key = DecodeRowId(key_, id);
  if (!key.ok()) return key.status();
  if (!read_) {
    Expected<Statement*> s = endpoint_->db().Prepare(read_sql_);
    if (!s.ok()) return s.status();
    read_ = *s;
  }
  ScopedStatement st(read_);
  BindKey(*st, 1, *key);
  int rc = st->Step();
  if (rc == SQLITE_ROW) return std::optional<Row>(MakeRow(*st));
  if (rc != SQLITE_DONE) return endpoint_->db().Error("reading a row");
  return std::optional<Row>();
}

Expected<std::vector<Row>> SqliteReader::Scan(const std::optional<RowId>& after, size_t limit) {
  std::vector<Row> rows;
  Status s = ScanWith(
      select_ + from_, "", after, limit, [&](const Statement& st) { rows.push_back(MakeRow(st)); },
      [](const Status& failed) { return failed; });
  if (!s.ok()) return s;
  return rows;
}

Status SqliteReader::ScanWith(const std::string& head, const std::string& condition,
                              const std::optional<RowId>& after, size_t limit,
                              const std::function<void(const Statement&)>& on_row,
                              const std::function<Status(const Status&)>& prepare_failed) {
  std::vector<KeyParam> from;
  std::string sql = head;
  if (after) {
    Expected<std::vector<KeyParam>> key = DecodeRowId(key_, *after);
    if (!key.ok()) return key.status();
    from = std::move(*key);
    // A row value: the rows after `after` in the key's order, from the
    // key's index.
    sql += " WHERE " + key_.Compare("t", ">", 1);
  }
  if (!condition.empty()) sql += (after ? " AND " : " WHERE ") + condition;
  int limit_at = static_cast<int>(from.size()) + 1;
  sql += " ORDER BY " + key_.Columns("t") + " LIMIT ?" + std::to_string(limit_at);
  Expected<Statement*> s = endpoint_->db().Prepare(sql);
  if (!s.ok()) return prepare_failed(s.status());
  ScopedStatement st(*s);
  BindKey(*st, 1, from);
  st->BindInt(limit_at, static_cast<int64_t>(limit));
  int rc;
  while ((rc = st->Step()) == SQLITE_ROW) on_row(*st);
  if (rc != SQLITE_DONE) return endpoint_->db().Error("reading rows");
  return Status::Ok();
}

Expected<std::vector<Row>> SqliteReader::ReadMany(const std::vector<RowId>& ids) {
  std::vector<Row> rows;
  if (key_.size() != 1) {
    // A composite key: one indexed read per row.
    for (const RowId& id : ids) {
      Expected<std::optional<Row>> row = Read(id);
      if (!row.ok()) return row.status();
      if (*row) rows.push_back(std::move(**row));
    }
    return rows;
  }
  constexpr size_t kChunk = 500;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    size_t n = std::min(kChunk, ids.size() - start);
    std::vector<KeyParam> keys;
    for (size_t i = 0; i < n; ++i) {
      Expected<std::vector<KeyParam>> key = DecodeRowId(key_, ids[start + i]);
      if (!key.ok()) return key.status();
      keys.push_back(std::move((*key)[0]));
    }
    std::string sql = select_ + from_ + " WHERE " + key_.Column("t", 0) + " IN (";
    for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
    sql += ")";
    Expected<Statement*> s = endpoint_->db().Prepare(sql);
    if (!s.ok()) return s.status();
    ScopedStatement st(*s);
    BindKey(*st, 1, keys);
    int rc;
    while ((rc = st->Step()) == SQLITE_ROW) rows.push_back(MakeRow(*st));
    if (rc != SQLITE_DONE) return endpoint_->db().Error("reading rows");
  }
  return rows;
}

Expected<std::vector<Row>> SqliteReader::ScanWhere(const std::optional<RowId>& after, size_t limit,
                                                   const std::string& where) {
  Expected<std::string> condition = Condition(where);
  if (!condition.ok()) return condition.status();
  std::vector<Row> rows;
  Status s = ScanWith(
      select_ + from_, *condition, after, limit,
      [&](const Statement& st) { rows.push_back(MakeRow(st)); },
      [&](const Status& failed) {
        return InvalidArgumentError("the condition '" + where + "': " + failed.message());
      });
  if (!s.ok()) return s;
  return rows;
}

Expected<int64_t> SqliteReader::CountWhere(const std::string& where) {
  Expected<std::string> condition = Condition(where);
  if (!condition.ok()) return condition.status();
  Expected<Statement*> s =
      endpoint_->db().Prepare("SELECT count(*) " + from_ + " WHERE " + *condition);
  if (!s.ok())
    return InvalidArgumentError("the condition '" + where + "': " + s.status().message());
  ScopedStatement st(*s);
  if (st->Step() != SQLITE_ROW) return endpoint_->db().Error("counting rows where " + where);
  return st->ColumnInt(0);
}

Expected<std::vector<RowId>> SqliteReader::ScanIds(const std::optional<RowId>& after,
                                                   size_t limit) {
  std::vector<RowId> ids;
  Status s = ScanWith(
      "SELECT " + key_.Expr("t") + " " + TableOnly(), "", after, limit,
      [&](const Statement& st) { ids.push_back(RowId(st.ColumnText(0))); },
      [](const Status& failed) { return failed; });
  if (!s.ok()) return s;
  return ids;
}

std::string SqliteReader::TableOnly() const {
  size_t from = from_.find(" LEFT JOIN ");
  return from == std::string::npos ? from_ : from_.substr(0, from);
}

Expected<int64_t> SqliteReader::Count() {
  Expected<Statement*> s = endpoint_->db().Prepare("SELECT count(*) " + TableOnly());
  if (!s.ok()) return s.status();
  ScopedStatement st(*s);
  if (st->Step() != SQLITE_ROW) return endpoint_->db().Error("counting rows");
  return st->ColumnInt(0);
}

// A write transaction of a SqliteEndpoint: its connection's one
// transaction, so at most one is open at a time.
using SqliteWriteTransaction = EndpointTransaction<SqliteEndpoint>;

Expected<std::unique_ptr<WriteTransaction>> SqliteEndpoint::Begin(std::string_view origin,
                                                                  WriteLock lock) {
  if (transaction_open_) {
    return FailedPreconditionError(system_ + ": a write transaction is already open");
  }
  if (Status s = BeginWrite(origin, lock); !s.ok()) return s;
  transaction_open_ = true;
  return std::unique_ptr<WriteTransaction>(new SqliteWriteTransaction(this));
}

}  // namespace

Expected<std::unique_ptr<Endpoint>> OpenSqliteEndpoint(const std::string& path,
                                                       const std::string& system,
                                                       const bundle::Manifest& manifest) {
  Expected<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(path, /*create=*/false, system + " (sqlite:" + path + ")");
  if (!db.ok()) return db.status();
  // Each commit is durable before the state store records it (docs/sync.md,
  // Crash safety), so keep SQLite's full fsync here.
  if (Status s = (*db)->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  return std::unique_ptr<Endpoint>(new SqliteEndpoint(std::move(*db), system, path, manifest));
}

}  // namespace duet::endpoint
