// TF Serving's predict and classify request bodies, read into input tensors, and the predict
// response written back. Row format: {"instances": [instance, ...]}, each instance the sample's
// nested list, {"b64": "<image bytes>"}, or an object by input name; columnar format:
// {"inputs": [sample, ...]} or {"inputs": {"name": [sample, ...]}}. Every error is a
// RequestError(400) naming the instance, the input, the shape expected and what was received.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/tensor.hpp"
#include "serving/signature.hpp"

namespace kiln::serving {

enum class Api { kPredict, kClassify };

struct RequestBody {
  std::vector<Tensor> inputs;  // one per signature input, [rows, ...its shape]
  int64_t rows = 0;
  bool columnar = false;  // given as "inputs": answered as "outputs"
  int64_t top_k = 0;      // classify: classes per result (0: all)
};

// classify reads "examples" (or "instances") and an optional "top_k"; predict reads "instances"
// or "inputs". At most max_rows instances (413 beyond).
RequestBody parse_request_body(std::string_view body, const Signature& signature, Api api, int64_t max_rows);

// {"predictions": [...]} (row format: one entry per instance, an object by output name when the
// model has several outputs) or {"outputs": ...} (columnar). Numbers in the shortest form that
// reads back as the same float.
std::string write_predict_response(const std::vector<Tensor>& outputs, const Signature& signature, bool columnar);

// {"result": [[["label", score], ...], ...]}: per instance, the top_k classes (all when 0) by
// falling score, as TF Serving's classify result lists (label, score) pairs.
std::string write_classify_response(const Tensor& scores, const Signature& signature, int64_t top_k);

// Appends the shortest decimal text that reads back as the same float (null for NaN/inf).
void append_float(std::string& out, float value);

}  // namespace kiln::serving
