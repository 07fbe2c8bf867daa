// A functional model's config.json architecture. Written as Keras 2 writes it: each layer with
// "inbound_nodes", one entry per call, each call a list of [layer, node index, tensor index, {}];
// "input_layers" and "output_layers" as [layer, node index, tensor index] lists. Read in that
// layout and in Keras 3's, whose calls are {"args": [...], "kwargs": {...}} holding
// {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, tensor]}}.
#include <map>

#include "graph_walk.hpp"
#include "io/json_fields.hpp"
#include "io/model_config.hpp"
#include "kiln/layers/core.hpp"
#include "kiln/layers/registry.hpp"

namespace kiln::io {

namespace {

using Json = nlohmann::json;

struct TensorRef {
  std::string layer;
  int64_t node = 0, tensor = 0;
};

// [layer, node, tensor] or [layer, node, tensor, kwargs].
TensorRef parse_ref(const Json& v, const std::string& where) {
  if (!v.is_array() || v.size() < 3 || v.size() > 4 || !v[0].is_string() || !v[1].is_number_integer() ||
      !v[2].is_number_integer())
    throw ConfigError(where + ": expected a tensor reference [layer name, node index, tensor index], received " +
                      v.dump());
  return {v[0].get<std::string>(), v[1].get<int64_t>(), v[2].get<int64_t>()};
}

// Keras 3's symbolic tensors inside a call's arguments, in order (a merge layer's list too).
void collect_keras_tensors(const Json& v, const std::string& where, std::vector<TensorRef>& out) {
  if (v.is_array()) {
    for (const auto& item : v) collect_keras_tensors(item, where, out);
  } else if (v.is_object() && v.value("class_name", "") == "__keras_tensor__") {
    out.push_back(parse_ref(field(field(v, "config", where), "keras_history", where), where));
  }
}

// One call's inputs, in either layout.
std::vector<TensorRef> parse_call(const Json& call, const std::string& where) {
  std::vector<TensorRef> refs;
  if (call.is_object()) {  // Keras 3
    collect_keras_tensors(field(call, "args", where), where, refs);
    if (call.contains("kwargs")) collect_keras_tensors(call["kwargs"], where, refs);
  } else if (call.is_array()) {  // Keras 2
    for (const auto& entry : call) refs.push_back(parse_ref(entry, where));
  } else {
    throw ConfigError(where + ": expected an inbound node (a list of tensor references, or Keras 3's "
                      "{\"args\": ..., \"kwargs\": ...}), received " + call.dump());
  }
  if (refs.empty()) throw ConfigError(where + ": an inbound node reads no tensor: " + call.dump());
  return refs;
}

// input_layers / output_layers: a list of references, or Keras 3's one reference written flat.
std::vector<TensorRef> parse_endpoints(const Json& v, const std::string& where) {
  if (v.is_array() && !v.empty() && v[0].is_string()) return {parse_ref(v, where)};
  if (!v.is_array() || v.empty())
    throw ConfigError(where + ": expected a list of [layer name, node index, tensor index], received " + v.dump());
  std::vector<TensorRef> refs;
  for (const auto& item : v) refs.push_back(parse_ref(item, where));
  return refs;
}

struct LayerEntry {
  std::string name;
  LayerRef layer;
  std::vector<std::vector<TensorRef>> calls;
};

}  // namespace

nlohmann::ordered_json endpoint_refs(const std::vector<SymbolicTensor>& tensors,
                                     const std::vector<detail::LayerCall>& calls) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& t : tensors)
    for (const auto& call : calls)
      if (call.node == t.node().get()) out.push_back({t.layer()->name(), call.node_index, 0});
  return out;
}

nlohmann::ordered_json functional_config(const Model& model) {
  std::vector<detail::LayerCall> calls = detail::layer_calls(model);
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const auto& layer : model.layers()) {
    nlohmann::ordered_json inbound = nlohmann::ordered_json::array(), cfg;
    if (layer->class_name() == "InputLayer") {
      cfg = layer->config();
      cfg["name"] = layer->name();
    } else {
      cfg = layers::to_config(*layer);
      for (const auto& call : calls) {
        if (call.node->layer.get() != layer.get()) continue;
        nlohmann::ordered_json node = nlohmann::ordered_json::array();
        for (const auto& in : call.inputs)
          node.push_back({in.layer, in.node_index, in.tensor_index, nlohmann::ordered_json::object()});
        inbound.push_back(node);
      }
    }
    layers.push_back(
        {{"class_name", layer->class_name()}, {"config", cfg}, {"name", layer->name()}, {"inbound_nodes", inbound}});
  }
  return {{"name", model.name()},
          {"layers", layers},
          {"input_layers", endpoint_refs(model.inputs(), calls)},
          {"output_layers", endpoint_refs(model.outputs(), calls)}};
}

Model functional_from_config(const Json& inner, const std::string& source) {
  const auto& layers_json = field(inner, "layers", source + " config");
  if (!layers_json.is_array() || layers_json.empty())
    throw ConfigError(source + ": config.layers must be a non-empty array, received " + layers_json.dump());
  std::vector<LayerEntry> entries;
  std::map<std::string, std::vector<SymbolicTensor>> made;  // per layer name, its calls' outputs
  for (size_t i = 0; i < layers_json.size(); ++i) {
    const Json& entry = layers_json[i];
    std::string where = source + " layer " + std::to_string(i);
    std::string cls = get_as<std::string>(entry, "class_name", where, "a string");
    const Json& cfg = field(entry, "config", where);
    std::string name = entry.contains("name") ? get_as<std::string>(entry, "name", where, "a string")
                                              : get_as<std::string>(cfg, "name", where, "a string");
    where += " '" + name + "'";
    for (const auto& e : entries)
      if (e.name == name) throw ConfigError(source + ": two layers are named '" + name + "'");
    if (made.count(name)) throw ConfigError(source + ": two layers are named '" + name + "'");
    if (cls == "InputLayer") {
      made[name].push_back(Input(input_layer_shape(cfg, where), name));
      continue;
    }
    LayerEntry e{name, layers::from_config(cls, cfg), {}};
    e.layer->set_name(name);
    const Json& inbound = field(entry, "inbound_nodes", where);
    if (!inbound.is_array())
      throw ConfigError(where + ": field 'inbound_nodes' must be a list, received " + inbound.dump());
    for (const auto& call : inbound) e.calls.push_back(parse_call(call, where + " inbound_nodes"));
    entries.push_back(std::move(e));
  }
  auto is_layer = [&](const std::string& name) {
    if (made.count(name)) return true;
    for (const auto& e : entries)
      if (e.name == name) return true;
    return false;
  };
  // Calls run as soon as what they read exists; a layer's calls run in order (its node k is its
  // k-th call). What never becomes ready reads from a cycle or from a call that is not there.
  std::vector<size_t> done(entries.size(), 0);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      auto& e = entries[i];
      while (done[i] < e.calls.size()) {
        std::vector<SymbolicTensor> args;
        for (const auto& ref : e.calls[done[i]]) {
          if (!is_layer(ref.layer))
            throw ConfigError(source + ": layer '" + e.name + "' reads from '" + ref.layer +
                              "', which is not a layer of the model");
          if (ref.tensor != 0)
            throw ConfigError(source + ": layer '" + e.name + "' reads output " + std::to_string(ref.tensor) +
                              " of '" + ref.layer + "', which has one output");
          auto it = made.find(ref.layer);
          if (it == made.end() || ref.node < 0 || ref.node >= static_cast<int64_t>(it->second.size())) break;
          args.push_back(it->second[static_cast<size_t>(ref.node)]);
        }
        if (args.size() != e.calls[done[i]].size()) break;
        try {
          made[e.name].push_back(e.calls[done[i]].size() == 1 ? e.layer(args[0]) : e.layer(args));
        } catch (const ShapeError& err) {
          throw ConfigError(source + ": layer '" + e.name + "': " + err.what());
        } catch (const ValueError& err) {
          throw ConfigError(source + ": layer '" + e.name + "': " + err.what());
        }
        ++done[i];
        progress = true;
      }
    }
  }
  for (size_t i = 0; i < entries.size(); ++i)
    if (done[i] < entries[i].calls.size()) {
      std::string waits;
      for (const auto& ref : entries[i].calls[done[i]])
        waits += (waits.empty() ? "'" : ", '") + ref.layer + "' node " + std::to_string(ref.node);
      throw ConfigError(source + ": layer '" + entries[i].name + "' can never run: it reads " + waits +
                        ", which a cycle or a missing call never produces");
    }
  auto endpoints = [&](const char* key) {
    std::vector<SymbolicTensor> out;
    for (const auto& ref : parse_endpoints(field(inner, key, source + " config"), source + " " + key)) {
      auto it = made.find(ref.layer);
      if (it == made.end() || ref.node < 0 || ref.node >= static_cast<int64_t>(it->second.size()) || ref.tensor != 0)
        throw ConfigError(source + ": " + key + " names ['" + ref.layer + "', " + std::to_string(ref.node) + ", " +
                          std::to_string(ref.tensor) + "], which is not " +
                          (is_layer(ref.layer) ? "a call of that layer" : "a layer of the model"));
      out.push_back(it->second[static_cast<size_t>(ref.node)]);
    }
    return out;
  };
  std::vector<SymbolicTensor> inputs = endpoints("input_layers"), outputs = endpoints("output_layers");
  try {
    return Model(inputs, outputs, get_or<std::string>(inner, "name", source, "a string", "model"));
  } catch (const ValueError& err) {
    throw ConfigError(source + ": " + err.what());
  }
}

}  // namespace kiln::io
