#include "train_recipe.hpp"

#include <algorithm>
#include <cstdio>

#include "common.hpp"
#include "io/json_fields.hpp"
#include "io/strict_fields.hpp"
#include "recipes.hpp"
#include "train_callbacks.hpp"

namespace kiln::cli {

namespace {

const char* const kFileKeys[] = {"dataset",   "image_size", "color_mode", "interpolation", "validation_size", "seed",     "model",         "architecture",
                                 "precision", "epochs",          "batch_size", "optimizer",   "schedule",
                                 "warmup_epochs", "loss",        "metrics",    "callbacks"};

void check_recipe_fields(const nlohmann::json& file, const std::string& where) {
  if (!file.is_object()) throw ConfigError(where + ": a recipe is a JSON object, received " + file.dump().substr(0, 80));
  io::reject_unknown_fields(file, kFileKeys, where);
}

nlohmann::json read_recipe_file(const std::string& path) {
  const nlohmann::json file = io::parse_json(io::read_file(path), path);
  check_recipe_fields(file, path);
  return file;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// KEY=VALUE, VALUE as JSON where it parses (0.9, true, "x") and as a string otherwise.
std::pair<std::string, nlohmann::json> key_value(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ValueError("--optimizer-arg takes KEY=VALUE (a Keras argument, e.g. rho=0.95), received '" + arg + "'");
  auto value = nlohmann::json::parse(arg.substr(eq + 1), nullptr, false);
  if (value.is_discarded()) value = arg.substr(eq + 1);
  return {arg.substr(0, eq), value};
}

// The optimizer: the file's (when the flags keep its class), the flags' arguments on top, then
// every argument written out by building it.
nlohmann::json resolve_optimizer(const TrainArgs& a, const nlohmann::json& file, const std::string& where,
                                 const RecipeSettings& defaults) {
  std::string name = defaults.optimizer;
  nlohmann::json cfg = defaults.optimizer_args;
  if (file.contains("optimizer")) {
    const auto& spec = file["optimizer"];
    name = io::get_as<std::string>(spec, "class_name", where + " optimizer", "an optimizer name such as \"Adam\"");
    cfg = spec.contains("config") ? spec["config"] : nlohmann::json::object();
  }
  if (a.optimizer && lower(*a.optimizer) != lower(name)) {
    name = *a.optimizer;
    cfg = nlohmann::json::object();
  }
  if (!file.contains("optimizer") && !cfg.contains("use_ema")) cfg["use_ema"] = defaults.use_ema;
  auto set = [&](const char* key, const auto& value) {
    if (value) cfg[key] = *value;
  };
  set("learning_rate", a.learning_rate);
  set("momentum", a.momentum);
  set("nesterov", a.nesterov);
  set("weight_decay", a.weight_decay);
  set("clipnorm", a.clipnorm);
  set("clipvalue", a.clipvalue);
  set("global_clipnorm", a.global_clipnorm);
  set("use_ema", a.use_ema);
  set("ema_momentum", a.ema_momentum);
  for (const auto& arg : a.optimizer_args) {
    auto [key, value] = key_value(arg);
    cfg[key] = value;
  }
  const auto optimizer = optimizers::get(nlohmann::json{{"class_name", name}, {"config", cfg}});
  return {{"class_name", optimizer->class_name()}, {"config", optimizer->config()}};
}

// The schedule --schedule names (null for "constant").
std::shared_ptr<const LearningRateSchedule> make_schedule(const TrainRecipe& r, double rate, int64_t steps_per_epoch) {
  // A run of no epochs takes no step: a one-step schedule stands in (a saved, untrained model).
  const auto epoch = static_cast<double>(steps_per_epoch), total = std::max(1.0, epoch * r.epochs);
  if (r.warmup_epochs > 0 && r.schedule != "cosine")
    throw ValueError("--warmup-epochs applies to --schedule cosine (Keras's CosineDecay warm-up), received --schedule " +
                     r.schedule);
  if (r.schedule == "constant") return nullptr;
  if (r.schedule == "cosine") {
    if (r.warmup_epochs == 0) return std::make_shared<schedules::CosineDecay>(schedules::CosineDecayOptions{rate, total});
    if (r.warmup_epochs >= r.epochs)
      throw ValueError("--warmup-epochs must be fewer than the epochs (" + std::to_string(r.epochs) + "), received " +
                       std::to_string(r.warmup_epochs));
    const double warmup = epoch * r.warmup_epochs;
    return std::make_shared<schedules::CosineDecay>(schedules::CosineDecayOptions{
        .initial_learning_rate = 0.0, .decay_steps = total - warmup, .warmup_target = rate, .warmup_steps = warmup});
  }
  if (r.schedule == "linear")
    return std::make_shared<schedules::PolynomialDecay>(
        schedules::PolynomialDecayOptions{.initial_learning_rate = rate, .decay_steps = total, .end_learning_rate = 0.0});
  if (r.schedule == "exponential")  // to 1% of the rate at the end of the run
    return std::make_shared<schedules::ExponentialDecay>(
        schedules::ExponentialDecayOptions{.initial_learning_rate = rate, .decay_steps = total, .decay_rate = 0.01});
  if (r.schedule == "inverse_time")  // rate / (1 + epoch)
    return std::make_shared<schedules::InverseTimeDecay>(
        schedules::InverseTimeDecayOptions{.initial_learning_rate = rate, .decay_steps = epoch, .decay_rate = 1.0});
  if (r.schedule == "step")  // a tenth after half the run, a hundredth after three quarters
    return std::make_shared<schedules::PiecewiseConstantDecay>(schedules::PiecewiseConstantDecayOptions{
        .boundaries = {std::floor(total / 2), std::floor(total * 3 / 4)}, .values = {rate, rate / 10, rate / 100}});
  if (r.schedule == "cosine_restarts")  // periods of 1, 2 and 4 sevenths of the run
    return std::make_shared<schedules::CosineDecayRestarts>(schedules::CosineDecayRestartsOptions{
        .initial_learning_rate = rate, .first_decay_steps = std::max(1.0, std::floor(total / 7))});
  throw ValueError("unknown schedule '" + r.schedule + "'; expected one of " + kScheduleNames);
}

}  // namespace

TrainRecipe resolve_recipe(const TrainArgs& a) {
  if (!a.recipe_file) return resolve_recipe(a, nlohmann::json::object(), "recipe");
  return resolve_recipe(a, read_recipe_file(*a.recipe_file), *a.recipe_file);
}

TrainRecipe resolve_recipe(const TrainArgs& a, const nlohmann::json& file, const std::string& where) {
  check_recipe_fields(file, where);
  TrainRecipe r;
  auto pick = [&](const auto& flag, const char* key, auto fallback, const char* expected) {
    using T = decltype(fallback);
    return flag ? static_cast<T>(*flag) : io::get_or<T>(file, key, where, expected, fallback);
  };
  r.dataset = pick(a.dataset, "dataset", r.dataset, "a dataset name");
  r.color_mode = pick(a.color_mode, "color_mode", r.color_mode, "\"grayscale\", \"rgb\" or \"rgba\"");
  r.interpolation = pick(a.interpolation, "interpolation", r.interpolation, "\"bilinear\", \"nearest\" or \"area\"");
  if (a.image_size) {
    int64_t h = 0, w = 0;
    char x = 0, extra = 0;
    if (std::sscanf(a.image_size->c_str(), "%ld%c%ld%c", &h, &x, &w, &extra) != 3 || (x != 'x' && x != 'X') || h < 1 ||
        w < 1)
      throw ValueError("--image-size takes HEIGHTxWIDTH, e.g. 64x64; received '" + *a.image_size + "'");
    r.image_size = std::array<int64_t, 2>{h, w};
  } else if (file.contains("image_size")) {
    const auto& size = file["image_size"];
    if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer())
      throw ConfigError(where + ": field 'image_size' must be [height, width], received " + size.dump());
    r.image_size = std::array<int64_t, 2>{size[0].get<int64_t>(), size[1].get<int64_t>()};
  }
  r.validation_size = pick(a.validation_size, "validation_size", r.validation_size, "an integer");
  r.seed = pick(a.seed, "seed", r.seed, "an integer");
  if (a.model) {
    r.model = *a.model;
  } else {
    r.model = io::get_or<std::string>(file, "model", where, "a model name or file", r.model);
    if (file.contains("architecture")) r.architecture = file["architecture"];
  }
  const RecipeSettings defaults = recipe_settings(r.model);
  if (a.precision || file.contains("precision"))
    r.precision = pick(a.precision, "precision", std::string("fp32"), "\"fp32\" or \"bf16\"");
  r.epochs = pick(a.epochs, "epochs", defaults.epochs, "an integer");
  r.batch_size = pick(a.batch_size, "batch_size", defaults.batch_size, "an integer");
  r.schedule = pick(a.schedule, "schedule", defaults.schedule, "a schedule name");
  // The recipe's own warm-up gives way in a run too short for it (a 1-epoch trial of resnet).
  r.warmup_epochs = pick(a.warmup_epochs, "warmup_epochs", std::min(defaults.warmup_epochs, std::max(0, r.epochs - 1)),
                         "an integer");
  const double smoothing = a.label_smoothing.value_or(defaults.label_smoothing);
  if (file.contains("loss")) r.loss = file["loss"];
  if (a.label_smoothing || (!file.contains("loss") && smoothing > 0))
    r.loss = smoothed_loss(smoothing);
  if (file.contains("metrics")) r.metrics = io::string_list(file, "metrics", where);
  r.optimizer = resolve_optimizer(a, file, where, defaults);
  if (file.contains("callbacks")) r.callbacks = file["callbacks"];
  if (!r.callbacks.is_array()) throw ConfigError(where + ": field 'callbacks' must be a list, received " + r.callbacks.dump());
  // A flag's callback takes the place of one of its class the file lists.
  auto add = [&](const nlohmann::json& callback) {
    auto& list = r.callbacks;
    for (auto it = list.begin(); it != list.end();)
      it = it->is_object() && it->value("class_name", "") == callback["class_name"] ? list.erase(it) : it + 1;
    list.push_back(callback);
  };
  if (a.early_stopping) add(early_stopping_config(*a.early_stopping));
  if (a.checkpoint_best) add(checkpoint_best_config());
  if (r.epochs < 0 || r.batch_size <= 0 || r.warmup_epochs < 0 || r.validation_size < 0)
    throw ValueError(where + ": epochs, warmup_epochs and validation_size must be >= 0 and batch_size positive, received " +
                     std::to_string(r.epochs) + ", " + std::to_string(r.warmup_epochs) + ", " +
                     std::to_string(r.validation_size) + " and " + std::to_string(r.batch_size));
  make_schedule(r, 0.1, 1);  // checks the name and the warm-up before any work
  return r;
}

datasets::Dataset load_dataset(TrainRecipe& r) {
  if (!is_folder(r.dataset)) return datasets::load(r.dataset);
  FolderSettings folder{r.image_size, r.color_mode, r.interpolation};
  datasets::Dataset data = load_folder(r.dataset, folder, static_cast<uint32_t>(r.seed));
  r.image_size = folder.image_size;
  r.color_mode = folder.color_mode;
  return data;
}

namespace {
Model model_of(const TrainRecipe& r, const Shape& input, int64_t classes) {
  if (!r.architecture.is_null()) return io::model_from_config(r.architecture, r.model + " (the recipe's architecture)");
  if (is_recipe(r.model)) return recipe_model(r.model, input, classes);
  return io::model_from_config(io::parse_json(io::read_file(r.model), r.model), r.model);
}
}  // namespace

Model build_model(TrainRecipe& r, const Shape& input, int64_t classes, const std::string& dataset) {
  Model model = model_of(r, input, classes);
  if (!input_fits(model.input_shape(), input))
    throw ShapeError(r.model + ": the model takes inputs shaped " + shape_str(model.input_shape()) + ", " + dataset +
                     " images are " + shape_str(input));
  if (shape_size(model.output_shape()) != classes)
    throw ShapeError(r.model + ": the model has " + std::to_string(shape_size(model.output_shape())) + " outputs, " +
                     dataset + " has " + std::to_string(classes) + " classes");
  if (r.precision)
    for (const auto& layer : model.layers()) layer->set_dtype_policy(*r.precision == "bf16" ? "mixed_bfloat16" : "float32");
  nlohmann::json architecture = io::model_config(model);
  architecture.erase("compile_config");
  r.architecture = architecture;
  return model;
}

OptimizerRef build_optimizer(const TrainRecipe& r, int64_t steps_per_epoch) {
  nlohmann::json spec = r.optimizer;
  auto& rate = spec["config"]["learning_rate"];
  if (r.schedule != "constant" && r.epochs > 0) {
    if (!rate.is_number())
      throw ValueError("--schedule " + r.schedule + " schedules a constant learning_rate; the optimizer already has " +
                       rate.dump().substr(0, 80));
    rate = schedules::serialize(*make_schedule(r, rate.get<double>(), steps_per_epoch));
  }
  return OptimizerRef(optimizers::get(spec));
}

nlohmann::ordered_json TrainRecipe::to_json() const {
  nlohmann::ordered_json j;
  j["dataset"] = dataset;
  if (image_size) j["image_size"] = *image_size;
  if (!color_mode.empty()) j["color_mode"] = color_mode;
  if (image_size) j["interpolation"] = interpolation;
  j["validation_size"] = validation_size;
  j["seed"] = seed;
  j["model"] = model;
  if (precision) j["precision"] = *precision;
  j["epochs"] = epochs;
  j["batch_size"] = batch_size;
  j["optimizer"] = optimizer;
  j["schedule"] = schedule;
  j["warmup_epochs"] = warmup_epochs;
  j["loss"] = loss;
  j["metrics"] = metrics;
  j["callbacks"] = callbacks;
  j["architecture"] = architecture;
  return j;
}

}  // namespace kiln::cli
