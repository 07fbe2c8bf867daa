// TF Serving's model config file (--model_config_file): the models to serve, in protobuf's text
// format, or the same structure in JSON (a file whose first character is '{' after whitespace):
//   model_config_list {
//     config { name: 'fashion' base_path: '/models/fashion' model_platform: 'tensorflow'
//              model_version_policy { specific { versions: 1 versions: 2 } } }
//   }
// model_version_policy is latest { num_versions: N }, all {} or specific { versions: ... }.
// Anything malformed is a ConfigError naming the file, the line and what was expected.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kiln/serving.hpp"

namespace kiln::serving {

std::vector<ModelSource> read_model_config(const std::filesystem::path& path);
std::vector<ModelSource> parse_model_config(const std::string& text, const std::string& source);

}  // namespace kiln::serving
