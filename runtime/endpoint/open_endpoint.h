// Opening an endpoint by connection string: the one place that knows which
// implementation each scheme names. Linked by the command line, not by the
// engine, which sees only the Endpoint interface.
#ifndef DUET_RUNTIME_ENDPOINT_OPEN_ENDPOINT_H_
#define DUET_RUNTIME_ENDPOINT_OPEN_ENDPOINT_H_

#include <memory>
#include <string>

#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"
#include "runtime/endpoint/endpoint.h"

namespace duet::endpoint {

// Opens "sqlite:PATH", or a PostgreSQL URI ("postgresql://..." or
// "postgres://...", libpq's form), for `system`, whose tables the manifest
// describes. The manifest must outlive the endpoint. Another scheme is
// InvalidArgument, with the connection string redacted.
Expected<std::unique_ptr<Endpoint>> OpenEndpoint(const std::string& url, const std::string& system,
                                                 const bundle::Manifest& manifest);

}  // namespace duet::endpoint

#endif  // DUET_RUNTIME_ENDPOINT_OPEN_ENDPOINT_H_
