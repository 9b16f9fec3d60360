// The manifest: what the sync runtime reads about the maps. Checked on the
// standard maps, which have a `deferred` lookup (vendors), column defaults
// and tables with and without an `id`: every output slot names the mapping
// that writes it, the deferred lookup is marked, defaults and id types are
// recorded, the text round-trips, and a manifest of another format is
// refused by name.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"
#include "tests/bundle/test_env.h"

namespace duet::bundle_test {
namespace {

const bundle::Manifest& Stdlib() {
  static const bundle::Manifest* manifest = [] {
    auto* m = new bundle::Manifest;
    bundle::Contents contents = BuildContents({"stdlib-maps"}, /*include_object=*/false);
    Expected<bundle::Manifest> parsed = bundle::ParseManifest(contents.manifest);
    EXPECT_TRUE(parsed.ok()) << parsed.status().message();
    if (parsed.ok()) *m = std::move(*parsed);
    return m;
  }();
  return *manifest;
}

const bundle::Column* FindColumn(const bundle::Table& table, std::string_view name) {
  for (const bundle::Column& c : table.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(Manifest, EveryOutputSlotNamesTheMappingThatWritesIt) {
  const bundle::Manifest& m = Stdlib();
  ASSERT_FALSE(m.maps.empty());
  for (const bundle::Map& map : m.maps) {
    for (const bundle::Transform& t : map.transforms) {
      bool from_left = t.source_table == map.left_table;
      for (const bundle::Slot& in : t.inputs) {
        EXPECT_EQ(in.field, -1) << map.name << " " << in.Name();
        EXPECT_FALSE(in.deferred) << map.name << " " << in.Name();
      }
      for (const bundle::Slot& out : t.outputs) {
        ASSERT_GE(out.field, 0) << map.name << " " << t.symbol << " " << out.Name();
        ASSERT_LT(static_cast<size_t>(out.field), map.fields.size());
        const bundle::Field& f = map.fields[static_cast<size_t>(out.field)];
        // The written end of the mapping is the slot's column or path.
        EXPECT_EQ(from_left ? f.right : f.left, out.Name()) << map.name << " " << t.symbol;
        EXPECT_EQ(out.deferred, f.deferred && out.path.size() > 1) << map.name << " " << out.Name();
      }
    }
  }
}

TEST(Manifest, TheDeferredLookupOfVendorsIsMarked) {
  const bundle::Map* vendors = Stdlib().FindMap("vendors");
  ASSERT_NE(vendors, nullptr);
  int deferred_fields = 0;
  for (const bundle::Field& f : vendors->fields) deferred_fields += f.deferred ? 1 : 0;
  EXPECT_EQ(deferred_fields, 1);
  for (const bundle::Transform& t : vendors->transforms) {
    int deferred_slots = 0;
    for (const bundle::Slot& s : t.outputs) {
      if (!s.deferred) continue;
      ++deferred_slots;
      if (t.to == "ce") {
        EXPECT_EQ(s.Name(), "msdyn_vendorprimarycontactperson.msdyn_contactpersonid");
      }
    }
    // Toward ce the mapping writes the lookup; toward fo it writes a plain
    // column, which `deferred` does not concern.
    EXPECT_EQ(deferred_slots, t.to == "ce" ? 1 : 0) << t.symbol;
  }
}

TEST(Manifest, ColumnDefaultsAndIdTypesAreRecorded) {
  const bundle::Manifest& m = Stdlib();
  int with_default = 0;
  bool saw_contact_default = false;
  for (const bundle::Table& t : m.tables) {
    for (const bundle::Column& c : t.columns) {
      if (c.default_value) ++with_default;
      if (c.name == "msdyn_contactforvendor") {
        bundle::Constant want{false, "false"};
        EXPECT_EQ(c.default_value, want) << t.name;
        saw_contact_default = true;
      }
    }
    if (t.id.empty()) {
      EXPECT_EQ(t.id_type, "") << t.name;
    } else {
      const bundle::Column* id = FindColumn(t, t.id);
      ASSERT_NE(id, nullptr) << t.name;
      EXPECT_EQ(t.id_type, id->type.ToString()) << t.name;
    }
  }
  EXPECT_TRUE(saw_contact_default);
  EXPECT_GT(with_default, 0);
  const bundle::Table* account = m.FindTable("ce.account");
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->id_type, "guid");
}

// The runtime reads constants as values, never as map-language text: a
// mapping's constant end carries its value without quotes, and an end that
// joins two literals is no constant.
TEST(Manifest, ConstantEndsOfMappingsAreTypedValues) {
  int constants = 0;
  for (const bundle::Map& map : Stdlib().maps) {
    for (const bundle::Field& f : map.fields) {
      if (f.left == "PARTYTYPE" && f.right_constant) {
        EXPECT_FALSE(f.right_constant->is_null);
        EXPECT_TRUE(f.right_constant->text == "Person" || f.right_constant->text == "Organization")
            << f.right_constant->text;
        ++constants;
      }
      for (const auto* c : {&f.left_constant, &f.right_constant}) {
        if (*c && !(*c)->is_null) {
          EXPECT_FALSE((*c)->text.starts_with('"')) << map.name;
        }
      }
      EXPECT_FALSE(f.left_constant && f.right_constant) << map.name;
    }
  }
  EXPECT_GE(constants, 2);
}

TEST(Manifest, TheTextRoundTrips) {
  std::string text = bundle::WriteManifest(Stdlib());
  Expected<bundle::Manifest> again = bundle::ParseManifest(text);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(bundle::WriteManifest(*again), text);
  EXPECT_EQ(again->format, bundle::kManifestFormat);
}

TEST(Manifest, AnotherFormatIsRefusedByName) {
  for (int format : {0, 1, 2, 4}) {
    bundle::Manifest m = Stdlib();
    m.format = format;
    Expected<bundle::Manifest> parsed = bundle::ParseManifest(bundle::WriteManifest(m));
    ASSERT_FALSE(parsed.ok()) << "format " << format;
    EXPECT_EQ(parsed.status().message(),
              "the bundle manifest has format " + std::to_string(format) +
                  "; this duet reads format 3 (compile the maps again with the matching duetc)");
  }
}

}  // namespace
}  // namespace duet::bundle_test
