// Model::save("x.keras"): a Keras 3 archive laid out as Keras's saving_lib writes it (read from
// Keras 3.16's source): an uncompressed zip of metadata.json, config.json and
// model.weights.h5, in that order. config.json wraps every object as {"module", "class_name",
// "config", "registered_name"}, gives each layer its build_config, and a functional model's
// inbound nodes as {"args": [...], "kwargs": {}} of "__keras_tensor__" objects; the weights
// file holds layers/<class in snake case>[_k]/vars/<i>, groups only for layers with weights.
#include <archive.h>
#include <archive_entry.h>

#include <chrono>
#include <ctime>

#include "graph_walk.hpp"
#include "io/keras.hpp"
#include "io/model_config.hpp"
#include "kiln/io.hpp"
#include "kiln/layers/registry.hpp"
#include "kiln/version.hpp"

namespace kiln::io {

namespace {

using Json = nlohmann::ordered_json;

// The Keras version whose layout kiln writes; metadata.json names it, and kiln's own version.
constexpr const char* kKerasLayoutVersion = "3.16.0";

Json wrapped(const char* module, const std::string& cls, Json config,
             const Json& registered = nullptr) {
  return {{"module", module},
          {"class_name", cls},
          {"config", std::move(config)},
          {"registered_name", registered}};
}

Json dtype_policy(const std::string& name) {
  return wrapped("keras", "DTypePolicy", {{"name", name}});
}

// kiln's {"class_name", "config"} objects inside a layer's config, wrapped as Keras 3 writes them.
Json keras_layer_config(const Layer& layer) {
  Json cfg = layers::to_config(layer);
  for (auto& [key, v] : cfg.items()) {
    if (key == "dtype")
      v = dtype_policy(v.is_string() ? v.get<std::string>()
                                     : v["config"]["name"].get<std::string>());
    const char* module = key.ends_with("_initializer")   ? "keras.initializers"
                         : key.ends_with("_regularizer") ? "keras.regularizers"
                                                         : nullptr;
    if (module && v.is_object() && v.contains("class_name"))
      v = wrapped(module, v["class_name"].get<std::string>(), v.value("config", Json::object()));
  }
  return cfg;
}

Json batch_shape(const Shape& per_sample) {
  Json s = Json::array({nullptr});
  for (int64_t d : per_sample) s.push_back(d);
  return s;
}

Json input_entry(const SymbolicTensor& input) {
  Json cfg = {{"batch_shape", batch_shape(input.shape())},
              {"dtype", "float32"},
              {"sparse", false},
              {"name", input.layer()->name()}};
  return wrapped("keras.layers", "InputLayer", cfg);
}

Json layer_entry(const Layer& layer, const Json& build_input_shape) {
  Json entry = wrapped("keras.layers", layer.class_name(), keras_layer_config(layer));
  entry["build_config"] = {{"input_shape", build_input_shape}};
  return entry;
}

Json keras_sequential_config(const Model& model) {
  const Json input_shape = batch_shape(model.input_shape());
  Json layers = Json::array({input_entry(model.inputs()[0])});
  for (const auto& call : detail::layer_calls(model))
    if (call.node->layer->class_name() != "InputLayer")
      layers.push_back(layer_entry(*call.node->layer, batch_shape(call.node->inputs[0].shape())));
  Json config = {{"name", model.name()},
                 {"trainable", true},
                 {"dtype", dtype_policy("float32")},
                 {"layers", layers},
                 {"build_input_shape", input_shape}};
  Json top = wrapped("keras", "Sequential", config);
  top["build_config"] = {{"input_shape", input_shape}};
  return top;
}

Json keras_functional_config(const Model& model) {
  const std::vector<detail::LayerCall> calls = detail::layer_calls(model);
  Json layers = Json::array();
  for (const auto& layer : model.layers()) {
    Json entry;
    Json inbound = Json::array();
    if (layer->class_name() == "InputLayer") {
      for (const auto& in : model.inputs())
        if (in.layer().get() == layer.get()) entry = input_entry(in);
    } else {
      Json build_shape;
      for (const auto& call : calls) {
        if (call.node->layer.get() != layer.get()) continue;
        Json args = Json::array(), shapes = Json::array();
        for (size_t i = 0; i < call.inputs.size(); ++i) {
          const Shape& s = call.node->inputs[i].shape();
          args.push_back({{"class_name", "__keras_tensor__"},
                          {"config",
                           {{"shape", batch_shape(s)},
                            {"dtype", "float32"},
                            {"keras_history",
                             {call.inputs[i].layer, call.inputs[i].node_index,
                              call.inputs[i].tensor_index}}}}});
          shapes.push_back(batch_shape(s));
        }
        // A merge layer is called on a list of tensors: one argument, the list.
        const bool merge = call.inputs.size() > 1;
        inbound.push_back(
            {{"args", merge ? Json::array({args}) : args}, {"kwargs", Json::object()}});
        if (build_shape.is_null()) build_shape = merge ? shapes : shapes[0];
      }
      entry = layer_entry(*layer, build_shape);
    }
    entry["name"] = layer->name();
    entry["inbound_nodes"] = inbound;
    layers.push_back(entry);
  }
  Json config = {{"name", model.name()},
                 {"trainable", true},
                 {"layers", layers},
                 {"input_layers", endpoint_refs(model.inputs(), calls)},
                 {"output_layers", endpoint_refs(model.outputs(), calls)}};
  Json top = wrapped("keras.src.models.functional", "Functional", config, "Functional");
  top["build_config"] = {{"input_shape", nullptr}};
  return top;
}

Json compile_config(const Model& model) {
  const Json opt = model.optimizer()->config();
  const Json loss = model.loss()->config();
  const Json weighted = model.weighted_metric_names();
  return {{"optimizer", wrapped("keras.optimizers", model.optimizer()->class_name(), opt)},
          {"loss", loss.is_object() && loss.contains("class_name")
                       ? wrapped("keras.losses", loss["class_name"].get<std::string>(),
                                 loss.value("config", Json::object()))
                       : loss},
          {"loss_weights", nullptr},
          {"metrics", model.metric_names()},
          {"weighted_metrics", weighted.empty() ? Json() : weighted},
          {"run_eagerly", false},
          {"steps_per_execution", 1},
          {"jit_compile", false}};
}

std::string weights_file(const Model& model, const std::string& source) {
  h5::File file = h5::File::create_in_memory(source + " model.weights.h5");
  const std::vector<std::string> groups = keras3_groups(model.layers());
  for (size_t k = 0; k < groups.size(); ++k) {
    const auto& layer = model.layers()[k];
    if (layer->params().empty()) continue;
    const std::string vars = groups[k] + "/vars";
    file.create_group(vars);
    const auto& params = layer->params();
    for (size_t i = 0; i < params.size(); ++i)
      file.write_floats(vars + "/" + std::to_string(i), params[i].value);
  }
  return file.image();
}

std::string now_keras_style() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d@%H:%M:%S", &tm);
  return buf;
}

// An uncompressed zip of the members, in order, as bytes.
std::string zip_stored(const std::vector<std::pair<std::string, std::string>>& members,
                       const std::string& source) {
  std::string out;
  std::unique_ptr<archive, int (*)(archive*)> a(archive_write_new(), &archive_write_free);
  auto check = [&](int rc, const char* what) {
    if (rc != ARCHIVE_OK) {
      const char* why = archive_error_string(a.get());
      throw IoError(source + ": cannot " + what + (why ? std::string(": ") + why : std::string()));
    }
  };
  check(archive_write_set_format_zip(a.get()), "start a zip archive");
  check(archive_write_set_options(a.get(), "zip:compression=store"), "set the zip's compression");
  check(archive_write_set_bytes_in_last_block(a.get(), 1), "set the zip's block size");
  check(archive_write_open(
            a.get(), &out, nullptr,
            [](archive*, void* data, const void* buf, size_t n) -> la_ssize_t {
              static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
              return static_cast<la_ssize_t>(n);
            },
            nullptr),
        "open the zip archive");
  const std::time_t now = std::time(nullptr);
  for (const auto& [name, bytes] : members) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                   &archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_mtime(entry.get(), now, 0);
    check(archive_write_header(a.get(), entry.get()), ("write the zip header of " + name).c_str());
    if (archive_write_data(a.get(), bytes.data(), bytes.size()) !=
        static_cast<la_ssize_t>(bytes.size()))
      check(ARCHIVE_FATAL, ("write " + name + " into the zip").c_str());
  }
  check(archive_write_close(a.get()), "finish the zip archive");
  return out;
}

}  // namespace

void save_keras_file(const Model& model, const std::filesystem::path& path) {
  const std::string source = path.string();
  Json config = model.class_name() == "Sequential" ? keras_sequential_config(model)
                                                   : keras_functional_config(model);
  if (model.compiled()) config["compile_config"] = compile_config(model);
  const Json metadata = {{"keras_version", kKerasLayoutVersion},
                         {"date_saved", now_keras_style()},
                         {"kiln_version", kVersion}};
  write_file_atomic(path, zip_stored({{"metadata.json", metadata.dump()},
                                      {"config.json", config.dump()},
                                      {"model.weights.h5", weights_file(model, source)}},
                                     source));
}

}  // namespace kiln::io
