#include "kiln/build_info.hpp"

#include <archive.h>
#include <cairo.h>
#include <curl/curl.h>
#include <gif_lib.h>
#include <graphviz/graphviz_version.h>
#include <openssl/crypto.h>
#include <spng.h>
#include <zlib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>

#include "kernels/cpu/isa.hpp"

// libjpeg-turbo gives its version as bare tokens (2.1.5).
#define KILN_STRINGIFY_TOKENS(x) #x
#define KILN_STRINGIFY(x) KILN_STRINGIFY_TOKENS(x)

namespace kiln {
namespace {

// "libarchive 3.6.2" -> "3.6.2": the libraries that report a version string prefix their name.
std::string after_space(const std::string& text) {
  const auto space = text.rfind(' ');
  return space == std::string::npos ? text : text.substr(space + 1);
}

}  // namespace

std::string version_string(int major, int minor, int patch) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::vector<std::string> instruction_sets() {
  std::vector<std::string> out;
  for (cpu::Isa isa : cpu::supported_isas()) out.insert(out.begin(), cpu::isa_name(isa));
  return out;
}

Component compiler() {
#if defined(__clang__)
  Component c{"clang", __clang_version__};
#elif defined(__GNUC__)
  Component c{"GCC", version_string(__GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__)};
#else
  Component c{"C++ compiler", "unknown"};
#endif
  c.version += ", C++" + std::to_string(__cplusplus / 100 % 100);
  return c;
}

std::vector<Component> libraries() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  return {
      {"zlib", zlibVersion()},
      {"libspng", spng_version_string()},
      {"libjpeg-turbo", KILN_STRINGIFY(LIBJPEG_TURBO_VERSION)},
      {"giflib", version_string(GIFLIB_MAJOR, GIFLIB_MINOR, GIFLIB_RELEASE)},
      {"libarchive", after_space(archive_version_string())},
      {"libcurl", curl->version},
      {"OpenSSL", OpenSSL_version(OPENSSL_VERSION_STRING)},
      {"cairo", cairo_version_string()},
      {"graphviz", PACKAGE_VERSION},
      {"nlohmann-json", version_string(NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                       NLOHMANN_JSON_VERSION_PATCH)},
  };
}

}  // namespace kiln
