// The sample stages that make samples: rows of arrays, a user's function, and map.
#include <cstring>

#include "data/spec.hpp"

namespace kiln::data::detail {

namespace {

template <typename T>
BasicTensor<T> row_of(const BasicTensor<T>& all, int64_t i) {
  Shape shape(all.shape().begin() + 1, all.shape().end());
  BasicTensor<T> row(shape);
  std::memcpy(row.data(), all.data() + i * all.row_size(), sizeof(T) * static_cast<size_t>(all.row_size()));
  return row;
}

class ArrayNode : public Node {
 public:
  ArrayNode(std::vector<Inputs> x, Labels y, std::vector<float> weights)
      : x_(std::move(x)), y_(std::move(y)), weights_(std::move(weights)) {
    if (x_.empty()) throw ValueError("from_tensor_slices: expected at least one array of inputs");
    const int64_t n = x_[0].rows();
    for (const auto& in : x_)
      if (in.rank() == 0 || in.rows() != n)
        throw ShapeError("from_tensor_slices: every array must have the same number of rows; received " +
                         std::to_string(in.rows()) + " and " + std::to_string(n));
    if (y_.size() != 0 && y_.size() != n)
      throw ShapeError("from_tensor_slices: " + std::to_string(n) + " samples but " + std::to_string(y_.size()) +
                       " targets");
    if (!weights_.empty() && static_cast<int64_t>(weights_.size()) != n)
      throw ShapeError("from_tensor_slices: " + std::to_string(n) + " samples but " +
                       std::to_string(weights_.size()) + " sample weights");
  }
  int64_t size() const override { return x_[0].rows(); }
  bool get(int64_t i, const Context&, Example& e) const override {
    e.x.clear();
    for (const auto& in : x_)
      e.x.emplace_back(in.is_float() ? Feature(row_of(in.floats(), i)) : Feature(row_of(in.bytes(), i)));
    if (y_.size() != 0) {
      if (y_.sparse())
        e.label = y_[i];
      else
        e.target = row_of(y_.floats(), i);
    }
    if (!weights_.empty()) e.weight = weights_[i];
    return true;
  }
  std::string name() const override {
    std::string s = "arrays(" + std::to_string(size()) + " rows";
    for (const auto& in : x_) s += ", " + shape_str(in.shape()) + (in.is_float() ? " float32" : " uint8");
    return s + ")";
  }
  bool has_labels() const override { return y_.size() != 0; }
  bool has_weights() const override { return !weights_.empty(); }

 private:
  std::vector<Inputs> x_;
  Labels y_;
  std::vector<float> weights_;
};

class FunctionNode : public Node {
 public:
  FunctionNode(int64_t size, SampleFn get, std::string name, bool has_weights, bool has_labels)
      : size_(size), get_(std::move(get)), name_(std::move(name)), has_weights_(has_weights), has_labels_(has_labels) {
    if (size < 0) throw ValueError("from_function: size must be >= 0, received " + std::to_string(size));
    if (!get_) throw ValueError("from_function: expected a function that makes samples");
  }
  int64_t size() const override { return size_; }
  bool get(int64_t i, const Context&, Example& e) const override { return get_(i, e); }
  std::string name() const override { return name_; }
  bool has_labels() const override { return has_labels_; }
  bool has_weights() const override { return has_weights_; }

 private:
  int64_t size_;
  SampleFn get_;
  std::string name_;
  bool has_weights_, has_labels_;
};

class MapNode : public Node {
 public:
  MapNode(std::shared_ptr<const Node> parent, MapFn fn, int index)
      : parent_(std::move(parent)), fn_(std::move(fn)), index_(index) {
    if (!fn_) throw ValueError("map: expected a function");
  }
  int64_t size() const override { return parent_->size(); }
  bool get(int64_t i, const Context& context, Example& e) const override {
    if (!parent_->get(i, context, e)) return false;
    // The function gets the sample's own arrays: one that edits them in place must not change
    // a cached sample (a memory cache hands out views of its storage).
    for (auto& f : e.x) std::visit([](auto& t) { t = t.clone(); }, f);
    if (!e.target.empty()) e.target = e.target.clone();
    const RandomStream random = RandomStream(context.seed)
                                    .fork(0x6d6170 + static_cast<uint64_t>(index_))
                                    .fork(static_cast<uint64_t>(context.epoch))
                                    .fork(static_cast<uint64_t>(i));
    fn_(e, random);
    return true;
  }
  // A function cannot be named: a cache file after a map trusts that the map is the same.
  std::string name() const override { return parent_->name() + ".map(" + std::to_string(index_) + ")"; }
  bool has_labels() const override { return parent_->has_labels(); }
  bool has_weights() const override { return parent_->has_weights(); }

 private:
  std::shared_ptr<const Node> parent_;
  MapFn fn_;
  int index_;  // the map's place among the pipeline's maps, so that two maps draw differently
};

int count_maps(const std::string& name) {
  int n = 0;
  for (size_t at = name.find(".map("); at != std::string::npos; at = name.find(".map(", at + 1)) ++n;
  return n;
}

}  // namespace

Shape feature_shape(const Feature& f) {
  return std::visit([](const auto& t) { return t.shape(); }, f);
}
bool is_bytes(const Feature& f) { return std::holds_alternative<ByteTensor>(f); }

std::shared_ptr<const Node> array_node(std::vector<Inputs> x, Labels y, std::vector<float> weights) {
  return std::make_shared<ArrayNode>(std::move(x), std::move(y), std::move(weights));
}
std::shared_ptr<const Node> function_node(int64_t size, SampleFn get, std::string name, bool has_weights,
                                          bool has_labels) {
  return std::make_shared<FunctionNode>(size, std::move(get), std::move(name), has_weights, has_labels);
}
std::shared_ptr<const Node> map_node(std::shared_ptr<const Node> parent, MapFn fn) {
  const int index = count_maps(parent->name());
  return std::make_shared<MapNode>(std::move(parent), std::move(fn), index);
}

}  // namespace kiln::data::detail
