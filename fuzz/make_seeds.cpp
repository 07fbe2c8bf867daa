// Writes the seed corpus's kiln-made files (fuzz/corpus/<harness>/kiln-*) with kiln's own
// writers: saved models' config.json and weights, a pipeline's cache file, tuner trials and
// kiln train's recipes. The other seeds (images, IDX, archives, requests) come from
// make_corpus.py. Usage: make_seeds CORPUS_DIR
#include <iostream>

#include "fixtures.hpp"
#include "io/named_weights.hpp"
#include "kiln/kiln.hpp"
#include "train_recipe.hpp"
#include "tuner/records.hpp"

namespace {

using namespace kiln;
namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  io::write_file_atomic(path, bytes);
}

Model residual() {
  auto inputs = Input({4, 4, 2});
  auto x = layers::Conv2D({.filters = 2, .kernel_size = 3, .padding = "same"})(inputs);
  x = layers::BatchNormalization()(x);
  x = layers::Add()({x, inputs});
  x = layers::GlobalAveragePooling2D()(x);
  return Model(inputs, layers::Dense(3, "softmax")(x), "residual");
}

Model augmented_cnn() {
  return Sequential({layers::RandomFlip("horizontal", {6, 6, 1}), layers::Rescaling(1.0 / 255),
                     layers::Conv2D(2, {3, 3}, "relu"),
                     layers::MaxPooling2D({.pool_size = {2, 2}}), layers::Dropout(0.25), layers::Flatten(),
                     layers::Dense(2, "softmax")});
}

Model two_inputs() {
  auto image = Input({3, 3, 1}, "image"), extra = Input({2}, "extra");
  auto x = layers::Concatenate()({layers::Flatten()(image), extra});
  return Model({image, extra}, {layers::Dense(2, "softmax")(x)}, "two_inputs");
}

void model_seeds(const fs::path& corpus) {
  std::vector<std::pair<std::string, Model>> models;
  models.emplace_back("small-cnn", fuzz::small_cnn());
  models.emplace_back("mlp", Sequential({layers::Flatten({28, 28}), layers::Dense(30, "relu"), layers::Dense(10, "softmax")}));
  models.emplace_back("residual", residual());
  models.emplace_back("augmented-cnn", augmented_cnn());
  models.emplace_back("two-inputs", two_inputs());
  for (auto& [name, model] : models) {
    model.compile({.optimizer = "adam", .metrics = {"accuracy"}});
    write(corpus / "model_config" / ("kiln-" + name + ".json"), io::model_config(model).dump(1));
  }
  // Keras 3 archives as kiln writes them, and their config.json (the Keras 2 layouts' seeds come
  // from make_corpus.py, written with h5py).
  const fs::path scratch = fs::temp_directory_path() / "kiln-make-seeds-keras";
  fs::create_directories(scratch);
  for (auto& [name, model] : models) {
    const fs::path keras = scratch / (name + ".keras");
    model.save(keras);
    // The MLP's 100 KB of weights would only slow the fuzzer down.
    if (name != "mlp") write(corpus / "keras_file" / ("kiln-" + name + ".keras"), io::read_file(keras));
    write(corpus / "keras_config" / ("kiln-" + name + ".json"),
          io::read_archive_members(keras, {{"config.json"}}).at("config.json"));
  }
  fs::remove_all(scratch);
  Sequential cnn = fuzz::small_cnn();
  write(corpus / "safetensors" / "kiln-small-cnn.safetensors", io::safetensors_bytes(io::named_weights(cnn), {{"format", "kiln"}}));
  write(corpus / "safetensors" / "kiln-empty.safetensors", io::safetensors_bytes({}, {}));
}

void cache_seed(const fs::path& corpus) {
  const fs::path file = corpus / "cache" / "kiln-samples.cache";
  fs::create_directories(file.parent_path());
  fs::remove(file);
  auto it = fuzz::cached_samples(file).iterate();
  data::Batch batch;
  while (it.next(batch)) {
  }
}

void trial_seeds(const fs::path& corpus) {
  tuner::Trial plain{.id = 1, .values = {{"units", 2}}, .status = "COMPLETED", .score = 0.5, .epochs = 1, .seconds = 0.1};
  tuner::Trial continued = plain;
  continued.values["tuner/epochs"] = 2;
  continued.initial_epoch = 1;
  continued.parent = 1;
  continued.bracket = 0;
  continued.round = 1;
  const fs::path scratch = fs::temp_directory_path() / "kiln-make-seeds";
  for (const auto& [name, trial] : {std::pair{"kiln-random", plain}, std::pair{"kiln-hyperband", continued}}) {
    tuner::detail::write_trial(scratch, trial);
    write(corpus / "trials" / (std::string(name) + ".json"), io::read_file(tuner::detail::trial_dir(scratch, 1) / "trial.json"));
  }
  fs::remove_all(scratch);
}

void recipe_seeds(const fs::path& corpus) {
  for (const char* model : {"mlp", "cnn", "resnet"}) {
    cli::TrainArgs args;
    args.model = model;
    cli::TrainRecipe recipe = cli::resolve_recipe(args);
    cli::build_model(recipe, {28, 28, 1}, 10, "fashion-mnist");
    write(corpus / "recipe" / (std::string("kiln-") + model + ".json"), recipe.to_json().dump(1));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds CORPUS_DIR\n";
    return 2;
  }
  const fs::path corpus = argv[1];
  model_seeds(corpus);
  cache_seed(corpus);
  trial_seeds(corpus);
  recipe_seeds(corpus);
  return 0;
}
