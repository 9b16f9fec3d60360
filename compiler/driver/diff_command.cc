#include "compiler/driver/diff_command.h"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"
#include "runtime/bundle/manifest_diff.h"

namespace duet::driver {
namespace {

Expected<bundle::Manifest> ReadManifestOf(const std::string& path) {
  Expected<bundle::Verified> verified = bundle::ReadFile(path, bundle::ReadOptions{});
  if (!verified.ok()) return verified.status();
  Expected<bundle::Manifest> manifest = bundle::ParseManifest(verified->contents.manifest);
  if (!manifest.ok())
    return Status(manifest.status().code(), path + ": " + manifest.status().message());
  return manifest;
}

}  // namespace

int DiffBundles(const std::string& old_path, const std::string& new_path, bool json) {
  Expected<bundle::Manifest> old_manifest = ReadManifestOf(old_path);
  Expected<bundle::Manifest> new_manifest =
      old_manifest.ok() ? ReadManifestOf(new_path) : old_manifest;
  if (!new_manifest.ok()) {
    std::cerr << "duetc: " << new_manifest.status().message() << "\n";
    return 2;
  }
  bundle::ManifestDiff diff = bundle::DiffManifests(*old_manifest, *new_manifest);
  if (json) {
    nlohmann::json changes = nlohmann::json::array();
    for (const bundle::Change& c : diff.changes) {
      changes.push_back({{"map", c.map.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.map)},
                         {"what", c.what},
                         {"detail", c.detail},
                         {"class", bundle::UpgradeClassName(c.cls)}});
    }
    std::cout << nlohmann::json{{"class", bundle::UpgradeClassName(diff.cls)},
                                {"resync", diff.resync},
                                {"breaking", diff.broken},
                                {"changes", changes}}
                     .dump(2)
              << "\n";
  } else {
    std::string map;
    for (const bundle::Change& c : diff.changes) {
      std::string heading = c.map.empty() ? "(tables and systems)" : "map " + c.map;
      if (heading != map) {
        std::cout << heading << ":\n";
        map = heading;
      }
      std::cout << fmt::format("  {:<26} {}  [{}]\n", c.what, c.detail,
                               bundle::UpgradeClassName(c.cls));
    }
    if (diff.changes.empty()) std::cout << "no changes\n";
    std::string verdict = bundle::UpgradeClassName(diff.cls);
    auto join = [](const std::vector<std::string>& names) {
      std::string out;
      for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
      return out;
    };
    if (diff.cls == bundle::UpgradeClass::kResync) {
      verdict = "needs a resync of " + join(diff.resync);
    } else if (diff.cls == bundle::UpgradeClass::kBreaking) {
      verdict = "breaking" + (diff.broken.empty() ? "" : " (" + join(diff.broken) + ")");
      if (!diff.resync.empty()) verdict += "; needs a resync of " + join(diff.resync);
    }
    std::cout << "upgrade: " << verdict << "\n";
  }
  switch (diff.cls) {
    case bundle::UpgradeClass::kCompatible:
      return 0;
    case bundle::UpgradeClass::kResync:
      return kExitNeedsResync;
    case bundle::UpgradeClass::kBreaking:
      return kExitBreaking;
  }
  return kExitBreaking;
}

}  // namespace duet::driver
