// Whole-file reads, and writes that a reader (or a crash) never sees half done: a file through a
// temporary and a rename, a folder of files through a temporary folder and an atomic exchange.
// Everything written is fsynced before it is renamed into place, and the folder holding it after.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Writes and fsyncs a file; throws IoError naming it.
void write_synced(const std::filesystem::path& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("cannot open '" + path.string() + "' for writing: " + errno_text());
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = errno_text();
      ::close(fd);
      throw IoError("error writing '" + path.string() + "': " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string why = errno_text();
    ::close(fd);
    throw IoError("cannot flush '" + path.string() + "' to disk: " + why);
  }
  if (::close(fd) != 0) throw IoError("error closing '" + path.string() + "': " + errno_text());
}

// Flushes a folder's entries (a rename into it) to disk. Best effort: some file systems refuse
// to open or sync a folder, and the rename itself has happened either way.
void sync_folder(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A name beside `path` for a temporary, unique in this process and across processes.
std::filesystem::path temporary_beside(const std::filesystem::path& path, const char* kind) {
  static std::atomic<uint64_t> counter{0};
  // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on the chained + of a literal.
  std::string name = ".";
  name += path.filename().string();
  name += '.';
  name += kind;
  name += '-' + std::to_string(::getpid()) + '-' + std::to_string(counter++);
  return path.parent_path() / name;
}

// Removes temporaries of `kind` beside `path` that a killed process left behind (their process
// no longer runs).
void remove_stale_temporaries(const std::filesystem::path& path, const char* kind) {
  std::error_code ec;
  auto parent = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string prefix = ".";
  prefix += path.filename().string();
  prefix += '.';
  prefix += kind;
  prefix += '-';
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(name.c_str() + prefix.size(), nullptr, 10));
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH)
      std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path.string() + "' for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("error reading '" + path.string() + "'");
  return ss.str();
}

void write_file_atomic(const std::filesystem::path& path, const std::string& bytes) {
  auto tmp = temporary_beside(path, "tmp");
  try {
    write_synced(tmp, bytes);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw IoError("cannot move '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  }
  sync_folder(path.parent_path());
}

void write_folder_atomic(const std::filesystem::path& dir_in, const std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = dir_in.filename().empty() ? dir_in.parent_path() : dir_in;  // "m/" -> "m"
  // A link to a folder stays a link: the folder it points to is the one replaced.
  if (fs::is_symlink(fs::symlink_status(dir, ec))) {
    dir = fs::canonical(dir, ec);
    if (ec) throw IoError("cannot follow the link '" + dir_in.string() + "': " + ec.message());
  }
  if (!dir.parent_path().empty()) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) throw IoError("cannot create folder '" + dir.parent_path().string() + "': " + ec.message());
  }
  const bool exists = fs::exists(dir, ec);
  if (exists && !fs::is_directory(dir, ec))
    throw IoError("cannot save into '" + dir.string() + "': it exists and is not a folder");
  remove_stale_temporaries(dir, "kiln-save");
  const fs::path tmp = temporary_beside(dir, "kiln-save");
  auto cleanup = [&] { fs::remove_all(tmp, ec); };
  try {
    if (!fs::create_directory(tmp, ec) || ec)
      throw IoError("cannot create folder '" + tmp.string() + "': " + ec.message());
    for (const auto& [name, bytes] : files) write_synced(tmp / name, bytes);
    // The folder's other files (a training's history.csv, its curves) stay: hard links to them
    // go into the new folder, so both folders hold them until the exchange.
    if (exists)
      for (const auto& entry : fs::directory_iterator(dir)) {
        auto name = entry.path().filename();
        if (files.count(name.string()) || !entry.is_regular_file()) continue;
        fs::create_hard_link(entry.path(), tmp / name, ec);
        if (ec) fs::copy_file(entry.path(), tmp / name, ec);
        if (ec) throw IoError("cannot keep '" + entry.path().string() + "' in the saved folder: " + ec.message());
      }
    sync_folder(tmp);
    if (!exists) {
      fs::rename(tmp, dir, ec);
      if (ec) throw IoError("cannot move '" + tmp.string() + "' to '" + dir.string() + "': " + ec.message());
    } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
      throw IoError("cannot replace '" + dir.string() + "' with '" + tmp.string() +
                    "' in one step (this file system has no atomic exchange of folders): " + errno_text());
    }
  } catch (...) {
    cleanup();
    throw;
  }
  sync_folder(dir.parent_path());
  if (exists) {
    // tmp now holds the old folder. Entries that were not copied (sub-folders, links) move over.
    for (const auto& entry : fs::directory_iterator(tmp, ec)) {
      auto name = entry.path().filename();
      if (files.count(name.string()) || entry.is_regular_file()) continue;
      fs::rename(entry.path(), dir / name, ec);
    }
    cleanup();
  }
}

}  // namespace kiln::io
