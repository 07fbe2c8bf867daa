// What the harnesses share: the input as a file for readers that take a path (a memfd, so no
// disk is touched), a scratch folder, and the rule every harness checks: a reader refuses bad
// input with a kiln::Error, and anything else (another exception, a crash, a sanitizer report,
// a huge allocation) is a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "kiln/error.hpp"

namespace kiln::fuzz {

inline std::string bytes(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// The input as a file with a path, /proc/self/fd/N.
class MemFile {
 public:
  explicit MemFile(std::string_view contents) : fd_(memfd_create("kiln-fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    for (size_t done = 0; done < contents.size();) {
      const ssize_t n = ::write(fd_, contents.data() + done, contents.size() - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::filesystem::path path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

// A fresh folder under /dev/shm (or TMPDIR), removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/kiln-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs a reader on the input: a kiln::Error is the expected answer to bad input.
template <typename F>
void refused_or_read(F&& read) {
  try {
    read();
  } catch (const kiln::Error&) {
  }
}

}  // namespace kiln::fuzz
