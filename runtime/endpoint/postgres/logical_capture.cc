// PgCapture by logical decoding (pg_capture.h, logical_capture.h).
//
// One replication slot is one stream, read once, while the engine's maps
// read it independently from their own checkpoints and ask per-table
// questions. So every decoded change after the last PruneChangelog is kept
// in memory (kept_, with per-table and per-row indexes), and every read is
// answered from there; PruneChangelog drops what is acknowledged and
// confirms it to the slot, whose confirmed position therefore never passes
// what the engine's state has committed. A new process (or a new
// connection) streams again from the slot's confirmed position: the
// transactions it had already are recognised by their commit LSN and
// dropped, and reads skip what is not after their `after`.
//
// "The end of the stream as a read saw it" (CatchUp): the server's WAL
// flush position is taken at the start of the read on the SQL connection,
// and the stream is received until the walsender says (a keepalive, asked
// for with a status update) that it has decoded and sent everything up to
// there. Every change committed before the read began is then kept, and a
// short read's read_to, the newest change kept, is at or after every
// position this endpoint ever returned (after a restart the slot replays
// from the commit record of the last confirmed position, so that
// transaction is kept again).
#include "runtime/endpoint/postgres/logical_capture.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/endpoint/postgres/change_decoder.h"
#include "runtime/endpoint/postgres/kept_changes.h"
#include "runtime/endpoint/postgres/pg_capture.h"
#include "runtime/pg/replication_stream.h"
#include "runtime/pg/wire_reader.h"

namespace duet::pg {

endpoint::Position EncodePosition(StreamPoint point) {
  std::string bytes;
  PutBigEndian(point.commit_lsn, 8, &bytes);
  PutBigEndian(point.index, 4, &bytes);
  return endpoint::Position::FromBytes(std::move(bytes));
}

Expected<std::optional<StreamPoint>> DecodePosition(const endpoint::Position& position) {
  if (position.is_beginning()) return std::optional<StreamPoint>();
  StreamPoint point;
  WireReader in(position.bytes());
  if (position.is_after_all() || !in.U64(&point.commit_lsn) || !in.U32(&point.index) ||
      in.left() != 0 || point.commit_lsn == 0) {
    return InvalidArgumentError("position '" + position.ToHex() +
                                "' is not a position of a PostgreSQL change stream");
  }
  return std::optional<StreamPoint>(point);
}

CaptureNames NamesFor(std::string_view database, std::string_view schema, std::string_view system) {
  // FNV-1a, 64 bits: stable across builds and platforms, which is all a
  // name needs.
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view part) {
    for (unsigned char c : part) hash = (hash ^ c) * 1099511628211ull;
    hash = (hash ^ 0) * 1099511628211ull;
  };
  mix(database);
  mix(schema);
  mix(system);
  std::string name = "duet_";
  for (char c : system.substr(0, 24)) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    name.push_back(plain ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_');
  }
  static const char kHex[] = "0123456789abcdef";
  name.push_back('_');
  for (int i = 0; i < 12; ++i) name.push_back(kHex[(hash >> (60 - 4 * i)) & 15]);
  return CaptureNames{name, name + "_installed", std::string(schema)};
}

namespace {

using endpoint::ChangeOp;
using endpoint::Endpoint;
using endpoint::Position;
using endpoint::RowId;

// How long a read waits for the stream without any progress before it
// gives up (Unavailable: the engine tries again later).
constexpr auto kStall = std::chrono::seconds(30);
// How long starting the stream waits for the slot to be released by a
// walsender that is exiting (after a terminated connection).
constexpr auto kSlotBusy = std::chrono::seconds(3);
// How often, at most, a lost stream is reconnected by ChangeFd and
// CheckChanges.
constexpr auto kReconnectEvery = std::chrono::seconds(1);

// The functions capture calls that PostgreSQL 15 grants to superusers only
// unless granted.
constexpr const char* kOriginFunctions[] = {
    "pg_replication_origin_create(text)",    "pg_replication_origin_drop(text)",
    "pg_replication_origin_oid(text)",       "pg_replication_origin_session_setup(text)",
    "pg_replication_origin_session_reset()", "pg_replication_origin_session_is_setup()",
};

int64_t NowPgMicros() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return PgEpochMicros(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

class LogicalCapture : public KeptChangesCapture {
 public:
  LogicalCapture(std::string conninfo, std::string system, std::vector<CapturedTable> tables)
      : KeptChangesCapture(std::move(conninfo), std::move(system), tables), decoder_(tables) {}

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
  // Connections and names.
  std::string TableRef() const {
    return QuoteIdent(names_->schema) + "." + QuoteIdent(names_->table);
  }
  Expected<bool> Installed();
  Expected<std::vector<std::pair<std::string, std::string>>> Records();
  Expected<std::vector<const CapturedTable*>> Resolve(const std::vector<std::string>& tables);
  Status CheckInstallable(const std::vector<const CapturedTable*>& tables);
  Expected<int> InstallPublication(const std::vector<const CapturedTable*>& tables, bool* created);
  Expected<int> InstallSlot();
  void DropCreated(bool table, bool publication);
  Expected<Result> SlotUser(const std::string& slot);
  Status DropSlot(const std::string& name, endpoint::CaptureCounts* counts);
  Status EnsureOrigin(const std::string& name);
  // Adds a row to capture's table (nothing when it is there).
  Status Record(std::string_view kind, const std::string& name) {
    return sql_
        ->Exec("INSERT INTO " + TableRef() + " VALUES ($1, $2) ON CONFLICT DO NOTHING",
               {std::string(kind), name}, "record what install created")
        .status();
  }

  // The stream.
  Status EnsureStream();
  Status StartStream();
  void Disconnect() {
    stream_.reset();
    decoder_.Reset();
    reply_outstanding_ = false;
  }
  Status Drain();
  Status Handle(const std::string& bytes);
  void Absorb(DecodedTransaction txn);
  Status SendStatus(bool reply_requested);
  Status CatchUp() override;
  bool SlotHeldElsewhere(const std::optional<std::string>& active_pid) const;
  // Waits until every transaction received (unseen_xids_) is visible to a
  // new snapshot; Unavailable when one is not by `deadline`.
  Status AwaitVisible(std::chrono::steady_clock::time_point deadline);
  Status EnsureSynced() override { return synced_ ? Drain() : CatchUp(); }
  Expected<std::optional<StreamPoint>> CheckPosition(const Position& position) const;
  Status ValidatePosition(const Position& position) override {
    return CheckPosition(position).status();
  }

  ChangeDecoder decoder_;
  std::unique_ptr<ReplicationStream> stream_;
  // The walsender of this process's last stream (0: none yet): the only
  // holder of the slot that starting the stream waits out.
  int stream_pid_ = 0;
  std::chrono::steady_clock::time_point next_connect_;
  std::set<std::string> known_origins_;  // exist in the database (MarkSession)

  uint64_t received_through_ = 0;  // commit LSN of the newest transaction received
  uint64_t server_sent_ = 0;       // the walsender has sent everything up to here
  int64_t last_sent_ = 0;          // the server's clock when it sent the last message
  uint64_t confirmed_ = 0;         // the slot's confirmed position, as this process knows it
  bool reply_outstanding_ = false;
  bool synced_ = false;   // caught up with the server at least once
  bool changed_ = false;  // another writer's transaction since the last kChanged
  // Transactions received (with changes) that no snapshot was seen to see
  // yet; their low 32 bits.
  std::vector<uint32_t> unseen_xids_;
};

// ---------------------------------------------------------------------------
// Connections, names, install.

Expected<bool> LogicalCapture::Installed() {
  Expected<const CaptureNames*> names = Names();
  if (!names.ok()) return names.status();
  Expected<Result> r =
      sql_->Exec("SELECT to_regclass($1) IS NOT NULL", {TableRef()}, "look for capture's table");
  if (!r.ok()) return r.status();
  return r->Text(0, 0) == "t";
}

Expected<std::vector<std::pair<std::string, std::string>>> LogicalCapture::Records() {
  Expected<Result> r = sql_->Exec("SELECT kind, name FROM " + TableRef() + " ORDER BY kind, name",
                                  {}, "read what install created");
  if (!r.ok()) return r.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r->rows(); ++i) out.emplace_back(r->Text(i, 0), r->Text(i, 1));
  return out;
}

Expected<std::vector<const CapturedTable*>> LogicalCapture::Resolve(
    const std::vector<std::string>& tables) {
  std::vector<const CapturedTable*> out;
  for (const std::string& name : tables) {
    int t = kept_.TableOf(name);
    if (t < 0) return NotFoundError(Context() + ": no table '" + name + "' to capture");
    out.push_back(&decoder_.tables()[static_cast<size_t>(t)]);
  }
  return out;
}

// Everything install needs, checked before anything is created, and every
// lack named at once.
Status LogicalCapture::CheckInstallable(const std::vector<const CapturedTable*>& tables) {
  std::string sql =
      "SELECT r.rolsuper OR r.rolreplication, current_setting('wal_level'),"
      " has_database_privilege(current_database(), 'CREATE'),"
      " has_schema_privilege(current_schema(), 'CREATE'), current_user";
  for (const char* f : kOriginFunctions) {
    sql += ", has_function_privilege(" + QuoteLiteral(f) + ", 'EXECUTE')";
  }
  sql += " FROM pg_roles r WHERE r.rolname = current_user";
  Expected<Result> r = sql_->Exec(sql, {}, "check the role's privileges");
  if (!r.ok()) return r.status();
  if (r->rows() != 1) return InternalError(Context() + ": the current role is not in pg_roles");
  std::vector<std::string> lacks;
  std::string role(r->Text(0, 4));
  if (r->Text(0, 0) != "t") {
    lacks.push_back("the REPLICATION attribute (ALTER ROLE " + QuoteIdent(role) + " REPLICATION)");
  }
  if (r->Text(0, 1) != "logical") {
    lacks.push_back("wal_level = logical on the server (it is " + std::string(r->Text(0, 1)) +
                    "; changing it needs a restart)");
  }
  if (r->Text(0, 2) != "t") lacks.push_back("CREATE on the database (for the publication)");
  if (r->Text(0, 3) != "t") {
    lacks.push_back("CREATE on schema " + QuoteIdent(names_->schema) + " (for " + names_->table +
                    ")");
  }
  std::string functions;
  for (size_t i = 0; i < std::size(kOriginFunctions); ++i) {
    if (r->Text(0, static_cast<int>(5 + i)) != "t") {
      functions += std::string(functions.empty() ? "" : ", ") + kOriginFunctions[i];
    }
  }
  if (!functions.empty()) {
    lacks.push_back("EXECUTE on " + functions +
                    " (superuser only unless granted: GRANT EXECUTE ON "
                    "FUNCTION ... TO " +
                    QuoteIdent(role) + ")");
  }
  for (const CapturedTable* t : tables) {
    Expected<Result> rel = sql_->Exec(
        "SELECT c.relreplident, pg_has_role(c.relowner, 'USAGE'),"
        " (SELECT json_agg(a.attname::text ORDER BY k.n) FROM pg_index i,"
        "  unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_attribute a"
        "  WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid"
        "  AND a.attnum = k.attnum),"
        " (SELECT json_agg(a.attname::text ORDER BY a.attname) FROM pg_index i,"
        "  unnest(i.indkey) AS k(attnum), pg_attribute a"
        "  WHERE i.indrelid = c.oid AND i.indisreplident AND a.attrelid = c.oid"
        "  AND a.attnum = k.attnum)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
        {t->schema, t->table}, "check table " + t->name);
    if (!rel.ok()) return rel.status();
    std::string qualified = QuoteIdent(t->schema) + "." + QuoteIdent(t->table);
    if (rel->rows() != 1) {
      lacks.push_back("table " + qualified + " (it does not exist)");
      continue;
    }
    if (rel->Text(0, 1) != "t") {
      lacks.push_back("ownership of table " + qualified + " (a publication needs its owner)");
    }
    auto names = [](std::string_view json) {
      nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
      std::vector<std::string> out;
      if (j.is_array()) {
        for (const auto& v : j) out.push_back(v.is_string() ? v.get<std::string>() : "");
      }
      return out;
    };
    std::vector<std::string> key = t->key_columns;
    if (key.empty()) {
      lacks.push_back("a primary key on table " + qualified + " (it names the captured rows)");
      continue;
    }
    std::vector<std::string> pk = names(rel->Text(0, 2));
    std::vector<std::string> ident = names(rel->Text(0, 3));
    std::vector<std::string> sorted_key = key;
    std::sort(sorted_key.begin(), sorted_key.end());
    char identity = rel->Text(0, 0).empty() ? '?' : rel->Text(0, 0)[0];
    bool ok = identity == 'f' || (identity == 'd' && !pk.empty() && pk == key) ||
              (identity == 'i' && ident == sorted_key);
    if (!ok) {
      lacks.push_back("REPLICA IDENTITY of table " + qualified +
                      " giving its primary key in the stream (it is " +
                      (identity == 'n'   ? std::string("NOTHING")
                       : identity == 'i' ? std::string("an index other than the key")
                       : pk.empty()      ? std::string("DEFAULT, without a primary key")
                                         : std::string("DEFAULT, on another key")) +
                      "; ALTER TABLE " + qualified +
                      " REPLICA IDENTITY DEFAULT with a primary key, or REPLICA IDENTITY FULL)");
    }
  }
  if (lacks.empty()) return Status::Ok();
  std::string message = Context() + ": cannot install capture by logical decoding; it needs ";
  for (size_t i = 0; i < lacks.size(); ++i) message += (i ? "; " : "") + lacks[i];
  return FailedPreconditionError(message);
}

// Creates the publication, or sets its tables when they differ. Returns the
// number of objects created or changed.
Expected<int> LogicalCapture::InstallPublication(const std::vector<const CapturedTable*>& tables,
                                                 bool* created) {
  std::set<std::pair<std::string, std::string>> want;
  std::string list;
  for (const CapturedTable* t : tables) {
    if (!want.emplace(t->schema, t->table).second) continue;
    list += (list.empty() ? "" : ", ") + QuoteIdent(t->schema) + "." + QuoteIdent(t->table);
  }
  Expected<Result> have =
      sql_->Exec("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
                 {names_->prefix}, "read the publication");
  if (!have.ok()) return have.status();
  Expected<Result> exists = sql_->Exec("SELECT 1 FROM pg_publication WHERE pubname = $1",
                                       {names_->prefix}, "look for the publication");
  if (!exists.ok()) return exists.status();
  std::string pub = QuoteIdent(names_->prefix);
  if (exists->rows() == 0) {
    *created = true;
    if (Status s =
            sql_->Run("CREATE PUBLICATION " + pub + (list.empty() ? "" : " FOR TABLE " + list),
                      "create the publication");
        !s.ok()) {
      return s;
    }
    if (Status s = Record("publication", names_->prefix); !s.ok()) return s;
    return 1;
  }
  if (Status s = Record("publication", names_->prefix); !s.ok()) return s;
  std::set<std::pair<std::string, std::string>> current;
  for (int i = 0; i < have->rows(); ++i) current.emplace(have->Text(i, 0), have->Text(i, 1));
  if (current == want) return 0;
  std::string change = " SET TABLE " + list;
  if (list.empty()) {
    // SET TABLE needs at least one table: drop the ones it has.
    change = " DROP TABLE ";
    for (auto it = current.begin(); it != current.end(); ++it) {
      change += (it == current.begin() ? "" : ", ") + QuoteIdent(it->first) + "." +
                QuoteIdent(it->second);
    }
  }
  if (Status s = sql_->Run("ALTER PUBLICATION " + pub + change, "set the publication's tables");
      !s.ok()) {
    return s;
  }
  return 1;
}

Expected<int> LogicalCapture::InstallSlot() {
  Expected<Result> exists = sql_->Exec("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                                       {names_->prefix}, "look for the replication slot");
  if (!exists.ok()) return exists.status();
  if (exists->rows() > 0) {
    if (Status s = Record("slot", names_->prefix); !s.ok()) return s;
    return 0;
  }
  // Outside a transaction: creating a logical slot waits for the
  // transactions running now to end, and refuses a transaction that wrote.
  Expected<Result> made = sql_->Exec("SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
                                     {names_->prefix}, "create the replication slot");
  if (!made.ok()) return made.status();
  if (Status s = Record("slot", names_->prefix); !s.ok()) {
    (void)sql_->Exec("SELECT pg_drop_replication_slot($1)", {names_->prefix});
    return s;
  }
  return 1;
}

void LogicalCapture::DropCreated(bool table, bool publication) {
  if (publication) (void)sql_->Run("DROP PUBLICATION IF EXISTS " + QuoteIdent(names_->prefix));
  if (table) (void)sql_->Run("DROP TABLE IF EXISTS " + TableRef());
}

Expected<endpoint::CaptureCounts> LogicalCapture::Install(const std::vector<std::string>& tables) {
  Expected<std::vector<const CapturedTable*>> resolved = Resolve(tables);
  if (!resolved.ok()) return resolved.status();
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (Status s = CheckInstallable(*resolved); !s.ok()) return s;
  endpoint::CaptureCounts counts;
  counts.tables = static_cast<int>(resolved->size());
  bool created_publication = false;
  // The table and the publication in one transaction; the slot after it
  // (it cannot be made in a transaction that wrote), undone on failure.
  Status s = sql_->Run("BEGIN");
  if (s.ok() && !*installed) {
    s = sql_->Run("CREATE TABLE " + TableRef() +
                      " (kind text NOT NULL, name text NOT NULL, PRIMARY KEY (kind, name))",
                  "create capture's table");
    ++counts.objects;
  }
  if (s.ok()) {
    Expected<int> n = InstallPublication(*resolved, &created_publication);
    s = n.status();
    if (n.ok()) counts.objects += *n;
  }
  if (s.ok()) s = sql_->Run("COMMIT");
  if (!s.ok()) {
    (void)sql_->Run("ROLLBACK");
    return s;
  }
  Expected<int> slot = InstallSlot();
  if (!slot.ok()) {
    DropCreated(!*installed, created_publication);
    return slot.status();
  }
  counts.objects += *slot;
  return counts;
}

// The slot's active_pid, waiting a moment for a walsender that is exiting
// (this process's own, just disconnected) to release it.
Expected<Result> LogicalCapture::SlotUser(const std::string& slot) {
  auto deadline = std::chrono::steady_clock::now() + kSlotBusy;
  for (;;) {
    Expected<Result> r =
        sql_->Exec("SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", {slot},
                   "look for the replication slot");
    if (!r.ok() || r->rows() == 0 || r->IsNull(0, 0) ||
        std::chrono::steady_clock::now() > deadline) {
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Expected<endpoint::CaptureCounts> LogicalCapture::Uninstall() {
  Disconnect();
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  endpoint::CaptureCounts counts;
  if (!*installed) return counts;
  Expected<std::vector<std::pair<std::string, std::string>>> records = Records();
  if (!records.ok()) return records.status();
  // One transaction, the slot last: dropping it cannot be undone, so it
  // goes only once everything else has been dropped (a failure before
  // leaves all of it in place), and its record goes with the table.
  Status s = sql_->Run("BEGIN");
  for (const auto& [kind, name] : *records) {
    if (!s.ok()) break;
    if (kind == "publication") {
      Expected<Result> n =
          sql_->Exec("SELECT count(*) FROM pg_publication_tables WHERE pubname = $1", {name});
      if (n.ok()) counts.tables += std::stoi(std::string(n->Text(0, 0)));
      s = sql_->Run("DROP PUBLICATION IF EXISTS " + QuoteIdent(name), "drop the publication");
      ++counts.objects;
    } else if (kind == "origin") {
      // In use by a session (a duet run) it cannot be dropped: stop it first.
      s = sql_->Exec(
                  "SELECT pg_replication_origin_drop($1) WHERE pg_replication_origin_oid($1) "
                  "IS NOT NULL",
                  {name}, "drop replication origin " + name)
              .status();
      ++counts.objects;
    }
  }
  if (s.ok()) s = sql_->Run("DROP TABLE " + TableRef(), "drop capture's table");
  for (const auto& [kind, name] : *records) {
    if (kind == "slot" && s.ok()) s = DropSlot(name, &counts);
  }
  if (s.ok()) s = sql_->Run("COMMIT");
  if (!s.ok()) {
    (void)sql_->Run("ROLLBACK");
    return s;
  }
  ++counts.objects;
  known_origins_.clear();
  return counts;
}

Status LogicalCapture::DropSlot(const std::string& name, endpoint::CaptureCounts* counts) {
  Expected<Result> slot = SlotUser(name);
  if (!slot.ok()) return slot.status();
  if (slot->rows() == 0) return Status::Ok();
  if (!slot->IsNull(0, 0)) {
    return FailedPreconditionError(Context() + ": replication slot " + name +
                                   " is in use by server process " + std::string(slot->Text(0, 0)) +
                                   " (a duet run on this database: stop it first)");
  }
  ++counts->objects;
  return sql_->Exec("SELECT pg_drop_replication_slot($1)", {name}, "drop the replication slot")
      .status();
}

Status LogicalCapture::Check(const std::vector<std::string>& tables) {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  std::string run = " (run `duet install -c CONFIG`)";
  if (!*installed) return FailedPreconditionError(Context() + ": capture is not installed" + run);
  Expected<Result> slot = sql_->Exec("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                                     {names_->prefix}, "look for the replication slot");
  if (!slot.ok()) return slot.status();
  if (slot->rows() == 0) {
    return FailedPreconditionError(Context() + ": replication slot " + names_->prefix +
                                   " is missing" + run);
  }
  Expected<Result> published =
      sql_->Exec("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1",
                 {names_->prefix}, "read the publication");
  if (!published.ok()) return published.status();
  std::set<std::pair<std::string, std::string>> have;
  for (int i = 0; i < published->rows(); ++i) {
    have.emplace(published->Text(i, 0), published->Text(i, 1));
  }
  Expected<std::vector<const CapturedTable*>> resolved = Resolve(tables);
  if (!resolved.ok()) return resolved.status();
  for (const CapturedTable* t : *resolved) {
    if (!have.count({t->schema, t->table})) {
      return FailedPreconditionError(Context() + ": capture for table '" + t->table +
                                     "' is not installed" + run);
    }
  }
  return Status::Ok();
}

Expected<std::string> LogicalCapture::BoundState() {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) return std::string();
  return ReadBoundState(TableRef());
}

Status LogicalCapture::BindState(const std::string& state_id) {
  Expected<bool> installed = Installed();
  if (!installed.ok()) return installed.status();
  if (!*installed) {
    return FailedPreconditionError(Context() + ": capture is not installed (run `duet install`)");
  }
  return WriteBoundState(TableRef(), state_id);
}

Status LogicalCapture::EnsureOrigin(const std::string& name) {
  if (known_origins_.count(name)) return Status::Ok();
  Expected<Connection*> sql = Sql();
  if (!sql.ok()) return sql.status();
  Expected<Result> oid = (*sql)->Exec("SELECT pg_replication_origin_oid($1) IS NOT NULL", {name},
                                      "look for replication origin " + name);
  if (!oid.ok()) return oid.status();
  if (oid->Text(0, 0) != "t") {
    // Created and recorded together, so that uninstall drops it.
    Status s = (*sql)->Run("BEGIN");
    if (s.ok()) {
      s = (*sql)
              ->Exec("SELECT pg_replication_origin_create($1)", {name},
                     "create replication origin " + name)
              .status();
    }
    if (s.ok()) s = Record("origin", name);
    if (s.ok()) s = (*sql)->Run("COMMIT");
    if (!s.ok()) {
      (void)(*sql)->Run("ROLLBACK");
      // Another process made it at the same moment: it exists.
      if (!HasSqlState(s, "23505")) return s;
    }
  }
  known_origins_.insert(name);
  return Status::Ok();
}

Status LogicalCapture::MarkSession(Connection& session, std::string_view origin) {
  // pg_replication_origin_session_setup refuses a session already set up:
  // reset first, in the same round trip.
  std::string reset =
      "SELECT pg_replication_origin_session_reset() WHERE pg_replication_origin_session_is_setup()";
  if (origin.empty()) return session.Run(reset, "unmark the write session");
  Expected<const CaptureNames*> names = Names();
  if (!names.ok()) return names.status();
  std::string name = (*names)->prefix + "_" + std::string(origin);
  if (Status s = EnsureOrigin(name); !s.ok()) return s;
  return session.Run(
      reset + "; SELECT pg_replication_origin_session_setup(" + QuoteLiteral(name) + ")",
      "mark the write session with replication origin " + name);
}

// ---------------------------------------------------------------------------
// The stream.

Status LogicalCapture::StartStream() {
  Expected<const CaptureNames*> names = Names();
  if (!names.ok()) return names.status();
  Expected<Result> slot = sql_->Exec(
      "SELECT confirmed_flush_lsn, active_pid FROM pg_replication_slots "
      "WHERE slot_name = $1",
      {(*names)->prefix}, "read the replication slot");
  if (!slot.ok()) return slot.status();
  if (slot->rows() == 0) {
    return FailedPreconditionError(Context() + ": capture is not installed (replication slot " +
                                   (*names)->prefix + " is missing; run `duet install`)");
  }
  if (!slot->IsNull(0, 0)) {
    Expected<Lsn> confirmed = ParseLsn(slot->Text(0, 0));
    if (!confirmed.ok()) return confirmed.status();
    confirmed_ = std::max(confirmed_, *confirmed);
  }
  if (SlotHeldElsewhere(slot->Optional(0, 1))) {
    // Another process streams the slot (a running duet): waiting would
    // not help, so say so at once.
    return endpoint::CaptureHeldError(Context(), "replication slot " + (*names)->prefix +
                                                     " is active for process " +
                                                     std::string(slot->Text(0, 1)));
  }
  ConnectOptions options;
  options.label = system_ + " replication";
  auto deadline = std::chrono::steady_clock::now() + kSlotBusy;
  for (;;) {
    Expected<std::unique_ptr<ReplicationStream>> stream = ReplicationStream::Start(
        conninfo_, options, (*names)->prefix, 0,
        {{"proto_version", "1"}, {"publication_names", QuoteIdent((*names)->prefix)}});
    if (stream.ok()) {
      stream_ = std::move(*stream);
      stream_pid_ = stream_->BackendPid();
      break;
    }
    // A walsender that is exiting (its connection terminated) still holds
    // the slot for a moment.
    if (!HasSqlState(stream.status(), "55006") || std::chrono::steady_clock::now() > deadline) {
      return stream.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Confirm again what this process confirmed before the stream was lost.
  return SendStatus(false);
}

// Whether the slot's active_pid names a process other than this one's
// walsender (which, just disconnected, may still be exiting).
bool LogicalCapture::SlotHeldElsewhere(const std::optional<std::string>& active_pid) const {
  return active_pid && *active_pid != std::to_string(stream_pid_);
}

Status LogicalCapture::EnsureStream() {
  if (stream_) return Status::Ok();
  next_connect_ = std::chrono::steady_clock::now() + kReconnectEvery;
  Status s = StartStream();
  if (!s.ok()) Disconnect();
  return s;
}

Status LogicalCapture::SendStatus(bool reply_requested) {
  Status s = stream_->Send(
      StandbyStatusUpdate(server_sent_, confirmed_, confirmed_, NowPgMicros(), reply_requested));
  if (!s.ok()) {
    Disconnect();
    return s;
  }
  if (reply_requested) reply_outstanding_ = true;
  return s;
}

Status LogicalCapture::Drain() {
  if (Status s = EnsureStream(); !s.ok()) return s;
  for (;;) {
    Expected<std::optional<std::string>> message = stream_->Next();
    if (!message.ok()) {
      Disconnect();
      return message.status();
    }
    if (!message->has_value()) return Status::Ok();
    if (Status s = Handle(**message); !s.ok()) {
      Disconnect();
      return s;
    }
  }
}

Status LogicalCapture::Handle(const std::string& bytes) {
  Expected<CopyMessage> message = ParseCopyData(bytes);
  if (!message.ok()) return message.status();
  if (const auto* keepalive = std::get_if<Keepalive>(&*message)) {
    server_sent_ = std::max(server_sent_, keepalive->wal_end);
    reply_outstanding_ = false;
    return keepalive->reply_requested ? SendStatus(false) : Status::Ok();
  }
  const XLogData& data = std::get<XLogData>(*message);
  last_sent_ = data.send_time;
  if (Status s = decoder_.Feed(data.data); !s.ok()) {
    return Status(s.code(), Context() + ": " + s.message());
  }
  for (DecodedTransaction& txn : decoder_.TakeCommitted()) Absorb(std::move(txn));
  return Status::Ok();
}

void LogicalCapture::Absorb(DecodedTransaction txn) {
  server_sent_ = std::max(server_sent_, txn.end_lsn);
  // Sent again after a reconnect: kept already.
  if (txn.commit_lsn <= received_through_) return;
  received_through_ = txn.commit_lsn;
  std::string origin;
  const std::string own = names_->prefix + "_";
  if (txn.origin_name.size() > own.size() && txn.origin_name.starts_with(own)) {
    origin = txn.origin_name.substr(own.size());
  }
  // Without a commit time (duet's own transactions): when the server sent
  // its commit, within moments of it.
  if (txn.at == 0) txn.at = UnixSecondsOfPgMicros(last_sent_);
  for (DecodedChange& c : txn.changes) {
    kept_.Keep(c.table, std::move(c.row_id), c.op, origin, txn.at,
               EncodePosition({txn.commit_lsn, c.index}));
  }
  if (!txn.changes.empty() && origin.empty()) changed_ = true;
  if (!txn.changes.empty()) unseen_xids_.push_back(txn.xid);
}

Status LogicalCapture::CatchUp() {
  if (Status s = EnsureStream(); !s.ok()) return s;
  Expected<Result> flushed =
      sql_->Exec("SELECT pg_current_wal_flush_lsn()", {}, "read the server's WAL position");
  if (!flushed.ok() && !sql_->ok()) {
    // The connection was lost since its last use (a server restart): once
    // more on a new one.
    if (Expected<const CaptureNames*> names = Names(); !names.ok()) return names.status();
    flushed = sql_->Exec("SELECT pg_current_wal_flush_lsn()", {}, "read the server's WAL position");
  }
  if (!flushed.ok()) return flushed.status();
  Expected<Lsn> target = ParseLsn(flushed->Text(0, 0));
  if (!target.ok()) return target.status();
  auto stalled_at = std::chrono::steady_clock::now() + kStall;
  for (;;) {
    uint64_t before = server_sent_ + kept_.total();
    if (Status s = Drain(); !s.ok()) return s;
    if (server_sent_ >= *target && !decoder_.in_transaction()) break;
    if (!reply_outstanding_) {
      if (Status s = SendStatus(true); !s.ok()) return s;
    }
    auto now = std::chrono::steady_clock::now();
    if (server_sent_ + kept_.total() != before) stalled_at = now + kStall;
    if (now > stalled_at) {
      return UnavailableError(Context() + ": the replication stream stalled at " +
                              LsnText(server_sent_) + " before the server's WAL end " +
                              LsnText(*target));
    }
    if (Status s = stream_->Wait(std::chrono::duration_cast<std::chrono::milliseconds>(
            stalled_at - now + std::chrono::milliseconds(1)));
        !s.ok()) {
      Disconnect();
      return s;
    }
  }
  if (Status s = AwaitVisible(std::chrono::steady_clock::now() + kStall); !s.ok()) return s;
  synced_ = true;
  return Status::Ok();
}

// A commit is in the WAL, and so decoded and sent, before the committing
// session makes it visible to other sessions' snapshots (with synchronous
// replication, until a standby has it). The engine reads the stream and
// then the rows in a snapshot taken after: a change whose row that
// snapshot cannot see would be taken for a deleted row and the change
// consumed. So a read returns once every transaction it may return is
// visible to a new snapshot, and so to every snapshot taken after.
Status LogicalCapture::AwaitVisible(std::chrono::steady_clock::time_point deadline) {
  // x is the low 32 bits of a transaction id; d how far it is before the
  // snapshot's xmax m, modulo 2^32 (ids in use span less than 2^31): 0 or
  // more than 2^31 means at or after xmax, so not visible.
  static constexpr char kInvisible[] =
      "SELECT x FROM (SELECT x, s, pg_snapshot_xmax(s)::text::bigint AS m"
      " FROM unnest($1::bigint[]) AS x, pg_current_snapshot() AS s) t,"
      " LATERAL (SELECT ((m & 4294967295) - x + 4294967296) % 4294967296 AS d) e"
      " WHERE d = 0 OR d > 2147483648 OR NOT pg_visible_in_snapshot((m - d)::text::xid8, s)";
  while (!unseen_xids_.empty()) {
    std::string array = "{";
    for (uint32_t xid : unseen_xids_) array += std::to_string(xid) + ",";
    array.back() = '}';
    Expected<Result> r =
        sql_->Exec(kInvisible, {array}, "check that the transactions received are visible");
    if (!r.ok()) return r.status();
    std::vector<uint32_t> still;
    for (int i = 0; i < r->rows(); ++i) {
      still.push_back(static_cast<uint32_t>(std::stoull(std::string(r->Text(i, 0)))));
    }
    unseen_xids_ = std::move(still);
    if (unseen_xids_.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return UnavailableError(Context() + ": a transaction received from the stream (id " +
                              std::to_string(unseen_xids_.front()) +
                              ") is not yet visible to other sessions");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // it ends within moments
  }
  return Status::Ok();
}

Expected<std::optional<StreamPoint>> LogicalCapture::CheckPosition(const Position& position) const {
  Expected<std::optional<StreamPoint>> point = DecodePosition(position);
  if (!point.ok())
    return Status(point.status().code(), Context() + ": " + point.status().message());
  // A commit after everything the server has sent cannot be one of its.
  if (*point && synced_ && (*point)->commit_lsn > std::max(server_sent_, received_through_)) {
    return InvalidArgumentError(Context() + ": position '" + position.ToHex() +
                                "' is past the end of this database's change stream");
  }
  return point;
}

// ---------------------------------------------------------------------------
// Reads, answered from the kept changes.

Status LogicalCapture::PruneChangelog(const Position& through) {
  Expected<std::optional<StreamPoint>> point = CheckPosition(through);
  if (!point.ok()) return point.status();
  if (!*point) return Status::Ok();
  if (through > kept_.newest()) {
    // Only a position this stream returned can be confirmed to the slot:
    // confirming one past what was received would skip changes.
    if (Status s = CatchUp(); !s.ok()) return s;
    if (through > kept_.newest()) {
      return InvalidArgumentError(Context() + ": position '" + through.ToHex() +
                                  "' is not one of this change stream's");
    }
  }
  kept_.DropThrough(through);
  // The slot then streams again from this transaction's commit record: the
  // transaction of `through` is sent again, and reads skip what is not
  // after their checkpoints.
  if ((*point)->commit_lsn <= confirmed_) return Status::Ok();
  confirmed_ = (*point)->commit_lsn;
  if (Status s = EnsureStream(); !s.ok()) return s;
  return SendStatus(false);
}

Expected<std::optional<int64_t>> LogicalCapture::RetainedBytes() {
  Expected<const CaptureNames*> names = Names();
  if (!names.ok()) return names.status();
  Expected<Result> r = sql_->Exec(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots"
      " WHERE slot_name = $1",
      {(*names)->prefix}, "read the replication slot's retained WAL");
  if (!r.ok()) return r.status();
  if (r->rows() == 0 || r->IsNull(0, 0)) return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(std::string(r->Text(0, 0))));
}

int LogicalCapture::ChangeFd() {
  if (!stream_ && std::chrono::steady_clock::now() >= next_connect_) (void)EnsureStream();
  return stream_ ? stream_->Socket() : -1;
}

Endpoint::ChangeState LogicalCapture::CheckChanges() {
  if (!stream_ && std::chrono::steady_clock::now() < next_connect_) {
    return Endpoint::ChangeState::kSoon;
  }
  if (!Drain().ok()) return Endpoint::ChangeState::kSoon;
  if (!changed_) return Endpoint::ChangeState::kNone;
  changed_ = false;
  return Endpoint::ChangeState::kChanged;
}

}  // namespace

std::unique_ptr<PgCapture> MakeLogicalCapture(std::string conninfo, std::string system,
                                              std::vector<CapturedTable> tables) {
  return std::make_unique<LogicalCapture>(std::move(conninfo), std::move(system),
                                          std::move(tables));
}

}  // namespace duet::pg
