#include "serving/predict_body.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "kiln/io.hpp"
#include "serving/base64.hpp"

namespace kiln::serving {

namespace dom = simdjson::dom;

namespace {

[[noreturn]] void bad(const std::string& message) { throw RequestError(400, message); }

std::string describe(dom::element e) {
  std::string text = simdjson::minify(e);
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

// The shape of a nested list, read along its first elements ({} for a number).
Shape nested_shape(dom::element e) {
  Shape shape;
  while (e.type() == dom::element_type::ARRAY) {
    dom::array a = e.get_array().value_unsafe();
    shape.push_back(static_cast<int64_t>(a.size()));
    if (a.size() == 0) break;
    e = a.at(0).value_unsafe();
  }
  return shape;
}

// Where a value lies in the body: the instance's path, then the indices within it. Formatted only
// for an error message.
struct Where {
  static constexpr size_t kMaxDepth = 8;
  const std::string& base;
  int64_t at[kMaxDepth];
  size_t depth = 0;
  std::string str() const {
    std::string out = base;
    for (size_t i = 0; i < depth; ++i) {
      out += '[';
      out += std::to_string(at[i]);
      out += ']';
    }
    return out;
  }
};

float number_at(dom::element e, const Where& where, const TensorSpec& spec) {
  double v = 0;
  switch (e.type()) {
    case dom::element_type::DOUBLE: v = e.get_double().value_unsafe(); break;
    case dom::element_type::INT64: v = static_cast<double>(e.get_int64().value_unsafe()); break;
    case dom::element_type::UINT64: v = static_cast<double>(e.get_uint64().value_unsafe()); break;
    default: bad(where.str() + ": input '" + spec.name + "' takes numbers (float32), received " + describe(e));
  }
  const auto f = static_cast<float>(v);
  if (!std::isfinite(f)) bad(where.str() + ": " + describe(e) + " is out of float32's range (input '" + spec.name + "')");
  return f;
}

// Writes the nested list e of the given shape into dst (row-major), checking that it is regular.
void flatten(dom::element e, const Shape& shape, float*& dst, Where& where, const TensorSpec& spec) {
  const size_t dim = where.depth;
  if (dim == shape.size()) {
    *dst++ = number_at(e, where, spec);
    return;
  }
  dom::array a;
  if (e.get_array().get(a))
    bad(where.str() + ": expected a list of " + std::to_string(shape[dim]) + " values for input '" + spec.name +
        "', received " + describe(e));
  if (static_cast<int64_t>(a.size()) != shape[dim])
    bad(where.str() + ": expected a list of " + std::to_string(shape[dim]) + " values for input '" + spec.name +
        "', received " + std::to_string(a.size()) + " (the lists of one instance must all be of one length)");
  ++where.depth;
  where.at[dim] = 0;
  for (dom::element child : a) {
    flatten(child, shape, dst, where, spec);
    ++where.at[dim];
  }
  --where.depth;
}

std::optional<std::string_view> b64_of(dom::element e) {
  if (e.type() != dom::element_type::OBJECT) return std::nullopt;
  dom::object o = e.get_object().value_unsafe();
  if (o.size() != 1) return std::nullopt;
  std::string_view text;
  if (o["b64"].get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
  return text;
}

// One sample of one input: a nested list of the input's shape (or of (H, W) for an (H, W, 1)
// input), or {"b64": ...} holding an image file (PNG, JPEG, BMP, GIF) of any size, converted to
// the input's channels and resized to it as the model's preprocessing says (kiln predict's way).
void fill_sample(dom::element e, const TensorSpec& spec, const Preprocessing& pre, float* dst, const std::string& where) {
  if (auto text = b64_of(e)) {
    const auto image = image_input(spec.shape);
    if (!image)
      bad(where + ": input '" + spec.name + "' takes shape " + shape_str(spec.shape) +
          " per sample, not images; send the numbers instead of {\"b64\": ...}");
    auto bytes = decode_base64(*text);
    if (!bytes) bad(where + ": the \"b64\" value is not base64 (standard or URL-safe alphabet)");
    try {
      ByteTensor pixels = io::prepare_image(*bytes, where, image->height, image->width, image->channels,
                                            pre.interpolation, pre.crop_to_aspect_ratio);
      for (int64_t i = 0; i < pixels.size(); ++i)
        dst[i] = static_cast<float>(static_cast<double>(pixels[i]) * pre.rescale);
    } catch (const Error& err) {
      bad(std::string(err.what()) + " (input '" + spec.name + "')");
    }
    return;
  }
  const Shape got = nested_shape(e);
  if (!input_fits(spec.shape, got) || got.size() > Where::kMaxDepth)
    bad(where + ": input '" + spec.name + "' takes shape " + shape_str(spec.shape) +
        " (float32) per instance, received shape " + shape_str(got));
  Where at{where};
  flatten(e, got, dst, at, spec);
}

const TensorSpec& only_input(const Signature& s, const std::string& where) {
  if (s.inputs.size() != 1) {
    std::string names;
    for (const auto& in : s.inputs) names += (names.empty() ? "'" : ", '") + in.name + "'";
    bad(where + ": this model has " + std::to_string(s.inputs.size()) + " inputs (" + names +
        "); give each instance as an object by input name");
  }
  return s.inputs[0];
}

// The value for input `spec` in an object keyed by input name.
dom::element named(dom::object o, const TensorSpec& spec, const std::string& where) {
  dom::element v;
  if (o[spec.name].get(v) != simdjson::SUCCESS) {
    std::string keys;
    for (auto field : o) keys += (keys.empty() ? "'" : ", '") + std::string(field.key) + "'";
    bad(where + ": missing input '" + spec.name + "'; received the keys " + keys);
  }
  return v;
}

struct Batch {
  RequestBody& body;
  const Signature& sig;
  void allocate(int64_t rows) {
    body.rows = rows;
    for (const auto& in : sig.inputs) {
      Shape shape = in.shape;
      shape.insert(shape.begin(), rows);
      body.inputs.emplace_back(shape);
    }
  }
  float* row(size_t input, int64_t r) { return body.inputs[input].data() + r * shape_size(sig.inputs[input].shape); }
};

void read_rows(dom::array list, const char* key, Batch& batch) {
  int64_t r = 0;
  for (dom::element instance : list) {
    const std::string where = std::string(key) + "[" + std::to_string(r) + "]";
    const bool by_name = instance.type() == dom::element_type::OBJECT && !b64_of(instance);
    if (by_name) {
      dom::object o = instance.get_object().value_unsafe();
      for (size_t k = 0; k < batch.sig.inputs.size(); ++k)
        fill_sample(named(o, batch.sig.inputs[k], where), batch.sig.inputs[k], batch.sig.preprocessing, batch.row(k, r),
                    where + "['" + batch.sig.inputs[k].name + "']");
    } else {
      fill_sample(instance, only_input(batch.sig, where), batch.sig.preprocessing, batch.row(0, r), where);
    }
    ++r;
  }
}

int64_t rows_of(dom::element e, const std::string& where, int64_t max_rows) {
  if (e.type() != dom::element_type::ARRAY)
    bad(where + ": expected a list with one entry per instance, received " + describe(e));
  const auto n = static_cast<int64_t>(e.get_array().value_unsafe().size());
  if (n == 0) bad(where + ": the list of instances is empty");
  if (n > max_rows)
    throw RequestError(413, where + ": " + std::to_string(n) + " instances in one request; the limit is " +
                                std::to_string(max_rows) + " (--max_instances)");
  return n;
}

void read_columns(dom::element inputs, Batch& batch, int64_t max_rows) {
  std::vector<dom::element> columns;
  const bool by_name = inputs.type() == dom::element_type::OBJECT;
  for (const auto& spec : batch.sig.inputs)
    columns.push_back(by_name ? named(inputs.get_object().value_unsafe(), spec, "inputs") : inputs);
  if (!by_name) only_input(batch.sig, "inputs");
  int64_t rows = -1;
  for (size_t k = 0; k < columns.size(); ++k) {
    const std::string where = by_name ? "inputs['" + batch.sig.inputs[k].name + "']" : "inputs";
    const int64_t n = rows_of(columns[k], where, max_rows);
    if (rows >= 0 && n != rows)
      bad(where + ": " + std::to_string(n) + " instances, but the first input has " + std::to_string(rows));
    rows = n;
  }
  batch.allocate(rows);
  for (size_t k = 0; k < columns.size(); ++k) {
    const std::string where = by_name ? "inputs['" + batch.sig.inputs[k].name + "']" : "inputs";
    int64_t r = 0;
    dom::array samples;
    if (columns[k].get_array().get(samples)) bad(where + ": expected a list");
    for (dom::element sample : samples) {
      fill_sample(sample, batch.sig.inputs[k], batch.sig.preprocessing, batch.row(k, r), where + "[" + std::to_string(r) + "]");
      ++r;
    }
  }
}

}  // namespace

RequestBody parse_request_body(std::string_view text, const Signature& sig, Api api, int64_t max_rows) {
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(text.data(), text.size()).get(doc)) {
    if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE)
      bad("a number in the request body is out of range (an integer beyond 64 bits, or beyond double precision's "
          "range such as 1e400) or malformed; float32 inputs take numbers within +-3.4e38");
    bad(std::string("the request body is not valid JSON (") + simdjson::error_message(err) +
        "); NaN and Infinity are not JSON numbers");
  }
  if (doc.type() != dom::element_type::OBJECT) bad("the request body must be a JSON object, received " + describe(doc));
  dom::object o = doc.get_object().value_unsafe();
  dom::element signature;
  if (o["signature_name"].get(signature) == simdjson::SUCCESS) {
    std::string_view name;
    if (signature.get_string().get(name) || (!name.empty() && name != "serving_default"))
      throw RequestError(400, "signature_name " + describe(signature) + " is not a signature of this model; it has \"serving_default\"");
  }
  RequestBody body;
  Batch batch{body, sig};
  dom::element rows, columns;
  const char* row_key = "instances";
  bool has_rows = o["instances"].get(rows) == simdjson::SUCCESS;
  if (api == Api::kClassify) {
    if (o["examples"].get(rows) == simdjson::SUCCESS) {
      row_key = "examples";
      has_rows = true;
    }
    dom::element k;
    if (o["top_k"].get(k) == simdjson::SUCCESS) {
      int64_t v = 0;
      if (k.get_int64().get(v) || v < 1) bad("top_k must be a positive integer, received " + describe(k));
      body.top_k = v;
    }
  }
  const bool has_columns = api == Api::kPredict && o["inputs"].get(columns) == simdjson::SUCCESS;
  if (has_rows == has_columns)
    bad(api == Api::kPredict ? "the body must have exactly one of \"instances\" (row format) and \"inputs\" (columnar format)"
                             : "the body must have \"examples\" (or \"instances\"): a list of instances");
  if (has_columns) {
    body.columnar = true;
    read_columns(columns, batch, max_rows);
  } else {
    batch.allocate(rows_of(rows, row_key, max_rows));
    dom::array list;
    if (rows.get_array().get(list)) bad(std::string(row_key) + ": expected a list");
    read_rows(list, row_key, batch);
  }
  return body;
}

void append_float(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

namespace {
// One sample's values as nested lists of its shape.
void append_nested(std::string& out, const float*& p, const Shape& shape, size_t dim) {
  if (dim == shape.size()) {
    append_float(out, *p++);
    return;
  }
  out += '[';
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i) out += ',';
    append_nested(out, p, shape, dim + 1);
  }
  out += ']';
}

void append_sample(std::string& out, const Tensor& t, const Shape& shape, int64_t row) {
  const float* p = t.data() + row * shape_size(shape);
  append_nested(out, p, shape, 0);
}

void append_name(std::string& out, const std::string& name) { out += nlohmann::json(name).dump(); }
}  // namespace

std::string write_predict_response(const std::vector<Tensor>& outputs, const Signature& sig, bool columnar) {
  std::string out;
  const int64_t rows = outputs.empty() ? 0 : outputs[0].dim(0);
  out.reserve(static_cast<size_t>(rows * 16 * std::max<int64_t>(1, shape_size(sig.outputs[0].shape))) + 32);
  const bool single = outputs.size() == 1;
  if (columnar) {
    out += "{\"outputs\":";
    if (!single) out += '{';
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (k) out += ',';
      if (!single) (append_name(out, sig.outputs[k].name), out += ':');
      out += '[';
      for (int64_t r = 0; r < rows; ++r) {
        if (r) out += ',';
        append_sample(out, outputs[k], sig.outputs[k].shape, r);
      }
      out += ']';
    }
    out += single ? "}" : "}}";
    return out;
  }
  out += "{\"predictions\":[";
  for (int64_t r = 0; r < rows; ++r) {
    if (r) out += ',';
    if (!single) out += '{';
    for (size_t k = 0; k < outputs.size(); ++k) {
      if (k) out += ',';
      if (!single) (append_name(out, sig.outputs[k].name), out += ':');
      append_sample(out, outputs[k], sig.outputs[k].shape, r);
    }
    if (!single) out += '}';
  }
  out += "]}";
  return out;
}

std::string write_classify_response(const Tensor& scores, const Signature& sig, int64_t top_k) {
  const int64_t classes = scores.row_size();
  const int64_t k = top_k > 0 ? std::min(top_k, classes) : classes;
  std::vector<int64_t> order(static_cast<size_t>(classes));
  std::string out = "{\"result\":[";
  for (int64_t r = 0; r < scores.dim(0); ++r) {
    const float* p = scores.data() + r * classes;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [p](int64_t a, int64_t b) { return p[a] > p[b]; });
    out += r ? ",[" : "[";
    for (int64_t i = 0; i < k; ++i) {
      const int64_t c = order[static_cast<size_t>(i)];
      out += i ? ",[" : "[";
      append_name(out, c < static_cast<int64_t>(sig.class_names.size()) ? sig.class_names[static_cast<size_t>(c)]
                                                                        : std::to_string(c));
      out += ',';
      append_float(out, p[c]);
      out += ']';
    }
    out += ']';
  }
  out += "]}";
  return out;
}

}  // namespace kiln::serving
