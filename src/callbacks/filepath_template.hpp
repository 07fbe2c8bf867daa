// ModelCheckpoint's file name templates: the subset of Python's str.format that Keras users
// write in them ({epoch:02d}, {val_loss:.2f}, ...), filled from named integers and log values.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kiln/callbacks.hpp"

namespace kiln::detail {

using NamedIntegers = std::vector<std::pair<std::string, int64_t>>;

// Checks the template's syntax and every format spec; ValueError naming `owner` otherwise.
void check_filepath_template(const std::string& pattern, const std::string& owner);

// The template filled in: a name is looked up in `integers`, then in `logs` (doubles). An
// unknown name is a ValueError that lists the names there are.
std::string format_filepath(const std::string& pattern, const NamedIntegers& integers,
                            const Logs& logs, const std::string& owner);

}  // namespace kiln::detail
