#include <charconv>

#include "kiln/callbacks.hpp"
#include "kiln/error.hpp"

namespace kiln {

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_)
    if (k == key) {
      v = value;
      return;
    }
  items_.emplace_back(key, value);
}

bool Logs::contains(const std::string& key) const {
  for (const auto& item : items_)
    if (item.first == key) return true;
  return false;
}

double Logs::at(const std::string& key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return v;
  throw ValueError("no log entry named '" + key + "'");
}

std::string format_number(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, end);
  // Python writes integral floats with a trailing ".0" (1.0, not 1).
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace kiln
