// ONNX export: the model's graph walked in running order, each layer call written as ONNX
// operators. A 4-D tensor (batch, height, width, channels) may exist in either layout: Conv,
// pooling, padding and batch normalization take it channels-first (NCHW, as ONNX's operators
// and the runtimes' fast paths want it), Flatten, Reshape, crops and the model's outputs
// channels-last (NHWC, as Keras orders the values); a Transpose is written the first time a
// tensor is needed in the other layout, then reused. Elementwise operators keep their input's
// layout.
#include "kiln/onnx.hpp"

#include <map>
#include <set>

#include "graph_walk.hpp"
#include "kiln/error.hpp"
#include "kiln/io.hpp"
#include "onnx/graph_builder.hpp"
#include "onnx/layer_params.hpp"

namespace kiln {

namespace {

using onnx::Affine;
using onnx::Attribute;
using onnx::Geometry;
using onnx::batch_norm_affine;
using onnx::maybe_weight;
using onnx::weight_of;
using onnx::window;

// Where a node's output is: its ONNX value in channels-last order (any rank) and, for 4-D
// tensors, channels-first; either is empty until made.
struct Value {
  std::string nhwc, nchw;
  size_t rank = 0;  // with the batch axis
};

class Exporter {
 public:
  Exporter(const Model& model, const OnnxOptions& options) : model_(model), options_(options) {
    if (options.opset < 13 || options.opset > 17)
      throw ValueError("ONNX export: opset " + std::to_string(options.opset) + " is not supported; kiln writes 13 to 17");
  }

  std::string run() {
    const auto order = detail::nodes_in_running_order(model_.outputs());
    for (const Node* n : order)
      for (const auto& in : n->inputs) consumers_[in.node().get()].push_back(n);
    for (const auto& out : model_.outputs()) outputs_.insert(out.node().get());
    for (const auto& in : model_.inputs()) {
      const Node* n = in.node().get();
      Shape dims = n->output_shape;
      dims.insert(dims.begin(), -1);
      const std::string name = g_.unique(n->layer->name());
      g_.input(name, dims);
      values_[n] = {name, "", dims.size()};
      names_[n] = name;
    }
    for (const Node* n : order)
      if (!values_.contains(n)) emit(n);
    // Outputs carry their layers' names (an Identity where the value has another: a Dropout's output).
    for (const auto& out : model_.outputs()) {
      const Node* n = out.node().get();
      Shape dims = out.shape();
      dims.insert(dims.begin(), -1);
      std::string v = nhwc(n);
      if (v != names_.at(n)) v = g_.node("Identity", {v}, names_.at(n));
      g_.output(v, dims);
    }
    std::map<std::string, std::string> metadata = {
        {"kiln.preprocessing.rescale", nlohmann::json(model_.preprocessing.rescale).dump()}};
    if (!model_.class_names.empty()) metadata["kiln.class_names"] = nlohmann::json(model_.class_names).dump();
    return g_.model(model_.name(), options_.opset, metadata);
  }

 private:
  // The node's input i in channels-last order (any rank).
  std::string nhwc(const Node* n) {
    Value& v = values_.at(n);
    if (v.nhwc.empty())
      v.nhwc = g_.node("Transpose", {v.nchw}, g_.unique(v.nchw + "/nhwc"), {Attribute::Ints("perm", {0, 2, 3, 1})});
    return v.nhwc;
  }
  // A 4-D node output channels-first.
  std::string nchw(const Node* n) {
    Value& v = values_.at(n);
    if (v.nchw.empty())
      v.nchw = g_.node("Transpose", {v.nhwc}, g_.unique(v.nhwc + "/nchw"), {Attribute::Ints("perm", {0, 3, 1, 2})});
    return v.nchw;
  }
  // Input i of n, in the layout `first` says (true: channels-first).
  std::string input(const Node* n, size_t i, bool first) {
    const Node* in = n->inputs[i].node().get();
    return first ? nchw(in) : nhwc(in);
  }
  bool has_nchw(const Node* n, size_t i) const { return !values_.at(n->inputs[i].node().get()).nchw.empty(); }
  size_t rank_of(const Node* n) const { return n->output_shape.size() + 1; }
  void set(const Node* n, const std::string& name, bool first) {
    Value v{"", "", rank_of(n)};
    (first ? v.nchw : v.nhwc) = name;
    values_[n] = v;
  }

  // The activation `act` on x, written to `out` (x itself for "linear": the caller names x `out`).
  std::string activation(const std::string& act, const std::string& x, const std::string& out, int64_t axis,
                         const std::string& layer) {
    if (act == "linear") return x;
    if (act == "relu") return g_.node("Relu", {x}, out);
    if (act == "sigmoid") return g_.node("Sigmoid", {x}, out);
    if (act == "tanh") return g_.node("Tanh", {x}, out);
    if (act == "softmax") return g_.node("Softmax", {x}, out, {Attribute::Int("axis", axis)});
    throw ValueError("ONNX export: " + layer + ": activation '" + act + "' has no ONNX operator here");
  }

  // The batch normalization folded into n, if it can be: n's only reader, n linear and not an output.
  const Node* foldable_batch_norm(const Node* n, const nlohmann::json& cfg) const {
    if (!options_.fold_batch_norm || cfg.value("activation", "linear") != "linear" || outputs_.contains(n)) return nullptr;
    const auto it = consumers_.find(n);
    if (it == consumers_.end() || it->second.size() != 1) return nullptr;
    const Node* next = it->second[0];
    return next->layer->class_name() == "BatchNormalization" ? next : nullptr;
  }

  void emit(const Node* n) {
    const Layer& layer = *n->layer;
    const std::string cls = layer.class_name();
    const nlohmann::json cfg = layer.config();
    const std::string out = g_.unique(layer.name());
    names_[n] = out;
    const std::string where = "layer '" + layer.name() + "' (" + cls + ")";
    if (folded_.contains(n)) {  // its producer already applied it
      values_[n] = values_.at(n->inputs[0].node().get());
      return;
    }
    if (cls == "Dense") return dense(n, cfg, out, where);
    if (cls == "Conv2D") return conv(n, cfg, out, where);
    if (cls == "MaxPooling2D" || cls == "AveragePooling2D") {
      const Geometry w = window(cfg, "pool_size", n->inputs[0].shape(), where);
      std::vector<Attribute> attrs = {Attribute::Ints("kernel_shape", w.kernel), Attribute::Ints("strides", w.strides),
                                      Attribute::Ints("pads", w.pads)};
      if (cls == "AveragePooling2D") attrs.push_back(Attribute::Int("count_include_pad", 0));
      return set(n, g_.node(cls == "MaxPooling2D" ? "MaxPool" : "AveragePool", {input(n, 0, true)}, out, attrs), true);
    }
    if (cls == "GlobalAveragePooling2D" || cls == "GlobalMaxPooling2D") {
      const std::string pooled = g_.node(cls == "GlobalMaxPooling2D" ? "GlobalMaxPool" : "GlobalAveragePool",
                                         {input(n, 0, true)}, out + "/pooled");
      return set(n, g_.node("Flatten", {pooled}, out, {Attribute::Int("axis", 1)}), false);
    }
    if (cls == "BatchNormalization") return batch_norm(n, out);
    if (cls == "Dropout" || cls == "SpatialDropout2D" || cls == "RandomFlip" || cls == "RandomTranslation" ||
        cls == "RandomRotation" || cls == "RandomZoom") {
      values_[n] = values_.at(n->inputs[0].node().get());  // nothing at inference
      return;
    }
    if (cls == "RandomCrop") {  // the centred window at inference
      const Shape& in = n->inputs[0].shape();
      const int64_t h = cfg.at("height"), w = cfg.at("width"), top = (in[0] - h) / 2, left = (in[1] - w) / 2;
      return set(n,
                 g_.node("Slice",
                         {input(n, 0, false), g_.ints(out + "/starts", {top, left}), g_.ints(out + "/ends", {top + h, left + w}),
                          g_.ints(out + "/axes", {1, 2})},
                         out),
                 false);
    }
    if (cls == "Activation") return softmax_or_elementwise(n, cfg.at("activation").get<std::string>(), out, where);
    if (cls == "ReLU") return relu(n, cfg, out, where);
    if (cls == "Flatten") {
      if (n->inputs[0].shape().size() == 1) {
        values_[n] = values_.at(n->inputs[0].node().get());
        return;
      }
      return set(n, g_.node("Flatten", {input(n, 0, false)}, out, {Attribute::Int("axis", 1)}), false);
    }
    if (cls == "Reshape") {
      std::vector<int64_t> dims = {-1};
      dims.insert(dims.end(), n->output_shape.begin(), n->output_shape.end());
      return set(n, g_.node("Reshape", {input(n, 0, false), g_.ints(out + "/shape", dims)}, out), false);
    }
    if (cls == "ZeroPadding2D") {
      const auto& p = cfg.at("padding");
      const int64_t t = p[0][0], b = p[0][1], l = p[1][0], r = p[1][1];
      return set(n, g_.node("Pad", {input(n, 0, true), g_.ints(out + "/pads", {0, 0, t, l, 0, 0, b, r})}, out), true);
    }
    if (cls == "Rescaling") {
      const bool first = rank_of(n) == 4 && has_nchw(n, 0);
      const auto offset = static_cast<float>(cfg.at("offset").get<double>());
      const std::string scaled = g_.node("Mul", {input(n, 0, first), g_.scalar(out + "/scale", static_cast<float>(cfg.at("scale").get<double>()))},
                                         offset == 0 ? out : out + "/scaled");
      return set(n, offset == 0 ? scaled : g_.node("Add", {scaled, g_.scalar(out + "/offset", offset)}, out), first);
    }
    if (cls == "Add" || cls == "Subtract" || cls == "Multiply" || cls == "Maximum" || cls == "Minimum" || cls == "Average")
      return merge(n, cls, out);
    if (cls == "Concatenate") {
      const bool first = rank_of(n) == 4;
      int64_t axis = cfg.at("axis");
      if (axis < 0) axis += static_cast<int64_t>(rank_of(n));
      if (first) axis = axis == 3 ? 1 : axis + 1;  // NHWC's H, W, C are NCHW's 2, 3, 1
      std::vector<std::string> ins;
      for (size_t i = 0; i < n->inputs.size(); ++i) ins.push_back(input(n, i, first));
      return set(n, g_.node("Concat", ins, out, {Attribute::Int("axis", axis)}), first);
    }
    throw ValueError("ONNX export: " + where + " has no ONNX mapping in kiln");
  }

  void dense(const Node* n, const nlohmann::json& cfg, const std::string& out, const std::string& where) {
    const Layer& layer = *n->layer;
    const Tensor& kernel = weight_of(layer, "kernel");  // [in, units]
    const Tensor* bias = maybe_weight(layer, "bias");
    const int64_t in = kernel.dim(0), units = kernel.dim(1);
    const Node* bn = foldable_batch_norm(n, cfg);
    const Affine f = bn ? batch_norm_affine(*bn->layer) : Affine{std::vector<float>(units, 1.0f), std::vector<float>(units, 0.0f)};
    // Gemm with transB = 1 ([units, in]): the form every runtime's importer takes.
    std::vector<float> w(static_cast<size_t>(in * units)), b(static_cast<size_t>(units));
    for (int64_t u = 0; u < units; ++u) {
      for (int64_t i = 0; i < in; ++i) w[u * in + i] = kernel.data()[i * units + u] * f.a[u];
      b[u] = (bias ? bias->data()[u] : 0.0f) * f.a[u] + f.b[u];
    }
    const std::string act = cfg.at("activation");
    const std::string gemm = g_.node("Gemm",
                                     {input(n, 0, false), g_.weight(layer.name() + "/kernel", {units, in}, w.data()),
                                      g_.weight(layer.name() + "/bias", {units}, b.data())},
                                     act == "linear" ? out : out + "/Gemm", {Attribute::Int("transB", 1)});
    set(n, activation(act, gemm, out, -1, where), false);
    if (bn) folded_.insert(bn);
  }

  void conv(const Node* n, const nlohmann::json& cfg, const std::string& out, const std::string& where) {
    const Layer& layer = *n->layer;
    const Tensor& kernel = weight_of(layer, "kernel");  // [kh, kw, in, out]
    const Tensor* bias = maybe_weight(layer, "bias");
    const int64_t kh = kernel.dim(0), kw = kernel.dim(1), ci = kernel.dim(2), co = kernel.dim(3);
    const Node* bn = foldable_batch_norm(n, cfg);
    const Affine f = bn ? batch_norm_affine(*bn->layer) : Affine{std::vector<float>(co, 1.0f), std::vector<float>(co, 0.0f)};
    std::vector<float> w(static_cast<size_t>(kernel.size())), b(static_cast<size_t>(co));
    for (int64_t o = 0; o < co; ++o) {
      for (int64_t c = 0; c < ci; ++c)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            w[((o * ci + c) * kh + y) * kw + x] = kernel.data()[((y * kw + x) * ci + c) * co + o] * f.a[o];
      b[o] = (bias ? bias->data()[o] : 0.0f) * f.a[o] + f.b[o];
    }
    const Geometry g = window(cfg, "kernel_size", n->inputs[0].shape(), where);
    const std::string act = cfg.at("activation");
    const std::string y = g_.node("Conv",
                                  {input(n, 0, true), g_.weight(layer.name() + "/kernel", {co, ci, kh, kw}, w.data()),
                                   g_.weight(layer.name() + "/bias", {co}, b.data())},
                                  act == "linear" ? out : out + "/Conv",
                                  {Attribute::Ints("kernel_shape", g.kernel), Attribute::Ints("strides", g.strides),
                                   Attribute::Ints("dilations", g.dilations), Attribute::Ints("pads", g.pads)});
    set(n, activation(act, y, out, 1, where), true);  // a per-pixel softmax runs over the channels
    if (bn) folded_.insert(bn);
  }

  void batch_norm(const Node* n, const std::string& out) {
    const Layer& layer = *n->layer;
    const std::string name = layer.name();
    if (rank_of(n) == 4 || rank_of(n) == 2) {  // ONNX's BatchNormalization: channels on axis 1
      const Tensor& mean = weight_of(layer, "moving_mean");
      const int64_t channels = mean.size();
      const std::vector<float> zero(static_cast<size_t>(channels), 0.0f), one(static_cast<size_t>(channels), 1.0f);
      const Tensor* gamma = maybe_weight(layer, "gamma");
      const Tensor* beta = maybe_weight(layer, "beta");
      const bool first = rank_of(n) == 4;
      const auto eps = static_cast<float>(layer.config().at("epsilon").get<double>());
      return set(n,
                 g_.node("BatchNormalization",
                         {input(n, 0, first), g_.weight(name + "/gamma", {channels}, gamma ? gamma->data() : one.data()),
                          g_.weight(name + "/beta", {channels}, beta ? beta->data() : zero.data()),
                          g_.weight(name + "/moving_mean", mean), g_.weight(name + "/moving_variance", weight_of(layer, "moving_variance"))},
                         out, {Attribute::Float("epsilon", eps)}),
                 first);
    }
    // Other ranks keep the channels last: out = in * a + b, broadcast over the last axis.
    const Affine f = batch_norm_affine(layer);
    const auto channels = static_cast<int64_t>(f.a.size());
    const std::string scaled = g_.node("Mul", {input(n, 0, false), g_.weight(name + "/scale", {channels}, f.a.data())}, out + "/scaled");
    set(n, g_.node("Add", {scaled, g_.weight(name + "/shift", {channels}, f.b.data())}, out), false);
  }

  // An Activation layer: elementwise ones keep the layout; softmax runs over all of a sample's
  // values (kiln's Activation treats a sample as one row).
  void softmax_or_elementwise(const Node* n, const std::string& act, const std::string& out, const std::string& where) {
    if (act == "linear") {
      values_[n] = values_.at(n->inputs[0].node().get());
      return;
    }
    if (act != "softmax" || rank_of(n) == 2) {
      const bool first = rank_of(n) == 4 && has_nchw(n, 0);
      return set(n, activation(act, input(n, 0, first), out, -1, where), first);
    }
    const std::string flat = g_.node("Flatten", {input(n, 0, false)}, out + "/flat", {Attribute::Int("axis", 1)});
    const std::string soft = g_.node("Softmax", {flat}, out + "/softmax", {Attribute::Int("axis", 1)});
    std::vector<int64_t> dims = {-1};
    dims.insert(dims.end(), n->output_shape.begin(), n->output_shape.end());
    set(n, g_.node("Reshape", {soft, g_.ints(out + "/shape", dims)}, out), false);
  }

  // Keras's ReLU layer: max(x, 0) (Relu), with a negative slope (LeakyRelu), capped at
  // max_value (Clip, its bounds as inputs since opset 11; OpenCV 4.6 reads only the older form).
  void relu(const Node* n, const nlohmann::json& cfg, const std::string& out, const std::string& where) {
    if (cfg.value("threshold", 0.0) != 0.0)
      throw ValueError("ONNX export: " + where + ": a threshold other than 0 has no ONNX mapping in kiln");
    const bool first = rank_of(n) == 4 && has_nchw(n, 0);
    const double slope = cfg.value("negative_slope", 0.0);
    const bool capped = cfg.contains("max_value") && !cfg["max_value"].is_null();
    std::string x = input(n, 0, first);
    if (slope != 0)
      x = g_.node("LeakyRelu", {x}, capped ? out + "/leaky" : out, {Attribute::Float("alpha", static_cast<float>(slope))});
    else if (!capped)
      x = g_.node("Relu", {x}, out);
    if (capped) {
      const std::string low = slope != 0 ? "" : g_.scalar(out + "/min", 0.0f);  // "": no lower bound
      x = g_.node("Clip", {x, low, g_.scalar(out + "/max", static_cast<float>(cfg["max_value"].get<double>()))}, out);
    }
    set(n, x, first);
  }

  // Binary operators chained over the inputs (Average: their sum times 1 / count).
  void merge(const Node* n, const std::string& cls, const std::string& out) {
    const bool first = rank_of(n) == 4 && has_nchw(n, 0);
    static const std::map<std::string, std::string> ops = {{"Add", "Add"}, {"Subtract", "Sub"}, {"Multiply", "Mul"},
                                                           {"Maximum", "Max"}, {"Minimum", "Min"}, {"Average", "Add"}};
    const std::string op = ops.at(cls);
    const size_t k = n->inputs.size();
    std::string acc = input(n, 0, first);
    for (size_t i = 1; i < k; ++i) {
      const bool last = i + 1 == k && cls != "Average";
      acc = g_.node(op, {acc, input(n, i, first)}, last ? out : out + "/" + op + std::to_string(i));
    }
    if (cls == "Average") acc = g_.node("Mul", {acc, g_.scalar(out + "/count", 1.0f / static_cast<float>(k))}, out);
    set(n, acc, first);
  }

  const Model& model_;
  OnnxOptions options_;
  onnx::GraphBuilder g_;
  std::map<const Node*, Value> values_;
  std::map<const Node*, std::string> names_;  // each call's own name (its layer's, made unique)
  std::map<const Node*, std::vector<const Node*>> consumers_;
  std::set<const Node*> outputs_, folded_;
};

}  // namespace

std::string onnx_model(const Model& model, const OnnxOptions& options) { return Exporter(model, options).run(); }

void export_onnx(const Model& model, const std::filesystem::path& path, const OnnxOptions& options) {
  io::write_file_atomic(path, onnx_model(model, options));
}

}  // namespace kiln
