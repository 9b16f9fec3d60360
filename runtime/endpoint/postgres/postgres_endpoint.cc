#include "runtime/endpoint/postgres/postgres_endpoint.h"

#include "runtime/endpoint/postgres/capture_option.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <map>
#include <utility>

#include "runtime/endpoint/endpoint_transaction.h"
#include "runtime/endpoint/postgres/pg_catalog.h"
#include "runtime/endpoint/postgres/pg_condition.h"
#include "runtime/endpoint/postgres/pg_row_key.h"
#include "runtime/endpoint/postgres/pg_types.h"
#include "runtime/pg/pg_conn.h"

namespace duet::endpoint {
namespace {

using pg::Param;
using pg::QuoteIdent;
using pg::TableInfo;

std::string LocalName(std::string_view qualified) {
  size_t dot = qualified.find('.');
  return std::string(dot == std::string_view::npos ? qualified : qualified.substr(dot + 1));
}

std::string Placeholder(size_t n) { return "$" + std::to_string(n); }

// "a"."k1", "a"."k2" (no alias: the bare names).
std::string Columns(const std::vector<std::string>& names, const std::string& alias) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : ", ") + (alias.empty() ? "" : alias + ".") + QuoteIdent(name);
  }
  return out;
}

// The key compared with parameters from `first` on: a."k" OP $1, or the
// row value (a."k1", a."k2") OP ($1, $2), which an index on the key serves.
std::string KeyCompare(const TableInfo& t, const std::string& alias, const char* op, size_t first) {
  std::string params;
  for (size_t i = 0; i < t.key.size(); ++i) params += (i ? ", " : "") + Placeholder(first + i);
  if (t.key.size() == 1) return Columns(t.key, alias) + " " + op + " " + params;
  return "(" + Columns(t.key, alias) + ") " + op + " (" + params + ")";
}

// The RowId of result row `row`, whose `n` columns from `first` on are the
// key's.
RowId RowIdAt(const pg::Result& r, int row, size_t n, size_t first = 0) {
  std::vector<std::string> texts;
  texts.reserve(n);
  for (size_t i = first; i < first + n; ++i) texts.emplace_back(r.Text(row, static_cast<int>(i)));
  return pg::EncodeRowId(texts);
}

// The key values RowId `id` names, as parameters; InvalidArgument when it
// is not a RowId of the table.
Expected<std::vector<Param>> KeyParams(const TableInfo& t, const RowId& id) {
  Expected<std::vector<std::string>> texts = pg::DecodeRowId(t.key.size(), id);
  if (!texts.ok()) return texts.status();
  std::vector<Param> params;
  for (size_t i = 0; i < texts->size(); ++i) {
    if (Status s = pg::CheckKeyText((*texts)[i], t.key_types[i]); !s.ok()) {
      return InvalidArgumentError("row id of " + t.name + ": " + s.message());
    }
    params.emplace_back(std::move((*texts)[i]));
  }
  return params;
}

// Values as parameters; a value PostgreSQL cannot store is FailedPrecondition.
Status AppendValues(const std::vector<Value>& values, std::vector<Param>* params) {
  for (const Value& v : values) {
    Expected<std::optional<std::string>> text = pg::WritePgText(v);
    if (!text.ok()) return text.status();
    params->push_back(std::move(*text));
  }
  return Status::Ok();
}

const bundle::Column* FindColumn(const bundle::Table& table, std::string_view name) {
  for (const bundle::Column& c : table.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// A column a reader returns, and how to read it.
struct ReadColumn {
  std::string name;  // the path, "msdyn_company.cdm_companycode"
  bundle::ColumnType type;
  bool not_null = false;      // declared not null on the table itself
  bool blank_padded = false;  // a char(n) column
};

class PostgresEndpoint;

class PgReader : public RowReader {
 public:
  PgReader(PostgresEndpoint* endpoint, TableInfo table, std::string select, std::string from,
           std::vector<ReadColumn> columns)
      : endpoint_(endpoint),
        table_(std::move(table)),
        select_(std::move(select)),
        from_(std::move(from)),
        columns_(std::move(columns)) {}

  Expected<std::optional<Row>> Read(const RowId& id) override;
  Expected<std::vector<Row>> ReadMany(const std::vector<RowId>& ids) override {
    return ReadKeys(ids, "");
  }
  Expected<std::vector<Row>> Scan(const std::optional<RowId>& after, size_t limit) override {
    return ScanRows(after, limit, "");
  }
  Expected<std::vector<Row>> ScanWhere(const std::optional<RowId>& after, size_t limit,
                                       const std::string& where) override;
  Expected<int64_t> CountWhere(const std::string& where) override;
  Expected<std::vector<RowId>> ScanIds(const std::optional<RowId>& after, size_t limit) override;
  Expected<int64_t> Count() override;

  // The rows of `ids` that exist, with `suffix` after the WHERE clause
  // (" FOR UPDATE OF t").
  Expected<std::vector<Row>> ReadKeys(const std::vector<RowId>& ids, const std::string& suffix);

 private:
  Row MakeRow(const pg::Result& r, int row) const;
  std::vector<Row> MakeRows(const pg::Result& r) const;
  Expected<std::vector<Row>> ReadChunk(const std::vector<RowId>& ids, size_t from, size_t n,
                                       const std::string& suffix);
  Expected<std::vector<Row>> ScanRows(const std::optional<RowId>& after, size_t limit,
                                      const std::string& condition);
  // `head` (SELECT ... FROM ...) of the rows after `after` in key order
  // where `condition` (when not empty) holds, at most `limit`.
  Expected<pg::Result> ScanQuery(const std::string& head, const std::string& condition,
                                 const std::optional<RowId>& after, size_t limit);

  PostgresEndpoint* endpoint_;
  TableInfo table_;
  std::string select_;  // "SELECT t."k", ..., <paths> "
  std::string from_;    // "FROM "T" AS t LEFT JOIN ..."
  std::vector<ReadColumn> columns_;
};

class PostgresEndpoint : public Endpoint {
 public:
  PostgresEndpoint(std::string conninfo, std::string system, const bundle::Manifest& manifest,
                   std::unique_ptr<pg::Connection> session)
      : conninfo_(std::move(conninfo)),
        system_(std::move(system)),
        manifest_(manifest),
        session_(std::move(session)) {}

  void SetCapture(std::unique_ptr<pg::PgCapture> capture) { capture_ = std::move(capture); }

  // The session, connected again when it was lost outside a transaction.
  Expected<pg::Connection*> Session();
  // Runs a statement on the session.
  Expected<pg::Result> Exec(const std::string& sql, const std::vector<Param>& params,
                            std::string_view what);
  // Runs a statement that may fail on what it was given (an operator's
  // condition): inside a savepoint when a transaction is open, so that its
  // failure does not lose the transaction.
  Expected<pg::Result> ExecGuarded(const std::string& sql, const std::vector<Param>& params,
                                   std::string_view what);
  // The catalog's facts about `table` (a qualified name), read once.
  Expected<const TableInfo*> Info(const std::string& table);
  // The tables of this system that exist, as capture names them.
  Expected<std::vector<pg::CapturedTable>> CapturedTables();

  const std::string& system() const override { return system_; }
  Status CheckSchema() override { return CheckTables({}); }
  Status CheckTables(const std::vector<std::string>& only) override;

  Expected<CaptureCounts> InstallCapture(const std::vector<std::string>& tables) override {
    return capture_->Install(tables);
  }
  Expected<CaptureCounts> UninstallCapture() override { return capture_->Uninstall(); }
  Status CheckCapture(const std::vector<std::string>& tables) override {
    return capture_->Check(tables);
  }
  Expected<std::string> BoundState() override { return capture_->BoundState(); }
  Status BindState(const std::string& state_id) override { return capture_->BindState(state_id); }
  Expected<Stream> ReadStream(const std::vector<std::string>& tables, const Position& after,
                              size_t limit) override {
    return capture_->ReadStream(tables, after, limit);
  }
  Expected<Position> StreamEnd() override { return capture_->StreamEnd(); }
  Expected<Inserts> ReadInserts(const std::string& table, const Position& after,
                                std::string_view origin,
                                const std::optional<Position>& own_after) override {
    return capture_->ReadInserts(table, after, origin, own_after);
  }
  Expected<std::vector<std::pair<RowId, Position>>> ReadOwnInserts(const std::string& table,
                                                                   std::string_view origin,
                                                                   const Position& after) override {
    return capture_->ReadOwnInserts(table, origin, after);
  }
  Expected<int64_t> CountChanges(const std::string& table, const Position& after,
                                 std::string_view origin) override {
    return capture_->CountChanges(table, after, origin);
  }
  Expected<std::optional<double>> LatestChangeTime(const std::string& table, const RowId& id,
                                                   const Position& after) override {
    return capture_->LatestChangeTime(table, id, after);
  }
  Expected<bool> OwnChangeAfter(const std::string& table, const RowId& id, std::string_view origin,
                                const Position& after) override {
    return capture_->OwnChangeAfter(table, id, origin, after);
  }
  Status PruneChangelog(const Position& through) override {
    return capture_->PruneChangelog(through);
  }
  Expected<std::optional<int64_t>> CaptureRetainedBytes() override {
    return capture_->RetainedBytes();
  }
  int ChangeFd() override { return capture_->ChangeFd(); }
  ChangeState CheckChanges() override { return capture_->CheckChanges(); }

  Expected<std::unique_ptr<RowReader>> Reader(const std::string& table,
                                              const std::vector<ColumnPath>& paths) override;
  Expected<std::unique_ptr<PgReader>> MakeReader(const std::string& table,
                                                 const std::vector<ColumnPath>& paths);

  void SetLockTimeout(std::chrono::milliseconds timeout) override;
  Expected<std::unique_ptr<WriteTransaction>> Begin(std::string_view origin,
                                                    WriteLock lock) override;
  bool LostLockRace() override { return std::exchange(lost_race_, false); }
  std::chrono::nanoseconds LastLockHeld() const override { return last_lock_held_; }
  Expected<std::vector<std::optional<RowId>>> FindRows(
      const std::string& table, const std::vector<std::string>& columns,
      const std::vector<std::vector<Value>>& keys) override;
  Expected<std::optional<RowId>> FindRow(const std::string& table,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& values) override;
  Expected<Value> RefValue(const std::string& table, const RowId& id) override;

  // The write transaction's steps (PgWriteTransaction).
  Expected<RowId> Insert(const std::string& table, const std::vector<std::string>& columns,
                         const std::vector<Value>& values);
  Expected<std::vector<Expected<RowId>>> InsertMany(const std::string& table,
                                                    const std::vector<std::string>& columns,
                                                    const std::vector<std::vector<Value>>& rows);
  // Rows [start, start + n) of `rows` in one statement.
  Expected<std::vector<RowId>> InsertChunk(const std::string& table,
                                           const std::vector<std::string>& columns,
                                           const std::vector<std::vector<Value>>& rows,
                                           size_t start, size_t n);
  Status Update(const std::string& table, const RowId& id, const std::vector<std::string>& columns,
                const std::vector<Value>& values);
  Status Delete(const std::string& table, const RowId& id);
  Expected<std::vector<Row>> ReadForUpdate(const std::string& table,
                                           const std::vector<ColumnPath>& paths,
                                           const std::vector<RowId>& ids);
  Status CommitWrite();
  void RollbackWrite();
  void EndTransaction() { transaction_open_ = false; }

 private:
  Status CheckTable(const bundle::Table& table);
  Status CheckColumn(const bundle::Table& table, const TableInfo& info, const bundle::Column& c);
  Status Missing(const bundle::Table& table);
  // The type a column's values are compared and checked as: its own, or
  // for a ref its target's id type (nullopt when that is not known).
  std::optional<bundle::ColumnType> ValueType(const bundle::Table& table, std::string_view column);
  // The SQL expression naming row `alias` of `table` as refs store it.
  Expected<std::string> IdExpr(const bundle::Table& table, const std::string& alias);
  Status AddLookup(const bundle::Table*& current, const std::string& hop, std::string* alias,
                   std::string* from, std::map<std::string, std::string>* aliases,
                   std::string* prefix);
  // An INSERT of `rows` rows of `columns` RETURNING the key, with the
  // table's guid id added to `columns` when it gets a new one; with
  // `skip_conflicts`, ON CONFLICT DO NOTHING.
  Expected<std::string> InsertSql(const std::string& table, std::vector<std::string>* columns,
                                  bool* new_guid, size_t rows, bool skip_conflicts);
  // Runs one write of the open transaction inside a savepoint, so that a
  // refused write is undone alone; `expect_rows` (when set) is how many
  // rows it must return, else it is undone and refused.
  std::optional<std::string> KeyCondition(const bundle::Table* t,
                                          const std::vector<std::string>& columns,
                                          const std::vector<Value>& values,
                                          std::vector<Param>* params);
  Expected<pg::Result> Write(const std::string& sql, const std::vector<Param>& params,
                             std::string_view what, std::optional<int> expect_rows = {});
  // A failed write's or read for update's status, as the transaction sees
  // it: a lost race under kAtFirstWrite is noted; a row an application's
  // trigger or a view's check refused is FailedPrecondition.
  Status WriteFailed(const Status& s);
  // Marks the transaction's first lock (LastLockHeld counts from it).
  void NoteLock();
  Status EndWrite(const char* sql);

  std::string conninfo_;
  std::string system_;
  const bundle::Manifest& manifest_;
  std::unique_ptr<pg::Connection> session_;
  std::unique_ptr<pg::PgCapture> capture_;
  std::map<std::string, TableInfo> tables_;  // Info, by qualified name
  std::chrono::milliseconds lock_timeout_{30000};
  bool transaction_open_ = false;
  WriteLock lock_ = WriteLock::kNow;
  bool locked_ = false;     // the open transaction has taken a lock
  bool lost_race_ = false;  // LostLockRace's answer
  std::chrono::steady_clock::time_point locked_at_{};
  std::chrono::nanoseconds last_lock_held_{0};
};

// ---- the session ----

std::string LockTimeoutSql(std::chrono::milliseconds timeout, bool local) {
  return std::string(local ? "SET LOCAL" : "SET") +
         " lock_timeout = " + std::to_string(std::max<int64_t>(timeout.count(), 1));
}

Expected<pg::Connection*> PostgresEndpoint::Session() {
  if (session_ && session_->ok()) return session_.get();
  if (transaction_open_) {
    return UnavailableError("postgresql (" + system_ +
                            "): the connection was lost during a write transaction");
  }
  session_.reset();
  Expected<std::unique_ptr<pg::Connection>> conn =
      pg::Connection::Open(conninfo_, {.label = system_});
  if (!conn.ok()) return conn.status();
  if (Status s = (*conn)->Run(LockTimeoutSql(lock_timeout_, false), "lock timeout"); !s.ok()) {
    return s;
  }
  session_ = std::move(*conn);
  return session_.get();
}

Expected<pg::Result> PostgresEndpoint::Exec(const std::string& sql,
                                            const std::vector<Param>& params,
                                            std::string_view what) {
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  return (*session)->Exec(sql, params, what);
}

Expected<pg::Result> PostgresEndpoint::ExecGuarded(const std::string& sql,
                                                   const std::vector<Param>& params,
                                                   std::string_view what) {
  if (!transaction_open_) return Exec(sql, params, what);
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  if (Status s = (*session)->Run("SAVEPOINT duet_guard"); !s.ok()) return s;
  Expected<pg::Result> r = (*session)->Exec(sql, params, what);
  if (Status s = (*session)->Run(r.ok() ? "RELEASE SAVEPOINT duet_guard"
                                        : "ROLLBACK TO SAVEPOINT duet_guard; "
                                          "RELEASE SAVEPOINT duet_guard");
      !s.ok()) {
    return s;
  }
  return r;
}

void PostgresEndpoint::SetLockTimeout(std::chrono::milliseconds timeout) {
  lock_timeout_ = timeout;
  // The next transaction sets its own; the session's is for reads outside.
  if (session_ && session_->ok() && !transaction_open_) {
    (void)session_->Run(LockTimeoutSql(lock_timeout_, false), "lock timeout");
  }
}

// ---- the catalog and the schema check ----

Expected<const TableInfo*> PostgresEndpoint::Info(const std::string& table) {
  auto it = tables_.find(table);
  if (it != tables_.end()) return &it->second;
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  Expected<std::optional<TableInfo>> info = pg::LoadTable(**session, LocalName(table));
  if (!info.ok()) return info.status();
  if (!*info) {
    return NotFoundError(system_ + ": table '" + LocalName(table) +
                         "' does not exist in the search path of the database");
  }
  if ((*info)->key.empty()) {
    return FailedPreconditionError(system_ + ": table '" + LocalName(table) + "' (schema " +
                                   (*info)->schema +
                                   ") has no primary key; duet names rows by it (add one)");
  }
  return &tables_.emplace(table, std::move(**info)).first->second;
}

Expected<std::vector<pg::CapturedTable>> PostgresEndpoint::CapturedTables() {
  std::vector<pg::CapturedTable> out;
  for (const bundle::Table& t : manifest_.tables) {
    if (t.system != system_) continue;
    Expected<const TableInfo*> info = Info(t.name);
    // A table that is missing or has no key is CheckSchema's to report.
    if (!info.ok() && info.status().code() != StatusCode::kUnavailable) continue;
    if (!info.ok()) return info.status();
    out.push_back({t.name, (*info)->schema, (*info)->name, (*info)->key});
  }
  return out;
}

Status PostgresEndpoint::CheckTables(const std::vector<std::string>& only) {
  for (const bundle::Table& table : manifest_.tables) {
    if (table.system != system_) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), table.name) == only.end()) continue;
    tables_.erase(table.name);  // a check reads the catalog as it is now
    if (Status s = CheckTable(table); !s.ok()) return s;
  }
  return Status::Ok();
}

Status PostgresEndpoint::CheckTable(const bundle::Table& table) {
  Expected<const TableInfo*> info = Info(table.name);
  if (!info.ok() && info.status().code() == StatusCode::kNotFound) return Missing(table);
  if (!info.ok()) return info.status();
  for (const bundle::Column& c : table.columns) {
    if (Status s = CheckColumn(table, **info, c); !s.ok()) return s;
  }
  return Status::Ok();
}

Status PostgresEndpoint::Missing(const bundle::Table& table) {
  std::string local = LocalName(table.name);
  std::string message = system_ + ": table '" + local +
                        "' does not exist in the search path of the database (the bundle "
                        "declares " +
                        table.name + ")";
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  Expected<std::string> other = pg::TableInOtherCase(**session, local);
  if (!other.ok()) return other.status();
  if (!other->empty()) {
    message += "; there is '" + *other +
               "': PostgreSQL folds unquoted names to lower case, duet quotes them";
  }
  return FailedPreconditionError(message);
}

Status PostgresEndpoint::CheckColumn(const bundle::Table& table, const TableInfo& info,
                                     const bundle::Column& c) {
  std::string where = system_ + ": table '" + info.name + "' (schema " + info.schema + ")";
  auto it = info.columns.find(c.name);
  if (it == info.columns.end()) {
    return FailedPreconditionError(where + " has no column '" + c.name + "' (the bundle declares " +
                                   table.name + "." + c.name + " " + c.type.ToString() + ")");
  }
  std::optional<bundle::ColumnType> want = ValueType(table, c.name);
  // A ref to a table without an id stores a row id: any type its text fits.
  if (!want) return Status::Ok();
  Status fits = pg::TypeFits(it->second, *want);
  if (fits.ok()) return Status::Ok();
  return FailedPreconditionError(where + ": column '" + c.name + "' is " + it->second.display +
                                 ", which does not fit the bundle's " + table.name + "." + c.name +
                                 " " + c.type.ToString() + ": " + fits.message());
}

std::optional<bundle::ColumnType> PostgresEndpoint::ValueType(const bundle::Table& table,
                                                              std::string_view column) {
  const bundle::Column* c = FindColumn(table, column);
  if (!c) return std::nullopt;
  if (c->type.kind != bundle::ValueKind::kRef) return c->type;
  const bundle::Table* target = manifest_.FindTable(c->type.ref);
  if (!target || target->id.empty()) return std::nullopt;
  const bundle::Column* id = FindColumn(*target, target->id);
  if (!id || id->type.kind == bundle::ValueKind::kRef) return std::nullopt;
  return id->type;
}

// ---- readers ----

Expected<std::string> PostgresEndpoint::IdExpr(const bundle::Table& table,
                                               const std::string& alias) {
  if (!table.id.empty()) return alias + "." + QuoteIdent(table.id);
  Expected<const TableInfo*> info = Info(table.name);
  if (!info.ok()) return info.status();
  if ((*info)->key.size() == 1) return Columns((*info)->key, alias);
  // A composite key's RowId (pg_row_key.h): a JSON array of the texts.
  std::string expr = "'['";
  for (size_t i = 0; i < (*info)->key.size(); ++i) {
    expr += std::string(i ? " || ','" : "") + " || to_json(" + alias + "." +
            QuoteIdent((*info)->key[i]) + "::text)::text";
  }
  return expr + " || ']'";
}

Status PostgresEndpoint::AddLookup(const bundle::Table*& current, const std::string& hop,
                                   std::string* alias, std::string* from,
                                   std::map<std::string, std::string>* aliases,
                                   std::string* prefix) {
  const bundle::Column* ref = FindColumn(*current, hop);
  if (!ref || ref->type.kind != bundle::ValueKind::kRef) {
    return InvalidArgumentError("lookup path hop '" + hop + "' of " + current->name +
                                " is not a ref column");
  }
  const bundle::Table* next = manifest_.FindTable(ref->type.ref);
  if (!next) return NotFoundError("no table '" + ref->type.ref + "' in the bundle");
  *prefix += hop + ".";
  auto it = aliases->find(*prefix);
  if (it == aliases->end()) {
    std::string joined = "j" + std::to_string(aliases->size() + 1);
    Expected<std::string> target = IdExpr(*next, joined);
    if (!target.ok()) return target.status();
    *from += " LEFT JOIN " + QuoteIdent(LocalName(next->name)) + " AS " + joined + " ON " +
             *target + " = " + *alias + "." + QuoteIdent(hop);
    it = aliases->emplace(*prefix, joined).first;
  }
  *alias = it->second;
  current = next;
  return Status::Ok();
}

Expected<std::unique_ptr<PgReader>> PostgresEndpoint::MakeReader(
    const std::string& table, const std::vector<ColumnPath>& paths) {
  const bundle::Table* t = manifest_.FindTable(table);
  if (!t) return NotFoundError("no table '" + table + "' in the bundle");
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  std::string select = "SELECT " + Columns((*info)->key, "t");
  std::string from = "FROM " + QuoteIdent((*info)->name) + " AS t";
  std::map<std::string, std::string> aliases;  // path prefix -> alias
  std::vector<ReadColumn> columns;
  for (const ColumnPath& p : paths) {
    std::string alias = "t";
    std::string prefix;
    const bundle::Table* current = t;
    for (size_t hop = 0; hop + 1 < p.path.size(); ++hop) {
      if (Status s = AddLookup(current, p.path[hop], &alias, &from, &aliases, &prefix); !s.ok()) {
        return s;
      }
    }
    select += ", " + alias + "." + QuoteIdent(p.path.back());
    ReadColumn column{"", p.type};
    for (const std::string& part : p.path) column.name += (column.name.empty() ? "" : ".") + part;
    const bundle::Column* own = p.path.size() == 1 ? FindColumn(*t, p.path[0]) : nullptr;
    column.not_null = own && own->not_null;
    Expected<const TableInfo*> holder = Info(current->name);
    if (!holder.ok()) return holder.status();
    auto type = (*holder)->columns.find(p.path.back());
    column.blank_padded = type != (*holder)->columns.end() && type->second.name == "bpchar";
    columns.push_back(std::move(column));
  }
  return std::make_unique<PgReader>(this, **info, select + " ", from, std::move(columns));
}

Expected<std::unique_ptr<RowReader>> PostgresEndpoint::Reader(
    const std::string& table, const std::vector<ColumnPath>& paths) {
  Expected<std::unique_ptr<PgReader>> reader = MakeReader(table, paths);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<RowReader>(std::move(*reader));
}

Row PgReader::MakeRow(const pg::Result& r, int row) const {
  Row out;
  size_t key = table_.key.size();
  out.id = RowIdAt(r, row, key);
  out.values.reserve(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const ReadColumn& c = columns_[i];
    int at = static_cast<int>(key + i);
    Expected<Value> v = Value::Null();
    if (!r.IsNull(row, at)) {
      v = pg::ReadPgText(r.Text(row, at), c.type, c.blank_padded);
    } else if (c.not_null) {
      v = InvalidArgumentError("null, but the table declares the column not null");
    }
    if (!v.ok() && out.problem.empty()) {
      out.problem = "column '" + c.name + "': " + v.status().message();
    }
    out.values.push_back(v.ok() ? std::move(*v) : Value::Null());
  }
  return out;
}

std::vector<Row> PgReader::MakeRows(const pg::Result& r) const {
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) rows.push_back(MakeRow(r, i));
  return rows;
}

Expected<std::optional<Row>> PgReader::Read(const RowId& id) {
  Expected<std::vector<Row>> rows = ReadKeys({id}, "");
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

Expected<std::vector<Row>> PgReader::ReadKeys(const std::vector<RowId>& ids,
                                              const std::string& suffix) {
  // Parameters per statement stay well below PostgreSQL's 65535.
  constexpr size_t kChunk = 1000;
  std::vector<Row> rows;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    Expected<std::vector<Row>> chunk =
        ReadChunk(ids, start, std::min(kChunk, ids.size() - start), suffix);
    if (!chunk.ok()) return chunk.status();
    std::move(chunk->begin(), chunk->end(), std::back_inserter(rows));
  }
  return rows;
}

// One key: = ANY of an array of the key's type; a composite key: a list of
// row values.
Expected<std::vector<Row>> PgReader::ReadChunk(const std::vector<RowId>& ids, size_t from, size_t n,
                                               const std::string& suffix) {
  std::vector<Param> params;
  std::vector<std::string> singles;
  std::string keys;
  for (size_t i = from; i < from + n; ++i) {
    Expected<std::vector<Param>> key = KeyParams(table_, ids[i]);
    if (!key.ok()) return key.status();
    if (table_.key.size() == 1) {
      singles.push_back(std::move(*(*key)[0]));
      continue;
    }
    keys += (keys.empty() ? "(" : ", (");
    for (size_t k = 0; k < key->size(); ++k)
      keys += (k ? ", " : "") + Placeholder(params.size() + k + 1);
    keys += ")";
    std::move(key->begin(), key->end(), std::back_inserter(params));
  }
  std::string where;
  if (table_.key.size() == 1) {
    where = Columns(table_.key, "t") + " = ANY($1::" + table_.key_types[0].display + "[])";
    params.emplace_back(pg::ArrayLiteral(singles));
  } else {
    where = "(" + Columns(table_.key, "t") + ") IN (" + keys + ")";
  }
  Expected<pg::Result> r =
      endpoint_->Exec(select_ + from_ + " WHERE " + where + suffix, params, "read " + table_.name);
  if (!r.ok()) return r.status();
  return MakeRows(*r);
}

Expected<pg::Result> PgReader::ScanQuery(const std::string& head, const std::string& condition,
                                         const std::optional<RowId>& after, size_t limit) {
  std::vector<Param> params;
  std::string sql = head;
  if (after) {
    Expected<std::vector<Param>> key = KeyParams(table_, *after);
    if (!key.ok()) return key.status();
    params = std::move(*key);
    // The same collation orders and compares: the columns' own.
    sql += " WHERE " + KeyCompare(table_, "t", ">", 1);
  }
  if (!condition.empty()) sql += (after ? " AND " : " WHERE ") + condition;
  sql += " ORDER BY " + Columns(table_.key, "t") + " LIMIT " + std::to_string(limit);
  if (!condition.empty()) {
    return endpoint_->ExecGuarded(sql, params,
                                  "scan " + table_.name + " where the condition holds");
  }
  return endpoint_->Exec(sql, params, "scan " + table_.name);
}

Expected<std::vector<Row>> PgReader::ScanRows(const std::optional<RowId>& after, size_t limit,
                                              const std::string& condition) {
  Expected<pg::Result> r = ScanQuery(select_ + from_, condition, after, limit);
  if (!r.ok()) return r.status();
  return MakeRows(*r);
}

Expected<std::vector<Row>> PgReader::ScanWhere(const std::optional<RowId>& after, size_t limit,
                                               const std::string& where) {
  Expected<std::string> condition = pg::Condition(where);
  if (!condition.ok()) return condition.status();
  Expected<std::vector<Row>> rows = ScanRows(after, limit, *condition);
  if (rows.ok() || rows.status().code() == StatusCode::kUnavailable) return rows;
  return InvalidArgumentError("the condition '" + where + "': " + rows.status().message());
}

Expected<int64_t> PgReader::CountWhere(const std::string& where) {
  Expected<std::string> condition = pg::Condition(where);
  if (!condition.ok()) return condition.status();
  Expected<pg::Result> r = endpoint_->ExecGuarded(
      "SELECT count(*) " + from_ + " WHERE " + *condition, {}, "count " + table_.name);
  if (!r.ok() && r.status().code() != StatusCode::kUnavailable) {
    return InvalidArgumentError("the condition '" + where + "': " + r.status().message());
  }
  if (!r.ok()) return r.status();
  return std::strtoll(std::string(r->Text(0, 0)).c_str(), nullptr, 10);
}

Expected<std::vector<RowId>> PgReader::ScanIds(const std::optional<RowId>& after, size_t limit) {
  Expected<pg::Result> r =
      ScanQuery("SELECT " + Columns(table_.key, "t") + " FROM " + QuoteIdent(table_.name) + " AS t",
                "", after, limit);
  if (!r.ok()) return r.status();
  std::vector<RowId> ids;
  ids.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) ids.push_back(RowIdAt(*r, i, table_.key.size()));
  return ids;
}

Expected<int64_t> PgReader::Count() {
  Expected<pg::Result> r = endpoint_->Exec("SELECT count(*) FROM " + QuoteIdent(table_.name), {},
                                           "count " + table_.name);
  if (!r.ok()) return r.status();
  return std::strtoll(std::string(r->Text(0, 0)).c_str(), nullptr, 10);
}

// ---- finding rows ----

// The condition "`columns` hold `values`" as FindRow compares them, its
// placeholders numbered after `params`, which it extends; nullopt when no
// row can match (a null, a value that cannot be of the column's type).
std::optional<std::string> PostgresEndpoint::KeyCondition(const bundle::Table* t,
                                                          const std::vector<std::string>& columns,
                                                          const std::vector<Value>& values,
                                                          std::vector<Param>* params) {
  std::string where;
  std::vector<Param> own;
  for (size_t i = 0; i < columns.size() && i < values.size(); ++i) {
    if (values[i].is_null()) return std::nullopt;
    // As a value of the column's type (value.h), which the server then
    // compares as one; a value that cannot be one matches no row.
    std::optional<bundle::ColumnType> type =
        t ? ValueType(*t, columns[i]) : std::optional<bundle::ColumnType>();
    std::optional<Value> v = type ? AsKeyValue(values[i], *type) : values[i];
    if (!v) return std::nullopt;
    Expected<std::optional<std::string>> text = pg::WritePgText(*v);
    if (!text.ok() || !*text) return std::nullopt;
    // An integer as int8, so that one beyond an int4 column's range is
    // compared (unequal), not refused.
    std::string cast = type && type->kind == bundle::ValueKind::kInt ? "::int8" : "";
    where += std::string(i ? " AND " : "") + QuoteIdent(columns[i]) + " = " +
             Placeholder(params->size() + own.size() + 1) + cast;
    own.push_back(std::move(*text));
  }
  if (where.empty()) where = "true";
  std::move(own.begin(), own.end(), std::back_inserter(*params));
  return where;
}

Expected<std::optional<RowId>> PostgresEndpoint::FindRow(const std::string& table,
                                                         const std::vector<std::string>& columns,
                                                         const std::vector<Value>& values) {
  Expected<std::vector<std::optional<RowId>>> found = FindRows(table, columns, {values});
  if (!found.ok()) return found.status();
  return std::move(found->front());
}

Expected<std::vector<std::optional<RowId>>> PostgresEndpoint::FindRows(
    const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<Value>>& keys) {
  const bundle::Table* t = manifest_.FindTable(table);
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  std::vector<std::optional<RowId>> out(keys.size());
  // One statement per chunk: for each key that can match, its first row by
  // key (FindRow's answer), tagged with the key's position.
  constexpr size_t kPerStatement = 500;
  std::string from =
      ", " + Columns((*info)->key, "") + " FROM " + QuoteIdent((*info)->name) + " WHERE ";
  std::string order = " ORDER BY " + Columns((*info)->key, "") + " LIMIT 1)";
  for (size_t start = 0; start < keys.size(); start += kPerStatement) {
    std::string sql;
    std::vector<Param> params;
    for (size_t k = start; k < std::min(keys.size(), start + kPerStatement); ++k) {
      std::optional<std::string> where = KeyCondition(t, columns, keys[k], &params);
      if (!where) continue;
      sql += std::string(sql.empty() ? "" : " UNION ALL ") + "(SELECT " + std::to_string(k) + from +
             *where + order;
    }
    if (sql.empty()) continue;
    Expected<pg::Result> r = Exec(sql, params, "find rows of " + table);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      size_t k = std::strtoull(std::string(r->Text(i, 0)).c_str(), nullptr, 10);
      if (k < out.size()) out[k] = RowIdAt(*r, i, (*info)->key.size(), 1);
    }
  }
  return out;
}

Expected<Value> PostgresEndpoint::RefValue(const std::string& table, const RowId& id) {
  const bundle::Table* t = manifest_.FindTable(table);
  if (!t) return NotFoundError("no table '" + table + "' in the bundle");
  if (t->id.empty()) return Value::String(id);
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  Expected<std::vector<Param>> key = KeyParams(**info, id);
  if (!key.ok()) return key.status();
  Expected<pg::Result> r =
      Exec("SELECT " + QuoteIdent(t->id) + " FROM " + QuoteIdent((*info)->name) + " WHERE " +
               KeyCompare(**info, "", "=", 1),
           *key, "read the id of a row of " + table);
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFoundError(system_ + ": no row " + id + " in " + table);
  if (r->IsNull(0, 0)) return Value::Null();
  bundle::ColumnType as_ref;
  as_ref.kind = bundle::ValueKind::kRef;
  return pg::ReadPgText(r->Text(0, 0), as_ref, false);
}

// ---- write transactions ----

// One at a time, on the endpoint's session.
using PgWriteTransaction = EndpointTransaction<PostgresEndpoint>;

Expected<std::unique_ptr<WriteTransaction>> PostgresEndpoint::Begin(std::string_view origin,
                                                                    WriteLock lock) {
  if (transaction_open_) {
    return FailedPreconditionError(system_ + ": a write transaction is already open");
  }
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  if (Status s = capture_->MarkSession(**session, origin); !s.ok()) return s;
  // Both: one snapshot, taken now (SELECT 1 takes it), so that the engine,
  // which reads a pair's rows with RowReaders and then writes them, never
  // overwrites an application's change it did not read: a write to a row
  // changed since the snapshot fails (serialization failure, Unavailable)
  // and the batch is done again. (READ COMMITTED would let the write go on
  // over the newer row.) kNow waits up to the lock timeout for a row
  // another writer holds; kAtFirstWrite waits for none (1 ms, PostgreSQL's
  // least; 0 would mean no limit).
  std::chrono::milliseconds wait =
      lock == WriteLock::kNow ? lock_timeout_ : std::chrono::milliseconds(1);
  std::string begin =
      "BEGIN ISOLATION LEVEL REPEATABLE READ; " + LockTimeoutSql(wait, true) + "; SELECT 1";
  if (Status s = (*session)->Run(begin, "begin a write transaction"); !s.ok()) {
    if ((*session)->ok()) (void)(*session)->Run("ROLLBACK");
    return s;
  }
  transaction_open_ = true;
  lock_ = lock;
  locked_ = false;
  return std::unique_ptr<WriteTransaction>(new PgWriteTransaction(this));
}

void PostgresEndpoint::NoteLock() {
  if (locked_) return;
  locked_ = true;
  locked_at_ = std::chrono::steady_clock::now();
}

Status PostgresEndpoint::WriteFailed(const Status& s) {
  std::string state = pg::SqlStateOf(s);
  if (state == "40001" || state == "55P03") {
    if (lock_ == WriteLock::kAtFirstWrite) lost_race_ = true;
    return UnavailableError(s.message());
  }
  if (state.rfind("P0", 0) == 0 || state.rfind("44", 0) == 0) {
    return FailedPreconditionError(s.message());  // an application's trigger, a view's check
  }
  return s;
}

Expected<pg::Result> PostgresEndpoint::Write(const std::string& sql,
                                             const std::vector<Param>& params,
                                             std::string_view what,
                                             std::optional<int> expect_rows) {
  Expected<pg::Connection*> session = Session();
  if (!session.ok()) return session.status();
  pg::Connection& c = **session;
  NoteLock();
  if (Status s = c.Run("SAVEPOINT duet_write", what); !s.ok()) return s;
  Expected<pg::Result> r = c.Exec(sql, params, what);
  bool short_of_rows = r.ok() && expect_rows && r->rows() != *expect_rows;
  if (r.ok() && !short_of_rows) {
    if (Status s = c.Run("RELEASE SAVEPOINT duet_write", what); !s.ok()) return s;
    return r;
  }
  if (c.ok()) {
    Status undone = c.Run("ROLLBACK TO SAVEPOINT duet_write; RELEASE SAVEPOINT duet_write", what);
    if (!undone.ok()) return undone;
  }
  if (short_of_rows) {
    return FailedPreconditionError("postgresql (" + system_ + "): " + std::string(what) +
                                   ": a trigger skipped rows");
  }
  return WriteFailed(r.status());
}

Expected<std::string> PostgresEndpoint::InsertSql(const std::string& table,
                                                  std::vector<std::string>* columns, bool* new_guid,
                                                  size_t rows, bool skip_conflicts) {
  const bundle::Table* t = manifest_.FindTable(table);
  if (!t) return NotFoundError("no table '" + table + "' in the bundle");
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  *new_guid = false;
  if (!t->id.empty() && std::find(columns->begin(), columns->end(), t->id) == columns->end()) {
    const bundle::Column* id = FindColumn(*t, t->id);
    *new_guid = id && id->type.kind == bundle::ValueKind::kGuid;
    if (*new_guid) columns->push_back(t->id);
  }
  std::string sql = "INSERT INTO " + QuoteIdent((*info)->name);
  if (columns->empty()) {
    sql += " DEFAULT VALUES";
  } else {
    sql += " (" + Columns(*columns, "") + ") VALUES ";
    size_t n = 0;
    for (size_t row = 0; row < rows; ++row) {
      sql += row ? ", (" : "(";
      for (size_t i = 0; i < columns->size(); ++i) sql += (i ? ", " : "") + Placeholder(++n);
      sql += ")";
    }
  }
  if (skip_conflicts) sql += " ON CONFLICT DO NOTHING";
  return sql + " RETURNING " + Columns((*info)->key, "");
}

Expected<RowId> PostgresEndpoint::Insert(const std::string& table,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& values) {
  // Under kAtFirstWrite a key another writer has taken since the snapshot
  // is a lost race, not a refused row: ON CONFLICT DO NOTHING fails with a
  // serialization failure on a conflicting row the snapshot does not see,
  // and skips one it sees, whose refusal the plain INSERT then gives with
  // the server's reason.
  bool race = lock_ == WriteLock::kAtFirstWrite;
  std::vector<std::string> cols = columns;
  bool new_guid = false;
  Expected<std::string> sql = InsertSql(table, &cols, &new_guid, 1, race);
  if (!sql.ok()) return sql.status();
  std::vector<Param> params;
  if (Status s = AppendValues(values, &params); !s.ok()) return s;
  if (new_guid) params.emplace_back(Value::Guid(NewUuidV7()).ToText());
  std::string what = "insert into " + table;
  Expected<pg::Result> r = Write(*sql, params, what, race ? std::nullopt : std::optional<int>(1));
  // No row: a conflict with a row the snapshot sees, or a trigger skipped
  // it. Feature not supported: a table with rules takes no ON CONFLICT.
  if ((r.ok() && r->rows() == 0) || (!r.ok() && pg::SqlStateOf(r.status()) == "0A000")) {
    cols = columns;
    sql = InsertSql(table, &cols, &new_guid, 1, false);
    if (!sql.ok()) return sql.status();
    r = Write(*sql, params, what, 1);
  }
  if (!r.ok()) return r.status();
  return RowIdAt(*r, 0, r->columns());
}

Expected<std::vector<RowId>> PostgresEndpoint::InsertChunk(
    const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<Value>>& rows, size_t start, size_t n) {
  std::vector<std::string> cols = columns;
  bool new_guid = false;
  Expected<std::string> sql =
      InsertSql(table, &cols, &new_guid, n, lock_ == WriteLock::kAtFirstWrite);
  if (!sql.ok()) return sql.status();
  std::vector<Param> params;
  for (size_t i = start; i < start + n; ++i) {
    if (Status s = AppendValues(rows[i], &params); !s.ok()) return s;
    if (new_guid) params.emplace_back(Value::Guid(NewUuidV7()).ToText());
  }
  // The rows come back in the order of the VALUES list; a row refused or
  // skipped (a conflict under kAtFirstWrite, a trigger) makes the chunk
  // FailedPrecondition, undone, for the caller to insert row by row.
  Expected<pg::Result> r = Write(*sql, params, "insert into " + table, static_cast<int>(n));
  if (!r.ok() && pg::SqlStateOf(r.status()) == "0A000") {
    return FailedPreconditionError(r.status().message());  // Insert knows what to do
  }
  if (!r.ok()) return r.status();
  std::vector<RowId> ids;
  for (int i = 0; i < r->rows(); ++i) ids.push_back(RowIdAt(*r, i, r->columns()));
  return ids;
}

Expected<std::vector<Expected<RowId>>> PostgresEndpoint::InsertMany(
    const std::string& table, const std::vector<std::string>& columns,
    const std::vector<std::vector<Value>>& rows) {
  std::vector<Expected<RowId>> out;
  out.reserve(rows.size());
  size_t per_statement = std::clamp<size_t>(60000 / (columns.size() + 1), 1, 1000);
  for (size_t start = 0; start < rows.size(); start += per_statement) {
    size_t n = std::min(per_statement, rows.size() - start);
    // No columns: DEFAULT VALUES, which inserts one row per statement.
    if (!columns.empty()) {
      Expected<std::vector<RowId>> ids = InsertChunk(table, columns, rows, start, n);
      if (ids.ok()) {
        for (RowId& id : *ids) out.push_back(std::move(id));
        continue;
      }
      if (ids.status().code() != StatusCode::kFailedPrecondition) return ids.status();
    }
    // A row was refused: each row alone, for its own outcome.
    for (size_t i = start; i < start + n; ++i) {
      Expected<RowId> id = Insert(table, columns, rows[i]);
      if (!id.ok() && id.status().code() != StatusCode::kFailedPrecondition) return id.status();
      out.push_back(std::move(id));
    }
  }
  return out;
}

Status PostgresEndpoint::Update(const std::string& table, const RowId& id,
                                const std::vector<std::string>& columns,
                                const std::vector<Value>& values) {
  if (columns.empty()) return Status::Ok();
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  Expected<std::vector<Param>> key = KeyParams(**info, id);
  if (!key.ok()) return key.status();
  std::vector<Param> params;
  if (Status s = AppendValues(values, &params); !s.ok()) return s;
  std::string sql = "UPDATE " + QuoteIdent((*info)->name) + " SET ";
  for (size_t i = 0; i < columns.size(); ++i) {
    sql += (i ? ", " : "") + QuoteIdent(columns[i]) + " = " + Placeholder(i + 1);
  }
  sql += " WHERE " + KeyCompare(**info, "", "=", params.size() + 1) + " RETURNING true";
  std::move(key->begin(), key->end(), std::back_inserter(params));
  Expected<pg::Result> r = Write(sql, params, "update " + table);
  if (!r.ok()) return r.status();
  // No row updated: the row is gone (the caller's to notice), or a trigger
  // of the application skipped the update.
  if (r->rows() > 0) return Status::Ok();
  Expected<pg::Result> exists = Exec(
      "SELECT 1 FROM " + QuoteIdent((*info)->name) + " WHERE " + KeyCompare(**info, "", "=", 1),
      *key, "look for a row of " + table);
  if (!exists.ok()) return exists.status();
  if (exists->rows() == 0) return Status::Ok();
  return FailedPreconditionError("postgresql (" + system_ + "): a trigger of " + (*info)->name +
                                 " skipped the update");
}

Status PostgresEndpoint::Delete(const std::string& table, const RowId& id) {
  Expected<const TableInfo*> info = Info(table);
  if (!info.ok()) return info.status();
  Expected<std::vector<Param>> key = KeyParams(**info, id);
  if (!key.ok()) return key.status();
  return Write("DELETE FROM " + QuoteIdent((*info)->name) + " WHERE " +
                   KeyCompare(**info, "", "=", 1),
               *key, "delete from " + table)
      .status();
}

Expected<std::vector<Row>> PostgresEndpoint::ReadForUpdate(const std::string& table,
                                                           const std::vector<ColumnPath>& paths,
                                                           const std::vector<RowId>& ids) {
  Expected<std::unique_ptr<PgReader>> reader = MakeReader(table, paths);
  if (!reader.ok()) return reader.status();
  if (ids.empty()) return std::vector<Row>();
  NoteLock();
  // OF t: the table's rows, not the lookups' (nor the null side of a join).
  Expected<std::vector<Row>> rows = (*reader)->ReadKeys(
      ids, lock_ == WriteLock::kNow ? " FOR UPDATE OF t" : " FOR UPDATE OF t NOWAIT");
  if (!rows.ok()) return WriteFailed(rows.status());
  return rows;
}

Status PostgresEndpoint::EndWrite(const char* sql) {
  Status s = Status::Ok();
  if (sql && session_ && session_->ok()) s = session_->Run(sql, sql);
  last_lock_held_ =
      locked_ ? std::chrono::steady_clock::now() - locked_at_ : std::chrono::nanoseconds(0);
  locked_ = false;
  return s;
}

Status PostgresEndpoint::CommitWrite() {
  if (!session_ || !session_->ok()) {
    return UnavailableError("postgresql (" + system_ +
                            "): the connection was lost during a write transaction");
  }
  // COMMIT of a transaction an error aborted would roll it back and say
  // nothing: the transaction is lost, and the caller rolls it back.
  if (session_->InFailedTransaction()) {
    return FailedPreconditionError("postgresql (" + system_ +
                                   "): the write transaction failed earlier; roll it back");
  }
  Status s = session_->Run("COMMIT", "commit");
  if (!s.ok()) {
    // The server has ended the transaction; the caller's Rollback finds
    // none to end.
    return WriteFailed(s);
  }
  return EndWrite(nullptr);
}

void PostgresEndpoint::RollbackWrite() { (void)EndWrite("ROLLBACK"); }

}  // namespace

Expected<std::unique_ptr<Endpoint>> OpenPostgresEndpoint(const std::string& conninfo,
                                                         const std::string& system,
                                                         const bundle::Manifest& manifest) {
  return OpenPostgresEndpoint(conninfo, system, manifest, &pg::OpenCapture);
}

Expected<std::unique_ptr<Endpoint>> OpenPostgresEndpoint(const std::string& conninfo,
                                                         const std::string& system,
                                                         const bundle::Manifest& manifest,
                                                         const PgCaptureOpener& open_capture) {
  // The endpoint's own session connects without duet's capture option,
  // which libpq does not know; the capture reads it (pg::OpenCapture).
  Expected<pg::CaptureChoice> choice = pg::SplitCaptureOption(conninfo);
  if (!choice.ok()) {
    return Status(choice.status().code(), "system '" + system + "': " + choice.status().message());
  }
  Expected<std::unique_ptr<pg::Connection>> session =
      pg::Connection::Open(choice->conninfo, {.label = system});
  if (!session.ok()) return session.status();
  auto endpoint =
      std::make_unique<PostgresEndpoint>(choice->conninfo, system, manifest, std::move(*session));
  endpoint->SetLockTimeout(std::chrono::milliseconds(30000));
  Expected<std::vector<pg::CapturedTable>> tables = endpoint->CapturedTables();
  if (!tables.ok()) return tables.status();
  Expected<std::unique_ptr<pg::PgCapture>> capture =
      open_capture(conninfo, system, std::move(*tables));
  if (!capture.ok()) return capture.status();
  endpoint->SetCapture(std::move(*capture));
  return std::unique_ptr<Endpoint>(std::move(endpoint));
}

}  // namespace duet::endpoint
