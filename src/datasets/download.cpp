// Finding dataset files on disk, and downloading them with libcurl when they are nowhere.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "kiln/datasets/dataset.hpp"

namespace kiln::datasets {

namespace {

namespace fs = std::filesystem;

std::string sha256_hex(const fs::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw IoError(path.string() + ": cannot open to check its SHA-256");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf, n);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", digest[i]);
    hex += b;
  }
  return hex;
}

bool has_all(const fs::path& dir, const std::vector<RemoteFile>& files) {
  std::error_code ec;
  for (const auto& f : files)
    if (!fs::is_regular_file(dir / f.name, ec)) return false;
  return true;
}

std::vector<fs::path> search_path(const std::string& name, const fs::path& system_dir) {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("KILN_DATASETS"); env && *env) dirs.push_back(fs::path(env) / name);
  if (const char* home = std::getenv("HOME"); home && *home)
    dirs.push_back(fs::path(home) / ".kiln" / "datasets" / name);
  dirs.push_back(system_dir);
  return dirs;
}

size_t write_to_file(char* data, size_t size, size_t count, void* file) {
  return std::fwrite(data, size, count, static_cast<FILE*>(file)) * size;
}

}  // namespace

void download(const std::string& url, const fs::path& dest, const std::string& sha256) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) throw IoError("cannot create '" + dest.parent_path().string() + "': " + ec.message());
  fs::path tmp = dest;
  tmp += ".part-" + std::to_string(::getpid());
  auto cleanup = [&] { fs::remove(tmp, ec); };
  {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
    if (!file) throw IoError("cannot open '" + tmp.string() + "' for writing");
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) throw IoError("cannot start a download of " + url);
    char error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &write_to_file);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, file.get());
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
    // Give up on a stalled transfer: under 1 byte/s for 60 s.
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    CURLcode rc = curl_easy_perform(curl.get());
    if (rc != CURLE_OK) {
      file.reset();
      cleanup();
      throw IoError("downloading " + url + " failed: " + (*error ? error : curl_easy_strerror(rc)));
    }
    if (std::fflush(file.get()) != 0) {
      file.reset();
      cleanup();
      throw IoError("writing '" + tmp.string() + "' failed");
    }
  }
  std::string got = sha256_hex(tmp);
  if (got != sha256) {
    cleanup();
    throw IoError("downloaded " + url + " has SHA-256 " + got + ", expected " + sha256 +
                  "; the file was discarded");
  }
  fs::rename(tmp, dest, ec);
  if (ec) {
    cleanup();
    throw IoError("cannot move '" + tmp.string() + "' to '" + dest.string() + "': " + ec.message());
  }
}

std::optional<fs::path> find_local(const Source& source) {
  for (const auto& dir : search_path(source.folder, source.system_dir))
    if (has_all(dir, source.files)) return dir;
  return std::nullopt;
}

fs::path locate(const Source& source) {
  if (auto dir = find_local(source)) return *dir;
  auto dirs = search_path(source.folder, source.system_dir);
  if (dirs.size() < 2)
    throw IoError("dataset '" + source.folder + "' is not in " + source.system_dir.string() +
                  " and there is no cache folder to download it to (set $KILN_DATASETS or $HOME)");
  const fs::path& cache = dirs[0];  // $KILN_DATASETS/<folder> if set, else ~/.kiln/datasets/<folder>
  std::string base = source.url;
  if (const char* env = std::getenv("KILN_DATASETS_URL"); env && *env) base = env;
  if (!base.empty() && base.back() != '/') base += '/';
  std::error_code ec;
  for (const auto& f : source.files) {
    if (fs::is_regular_file(cache / f.name, ec)) continue;
    std::cerr << "Downloading " << base + f.name << " to " << cache.string() << '\n';
    download(base + f.name, cache / f.name, f.sha256);
  }
  return cache;
}

}  // namespace kiln::datasets
