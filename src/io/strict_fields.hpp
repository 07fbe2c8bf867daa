// Strict reading of a config object: a field nothing reads (a typo such as "patiance", an
// argument of another class such as "momentum" given to Adam) is a ConfigError naming it and the
// fields that are read, as Keras's from_config raises on an unexpected keyword, never ignored.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>

#include "io/json_fields.hpp"

namespace kiln::io {

// Throws for the first field of `obj` that `known` does not name:
// "WHERE: unknown field 'KEY' (VALUE); it takes A, B" (the known names but those in `unlisted`).
template <typename Json, typename Names>
void reject_unknown_fields(const Json& obj, const Names& known, const std::string& where,
                           const std::set<std::string>& unlisted = {}) {
  if (!obj.is_object()) return;
  for (const auto& item : obj.items()) {
    const auto& key = item.key();
    if (std::ranges::any_of(known, [&](const auto& k) { return key == k; })) continue;
    std::string names;
    for (const auto& k : known)
      if (!unlisted.contains(std::string(k))) names += (names.empty() ? "" : ", ") + std::string(k);
    throw ConfigError(where + ": unknown field '" + key + "' (" + item.value().dump() + "); it takes " + names);
  }
}

template <typename Json>
void reject_unknown_fields(const Json& obj, std::initializer_list<const char*> known, const std::string& where) {
  reject_unknown_fields(obj, std::set<std::string>(known.begin(), known.end()), where);
}

// Typed reads that remember which fields they read; check_all_read() then rejects the others.
struct FieldReader {
  const nlohmann::json& cfg;
  std::string in;                           // where, for messages: "recipe.json callbacks[0] (EarlyStopping)"
  std::set<std::string> unlisted = {};      // accepted without being read, and not listed in the message
  mutable std::set<std::string> read = {};  // what has been read

  template <typename T>
  T get(const char* key, T fallback, const char* expected) const {
    read.insert(key);
    return get_or<T>(cfg, key, in, expected, fallback);
  }
  double number(const char* key, double fallback) const { return get(key, fallback, "a number"); }
  bool flag(const char* key, bool fallback) const { return get(key, fallback, "true or false"); }
  // A number or null (null, or no field, reads as `fallback`).
  std::optional<double> optional(const char* key, std::optional<double> fallback = std::nullopt) const {
    read.insert(key);
    if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
    return get_as<double>(cfg, key, in, "a number or null");
  }
  // A field read by other code.
  void mark(const char* key) const { read.insert(key); }
  void check_all_read() const {
    std::set<std::string> accepted = read;
    accepted.insert(unlisted.begin(), unlisted.end());
    reject_unknown_fields(cfg, accepted, in, unlisted);
  }
};

}  // namespace kiln::io
