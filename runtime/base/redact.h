// Connection strings in messages: every place that prints a connection
// string or URL prints it through RedactConnectionString, so a password
// taken from the environment (`${FO_URL}`) never reaches a log or a
// terminal.
#ifndef DUET_RUNTIME_BASE_REDACT_H_
#define DUET_RUNTIME_BASE_REDACT_H_

#include <string>
#include <string_view>

namespace duet {

// `text` with its secrets replaced by "***": the password of a URL's user
// information (`scheme://user:SECRET@host`) and the value of every
// password=, passwd=, pwd= or sslpassword= parameter (any case) of a query string
// (`?a=1&password=SECRET`) or of key=value text (`host=h password=SECRET`,
// `Pwd=SECRET;`, quoted values included). Text without secrets is returned
// unchanged.
std::string RedactConnectionString(std::string_view text);

}  // namespace duet

#endif  // DUET_RUNTIME_BASE_REDACT_H_
