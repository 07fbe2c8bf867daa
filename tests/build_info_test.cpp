// What kiln --version prints: the version from CMake's project(VERSION), the instruction sets
// (the one the kernels use first), and the libraries with their versions.
#include "kiln/build_info.hpp"

#include <algorithm>
#include <regex>

#include "helpers.hpp"
#include "kernels/cpu/isa.hpp"

namespace kiln {
namespace {

TEST(BuildInfo, NamesTheVersionTheInstructionSetInUseAndTheLibraries) {
  EXPECT_STREQ(kVersion, KILN_PROJECT_VERSION);
  const auto isas = instruction_sets();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), cpu::isa_name(cpu::best_isa()));
  EXPECT_EQ(isas.size(), cpu::supported_isas().size());
  const auto libs = libraries();
  for (const char* name : {"zlib", "libspng", "libjpeg-turbo", "libarchive", "libcurl", "cairo"})
    EXPECT_TRUE(std::any_of(libs.begin(), libs.end(), [&](const Component& c) {
      return c.name == name;
    })) << name;
  for (const Component& lib : libs)
    EXPECT_TRUE(std::regex_search(lib.version, std::regex("^[0-9]+\\.[0-9]+")))
        << lib.name << ": " << lib.version;
}

}  // namespace
}  // namespace kiln
