// Alert rules of the configuration (docs/operations.md, "Alerts"), checked
// by the sync loop every few seconds and once more at the end of a run.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/engine/engine_impl.h"

extern char** environ;

namespace duet::engine {
namespace {

// Runs `command` with /bin/sh, `input` on its stdin, without waiting for it
// (a thread reaps it).
Status RunAlertCommand(const std::string& command, const std::string& input) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return IoError("alerts: cannot make a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return IoError("alerts: cannot run /bin/sh for '" + command + "'");
  }
  // The JSON is small (well under a pipe's buffer): the write does not block.
  ssize_t written = ::write(fds[1], input.data(), input.size());
  (void)written;
  ::close(fds[1]);
  std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();
  return Status::Ok();
}

bool Holds(const AlertRule& rule, double value) {
  if (rule.op == ">") return value > rule.threshold;
  if (rule.op == ">=") return value >= rule.threshold;
  if (rule.op == "<") return value < rule.threshold;
  if (rule.op == "<=") return value <= rule.threshold;
  return value == rule.threshold;
}

}  // namespace

Expected<double> SyncEngine::Impl::AlertValue(const AlertRule& rule, MapPlan& plan) {
  double now = clock->Now();
  // A `for` rule looks at the last minute, again and again; `within` at its window.
  double window = rule.within ? rule.seconds : 60;
  if (rule.metric == "errors") {
    Expected<int64_t> n = state->CountErrorsSince(plan.name, now - window);
    if (!n.ok()) return n.status();
    return static_cast<double>(*n);
  }
  if (rule.metric == "open_errors") {
    Expected<int64_t> n = state->CountOpenErrors(plan.name);
    if (!n.ok()) return n.status();
    return static_cast<double>(*n);
  }
  if (rule.metric == "backlog") {
    Expected<std::map<std::string, int64_t>> backlog = Backlog(plan);
    if (!backlog.ok()) return backlog.status();
    int64_t total = 0;
    for (const auto& [system, n] : *backlog) total += n;
    return static_cast<double>(total);
  }
  if (rule.metric == "retained_bytes") {
    // The larger of the map's two databases: each retains for every map.
    int64_t most = 0;
    for (const Side& side : plan.side) {
      Expected<std::optional<int64_t>> bytes = side.endpoint->CaptureRetainedBytes();
      if (!bytes.ok()) return bytes.status();
      most = std::max(most, bytes->value_or(0));
    }
    return static_cast<double>(most);
  }
  // pNN_latency over the window's minutes, both directions together.
  int64_t minute = static_cast<int64_t>(now / 60);
  int64_t minutes = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(window / 60)));
  Expected<std::map<std::string, state::LatencyHistogram>> h =
      state->LatencySince(plan.name, minute - minutes + 1);
  if (!h.ok()) return h.status();
  state::LatencyHistogram all;
  for (const auto& [direction, one] : *h) all.Merge(one);
  double p = rule.metric == "p50_latency" ? 0.5 : rule.metric == "p95_latency" ? 0.95 : 0.99;
  return all.Quantile(p);
}

Status SyncEngine::Impl::EvaluateAlerts() {
  last_alerts = std::chrono::steady_clock::now();
  double now = clock->Now();
  for (size_t r = 0; r < config.alerts.size(); ++r) {
    const AlertRule& rule = config.alerts[r];
    for (auto& plan : plans) {
      if (!rule.map.empty() && rule.map != plan->name) continue;
      Expected<double> value = AlertValue(rule, *plan);
      if (!value.ok()) return value.status();
      AlertState& st = alert_state[{r, plan->name}];
      bool holds = Holds(rule, *value);
      if (!holds) {
        st = AlertState();  // re-armed
        continue;
      }
      if (!st.since) st.since = now;
      if (st.fired || (!rule.within && now - *st.since < rule.seconds)) continue;
      st.fired = true;
      std::string text = fmt::format("map {}: {} (now {})", plan->name, rule.text, *value);
      if (log) log("alert: " + text + "; then " + rule.then);
      if (rule.then == "pause" && !IsPaused(*plan)) {
        state::Pause pause{plan->name, clock->Now(), "duet", "alert: " + rule.text};
        if (Status s = state->Begin(); !s.ok()) return s;
        if (Status s = state->PauseMap(pause); !s.ok()) {
          state->Rollback();
          return s;
        }
        if (Status s = state->Commit(); !s.ok()) return s;
        paused[plan->name] = pause;
      } else if (rule.then == "run") {
        nlohmann::json alert = {{"map", plan->name},
                                {"when", rule.text},
                                {"value", *value},
                                {"then", rule.then},
                                {"at", state::IsoAt(clock->Now())}};
        if (Status s = RunAlertCommand(rule.command, alert.dump() + "\n"); !s.ok() && log) {
          log(s.message());
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace duet::engine
