#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

#include "kiln/callbacks.hpp"
#include "kiln/error.hpp"
#include "kiln/io.hpp"

namespace kiln {

namespace {

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == separator)
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

std::string joined(const std::vector<std::string>& names, char separator) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : std::string(1, separator)) + n;
  return out;
}

}  // namespace

History read_history_csv(const std::filesystem::path& path, char separator) {
  std::string text = io::read_file(path);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  const std::string where = "history file '" + path.string() + "'";
  if (lines.empty())
    throw IoError(where + " is empty: expected a header line such as epoch,loss,accuracy");
  std::vector<std::string> header = split(lines[0], separator);
  if (header[0] != "epoch")
    throw IoError(where + " starts with the column '" + header[0] +
                  "', expected 'epoch' (the layout CSVLogger writes)");
  if (header.size() < 2) throw IoError(where + " has no columns besides 'epoch'");
  std::set<std::string> seen;
  for (const auto& name : header)
    if (name.empty() || !seen.insert(name).second)
      throw IoError(where + " has " +
                    (name.empty() ? "an unnamed column" : "the column '" + name + "' twice") +
                    " in its header");
  if (lines.size() < 2) throw IoError(where + " has a header but no epochs");

  History h;
  for (size_t i = 1; i < header.size(); ++i) h.history[header[i]];
  for (size_t l = 1; l < lines.size(); ++l) {
    const std::string at = where + " line " + std::to_string(l + 1);
    std::vector<std::string> cells = split(lines[l], separator);
    if (cells.size() < header.size())
      throw IoError(at + " is missing the '" + header[cells.size()] + "' column (" +
                    std::to_string(cells.size()) + " cells, expected " +
                    std::to_string(header.size()) + ": " + joined(header, separator) + ")");
    if (cells.size() > header.size())
      throw IoError(at + " has " + std::to_string(cells.size()) + " cells, expected " +
                    std::to_string(header.size()) + " (" + joined(header, separator) + ")");
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string& cell = cells[c];
      bool gap = c > 0 && (cell.empty() || cell == "NA");  // a metric missing that epoch
      char* end = nullptr;
      double value = gap ? NAN : std::strtod(cell.c_str(), &end);
      if (!gap && (cell.empty() || end != cell.c_str() + cell.size() ||
                   (c == 0 && value != std::floor(value))))
        throw IoError(at + ", column '" + header[c] + "': '" + cell + "' is not " +
                      (c == 0 ? "an epoch number" : "a number"));
      // Converting a double outside int's range to int is undefined: 1e300 became anything.
      if (c == 0 && !(value >= 0 && value <= std::numeric_limits<int>::max()))
        throw IoError(at + ", column 'epoch': '" + cell + "' is not an epoch number from 0 to " +
                      std::to_string(std::numeric_limits<int>::max()));
      if (c == 0)
        h.epoch.push_back(static_cast<int>(value));
      else
        h.history[header[c]].push_back(value);
    }
  }
  return h;
}

}  // namespace kiln
