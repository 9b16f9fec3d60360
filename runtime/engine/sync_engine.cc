#include "runtime/engine/sync_engine.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <limits>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "runtime/jit/error_kinds.h"
#include "runtime/jit/helpers.h"

namespace duet::engine {

using endpoint::ColumnPath;
using endpoint::Endpoint;
using endpoint::Row;
using endpoint::RowId;
using endpoint::Value;
using nlohmann::json;

namespace {

std::string JoinPath(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

const bundle::Column* FindColumn(const bundle::Table& table, std::string_view name) {
  for (const bundle::Column& c : table.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// One side of a map: its table, how its rows are read, and the transform
// that reads them (absent when the map only writes this side).
struct Side {
  int index = 0;
  std::string system;
  std::string table;
  const bundle::Table* info = nullptr;
  Endpoint* endpoint = nullptr;
  std::vector<ColumnPath> shape;
  std::unique_ptr<endpoint::RowReader> reader;
  const bundle::Transform* transform = nullptr;  // this side -> the other
  duet_transform_fn function = nullptr;
  std::vector<int> input_index;    // transform->inputs[i] -> shape index
  std::vector<int> current_index;  // other transform's outputs[j] -> shape index here
  std::map<std::string, int> raw_ref_index;  // ref column -> shape index (stored id)
};

struct FieldPlan {
  std::string rule;          // a system, "newest", "manual", or "" (none)
  std::vector<int> slots[2];  // slots[s]: outputs of side s's transform
};

struct MapPlan {
  const bundle::Map* map = nullptr;
  std::string name;
  Side side[2];
  std::vector<FieldPlan> fields;
  int seed = 0;
  bool initial_none = false;
  std::vector<int> key_slots[2];  // outputs of side s's transform that are keys of the other side
  // Application inserts captured but not yet behind the checkpoint, per
  // side: RowId -> newest seq, read up to inserts_scanned. A linked RowId
  // inserted after its link was made names a new row (SQLite reuses the
  // rowid of a deleted last row).
  std::unordered_map<RowId, int64_t> pending_inserts[2];
  std::deque<std::pair<int64_t, RowId>> pending_order[2];  // by seq, for pruning
  int64_t inserts_scanned[2] = {-1, -1};
  // duet's own inserts count only after this seq: at start, those of a batch
  // whose state never committed; afterwards none (insert_row checks its own).
  int64_t own_inserts_after[2] = {0, 0};
};

int AddPath(Side& side, const std::vector<std::string>& path, const bundle::ColumnType& type) {
  for (size_t i = 0; i < side.shape.size(); ++i) {
    if (side.shape[i].path == path) return static_cast<int>(i);
  }
  side.shape.push_back(ColumnPath{path, type});
  return static_cast<int>(side.shape.size() - 1);
}

// What a transform made of a row.
struct Projection {
  int32_t status = DUET_OK;
  std::vector<Value> values;
  std::string error_kind;
  std::string message;
};

// The four value vectors a link's base keeps (docs/sync.md): per side s,
// P[s] the outputs of side s's transform, C[s] side s's own values of the
// columns the other side's transform writes.
struct Base {
  std::vector<Value> p[2];
  std::vector<Value> c[2];
};

// A base is stored compactly: each C vector is written relative to the P
// vector over the same output slots (P[0] and C[1], P[1] and C[0]), a value
// equal to its counterpart as one byte, since in a synced pair they mostly
// are.
constexpr uint8_t kSameAsProjection = 0xfe;

void EncodeRelative(const std::vector<Value>& values, const std::vector<Value>& reference,
                    std::string* out) {
  uint32_t n = static_cast<uint32_t>(values.size());
  out->append(reinterpret_cast<const char*>(&n), sizeof n);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i < reference.size() && !values[i].is_unknown() && values[i] == reference[i] &&
        values[i].tag() == reference[i].tag() && values[i].scale() == reference[i].scale()) {
      out->push_back(static_cast<char>(kSameAsProjection));
    } else {
      values[i].Encode(out);
    }
  }
}

bool DecodeRelative(std::string_view* in, const std::vector<Value>& reference,
                    std::vector<Value>* out) {
  uint32_t n;
  if (in->size() < sizeof n) return false;
  std::memcpy(&n, in->data(), sizeof n);
  in->remove_prefix(sizeof n);
  if (n > in->size()) return false;
  out->clear();
  out->reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    if (in->empty()) return false;
    if (static_cast<uint8_t>(in->front()) == kSameAsProjection) {
      if (i >= reference.size()) return false;
      in->remove_prefix(1);
      out->push_back(reference[i]);
      continue;
    }
    Value v;
    if (!Value::Decode(in, &v)) return false;
    out->push_back(std::move(v));
  }
  return true;
}

std::string EncodeBase(const Base& b) {
  static const std::vector<Value> kNone;
  std::string out;
  EncodeRelative(b.p[0], kNone, &out);
  EncodeRelative(b.c[1], b.p[0], &out);
  EncodeRelative(b.p[1], kNone, &out);
  EncodeRelative(b.c[0], b.p[1], &out);
  return out;
}

bool DecodeBase(std::string_view bytes, Base* b) {
  static const std::vector<Value> kNone;
  return DecodeRelative(&bytes, kNone, &b->p[0]) && DecodeRelative(&bytes, b->p[0], &b->c[1]) &&
         DecodeRelative(&bytes, kNone, &b->p[1]) && DecodeRelative(&bytes, b->p[1], &b->c[0]) &&
         bytes.empty();
}

// A column's `default` constant (as the map language spells it: strings in
// double quotes with backslash escapes) as a value of the column's type.
Expected<Value> DefaultValue(const bundle::Column& column) {
  std::string text = column.default_value;
  if (text == "null") return Value::Null();
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    std::string unquoted;
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      char c = text[i];
      if (c == '\\' && i + 2 < text.size()) {
        char e = text[++i];
        unquoted += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      } else {
        unquoted += c;
      }
    }
    text = std::move(unquoted);
  }
  Expected<Value> v = endpoint::ValueFromText(text, column.type);
  if (!v.ok()) {
    return InvalidArgumentError("bundle: default of column " + column.name + ": " +
                                v.status().message());
  }
  return v;
}

// A write the engine could not do because a referenced row is missing.
struct Missing {
  std::string reason;
};

}  // namespace

class SyncEngine::Impl {
 public:
  // DUET_TRACE=FILE appends one line per reconcile decision to FILE: a
  // debugging aid for engineers, not an interface.
  FILE* trace = nullptr;
  template <typename... Args>
  void Trace(fmt::format_string<Args...> format, Args&&... args) {
    if (!trace) return;
    std::string line = fmt::format(format, std::forward<Args>(args)...);
    std::fprintf(trace, "%d %s\n", static_cast<int>(::getpid()), line.c_str());
    std::fflush(trace);
  }
  ~Impl() {
    if (trace) std::fclose(trace);
  }

  Config config;
  const bundle::LoadedBundle* bundle = nullptr;
  std::map<std::string, std::unique_ptr<Endpoint>> endpoints;
  std::unique_ptr<state::StateStore> state;
  std::vector<std::unique_ptr<MapPlan>> plans;  // in initial sync order
  jit::Context ctx;
  RunCounts counts;

  Status Plan();
  Status PlanSide(MapPlan& plan, int s);

  // ---- one batch: the write transactions on both sides and the state
  // changes that follow them ----
  struct Batch {
    MapPlan* plan = nullptr;
    bool open = false;
    std::vector<std::function<Status(state::StateStore&)>> state_ops;
    // Links made or dropped in this batch, before the state store has them.
    std::unordered_map<std::string, std::optional<state::Link>> by_left;
    std::unordered_map<std::string, std::optional<std::string>> by_right;  // -> left id
    std::unordered_set<std::string> done;  // pairs reconciled, "L:id" / "R:id"
    std::unordered_set<std::string> replaced;  // rows handled as replaced, "L:id" / "R:id"
    bool has_errors = false;
    bool has_waiting = false;
    bool state_open = false;  // the state store's transaction of this batch
    int64_t writes = 0;
    // Each side's changelog end just before the batch commits: the seq of
    // the links the batch makes (state::Link), known only then.
    std::shared_ptr<std::array<int64_t, 2>> commit_end =
        std::make_shared<std::array<int64_t, 2>>();
  };
  // The seq of a link made in the current batch until it commits: newer
  // than any change captured so far, duet's own inserts included.
  static constexpr int64_t kThisBatch = std::numeric_limits<int64_t>::max();

  Status BeginBatch(Batch& batch, MapPlan& plan);
  Status CommitBatch(Batch& batch, const std::function<Status(state::StateStore&)>& extra);
  void AbortBatch(Batch& batch);

  Expected<std::optional<state::Link>> FindLink(Batch& batch, int s, const RowId& id);
  // Links the pair, dropping any other link either row had.
  Status PutLink(Batch& batch, const state::Link& link);
  void DropLink(Batch& batch, const state::Link& link);

  // Reconciles the pair that row `id` of side `s` belongs to. `seed` >= 0
  // during initial sync: that side wins every field that differs.
  // `gone`: bit i set when the linked row of side i was deleted and its
  // RowId reused by a new row; the pair is reconciled as if that row were
  // gone.
  // `known`: row `id` as the caller just read it in this batch.
  Status Reconcile(Batch& batch, int s, const RowId& id, int seed, int gone = 0,
                   const Row* known = nullptr);

  Projection Project(Side& side, const Row& row);
  // The row `id` of `side` as the values just written to it give it, if
  // they cover every column the side's reader reads; nullopt otherwise (the
  // database filled some: read it back).
  // Applies an update's values to the row as read before it; false when
  // the row must be read again instead.
  static bool PatchImage(const Side& side, const std::vector<std::string>& columns,
                         const std::vector<Value>& values, Row* row);
  static std::optional<Row> ImageOfWrite(const Side& side, const RowId& id,
                                         const std::vector<std::string>& columns,
                                         const std::vector<Value>& values);
  void RecordError(Batch& batch, int s, const RowId& id, const std::string& kind,
                   const std::string& reason, const Row* row);
  void Resolved(Batch& batch, const std::string& left, const std::string& right);
  void Wait(Batch& batch, int s, const RowId& id, const std::string& reason);

  // Values to write on side `to` for `slots` of side (1 - to)'s transform,
  // with lookups resolved to stored references. `current` is side `to`'s
  // current row, when it exists, for the references composite keys need.
  Expected<std::variant<std::pair<std::vector<std::string>, std::vector<Value>>, Missing>>
  Columns(MapPlan& plan, int to, const std::vector<int>& slots, const std::vector<Value>& values,
          const Row* current, std::vector<int>* deferred_missing);
  Expected<std::variant<Value, Missing>> ResolveLookup(
      MapPlan& plan, int to, const std::vector<std::string>& path, const Value& value,
      const std::map<std::string, Value>& refs);

  Expected<Base> ComputeBase(MapPlan& plan, const std::optional<Row> rows[2]);
  Expected<std::optional<Row>> ReadRow(Side& side, const RowId& id);

  Expected<int> Winner(MapPlan& plan, const FieldPlan& field, const RowId ids[2], int trigger);

  Expected<int64_t> ProcessChanges(MapPlan& plan, size_t limit);
  // Reads the links of every row of the changes into the batch's overlay,
  // a few queries instead of one per change.
  Status PrefetchLinks(Batch& batch, const std::vector<endpoint::Change> changes[2]);
  // Forgets pending inserts at or before the checkpoints.
  void PrunePending(MapPlan& plan, const int64_t checkpoint[2]);
  Status InitialSync(MapPlan& plan, const ProgressFn& progress, const std::atomic<bool>* stop);
  Expected<int64_t> RetryWaiting(MapPlan& plan, bool retry_errors);
  Status Prune();
  Expected<RunCounts> Run(const std::atomic<bool>* stop, const ProgressFn& progress);
};

// ---------------------------------------------------------------------------
// Planning

Status SyncEngine::Impl::PlanSide(MapPlan& plan, int s) {
  Side& side = plan.side[s];
  Side& other = plan.side[1 - s];
  if (side.transform) {
    for (const bundle::Slot& slot : side.transform->inputs) {
      side.input_index.push_back(AddPath(side, slot.path, slot.type));
    }
  }
  if (other.transform) {
    for (const bundle::Slot& slot : other.transform->outputs) {
      side.current_index.push_back(AddPath(side, slot.path, slot.type));
    }
  }
  // Stored references of every ref column: composite-key lookups take the
  // other key columns from them.
  for (const bundle::Column& c : side.info->columns) {
    if (c.type.kind == bundle::ValueKind::kRef) {
      bundle::ColumnType raw;
      raw.kind = bundle::ValueKind::kRef;
      raw.ref = c.type.ref;
      side.raw_ref_index[c.name] = AddPath(side, {c.name}, raw);
    }
  }
  Expected<std::unique_ptr<endpoint::RowReader>> reader =
      side.endpoint->Reader(side.table, side.shape);
  if (!reader.ok()) return reader.status();
  side.reader = std::move(*reader);
  return Status::Ok();
}

Status SyncEngine::Impl::Plan() {
  const bundle::Manifest& m = bundle->manifest();
  std::vector<std::string> order = m.initial_sync_order;
  for (const bundle::Map& map : m.maps) {
    if (std::find(order.begin(), order.end(), map.name) == order.end()) order.push_back(map.name);
  }
  for (const std::string& name : order) {
    const bundle::Map* map = m.FindMap(name);
    if (!map) return InvalidArgumentError("bundle: initial_sync_order names unknown map " + name);
    auto plan = std::make_unique<MapPlan>();
    plan->map = map;
    plan->name = map->name;
    const std::string tables[2] = {map->left_table, map->right_table};
    for (int s = 0; s < 2; ++s) {
      Side& side = plan->side[s];
      side.index = s;
      side.table = tables[s];
      side.info = m.FindTable(tables[s]);
      if (!side.info) return InvalidArgumentError("bundle: unknown table " + tables[s]);
      side.system = side.info->system;
      auto ep = endpoints.find(side.system);
      if (ep == endpoints.end()) {
        return InvalidArgumentError("no connection for system '" + side.system + "'");
      }
      side.endpoint = ep->second.get();
      Expected<bundle::LoadedTransform> t = bundle->Find(map->name, side.system);
      if (t.ok()) {
        side.transform = t->transform;
        side.function = t->function;
      }
    }
    for (int s = 0; s < 2; ++s) {
      if (Status st = PlanSide(*plan, s); !st.ok()) return st;
    }
    // Fields: each output slot belongs to the mapping that writes it.
    plan->fields.resize(map->fields.size());
    for (size_t f = 0; f < map->fields.size(); ++f) {
      const bundle::Field& field = map->fields[f];
      plan->fields[f].rule = field.master.empty() ? map->master : field.master;
    }
    for (int s = 0; s < 2; ++s) {
      const bundle::Transform* t = plan->side[s].transform;
      if (!t) continue;
      for (size_t j = 0; j < t->outputs.size(); ++j) {
        std::string name = t->outputs[j].Name();
        int found = -1;
        for (size_t f = 0; f < map->fields.size() && found < 0; ++f) {
          const bundle::Field& field = map->fields[f];
          bool flows = s == 0 ? field.direction != "<-" : field.direction != "->";
          if (flows && (s == 0 ? field.right : field.left) == name) found = static_cast<int>(f);
        }
        if (found < 0) {
          plan->fields.push_back(FieldPlan{map->master, {}});
          found = static_cast<int>(plan->fields.size() - 1);
        }
        plan->fields[static_cast<size_t>(found)].slots[s].push_back(static_cast<int>(j));
        if (t->outputs[j].key) plan->key_slots[s].push_back(static_cast<int>(j));
      }
    }
    plan->initial_none = map->initial == "none";
    plan->seed = map->initial == plan->side[1].system ? 1 : 0;
    if (!plan->side[plan->seed].transform) plan->seed = 1 - plan->seed;
    for (int s = 0; s < 2; ++s) {
      if (plan->side[s].transform && plan->key_slots[s].empty()) {
        return InvalidArgumentError("map " + map->name + ": table " + plan->side[1 - s].table +
                                    " has no alternate key the map fills");
      }
    }
    plans.push_back(std::move(plan));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Batches

Status SyncEngine::Impl::BeginBatch(Batch& batch, MapPlan& plan) {
  batch = Batch();
  batch.plan = &plan;
  Endpoint* first = plan.side[0].endpoint;
  Endpoint* second = plan.side[1].endpoint;
  if (Status s = first->BeginWrite(plan.name); !s.ok()) return s;
  if (second != first) {
    if (Status s = second->BeginWrite(plan.name); !s.ok()) {
      first->RollbackWrite();
      return s;
    }
  }
  batch.open = true;
  if (Status s = state->BeginRead(); !s.ok()) {
    AbortBatch(batch);
    return s;
  }
  batch.state_open = true;
  for (int s = 0; s < 2; ++s) {
    if (!plan.side[s].transform) continue;
    if (plan.inserts_scanned[s] < 0) {
      Expected<int64_t> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
      Expected<int64_t> committed = state->GetCommitEnd(plan.name, plan.side[s].system);
      if (!ck.ok() || !committed.ok()) {
        AbortBatch(batch);
        return ck.ok() ? committed.status() : ck.status();
      }
      plan.inserts_scanned[s] = *ck;
      plan.own_inserts_after[s] = *committed;
    }
    Expected<Endpoint::Inserts> inserts = plan.side[s].endpoint->ReadInserts(
        plan.side[s].table, plan.inserts_scanned[s], plan.name, plan.own_inserts_after[s]);
    if (!inserts.ok()) {
      AbortBatch(batch);
      return inserts.status();
    }
    for (auto& [id, seq] : inserts->rows) {
      plan.pending_inserts[s][id] = seq;
      plan.pending_order[s].emplace_back(seq, std::move(id));
    }
    plan.inserts_scanned[s] = inserts->scanned_to;
    plan.own_inserts_after[s] = kThisBatch;
  }
  Expected<int64_t> errors = state->CountOpenErrors(plan.name);
  if (!errors.ok()) {
    AbortBatch(batch);
    return errors.status();
  }
  batch.has_errors = *errors > 0;
  Expected<std::vector<state::Waiting>> waiting = state->ListWaiting(plan.name);
  if (!waiting.ok()) {
    AbortBatch(batch);
    return waiting.status();
  }
  batch.has_waiting = !waiting->empty();
  return Status::Ok();
}

void SyncEngine::Impl::AbortBatch(Batch& batch) {
  if (batch.state_open) {
    state->Rollback();
    batch.state_open = false;
  }
  if (!batch.open) return;
  batch.plan->side[0].endpoint->RollbackWrite();
  if (batch.plan->side[1].endpoint != batch.plan->side[0].endpoint) {
    batch.plan->side[1].endpoint->RollbackWrite();
  }
  batch.open = false;
}

Status SyncEngine::Impl::CommitBatch(Batch& batch,
                                     const std::function<Status(state::StateStore&)>& extra) {
  // The databases first, then the state store: a crash in between leaves the
  // state store behind, and reconciling again repairs that.
  MapPlan& plan = *batch.plan;
  for (int s = 0; s < 2; ++s) {
    Expected<int64_t> end = plan.side[s].endpoint->ChangelogEnd();
    if (!end.ok()) {
      AbortBatch(batch);
      return end.status();
    }
    (*batch.commit_end)[static_cast<size_t>(s)] = *end;
  }
  if (Status s = plan.side[0].endpoint->CommitWrite(); !s.ok()) {
    AbortBatch(batch);
    return s;
  }
  if (plan.side[1].endpoint != plan.side[0].endpoint) {
    if (Status s = plan.side[1].endpoint->CommitWrite(); !s.ok()) {
      plan.side[1].endpoint->RollbackWrite();
      batch.open = false;
      AbortBatch(batch);
      return s;
    }
  }
  batch.open = false;
  batch.state_open = false;  // committed or rolled back below
  for (auto& op : batch.state_ops) {
    if (Status s = op(*state); !s.ok()) {
      state->Rollback();
      return s;
    }
  }
  if (extra) {
    if (Status s = extra(*state); !s.ok()) {
      state->Rollback();
      return s;
    }
  }
  for (int s = 0; s < 2; ++s) {
    if (!plan.side[s].transform) continue;
    if (Status st = state->SetCommitEnd(plan.name, plan.side[s].system,
                                        (*batch.commit_end)[static_cast<size_t>(s)]);
        !st.ok()) {
      state->Rollback();
      return st;
    }
  }
  if (Status s = state->Commit(); !s.ok()) return s;
  counts.writes += batch.writes;
  return Status::Ok();
}

Expected<std::optional<state::Link>> SyncEngine::Impl::FindLink(Batch& batch, int s,
                                                                const RowId& id) {
  const std::string& map = batch.plan->name;
  if (s == 0) {
    auto it = batch.by_left.find(id);
    if (it != batch.by_left.end()) return it->second;
    return state->LinkByLeft(map, id);
  }
  auto it = batch.by_right.find(id);
  if (it != batch.by_right.end()) {
    if (!it->second) return std::optional<state::Link>();
    auto left = batch.by_left.find(*it->second);
    if (left != batch.by_left.end()) return left->second;
    return state->LinkByLeft(map, *it->second);
  }
  return state->LinkByRight(map, id);
}

Status SyncEngine::Impl::PutLink(Batch& batch, const state::Link& link) {
  Trace("  link ({}, {})", link.left_id, link.right_id);
  // The state store replaces the old links of both rows; the overlay must
  // forget them too, or a later reconcile in this batch would find them.
  Expected<std::optional<state::Link>> of_left = FindLink(batch, 0, link.left_id);
  if (!of_left.ok()) return of_left.status();
  if (*of_left && (*of_left)->right_id != link.right_id) {
    batch.by_right[(*of_left)->right_id] = std::nullopt;
  }
  Expected<std::optional<state::Link>> of_right = FindLink(batch, 1, link.right_id);
  if (!of_right.ok()) return of_right.status();
  if (*of_right && (*of_right)->left_id != link.left_id) {
    batch.by_left[(*of_right)->left_id] = std::nullopt;
  }
  batch.by_left[link.left_id] = link;
  batch.by_right[link.right_id] = link.left_id;
  std::string map = batch.plan->name;
  batch.state_ops.push_back([map, link, ends = batch.commit_end](state::StateStore& st) {
    state::Link l = link;
    if (l.left_seq == kThisBatch) l.left_seq = (*ends)[0];
    if (l.right_seq == kThisBatch) l.right_seq = (*ends)[1];
    return st.PutLink(map, l);
  });
  return Status::Ok();
}

void SyncEngine::Impl::DropLink(Batch& batch, const state::Link& link) {
  Trace("  drop link ({}, {})", link.left_id, link.right_id);
  batch.by_left[link.left_id] = std::nullopt;
  batch.by_right[link.right_id] = std::nullopt;
  std::string map = batch.plan->name;
  std::string left = link.left_id;
  batch.state_ops.push_back(
      [map, left](state::StateStore& st) { return st.DeleteLink(map, left); });
}

void SyncEngine::Impl::RecordError(Batch& batch, int s, const RowId& id, const std::string& kind,
                                   const std::string& reason, const Row* row) {
  state::ErrorItem item;
  item.map = batch.plan->name;
  item.system = batch.plan->side[s].system;
  item.row_id = id;
  item.kind = kind;
  item.reason = reason;
  if (row) {
    json j = json::object();
    const Side& side = batch.plan->side[s];
    for (size_t i = 0; i < side.shape.size() && i < row->values.size(); ++i) {
      const Value& v = row->values[i];
      j[JoinPath(side.shape[i].path)] = v.is_null() ? json(nullptr) : json(v.ToText());
    }
    item.source_row = j.dump();
  }
  ++counts.errors;
  batch.has_errors = true;
  batch.state_ops.push_back([item](state::StateStore& st) { return st.RecordError(item); });
}

void SyncEngine::Impl::Resolved(Batch& batch, const std::string& left, const std::string& right) {
  std::string map = batch.plan->name;
  std::string systems[2] = {batch.plan->side[0].system, batch.plan->side[1].system};
  if (batch.has_errors) {
    batch.state_ops.push_back([=](state::StateStore& st) {
      if (!left.empty()) {
        if (Status s = st.ResolveErrors(map, systems[0], left); !s.ok()) return s;
      }
      if (!right.empty()) return st.ResolveErrors(map, systems[1], right);
      return Status::Ok();
    });
  }
  if (batch.has_waiting) {
    batch.state_ops.push_back([=](state::StateStore& st) {
      if (!left.empty()) {
        if (Status s = st.RemoveWaiting(map, systems[0], left); !s.ok()) return s;
      }
      if (!right.empty()) return st.RemoveWaiting(map, systems[1], right);
      return Status::Ok();
    });
  }
}

void SyncEngine::Impl::Wait(Batch& batch, int s, const RowId& id, const std::string& reason) {
  state::Waiting w{batch.plan->side[s].system, id, state::NowSeconds(), reason};
  std::string map = batch.plan->name;
  batch.has_waiting = true;
  batch.state_ops.push_back([map, w](state::StateStore& st) { return st.AddWaiting(map, w); });
}

// ---------------------------------------------------------------------------
// Rows and projections

Expected<std::optional<Row>> SyncEngine::Impl::ReadRow(Side& side, const RowId& id) {
  return side.reader->Read(id);
}

Projection SyncEngine::Impl::Project(Side& side, const Row& row) {
  Projection p;
  const bundle::Transform& t = *side.transform;
  std::vector<duet_value> in(t.inputs.size());
  for (size_t i = 0; i < in.size(); ++i) {
    in[i] = row.values[static_cast<size_t>(side.input_index[i])].ToAbi();
  }
  std::vector<duet_value> out(t.outputs.size());
  ctx.Reset();
  p.status = side.function(in.data(), out.data(), ctx.get());
  if (p.status == DUET_ERROR) {
    duet_ctx* c = ctx.get();
    p.error_kind = jit::ErrorKindName(c->error_kind);
    p.message = c->error_message;
    if (c->error_slot >= 0 && static_cast<size_t>(c->error_slot) < t.outputs.size()) {
      p.message = t.outputs[static_cast<size_t>(c->error_slot)].Name() + ": " + p.message;
    }
    return p;
  }
  if (p.status != DUET_OK) return p;
  p.values.reserve(out.size());
  for (const duet_value& v : out) p.values.push_back(Value::FromAbi(v));
  return p;
}

std::optional<Row> SyncEngine::Impl::ImageOfWrite(const Side& side, const RowId& id,
                                                   const std::vector<std::string>& columns,
                                                   const std::vector<Value>& values) {
  Row row;
  row.id = id;
  row.values.reserve(side.shape.size());
  for (const ColumnPath& path : side.shape) {
    if (path.path.size() != 1) return std::nullopt;
    auto it = std::find(columns.begin(), columns.end(), path.path[0]);
    if (it == columns.end()) return std::nullopt;
    const Value& v = values[static_cast<size_t>(it - columns.begin())];
    // What a read gives back: a decimal at the column's scale.
    if (v.tag() == DUET_DECIMAL && path.type.kind == bundle::ValueKind::kDecimal &&
        v.scale() != path.type.scale) {
      return std::nullopt;
    }
    if (path.type.kind == bundle::ValueKind::kRef) {
      return std::nullopt;  // the stored reference is the database's
    }
    row.values.push_back(v);
  }
  return row;
}

bool SyncEngine::Impl::PatchImage(const Side& side, const std::vector<std::string>& columns,
                                  const std::vector<Value>& values, Row* row) {
  // Only plain columns: a changed reference changes what lookup paths
  // through it read, which only the database can say.
  for (const std::string& c : columns) {
    for (const ColumnPath& path : side.shape) {
      if (path.path.size() > 1 && path.path[0] == c) return false;
    }
  }
  for (size_t i = 0; i < side.shape.size(); ++i) {
    const ColumnPath& path = side.shape[i];
    if (path.path.size() != 1) continue;
    auto it = std::find(columns.begin(), columns.end(), path.path[0]);
    if (it == columns.end()) continue;
    const Value& v = values[static_cast<size_t>(it - columns.begin())];
    if (path.type.kind == bundle::ValueKind::kRef ||
        (v.tag() == DUET_DECIMAL && v.scale() != path.type.scale)) {
      return false;
    }
    row->values[i] = v;
  }
  return true;
}

Expected<Base> SyncEngine::Impl::ComputeBase(MapPlan& plan, const std::optional<Row> rows[2]) {
  Base b;
  for (int s = 0; s < 2; ++s) {
    Side& side = plan.side[s];
    Side& other = plan.side[1 - s];
    if (side.transform) {
      Projection p = rows[s] ? Project(side, *rows[s]) : Projection{DUET_FILTERED, {}, {}, {}};
      if (p.status == DUET_OK) {
        b.p[s] = std::move(p.values);
      } else {
        b.p[s].assign(side.transform->outputs.size(), Value::Null());
      }
    }
    if (other.transform) {
      for (int index : side.current_index) {
        b.c[s].push_back(rows[s] ? rows[s]->values[static_cast<size_t>(index)] : Value::Null());
      }
    }
  }
  return b;
}

Expected<std::variant<Value, Missing>> SyncEngine::Impl::ResolveLookup(
    MapPlan& plan, int to, const std::vector<std::string>& path, const Value& value,
    const std::map<std::string, Value>& refs) {
  using Result = std::variant<Value, Missing>;
  if (value.is_null()) return Result(Value::Null());
  const bundle::Manifest& m = bundle->manifest();
  Side& side = plan.side[to];
  // The tables along the path: tables[i] holds column path[i].
  std::vector<const bundle::Table*> tables = {side.info};
  for (size_t hop = 0; hop + 1 < path.size(); ++hop) {
    const bundle::Column* ref = FindColumn(*tables.back(), path[hop]);
    if (!ref || ref->type.kind != bundle::ValueKind::kRef) {
      return InvalidArgumentError("map " + plan.name + ": '" + path[hop] + "' is not a ref");
    }
    const bundle::Table* next = m.FindTable(ref->type.ref);
    if (!next) return InvalidArgumentError("bundle: unknown table " + ref->type.ref);
    tables.push_back(next);
  }
  // From the last hop back: find the row whose key column holds the value,
  // then use its reference as the value of the hop before.
  Value current = value;
  for (size_t hop = path.size() - 1; hop >= 1; --hop) {
    const bundle::Table& table = *tables[hop];
    std::vector<std::string> columns = {path[hop]};
    std::vector<Value> values = {current};
    std::string described = table.name + " with " + path[hop] + " = '" + current.ToText() + "'";
    for (const std::string& key : table.key) {
      if (key == path[hop]) continue;
      // A composite key: its other columns are refs to tables the row being
      // written refers to as well (docs/language.md, composite keys).
      const bundle::Column* kc = FindColumn(table, key);
      std::optional<Value> stripe;
      if (kc && kc->type.kind == bundle::ValueKind::kRef) {
        for (const bundle::Column& c : side.info->columns) {
          if (c.type.kind == bundle::ValueKind::kRef && c.type.ref == kc->type.ref &&
              c.name != path[0]) {
            auto it = refs.find(c.name);
            if (it != refs.end()) stripe = it->second;
            break;
          }
        }
      }
      if (!stripe || stripe->is_null()) {
        return Result(Missing{"no reference for key column " + table.name + "." + key +
                              " to find " + described});
      }
      columns.push_back(key);
      values.push_back(*stripe);
      described += " and " + key + " = '" + stripe->ToText() + "'";
    }
    Expected<std::optional<RowId>> found = side.endpoint->FindRow(table.name, columns, values);
    if (!found.ok()) return found.status();
    if (!*found) return Result(Missing{"waiting for " + described});
    Expected<Value> ref = side.endpoint->RefValue(table.name, **found);
    if (!ref.ok()) return ref.status();
    current = *ref;
  }
  return Result(current);
}

Expected<std::variant<std::pair<std::vector<std::string>, std::vector<Value>>, Missing>>
SyncEngine::Impl::Columns(MapPlan& plan, int to, const std::vector<int>& slots,
                          const std::vector<Value>& values, const Row* current,
                          std::vector<int>* deferred_missing) {
  using Pair = std::pair<std::vector<std::string>, std::vector<Value>>;
  using Result = std::variant<Pair, Missing>;
  const bundle::Transform& t = *plan.side[1 - to].transform;
  Side& side = plan.side[to];
  Pair out;
  // References the row will hold: its current ones, then the ones written.
  std::map<std::string, Value> refs;
  if (current) {
    for (const auto& [column, index] : side.raw_ref_index) {
      refs[column] = current->values[static_cast<size_t>(index)];
    }
  }
  // Plain columns and lookups into one-column keys first: composite-key
  // lookups take the rest of their key from those references.
  for (int pass = 0; pass < 2; ++pass) {
    for (int j : slots) {
      const bundle::Slot& slot = t.outputs[static_cast<size_t>(j)];
      const Value& v = values[static_cast<size_t>(j)];
      if (slot.path.size() == 1) {
        if (pass == 0) {
          out.first.push_back(slot.path[0]);
          out.second.push_back(v);
        }
        continue;
      }
      const bundle::Column* ref = FindColumn(*side.info, slot.path[0]);
      const bundle::Table* target = ref ? bundle->manifest().FindTable(ref->type.ref) : nullptr;
      bool composite = target && target->key.size() > 1;
      if ((pass == 1) != composite) continue;
      Expected<std::variant<Value, Missing>> resolved =
          ResolveLookup(plan, to, slot.path, v, refs);
      if (!resolved.ok()) return resolved.status();
      if (auto* missing = std::get_if<Missing>(&*resolved)) {
        if (!slot.deferred || !deferred_missing) {
          return Result(Missing{slot.Name() + ": " + missing->reason});
        }
        deferred_missing->push_back(j);
        out.first.push_back(slot.path[0]);
        out.second.push_back(Value::Null());
        refs[slot.path[0]] = Value::Null();
        continue;
      }
      Value& ref_value = std::get<Value>(*resolved);
      refs[slot.path[0]] = ref_value;
      out.first.push_back(slot.path[0]);
      out.second.push_back(std::move(ref_value));
    }
  }
  return Result(std::move(out));
}

Expected<int> SyncEngine::Impl::Winner(MapPlan& plan, const FieldPlan& field, const RowId ids[2],
                                       int trigger) {
  const std::string& rule = field.rule;
  if (rule == plan.side[0].system) return 0;
  if (rule == plan.side[1].system) return 1;
  if (rule == "manual") return -1;
  if (rule == "newest") {
    std::optional<double> at[2];
    for (int s = 0; s < 2; ++s) {
      if (ids[s].empty()) continue;
      Expected<int64_t> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
      if (!ck.ok()) return ck.status();
      Expected<std::optional<double>> t =
          plan.side[s].endpoint->LatestChangeTime(plan.side[s].table, ids[s], *ck);
      if (!t.ok()) return t.status();
      at[s] = *t;
    }
    if (at[0] && at[1]) return *at[1] > *at[0] ? 1 : 0;
    if (at[0]) return 0;
    if (at[1]) return 1;
  }
  return trigger;
}

// ---------------------------------------------------------------------------
// Reconcile

Status SyncEngine::Impl::Reconcile(Batch& batch, int s, const RowId& id, int seed,
                                   int gone_mask, const Row* known) {
  MapPlan& plan = *batch.plan;
  std::string key = (s == 0 ? "L:" : "R:") + id;
  if (batch.done.count(key)) return Status::Ok();

  Expected<std::optional<state::Link>> link = FindLink(batch, s, id);
  if (!link.ok()) return link.status();
  RowId ids[2];
  ids[s] = id;
  if (*link) {
    ids[0] = (*link)->left_id;
    ids[1] = (*link)->right_id;
  }
  if (*link && gone_mask == 0) {
    int reused = 0;
    for (int i = 0; i < 2; ++i) {
      auto it = plan.pending_inserts[i].find(ids[i]);
      int64_t linked_at = i == 0 ? (*link)->left_seq : (*link)->right_seq;
      if (it != plan.pending_inserts[i].end() && it->second > linked_at &&
          !batch.replaced.count((i == 0 ? "L:" : "R:") + ids[i])) {
        reused |= 1 << i;
      }
    }
    if (reused != 0) {
      // A linked row is gone and a new row has its RowId (on either side, or
      // both): settle the deletion first, then reconcile the new rows.
      for (int i = 0; i < 2; ++i) {
        if (reused & (1 << i)) batch.replaced.insert((i == 0 ? "L:" : "R:") + ids[i]);
      }
      int first = (reused & 1) ? 0 : 1;
      if (Status st = Reconcile(batch, first, ids[first], seed, reused); !st.ok()) return st;
      RowId old_ids[2] = {ids[0], ids[1]};
      for (int i = 0; i < 2; ++i) {
        batch.done.erase("L:" + old_ids[0]);
        batch.done.erase("R:" + old_ids[1]);
        if (reused & (1 << i)) {
          if (Status st = Reconcile(batch, i, old_ids[i], seed); !st.ok()) return st;
        }
      }
      if (!(reused & (1 << s))) return Reconcile(batch, s, id, seed);
      return Status::Ok();
    }
  }
  batch.done.insert("L:" + ids[0]);
  batch.done.insert("R:" + ids[1]);
  Trace("reconcile {} side {} row {}{}: pair ({}, {})", plan.name, s, id,
        gone_mask ? " (reused id)" : "", ids[0], ids[1]);

  std::optional<Row> rows[2];
  if (gone_mask && !*link) return Status::Ok();
  for (int i = 0; i < 2; ++i) {
    if (ids[i].empty() || (gone_mask & (1 << i))) continue;
    if (known && i == s && known->id == ids[i]) {
      rows[i] = *known;
    } else {
      Expected<std::optional<Row>> row = ReadRow(plan.side[i], ids[i]);
      if (!row.ok()) return row.status();
      rows[i] = std::move(*row);
    }
    if (rows[i] && !rows[i]->problem.empty()) {
      RecordError(batch, i, ids[i], "bad_data", rows[i]->problem, &*rows[i]);
      return Status::Ok();
    }
  }
  ++counts.pairs;

  Projection proj[2];
  for (int i = 0; i < 2; ++i) {
    if (!rows[i] || !plan.side[i].transform) {
      proj[i].status = DUET_FILTERED;
      continue;
    }
    proj[i] = Project(plan.side[i], *rows[i]);
    if (proj[i].status == DUET_ERROR) {
      RecordError(batch, i, ids[i], proj[i].error_kind, proj[i].message, &*rows[i]);
      return Status::Ok();
    }
  }

  Base base;
  bool has_base = false;
  if (*link) {
    if (!DecodeBase((*link)->base, &base)) {
      return DataLossError("state store: the base of a link of map " + plan.name +
                           " is damaged");
    }
    has_base = true;
    for (int i = 0; i < 2; ++i) {
      size_t outputs = plan.side[i].transform ? plan.side[i].transform->outputs.size() : 0;
      if (base.p[i].size() != outputs || base.c[1 - i].size() != outputs) has_base = false;
    }
    if (!has_base) base = Base();
  }

  // Lookups marked `deferred` that could not be resolved yet: (side whose
  // transform produced the value, output slot). Their base is unknown so a
  // later retry writes them, and the pair waits for that retry.
  std::vector<std::pair<int, int>> deferred_slots;

  // The row the last insert_row made, when its values alone give every
  // column this side reads (no lookups, no column left to the database).
  std::optional<Row> last_insert;

  // Inserts the partner of side `from`'s row on the other side.
  auto insert_row = [&](int from) -> Expected<std::optional<RowId>> {
    int to = 1 - from;
    std::vector<int> all(plan.side[from].transform->outputs.size());
    for (size_t j = 0; j < all.size(); ++j) all[j] = static_cast<int>(j);
    std::vector<int> deferred;
    auto columns = Columns(plan, to, all, proj[from].values, nullptr, &deferred);
    if (!columns.ok()) return columns.status();
    if (auto* missing = std::get_if<Missing>(&*columns)) {
      Wait(batch, from, ids[from], missing->reason);
      return std::optional<RowId>();
    }
    auto& [names, values] = std::get<0>(*columns);
    Side& target = plan.side[to];
    // Columns no mapping writes get their declared default.
    for (const bundle::Column& c : target.info->columns) {
      if (c.default_value.empty() || c.name == target.info->id ||
          std::find(names.begin(), names.end(), c.name) != names.end()) {
        continue;
      }
      Expected<Value> v = DefaultValue(c);
      if (!v.ok()) return v.status();
      names.push_back(c.name);
      values.push_back(std::move(*v));
    }
    if (Status st = target.endpoint->BeginRow(); !st.ok()) return st;
    Expected<RowId> inserted = target.endpoint->Insert(target.table, names, values);
    Trace("  insert into {} -> {}", target.table,
          inserted.ok() ? *inserted : inserted.status().message());
    if (!inserted.ok()) {
      if (Status st = target.endpoint->EndRow(false); !st.ok()) return st;
      RecordError(batch, from, ids[from], "rejected", inserted.status().message(),
                  &*rows[from]);
      return std::optional<RowId>();
    }
    if (Status st = target.endpoint->EndRow(true); !st.ok()) return st;
    ++batch.writes;
    for (int j : deferred) deferred_slots.emplace_back(from, j);
    last_insert = ImageOfWrite(target, *inserted, names, values);
    // The database may hand out the RowId of a deleted row whose deletion is
    // not reconciled yet; that pair has lost its row on this side.
    Expected<std::optional<state::Link>> stale = FindLink(batch, to, *inserted);
    if (!stale.ok()) return stale.status();
    if (!*stale) {
      if (to == 0) {
        batch.by_left.emplace(*inserted, std::nullopt);
      } else {
        batch.by_right.emplace(*inserted, std::nullopt);
      }
    }
    if (*stale) {
      batch.replaced.insert((to == 0 ? "L:" : "R:") + *inserted);
      if (Status st = Reconcile(batch, to, *inserted, -1, 1 << to); !st.ok()) return st;
    }
    return std::optional<RowId>(*inserted);
  };

  auto link_pair = [&](const std::optional<Row> final_rows[2], const Base* keep,
                       const std::vector<const FieldPlan*>& kept_fields) -> Status {
    Expected<Base> b = ComputeBase(plan, final_rows);
    if (!b.ok()) return b.status();
    if (keep) {
      for (const FieldPlan* f : kept_fields) {
        for (int i = 0; i < 2; ++i) {
          for (int j : f->slots[i]) {
            b->p[i][static_cast<size_t>(j)] = keep->p[i][static_cast<size_t>(j)];
            b->c[1 - i][static_cast<size_t>(j)] = keep->c[1 - i][static_cast<size_t>(j)];
          }
        }
      }
    }
    for (const auto& [side, j] : deferred_slots) {
      b->p[side][static_cast<size_t>(j)] = Value::Unknown();
    }
    state::Link l{final_rows[0]->id, final_rows[1]->id, EncodeBase(*b),
                  kThisBatch, kThisBatch};
    bool same_pair = *link && (*link)->left_id == l.left_id && (*link)->right_id == l.right_id;
    if (same_pair) {
      l.left_seq = (*link)->left_seq;
      l.right_seq = (*link)->right_seq;
    }
    if (!same_pair) {
      if (Status st = PutLink(batch, l); !st.ok()) return st;
    } else if ((*link)->base != l.base) {
      batch.by_left[l.left_id] = l;
      batch.by_right[l.right_id] = l.left_id;
      std::string map = plan.name;
      batch.state_ops.push_back([map, left = l.left_id, base = l.base](state::StateStore& st) {
        return st.UpdateBase(map, left, base);
      });
    }
    if (kept_fields.empty()) {
      Resolved(batch, l.left_id, l.right_id);
    } else {
      // A conflict stays open: its item is recorded again after this.
      bool errors = batch.has_errors;
      batch.has_errors = false;
      Resolved(batch, l.left_id, l.right_id);
      batch.has_errors = errors;
    }
    for (const auto& [side, j] : deferred_slots) {
      Wait(batch, side, final_rows[side]->id,
           plan.side[side].transform->outputs[static_cast<size_t>(j)].Name() +
               ": deferred lookup not resolved yet");
    }
    return Status::Ok();
  };

  // ---- a linked pair with a row missing or filtered ----
  if (*link) {
    if (!rows[0] && !rows[1]) {
      DropLink(batch, **link);
      Resolved(batch, ids[0], ids[1]);
      return Status::Ok();
    }
    for (int i = 0; i < 2; ++i) {
      if (rows[i] && plan.side[i].transform && proj[i].status == DUET_FILTERED) {
        // The row stopped matching its filter: it stops syncing, and its
        // partner stays as it is.
        DropLink(batch, **link);
        Resolved(batch, ids[0], ids[1]);
        return Status::Ok();
      }
    }
    for (int gone = 0; gone < 2; ++gone) {
      if (rows[gone]) continue;
      int kept = 1 - gone;
      // Did the surviving row change since the last sync?
      bool changed = !has_base;
      if (has_base && plan.side[kept].transform && proj[kept].status == DUET_OK) {
        for (size_t j = 0; j < proj[kept].values.size(); ++j) {
          changed = changed || !(proj[kept].values[j] == base.p[kept][j]);
        }
      }
      if (has_base && plan.side[gone].transform) {
        for (size_t j = 0; j < plan.side[kept].current_index.size(); ++j) {
          const Value& v =
              rows[kept]->values[static_cast<size_t>(plan.side[kept].current_index[j])];
          changed = changed || !(v == base.c[kept][j]);
        }
      }
      int winner = gone;
      if (!plan.side[gone].transform) {
        // The target of a one-way map: the link goes, and the next change of
        // the source inserts a new partner.
        DropLink(batch, **link);
        Resolved(batch, ids[0], ids[1]);
        return Status::Ok();
      }
      if (changed) {
        FieldPlan map_rule{plan.map->master, {}};
        Expected<int> w = Winner(plan, map_rule, ids, gone);
        if (!w.ok()) return w.status();
        winner = *w;
      }
      if (winner < 0) {
        RecordError(batch, kept, ids[kept], "conflict",
                    "the row was deleted in " + plan.side[gone].system + " and changed in " +
                        plan.side[kept].system + "; the map's rule is manual",
                    &*rows[kept]);
        return Status::Ok();
      }
      if (winner == gone) {
        Side& target = plan.side[kept];
        if (Status st = target.endpoint->BeginRow(); !st.ok()) return st;
        Status deleted = target.endpoint->Delete(target.table, ids[kept]);
        Trace("  delete {} row {}", target.table, ids[kept]);
        if (!deleted.ok()) {
          if (Status st = target.endpoint->EndRow(false); !st.ok()) return st;
          RecordError(batch, gone, ids[gone], "rejected", deleted.message(), nullptr);
          return Status::Ok();
        }
        if (Status st = target.endpoint->EndRow(true); !st.ok()) return st;
        ++batch.writes;
        DropLink(batch, **link);
        Resolved(batch, ids[0], ids[1]);
        return Status::Ok();
      }
      // The changed row wins: its partner comes back. After a crash between
      // the commits of an earlier attempt it may be back already, so look
      // for it by key first.
      if (!plan.side[kept].transform || proj[kept].status != DUET_OK) {
        DropLink(batch, **link);
        return Status::Ok();
      }
      auto key_columns =
          Columns(plan, gone, plan.key_slots[kept], proj[kept].values, &*rows[kept], nullptr);
      if (!key_columns.ok()) return key_columns.status();
      std::optional<RowId> existing;
      if (auto* cols = std::get_if<0>(&*key_columns)) {
        Expected<std::optional<RowId>> found =
            plan.side[gone].endpoint->FindRow(plan.side[gone].table, cols->first, cols->second);
        if (!found.ok()) return found.status();
        if (*found) {
          Expected<std::optional<state::Link>> taken = FindLink(batch, gone, **found);
          if (!taken.ok()) return taken.status();
          if (!*taken) existing = *found;
        }
      }
      if (!existing) {
        Expected<std::optional<RowId>> inserted = insert_row(kept);
        if (!inserted.ok()) return inserted.status();
        if (!*inserted) return Status::Ok();
        DropLink(batch, **link);
        Expected<std::optional<Row>> reread = ReadRow(plan.side[gone], **inserted);
        if (!reread.ok()) return reread.status();
        rows[gone] = std::move(*reread);
        if (!rows[gone]) return InternalError("a row duet inserted is not there");
        return link_pair(rows, nullptr, {});
      }
      DropLink(batch, **link);
      ids[gone] = *existing;
      batch.done.insert((gone == 0 ? "L:" : "R:") + ids[gone]);
      Expected<std::optional<Row>> found_row = ReadRow(plan.side[gone], ids[gone]);
      if (!found_row.ok()) return found_row.status();
      rows[gone] = std::move(*found_row);
      if (!rows[gone] || !rows[gone]->problem.empty()) return Status::Ok();
      if (plan.side[gone].transform) {
        proj[gone] = Project(plan.side[gone], *rows[gone]);
        if (proj[gone].status == DUET_ERROR) {
          RecordError(batch, gone, ids[gone], proj[gone].error_kind, proj[gone].message,
                      &*rows[gone]);
          return Status::Ok();
        }
      }
      // Merge below as a new pair whose surviving row wins.
      has_base = false;
      base = Base();
      seed = kept;
      break;
    }
  }

  // ---- an unlinked row: find its partner by alternate key, or insert it ----
  if (!*link) {
    if (!rows[s] || !plan.side[s].transform || proj[s].status != DUET_OK) return Status::Ok();
    int o = 1 - s;
    auto key_columns = Columns(plan, o, plan.key_slots[s], proj[s].values, nullptr, nullptr);
    if (!key_columns.ok()) return key_columns.status();
    std::optional<RowId> partner;
    if (auto* cols = std::get_if<0>(&*key_columns)) {
      Expected<std::optional<RowId>> found =
          plan.side[o].endpoint->FindRow(plan.side[o].table, cols->first, cols->second);
      if (!found.ok()) return found.status();
      partner = *found;
    }
    if (!partner) {
      Expected<std::optional<RowId>> inserted = insert_row(s);
      if (!inserted.ok()) return inserted.status();
      if (!*inserted) return Status::Ok();
      ids[o] = **inserted;
      batch.done.insert((o == 0 ? "L:" : "R:") + ids[o]);
      if (last_insert) {
        rows[o] = std::move(last_insert);
      } else {
        Expected<std::optional<Row>> reread = ReadRow(plan.side[o], ids[o]);
        if (!reread.ok()) return reread.status();
        rows[o] = std::move(*reread);
        if (!rows[o]) return InternalError("a row duet inserted is not there");
      }
      return link_pair(rows, nullptr, {});
    }
    Expected<std::optional<state::Link>> taken = FindLink(batch, o, *partner);
    if (!taken.ok()) return taken.status();
    if (*taken) {
      RecordError(batch, s, id, "duplicate_key",
                  "the alternate key matches row " + *partner + " of " + plan.side[o].table +
                      ", which is already linked to row " +
                      (o == 0 ? (*taken)->right_id : (*taken)->left_id) + " of " +
                      plan.side[s].table,
                  &*rows[s]);
      return Status::Ok();
    }
    ids[o] = *partner;
    batch.done.insert((o == 0 ? "L:" : "R:") + ids[o]);
    Expected<std::optional<Row>> other = ReadRow(plan.side[o], ids[o]);
    if (!other.ok()) return other.status();
    rows[o] = std::move(*other);
    if (!rows[o]) return Status::Ok();
    if (!rows[o]->problem.empty()) {
      RecordError(batch, o, ids[o], "bad_data", rows[o]->problem, &*rows[o]);
      return Status::Ok();
    }
    if (plan.side[o].transform) {
      proj[o] = Project(plan.side[o], *rows[o]);
      if (proj[o].status == DUET_ERROR) {
        RecordError(batch, o, ids[o], proj[o].error_kind, proj[o].message, &*rows[o]);
        return Status::Ok();
      }
    }
  }

  // ---- both rows exist: merge field by field ----
  std::vector<int> write_slots[2];  // per winning side: its transform's slots to write
  std::vector<const FieldPlan*> conflicts;
  for (const FieldPlan& field : plan.fields) {
    bool flows[2] = {!field.slots[0].empty() && proj[0].status == DUET_OK,
                     !field.slots[1].empty() && proj[1].status == DUET_OK};
    if (!flows[0] && !flows[1]) continue;
    auto current = [&](int side, int j) -> const Value& {
      const std::vector<int>& index = plan.side[side].current_index;
      return rows[side]->values[static_cast<size_t>(index[static_cast<size_t>(j)])];
    };
    bool differs = false;
    for (int i = 0; i < 2; ++i) {
      if (!flows[i]) continue;
      for (int j : field.slots[i]) {
        differs = differs || !(proj[i].values[static_cast<size_t>(j)] == current(1 - i, j));
      }
    }
    if (!differs) continue;
    bool changed[2] = {!has_base, !has_base};
    if (has_base) {
      for (int i = 0; i < 2; ++i) {
        for (int j : field.slots[i]) {
          // Side i's projection, and the other side's own value of the column.
          if (flows[i] && !(proj[i].values[static_cast<size_t>(j)] ==
                            base.p[i][static_cast<size_t>(j)])) {
            changed[i] = true;
          }
          if (!(current(1 - i, j) == base.c[1 - i][static_cast<size_t>(j)])) {
            changed[1 - i] = true;
          }
        }
      }
    }
    int winner;
    if (flows[0] != flows[1]) {
      // One-way: only the source's changes flow; edits of the target column
      // are left alone until the source changes.
      int source = flows[0] ? 0 : 1;
      if (!changed[source]) continue;
      winner = source;
    } else if (seed >= 0) {
      winner = seed;
    } else if (changed[0] != changed[1]) {
      winner = changed[0] ? 0 : 1;
    } else if (!changed[0]) {
      continue;  // neither side changed: values that do not round-trip
    } else {
      Expected<int> w = Winner(plan, field, ids, s);
      if (!w.ok()) return w.status();
      winner = *w;
      if (winner < 0) {
        conflicts.push_back(&field);
        continue;
      }
    }
    for (int j : field.slots[winner]) {
      if (!(proj[winner].values[static_cast<size_t>(j)] == current(1 - winner, j))) {
        write_slots[winner].push_back(j);
      }
    }
  }

  // Resolve every lookup before writing anything: a missing reference makes
  // the whole pair wait.
  struct Write {
    int to;
    std::vector<std::string> columns;
    std::vector<Value> values;
    std::vector<int> deferred;
  };
  std::vector<Write> writes;
  for (int w = 0; w < 2; ++w) {
    if (write_slots[w].empty()) continue;
    Write write;
    write.to = 1 - w;
    auto columns = Columns(plan, write.to, write_slots[w], proj[w].values, &*rows[write.to],
                           &write.deferred);
    if (!columns.ok()) return columns.status();
    if (auto* missing = std::get_if<Missing>(&*columns)) {
      Wait(batch, s, ids[s], missing->reason);
      return Status::Ok();
    }
    write.columns = std::move(std::get<0>(*columns).first);
    write.values = std::move(std::get<0>(*columns).second);
    writes.push_back(std::move(write));
  }
  for (const Write& write : writes) {
    Side& target = plan.side[write.to];
    if (Status st = target.endpoint->BeginRow(); !st.ok()) return st;
    Status updated = target.endpoint->Update(target.table, ids[write.to], write.columns,
                                             write.values);
    Trace("  update {} row {}: {} column(s)", target.table, ids[write.to], write.columns.size());
    if (!updated.ok()) {
      if (Status st = target.endpoint->EndRow(false); !st.ok()) return st;
      // Keep the other side's write out too: the pair stays as it was.
      int from = 1 - write.to;
      RecordError(batch, from, ids[from], "rejected", updated.message(), &*rows[from]);
      return Status::Ok();
    }
    if (Status st = target.endpoint->EndRow(true); !st.ok()) return st;
    ++batch.writes;
    for (int j : write.deferred) deferred_slots.emplace_back(1 - write.to, j);
    if (!PatchImage(target, write.columns, write.values, &*rows[write.to])) {
      Expected<std::optional<Row>> reread = ReadRow(target, ids[write.to]);
      if (!reread.ok()) return reread.status();
      rows[write.to] = std::move(*reread);
      if (!rows[write.to]) return InternalError("a row duet updated is not there");
    }
  }
  if (Status st = link_pair(rows, has_base ? &base : nullptr, conflicts); !st.ok()) return st;
  for (const FieldPlan* f : conflicts) {
    std::string fields;
    for (int i = 0; i < 2; ++i) {
      for (int j : f->slots[i]) {
        std::string name = plan.side[1 - i].table + "." +
                           plan.side[i].transform->outputs[static_cast<size_t>(j)].Name();
        fields += (fields.empty() ? "" : ", ") + name;
      }
    }
    RecordError(batch, s, ids[s], "conflict",
                "both sides changed " + fields + " since the last sync; the rule is manual",
                &*rows[s]);
  }

  return Status::Ok();
}


// ---------------------------------------------------------------------------
// Loops

Expected<int64_t> SyncEngine::Impl::ProcessChanges(MapPlan& plan, size_t limit) {
  std::vector<endpoint::Change> changes[2];
  int64_t checkpoint[2] = {0, 0};
  bool advanced = false;
  size_t total = 0;
  for (int s = 0; s < 2; ++s) {
    if (!plan.side[s].transform) continue;
    Expected<int64_t> ck = state->GetCheckpoint(plan.name, plan.side[s].system);
    if (!ck.ok()) return ck.status();
    Expected<Endpoint::Changes> read =
        plan.side[s].endpoint->ReadChanges(plan.side[s].table, *ck, limit, plan.name);
    if (!read.ok()) return read.status();
    changes[s] = std::move(read->changes);
    checkpoint[s] = read->scanned_to;
    advanced = advanced || read->scanned_to != *ck;
    total += changes[s].size();
  }
  std::string systems[2] = {plan.side[0].system, plan.side[1].system};
  std::string name = plan.name;
  bool read[2] = {plan.side[0].transform != nullptr, plan.side[1].transform != nullptr};
  auto record = [&](state::StateStore& st, bool synced) -> Status {
    for (int s = 0; s < 2; ++s) {
      if (!read[s]) continue;
      if (Status r = st.SetCheckpoint(name, systems[s], checkpoint[s]); !r.ok()) return r;
    }
    if (!synced) return Status::Ok();
    Expected<state::MapState> m = st.GetMap(name);
    if (!m.ok()) return m.status();
    m->last_sync = state::NowIso();
    return st.PutMap(*m);
  };
  if (total == 0) {
    // Only duet's own changes: pass them without a batch.
    if (advanced) {
      if (Status st = state->Begin(); !st.ok()) return st;
      if (Status st = record(*state, false); !st.ok()) {
        state->Rollback();
        return st;
      }
      if (Status st = state->Commit(); !st.ok()) return st;
      PrunePending(plan, checkpoint);
    }
    return 0;
  }
  Batch batch;
  if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
  if (Status st = PrefetchLinks(batch, changes); !st.ok()) {
    AbortBatch(batch);
    return st;
  }
  for (int s = 0; s < 2; ++s) {
    for (const endpoint::Change& c : changes[s]) {
      if (Status st = Reconcile(batch, s, c.row_id, -1); !st.ok()) {
        AbortBatch(batch);
        return st;
      }
    }
  }
  Status committed =
      CommitBatch(batch, [&](state::StateStore& st) { return record(st, true); });
  if (!committed.ok()) return committed;
  PrunePending(plan, checkpoint);
  return static_cast<int64_t>(total);
}

Status SyncEngine::Impl::PrefetchLinks(Batch& batch, const std::vector<endpoint::Change> changes[2]) {
  for (int s = 0; s < 2; ++s) {
    std::vector<std::string> ids;
    for (const endpoint::Change& c : changes[s]) {
      if ((s == 0 ? batch.by_left.count(c.row_id) : batch.by_right.count(c.row_id)) == 0) {
        ids.push_back(c.row_id);
      }
    }
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    Expected<std::vector<state::Link>> links = s == 0 ? state->LinksByLeft(batch.plan->name, ids)
                                                      : state->LinksByRight(batch.plan->name, ids);
    if (!links.ok()) return links.status();
    for (const std::string& id : ids) {
      if (s == 0) {
        batch.by_left.emplace(id, std::nullopt);
      } else {
        batch.by_right.emplace(id, std::nullopt);
      }
    }
    for (state::Link& link : *links) {
      batch.by_right[link.right_id] = link.left_id;
      batch.by_left[link.left_id] = std::move(link);
    }
  }
  return Status::Ok();
}

void SyncEngine::Impl::PrunePending(MapPlan& plan, const int64_t checkpoint[2]) {
  for (int s = 0; s < 2; ++s) {
    auto& order = plan.pending_order[s];
    while (!order.empty() && order.front().first <= checkpoint[s]) {
      auto it = plan.pending_inserts[s].find(order.front().second);
      if (it != plan.pending_inserts[s].end() && it->second == order.front().first) {
        plan.pending_inserts[s].erase(it);
      }
      order.pop_front();
    }
  }
}

Status SyncEngine::Impl::InitialSync(MapPlan& plan, const ProgressFn& progress,
                                     const std::atomic<bool>* stop) {
  Expected<state::MapState> loaded = state->GetMap(plan.name);
  if (!loaded.ok()) return loaded.status();
  state::MapState m = *loaded;
  if (m.phase == state::MapPhase::kLive) return Status::Ok();
  if (plan.initial_none) {
    // Rows are linked when they first change: every change captured since
    // install counts, so the checkpoints stay at 0.
    m.phase = state::MapPhase::kLive;
    if (Status s = state->Begin(); !s.ok()) return s;
    if (Status s = state->PutMap(m); !s.ok()) {
      state->Rollback();
      return s;
    }
    return state->Commit();
  }
  if (m.phase == state::MapPhase::kNew) {
    // Everything after these positions is reconciled by live sync afterwards,
    // so changes made during the initial sync are not lost.
    int64_t end[2];
    for (int s = 0; s < 2; ++s) {
      Expected<int64_t> e = plan.side[s].endpoint->ChangelogEnd();
      if (!e.ok()) return e.status();
      end[s] = *e;
    }
    Expected<int64_t> total = plan.side[plan.seed].reader->Count();
    if (!total.ok()) return total.status();
    m.phase = state::MapPhase::kInitial;
    m.initial_step = 1;
    m.initial_cursor.reset();
    m.initial_done = 0;
    m.initial_total = *total;
    if (Status s = state->Begin(); !s.ok()) return s;
    for (int s = 0; s < 2; ++s) {
      if (Status st = state->SetCheckpoint(plan.name, plan.side[s].system, end[s]); !st.ok()) {
        state->Rollback();
        return st;
      }
    }
    if (Status s = state->PutMap(m); !s.ok()) {
      state->Rollback();
      return s;
    }
    if (Status s = state->Commit(); !s.ok()) return s;
  }
  auto started = std::chrono::steady_clock::now();
  int64_t done_at_start = m.initial_done;
  while (m.initial_step <= 2) {
    if (stop && stop->load()) return Status::Ok();  // resumes from the cursor next time
    int s = m.initial_step == 1 ? plan.seed : 1 - plan.seed;
    if (!plan.side[s].transform) {
      m.initial_step++;
      continue;
    }
    Batch batch;
    if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
    Expected<std::vector<Row>> rows = plan.side[s].reader->Scan(
        m.initial_cursor, static_cast<size_t>(config.initial_batch_size));
    if (!rows.ok()) {
      AbortBatch(batch);
      return rows.status();
    }
    state::MapState next = m;
    if (rows->empty()) {
      next.initial_step++;
      next.initial_cursor.reset();
      if (next.initial_step == 2 && plan.side[1 - plan.seed].transform) {
        Expected<int64_t> total = plan.side[1 - plan.seed].reader->Count();
        if (!total.ok()) {
          AbortBatch(batch);
          return total.status();
        }
        next.initial_total += *total;
      }
    } else {
      // The links of the whole page in one query, into the batch's overlay.
      if (s == 0) {
        std::vector<std::string> ids;
        ids.reserve(rows->size());
        for (const Row& row : *rows) ids.push_back(row.id);
        Expected<std::vector<state::Link>> links = state->LinksByLeft(plan.name, ids);
        if (!links.ok()) {
          AbortBatch(batch);
          return links.status();
        }
        for (const std::string& id : ids) batch.by_left.emplace(id, std::nullopt);
        for (state::Link& link : *links) {
          batch.by_right[link.right_id] = link.left_id;
          batch.by_left[link.left_id] = std::move(link);
        }
      }
      for (const Row& row : *rows) {
        if (s != plan.seed) {
          // The other side's rows: only those the seeding side did not match.
          Expected<std::optional<state::Link>> linked = FindLink(batch, s, row.id);
          if (!linked.ok()) {
            AbortBatch(batch);
            return linked.status();
          }
          if (*linked) continue;
        }
        if (Status st = Reconcile(batch, s, row.id, plan.seed, 0, &row); !st.ok()) {
          AbortBatch(batch);
          return st;
        }
      }
      next.initial_cursor = rows->back().id;
      next.initial_done += static_cast<int64_t>(rows->size());
    }
    if (next.initial_step > 2) next.phase = state::MapPhase::kLive;
    next.last_sync = state::NowIso();
    Status committed =
        CommitBatch(batch, [&](state::StateStore& st) { return st.PutMap(next); });
    if (!committed.ok()) return committed;
    m = next;
    if (progress) {
      Progress p;
      p.map = plan.name;
      p.from = plan.side[s].system;
      p.to = plan.side[1 - s].system;
      p.done = m.initial_done;
      p.total = std::max(m.initial_total, m.initial_done);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      p.rows_per_second =
          seconds > 0 ? static_cast<double>(m.initial_done - done_at_start) / seconds : 0;
      p.finished = m.phase == state::MapPhase::kLive;
      progress(p);
    }
  }
  return Status::Ok();
}

Expected<int64_t> SyncEngine::Impl::RetryWaiting(MapPlan& plan, bool retry_errors) {
  Expected<std::vector<state::Waiting>> waiting = state->ListWaiting(plan.name);
  if (!waiting.ok()) return waiting.status();
  std::vector<state::ErrorItem> errors;
  if (retry_errors) {
    Expected<std::vector<state::ErrorItem>> open = state->OpenErrors(plan.name);
    if (!open.ok()) return open.status();
    errors = std::move(*open);
  }
  if (waiting->empty() && errors.empty()) return 0;
  Batch batch;
  if (Status st = BeginBatch(batch, plan); !st.ok()) return st;
  double now = state::NowSeconds();
  auto side_of = [&](const std::string& system) { return system == plan.side[0].system ? 0 : 1; };
  for (const state::Waiting& w : *waiting) {
    int s = side_of(w.system);
    if (now - w.since >= static_cast<double>(config.lookup_timeout_seconds)) {
      Expected<std::optional<Row>> row = ReadRow(plan.side[s], w.row_id);
      if (!row.ok()) {
        AbortBatch(batch);
        return row.status();
      }
      RecordError(batch, s, w.row_id, "missing_reference",
                  w.reason + " (waited " +
                      std::to_string(static_cast<int64_t>(now - w.since)) + " s)",
                  *row ? &**row : nullptr);
      std::string map = plan.name;
      state::Waiting gone = w;
      batch.state_ops.push_back([map, gone](state::StateStore& st) {
        return st.RemoveWaiting(map, gone.system, gone.row_id);
      });
      continue;
    }
    if (Status st = Reconcile(batch, s, w.row_id, -1); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
  }
  for (const state::ErrorItem& e : errors) {
    if (Status st = Reconcile(batch, side_of(e.system), e.row_id, -1); !st.ok()) {
      AbortBatch(batch);
      return st;
    }
  }
  if (Status st = CommitBatch(batch, nullptr); !st.ok()) return st;
  Expected<std::vector<state::Waiting>> after = state->ListWaiting(plan.name);
  if (!after.ok()) return after.status();
  return static_cast<int64_t>(waiting->size()) - static_cast<int64_t>(after->size());
}

Status SyncEngine::Impl::Prune() {
  std::map<std::string, int64_t> lowest;
  for (const auto& plan : plans) {
    for (int s = 0; s < 2; ++s) {
      if (!plan->side[s].transform) continue;
      Expected<int64_t> ck = state->GetCheckpoint(plan->name, plan->side[s].system);
      if (!ck.ok()) return ck.status();
      auto [it, inserted] = lowest.emplace(plan->side[s].system, *ck);
      if (!inserted) it->second = std::min(it->second, *ck);
    }
  }
  for (const auto& [system, seq] : lowest) {
    if (seq <= 0) continue;
    if (Status s = endpoints[system]->PruneChangelog(seq); !s.ok()) return s;
  }
  return Status::Ok();
}

Expected<RunCounts> SyncEngine::Impl::Run(const std::atomic<bool>* stop,
                                          const ProgressFn& progress) {
  counts = RunCounts();
  auto stopped = [&] { return stop && stop->load(); };
  // A changelog that ends before a checkpoint was made again (uninstall and
  // install): its changes are all unseen, so read it from the start.
  for (auto& plan : plans) {
    for (int s = 0; s < 2; ++s) {
      Side& side = plan->side[s];
      Expected<int64_t> ck = state->GetCheckpoint(plan->name, side.system);
      if (!ck.ok()) return ck.status();
      Expected<int64_t> end = side.endpoint->ChangelogEnd();
      if (!end.ok()) return end.status();
      if (*end < *ck) {
        if (Status st = state->Begin(); !st.ok()) return st;
        if (Status st = state->SetCheckpoint(plan->name, side.system, 0); !st.ok()) {
          state->Rollback();
          return st;
        }
        if (Status st = state->Commit(); !st.ok()) return st;
      }
    }
  }
  for (auto& plan : plans) {
    if (stopped()) break;
    if (Status s = InitialSync(*plan, progress, stop); !s.ok()) return s;
  }
  // Open items get another chance at every start, once the pending changes
  // are in (a missing reference may arrive with them).
  bool errors_retried = false;
  auto last_retry = std::chrono::steady_clock::now();
  auto last_prune = last_retry;
  while (!stopped()) {
    int64_t handled = 0;
    for (auto& plan : plans) {
      Expected<int64_t> n = ProcessChanges(*plan, static_cast<size_t>(config.batch_size));
      if (!n.ok()) return n.status();
      handled += *n;
      if (stopped()) break;
    }
    auto now = std::chrono::steady_clock::now();
    bool idle = handled == 0;
    if (idle || now - last_retry > std::chrono::seconds(1)) {
      int64_t resolved = 0;
      for (auto& plan : plans) {
        Expected<int64_t> r = RetryWaiting(*plan, /*retry_errors=*/false);
        if (!r.ok()) return r.status();
        resolved += *r;
      }
      last_retry = now;
      if (resolved > 0) continue;
    }
    if (!idle) continue;
    if (!errors_retried) {
      errors_retried = true;
      for (auto& plan : plans) {
        Expected<int64_t> r = RetryWaiting(*plan, /*retry_errors=*/true);
        if (!r.ok()) return r.status();
      }
      continue;
    }
    if (!stop) break;  // --once: caught up
    if (now - last_prune > std::chrono::seconds(1)) {
      if (Status s = Prune(); !s.ok()) return s;
      last_prune = now;
    }
    plans.front()->side[0].endpoint->WaitForChanges(
        std::chrono::milliseconds(config.poll_interval_ms));
  }
  if (Status s = Prune(); !s.ok()) return s;
  for (auto& plan : plans) {
    Expected<std::vector<state::Waiting>> w = state->ListWaiting(plan->name);
    if (!w.ok()) return w.status();
    counts.waiting += static_cast<int64_t>(w->size());
    Expected<int64_t> e = state->CountOpenErrors(plan->name);
    if (!e.ok()) return e.status();
    counts.open_errors += *e;
  }
  return counts;
}

// ---------------------------------------------------------------------------
// SyncEngine

SyncEngine::SyncEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncEngine::~SyncEngine() = default;

Expected<std::unique_ptr<SyncEngine>> SyncEngine::Create(
    const Config& config, const bundle::LoadedBundle& bundle,
    std::map<std::string, std::unique_ptr<Endpoint>> endpoints,
    std::unique_ptr<state::StateStore> state) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->bundle = &bundle;
  impl->endpoints = std::move(endpoints);
  impl->state = std::move(state);
  if (const char* trace = std::getenv("DUET_TRACE"); trace && *trace) {
    impl->trace = std::fopen(trace, "a");
  }
  if (Status s = impl->Plan(); !s.ok()) return s;
  return std::unique_ptr<SyncEngine>(new SyncEngine(std::move(impl)));
}

std::map<std::string, std::vector<std::string>> SyncEngine::CapturedTables(
    const bundle::Manifest& manifest) {
  std::map<std::string, std::vector<std::string>> out;
  for (const bundle::Map& map : manifest.maps) {
    for (const bundle::Transform& t : map.transforms) {
      std::vector<std::string>& tables = out[t.from];
      if (std::find(tables.begin(), tables.end(), t.source_table) == tables.end()) {
        tables.push_back(t.source_table);
      }
    }
  }
  for (const std::string& system : manifest.systems) out[system];
  return out;
}

Status SyncEngine::CheckReady() {
  std::map<std::string, std::vector<std::string>> captured =
      CapturedTables(impl_->bundle->manifest());
  for (auto& [system, endpoint] : impl_->endpoints) {
    if (Status s = endpoint->CheckSchema(); !s.ok()) return s;
    if (Status s = endpoint->CheckCapture(captured[system]); !s.ok()) return s;
  }
  return Status::Ok();
}

Expected<RunCounts> SyncEngine::RunOnce(const ProgressFn& progress) {
  return impl_->Run(nullptr, progress);
}

Expected<RunCounts> SyncEngine::RunUntil(const std::atomic<bool>& stop,
                                         const ProgressFn& progress) {
  return impl_->Run(&stop, progress);
}

Expected<std::string> SyncEngine::StatusJson() {
  json maps = json::array();
  for (auto& plan : impl_->plans) {
    Expected<state::MapState> m = impl_->state->GetMap(plan->name);
    if (!m.ok()) return m.status();
    json entry;
    entry["name"] = plan->name;
    entry["state"] = m->phase == state::MapPhase::kLive      ? "live"
                     : m->phase == state::MapPhase::kInitial ? "initial"
                                                             : "new";
    Expected<int64_t> linked = impl_->state->CountLinks(plan->name);
    if (!linked.ok()) return linked.status();
    entry["linked"] = *linked;
    json backlog = json::object();
    for (int s = 0; s < 2; ++s) {
      Side& side = plan->side[s];
      if (!side.transform) continue;
      Expected<int64_t> ck = impl_->state->GetCheckpoint(plan->name, side.system);
      if (!ck.ok()) return ck.status();
      Expected<int64_t> n = side.endpoint->CountChanges(side.table, *ck, plan->name);
      if (!n.ok()) return n.status();
      backlog[side.system] = *n;
    }
    entry["backlog"] = backlog;
    entry["last_sync"] = m->last_sync ? json(*m->last_sync) : json(nullptr);
    Expected<int64_t> errors = impl_->state->CountOpenErrors(plan->name);
    if (!errors.ok()) return errors.status();
    entry["errors"] = *errors;
    Expected<std::vector<state::Waiting>> waiting = impl_->state->ListWaiting(plan->name);
    if (!waiting.ok()) return waiting.status();
    entry["waiting"] = waiting->size();
    if (m->phase == state::MapPhase::kInitial) {
      entry["initial"] = {{"done", m->initial_done}, {"total", m->initial_total}};
    }
    maps.push_back(std::move(entry));
  }
  json out;
  out["maps"] = std::move(maps);
  return out.dump();
}

Expected<std::string> SyncEngine::StatusText() {
  Expected<std::string> text = StatusJson();
  if (!text.ok()) return text.status();
  json j = json::parse(*text);
  std::string out = "map                       state    linked  backlog          errors  waiting  last sync\n";
  for (const json& m : j["maps"]) {
    std::string backlog;
    for (const auto& [system, n] : m["backlog"].items()) {
      backlog += (backlog.empty() ? "" : " ") + system + ":" + std::to_string(n.get<int64_t>());
    }
    char line[512];
    std::snprintf(line, sizeof line, "%-25s %-8s %7lld  %-16s %6lld  %7lld  %s\n",
                  m["name"].get<std::string>().c_str(), m["state"].get<std::string>().c_str(),
                  static_cast<long long>(m["linked"].get<int64_t>()), backlog.c_str(),
                  static_cast<long long>(m["errors"].get<int64_t>()),
                  static_cast<long long>(m["waiting"].get<int64_t>()),
                  m["last_sync"].is_null() ? "never" : m["last_sync"].get<std::string>().c_str());
    out += line;
  }
  return out;
}

}  // namespace duet::engine
