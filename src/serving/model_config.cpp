#include "serving/model_config.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

#include "io/json_fields.hpp"
#include "kiln/error.hpp"
#include "kiln/io.hpp"

namespace kiln::serving {

namespace {

// Protobuf text format into JSON: each message an object whose fields are arrays of values (a
// field may repeat); scalars stay strings or numbers.
class TextFormat {
 public:
  TextFormat(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  nlohmann::json message(bool nested) {
    nlohmann::json out = nlohmann::json::object();
    for (;;) {
      skip();
      if (pos_ == text_.size()) {
        if (nested) fail("'}' to close a message");
        return out;
      }
      if (text_[pos_] == '}') {
        if (!nested) fail("a field name");
        ++pos_;
        return out;
      }
      const std::string name = identifier();
      skip();
      bool colon = false;
      if (peek() == ':') {
        ++pos_;
        colon = true;
        skip();
      }
      if (peek() == '{') {
        ++pos_;
        out[name].push_back(message(true));
      } else {
        if (!colon) fail("':' or '{' after '" + name + "'");
        out[name].push_back(scalar());
      }
      skip();
      if (peek() == ',' || peek() == ';') ++pos_;
    }
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  [[noreturn]] void fail(const std::string& expected) const {
    const auto line = 1 + std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(pos_), '\n');
    std::string got = "the end of the file";
    if (pos_ < text_.size()) {
      got = '\'';
      got += text_.substr(pos_, 20);
      got += '\'';
    }
    throw ConfigError(source_ + ":" + std::to_string(line) + ": expected " + expected + ", found " + got);
  }
  void skip() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }
  std::string identifier() {
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_')) ++pos_;
    if (pos_ == start) fail("a field name");
    return text_.substr(start, pos_ - start);
  }
  nlohmann::json scalar() {
    const char quote = peek();
    if (quote == '\'' || quote == '"') {
      std::string out;
      for (++pos_; pos_ < text_.size() && text_[pos_] != quote; ++pos_) {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        if (text_[pos_] == '\n') fail("the closing quote");
        out += text_[pos_];
      }
      if (pos_ == text_.size()) fail("the closing quote");
      ++pos_;
      return out;
    }
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                   text_[pos_] == '-' || text_[pos_] == '.'))
      ++pos_;
    if (pos_ == start) fail("a value");
    const std::string word = text_.substr(start, pos_ - start);
    if (std::isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-') {
      try {
        size_t used = 0;
        const long long v = std::stoll(word, &used);
        if (used == word.size()) return v;
      } catch (const std::exception&) {
      }
      pos_ = start;
      fail("an integer");
    }
    return word;
  }

  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
};

// A field's values as a list: text format gives lists already; JSON may give one value.
nlohmann::json list(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return nlohmann::json::array();
  const auto& v = object[key];
  return v.is_array() ? v : nlohmann::json::array({v});
}

std::string one_string(const nlohmann::json& object, const char* key, const std::string& where) {
  const auto values = list(object, key);
  if (values.size() != 1 || !values[0].is_string())
    throw ConfigError(where + ": expected one string '" + key + "', received " + (values.empty() ? "none" : io::shown(values)));
  return values[0].get<std::string>();
}

int64_t integer(const nlohmann::json& v, const std::string& where) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {  // protobuf's JSON writes 64-bit integers as strings
    try {
      size_t used = 0;
      const long long n = std::stoll(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size()) return n;
    } catch (const std::exception&) {
    }
  }
  throw ConfigError(where + ": expected an integer, received " + io::shown(v));
}

}  // namespace

std::vector<ModelSource> parse_model_config(const std::string& text, const std::string& source) {
  nlohmann::json root;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    root = io::parse_json(text, source);
  } else {
    root = TextFormat(text, source).message(false);
  }
  const auto lists = list(root, "model_config_list");
  if (lists.size() != 1) throw ConfigError(source + ": expected one model_config_list { config { ... } ... }");
  std::vector<ModelSource> out;
  int index = 0;
  for (const auto& config : list(lists[0], "config")) {
    const std::string where = source + ": config " + std::to_string(index++);
    ModelSource m;
    m.name = one_string(config, "name", where);
    m.base_path = one_string(config, "base_path", where);
    for (const auto& platform : list(config, "model_platform"))
      if (platform != "tensorflow" && platform != "kiln")
        throw ConfigError(where + ": model_platform " + io::shown(platform) + " is not served by kiln (\"tensorflow\" or \"kiln\")");
    const auto policies = list(config, "model_version_policy");
    if (policies.size() > 1) throw ConfigError(where + ": more than one model_version_policy");
    if (policies.size() == 1) {
      const auto& p = policies[0];
      if (!p.is_object() || p.size() != 1)
        throw ConfigError(where + ": model_version_policy must hold one of latest, all, specific; received " + io::shown(p));
      const std::string kind = p.begin().key();
      const auto body = list(p, kind.c_str());
      const auto& fields = body.empty() ? nlohmann::json::object() : body[0];
      if (kind == "latest") {
        for (const auto& n : list(fields, "num_versions")) m.num_versions = integer(n, where + ": num_versions");
        if (m.num_versions < 1) throw ConfigError(where + ": num_versions must be at least 1");
      } else if (kind == "specific") {
        for (const auto& v : list(fields, "versions")) m.versions.push_back(integer(v, where + ": versions"));
        if (m.versions.empty()) throw ConfigError(where + ": a specific version policy needs versions");
      } else if (kind != "all") {
        throw ConfigError(where + ": unknown model_version_policy '" + kind + "'; expected latest, all or specific");
      }
      m.version_policy = kind;
    }
    out.push_back(std::move(m));
  }
  if (out.empty()) throw ConfigError(source + ": the model_config_list has no config");
  return out;
}

std::vector<ModelSource> read_model_config(const std::filesystem::path& path) {
  return parse_model_config(io::read_file(path), path.string());
}

}  // namespace kiln::serving
