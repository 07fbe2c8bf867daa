// Optimizers by Keras name or serialized config: each reads its own arguments and the common
// ones, a null meaning the default as in Keras's files.
#include <functional>
#include <map>

#include "io/strict_fields.hpp"
#include "optimizers/checks.hpp"

namespace kiln::optimizers {

namespace {

// An optimizer's config, read strictly (io::FieldReader), with the arguments every optimizer
// or the Adam family shares.
struct Reader : io::FieldReader {
  // Keras writes these; kiln has no use for them, which is only right while they are null.
  void unsupported(const char* key) const {
    mark(key);
    if (cfg.contains(key) && !cfg[key].is_null())
      throw ConfigError(in + ": field '" + key + "' is not supported by kiln, received " + cfg[key].dump());
  }

  // The learning rate and the common arguments.
  template <typename Options>
  Options common(Options o) const {
    mark("learning_rate");
    o.learning_rate = LearningRate::from_config(cfg, in, o.learning_rate.at(0));
    o.weight_decay = number("weight_decay", o.weight_decay);
    o.clipnorm = optional("clipnorm", o.clipnorm);
    o.clipvalue = optional("clipvalue", o.clipvalue);
    o.global_clipnorm = optional("global_clipnorm", o.global_clipnorm);
    o.use_ema = flag("use_ema", o.use_ema);
    o.ema_momentum = number("ema_momentum", o.ema_momentum);
    o.ema_overwrite_frequency = get<int64_t>("ema_overwrite_frequency", o.ema_overwrite_frequency, "an integer");
    unsupported("loss_scale_factor");
    unsupported("gradient_accumulation_steps");
    return o;
  }

  // beta_1, beta_2 and epsilon, which the Adam family shares.
  template <typename Options>
  Options adam_like(Options o) const {
    o = common(o);
    o.beta_1 = number("beta_1", o.beta_1);
    o.beta_2 = number("beta_2", o.beta_2);
    o.epsilon = number("epsilon", o.epsilon);
    return o;
  }
};

using Make = std::function<std::shared_ptr<Optimizer>(const Reader&)>;

const std::map<std::string, Make>& makers() {
  static const std::map<std::string, Make> table = {
      {"sgd",
       [](const Reader& r) {
         auto o = r.common(SGDOptions{});
         o.momentum = r.number("momentum", o.momentum);
         o.nesterov = r.flag("nesterov", o.nesterov);
         return std::make_shared<SGD>(o);
       }},
      {"adam",
       [](const Reader& r) {
         auto o = r.adam_like(AdamOptions{});
         o.amsgrad = r.flag("amsgrad", o.amsgrad);
         return std::make_shared<Adam>(o);
       }},
      {"adamw",
       [](const Reader& r) {
         auto o = r.adam_like(AdamWOptions{});
         o.amsgrad = r.flag("amsgrad", o.amsgrad);
         return std::make_shared<AdamW>(o);
       }},
      {"adamax", [](const Reader& r) { return std::make_shared<Adamax>(r.adam_like(AdamaxOptions{})); }},
      {"nadam", [](const Reader& r) { return std::make_shared<Nadam>(r.adam_like(NadamOptions{})); }},
      {"rmsprop",
       [](const Reader& r) {
         auto o = r.common(RMSpropOptions{});
         o.rho = r.number("rho", o.rho);
         o.momentum = r.number("momentum", o.momentum);
         o.epsilon = r.number("epsilon", o.epsilon);
         o.centered = r.flag("centered", o.centered);
         return std::make_shared<RMSprop>(o);
       }},
      {"adagrad",
       [](const Reader& r) {
         auto o = r.common(AdagradOptions{});
         o.initial_accumulator_value = r.number("initial_accumulator_value", o.initial_accumulator_value);
         o.epsilon = r.number("epsilon", o.epsilon);
         return std::make_shared<Adagrad>(o);
       }},
      {"lion",
       [](const Reader& r) {
         auto o = r.common(LionOptions{});
         o.beta_1 = r.number("beta_1", o.beta_1);
         o.beta_2 = r.number("beta_2", o.beta_2);
         return std::make_shared<Lion>(o);
       }},
  };
  return table;
}

}  // namespace

std::shared_ptr<Optimizer> get(const nlohmann::json& spec) {
  std::string name;
  nlohmann::json cfg = nlohmann::json::object();
  const std::string where = "optimizer config";
  if (spec.is_string()) {
    name = spec.get<std::string>();
  } else if (spec.is_object()) {
    name = io::get_as<std::string>(spec, "class_name", where, "an optimizer name such as \"SGD\"");
    cfg = spec.contains("config") ? spec["config"] : nlohmann::json::object();
    if (!cfg.is_object()) throw ConfigError(where + ": field 'config' must be an object, received " + cfg.dump());
  }
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto& table = makers();
  const auto found = table.find(name);
  if (found == table.end()) {
    std::string names;
    for (const auto& [known, make] : table) names += (names.empty() ? "\"" : ", \"") + known + "\"";
    throw ValueError("unknown optimizer " + spec.dump() + "; expected one of " + names);
  }
  // Keras writes the name, and Keras 2 jit_compile and is_legacy_optimizer, which change nothing
  // here; loss_scale_factor and gradient_accumulation_steps must be null (Reader::unsupported).
  const Reader reader{{cfg, where + " (" + name + ")",
                       {"name", "jit_compile", "is_legacy_optimizer", "loss_scale_factor", "gradient_accumulation_steps"}}};
  auto optimizer = found->second(reader);
  reader.check_all_read();
  return optimizer;
}

}  // namespace kiln::optimizers
