#include <simdjson.h>

#include <boost/version.hpp>

#include "kiln/serving.hpp"

namespace kiln::serving {

std::vector<Component> libraries() {
  return {{"Boost (Beast, Asio)",
           version_string(BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
          {"simdjson",
           version_string(simdjson::SIMDJSON_VERSION_MAJOR, simdjson::SIMDJSON_VERSION_MINOR,
                          simdjson::SIMDJSON_VERSION_REVISION)}};
}

}  // namespace kiln::serving
