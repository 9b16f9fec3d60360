#include "runtime/cli/pause_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/base/json_dump.h"
#include "runtime/cli/session.h"
#include "runtime/endpoint/sqlite/sql_quote.h"
#include "runtime/state/open_state_store.h"
#include "runtime/state/state_store.h"

namespace duet::cli {
namespace {

// The configuration's state store, once the map is known to its bundle.
Expected<std::unique_ptr<state::StateStore>> OpenForMap(const PauseOptions& options) {
  Expected<engine::Config> config = LoadDeployment(options.config_path);
  if (!config.ok()) return config.status();
  Expected<bundle::Manifest> manifest = ReadManifest(*config);
  if (!manifest.ok()) return manifest.status();
  if (!manifest->FindMap(options.map)) {
    return NotFoundError("the bundle " + config->bundle + " has no map '" + options.map + "'");
  }
  return state::OpenStateStore(config->state);
}

}  // namespace

int PauseCommand(const PauseOptions& options) {
  Expected<std::unique_ptr<state::StateStore>> state = OpenForMap(options);
  if (!state.ok()) return Fail(state.status());
  state::Pause pause;
  pause.map = options.map;
  pause.since = state::NowSeconds();
  pause.by = options.by;
  if (pause.by.empty()) {
    const char* user = std::getenv("USER");
    pause.by = user && *user ? user : "unknown";
  }
  pause.reason = options.reason;
  if (Status s = (*state)->PauseMap(pause); !s.ok()) return Fail(s);
  Expected<std::map<std::string, state::Pause>> paused = (*state)->Paused();
  if (!paused.ok()) return Fail(paused.status());
  const state::Pause& now = paused->at(options.map);
  if (options.as_json) {
    std::cout << DumpJson(nlohmann::json{{"map", now.map},
                                         {"paused", true},
                                         {"since", state::IsoAt(now.since)},
                                         {"by", now.by},
                                         {"reason", now.reason}})
              << "\n";
  } else {
    std::cout << fmt::format("map {} paused since {} by {}{}\n", now.map, state::IsoAt(now.since),
                             now.by, now.reason.empty() ? "" : " (" + now.reason + ")");
  }
  return kExitClean;
}

int ResumeCommand(const PauseOptions& options) {
  Expected<std::unique_ptr<state::StateStore>> state = OpenForMap(options);
  if (!state.ok()) return Fail(state.status());
  Expected<std::map<std::string, state::Pause>> paused = (*state)->Paused();
  if (!paused.ok()) return Fail(paused.status());
  auto pause = paused->find(options.map);
  // A column dropped and added again holds nulls that are no edits: carrying
  // them to the other side must be the operator's choice.
  bool schema_changed = pause != paused->end() && pause->second.by == "duet" &&
                        pause->second.reason.starts_with("schema changed");
  if (!options.from.empty() && options.as_is) {
    return Fail(InvalidArgumentError("--from and --as-is exclude each other"));
  }
  if (schema_changed && options.from.empty() && !options.as_is) {
    return Fail(FailedPreconditionError(fmt::format(
        "map {} was stopped because its tables changed ({}). A column dropped and added again "
        "holds nulls that the changes captured meanwhile would carry to the other side. Choose: "
        "`duet resume {} --from SYSTEM` skips those changes and resyncs the map from SYSTEM "
        "(its values win every difference), or `duet resume {} --as-is` reconciles them as "
        "they are",
        options.map, pause->second.reason, options.map, options.map)));
  }
  if (!options.from.empty()) {
    Expected<std::unique_ptr<Session>> session = OpenSession(options.config_path);
    if (!session.ok()) return Fail(session.status());
    std::string by = options.by;
    if (by.empty()) {
      const char* user = std::getenv("USER");
      by = user && *user ? user : "unknown";
    }
    if (Status s = (*session)->engine->StartResync(options.map, options.from, by, "",
                                                   /*resume_skipping=*/true);
        !s.ok()) {
      return Fail(s);
    }
  } else if (Status s = (*state)->ResumeMap(options.map); !s.ok()) {
    return Fail(s);
  }
  if (options.as_json) {
    std::cout << DumpJson(nlohmann::json{{"map", options.map}, {"paused", false}}) << "\n";
  } else {
    std::cout << (options.from.empty()
                      ? fmt::format("map {} resumed: the next duet run cycle reconciles what "
                                    "changed meanwhile\n",
                                    options.map)
                      : fmt::format("map {} resumed: the changes captured while it was stopped "
                                    "are skipped; a resync from {} makes every pair agree "
                                    "(`duet run` does it, `duet status` shows how far)\n",
                                    options.map, options.from));
  }
  return kExitClean;
}

namespace {

// `--keys FILE`: one row of `from`'s table a line, by its alternate key (the
// key's columns separated by tabs, in the table's key order), as an SQL
// condition.
Expected<std::string> KeysCondition(const bundle::Manifest& manifest, const bundle::Map& map,
                                    const std::string& from, const std::string& path) {
  const bundle::Table* table = nullptr;
  for (const std::string& name : {map.left_table, map.right_table}) {
    const bundle::Table* t = manifest.FindTable(name);
    if (t && t->system == from) table = t;
  }
  if (!table || table->key.empty()) {
    return InvalidArgumentError("map " + map.name + ": no alternate key on " + from + "'s side");
  }
  std::ifstream in(path);
  if (!in) return NotFoundError("--keys: cannot open '" + path + "'");
  std::string columns, values;
  for (size_t i = 0; i < table->key.size(); ++i) {
    columns += (i ? ", t." : "t.") + sqlite::QuoteIdentifier(table->key[i]);
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) {
      parts.push_back(line.substr(start, tab - start));
    }
    parts.push_back(line.substr(start));
    if (parts.size() != table->key.size()) {
      return InvalidArgumentError(
          fmt::format("--keys {} line {}: {} value(s), the key of {} has {}", path, n + 1,
                      parts.size(), table->name, table->key.size()));
    }
    std::string row;
    for (size_t i = 0; i < parts.size(); ++i)
      row += (i ? ", " : "") + sqlite::QuoteLiteral(parts[i]);
    values += (values.empty() ? "" : ", ") + std::string("(") + row + ")";
    ++n;
  }
  if (n == 0) return InvalidArgumentError("--keys " + path + ": no keys");
  return "(" + columns + ") IN (VALUES " + values + ")";
}

}  // namespace

int ResyncCommand(const ResyncOptions& options) {
  Expected<engine::Config> config = LoadDeployment(options.config_path);
  if (!config.ok()) return Fail(config.status());
  Expected<bundle::Manifest> manifest = ReadManifest(*config);
  if (!manifest.ok()) return Fail(manifest.status());
  const bundle::Map* map = manifest->FindMap(options.map);
  if (!map) {
    return Fail(
        NotFoundError("the bundle " + config->bundle + " has no map '" + options.map + "'"));
  }
  std::string from = options.from.empty() ? map->master : options.from;
  bool reads_from = std::any_of(map->transforms.begin(), map->transforms.end(),
                                [&](const bundle::Transform& t) { return t.from == from; });
  if (!reads_from) {
    return Fail(InvalidArgumentError(
        options.from.empty()
            ? "map " + map->name + ": say which side wins with --from (its master is '" +
                  map->master + "')"
            : "map " + map->name + ": --from " + from + " is not a side whose rows the map reads"));
  }
  Expected<std::unique_ptr<state::StateStore>> state = state::OpenStateStore(config->state);
  if (!state.ok()) return Fail(state.status());
  Expected<std::optional<state::Resync>> running = (*state)->GetResync(map->name);
  if (!running.ok()) return Fail(running.status());
  // Some pairs only (--where, --keys): then the rows read from `from`'s side
  // are the pairs, as no row of the other side is read.
  bool some_pairs = *running && !options.restart
                        ? !(*running)->where.empty()
                        : !options.where.empty() || !options.keys_file.empty();
  if (*running && !options.restart) {
    from = (*running)->from;  // the resync under way goes on as it began
    std::cout << fmt::format(
        "map {}: a resync from {} is under way ({}/{} rows); --restart starts it again\n",
        map->name, (*running)->from, (*running)->done, (*running)->total);
  } else {
    std::string by = options.by;
    if (by.empty()) {
      const char* user = std::getenv("USER");
      by = user && *user ? user : "unknown";
    }
    std::string where = options.where;
    if (!options.keys_file.empty()) {
      Expected<std::string> keys = KeysCondition(*manifest, *map, from, options.keys_file);
      if (!keys.ok()) return Fail(keys.status());
      where = *keys;
    }
    Expected<std::unique_ptr<Session>> starting = OpenSession(options.config_path);
    if (!starting.ok()) return Fail(starting.status());
    if (Status s = (*starting)->engine->StartResync(map->name, from, by, where); !s.ok()) {
      return Fail(s);
    }
  }
  Expected<int> lock = LockState(*config);
  if (!lock.ok()) {
    if (lock.status().code() != StatusCode::kFailedPrecondition) return Fail(lock.status());
    std::cout << (options.as_json
                      ? DumpJson(nlohmann::json{
                            {"map", map->name}, {"from", from}, {"processed", false}})
                      : fmt::format("map {}: the running duet process resyncs it a page a "
                                    "cycle; `duet status` shows how far it is",
                                    map->name))
              << "\n";
    return kExitClean;
  }
  Expected<std::unique_ptr<Session>> session = OpenSession(options.config_path, /*worker=*/true);
  if (!session.ok()) return Fail(session.status());
  engine::SyncEngine& engine = *(*session)->engine;
  if (Status s = engine.CheckReady(); !s.ok()) return Fail(s);
  engine.SetLog([](const std::string& line) { std::cerr << "duet: " << line << "\n"; });
  // The run's own pair count is no answer: it counts a pair once from each
  // side (the resync reads both) and adds whatever else was pending.
  int64_t rows_from = 0;  // rows of `from`'s side the resync has read
  Expected<engine::RunCounts> counts = engine.RunOnce([&](const engine::Progress& p) {
    if (p.map == map->name && p.task == "resync" && p.from == from) rows_from = p.done;
  });
  if (!counts.ok()) return Fail(counts.status());
  Expected<int64_t> links = (*state)->CountLinks(map->name);
  if (!links.ok()) return Fail(links.status());
  int64_t pairs = some_pairs ? rows_from : *links;
  if (options.as_json) {
    std::cout << DumpJson(nlohmann::json{{"map", map->name},
                                         {"from", from},
                                         {"processed", true},
                                         {"pairs", pairs},
                                         {"writes", counts->writes},
                                         {"open_errors", counts->open_errors}})
              << "\n";
  } else {
    std::cout << fmt::format(
        "map {}: resync from {} done: {} pair(s) reconciled, {} row write(s)\n", map->name, from,
        pairs, counts->writes);
  }
  return counts->open_errors > 0 ? kExitRowErrors : kExitClean;
}

// "row 12 (CODE=A, LINE=1.00)": a row of a drift report, by id and by
// alternate key (which an operator can look up).
std::string DriftRow(const nlohmann::json& id, const nlohmann::json& key) {
  std::string out = "row " + id.get<std::string>();
  if (!key.is_object() || key.empty()) return out;
  std::string values;
  for (const auto& [column, value] : key.items()) {
    values += (values.empty() ? "" : ", ") + column + "=" +
              (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out + " (" + values + ")";
}

int DriftCommand(const std::string& config_path, const std::string& map, bool as_json) {
  Expected<std::unique_ptr<Session>> session = OpenSession(config_path);
  if (!session.ok()) return Fail(session.status());
  // Progress on stderr, as the initial sync's: a drift check of a large
  // table takes a while.
  Expected<std::string> report = (*session)->engine->DriftJson(map, [](const engine::Progress& p) {
    if (p.finished) return;
    std::cerr << fmt::format("duet: {} drift: {}/{} rows read, {:.0f} rows/s\n", p.map, p.done,
                             p.total, p.rows_per_second);
  });
  if (!report.ok()) return Fail(report.status());
  nlohmann::json j = nlohmann::json::parse(*report);
  bool drift = j["drift"].get<bool>();
  if (as_json) {
    std::cout << *report << "\n";
    return drift ? kExitRowErrors : kExitClean;
  }
  std::string left = j["left"], right = j["right"];
  std::cout << fmt::format("map {}: {} rows read, {} pairs compared\n", map,
                           j["rows_read"].get<int64_t>(), j["pairs_compared"].get<int64_t>());
  const nlohmann::json& differing = j["differing_pairs"];
  std::cout << fmt::format("  pairs whose mapped fields disagree: {}\n",
                           differing["count"].get<int64_t>());
  int shown = 0;
  for (const nlohmann::json& pair : differing["listed"]) {
    if (++shown > 20) break;
    for (const nlohmann::json& f : pair["fields"]) {
      std::cout << fmt::format("    {} {} / {} {}: {} is {}, {} maps it to {}\n", left,
                               DriftRow(pair["left_id"], pair["left_key"]), right,
                               DriftRow(pair["right_id"], pair["right_key"]),
                               f["column"].get<std::string>(), DumpJson(f["current"]),
                               f["from"].get<std::string>(), DumpJson(f["mapped"]));
    }
  }
  for (const std::string& system : {left, right}) {
    const nlohmann::json& w = j["without_partner"][system];
    std::cout << fmt::format("  {} rows without a partner: {}\n", system,
                             w["count"].get<int64_t>());
    shown = 0;
    for (const nlohmann::json& row : w["listed"]) {
      if (++shown > 20) break;
      std::cout << fmt::format("    {} {}\n", system, DriftRow(row["id"], row["key"]));
    }
    const nlohmann::json& v = j["links_to_vanished_rows"][system];
    std::cout << fmt::format("  links whose {} row is gone: {}\n", system,
                             v["count"].get<int64_t>());
    shown = 0;
    for (const nlohmann::json& link : v["listed"]) {
      if (++shown > 20) break;
      const std::string& partner = system == left ? right : left;
      std::cout << fmt::format(
          "    {} {}\n", partner,
          DriftRow(link[system == left ? "right_id" : "left_id"], link["key"]));
    }
  }
  std::cout << fmt::format(
      "  changes not reconciled yet: {} (they count as differences until "
      "duet run reconciles them)\n",
      DumpJson(j["pending_changes"]));
  std::cout << (drift ? "drift: repair with `duet resync " + map + " --from SYSTEM`\n"
                      : "no drift\n");
  return drift ? kExitRowErrors : kExitClean;
}

}  // namespace duet::cli
