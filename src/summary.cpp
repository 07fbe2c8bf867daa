// Model::summary: the table Keras 2 prints (tf.keras 2.7 to 2.12), column for column. A
// Sequential, or a functional model that is a plain chain, gets 65 columns: layer, output shape,
// params; any other functional model 98, with what each layer is connected to. A field too long
// for its column continues on the next line, broken after "),", "},", "]," or "',".
#include <sstream>

#include "graph_walk.hpp"
#include "kiln/model.hpp"

namespace kiln {

namespace {

// Keras's print_row: each field from its column's start, two spaces before the next column,
// the rest of a field that does not fit on further lines.
void print_row(std::ostream& out, std::vector<std::string> fields, const std::vector<size_t>& positions) {
  auto any_left = [&] {
    for (const auto& f : fields)
      if (!f.empty()) return true;
    return false;
  };
  do {
    std::string line;
    for (size_t col = 0; col < fields.size(); ++col) {
      size_t start = col > 0 ? positions[col - 1] : 0, space = col + 1 < positions.size() ? 2 : 0;
      size_t cutoff = positions[col] - start - space;
      std::string fit = fields[col].substr(0, cutoff);
      size_t best = std::string::npos;
      for (const char* mark : {"),", "},", "],", "',"}) {
        size_t at = fit.find(mark);
        if (at != std::string::npos) best = std::min(best, at + 2);
      }
      if (best != std::string::npos) {
        cutoff = best;
        fit = fit.substr(0, cutoff);
      }
      if (col == 0) line += ' ';
      line += fit + std::string(space, ' ');
      fields[col] = fields[col].size() > cutoff ? fields[col].substr(cutoff) : "";
      if (line.size() < positions[col]) line.resize(positions[col], ' ');
    }
    out << line << '\n';
  } while (any_left());
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "(None, 784)"; an InputLayer's output prints as the list Keras 2 keeps it in.
std::string shape_text(const Layer& layer) {
  const Shape& shape = layer.output_shape();
  std::string s = "(None";
  for (int64_t d : shape) s += ", " + std::to_string(d);
  s += ")";
  return layer.class_name() == "InputLayer" ? "[" + s + "]" : s;
}

}  // namespace

void Model::summary(std::ostream& out) const {
  require_built("summary");
  const bool chain = detail::is_sequential_like(*this);
  const size_t width = chain ? 65 : 98;
  const std::vector<size_t> positions = chain ? std::vector<size_t>{29, 55, 65} : std::vector<size_t>{32, 53, 65, 98};
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  if (!chain) header.push_back("Connected to");
  out << "Model: \"" << name_ << "\"\n" << std::string(width, '_') << '\n';
  print_row(out, header, positions);
  out << std::string(width, '=') << '\n';
  std::vector<detail::LayerCall> calls = detail::layer_calls(*this);
  for (size_t i = 0; i < layer_list_.size(); ++i) {
    const Layer& layer = *layer_list_[i];
    std::vector<std::string> fields{layer.name() + " (" + layer.class_name() + ")", shape_text(layer),
                                    std::to_string(layer.count_params())};
    if (!chain) {
      std::string connected;
      for (const auto& call : calls)
        if (&*call.node->layer == &layer)
          for (const auto& in : call.inputs)
            connected += std::string(connected.empty() ? "" : ", ") + "'" + in.layer + "[" +
                         std::to_string(in.node_index) + "][" + std::to_string(in.tensor_index) + "]'";
      fields.push_back("[" + connected + "]");
    }
    print_row(out, fields, positions);
    out << std::string(width, i + 1 < layer_list_.size() ? ' ' : '=') << '\n';
  }
  const int64_t total = count_params(), trainable = count_trainable_params();
  out << "Total params: " << with_commas(total) << '\n'
      << "Trainable params: " << with_commas(trainable) << '\n'
      << "Non-trainable params: " << with_commas(total - trainable) << '\n'
      << std::string(width, '_') << '\n';
}

}  // namespace kiln
