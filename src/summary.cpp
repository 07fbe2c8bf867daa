// Sequential::summary: the table Keras prints, column for column.
#include <sstream>

#include "kiln/model.hpp"

namespace kiln {

namespace {

constexpr size_t kLine = 65;
constexpr size_t kColumns[] = {29, 55, 65};  // where each column ends

std::string row(const std::string& a, const std::string& b, const std::string& c) {
  std::string line;
  const std::string fields[] = {" " + a, b, c};
  for (size_t i = 0; i < 3; ++i) {
    if (i > 0 && !line.empty()) line.back() = ' ';
    line += fields[i];
    line.resize(kColumns[i], ' ');
  }
  return line;
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string shape_text(const Shape& per_sample) {
  std::string s = "(None";
  for (int64_t d : per_sample) s += ", " + std::to_string(d);
  return s + ")";
}

}  // namespace

void Sequential::summary(std::ostream& out) const {
  require_built("summary");
  out << "Model: \"" << name_ << "\"\n"
      << std::string(kLine, '_') << '\n'
      << row("Layer (type)", "Output Shape", "Param #") << '\n'
      << std::string(kLine, '=') << '\n';
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = *layers_[i];
    int64_t params = 0;
    for (const auto& p : layer.params()) params += shape_size(p.shape);
    out << row(layer.name() + " (" + layer.class_name() + ")", shape_text(layer.output_shape()),
               std::to_string(params))
        << '\n';
    out << (i + 1 < layers_.size() ? std::string(kLine, ' ') : std::string(kLine, '=')) << '\n';
  }
  out << "Total params: " << with_commas(param_count_) << '\n'
      << "Trainable params: " << with_commas(param_count_) << '\n'
      << "Non-trainable params: 0\n"
      << std::string(kLine, '_') << '\n';
}

}  // namespace kiln
