// What this kiln is (kiln --version prints it): its version, the instruction sets its engine
// runs on this CPU, the compiler that built it and the libraries it links, with their versions.
#pragma once

#include <string>
#include <vector>

#include "kiln/version.hpp"

namespace kiln {

struct Component {
  std::string name;
  std::string version;
};

// The instruction sets this CPU offers kiln's kernels, the one in use first.
std::vector<std::string> instruction_sets();
// The compiler that built the library, and the C++ standard it compiled to.
Component compiler();
// The libraries the core library links (the serving library adds its own:
// kiln::serving::libraries()): run-time versions where a library reports one, else the headers'.
std::vector<Component> libraries();
// "major.minor.patch".
std::string version_string(int major, int minor, int patch);

}  // namespace kiln
