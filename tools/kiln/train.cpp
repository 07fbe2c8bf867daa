// kiln train: the seed workflow. On its defaults it trains the tutorial's 300-100 MLP on
// Fashion-MNIST with SGD for 30 epochs, evaluates it on the test set and saves it; --model cnn
// cnn-bn and resnet train convolutional networks with their own defaults (recipes.hpp). The flags and a
// --recipe file become one TrainRecipe (train_recipe.hpp), written beside the model.
#include <filesystem>

#include "commands.hpp"
#include "common.hpp"
#include "recipes.hpp"
#include "train_callbacks.hpp"
#include "train_recipe.hpp"

namespace kiln::cli {

namespace {

void run(const TrainArgs& a) {
  TrainRecipe recipe = resolve_recipe(a);
  // Under mpirun every process trains its share of each batch; the first (the chief) alone
  // prints and writes files.
  const auto strategy = launched_strategy(a.mpi_timeout, a.bucket_bytes, a.threads);
  const bool chief = !strategy || strategy->is_chief();
  const int verbose = chief ? a.verbose : 0;
  utils::set_random_seed(recipe.seed);
  // A built-in dataset trains from arrays in memory; a folder through pipelines that decode its
  // images on background threads while the model trains.
  std::optional<datasets::Dataset> data;
  std::optional<FolderPipelines> folder;
  if (is_folder(recipe.dataset)) {
    FolderSettings settings{recipe.image_size, recipe.color_mode, recipe.interpolation};
    // A cache file is written by the chief alone; the other processes read it once it exists
    // and keep their decoded images in memory until then.
    const bool file_cache = a.cache != "memory" && a.cache != "none";
    const std::string cache = file_cache && !chief && !std::filesystem::exists(a.cache) ? "memory" : a.cache;
    folder = folder_pipelines(recipe.dataset, settings, static_cast<uint32_t>(recipe.seed), recipe.validation_size,
                              recipe.batch_size, cache);
    recipe.image_size = settings.image_size;
    recipe.color_mode = settings.color_mode;
  } else {
    data = load_dataset(recipe);
  }
  const std::string name = folder ? folder->name : data->name;
  const std::vector<std::string>& class_names = folder ? folder->class_names : data->class_names;
  const int64_t n = folder ? folder->train_samples + recipe.validation_size : data->train.images.dim(0);
  if (recipe.validation_size >= n)
    throw ValueError("--validation-size must be in [0, " + std::to_string(n) + "), received " +
                     std::to_string(recipe.validation_size));
  // Arrays stay uint8; each batch becomes floats (pixel / 255) as it is drawn.
  ByteTensor x_valid, x_train, y_valid, y_train;
  if (data) {
    x_valid = data->train.images.slice(0, recipe.validation_size);
    x_train = data->train.images.slice(recipe.validation_size, n);
    y_valid = data->train.labels.slice(0, recipe.validation_size);
    y_train = data->train.labels.slice(recipe.validation_size, n);
  }
  const Shape input = folder ? folder->input : Shape(data->train.images.shape().begin() + 1, data->train.images.shape().end());
  Model model = build_model(recipe, input, static_cast<int64_t>(class_names.size()), name);
  const int epochs = recipe.epochs;
  const int64_t batch_size = recipe.batch_size;
  const int64_t steps_per_epoch = (n - recipe.validation_size + batch_size - 1) / batch_size;
  model.class_names = class_names;
  model.preprocessing.rescale = 1.0 / 255.0;
  model.preprocessing.interpolation = recipe.interpolation;
  model.metadata["dataset"] = name;
  model.compile({.loss = LossRef(losses::get(recipe.loss)),
                 .optimizer = build_optimizer(recipe, steps_per_epoch),
                 .metrics = recipe.metrics});
  if (verbose) model.summary(std::cout);
  if (uses_bf16(model) && verbose)
    std::cout << "Precision: mixed_bfloat16 (bf16 matrix products summed in float32, float32 weights)\n";
  if (chief) warn_if_bf16_is_emulated(model);
  if (strategy && verbose)
    std::cout << "Data-parallel over " << strategy->num_replicas_in_sync() << " processes: each takes its share of "
              << "every batch of " << batch_size << "\n";

  std::filesystem::path out = a.output.empty() ? std::filesystem::path("models") / (std::filesystem::path(name).filename().string() + "-" +
                                  std::filesystem::path(recipe.model).stem().string())
                                               : std::filesystem::path(a.output);
  if (chief) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) throw IoError("cannot create output folder '" + out.string() + "': " + ec.message());
    // Written first, so that a run stopped part way can still be repeated.
    io::write_file_atomic(out / "recipe.json", recipe.to_json().dump(2) + "\n");
  }
  CSVLogger csv((out / "history.csv").string());
  // Redrawn after every epoch, so an image viewer shows the run as it goes.
  plot::LearningCurvesPlotter curves(out / "curves.png", {.title = "Learning curves: " + name});
  FitOptions fit{.epochs = epochs, .verbose = verbose, .seed = recipe.seed, .distribute = strategy};
  // The backup goes first, so that the others begin with the state it restores.
  std::optional<BackupAndRestore> backup;
  if (a.backup_dir) fit.callbacks.push_back(&backup.emplace(*a.backup_dir));
  fit.callbacks.insert(fit.callbacks.end(), {&csv, &curves});
  const auto listed = make_callbacks(recipe.callbacks, out, "recipe");
  for (const auto& callback : listed) fit.callbacks.push_back(callback.get());
  // With a moving average, validation measures the averaged weights that training ends with.
  SwapEMAWeights swap_ema;
  if (model.optimizer()->common().use_ema) fit.callbacks.push_back(&swap_ema);
  if (folder) {
    if (folder->validation) fit.validation_data = ValidationData(*folder->validation);
    model.fit(*folder->train, fit);  // batched by the pipeline
  } else {
    if (recipe.validation_size > 0) fit.validation_data = ValidationData{x_valid, y_valid};
    fit.batch_size = batch_size;
    model.fit(x_train, y_train, fit);
  }

  const EvaluateOptions evaluate{.verbose = verbose ? 1 : 0, .distribute = strategy};
  std::optional<Logs> test;
  if (folder && folder->test) {
    if (verbose) std::cout << "Evaluating on the test images\n";
    test = model.evaluate(*folder->test, evaluate);
  } else if (data && data->test.images.dim(0) > 0) {
    if (verbose) std::cout << "Evaluating on the " << data->test.images.dim(0) << " test images\n";
    test = model.evaluate(data->test.images, data->test.labels, evaluate);
  }
  if (!chief) return;
  if (test)
    std::printf("Test loss: %.4f - test accuracy: %.4f\n", test->at("loss"), test->at("accuracy"));
  else
    std::printf("No test split: %s has no train/ and test/ folders\n", name.c_str());
  model.save(out);
  std::printf("Saved the model to %s\n", out.string().c_str());
  if (epochs > 0) std::printf("Learning curves: %s\n", (out / "curves.png").c_str());
}

}  // namespace

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a classifier (default: the tutorial's MLP on Fashion-MNIST)");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--recipe", a->recipe_file,
                  "A training recipe (the recipe.json kiln train writes beside every model): the run it describes, "
                  "with any other flag given here taking precedence")
      ->check(CLI::ExistingFile);
  cmd->add_option("--dataset", a->dataset,
                  "fashion-mnist, mnist, cifar10, cifar100 or cifar100-coarse, or a folder of images in one sub-folder per "
                  "class (with train/ and test/ inside, each such a folder, as `kiln datasets export` writes) "
                  "(default: fashion-mnist)");
  cmd->add_option("--image-size", a->image_size, "A folder's images are resized to HEIGHTxWIDTH (default: the first image's size)");
  cmd->add_option("--color-mode", a->color_mode, "A folder's images as grayscale, rgb or rgba (default: grayscale if the "
                                                 "first image is grey, else rgb)")
      ->check(CLI::IsMember({"grayscale", "rgb", "rgba"}));
  cmd->add_option("--cache", a->cache,
                  "A folder's decoded images: memory (kept after the first epoch), none (decoded every epoch, for "
                  "folders larger than memory), or a file to keep them in, which later runs read (default: memory)");
  cmd->add_option("--interpolation", a->interpolation, "How a folder's images are resized: bilinear, nearest or area "
                                                       "(default: bilinear)")
      ->check(CLI::IsMember({"bilinear", "nearest", "area"}));
  cmd->add_option("--model", a->model,
                  std::string(kRecipeNames) + ", or an architecture file in the config.json layout (Sequential or "
                  "functional) (default: mlp)");
  cmd->add_option("--epochs", a->epochs, "Passes over the training data (default: 30 for mlp and resnet, 10 for cnn, 60 for cnn-bn)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--batch-size", a->batch_size, "Samples per gradient step (default: 32 for mlp, 64 for cnn and cnn-bn, 128 for resnet)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--optimizer", a->optimizer,
                  "sgd, adam, adamw, rmsprop, adagrad, adamax, nadam or lion, with Keras's defaults (default: sgd for "
                  "mlp and resnet (Nesterov momentum 0.9), adam for cnn and cnn-bn)")
      ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop", "adagrad", "adamax", "nadam", "lion"}, CLI::ignore_case));
  cmd->add_option("--learning-rate", a->learning_rate, "Step size (default: Keras's, 0.01 for sgd, 0.001 for the others; 0.1 for resnet)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--schedule,--lr-schedule", a->schedule,
                  "How the rate changes over the run: constant; cosine (to 0, Keras's CosineDecay); linear (to 0, "
                  "PolynomialDecay); exponential (to 1%, ExponentialDecay); inverse_time (rate / (1 + epoch)); step "
                  "(a tenth after half the run, a hundredth after three quarters, PiecewiseConstantDecay); "
                  "cosine_restarts (periods of 1, 2 and 4 sevenths of the run, CosineDecayRestarts) "
                  "(default: constant, cosine for cnn-bn and resnet)")
      ->check(CLI::IsMember({"constant", "cosine", "linear", "exponential", "inverse_time", "step", "cosine_restarts"}));
  cmd->add_option("--warmup-epochs", a->warmup_epochs,
                  "With --schedule cosine: epochs over which the rate first rises in a straight line from 0 (default 0, 1 "
                  "for resnet)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--momentum", a->momentum, "Momentum of sgd or rmsprop, in [0, 1)")->check(CLI::Range(0.0, 0.999999));
  cmd->add_flag_function("--nesterov", [a](int64_t) { a->nesterov = true; }, "Nesterov momentum (sgd)");
  cmd->add_option("--weight-decay", a->weight_decay,
                  "Decoupled weight decay: each step w -= w * decay * learning rate (Keras's weight_decay; default 0, "
                  "0.004 for adamw, 0.005 for resnet's sgd)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--clipnorm", a->clipnorm, "Clip each weight's gradient to this L2 norm")->check(CLI::PositiveNumber);
  cmd->add_option("--global-clipnorm", a->global_clipnorm, "Clip all gradients together to this joint L2 norm")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--clipvalue", a->clipvalue, "Clip each gradient element to [-v, v]")->check(CLI::PositiveNumber);
  cmd->add_option("--optimizer-arg", a->optimizer_args,
                  "Any other argument of the optimizer, by its Keras name: --optimizer-arg rho=0.95 (repeatable)");
  cmd->add_flag_function("--use-ema,!--no-ema", [a](int64_t count) { a->use_ema = count > 0; },
                "Keep a moving average of the weights, validate with it and end training with it (Keras's use_ema; "
                "default: on for cnn, off otherwise)");
  cmd->add_option("--ema-momentum", a->ema_momentum, "The moving average's momentum (with --use-ema; default 0.99)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--label-smoothing", a->label_smoothing,
                  "Train against targets of 1 - S for the true class and S / classes spread over all of them "
                  "(Keras's CategoricalCrossentropy label_smoothing, on the integer labels; default 0, 0.1 for resnet)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--early-stopping", a->early_stopping,
                  "Stop when val_loss has not improved for this many epochs, ending on the best epoch's weights "
                  "(Keras's EarlyStopping with restore_best_weights)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--checkpoint-best", a->checkpoint_best,
                "Keep the model of the epoch with the best val_accuracy in OUTPUT/best (Keras's ModelCheckpoint "
                "with save_best_only)");
  cmd->add_option("--backup", a->backup_dir,
                  "Back up the whole training state to this folder after every epoch; run the same command again "
                  "after a crash or a kill and it continues from the last complete epoch (Keras's BackupAndRestore; "
                  "the backup is removed when training ends)");
  cmd->add_option("--validation-size", a->validation_size, "Training images held out for validation (the first ones; "
                  "default 5000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--precision", a->precision,
                  "fp32, or bf16: matrix products on bfloat16 operands summed in float32, float32 weights "
                  "(default: fp32, or as the --model file says)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--seed", a->seed, "Seed for weights and shuffling (default 42)");
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores, shared among the processes mpirun "
                                           "starts on one machine)")
      ->check(CLI::PositiveNumber);
  add_mpi_timeout_option(cmd, a->mpi_timeout);
  cmd->add_option("--bucket-bytes", a->bucket_bytes,
                  "Under mpirun: gradients are summed in buckets of about this many bytes, each started as soon as "
                  "backward has produced it; 0 sums them all after backward (default 1048576)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--verbose", a->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))->capture_default_str();
  cmd->add_option("--output", a->output, "Model folder to write (default: models/<dataset>-<model>)");
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
