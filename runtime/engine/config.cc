#include "runtime/engine/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

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
      return ConfigError(path, "'" + key + "': unterminated '${' in \"" + text + "\"");
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
    return InvalidArgumentError("'" + key + "': unsupported connection string '" + url +
                                "' (expected sqlite:PATH)");
  }
  return url.substr(7);
}

Expected<Config> LoadConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) return NotFoundError("cannot open configuration file '" + path + "'");
  std::ostringstream text;
  text << file.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    return ConfigError(path, std::string("not valid JSON: ") + e.what());
  }
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
                                              "lock_timeout_ms"};
  for (const auto& [key, value] : j.items()) {
    if (!kKeys.count(key)) {
      return ConfigError(path, "unknown key '" + key +
                                   "' (known: bundle, systems, state, trust, cache_dir, "
                                   "batch_size, initial_batch_size, poll_interval_ms, "
                                   "lookup_timeout_seconds, lock_timeout_ms)");
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
    int64_t v = it->get<int64_t>();
    if (v < low || v > high) {
      return ConfigError(path, "'" + key + "' must be between " + std::to_string(low) + " and " +
                                   std::to_string(high) + ", got " + std::to_string(v));
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
  if (Expected<std::string> p = SqlitePath(config.state, "state"); !p.ok()) {
    return ConfigError(path, p.status().message());
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
    if (Expected<std::string> p = SqlitePath(*url, key); !p.ok()) {
      return ConfigError(path, p.status().message());
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
  if (Status s = int_value("lookup_timeout_seconds", 0, 31536000, &config.lookup_timeout_seconds);
      !s.ok()) {
    return s;
  }
  v = config.lock_timeout_ms;
  if (Status s = int_value("lock_timeout_ms", 0, 3600000, &v); !s.ok()) return s;
  config.lock_timeout_ms = static_cast<int>(v);
  return config;
}

}  // namespace duet::engine
