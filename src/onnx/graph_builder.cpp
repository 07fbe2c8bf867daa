#include "onnx/graph_builder.hpp"

namespace kiln::onnx {

namespace {

// onnx.proto's TensorProto.DataType and AttributeProto.AttributeType values.
constexpr int kFloatType = 1, kInt64Type = 7;
constexpr int kAttrFloat = 1, kAttrInt = 2, kAttrString = 3, kAttrInts = 7;
// IR version 8 is the one opsets 14 to 17 belong to (onnx 1.10 to 1.12).
constexpr int64_t kIrVersion = 8;

}  // namespace

std::string GraphBuilder::unique(const std::string& base) {
  const int n = used_[base]++;
  return n == 0 ? base : base + "_" + std::to_string(n);
}

std::string GraphBuilder::weight(const std::string& name, const Shape& dims, const float* values) {
  const std::string unique_name = unique(name);
  pb::Message t;
  t.packed_int64(1, dims).varint(2, kFloatType).bytes(8, unique_name);
  t.bytes(9, std::string_view(reinterpret_cast<const char*>(values), 4 * static_cast<size_t>(shape_size(dims))));
  initializers_.push_back(std::move(t));
  return unique_name;
}

std::string GraphBuilder::ints(const std::string& name, const std::vector<int64_t>& values) {
  const std::string unique_name = unique(name);
  const int64_t n = static_cast<int64_t>(values.size());
  pb::Message t;
  t.packed_int64(1, std::span<const int64_t>(&n, 1)).varint(2, kInt64Type).bytes(8, unique_name);
  t.bytes(9, std::string_view(reinterpret_cast<const char*>(values.data()), 8 * values.size()));
  initializers_.push_back(std::move(t));
  return unique_name;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                               const std::vector<Attribute>& attributes) {
  pb::Message n;
  for (const auto& in : inputs) n.bytes(1, in);
  n.bytes(2, output).bytes(3, unique(output + "/" + op)).bytes(4, op);
  for (const auto& a : attributes) {
    pb::Message m;
    m.bytes(1, a.name);
    switch (a.kind) {
      case Attribute::kInt: m.int64(3, a.i).varint(20, kAttrInt); break;
      case Attribute::kFloat: m.float32(2, a.f).varint(20, kAttrFloat); break;
      case Attribute::kInts: m.packed_int64(8, a.ints).varint(20, kAttrInts); break;
      case Attribute::kString: m.bytes(4, a.s).varint(20, kAttrString); break;
    }
    n.message(5, m);
  }
  graph_.message(1, n);
  return output;
}

pb::Message GraphBuilder::value_info(const std::string& name, const Shape& dims) {
  pb::Message shape;
  for (int64_t d : dims) {
    pb::Message dim;
    if (d < 0)
      dim.bytes(2, "batch");
    else
      dim.int64(1, d);
    shape.message(1, dim);
  }
  pb::Message tensor_type;
  tensor_type.varint(1, kFloatType).message(2, shape);
  pb::Message type;
  type.message(1, tensor_type);
  pb::Message info;
  info.bytes(1, name).message(2, type);
  return info;
}

std::string GraphBuilder::model(const std::string& graph_name, int64_t opset,
                                const std::map<std::string, std::string>& metadata) const {
  pb::Message graph = graph_;
  graph.bytes(2, graph_name);
  for (const auto& t : initializers_) graph.message(5, t);
  for (const auto& v : inputs_) graph.message(11, v);
  for (const auto& v : outputs_) graph.message(12, v);
  pb::Message opset_id;
  opset_id.bytes(1, "").int64(2, opset);
  pb::Message model;
  model.int64(1, kIrVersion).bytes(2, "kiln").message(7, graph).message(8, opset_id);
  for (const auto& [key, value] : metadata) {
    pb::Message entry;
    entry.bytes(1, key).bytes(2, value);
    model.message(14, entry);
  }
  return model.str();
}

}  // namespace kiln::onnx
