// Which capture a PostgreSQL endpoint uses, chosen by an option of its
// connection string that duet reads and removes before libpq sees it:
// duet_capture=logical (the default) or duet_capture=triggers, as a URI
// query parameter (postgresql://h/db?sslmode=require&duet_capture=triggers)
// or a keyword=value pair (host=h dbname=db duet_capture=triggers).
#ifndef DUET_RUNTIME_ENDPOINT_POSTGRES_CAPTURE_OPTION_H_
#define DUET_RUNTIME_ENDPOINT_POSTGRES_CAPTURE_OPTION_H_

#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace duet::pg {

enum class CaptureKind { kLogical, kTriggers };

struct CaptureChoice {
  CaptureKind kind = CaptureKind::kLogical;
  std::string conninfo;  // the connection string without the option
};

// The capture `conninfo` asks for and the string to give libpq.
// InvalidArgument for another value of the option or the option twice;
// the message names the value, never the connection string.
Expected<CaptureChoice> SplitCaptureOption(std::string_view conninfo);

}  // namespace duet::pg

#endif  // DUET_RUNTIME_ENDPOINT_POSTGRES_CAPTURE_OPTION_H_
