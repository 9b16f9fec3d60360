// duet: the runtime's command line.
//
// Exit codes: 0 success; 1 the command ran but some rows failed; 2 usage,
// configuration, I/O or a refused bundle.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "runtime/bundle/loaded_bundle.h"
#include "runtime/cli/errors_command.h"
#include "runtime/cli/pause_command.h"
#include "runtime/cli/sync_commands.h"
#include "runtime/cli/transform_command.h"
#include "runtime/cli/trust.h"
#include "runtime/jit/engine.h"

namespace duet::cli {
namespace {

constexpr int kExitClean = 0;
constexpr int kExitRowErrors = 1;
constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  std::cerr << "duet: " << status.message() << "\n";
  return kExitUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"duet: keeps two systems of record in sync with a compiled bundle of maps"};
  app.set_version_flag("--version", "duet 0.1.0");
  app.require_subcommand(1);

  std::string bundle_path;
  std::string map_name;
  std::string from;
  std::string trust;
  std::string cache_dir;
  CLI::App* transform =
      app.add_subcommand("transform", "run a map's transform on JSON Lines rows (stdin -> stdout)");
  transform->add_option("--bundle", bundle_path, "the bundle file")->required();
  transform->add_option("--map", map_name, "the map")->required();
  transform->add_option("--from", from, "the system the rows come from (e.g. fo or ce)")
      ->required();
  transform->add_option("--trust", trust, "load only bundles signed by this public key file");
  transform->add_option("--cache-dir", cache_dir, "keep compiled code here between runs");

  std::string config_path;
  bool once = false;
  bool as_json = false;
  CLI::App* install = app.add_subcommand("install", "add change capture to both databases");
  install->add_option("-c,--config", config_path, "the configuration file")->required();
  bool new_state = false;
  install->add_flag("--new-state", new_state,
                    "bind databases that were installed with another state store to this one "
                    "(every map syncs initially again)");
  CLI::App* uninstall = app.add_subcommand("uninstall", "remove exactly what install added");
  uninstall->add_option("-c,--config", config_path, "the configuration file")->required();
  CLI::App* run = app.add_subcommand(
      "run", "sync: initial sync where needed, then live until SIGINT or SIGTERM");
  run->add_option("-c,--config", config_path, "the configuration file")->required();
  run->add_flag("--once", once, "sync everything pending, then exit");
  MetricsOptions metrics;
  run->add_option("--metrics-port", metrics.port,
                  "serve /metrics (Prometheus) and /healthz on this port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  run->add_option("--metrics-address", metrics.address,
                  "the address to serve metrics on (default 127.0.0.1)");
  CLI::App* reload = app.add_subcommand(
      "reload", "make the running duet run load its bundle again (as SIGHUP does)");
  reload->add_option("-c,--config", config_path, "the configuration file")->required();
  reload->add_flag("--json", as_json, "print JSON");
  CLI::App* status = app.add_subcommand("status", "per map: state, links, backlog, errors");
  status->add_option("-c,--config", config_path, "the configuration file")->required();
  status->add_flag("--json", as_json, "print JSON");

  ErrorsOptions errors_options;
  CLI::App* errors =
      app.add_subcommand("errors", "the error queue: list, show, retry, resolve, discard");
  errors->require_subcommand(1);
  // -c and --json may come before or after the action ("errors -c F list").
  errors->add_option("-c,--config", errors_options.config_path, "the configuration file")
      ->required();
  errors->add_flag("--json", errors_options.as_json, "print JSON");
  auto errors_common = [](CLI::App* sub) { sub->fallthrough(); };
  CLI::App* errors_list =
      errors->add_subcommand("list", "open items (with --all, closed ones too)");
  errors_common(errors_list);
  errors_list->add_option("--map", errors_options.map, "only this map");
  errors_list->add_option("--kind", errors_options.kind,
                          "only this kind (rejected, conflict, ...)");
  errors_list->add_option("--older-than", errors_options.older_than,
                          "only items first recorded longer ago than this (90s, 15m, 2h, 7d)");
  errors_list->add_flag("--all", errors_options.all, "resolved and discarded items too");
  CLI::App* errors_show =
      errors->add_subcommand("show", "items in full: both rows, reason, detail");
  errors_common(errors_show);
  errors_show->add_option("ids", errors_options.ids, "item ids")->required();
  CLI::App* errors_retry =
      errors->add_subcommand("retry", "reconcile the items' pairs again from current data");
  errors_common(errors_retry);
  errors_retry->add_option("ids", errors_options.ids, "item ids");
  errors_retry->add_flag("--all", errors_options.all, "every open item");
  errors_retry->add_option("--map", errors_options.map, "with --all: only this map's");
  errors_retry->add_option("--kind", errors_options.kind, "with --all: only this kind");
  CLI::App* errors_resolve = errors->add_subcommand(
      "resolve", "settle conflict items: the chosen system's values win on both sides");
  errors_common(errors_resolve);
  errors_resolve->add_option("ids", errors_options.ids, "item ids")->required();
  errors_resolve->add_option("--take", errors_options.take, "the system whose values win")
      ->required();
  CLI::App* errors_discard =
      errors->add_subcommand("discard", "close items without touching the data");
  errors_common(errors_discard);
  errors_discard->add_option("ids", errors_options.ids, "item ids")->required();
  errors_discard->add_option("--by", errors_options.by, "who discards them (default: $USER)");

  PauseOptions pause_options;
  CLI::App* pause = app.add_subcommand(
      "pause", "stop syncing a map; its changes wait in the changelogs until resume");
  CLI::App* resume = app.add_subcommand("resume", "sync a paused map again");
  for (CLI::App* sub : {pause, resume}) {
    sub->add_option("map", pause_options.map, "the map")->required();
    sub->add_option("-c,--config", pause_options.config_path, "the configuration file")->required();
    sub->add_flag("--json", pause_options.as_json, "print JSON");
  }
  pause->add_option("--by", pause_options.by, "who pauses it (default: $USER)");
  pause->add_option("--reason", pause_options.reason, "why, for status and the log");
  resume->add_option("--from", pause_options.from,
                     "after a schema change: skip the changes captured meanwhile and resync "
                     "from this system");
  resume->add_flag("--as-is", pause_options.as_is,
                   "after a schema change: reconcile the changes captured meanwhile as they are");

  ResyncOptions resync_options;
  CLI::App* resync = app.add_subcommand(
      "resync", "reconcile every pair of a map again, one side winning every difference");
  resync->add_option("map", resync_options.map, "the map")->required();
  resync->add_option("-c,--config", resync_options.config_path, "the configuration file")
      ->required();
  resync->add_option("--from", resync_options.from,
                     "the system whose values win (default: the map's master)");
  resync->add_option("--by", resync_options.by, "who starts it (default: $USER)");
  resync->add_flag("--restart", resync_options.restart, "start a resync under way again");
  CLI::Option* where = resync->add_option(
      "--where", resync_options.where,
      "only the --from side's rows for which this SQL condition holds (\"t.\" names the table)");
  resync
      ->add_option("--keys", resync_options.keys_file,
                   "only these rows: a file of alternate keys, one a line (tabs between a "
                   "composite key's values)")
      ->excludes(where);
  resync->add_flag("--json", resync_options.as_json, "print JSON");

  std::string drift_map;
  CLI::App* drift = app.add_subcommand(
      "drift", "compare a map's two sides without writing: disagreeing pairs, lone rows");
  drift->add_option("map", drift_map, "the map")->required();
  drift->add_option("-c,--config", config_path, "the configuration file")->required();
  drift->add_flag("--json", as_json, "print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitClean : kExitUsage;
  }

  if (install->parsed()) return InstallCommand(config_path, new_state);
  if (uninstall->parsed()) return UninstallCommand(config_path);
  if (run->parsed()) return RunCommand(config_path, once, metrics);
  if (status->parsed()) return StatusCommand(config_path, as_json);
  if (reload->parsed()) return ReloadCommand(config_path, as_json);
  if (resync->parsed()) return ResyncCommand(resync_options);
  if (drift->parsed()) return DriftCommand(config_path, drift_map, as_json);
  if (pause->parsed()) return PauseCommand(pause_options);
  if (resume->parsed()) return ResumeCommand(pause_options);
  if (errors_list->parsed()) return ErrorsListCommand(errors_options);
  if (errors_show->parsed()) return ErrorsShowCommand(errors_options);
  if (errors_retry->parsed()) return ErrorsRetryCommand(errors_options);
  if (errors_resolve->parsed()) return ErrorsResolveCommand(errors_options);
  if (errors_discard->parsed()) return ErrorsDiscardCommand(errors_options);

  Expected<bundle::ReadOptions> options = TrustOptions(trust);
  if (!options.ok()) return Fail(options.status());
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({cache_dir});
  if (!engine.ok()) return Fail(engine.status());
  Expected<std::unique_ptr<bundle::LoadedBundle>> loaded =
      bundle::LoadedBundle::Load(**engine, bundle_path, *options);
  if (!loaded.ok()) return Fail(loaded.status());
  Expected<bundle::LoadedTransform> t = (*loaded)->Find(map_name, from);
  if (!t.ok()) return Fail(t.status());
  std::ios::sync_with_stdio(false);
  TransformCounts counts = RunTransform(*t, std::cin, std::cout);
  std::cout.flush();
  std::cerr << fmt::format("duet: {} rows: {} written, {} filtered, {} errors\n", counts.rows,
                           counts.written, counts.filtered, counts.errors);
  return counts.errors > 0 ? kExitRowErrors : kExitClean;
}

}  // namespace duet::cli

int main(int argc, char** argv) { return duet::cli::Main(argc, argv); }
