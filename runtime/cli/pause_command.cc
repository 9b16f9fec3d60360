#include "runtime/cli/pause_command.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/cli/session.h"
#include "runtime/state/state_store.h"

namespace duet::cli {
namespace {

// The configuration's state store, once the map is known to its bundle.
Expected<std::unique_ptr<state::StateStore>> OpenForMap(const PauseOptions& options) {
  Expected<engine::Config> config = engine::LoadConfig(options.config_path);
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

}  // namespace duet::cli
