// The factory of capture implementations (pg_capture.h). Logical decoding
// is in logical_capture.cc.
#include "runtime/endpoint/postgres/pg_capture.h"

#include "runtime/endpoint/postgres/logical_capture.h"

namespace duet::pg {

Expected<std::unique_ptr<PgCapture>> OpenLogicalCapture(const std::string& conninfo,
                                                        const std::string& system,
                                                        std::vector<CapturedTable> tables) {
  return MakeLogicalCapture(conninfo, system, std::move(tables));
}

}  // namespace duet::pg
