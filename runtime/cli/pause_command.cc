#include "runtime/cli/pause_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/cli/session.h"
#include "runtime/endpoint/sqlite/sql_quote.h"
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
  Expected<std::string> path = engine::SqlitePath(config->state, "state");
  if (!path.ok()) return path.status();
  return state::StateStore::Open(*path);
}

}  // namespace

int PauseCommand(const PauseOptions& options) {
  Expected<std::unique_ptr<state::StateStore>> state = OpenForMap(options);
  if (!state.ok()) return Fail(state.status());
  state::Pause pause;
  pause.map = options.map;
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
    std::cout << nlohmann::json{{"map", now.map},
                                {"paused", true},
                                {"since", now.since},
                                {"by", now.by},
                                {"reason", now.reason}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("map {} paused since {} by {}{}\n", now.map, now.since, now.by,
                             now.reason.empty() ? "" : " (" + now.reason + ")");
  }
  return kExitClean;
}

int ResumeCommand(const PauseOptions& options) {
  Expected<std::unique_ptr<state::StateStore>> state = OpenForMap(options);
  if (!state.ok()) return Fail(state.status());
  if (Status s = (*state)->ResumeMap(options.map); !s.ok()) return Fail(s);
  if (options.as_json) {
    std::cout << nlohmann::json{{"map", options.map}, {"paused", false}}.dump() << "\n";
  } else {
    std::cout << fmt::format(
        "map {} resumed: the next duet run cycle reconciles what changed meanwhile\n", options.map);
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
  Expected<std::string> path = engine::SqlitePath(config->state, "state");
  if (!path.ok()) return Fail(path.status());
  Expected<std::unique_ptr<state::StateStore>> state = state::StateStore::Open(*path);
  if (!state.ok()) return Fail(state.status());
  Expected<std::optional<state::Resync>> running = (*state)->GetResync(map->name);
  if (!running.ok()) return Fail(running.status());
  if (*running && !options.restart) {
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
    std::cout
        << (options.as_json
                ? nlohmann::json{{"map", map->name}, {"from", from}, {"processed", false}}.dump()
                : fmt::format("map {}: the running duet process resyncs it a page a "
                              "cycle; `duet status` shows how far it is",
                              map->name))
        << "\n";
    return kExitClean;
  }
  Expected<std::unique_ptr<Session>> session = OpenSession(options.config_path);
  if (!session.ok()) return Fail(session.status());
  engine::SyncEngine& engine = *(*session)->engine;
  if (Status s = engine.CheckReady(); !s.ok()) return Fail(s);
  engine.SetLog([](const std::string& line) { std::cerr << "duet: " << line << "\n"; });
  Expected<engine::RunCounts> counts = engine.RunOnce(nullptr);
  if (!counts.ok()) return Fail(counts.status());
  if (options.as_json) {
    std::cout << nlohmann::json{{"map", map->name},         {"from", from},
                                {"processed", true},        {"pairs", counts->pairs},
                                {"writes", counts->writes}, {"open_errors", counts->open_errors}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format(
        "map {}: resync from {} done: {} pair(s) reconciled, {} row write(s)\n", map->name, from,
        counts->pairs, counts->writes);
  }
  return counts->open_errors > 0 ? kExitRowErrors : kExitClean;
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
      std::cout << fmt::format("    {} row {} / {} row {}: {} is {}, {} maps it to {}\n", left,
                               pair["left_id"].get<std::string>(), right,
                               pair["right_id"].get<std::string>(), f["column"].get<std::string>(),
                               f["current"].dump(), f["from"].get<std::string>(),
                               f["mapped"].dump());
    }
  }
  for (const std::string& system : {left, right}) {
    const nlohmann::json& w = j["without_partner"][system];
    std::cout << fmt::format("  {} rows without a partner: {}{}\n", system,
                             w["count"].get<int64_t>(),
                             w["listed"].empty() ? "" : " (" + w["listed"].dump() + ")");
    const nlohmann::json& v = j["links_to_vanished_rows"][system];
    std::cout << fmt::format("  links whose {} row is gone: {}\n", system,
                             v["count"].get<int64_t>());
  }
  std::cout << fmt::format(
      "  changes not reconciled yet: {} (they count as differences until "
      "duet run reconciles them)\n",
      j["pending_changes"].dump());
  std::cout << (drift ? "drift: repair with `duet resync " + map + " --from SYSTEM`\n"
                      : "no drift\n");
  return drift ? kExitRowErrors : kExitClean;
}

}  // namespace duet::cli
