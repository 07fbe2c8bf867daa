// Trials on disk (see records.hpp): JSON per trial, one CSV for the search.
#include "tuner/records.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "io/json_fields.hpp"
#include "kiln/io.hpp"

namespace kiln::tuner::detail {

std::filesystem::path trial_dir(const std::filesystem::path& project, int id) {
  char name[32];
  std::snprintf(name, sizeof name, "trial_%04d", id);
  return project / name;
}

void write_trial(const std::filesystem::path& project, const Trial& t) {
  nlohmann::ordered_json j;
  j["trial_id"] = t.id;
  j["hyperparameters"] = t.values;
  j["score"] = t.score ? nlohmann::ordered_json(*t.score) : nlohmann::ordered_json();
  j["epochs"] = t.epochs;
  if (t.bracket >= 0) {  // Hyperband's
    j["initial_epoch"] = t.initial_epoch;
    j["parent_trial"] = t.parent;
    j["bracket"] = t.bracket;
    j["round"] = t.round;
  }
  j["seconds"] = t.seconds;
  j["status"] = t.status;
  const auto dir = trial_dir(project, t.id);
  std::filesystem::create_directories(dir);
  io::write_file_atomic(dir / "trial.json", j.dump(2) + "\n");
}

std::vector<Trial> read_trials(const std::filesystem::path& project) {
  std::vector<Trial> out;
  for (int id = 1;; ++id) {
    const auto path = trial_dir(project, id) / "trial.json";
    if (!std::filesystem::exists(path)) break;
    const std::string where = path.string();
    nlohmann::ordered_json j = io::parse_json<nlohmann::ordered_json>(io::read_file(path), where);
    Trial t;
    t.id = io::get_as<int>(j, "trial_id", where, "an integer");
    if (!j.contains("hyperparameters") || !j["hyperparameters"].is_object())
      throw ConfigError(where + ": field 'hyperparameters' must be an object of values");
    t.values = j["hyperparameters"];
    t.status = io::get_as<std::string>(j, "status", where, "a status");
    if (!j["score"].is_null()) t.score = io::get_as<double>(j, "score", where, "a number");
    t.epochs = io::get_as<int>(j, "epochs", where, "an integer");
    t.initial_epoch = io::get_or<int>(j, "initial_epoch", where, "an integer", 0);
    t.parent = io::get_or<int>(j, "parent_trial", where, "an integer", 0);
    t.bracket = io::get_or<int>(j, "bracket", where, "an integer", -1);
    t.round = io::get_or<int>(j, "round", where, "an integer", -1);
    t.seconds = io::get_or<double>(j, "seconds", where, "a number", 0.0);
    if (t.status != "COMPLETED") break;
    out.push_back(std::move(t));
  }
  return out;
}

std::string format_value(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char s[32];
    std::snprintf(s, sizeof s, "%.4g", v.get<double>());
    return s;
  }
  return v.is_null() ? "nan" : v.dump();
}

namespace {
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}
}  // namespace

void write_results_csv(const std::filesystem::path& project,
                       const std::vector<HyperParameter>& space, const std::vector<Trial>& trials) {
  std::ostringstream csv;
  csv << "trial";
  for (const auto& hp : space) csv << ',' << csv_field(hp.name);
  csv << ",score,epochs,seconds\n";
  for (const auto& t : trials) {
    csv << t.id;
    for (const auto& hp : space)
      csv << ','
          << csv_field(!t.values.contains(hp.name)     ? ""
                       : t.values[hp.name].is_string() ? t.values[hp.name].get<std::string>()
                                                       : t.values[hp.name].dump());
    char tail[96];
    std::snprintf(tail, sizeof tail, ",%.6g,%d,%.2f\n", t.score.value_or(NAN), t.epochs, t.seconds);
    csv << tail;
  }
  io::write_file_atomic(project / "results.csv", csv.str());
}

}  // namespace kiln::tuner::detail
