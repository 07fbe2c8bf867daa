// What a served model takes and gives, as TF Serving's "serving_default" signature describes it:
// named inputs and outputs (the model's own layer names) with their per-sample shapes, the class
// names, and how image bytes become inputs.
#pragma once

#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln::serving {

struct TensorSpec {
  std::string name;
  Shape shape;  // per sample
};

struct Signature {
  std::vector<TensorSpec> inputs, outputs;
  std::vector<std::string> class_names;
  // How a {"b64": ...} image becomes an input: the model's preprocessing (resize, rescale).
  Preprocessing preprocessing;
  std::string dataset;   // what the model was trained on ("fashion-mnist"), when recorded
};

Signature signature_of(const Model& model);

// An error in a request that the client must fix: an HTTP status (400, 404, 413, ...) and a
// message that names what was received and what was expected.
struct RequestError : std::runtime_error {
  RequestError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

}  // namespace kiln::serving
