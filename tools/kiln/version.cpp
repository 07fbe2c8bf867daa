#include <sstream>

#include "commands.hpp"
#include "kiln/build_info.hpp"
#include "kiln/serving.hpp"

namespace kiln::cli {
namespace {

std::string version_text() {
  std::ostringstream out;
  out << "kiln " << kVersion << '\n';
  out << "instruction sets:";
  const auto isas = instruction_sets();
  for (size_t i = 0; i < isas.size(); ++i)
    out << (i ? ", " : " ") << isas[i] << (i ? "" : " (in use)");
  const Component cc = compiler();
  out << "\nbuilt with: " << cc.name << ' ' << cc.version << "\nlibraries:";
  auto libs = libraries();
  for (auto& lib : serving::libraries()) libs.push_back(std::move(lib));
  libs.push_back({"CLI11", CLI11_VERSION});
  for (size_t i = 0; i < libs.size(); ++i)
    out << (i ? ", " : " ") << libs[i].name << ' ' << libs[i].version;
  return out.str();
}

}  // namespace

void add_version_flag(CLI::App& app) {
  app.set_version_flag(
      "--version", version_text,
      "Print the version, this CPU's instruction sets and the libraries kiln uses");
}

}  // namespace kiln::cli
