#include "runtime/endpoint/open_endpoint.h"

#include "runtime/base/redact.h"
#include "runtime/endpoint/postgres/postgres_endpoint.h"
#include "runtime/endpoint/sqlite/sqlite_endpoint.h"

namespace duet::endpoint {

Expected<std::unique_ptr<Endpoint>> OpenEndpoint(const std::string& url, const std::string& system,
                                                 const bundle::Manifest& manifest) {
  if (url.rfind("sqlite:", 0) == 0) return OpenSqliteEndpoint(url.substr(7), system, manifest);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgresEndpoint(url, system, manifest);
  }
  return InvalidArgumentError("system '" + system + "': unsupported connection string '" +
                              RedactConnectionString(url) +
                              "' (expected sqlite:PATH or postgresql://...)");
}

}  // namespace duet::endpoint
