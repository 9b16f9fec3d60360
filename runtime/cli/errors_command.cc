#include "runtime/cli/errors_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "runtime/base/json_dump.h"
#include "runtime/cli/error_items.h"
#include "runtime/cli/session.h"
#include "runtime/state/open_state_store.h"
#include "runtime/state/state_store.h"
#include "runtime/value/ops.h"

namespace duet::cli {
namespace {

using nlohmann::json;

struct StateSession {
  engine::Config config;
  std::unique_ptr<state::StateStore> state;
};

Expected<StateSession> OpenState(const std::string& config_path) {
  Expected<engine::Config> config = LoadDeployment(config_path);
  if (!config.ok()) return config.status();
  Expected<std::unique_ptr<state::StateStore>> state = state::OpenStateStore(config->state);
  if (!state.ok()) return state.status();
  return StateSession{*config, std::move(*state)};
}

// "90s", "15m", "2h", "7d" -> seconds.
Expected<double> ParseAge(const std::string& text) {
  if (text.size() < 2)
    return InvalidArgumentError("--older-than: expected e.g. 15m, got '" + text + "'");
  double unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      break;
  }
  std::string digits = text.substr(0, text.size() - 1);
  char* end = nullptr;
  double n = std::strtod(digits.c_str(), &end);
  if (unit == 0 || end != digits.c_str() + digits.size() || !std::isfinite(n) || n < 0) {
    return InvalidArgumentError("--older-than: expected a number and s, m, h or d (15m), got '" +
                                text + "'");
  }
  return n * unit;
}

// The other system of the deployment: where the item's change was going.
std::string OtherSystem(const engine::Config& config, const std::string& system) {
  for (const auto& [name, url] : config.systems) {
    if (name != system) return name;
  }
  return "";
}

std::string Shorten(const std::string& text, size_t n) {
  return text.size() <= n ? text : std::string(value::TruncateBytes(text, n - 3)) + "...";
}

// How duet closed an item without a sync (StateStore::ResolveErrors adds
// " (closed: WHY)" to its reason): " by duet: WHY"; empty otherwise.
std::string ClosedHow(const state::ErrorItem& item) {
  constexpr std::string_view kMark = " (closed: ";
  size_t at = item.reason.rfind(kMark);
  if (item.closed_by != "duet" || at == std::string::npos || item.reason.back() != ')') return "";
  size_t begin = at + kMark.size();
  return " by duet: " + item.reason.substr(begin, item.reason.size() - 1 - begin);
}

// The items named by id (each must exist), or with --all every open item
// (of --map, when given).
Expected<std::vector<state::ErrorItem>> SelectItems(state::StateStore& state,
                                                    const ErrorsOptions& options) {
  std::vector<state::ErrorItem> items;
  if (options.all) {
    state::ErrorFilter filter;
    filter.map = options.map;
    filter.kind = options.kind;
    return state.ListErrors(filter);
  }
  if (options.ids.empty()) return InvalidArgumentError("name the items by id, or say --all");
  for (int64_t id : options.ids) {
    Expected<std::optional<state::ErrorItem>> item = state.GetError(id);
    if (!item.ok()) return item.status();
    if (!*item) return NotFoundError("no error item " + std::to_string(id));
    items.push_back(std::move(**item));
  }
  return items;
}

// Marks each item with `request`, then reconciles them here when no `duet
// run` holds the state store, or leaves them to the running one.
int RequestAndProcess(const ErrorsOptions& options, StateSession& session,
                      const std::vector<state::ErrorItem>& items,
                      const state::ItemRequest& request) {
  for (const state::ErrorItem& e : items) {
    if (e.status != state::ItemStatus::kOpen) {
      return Fail(FailedPreconditionError("error item " + std::to_string(e.id) + " is " +
                                          std::string(state::ItemStatusName(e.status)) +
                                          ", not open"));
    }
  }
  for (const state::ErrorItem& e : items) {
    if (Status s = session.state->RequestRetry(e.id, request); !s.ok()) return Fail(s);
  }
  Expected<int> lock = LockState(session.config);
  if (!lock.ok()) {
    if (lock.status().code() != StatusCode::kFailedPrecondition) return Fail(lock.status());
    // A `duet run` is running: it takes the requests in its next cycle.
    if (options.as_json) {
      json ids = json::array();
      for (const state::ErrorItem& e : items) ids.push_back(e.id);
      std::cout << DumpJson(json{{"requested", ids}, {"processed", false}}) << "\n";
    } else {
      std::cout << fmt::format(
          "{} item(s) marked; the running duet process reconciles them in its next cycle\n",
          items.size());
    }
    return kExitClean;
  }
  Expected<std::unique_ptr<Session>> run = OpenSession(options.config_path, /*worker=*/true);
  if (!run.ok()) return Fail(run.status());
  if (Status s = (*run)->engine->CheckReady(); !s.ok()) return Fail(s);
  Expected<int64_t> processed = (*run)->engine->ProcessRequests();
  if (!processed.ok()) return Fail(processed.status());
  ::close(*lock);
  bool all_closed = true;
  json out = json::array();
  for (const state::ErrorItem& e : items) {
    Expected<std::optional<state::ErrorItem>> now = session.state->GetError(e.id);
    if (!now.ok()) return Fail(now.status());
    if (!*now) continue;
    const state::ErrorItem item = Shown(std::move(**now));
    bool closed = item.status != state::ItemStatus::kOpen;
    all_closed = all_closed && closed;
    if (options.as_json) {
      out.push_back(ItemJson(item, OtherSystem(session.config, item.system)));
    } else if (closed) {
      std::cout << fmt::format("item {}: {}{}\n", item.id, state::ItemStatusName(item.status),
                               ClosedHow(item));
    } else if (!item.request.empty()) {
      std::cout << fmt::format(
          "item {}: not reconciled yet (map {} has not finished its initial "
          "sync)\n",
          item.id, item.map);
    } else {
      std::cout << fmt::format("item {}: still open after {} attempt(s): {}: {}\n", item.id,
                               item.attempts, item.kind, item.reason);
    }
  }
  if (options.as_json) std::cout << DumpJson(json{{"items", out}, {"processed", true}}) << "\n";
  return all_closed ? kExitClean : kExitRowErrors;
}

}  // namespace

int ErrorsListCommand(const ErrorsOptions& options) {
  Expected<StateSession> session = OpenState(options.config_path);
  if (!session.ok()) return Fail(session.status());
  state::ErrorFilter filter;
  filter.map = options.map;
  filter.kind = options.kind;
  filter.open_only = !options.all;
  if (!options.older_than.empty()) {
    Expected<double> age = ParseAge(options.older_than);
    if (!age.ok()) return Fail(age.status());
    filter.first_at_most = state::NowSeconds() - *age;
  }
  Expected<std::vector<state::ErrorItem>> items = session->state->ListErrors(filter);
  if (!items.ok()) return Fail(items.status());
  for (state::ErrorItem& e : *items) e = Shown(std::move(e));
  if (options.as_json) {
    json out = json::array();
    for (const state::ErrorItem& e : *items)
      out.push_back(ItemJson(e, OtherSystem(session->config, e.system)));
    std::cout << DumpJson(out) << "\n";
    return kExitClean;
  }
  if (items->empty()) {
    std::cout << (options.all ? "no error items\n" : "no open error items\n");
    return kExitClean;
  }
  // The map column fits the longest name (map names are short words).
  size_t map_width = 3;
  for (const state::ErrorItem& e : *items) map_width = std::max(map_width, e.map.size());
  std::cout << fmt::format("{:>6}  {:<{}} {:<9} {:<10} {:<17} {:>8}  {:<24} {}\n", "ID", "MAP",
                           map_width, "FROM", "ROW", "KIND", "ATTEMPTS", "LAST", "REASON");
  for (const state::ErrorItem& e : *items) {
    std::cout << fmt::format("{:>6}  {:<{}} {:<9} {:<10} {:<17} {:>8}  {:<24} {}{}\n", e.id, e.map,
                             map_width, Shorten(e.system, 9), Shorten(e.row_id, 10),
                             Shorten(e.kind, 17), e.attempts, state::IsoAt(e.last_at),
                             Shorten(e.reason, 70),
                             e.status == state::ItemStatus::kOpen
                                 ? ""
                                 : " [" + std::string(state::ItemStatusName(e.status)) + "]");
  }
  return kExitClean;
}

int ErrorsShowCommand(const ErrorsOptions& options) {
  Expected<StateSession> session = OpenState(options.config_path);
  if (!session.ok()) return Fail(session.status());
  Expected<std::vector<state::ErrorItem>> items = SelectItems(*session->state, options);
  if (!items.ok()) return Fail(items.status());
  for (state::ErrorItem& item : *items) {
    const state::ErrorItem e = Shown(std::move(item));
    std::string to = OtherSystem(session->config, e.system);
    std::cout << (options.as_json ? DumpJson(ItemJson(e, to)) + "\n" : ItemText(e, to));
  }
  return kExitClean;
}

int ErrorsRetryCommand(const ErrorsOptions& options) {
  Expected<StateSession> session = OpenState(options.config_path);
  if (!session.ok()) return Fail(session.status());
  Expected<std::vector<state::ErrorItem>> items = SelectItems(*session->state, options);
  if (!items.ok()) return Fail(items.status());
  if (items->empty()) {
    std::cout << (options.as_json ? "{\"items\":[],\"processed\":true}\n"
                                  : "no open error items\n");
    return kExitClean;
  }
  return RequestAndProcess(options, *session, *items,
                           state::ItemRequest{state::ItemRequest::Kind::kRetry, ""});
}

int ErrorsResolveCommand(const ErrorsOptions& options) {
  Expected<StateSession> session = OpenState(options.config_path);
  if (!session.ok()) return Fail(session.status());
  if (!session->config.systems.count(options.take)) {
    return Fail(InvalidArgumentError("--take: '" + options.take +
                                     "' is not a system of the configuration"));
  }
  Expected<std::vector<state::ErrorItem>> items = SelectItems(*session->state, options);
  if (!items.ok()) return Fail(items.status());
  for (const state::ErrorItem& e : *items) {
    if (e.kind != "conflict") {
      return Fail(FailedPreconditionError(
          "error item " + std::to_string(e.id) + " is " + e.kind +
          ", not a conflict: fix the data and use `duet errors retry`, or discard it"));
    }
  }
  return RequestAndProcess(options, *session, *items,
                           state::ItemRequest{state::ItemRequest::Kind::kTake, options.take});
}

int ErrorsDiscardCommand(const ErrorsOptions& options) {
  Expected<StateSession> session = OpenState(options.config_path);
  if (!session.ok()) return Fail(session.status());
  std::string by = options.by;
  if (by.empty()) {
    const char* user = std::getenv("USER");
    by = user && *user ? user : "unknown";
  }
  Expected<std::vector<state::ErrorItem>> items = SelectItems(*session->state, options);
  if (!items.ok()) return Fail(items.status());
  json out = json::array();
  for (const state::ErrorItem& e : *items) {
    if (Status s = session->state->DiscardError(e.id, by, state::NowSeconds()); !s.ok()) {
      return Fail(s);
    }
    out.push_back(e.id);
    if (!options.as_json) std::cout << fmt::format("item {}: discarded by {}\n", e.id, by);
  }
  if (options.as_json) std::cout << DumpJson(json{{"discarded", out}, {"by", by}}) << "\n";
  return kExitClean;
}

}  // namespace duet::cli
