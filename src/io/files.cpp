#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

#include "kiln/io.hpp"

namespace kiln::io {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path.string() + "' for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("error reading '" + path.string() + "'");
  return ss.str();
}

void write_file_atomic(const std::filesystem::path& path, const std::string& bytes) {
  auto tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot open '" + tmp.string() + "' for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw IoError("error writing '" + tmp.string() + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError("cannot move '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
}

}  // namespace kiln::io
