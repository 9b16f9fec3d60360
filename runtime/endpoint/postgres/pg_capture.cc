// The factories of capture implementations (pg_capture.h). Logical
// decoding is in logical_capture.cc, triggers in trigger_capture.cc.
#include "runtime/endpoint/postgres/pg_capture.h"

#include "runtime/endpoint/postgres/capture_option.h"
#include "runtime/endpoint/postgres/logical_capture.h"
#include "runtime/endpoint/postgres/trigger_capture.h"

namespace duet::pg {

Expected<std::unique_ptr<PgCapture>> OpenLogicalCapture(const std::string& conninfo,
                                                        const std::string& system,
                                                        std::vector<CapturedTable> tables) {
  return MakeLogicalCapture(conninfo, system, std::move(tables));
}

Expected<std::unique_ptr<PgCapture>> OpenTriggerCapture(const std::string& conninfo,
                                                        const std::string& system,
                                                        std::vector<CapturedTable> tables) {
  return MakeTriggerCapture(conninfo, system, std::move(tables));
}

Expected<std::unique_ptr<PgCapture>> OpenCapture(const std::string& conninfo,
                                                 const std::string& system,
                                                 std::vector<CapturedTable> tables) {
  Expected<CaptureChoice> choice = SplitCaptureOption(conninfo);
  if (!choice.ok())
    return Status(choice.status().code(), "system '" + system + "': " + choice.status().message());
  if (choice->kind == CaptureKind::kTriggers) {
    return OpenTriggerCapture(choice->conninfo, system, std::move(tables));
  }
  return OpenLogicalCapture(choice->conninfo, system, std::move(tables));
}

}  // namespace duet::pg
