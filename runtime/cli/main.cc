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
  CLI::App* uninstall = app.add_subcommand("uninstall", "remove exactly what install added");
  uninstall->add_option("-c,--config", config_path, "the configuration file")->required();
  CLI::App* run = app.add_subcommand(
      "run", "sync: initial sync where needed, then live until SIGINT or SIGTERM");
  run->add_option("-c,--config", config_path, "the configuration file")->required();
  run->add_flag("--once", once, "sync everything pending, then exit");
  CLI::App* status = app.add_subcommand("status", "per map: state, links, backlog, errors");
  status->add_option("-c,--config", config_path, "the configuration file")->required();
  status->add_flag("--json", as_json, "print JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitClean : kExitUsage;
  }

  if (install->parsed()) return InstallCommand(config_path);
  if (uninstall->parsed()) return UninstallCommand(config_path);
  if (run->parsed()) return RunCommand(config_path, once);
  if (status->parsed()) return StatusCommand(config_path, as_json);

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
