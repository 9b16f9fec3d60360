// Capture by logical decoding (pg_capture.h's OpenLogicalCapture): what it
// installs, how it names it, and its positions. The class itself is in
// logical_capture.cc.
//
// Positions: 12 bytes, the commit LSN of the change's transaction (8 bytes
// big-endian) and the change's index in it (4 bytes big-endian,
// change_decoder.h), so bytewise order is stream order: transactions reach
// the stream in the order of their commit records, and a transaction's
// changes in the order they were made. The beginning is empty. Anything
// else (another length, an LSN of 0) is not a position.
//
// Names: everything capture creates is named from one prefix,
// duet_<system>_<hash>, where <hash> is 12 hex digits of a hash of the
// database's name, the connection's current schema and the system: the
// replication slot and the publication are <prefix>; the table of what
// install created (and the bound state id) is <prefix>_installed in the
// current schema; the replication origin of duet's writes for a map is
// <prefix>_<map>. So two deployments share a database (or a cluster, where
// slots and origins live) without touching each other's objects as long as
// they differ in database, schema (search_path) or system name.
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_LOGICAL_CAPTURE_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_LOGICAL_CAPTURE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/status.h"
#include "runtime/endpoint/position.h"
#include "runtime/endpoint/postgres/pg_capture.h"

namespace duet::pg {

struct StreamPoint {
  uint64_t commit_lsn = 0;
  uint32_t index = 0;
};

endpoint::Position EncodePosition(StreamPoint point);
// nullopt for the beginning; InvalidArgument for bytes EncodePosition did
// not make (and for AfterAll).
Expected<std::optional<StreamPoint>> DecodePosition(const endpoint::Position& position);

struct CaptureNames {
  std::string prefix;  // the slot's and the publication's name
  std::string table;   // the table of what install created, in `schema`
  std::string schema;
};
CaptureNames NamesFor(std::string_view database, std::string_view schema, std::string_view system);

// The capture OpenLogicalCapture returns (it checks the arguments first).
// Connects only when first used.
std::unique_ptr<PgCapture> MakeLogicalCapture(std::string conninfo, std::string system,
                                              std::vector<CapturedTable> tables);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_LOGICAL_CAPTURE_H_
