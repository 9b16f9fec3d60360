// The bundle manifest: what the runtime needs to know about the maps without
// reading compiler data structures — systems, tables with keys, maps with
// their rules and fields, and per transform the layout of its input and
// output rows. Written by duetc (compiler -> runtime dependency), read by the
// runtime. JSON on disk; WriteManifest is deterministic.
#ifndef DUET_RUNTIME_BUNDLE_MANIFEST_H_
#define DUET_RUNTIME_BUNDLE_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "runtime/base/status.h"

namespace duet::bundle {

enum class ValueKind { kBool, kInt, kFloat, kDecimal, kString, kDate, kDateTime, kGuid, kRef };

struct ColumnType {
  ValueKind kind = ValueKind::kString;
  int precision = 0;
  int scale = 0;
  int64_t length = 0;  // kString; 0 unbounded
  std::string ref;     // kRef: "ce.account"

  // "string(100)", "decimal(19, 4)", "ref ce.account"; the map language's spelling.
  std::string ToString() const;
  static Expected<ColumnType> Parse(std::string_view text);
  friend bool operator==(const ColumnType&, const ColumnType&) = default;
};

// A constant of a map file as the runtime reads it, already checked by
// duetc against the type it is written to: null, or the value as the text
// endpoint::ValueFromText reads for that type (digits for numbers, ISO forms
// for dates and times, a string's characters without quotes or escapes).
// The runtime never parses map-language text.
struct Constant {
  bool is_null = true;
  std::string text;
  friend bool operator==(const Constant&, const Constant&) = default;
};

struct Column {
  std::string name;
  ColumnType type;
  bool not_null = false;
  bool local = false;
  // The `default` constant: the value a new row gets when no mapping writes
  // the column; nullopt when the column declares none.
  std::optional<Constant> default_value;
};

struct Table {
  std::string name;  // "fo.CustCustomerV3Entity"
  std::string system;
  std::vector<Column> columns;
  std::vector<std::string> key;
  std::string id;  // empty: none
  // The type of the `id` column (system-assigned: never written when a row
  // is inserted, read back afterwards); "" when there is no id column.
  std::string id_type;
};

struct ValueMapEntry {
  std::string left;  // constants as written in map files
  std::string right;
};

struct Field {
  std::string left;       // expression text over the left table
  std::string direction;  // "<->", "->", "<-"
  std::string right;
  std::string master;  // "" (the map's rule), a system, "newest" or "manual"
  bool truncate = false;
  std::vector<ValueMapEntry> values;
  std::string left_default;  // `* = value` entry, "" if none
  std::string right_default;
  bool deferred = false;  // declared `deferred` in the map file
  // Set when that end of the mapping is a constant (`PARTYTYPE <-
  // "Person"`): its value.
  std::optional<Constant> left_constant;
  std::optional<Constant> right_constant;
};

struct Slot {
  std::vector<std::string> path;
  ColumnType type;
  bool not_null = false;
  bool key = false;
  bool truncate = false;
  // Outputs only (inputs: false and -1). `deferred`: the slot is a lookup
  // written by a mapping declared `deferred`, to be filled after initial
  // sync. `field`: the index in the map's `fields` of the mapping that
  // writes the slot, or -1.
  bool deferred = false;
  int field = -1;
  std::string Name() const;
};

struct Transform {
  std::string symbol;
  std::string from;  // system
  std::string to;
  std::string source_table;
  std::string target_table;
  std::vector<Slot> inputs;
  std::vector<Slot> outputs;
};

struct Map {
  std::string name;
  std::string label;
  std::string version;
  std::string left_table;
  std::string right_table;
  std::string direction;
  std::string master;       // "" if none
  std::string initial;      // a system or "none"
  std::string left_filter;  // expression text, "" if none
  std::string right_filter;
  std::vector<std::string> depends_on;
  std::vector<Field> fields;
  std::vector<Transform> transforms;
};

struct Source {
  std::string path;
  std::string sha256;
};

// The manifest format this duet writes and reads. 2 added the column
// defaults, `id_type`, the fields' `deferred` and the output slots'
// `deferred` and `field`; 3 made defaults typed constants and added the
// fields' `left_constant` and `right_constant`.
inline constexpr int kManifestFormat = 3;

struct Manifest {
  int format = kManifestFormat;
  int abi_version = DUET_ABI_VERSION;  // what this duetc generates code for
  std::string compiler;
  std::string target_triple;
  std::vector<Source> sources;
  std::vector<std::string> systems;
  std::vector<Table> tables;
  std::vector<Map> maps;
  std::vector<std::string> initial_sync_order;

  const Map* FindMap(std::string_view name) const;
  const Table* FindTable(std::string_view name) const;
};

// The row layouts a transform's code was generated for, as text: the number
// and types of its input slots, and of its output slots with the checks the
// code applies when it stores them. duetc puts this text into the code as the
// constant string named LayoutSymbol(symbol); LoadedBundle refuses a bundle
// whose manifest gives a transform a layout other than the one its code
// carries, since the code would read and write rows of another shape.
std::string LayoutText(const Transform& transform);
std::string LayoutSymbol(std::string_view transform_symbol);

std::string WriteManifest(const Manifest& manifest);
// Refuses a manifest of another `format` (before reading anything else) and
// one that is not JSON of the expected shape.
Expected<Manifest> ParseManifest(std::string_view json);

}  // namespace duet::bundle

#endif  // DUET_RUNTIME_BUNDLE_MANIFEST_H_
