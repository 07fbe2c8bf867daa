// Typed reads of config.json fields that throw ConfigError naming where, what and what was found.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kiln/error.hpp"
#include "kiln/tensor.hpp"

namespace kiln::io {

// JSON for a message: invalid UTF-8 (strings that came from raw bytes, not from a JSON parser)
// shown as U+FFFD instead of thrown as nlohmann's type_error.
inline std::string shown(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// JSON text parsed, or Err "WHERE: not valid JSON (...)" for anything nlohmann refuses: bad
// syntax, and numbers beyond a double too (out_of_range, which is not a parse_error).
template <typename Json = nlohmann::json, typename Err = ConfigError>
Json parse_json(const std::string& text, const std::string& where) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Err(where + ": not valid JSON (" + e.what() + ")");
  }
}

inline const nlohmann::json& field(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key))
    throw ConfigError(where + ": missing field '" + key + "'");
  return obj[key];
}

template <typename T>
T get_as(const nlohmann::json& obj, const char* key, const std::string& where, const char* expected) {
  const auto& v = field(obj, key, where);
  bool ok = std::is_same_v<T, bool>          ? v.is_boolean()
            : std::is_same_v<T, std::string> ? v.is_string()
            : std::is_integral_v<T>          ? v.is_number_integer()
                                             : v.is_number();
  if (!ok) throw ConfigError(where + ": field '" + key + "' must be " + expected + ", received " + v.dump());
  return v.get<T>();
}

template <typename T>
T get_or(const nlohmann::json& obj, const char* key, const std::string& where, const char* expected, T fallback) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  return get_as<T>(obj, key, where, expected);
}

// A list of strings (metrics, class names); absent reads as empty.
inline std::vector<std::string> string_list(const nlohmann::json& obj, const char* key, const std::string& where) {
  std::vector<std::string> out;
  if (!obj.is_object() || !obj.contains(key)) return out;
  const auto& v = obj[key];
  if (!v.is_array()) throw ConfigError(where + ": field '" + key + "' must be a list of strings, received " + v.dump());
  for (const auto& item : v) {
    if (!item.is_string())
      throw ConfigError(where + ": field '" + key + "' must be a list of strings, received " + item.dump() + " in it");
    out.push_back(item.get<std::string>());
  }
  return out;
}

// [null, 28, 28] -> {28, 28}: a Keras batch shape without its batch axis.
inline Shape per_sample_shape(const nlohmann::json& v, const std::string& where) {
  if (!v.is_array() || v.empty() || !v[0].is_null())
    throw ConfigError(where + ": expected a batch shape like [null, 28, 28], received " + v.dump());
  Shape s;
  for (size_t i = 1; i < v.size(); ++i) {
    if (!v[i].is_number_integer() || v[i].get<int64_t>() <= 0)
      throw ConfigError(where + ": dimensions must be positive integers, received " + v.dump());
    s.push_back(v[i].get<int64_t>());
  }
  try {
    shape_size(s);
  } catch (const ShapeError&) {
    throw ConfigError(where + ": the dimensions " + v.dump() + " have more elements than a 64-bit count holds");
  }
  return s;
}

// A layer's dtype policy as Keras writes it: a plain name for "float32", an object for a mixed
// policy: {"class_name": "Policy", "config": {"name": "mixed_bfloat16"}}.
inline nlohmann::json dtype_policy_config(const std::string& policy) {
  if (policy == "float32") return policy;
  return {{"class_name", "Policy"}, {"config", {{"name", policy}}}};
}

// Reads either form (Keras 3's {"class_name": "DTypePolicy", ...} too); the name is checked by
// the layer.
inline std::string dtype_policy_name(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("config") && v["config"].is_object() && v["config"].contains("name") &&
      v["config"]["name"].is_string())
    return v["config"]["name"].get<std::string>();
  throw ConfigError(where + ": field 'dtype' must be a policy name or {\"class_name\": \"Policy\", \"config\": "
                    "{\"name\": ...}}, received " + v.dump());
}

}  // namespace kiln::io
