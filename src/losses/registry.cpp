// Losses by Keras name, alias or serialized config. Each reads its own arguments; a field no
// argument takes is a ConfigError, as Keras's from_config raises on an unexpected keyword.
#include <functional>

#include "io/strict_fields.hpp"
#include "losses/loss_common.hpp"

namespace kiln::losses {

namespace {

// A loss's config, read strictly (io::FieldReader).
struct Reader : io::FieldReader {
  // Keras's fields that kiln takes at their default only (axis -1, ignore_class null).
  void fixed(const char* key, const nlohmann::json& only) const {
    mark(key);
    if (cfg.contains(key) && cfg[key] != only)
      throw ConfigError(in + ": kiln supports " + key + "=" + only.dump() + " only, received " +
                        cfg[key].dump());
  }
  // name, reduction and dtype, which every loss takes.
  void check_common() const {
    get<std::string>("name", "", "a string");
    const std::string reduction = get<std::string>("reduction", kReduction, "a string");
    // "mean" is the same reduction in Keras 3, "auto" Keras 2's name for it.
    if (reduction != kReduction && reduction != "mean" && reduction != "auto")
      throw ConfigError(in + ": kiln supports reduction \"sum_over_batch_size\" only, received \"" +
                        reduction + "\"");
    mark("dtype");
    if (cfg.contains("dtype") && !cfg["dtype"].is_null()) {
      const std::string dtype = io::dtype_policy_name(cfg["dtype"], in);
      if (dtype != "float32")
        throw ConfigError(in + ": kiln computes losses in float32, received dtype \"" + dtype +
                          "\"");
    }
  }
};

using Make = std::function<std::shared_ptr<Loss>(const Reader&)>;

struct Entry {
  std::vector<std::string> names;  // the class name first, then the function name and aliases
  Make make;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {{"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"},
       [](const Reader& r) {
         r.fixed("axis", -1);
         r.fixed("ignore_class", nullptr);
         return std::make_shared<SparseCategoricalCrossentropy>(
             SparseCategoricalCrossentropyOptions{.from_logits = r.flag("from_logits", false)});
       }},
      {{"CategoricalCrossentropy", "categorical_crossentropy"},
       [](const Reader& r) {
         r.fixed("axis", -1);
         return std::make_shared<CategoricalCrossentropy>(
             CategoricalCrossentropyOptions{.from_logits = r.flag("from_logits", false),
                                            .label_smoothing = r.number("label_smoothing", 0.0)});
       }},
      {{"BinaryCrossentropy", "binary_crossentropy", "bce", "BCE"},
       [](const Reader& r) {
         r.fixed("axis", -1);
         return std::make_shared<BinaryCrossentropy>(
             BinaryCrossentropyOptions{.from_logits = r.flag("from_logits", false),
                                       .label_smoothing = r.number("label_smoothing", 0.0)});
       }},
      {{"MeanSquaredError", "mean_squared_error", "mse", "MSE"},
       [](const Reader&) { return std::make_shared<MeanSquaredError>(); }},
      {{"MeanAbsoluteError", "mean_absolute_error", "mae", "MAE"},
       [](const Reader&) { return std::make_shared<MeanAbsoluteError>(); }},
      {{"Huber", "huber"},
       [](const Reader& r) {
         return std::make_shared<Huber>(HuberOptions{.delta = r.number("delta", 1.0)});
       }},
  };
  return table;
}

}  // namespace

std::shared_ptr<Loss> get(const nlohmann::json& spec) {
  std::string name;
  nlohmann::json cfg = nlohmann::json::object();
  const std::string where = "loss config";
  if (spec.is_string()) {
    name = spec.get<std::string>();
  } else if (spec.is_object()) {
    name = io::get_as<std::string>(spec, "class_name", where,
                                   "a loss name such as \"SparseCategoricalCrossentropy\"");
    if (spec.contains("config")) cfg = spec["config"];
    if (!cfg.is_object())
      throw ConfigError(where + ": field 'config' must be an object, received " + cfg.dump());
  }
  std::string known;
  for (const auto& entry : entries()) {
    for (const auto& n : entry.names)
      if (n == name) {
        const Reader reader{{cfg, where + " (" + entry.names[0] + ")"}};
        reader.check_common();
        auto loss = entry.make(reader);
        reader.check_all_read();
        return loss;
      }
    known += (known.empty() ? "\"" : ", \"") + entry.names[1] + "\"";
  }
  throw ValueError("unknown loss " + spec.dump() + "; expected one of " + known +
                   " (or their class names and aliases: \"mse\", \"mae\", \"bce\")");
}

}  // namespace kiln::losses
