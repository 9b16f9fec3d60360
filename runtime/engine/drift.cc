// `duet drift`: what differs between the two sides of a map, found without
// writing anything (docs/operations.md, "Drift and resync").
#include <nlohmann/json.hpp>

#include "runtime/base/json_dump.h"
#include "runtime/engine/engine_impl.h"
#include "runtime/value/ops.h"

namespace duet::engine {

using nlohmann::json;

namespace {

// Lists in the report stop at this many entries; the counts go on.
constexpr size_t kListed = 1000;

void Note(json& list, int64_t& count, json entry) {
  ++count;
  if (list.size() < kListed) list.push_back(std::move(entry));
}

json ValueJson(const Value& v) { return v.is_null() ? json(nullptr) : json(v.ToText()); }

// What writing `v` into a column read as `type` leaves there: a decimal
// rounded (half away from zero) to the column's scale, as reading it back
// does (docs/sync.md, "How values are stored in SQLite").
Value AsWritten(const Value& v, const bundle::ColumnType& type) {
  if (v.tag() != DUET_DECIMAL || type.kind != bundle::ValueKind::kDecimal ||
      v.scale() == type.scale) {
    return v;
  }
  value::int128 rounded;
  if (!value::Rescale(v.decimal_value(), v.scale(), type.scale, &rounded)) return v;
  return Value::Decimal(rounded, type.scale);
}

// A row's alternate key as {column: value}, for an operator to find the
// row by; the key columns the side does not read are left out.
json KeyJson(const Side& side, const Row& row) {
  json key = json::object();
  if (!side.info) return key;
  for (const std::string& column : side.info->key) {
    for (size_t i = 0; i < side.shape.size() && i < row.values.size(); ++i) {
      if (side.shape[i].path.size() == 1 && side.shape[i].path[0] == column) {
        key[column] = ValueJson(row.values[i]);
        break;
      }
    }
  }
  return key;
}

json RowEntry(const Side& side, const Row& row) {
  return json{{"id", row.id}, {"key", KeyJson(side, row)}};
}

}  // namespace

Expected<std::string> SyncEngine::Impl::Drift(MapPlan& plan, const ProgressFn& progress) {
  json differing = json::array();
  json without_partner[2] = {json::array(), json::array()};
  json vanished[2] = {json::array(), json::array()};  // links whose row of side s is gone
  int64_t n_differing = 0, n_without[2] = {0, 0}, n_vanished[2] = {0, 0};
  int64_t pairs = 0, rows_read = 0, bad_rows = 0;
  int64_t total = 0;
  for (int s = 0; s < 2; ++s) {
    Expected<int64_t> n = plan.side[s].reader->Count();
    if (!n.ok()) return n.status();
    total += *n;
  }
  auto started = std::chrono::steady_clock::now();
  // Each side in pages, in one read transaction per page; links of a page in
  // a few queries. Pairs are compared from the left side's pass; the right
  // side's pass looks only for rows without a partner and links whose left
  // row is gone.
  for (int s = 0; s < 2; ++s) {
    Side& side = plan.side[s];
    Side& other = plan.side[1 - s];
    std::optional<RowId> cursor;
    for (;;) {
      Expected<std::vector<Row>> rows =
          side.reader->Scan(cursor, static_cast<size_t>(config.initial_batch_size));
      if (!rows.ok()) return rows.status();
      if (rows->empty()) break;
      Batch batch;
      batch.plan = &plan;
      if (Status st = state->BeginRead(); !st.ok()) return st;
      std::vector<std::string> ids;
      for (const Row& row : *rows) ids.push_back(row.id);
      Status fetched = PrefetchLinks(batch, s, ids);
      // The partners of the page's linked rows, read together.
      std::unordered_map<RowId, Row> partners;
      if (fetched.ok()) {
        std::vector<RowId> wanted;
        for (const Row& row : *rows) {
          Expected<std::optional<state::Link>> link = FindLink(batch, s, row.id);
          if (!link.ok()) {
            fetched = link.status();
            break;
          }
          if (*link) wanted.push_back(s == 0 ? (*link)->right_id : (*link)->left_id);
        }
        Expected<std::vector<Row>> read =
            fetched.ok() ? other.reader->ReadMany(wanted) : Expected<std::vector<Row>>(fetched);
        if (!read.ok()) {
          fetched = read.status();
        } else {
          for (Row& r : *read) partners.emplace(r.id, std::move(r));
        }
      }
      for (const Row& row : *rows) {
        if (!fetched.ok()) break;
        ++rows_read;
        if (!row.problem.empty()) {
          ++bad_rows;
          continue;
        }
        Expected<std::optional<state::Link>> link = FindLink(batch, s, row.id);
        if (!link.ok()) {
          fetched = link.status();
          break;
        }
        Projection mine;
        if (side.transform) mine = Project(side, row);
        if (!*link) {
          // Only rows the map syncs to the other side should have a
          // partner: not the target's own rows of a one-way map, nor a row
          // its own filter leaves out.
          if (side.transform && mine.status == DUET_OK) {
            Note(without_partner[s], n_without[s], RowEntry(side, row));
          }
          continue;
        }
        const RowId& partner = s == 0 ? (*link)->right_id : (*link)->left_id;
        auto theirs = partners.find(partner);
        if (theirs == partners.end()) {
          Note(vanished[1 - s], n_vanished[1 - s],
               json{{"left_id", (*link)->left_id},
                    {"right_id", (*link)->right_id},
                    {"key", KeyJson(side, row)}});
          continue;
        }
        if (s == 1) continue;  // compared in the left side's pass
        ++pairs;
        const Row& right = theirs->second;
        if (!right.problem.empty()) {
          ++bad_rows;
          continue;
        }
        Projection proj[2];
        proj[0] = std::move(mine);
        if (other.transform) proj[1] = Project(other, right);
        const Row* pair_rows[2] = {&row, &right};
        json fields = json::array();
        for (const FieldPlan& field : plan.fields) {
          json differs[2] = {json::array(), json::array()};
          bool compared[2] = {false, false};
          for (int i = 0; i < 2; ++i) {
            if (field.slots[i].empty() || !plan.side[i].transform || proj[i].status != DUET_OK ||
                field.constant[i]) {
              continue;
            }
            compared[i] = true;
            const Side& target = plan.side[1 - i];
            for (int j : field.slots[i]) {
              size_t at = static_cast<size_t>(target.current_index[static_cast<size_t>(j)]);
              const Value& has = pair_rows[1 - i]->values[at];
              Value wants =
                  AsWritten(proj[i].values[static_cast<size_t>(j)], target.shape[at].type);
              if (wants == has) continue;
              differs[i].push_back(
                  {{"column", target.table + "." +
                                  plan.side[i].transform->outputs[static_cast<size_t>(j)].Name()},
                   {"from", plan.side[i].system},
                   {"mapped", ValueJson(wants)},
                   {"current", ValueJson(has)},
                   {"two_way", !field.slots[1 - i].empty()}});
            }
          }
          // A two-way field agrees when one direction does: a write that
          // way changes nothing, and the other way cannot agree too when it
          // rounds (decimal(32, 6) against decimal(19, 4)), so it is no
          // drift that a write could remove.
          if (compared[0] && compared[1] && (differs[0].empty() || differs[1].empty())) continue;
          for (json& d : differs) {
            for (json& f : d) fields.push_back(std::move(f));
          }
        }
        if (!fields.empty()) {
          Note(differing, n_differing,
               json{{"left_id", row.id},
                    {"right_id", right.id},
                    {"left_key", KeyJson(side, row)},
                    {"right_key", KeyJson(other, right)},
                    {"fields", fields}});
        }
      }
      state->Rollback();  // the read transaction
      if (!fetched.ok()) return fetched;
      cursor = rows->back().id;
      if (progress) {
        Progress p;
        p.map = plan.name;
        p.task = "drift";
        p.from = side.system;
        p.to = other.system;
        p.done = rows_read;
        p.total = std::max(total, rows_read);
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        p.rows_per_second = seconds > 0 ? static_cast<double>(rows_read) / seconds : 0;
        progress(p);
      }
    }
  }
  Expected<std::map<std::string, int64_t>> backlog = Backlog(plan);
  if (!backlog.ok()) return backlog.status();
  json pending = *backlog;
  std::string systems[2] = {plan.side[0].system, plan.side[1].system};
  json out = {
      {"map", plan.name},
      {"left", systems[0]},
      {"right", systems[1]},
      {"rows_read", rows_read},
      {"pairs_compared", pairs},
      {"bad_rows", bad_rows},
      {"pending_changes", pending},
      {"differing_pairs", {{"count", n_differing}, {"listed", differing}}},
      {"without_partner",
       {{systems[0], {{"count", n_without[0]}, {"listed", without_partner[0]}}},
        {systems[1], {{"count", n_without[1]}, {"listed", without_partner[1]}}}}},
      {"links_to_vanished_rows",
       {{systems[0], {{"count", n_vanished[0]}, {"listed", vanished[0]}}},
        {systems[1], {{"count", n_vanished[1]}, {"listed", vanished[1]}}}}},
      {"drift", n_differing + n_without[0] + n_without[1] + n_vanished[0] + n_vanished[1] > 0},
  };
  if (progress) {
    Progress p;
    p.map = plan.name;
    p.task = "drift";
    p.done = rows_read;
    p.total = rows_read;
    p.finished = true;
    progress(p);
  }
  return DumpJson(out);
}

}  // namespace duet::engine
