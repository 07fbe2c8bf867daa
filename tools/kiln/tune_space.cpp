// SPACE.json read into a TuneSpace, and each trial's values applied to the base recipe.
#include "tune_space.hpp"

#include <filesystem>

#include "io/json_fields.hpp"
#include "io/strict_fields.hpp"

namespace kiln::cli {

namespace {

// One entry of "hyperparameters": {"type": "float", "min": 1e-4, "max": 0.1, "sampling": "log"}.
void declare(tuner::HyperParameters& hp, const std::string& name,
             const nlohmann::ordered_json& spec, const std::string& file) {
  const std::string where = file + ": hyperparameter '" + name + "'";
  if (!spec.is_object())
    throw ConfigError(where +
                      " must be an object such as {\"type\": \"choice\", \"values\": [...]}, "
                      "received " +
                      spec.dump());
  const auto type = io::get_as<std::string>(
      spec, "type", where, "\"int\", \"float\", \"choice\", \"boolean\" or \"fixed\"");
  const auto sampling =
      io::get_or<std::string>(spec, "sampling", where, "\"linear\" or \"log\"", "linear");
  if (type == "int") {
    io::reject_unknown_fields(spec, {"type", "min", "max", "step", "sampling"}, where);
    hp.Int(name, io::get_as<int64_t>(spec, "min", where, "an integer"),
           io::get_as<int64_t>(spec, "max", where, "an integer"),
           io::get_or<int64_t>(spec, "step", where, "an integer", 1), sampling);
  } else if (type == "float") {
    io::reject_unknown_fields(spec, {"type", "min", "max", "step", "sampling"}, where);
    hp.Float(name, io::get_as<double>(spec, "min", where, "a number"),
             io::get_as<double>(spec, "max", where, "a number"),
             io::get_or<double>(spec, "step", where, "a number", 0.0), sampling);
  } else if (type == "choice") {
    io::reject_unknown_fields(spec, {"type", "values"}, where);
    if (!spec.contains("values")) throw ConfigError(where + ": missing field 'values'");
    hp.Choice(name, spec["values"]);
  } else if (type == "boolean") {
    io::reject_unknown_fields(spec, {"type"}, where);
    hp.Boolean(name);
  } else if (type == "fixed") {
    io::reject_unknown_fields(spec, {"type", "value"}, where);
    if (!spec.contains("value")) throw ConfigError(where + ": missing field 'value'");
    hp.Fixed(name, spec["value"]);
  } else {
    throw ConfigError(
        where +
        ": type must be \"int\", \"float\", \"choice\", \"boolean\" or \"fixed\", received \"" +
        type + "\"");
  }
}

nlohmann::ordered_json read_json(const std::string& path) {
  return io::parse_json<nlohmann::ordered_json>(io::read_file(path), path);
}

}  // namespace

TuneSpace read_tune_space(const std::string& path) {
  const nlohmann::ordered_json file = read_json(path);
  if (!file.is_object())
    throw ConfigError(path + ": a search space is a JSON object, received " +
                      file.dump().substr(0, 80));
  io::reject_unknown_fields(file,
                           {"recipe", "recipe_file", "objective", "tuner", "max_trials", "max_epochs",
                            "factor", "hyperband_iterations", "seed", "hyperparameters"},
                           path);
  if (file.contains("recipe") == file.contains("recipe_file"))
    throw ConfigError(path +
                      ": give the base run as \"recipe\" (an object) or \"recipe_file\" (a path), "
                      "exactly one of them");
  TuneSpace s;
  if (file.contains("recipe")) {
    s.recipe = resolve_recipe(TrainArgs{}, file["recipe"], path + " recipe");
  } else {
    auto recipe_file =
        std::filesystem::path(io::get_as<std::string>(file, "recipe_file", path, "a path"));
    if (recipe_file.is_relative())
      recipe_file = std::filesystem::path(path).parent_path() / recipe_file;
    s.recipe = resolve_recipe(TrainArgs{}, read_json(recipe_file.string()), recipe_file.string());
  }
  if (!s.recipe.callbacks.empty())
    throw ConfigError(path + ": the recipe lists callbacks; kiln tune runs none (received " +
                      s.recipe.callbacks.dump().substr(0, 80) + ")");
  s.objective = io::get_or<std::string>(file, "objective", path,
                                        "a metric name such as \"val_accuracy\"", s.objective);
  s.tuner = io::get_or<std::string>(file, "tuner", path, "\"random\" or \"hyperband\"", s.tuner);
  if (s.tuner != "random" && s.tuner != "hyperband")
    throw ConfigError(path + ": field 'tuner' must be \"random\" or \"hyperband\", received \"" +
                      s.tuner + "\"");
  const bool hyperband = s.tuner == "hyperband";
  for (const char* key : {"max_trials", "max_epochs", "factor", "hyperband_iterations"})
    if (file.contains(key) && (std::string(key) == "max_trials") == hyperband)
      throw ConfigError(path + ": field '" + key + "' applies to the " +
                        (hyperband ? "random" : "hyperband") + " tuner, and this search is " +
                        s.tuner);
  s.max_trials = io::get_or<int>(file, "max_trials", path, "an integer", s.max_trials);
  s.max_epochs = io::get_or<int>(file, "max_epochs", path, "an integer", s.recipe.epochs);
  s.factor = io::get_or<int>(file, "factor", path, "an integer", s.factor);
  s.hyperband_iterations =
      io::get_or<int>(file, "hyperband_iterations", path, "an integer", s.hyperband_iterations);
  s.seed = io::get_or<uint64_t>(file, "seed", path, "an integer", s.recipe.seed);
  if (!file.contains("hyperparameters"))
    throw ConfigError(path + ": missing field 'hyperparameters'");
  const auto& space = file["hyperparameters"];
  if (!space.is_object() || space.empty())
    throw ConfigError(path +
                      ": field 'hyperparameters' must be an object naming at least one, received " +
                      space.dump().substr(0, 80));
  for (const auto& [name, spec] : space.items()) declare(s.hyperparameters, name, spec, path);
  return s;
}

TrainRecipe trial_recipe(const TrainRecipe& base, const tuner::HyperParameters& hp) {
  TrainRecipe r = base;
  const auto& values = hp.values();
  const std::string where = "hyperparameter";
  if (values.contains("optimizer")) {
    const auto& v = values["optimizer"];
    if (!v.is_string())
      throw ConfigError(where + " 'optimizer' must be an optimizer name, received " + v.dump());
    r.optimizer = {{"class_name", v}, {"config", nlohmann::json::object()}};
  }
  for (const auto& [name, value] : values.items()) {
    auto as_int = [&, &name = name, &value = value] {
      if (!value.is_number_integer())
        throw ConfigError(where + " '" + name + "' must be an integer, received " + value.dump());
      return value.get<int64_t>();
    };
    if (name == "epochs")
      r.epochs = static_cast<int>(as_int());
    else if (name == "batch_size")
      r.batch_size = as_int();
    else if (name == "warmup_epochs")
      r.warmup_epochs = static_cast<int>(as_int());
    else if (name == "schedule" && !value.is_string())
      throw ConfigError(where + " 'schedule' must be a schedule name, received " + value.dump());
    else if (name == "schedule")
      r.schedule = value.get<std::string>();
    else if (name != "optimizer")
      r.optimizer["config"][name] = value;
  }
  return r;
}

}  // namespace kiln::cli
