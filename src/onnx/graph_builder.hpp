// An ONNX graph under construction: nodes, initializers (the weights), inputs and outputs, and
// the ModelProto that holds them. Field numbers are onnx.proto's (ModelProto, GraphProto,
// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kiln/tensor.hpp"
#include "onnx/protobuf.hpp"

namespace kiln::onnx {

// A node attribute: an int, a float, a list of ints, or a string.
struct Attribute {
  std::string name;
  enum Kind { kInt, kFloat, kInts, kString } kind = kInt;
  int64_t i = 0;
  float f = 0;
  std::vector<int64_t> ints;
  std::string s;
  static Attribute Int(std::string name, int64_t v) { return {std::move(name), kInt, v}; }
  static Attribute Float(std::string name, float v) { return {std::move(name), kFloat, 0, v}; }
  static Attribute Ints(std::string name, std::vector<int64_t> v) { return {std::move(name), kInts, 0, 0, std::move(v)}; }
};

class GraphBuilder {
 public:
  // A float32 weight (dims as given, values row-major); returns its name.
  std::string weight(const std::string& name, const Shape& dims, const float* values);
  std::string weight(const std::string& name, const Tensor& t) { return weight(name, t.shape(), t.data()); }
  // An int64 constant (shapes, pads, axes), as a 1-D initializer.
  std::string ints(const std::string& name, const std::vector<int64_t>& values);
  // A float scalar constant.
  std::string scalar(const std::string& name, float value) { return weight(name, {}, &value); }
  // Appends a node; returns its (first) output's name.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                   const std::vector<Attribute>& attributes = {});
  // A float32 graph input or output: dims < 0 are the dynamic batch, named "batch".
  void input(const std::string& name, const Shape& dims) { inputs_.push_back(value_info(name, dims)); }
  void output(const std::string& name, const Shape& dims) { outputs_.push_back(value_info(name, dims)); }
  // A name not used yet, from `base` ("dense/MatMul", then "dense/MatMul_1", ...).
  std::string unique(const std::string& base);
  // The ModelProto's bytes.
  std::string model(const std::string& graph_name, int64_t opset, const std::map<std::string, std::string>& metadata) const;

 private:
  static pb::Message value_info(const std::string& name, const Shape& dims);
  pb::Message graph_;  // nodes, then (in model()) the rest
  std::vector<pb::Message> initializers_, inputs_, outputs_;
  std::map<std::string, int> used_;
};

}  // namespace kiln::onnx
