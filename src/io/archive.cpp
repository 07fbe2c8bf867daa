// Reading chosen members of an archive (tar in its dialects and compressions, zip) with
// libarchive; kiln only checks what it is given.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

using Archive = std::unique_ptr<archive, int (*)(archive*)>;

std::string listing(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 20; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 20) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return names.empty() ? "no members" : out;
}

}  // namespace

std::map<std::string, std::string> read_archive_members(const std::filesystem::path& path,
                                                        const std::vector<ArchiveMember>& members) {
  const std::string file = path.string();
  Archive a(archive_read_new(), &archive_read_free);
  if (!a) throw IoError(file + ": cannot start the archive reader");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  // The seekable reader finds members through the central directory, as unzip does.
  archive_read_support_format_zip_seekable(a.get());
  // libarchive's message, when it has one (it may have none: a null string).
  auto fail = [&](const std::string& what) {
    const char* why = archive_error_string(a.get());
    throw IoError(file + ": " + what + (why ? std::string(": ") + why : std::string()));
  };
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) fail("cannot open as an archive");
  std::map<std::string, uint64_t> wanted;
  for (const auto& m : members) wanted.emplace(m.name, m.max_bytes);
  std::map<std::string, std::string> found;
  std::vector<std::string> seen;
  archive_entry* entry = nullptr;
  while (found.size() < wanted.size()) {
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      fail("corrupt or truncated archive after " + std::to_string(seen.size()) + " members");
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    seen.push_back(name);
    auto want = wanted.find(name);
    if (want == wanted.end() || found.count(name)) continue;
    const uint64_t max_bytes = want->second;
    if (archive_entry_filetype(entry) != AE_IFREG)
      throw IoError(file + ": member '" + name + "' is not a file");
    const int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (declared < 0 || static_cast<uint64_t>(declared) > max_bytes)
      throw IoError(file + ": member '" + name + "' holds " + std::to_string(declared) +
                    " bytes, more than the " + std::to_string(max_bytes) + " kiln reads");
    // The declared size is a header's claim: at most 64 MiB is reserved on its word, the rest
    // only as the data arrives.
    std::string bytes;
    bytes.reserve(static_cast<size_t>(std::min<int64_t>(declared, int64_t{64} << 20)));
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) fail("corrupt or truncated archive in member '" + name + "'");
      if (n == 0) break;
      if (bytes.size() + static_cast<size_t>(n) > max_bytes)
        throw IoError(file + ": member '" + name + "' holds more than the " +
                      std::to_string(max_bytes) + " bytes kiln reads");
      bytes.append(buf, static_cast<size_t>(n));
    }
    found.emplace(name, std::move(bytes));
  }
  for (const auto& m : members)
    if (m.required && !found.count(m.name))
      throw IoError(file + ": the archive has no member '" + m.name + "'; it holds " + listing(seen));
  return found;
}

}  // namespace kiln::datasets
