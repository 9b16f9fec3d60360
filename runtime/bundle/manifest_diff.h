// What changes between two bundles' manifests, for a deployment that moves
// from the old bundle to the new one (`duetc diff`, and later `duet
// reload`). docs/bundle-format.md, "Upgrading a bundle", defines the
// classes.
#ifndef DUET_RUNTIME_BUNDLE_MANIFEST_DIFF_H_
#define DUET_RUNTIME_BUNDLE_MANIFEST_DIFF_H_

#include <string>
#include <vector>

#include "runtime/bundle/manifest.h"

namespace duet::bundle {

// Ordered: a diff's class is the worst of its changes'.
enum class UpgradeClass {
  kCompatible = 0,  // the new bundle runs on the old state as it is
  kResync = 1,      // the maps named must be resynced for existing pairs to be right
  kBreaking = 2,    // the old state does not fit: a map's tables or keys changed, ...
};
const char* UpgradeClassName(UpgradeClass c);

struct Change {
  std::string map;     // "" for a change of a table or the systems
  std::string what;    // "field added", "value map changed", ...
  std::string detail;  // "NAME <-> name", "fo -> ce", ...
  UpgradeClass cls = UpgradeClass::kCompatible;
};

struct ManifestDiff {
  std::vector<Change> changes;
  UpgradeClass cls = UpgradeClass::kCompatible;
  std::vector<std::string> resync;  // maps that need a resync (class kResync)
  std::vector<std::string> broken;  // maps whose change is breaking
};

ManifestDiff DiffManifests(const Manifest& old_manifest, const Manifest& new_manifest);

}  // namespace duet::bundle

#endif  // DUET_RUNTIME_BUNDLE_MANIFEST_DIFF_H_
