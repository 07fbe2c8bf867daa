// kiln train: the seed workflow. On its defaults it trains the tutorial's 300-100 MLP on
// Fashion-MNIST with SGD for 30 epochs, evaluates it on the test set and saves it; --model cnn
// and cnn-bn train convolutional networks with their own defaults (recipes.hpp).
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"
#include "recipes.hpp"

namespace kiln::cli {

namespace {

struct TrainArgs {
  std::string dataset = "fashion-mnist", model = "mlp", output;
  std::optional<std::string> precision;  // fp32 or bf16; unset: as the architecture says (fp32 for mlp)
  // Unset: the recipe's (mlp: sgd, 30 epochs, batch 32; cnn: adam, 10, 64), or the mlp's for a file.
  std::optional<std::string> optimizer;
  std::optional<int> epochs;
  std::optional<int64_t> batch_size;
  int64_t validation_size = 5000;
  std::optional<double> learning_rate;
  std::optional<std::string> lr_schedule;  // unset: the recipe's (constant for mlp, cosine for the CNNs)
  double momentum = 0.0;
  bool nesterov = false;
  std::optional<double> weight_decay;  // unset: the recipe's
  std::optional<bool> use_ema;  // unset: the recipe's
  double ema_momentum = 0.99;
  uint64_t seed = 42;
  int threads = 0, verbose = 1;
};

Recipe make_model(const TrainArgs& a, const datasets::Dataset& data) {
  Shape input(data.train.images.shape().begin() + 1, data.train.images.shape().end());
  auto classes = static_cast<int64_t>(data.class_names.size());
  if (is_recipe(a.model)) return make_recipe(a.model, input, classes);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(io::read_file(a.model));
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(a.model + ": not valid JSON (" + e.what() + ")");
  }
  Model model = io::model_from_config(config, a.model);
  if (!input_fits(model.input_shape(), input))
    throw ShapeError(a.model + ": the model takes inputs shaped " + shape_str(model.input_shape()) + ", " +
                     data.name + " images are " + shape_str(input));
  if (shape_size(model.output_shape()) != classes)
    throw ShapeError(a.model + ": the model has " + std::to_string(shape_size(model.output_shape())) +
                     " outputs, " + data.name + " has " + std::to_string(classes) + " classes");
  Recipe mlp = make_recipe("mlp", input, classes);
  return {std::move(model), mlp.optimizer, mlp.epochs, mlp.batch_size, mlp.lr_schedule, mlp.use_ema};
}

// `steps` is the number of updates the whole run makes (a cosine schedule reaches 0 there).
OptimizerRef make_optimizer(const TrainArgs& a, const Recipe& recipe, int64_t steps) {
  const std::string optimizer = a.optimizer.value_or(recipe.optimizer);
  const std::string schedule = a.lr_schedule.value_or(recipe.lr_schedule);
  const bool use_ema = a.use_ema.value_or(recipe.use_ema);
  const double rate = a.learning_rate.value_or(optimizer == "sgd" ? 0.01 : 0.001);
  LearningRate lr = rate;
  if (schedule == "cosine" && steps > 0)
    lr = schedules::CosineDecay({.initial_learning_rate = rate, .decay_steps = static_cast<double>(steps)});
  if (schedule == "linear" && steps > 0)
    lr = schedules::PolynomialDecay(
        {.initial_learning_rate = rate, .decay_steps = static_cast<double>(steps), .end_learning_rate = 0.0});
  const double decay = a.weight_decay.value_or(0.0);
  if (optimizer == "sgd")
    return optimizers::SGD({.learning_rate = lr,
                            .momentum = a.momentum,
                            .nesterov = a.nesterov,
                            .weight_decay = decay,
                            .use_ema = use_ema,
                            .ema_momentum = a.ema_momentum});
  if (a.momentum != 0.0 || a.nesterov)
    throw ValueError("--momentum and --nesterov apply to --optimizer sgd, received --optimizer " + optimizer);
  return optimizers::Adam({.learning_rate = lr, .weight_decay = decay, .use_ema = use_ema, .ema_momentum = a.ema_momentum});
}

void run(const TrainArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  utils::set_random_seed(a.seed);
  datasets::Dataset data = datasets::load(a.dataset);
  int64_t n = data.train.images.dim(0);
  if (a.validation_size < 0 || a.validation_size >= n)
    throw ValueError("--validation-size must be in [0, " + std::to_string(n) + "), received " +
                     std::to_string(a.validation_size));
  // Images stay uint8; each batch becomes floats (pixel / 255) as it is drawn.
  ByteTensor x_valid = data.train.images.slice(0, a.validation_size);
  ByteTensor x_train = data.train.images.slice(a.validation_size, n);
  ByteTensor y_valid = data.train.labels.slice(0, a.validation_size);
  ByteTensor y_train = data.train.labels.slice(a.validation_size, n);

  Recipe recipe = make_model(a, data);
  Model& model = recipe.model;
  const int epochs = a.epochs.value_or(recipe.epochs);
  const int64_t batch_size = a.batch_size.value_or(recipe.batch_size);
  const int64_t steps = epochs * ((x_train.dim(0) + batch_size - 1) / batch_size);
  if (a.precision)
    for (const auto& layer : model.layers()) layer->set_dtype_policy(*a.precision == "bf16" ? "mixed_bfloat16" : "float32");
  model.class_names = data.class_names;
  model.preprocessing.rescale = 1.0 / 255.0;
  model.metadata["dataset"] = data.name;
  model.compile({.loss = "sparse_categorical_crossentropy", .optimizer = make_optimizer(a, recipe, steps), .metrics = {"accuracy"}});
  if (a.verbose) model.summary(std::cout);
  if (uses_bf16(model) && a.verbose)
    std::cout << "Precision: mixed_bfloat16 (bf16 matrix products summed in float32, float32 weights)\n";
  warn_if_bf16_is_emulated(model);

  std::filesystem::path out = a.output.empty() ? std::filesystem::path("models") / (data.name + "-" +
                                  std::filesystem::path(a.model).stem().string())
                                               : std::filesystem::path(a.output);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw IoError("cannot create output folder '" + out.string() + "': " + ec.message());
  CSVLogger csv((out / "history.csv").string());
  // Redrawn after every epoch, so an image viewer shows the run as it goes.
  plot::LearningCurvesPlotter curves(out / "curves.png", {.title = "Learning curves: " + data.name});
  FitOptions fit{.epochs = epochs, .batch_size = batch_size, .verbose = a.verbose, .seed = a.seed,
                 .callbacks = {&csv, &curves}};
  // With a moving average, validation measures the averaged weights that training ends with.
  SwapEMAWeights swap_ema;
  if (model.optimizer()->common().use_ema) fit.callbacks.push_back(&swap_ema);
  if (a.validation_size > 0) fit.validation_data = ValidationData{x_valid, y_valid};
  model.fit(x_train, y_train, fit);

  if (a.verbose) std::cout << "Evaluating on the " << data.test.images.dim(0) << " test images\n";
  Logs test = model.evaluate(data.test.images, data.test.labels, {.verbose = a.verbose ? 1 : 0});
  model.save(out);
  std::printf("Test loss: %.4f - test accuracy: %.4f\nSaved the model to %s\n", test.at("loss"), test.at("accuracy"),
              out.string().c_str());
  if (epochs > 0) std::printf("Learning curves: %s\n", (out / "curves.png").c_str());
}

}  // namespace

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a classifier (default: the tutorial's MLP on Fashion-MNIST)");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--dataset", a->dataset, "fashion-mnist or mnist")->capture_default_str();
  cmd->add_option("--model", a->model,
                  std::string(kRecipeNames) + ", or an architecture file in the config.json layout (Sequential or functional)")
      ->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Passes over the training data (default: 30 for mlp, 10 for cnn, 60 for cnn-bn)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", a->batch_size, "Samples per gradient step (default: 32 for mlp, 64 for the CNNs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--optimizer", a->optimizer, "sgd or adam (default: sgd for mlp, adam for the CNNs)")
      ->check(CLI::IsMember({"sgd", "adam"}));
  cmd->add_option("--learning-rate", a->learning_rate, "Step size (default: 0.01 for sgd, 0.001 for adam)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lr-schedule", a->lr_schedule,
                  "constant; cosine: the rate falls along a cosine to 0 over the run (Keras's CosineDecay); "
                  "linear: in a straight line to 0 (PolynomialDecay) (default: constant for mlp, cosine for the CNNs)")
      ->check(CLI::IsMember({"constant", "cosine", "linear"}));
  cmd->add_option("--momentum", a->momentum, "SGD momentum, in [0, 1)")->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  cmd->add_flag("--nesterov", a->nesterov, "Nesterov momentum (SGD)");
  cmd->add_option("--weight-decay", a->weight_decay,
                  "Decoupled weight decay: each step w -= w * decay * learning rate (Keras's weight_decay; default 0)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag_function("--use-ema,!--no-ema", [a](int64_t count) { a->use_ema = count > 0; },
                "Keep a moving average of the weights, validate with it and end training with it (Keras's use_ema; "
                "default: on for cnn, off otherwise)");
  cmd->add_option("--ema-momentum", a->ema_momentum, "The moving average's momentum (with --use-ema)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--validation-size", a->validation_size, "Training images held out for validation (the first ones)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--precision", a->precision,
                  "fp32, or bf16: matrix products on bfloat16 operands summed in float32, float32 weights "
                  "(default: fp32, or as the --model file says)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--seed", a->seed, "Seed for weights and shuffling")->capture_default_str();
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores)")->check(CLI::PositiveNumber);
  cmd->add_option("--verbose", a->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))->capture_default_str();
  cmd->add_option("--output", a->output, "Model folder to write (default: models/<dataset>-<model>)");
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
