#include "runtime/engine/config.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "runtime/base/redact.h"

namespace duet::engine {
namespace {

using json = nlohmann::json;

Status ConfigError(const std::string& path, const std::string& message) {
  return InvalidArgumentError(path + ": " + message);
}

// Replaces ${NAME} with the environment variable NAME.
Expected<std::string> Expand(const std::string& text, const std::string& path,
                             const std::string& key) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find("${", i);
    if (start == std::string::npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, start - i);
    size_t end = text.find('}', start + 2);
    if (end == std::string::npos) {
      return ConfigError(
          path, "'" + key + "': unterminated '${' in \"" + RedactConnectionString(text) + "\"");
    }
    std::string name = text.substr(start + 2, end - start - 2);
    if (name.empty()) return ConfigError(path, "'" + key + "': empty '${}'");
    const char* value = std::getenv(name.c_str());
    if (!value) {
      return ConfigError(path, "'" + key + "': environment variable '" + name + "' is not set");
    }
    out += value;
    i = end + 1;
  }
  return out;
}

// Tracks where a JSON parse is (the path of keys and array indices) to name
// a key given twice, or the key whose value the parser could not take (a
// number out of range), in the configuration error.
class KeyTracker {
 public:
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        BeginElement();
        frames_.push_back(Frame{});
        break;
      case json::parse_event_t::array_start:
        BeginElement();
        frames_.push_back(Frame{});
        frames_.back().array = true;
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate_.empty()) duplicate_ = Path();
        break;
      }
      case json::parse_event_t::value:
        BeginElement();
        break;
    }
    return true;
  }

  // The first key given twice in one object ("systems.fo"), or "".
  const std::string& duplicate() const { return duplicate_; }
  // Where the parser is: "batch_size", "alerts[0].when". An array that is
  // the innermost frame is at the element it has not begun yet (a value
  // the parser could not take); an outer one at its last element begun.
  std::string Path() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.array) {
        bool innermost = &f == &frames_.back();
        out +=
            "[" + std::to_string(innermost || f.elements == 0 ? f.elements : f.elements - 1) + "]";
      } else if (!f.key.empty()) {
        out += (out.empty() ? "" : ".") + f.key;
      }
    }
    return out;
  }

 private:
  struct Frame {
    bool array = false;
    size_t elements = 0;  // array elements begun
    std::string key;      // object: the last key read
    std::set<std::string> keys;
  };
  void BeginElement() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().elements;
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

// The configuration file's text as JSON; an error names the key where the
// text stops being a configuration nlohmann can hold.
Expected<json> ParseConfigJson(const std::string& text, const std::string& path) {
  KeyTracker tracker;
  json j;
  try {
    j = json::parse(text, std::ref(tracker));
  } catch (const json::parse_error& e) {
    return ConfigError(path, std::string("not valid JSON: ") + e.what());
  } catch (const json::exception& e) {
    // A number too large for a double (1e400) and the like.
    std::string where = tracker.Path();
    return ConfigError(
        path, (where.empty() ? "" : "'" + where + "': ") + "value out of range (" + e.what() + ")");
  }
  if (!tracker.duplicate().empty()) {
    return ConfigError(path, "'" + tracker.duplicate() + "' is given twice");
  }
  return j;
}

std::string Resolve(const std::filesystem::path& dir, const std::string& p) {
  if (p.empty()) return p;
  std::filesystem::path q(p);
  return q.is_absolute() ? p : (dir / q).lexically_normal().string();
}

std::string ResolveUrl(const std::filesystem::path& dir, const std::string& url) {
  if (url.rfind("sqlite:", 0) == 0) return "sqlite:" + Resolve(dir, url.substr(7));
  return url;
}

}  // namespace

Expected<std::string> SqlitePath(const std::string& url, const std::string& key) {
  if (url.rfind("sqlite:", 0) != 0 || url.size() == 7) {
    return InvalidArgumentError("'" + key + "': unsupported connection string '" +
                                RedactConnectionString(url) + "' (expected sqlite:PATH)");
  }
  return url.substr(7);
}

bool IsPostgresUrl(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

Expected<AlertRule> ParseAlertWhen(const std::string& when) {
  AlertRule rule;
  rule.text = when;
  std::istringstream in(when);
  std::string value, mode, duration;
  in >> rule.metric >> rule.op >> value >> mode >> duration;
  std::string rest;
  in >> rest;
  static const std::set<std::string> kMetrics = {"errors",        "open_errors", "backlog",
                                                 "p50_latency",   "p95_latency", "p99_latency",
                                                 "retained_bytes"};
  static const std::set<std::string> kOps = {">", ">=", "<", "<=", "=="};
  auto seconds = [](const std::string& text, double* out) {
    if (text.empty()) return false;
    double unit = 1;
    std::string digits = text;
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
      unit = 0.001;
      digits = text.substr(0, text.size() - 2);
    } else if (std::string("smhd").find(text.back()) != std::string::npos) {
      unit = text.back() == 's' ? 1 : text.back() == 'm' ? 60 : text.back() == 'h' ? 3600 : 86400;
      digits = text.substr(0, text.size() - 1);
    }
    char* end = nullptr;
    double n = std::strtod(digits.c_str(), &end);
    // strtod also reads "nan", "inf" and 1e999 (as infinity): none is a number of seconds.
    if (digits.empty() || end != digits.c_str() + digits.size() || !std::isfinite(n) || n < 0 ||
        !std::isfinite(n * unit)) {
      return false;
    }
    *out = n * unit;
    return true;
  };
  if (!kMetrics.count(rule.metric)) {
    return InvalidArgumentError("unknown metric '" + rule.metric +
                                "' (known: errors, open_errors, backlog, p50_latency, "
                                "p95_latency, p99_latency, retained_bytes)");
  }
  if (!kOps.count(rule.op)) {
    return InvalidArgumentError("expected one of > >= < <= == after " + rule.metric + ", got '" +
                                rule.op + "'");
  }
  bool latency = rule.metric.find("latency") != std::string::npos;
  if (latency && (value.empty() || std::isdigit(static_cast<unsigned char>(value.back())))) {
    return InvalidArgumentError("expected a latency with a unit (5s, 200ms) after '" + rule.op +
                                "', got '" + value + "'");
  }
  if (latency ? !seconds(value, &rule.threshold)
              : !seconds(value + (value.empty() ? "" : "s"), &rule.threshold)) {
    return InvalidArgumentError("expected a number" +
                                std::string(latency ? " with a unit (5s, 200ms)" : "") +
                                " after '" + rule.op + "', got '" + value + "'");
  }
  if (mode != "within" && mode != "for") {
    return InvalidArgumentError("expected 'within' or 'for' after the value, got '" + mode + "'");
  }
  rule.within = mode == "within";
  if (!seconds(duration, &rule.seconds) || rule.seconds <= 0) {
    return InvalidArgumentError("expected a duration (15m, 2h) after '" + mode + "', got '" +
                                duration + "'");
  }
  if (!rest.empty()) return InvalidArgumentError("unexpected '" + rest + "' at the end");
  return rule;
}

Expected<Config> LoadConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) return NotFoundError("cannot open configuration file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

Expected<Config> ParseConfig(const std::string& text, const std::string& path) {
  Expected<json> parsed = ParseConfigJson(text, path);
  if (!parsed.ok()) return parsed.status();
  const json& j = *parsed;
  if (!j.is_object()) return ConfigError(path, "expected a JSON object");

  Config config;
  config.path = path;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  static const std::set<std::string> kKeys = {"bundle",
                                              "systems",
                                              "state",
                                              "trust",
                                              "cache_dir",
                                              "batch_size",
                                              "initial_batch_size",
                                              "poll_interval_ms",
                                              "lookup_timeout_seconds",
                                              "lock_timeout_ms",
                                              "max_transaction_ms",
                                              "alerts"};
  for (const auto& [key, value] : j.items()) {
    if (!kKeys.count(key)) {
      return ConfigError(
          path, "unknown key '" + key +
                    "' (known: bundle, systems, state, trust, cache_dir, "
                    "batch_size, initial_batch_size, poll_interval_ms, "
                    "lookup_timeout_seconds, lock_timeout_ms, max_transaction_ms, alerts)");
    }
  }
  auto string_value = [&](const std::string& key, bool required, std::string* out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      return required ? ConfigError(path, "missing key '" + key + "'") : Status::Ok();
    }
    if (!it->is_string()) return ConfigError(path, "'" + key + "' must be a string");
    Expected<std::string> expanded = Expand(it->get<std::string>(), path, key);
    if (!expanded.ok()) return expanded.status();
    if (expanded->empty()) return ConfigError(path, "'" + key + "' must not be empty");
    *out = *expanded;
    return Status::Ok();
  };
  auto int_value = [&](const std::string& key, int64_t low, int64_t high, int64_t* out) -> Status {
    auto it = j.find(key);
    if (it == j.end()) return Status::Ok();
    if (!it->is_number_integer()) return ConfigError(path, "'" + key + "' must be an integer");
    // get<int64_t> would wrap an unsigned value above INT64_MAX to a negative one.
    bool too_large =
        it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
    int64_t v = too_large ? 0 : it->get<int64_t>();
    if (too_large || v < low || v > high) {
      return ConfigError(path, "'" + key + "' must be between " + std::to_string(low) + " and " +
                                   std::to_string(high) + ", got " + it->dump());
    }
    *out = v;
    return Status::Ok();
  };

  if (Status s = string_value("bundle", true, &config.bundle); !s.ok()) return s;
  if (Status s = string_value("state", true, &config.state); !s.ok()) return s;
  if (Status s = string_value("trust", false, &config.trust); !s.ok()) return s;
  if (Status s = string_value("cache_dir", false, &config.cache_dir); !s.ok()) return s;
  config.bundle = Resolve(dir, config.bundle);
  config.trust = Resolve(dir, config.trust);
  config.cache_dir = Resolve(dir, config.cache_dir);
  if (!IsPostgresUrl(config.state) && !SqlitePath(config.state, "state").ok()) {
    return ConfigError(path, "'state': unsupported state store '" +
                                 RedactConnectionString(config.state) +
                                 "' (expected sqlite:PATH or postgresql://...)");
  }
  config.state = ResolveUrl(dir, config.state);

  auto systems = j.find("systems");
  if (systems == j.end()) return ConfigError(path, "missing key 'systems'");
  if (!systems->is_object() || systems->empty()) {
    return ConfigError(path, "'systems' must be an object of system names to connection strings");
  }
  for (const auto& [name, value] : systems->items()) {
    std::string key = "systems." + name;
    if (!value.is_string()) return ConfigError(path, "'" + key + "' must be a string");
    Expected<std::string> url = Expand(value.get<std::string>(), path, key);
    if (!url.ok()) return url.status();
    if (!IsPostgresUrl(*url) && !SqlitePath(*url, key).ok()) {
      return ConfigError(path, "'" + key + "': unsupported connection string '" +
                                   RedactConnectionString(*url) +
                                   "' (expected sqlite:PATH or postgresql://...)");
    }
    config.systems[name] = ResolveUrl(dir, *url);
  }

  int64_t v = config.batch_size;
  if (Status s = int_value("batch_size", 1, 100000, &v); !s.ok()) return s;
  config.batch_size = static_cast<int>(v);
  v = config.initial_batch_size;
  if (Status s = int_value("initial_batch_size", 1, 1000000, &v); !s.ok()) return s;
  config.initial_batch_size = static_cast<int>(v);
  v = config.poll_interval_ms;
  if (Status s = int_value("poll_interval_ms", 1, 60000, &v); !s.ok()) return s;
  config.poll_interval_ms = static_cast<int>(v);
  v = config.max_transaction_ms;
  if (Status s = int_value("max_transaction_ms", 1, 60000, &v); !s.ok()) return s;
  config.max_transaction_ms = static_cast<int>(v);
  if (Status s = int_value("lookup_timeout_seconds", 0, 31536000, &config.lookup_timeout_seconds);
      !s.ok()) {
    return s;
  }
  if (auto alerts = j.find("alerts"); alerts != j.end()) {
    if (!alerts->is_array()) return ConfigError(path, "'alerts' must be an array of rules");
    for (size_t i = 0; i < alerts->size(); ++i) {
      const nlohmann::json& a = (*alerts)[i];
      std::string key = "alerts[" + std::to_string(i) + "]";
      if (!a.is_object()) return ConfigError(path, "'" + key + "' must be an object");
      for (const auto& [k, unused] : a.items()) {
        if (k != "map" && k != "when" && k != "then" && k != "command") {
          return ConfigError(
              path, "'" + key + "': unknown key '" + k + "' (known: map, when, then, command)");
        }
      }
      auto text = [&](const char* k) -> std::string {
        auto it = a.find(k);
        return it != a.end() && it->is_string() ? it->get<std::string>() : "";
      };
      Expected<AlertRule> rule = ParseAlertWhen(text("when"));
      if (!rule.ok()) return ConfigError(path, "'" + key + ".when': " + rule.status().message());
      rule->map = text("map");
      rule->then = text("then");
      rule->command = text("command");
      if (rule->then != "log" && rule->then != "pause" && rule->then != "run") {
        return ConfigError(
            path, "'" + key + ".then' must be log, pause or run, got '" + rule->then + "'");
      }
      if (rule->then == "run" && rule->command.empty()) {
        return ConfigError(path, "'" + key + "': 'then': 'run' needs a 'command'");
      }
      config.alerts.push_back(std::move(*rule));
    }
  }
  v = config.lock_timeout_ms;
  if (Status s = int_value("lock_timeout_ms", 0, 3600000, &v); !s.ok()) return s;
  config.lock_timeout_ms = static_cast<int>(v);
  return config;
}

}  // namespace duet::engine
