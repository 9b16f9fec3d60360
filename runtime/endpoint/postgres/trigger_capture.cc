// PgCapture by triggers (pg_capture.h, trigger_capture.h).
//
// A row-level AFTER trigger on each captured table writes a change row
// (table, RowId, op, origin, time) with its transaction's id
// (pg_current_xact_id(), an xid8) and a seq; a statement-level trigger
// sends a payload-free NOTIFY for the statements applications make.
//
// Commit order: neither the seq nor the xid is commit-ordered (a
// transaction that began first may commit last), so a reader that took
// "everything after the last seq or xid it saw" would skip it. Instead,
// every read first numbers, under a lock on P_trg_commits, the
// transactions whose change rows it can see and that have no number yet:
// a statement sees a transaction's rows only once it has committed, and
// then all of them. The numbers only grow, a transaction is numbered once,
// after it committed, and positions are (number, seq): a change can never
// appear behind a position already returned. Transactions numbered by the
// same read go in the order of their last change row's seq: when one wrote
// a row after another's write of it committed (row locks order them), its
// last seq is the larger, so every row's changes come in the order they
// were made. The order is thus a serialization of the transactions that
// agrees with every row's history, though not always the server's exact
// commit order of unrelated transactions.
//
// The numbered changes are then read into memory (KeptChanges, as logical
// decoding keeps the decoded stream) and every question is answered there;
// PruneChangelog deletes the acknowledged change rows except the one at
// `through`, which a new process loads again so that its stream ends where
// this one's did.
#include "runtime/endpoint/postgres/trigger_capture.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>

#include "runtime/endpoint/postgres/kept_changes.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/pg/wire_reader.h"

namespace duet::pg {

endpoint::Position EncodeChangeRowPosition(ChangeRowPoint point) {
  std::string bytes;
  PutBigEndian(point.commit, 8, &bytes);
  PutBigEndian(point.seq, 8, &bytes);
  return endpoint::Position::FromBytes(std::move(bytes));
}

Expected<std::optional<ChangeRowPoint>> DecodeChangeRowPosition(
    const endpoint::Position& position) {
  if (position.is_beginning()) return std::optional<ChangeRowPoint>();
  ChangeRowPoint point;
  WireReader in(position.bytes());
  if (position.is_after_all() || !in.U64(&point.commit) || !in.U64(&point.seq) || in.left() != 0 ||
      point.commit == 0) {
    return InvalidArgumentError("position '" + position.ToHex() +
                                "' is not a position of a PostgreSQL change table");
  }
  return std::optional<ChangeRowPoint>(point);
}

std::string RowIdSql(const std::string& record, const std::vector<std::string>& key_columns) {
  std::vector<std::string> texts;
  for (const std::string& column : key_columns) {
    texts.push_back("format('%s', " + record + "." + QuoteIdent(column) + ")");
  }
  if (texts.size() == 1) return texts[0];
  // array_to_json prints no space after the commas and escapes as
  // EncodeRowId does (\", \\, \b, \f, \n, \r, \t, \u00XX for the other
  // control characters, everything else as it is).
  std::string sql = "array_to_json(ARRAY[";
  for (size_t i = 0; i < texts.size(); ++i) sql += (i ? ", " : "") + texts[i];
  return sql + "]::text[])::text";
}

namespace {

using endpoint::ChangeOp;
using endpoint::Endpoint;
using endpoint::Position;
using endpoint::RowId;

// How often, at most, a lost LISTEN connection is reconnected.
constexpr auto kReconnectEvery = std::chrono::seconds(1);

// How each row function runs, whatever the application's session set:
// - as its owner (SECURITY DEFINER, with a search_path of pg_catalog only),
//   so that applications need no privilege on capture's tables, and no
//   object of theirs is found in place of a built-in one;
// - under the settings of duet's own connections (pg_conn.h's
//   kSessionSettings), so that the key's text is the one they print.
constexpr char kFunctionSettings[] =
    " SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
    " SET DateStyle = ISO SET IntervalStyle = iso_8601 SET TimeZone = 'UTC'"
    " SET extra_float_digits = 3";

constexpr char kOriginSql[] = "coalesce(current_setting('duet.origin', true), '')";

std::string Qualified(const CapturedTable& t) {
  return QuoteIdent(t.schema) + "." + QuoteIdent(t.table);
}

// 8 hex digits of FNV-1a of `text`: a row function's name per table.
std::string ShortHash(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) hash = (hash ^ c) * 16777619u;
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(kHex[(hash >> (28 - 4 * i)) & 15]);
  return out;
}

ChangeOp OpOf(std::string_view op) {
  return op == "i" ? ChangeOp::kInsert : op == "d" ? ChangeOp::kDelete : ChangeOp::kUpdate;
}

struct TriggerNames {
  std::string prefix;  // P_trg: the NOTIFY channel, the triggers' names' stem
  std::string schema;
  std::string Ref(const std::string& suffix) const {
    return QuoteIdent(schema) + "." + QuoteIdent(prefix + suffix);
  }
  std::string RowFunction(const std::string& qualified_table) const {
    return Ref("_row_" + ShortHash(qualified_table));
  }
};

class TriggerCapture : public KeptChangesCapture {
 public:
  TriggerCapture(std::string conninfo, std::string system, std::vector<CapturedTable> tables)
      : KeptChangesCapture(std::move(conninfo), std::move(system), tables),
        tables_(std::move(tables)) {}

  Expected<endpoint::CaptureCounts> Install(const std::vector<std::string>& tables) override;
  Expected<endpoint::CaptureCounts> Uninstall() override;
  Status Check(const std::vector<std::string>& tables) override;
  Expected<std::string> BoundState() override;
  Status BindState(const std::string& state_id) override;

  Status PruneChangelog(const Position& through) override;
  Expected<std::optional<int64_t>> RetainedBytes() override;
  int ChangeFd() override;
  Endpoint::ChangeState CheckChanges() override;
  Status MarkSession(Connection& session, std::string_view origin) override;

 private:
  Expected<const TriggerNames*> TriggerObjects();
  Expected<bool> Installed();
  Expected<std::vector<const CapturedTable*>> Resolve(const std::vector<std::string>& tables);
  Status CheckInstallable(const std::vector<const CapturedTable*>& tables);
  Expected<int> CreateTables();
  Status InstallTable(const CapturedTable& t);
  Expected<std::vector<std::string>> RecordedTables();
  Status DropTriggers(const std::string& qualified);
  // A statement on the SQL connection, once more on a new connection when
  // the old one was lost since its last use (a server restart).
  Expected<Result> Exec(const std::string& sql, const std::vector<Param>& params,
                        std::string_view what);

  // Numbers the transactions that have become visible and keeps their
  // changes.
  Status Sync();
  Status CatchUp() override { return Sync(); }
  Status EnsureSynced() override { return Sync(); }
  Status ValidatePosition(const Position& position) override {
    return CheckPosition(position).status();
  }
  Status NumberVisible();
  Status LoadNumbered();
  Expected<std::optional<ChangeRowPoint>> CheckPosition(const Position& position);
  Status Listen();

  std::vector<CapturedTable> tables_;
  std::unique_ptr<Connection> listen_;
  std::chrono::steady_clock::time_point next_listen_;
  std::optional<TriggerNames> trigger_names_;
  uint64_t loaded_through_ = 0;  // the newest transaction number kept
  bool changed_ = false;         // another writer's change kept since the last kChanged
  bool notified_ = false;        // a NOTIFY not yet followed by a read
};

// ---------------------------------------------------------------------------
// Connections, names, install.

Expected<const TriggerNames*> TriggerCapture::TriggerObjects() {
  Expected<const CaptureNames*> names = Names();
  if (!names.ok()) return names.status();
  if (!trigger_names_) trigger_names_ = TriggerNames{(*names)->prefix + "_trg", (*names)->schema};
  return &*trigger_names_;
}

Expected<Result> TriggerCapture::Exec(const std::string& sql, const std::vector<Param>& params,
                                      std::string_view what) {
  if (Expected<const TriggerNames*> names = TriggerObjects(); !names.ok()) return names.status();
  Expected<Result> r = sql_->Exec(sql, params, what);
  if (r.ok() || sql_->ok()) return r;
  if (Expected<const TriggerNames*> names = TriggerObjects(); !names.ok()) return names.status();
  return sql_->Exec(sql, params, what);
}

Expected<bool> TriggerCapture::Installed() {
  if (Expected<const TriggerNames*> names = TriggerObjects(); !names.ok()) return names.status();
  Expected<Result> r = Exec("SELECT to_regclass($1) IS NOT NULL",
                            {trigger_names_->Ref("_installed")}, "look for capture's tables");
  if (!r.ok()) return r.status();
  return r->Text(0, 0) == "t";
}

Expected<std::vector<const CapturedTable*>> TriggerCapture::Resolve(
    const std::vector<std::string>& tables) {
  std::vector<const CapturedTable*> out;
  for (const std::string& name : tables) {
    int t = kept_.TableOf(name);
    if (t < 0) return NotFoundError(Context() + ": no table '" + name + "' to capture");
    out.push_back(&tables_[static_cast<size_t>(t)]);
  }
  return out;
}

// Everything install needs, checked before anything is created, and every
// lack named at once.
Status TriggerCapture::CheckInstallable(const std::vector<const CapturedTable*>& tables) {
  std::vector<std::string> lacks;
  Expected<Result> r =
      sql_->Exec("SELECT has_schema_privilege(current_schema(), 'CREATE'), current_user", {},
                 "check the role's privileges");
  if (!r.ok()) return r.status();
  if (r->Text(0, 0) != "t") {
    lacks.push_back("CREATE on schema " + QuoteIdent(trigger_names_->schema) +
                    " (for the change table and the trigger functions)");
  }
  std::string role = QuoteIdent(r->Text(0, 1));
  for (const CapturedTable* t : tables) {
    std::string qualified = Qualified(*t);
    Expected<Result> rel = sql_->Exec(
        "SELECT has_table_privilege(c.oid, 'TRIGGER') FROM pg_class c JOIN pg_namespace n"
        " ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2"
        " AND c.relkind IN ('r', 'p')",
        {t->schema, t->table}, "check table " + t->name);
    if (!rel.ok()) return rel.status();
    if (rel->rows() != 1) {
      lacks.push_back("table " + qualified + " (it does not exist)");
    } else if (rel->Text(0, 0) != "t") {
      lacks.push_back("TRIGGER on table " + qualified + " (GRANT TRIGGER ON " + qualified + " TO " +
                      role + ")");
    }
    if (t->key_columns.empty()) {
      lacks.push_back("a primary key on table " + qualified + " (it names the captured rows)");
    }
  }
  if (lacks.empty()) return Status::Ok();
  std::string message = Context() + ": cannot install capture by triggers; it needs ";
  for (size_t i = 0; i < lacks.size(); ++i) message += (i ? "; " : "") + lacks[i];
  return FailedPreconditionError(message);
}

// Capture's own tables and the notify function; returns the number of
// objects created (0 when they were there).
Expected<int> TriggerCapture::CreateTables() {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  const TriggerNames& n = *trigger_names_;
  std::string sql =
      "CREATE TABLE IF NOT EXISTS " + n.Ref("_installed") +
      " (kind text NOT NULL, name text NOT NULL, PRIMARY KEY (kind, name));"
      "CREATE TABLE IF NOT EXISTS " +
      n.Ref("_changes") +
      " (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), seq bigserial NOT NULL,"
      " tbl text NOT NULL, row_id text NOT NULL, op \"char\" NOT NULL, origin text NOT NULL,"
      " at float8 NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),"
      " PRIMARY KEY (xid, seq));"
      "CREATE TABLE IF NOT EXISTS " +
      n.Ref("_commits") +
      " (n bigserial PRIMARY KEY, xid xid8 NOT NULL UNIQUE);"
      "CREATE OR REPLACE FUNCTION " +
      n.Ref("_notify") + "() RETURNS trigger LANGUAGE plpgsql AS $duet$ BEGIN IF " + kOriginSql +
      " = '' THEN PERFORM pg_notify(" + QuoteLiteral(n.prefix) +
      ", ''); END IF; RETURN NULL; END $duet$";
  if (Status s = sql_->Run(sql, "create capture's tables"); !s.ok()) return s;
  return *installed ? 0 : 4;
}

// The row function and the two triggers of table `t` (replaced when they
// differ), recorded.
Status TriggerCapture::InstallTable(const CapturedTable& t) {
  const TriggerNames& n = *trigger_names_;
  std::string qualified = Qualified(t);
  std::string insert = "INSERT INTO " + n.Ref("_changes") + " (tbl, row_id, op, origin) VALUES (" +
                       QuoteLiteral(t.name) + ", ";
  std::string sql = "CREATE OR REPLACE FUNCTION " + n.RowFunction(qualified) +
                    "() RETURNS trigger LANGUAGE plpgsql" + kFunctionSettings +
                    " AS $duet$ DECLARE origin text := " + kOriginSql +
                    "; old_id text; new_id text; BEGIN"
                    " IF TG_OP <> 'INSERT' THEN old_id := " +
                    RowIdSql("OLD", t.key_columns) +
                    "; END IF;"
                    " IF TG_OP <> 'DELETE' THEN new_id := " +
                    RowIdSql("NEW", t.key_columns) +
                    "; END IF;"
                    " IF old_id = new_id THEN " +
                    insert +
                    "new_id, 'u', origin); RETURN NULL; END IF;"
                    // A key change is the old key's delete and the new key's insert.
                    " IF old_id IS NOT NULL THEN " +
                    insert +
                    "old_id, 'd', origin); END IF;"
                    " IF new_id IS NOT NULL THEN " +
                    insert +
                    "new_id, 'i', origin); END IF;"
                    " RETURN NULL; END $duet$;"
                    "CREATE OR REPLACE TRIGGER " +
                    QuoteIdent(n.prefix + "_row") + " AFTER INSERT OR UPDATE OR DELETE ON " +
                    qualified + " FOR EACH ROW EXECUTE FUNCTION " + n.RowFunction(qualified) +
                    "();"
                    "CREATE OR REPLACE TRIGGER " +
                    QuoteIdent(n.prefix + "_stmt") + " AFTER INSERT OR UPDATE OR DELETE ON " +
                    qualified + " FOR EACH STATEMENT EXECUTE FUNCTION " + n.Ref("_notify") + "()";
  if (Status s = sql_->Run(sql, "create the triggers of " + t.name); !s.ok()) return s;
  return sql_
      ->Exec("INSERT INTO " + n.Ref("_installed") + " VALUES ('table', $1) ON CONFLICT DO NOTHING",
             {qualified}, "record what install created")
      .status();
}

Expected<std::vector<std::string>> TriggerCapture::RecordedTables() {
  Expected<Result> r = sql_->Exec("SELECT name FROM " + trigger_names_->Ref("_installed") +
                                      " WHERE kind = 'table' ORDER BY name",
                                  {}, "read what install created");
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->Text(i, 0));
  return out;
}

// Drops the triggers and the row function of a recorded table
// (`qualified`, as Qualified made it) and its record; a table dropped
// since has no triggers left to drop.
Status TriggerCapture::DropTriggers(const std::string& qualified) {
  const TriggerNames& n = *trigger_names_;
  Expected<Result> exists =
      sql_->Exec("SELECT to_regclass($1) IS NOT NULL", {qualified}, "look for table " + qualified);
  if (!exists.ok()) return exists.status();
  std::string sql;
  if (exists->Text(0, 0) == "t") {
    sql = "DROP TRIGGER IF EXISTS " + QuoteIdent(n.prefix + "_row") + " ON " + qualified +
          "; DROP TRIGGER IF EXISTS " + QuoteIdent(n.prefix + "_stmt") + " ON " + qualified + ";";
  }
  sql += "DROP FUNCTION IF EXISTS " + n.RowFunction(qualified) + "()";
  if (Status s = sql_->Run(sql, "drop the triggers of " + qualified); !s.ok()) return s;
  return sql_
      ->Exec("DELETE FROM " + n.Ref("_installed") + " WHERE kind = 'table' AND name = $1",
             {qualified}, "forget what install created")
      .status();
}

Expected<endpoint::CaptureCounts> TriggerCapture::Install(const std::vector<std::string>& tables) {
  Expected<std::vector<const CapturedTable*>> resolved = Resolve(tables);
  if (!resolved.ok()) return resolved.status();
  if (Expected<bool> installed = Installed(); !installed.ok()) return installed.status();
  if (Status s = CheckInstallable(*resolved); !s.ok()) return s;
  endpoint::CaptureCounts counts;
  counts.tables = static_cast<int>(resolved->size());
  // Everything in one transaction: all of it or nothing.
  Status s = sql_->Run("BEGIN");
  Expected<int> created = s.ok() ? CreateTables() : Expected<int>(s);
  s = created.status();
  if (s.ok()) counts.objects += *created;
  std::set<std::string> wanted;
  std::vector<std::string> recorded;
  if (s.ok()) {
    Expected<std::vector<std::string>> r = RecordedTables();
    s = r.status();
    if (r.ok()) recorded = std::move(*r);
  }
  for (const CapturedTable* t : *resolved) {
    if (!s.ok()) break;
    std::string qualified = Qualified(*t);
    if (!wanted.insert(qualified).second) continue;
    s = InstallTable(*t);
    counts.objects += std::find(recorded.begin(), recorded.end(), qualified) == recorded.end();
  }
  for (const std::string& qualified : recorded) {
    if (!s.ok()) break;
    if (wanted.count(qualified)) continue;
    s = DropTriggers(qualified);
    ++counts.objects;
  }
  if (s.ok()) s = sql_->Run("COMMIT");
  if (!s.ok()) {
    (void)sql_->Run("ROLLBACK");
    return s;
  }
  return counts;
}

Expected<endpoint::CaptureCounts> TriggerCapture::Uninstall() {
  listen_.reset();
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  endpoint::CaptureCounts counts;
  if (!*installed) return counts;
  Status s = sql_->Run("BEGIN");
  Expected<std::vector<std::string>> recorded =
      s.ok() ? RecordedTables() : Expected<std::vector<std::string>>(s);
  s = recorded.status();
  if (recorded.ok()) {
    for (const std::string& qualified : *recorded) {
      if (!s.ok()) break;
      s = DropTriggers(qualified);
      ++counts.tables;
      ++counts.objects;
    }
  }
  const TriggerNames& n = *trigger_names_;
  if (s.ok()) {
    s = sql_->Run("DROP FUNCTION " + n.Ref("_notify") + "(); DROP TABLE " + n.Ref("_changes") +
                      ", " + n.Ref("_commits") + ", " + n.Ref("_installed"),
                  "drop capture's tables");
    counts.objects += 4;
  }
  if (s.ok()) s = sql_->Run("COMMIT");
  if (!s.ok()) {
    (void)sql_->Run("ROLLBACK");
    return s;
  }
  return counts;
}

Status TriggerCapture::Check(const std::vector<std::string>& tables) {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  std::string run = " (run `duet install -c CONFIG`)";
  if (!*installed) return FailedPreconditionError(Context() + ": capture is not installed" + run);
  Expected<std::vector<const CapturedTable*>> resolved = Resolve(tables);
  if (!resolved.ok()) return resolved.status();
  for (const CapturedTable* t : *resolved) {
    Expected<Result> r = sql_->Exec(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname IN ($2, $3)",
        {Qualified(*t), trigger_names_->prefix + "_row", trigger_names_->prefix + "_stmt"},
        "look for the triggers of " + t->name);
    if (!r.ok()) return r.status();
    if (r->Text(0, 0) != "2") {
      return FailedPreconditionError(Context() + ": capture for table '" + t->table +
                                     "' is not installed" + run);
    }
  }
  return Status::Ok();
}

Expected<std::string> TriggerCapture::BoundState() {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) return std::string();
  return ReadBoundState(trigger_names_->Ref("_installed"));
}

Status TriggerCapture::BindState(const std::string& state_id) {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) {
    return FailedPreconditionError(Context() + ": capture is not installed (run `duet install`)");
  }
  return WriteBoundState(trigger_names_->Ref("_installed"), state_id);
}

Status TriggerCapture::MarkSession(Connection& session, std::string_view origin) {
  // Session-wide: the write session is duet's own, and only its
  // transactions run on it; the row triggers read it per change.
  return session
      .Exec("SELECT set_config('duet.origin', $1, false)", {std::string(origin)},
            "mark the session's origin")
      .status();
}

// ---------------------------------------------------------------------------
// Reading the change rows.

Status TriggerCapture::NumberVisible() {
  const TriggerNames& n = *trigger_names_;
  // The lock makes numbering one at a time (two processes on one
  // deployment): a number is committed before a larger one is given.
  // The INSERT's snapshot is taken after the lock is granted: it sees
  // every number given before.
  std::string sql = "BEGIN; LOCK TABLE " + n.Ref("_commits") +
                    " IN SHARE ROW EXCLUSIVE MODE;"
                    " INSERT INTO " +
                    n.Ref("_commits") + " (xid) SELECT c.xid FROM " + n.Ref("_changes") +
                    " c WHERE NOT EXISTS (SELECT 1 FROM " + n.Ref("_commits") +
                    " o WHERE o.xid = c.xid) GROUP BY c.xid ORDER BY max(c.seq); COMMIT";
  Status s = sql_->Run(sql, "number the committed transactions");
  if (!s.ok()) (void)sql_->Run("ROLLBACK");
  return s;
}

Status TriggerCapture::LoadNumbered() {
  const TriggerNames& n = *trigger_names_;
  Expected<Result> r = sql_->Exec("SELECT o.n, c.seq, c.tbl, c.row_id, c.op, c.origin, c.at FROM " +
                                      n.Ref("_commits") + " o JOIN " + n.Ref("_changes") +
                                      " c ON c.xid = o.xid WHERE o.n > $1 ORDER BY o.n, c.seq",
                                  {std::to_string(loaded_through_)}, "read the change rows");
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) {
    uint64_t number = std::stoull(std::string(r->Text(i, 0)));
    uint64_t seq = std::stoull(std::string(r->Text(i, 1)));
    loaded_through_ = std::max(loaded_through_, number);
    int table = kept_.TableOf(std::string(r->Text(i, 2)));
    // A row of a table this process does not capture (another manifest's).
    if (table < 0) continue;
    std::string origin(r->Text(i, 5));
    if (origin.empty()) changed_ = true;
    kept_.Keep(table, std::string(r->Text(i, 3)), OpOf(r->Text(i, 4)), origin,
               std::stod(std::string(r->Text(i, 6))), EncodeChangeRowPosition({number, seq}));
  }
  return Status::Ok();
}

Status TriggerCapture::Sync() {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) {
    return FailedPreconditionError(Context() + ": capture is not installed (run `duet install`)");
  }
  if (Status s = NumberVisible(); !s.ok()) return s;
  return LoadNumbered();
}

Expected<std::optional<ChangeRowPoint>> TriggerCapture::CheckPosition(const Position& position) {
  Expected<std::optional<ChangeRowPoint>> point = DecodeChangeRowPosition(position);
  if (!point.ok()) {
    return Status(point.status().code(), Context() + ": " + point.status().message());
  }
  if (*point && (*point)->commit > loaded_through_) {
    if (Status s = Sync(); !s.ok()) return s;
    if ((*point)->commit > loaded_through_) {
      return InvalidArgumentError(Context() + ": position '" + position.ToHex() +
                                  "' is past the end of this database's change stream");
    }
  }
  return point;
}

Status TriggerCapture::PruneChangelog(const Position& through) {
  Expected<std::optional<ChangeRowPoint>> point = CheckPosition(through);
  if (!point.ok()) return point.status();
  if (!*point) return Status::Ok();
  kept_.DropThrough(through);
  // The change at `through` stays, so that a new process's stream ends
  // there (reads skip it: it is not after their checkpoints).
  const TriggerNames& n = *trigger_names_;
  std::string number = std::to_string((*point)->commit);
  Expected<Result> pruned =
      Exec("DELETE FROM " + n.Ref("_changes") + " c USING " + n.Ref("_commits") +
               " o WHERE o.xid = c.xid AND (o.n < $1 OR (o.n = $1 AND c.seq < $2))",
           {number, std::to_string((*point)->seq)}, "prune the change rows");
  if (!pruned.ok()) return pruned.status();
  return Exec("DELETE FROM " + n.Ref("_commits") + " WHERE n < $1", {number},
              "prune the commit order")
      .status();
}

Expected<std::optional<int64_t>> TriggerCapture::RetainedBytes() {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) return std::optional<int64_t>();
  Expected<Result> r =
      sql_->Exec("SELECT pg_total_relation_size($1) + pg_total_relation_size($2)",
                 {trigger_names_->Ref("_changes"), trigger_names_->Ref("_commits")},
                 "read the size of the change table");
  if (!r.ok()) return r.status();
  return std::optional<int64_t>(std::stoll(std::string(r->Text(0, 0))));
}

Status TriggerCapture::Listen() {
  next_listen_ = std::chrono::steady_clock::now() + kReconnectEvery;
  Expected<const TriggerNames*> names = TriggerObjects();
  if (!names.ok()) return names.status();
  ConnectOptions options;
  options.label = system_ + " notifications";
  Expected<std::unique_ptr<Connection>> conn = Connection::Open(conninfo_, options);
  if (!conn.ok()) return conn.status();
  if (Status s = (*conn)->Run("LISTEN " + QuoteIdent((*names)->prefix), "listen"); !s.ok()) {
    return s;
  }
  listen_ = std::move(*conn);
  // Whatever committed before the LISTEN is found by the next read.
  notified_ = true;
  return Status::Ok();
}

int TriggerCapture::ChangeFd() {
  if ((!listen_ || !listen_->ok()) && std::chrono::steady_clock::now() >= next_listen_) {
    listen_.reset();
    (void)Listen();
  }
  return listen_ ? listen_->Socket() : -1;
}

Endpoint::ChangeState TriggerCapture::CheckChanges() {
  if (!listen_ || !listen_->ok()) {
    if (ChangeFd() < 0) return Endpoint::ChangeState::kSoon;
  }
  Expected<int> notes = listen_->TakeNotifications();
  if (!notes.ok()) return Endpoint::ChangeState::kSoon;
  if (*notes > 0) notified_ = true;
  if (notified_) {
    // Everything committed before the NOTIFY is numbered by this read.
    if (!Sync().ok()) return Endpoint::ChangeState::kSoon;
    notified_ = false;
  }
  if (changed_) {
    changed_ = false;
    return Endpoint::ChangeState::kChanged;
  }
  return Endpoint::ChangeState::kNone;
}

}  // namespace

std::unique_ptr<PgCapture> MakeTriggerCapture(std::string conninfo, std::string system,
                                              std::vector<CapturedTable> tables) {
  return std::make_unique<TriggerCapture>(std::move(conninfo), std::move(system),
                                          std::move(tables));
}

}  // namespace duet::pg
