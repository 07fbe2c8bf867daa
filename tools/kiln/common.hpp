// Helpers the subcommands share: which dataset and split a command works on.
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <kiln/kiln.hpp>
#include <optional>
#include <string>

namespace kiln::cli {

// The dataset a saved model was trained on (metadata "dataset"), unless `requested` names one.
std::string dataset_for(const Model& model, const std::string& requested);

// How a folder of class sub-folders becomes a dataset (kiln train --dataset DIR); what is unset
// is read off the first image (its size; grayscale for a grey file, else rgb).
struct FolderSettings {
  std::optional<std::array<int64_t, 2>> image_size;
  std::string color_mode;
  std::string interpolation = "bilinear";
};

// Whether `dataset` is a folder rather than a built-in dataset's name.
bool is_folder(const std::string& dataset);
// A folder as a dataset: DIR/train and DIR/test when both exist (the layout `kiln datasets
// export` writes), else DIR as the training split and no test split. The training images are
// shuffled with `seed` (kiln train's validation images are the first ones); `class_names`, when
// given, fixes the classes and their order. Fills in `settings`.
datasets::Dataset load_folder(const std::string& dir, FolderSettings& settings, uint32_t seed,
                              const std::vector<std::string>& class_names = {});
// A folder as kiln train reads it: pipelines that decode the images on background threads while
// the model trains. The training files (shuffled with `seed`) give the first validation_size
// to validation; the test split is DIR/test as with load_folder. cache: "memory" keeps the
// decoded images in memory after the first epoch, "none" decodes them every epoch (a folder
// larger than memory), any other value is a file to keep them in (FILE and FILE.validation),
// which later runs read instead of decoding.
struct FolderPipelines {
  std::string name;
  std::vector<std::string> class_names;
  Shape input;            // (height, width, channels)
  int64_t train_samples;  // after the validation split
  std::optional<data::Dataset> train, validation, test;
};
FolderPipelines folder_pipelines(const std::string& dir, FolderSettings& settings, uint32_t seed,
                                 int64_t validation_size, int64_t batch_size, const std::string& cache);
// The dataset a saved model was trained on, or `requested`: a built-in one by name, or a folder
// read at the model's input size and channels, with its classes and preprocessing.
datasets::Dataset load_dataset_for(const Model& model, const std::string& requested);

// One split ("train" or "test") of a dataset; throws ValueError on other names.
const datasets::Split& split_of(const datasets::Dataset& data, const std::string& split);

// The model at `path` (a kiln model folder, or a .keras / .h5 file Keras saved) as evaluate,
// predict and summary use it. `rescale` ("1/255", "0.5", ...; empty: keep) replaces the pixels'
// scale. A Keras file records no preprocessing, so a note on stderr says which scale is used
// and how --rescale changes it; an uncompiled model is compiled with `compile_if_needed`'s loss
// (with accuracy) when one is given, and the note says so.
Model load_model_to_run(const std::string& path, const std::string& rescale, const std::string& compile_if_needed = "");
// Adds --rescale, the option load_model_to_run takes, to a subcommand.
void add_rescale_option(CLI::App* cmd, std::string& rescale);

// Whether any layer computes in mixed_bfloat16.
bool uses_bf16(const Model& model);
// If one does and the CPU has no AVX512_BF16, warns on stderr that its products are emulated
// (the same results, slower than float32).
void warn_if_bf16_is_emulated(const Model& model);

// The strategy kiln train runs with: data-parallel over MPI when a launcher started several
// processes (mpirun -np N kiln train ...), none for a process on its own, with the gradient
// buckets and the timeout (StrategyOptions, MpiOptions). Sets the worker threads:
// `threads` when positive, else the machine's cores shared among the processes on it. Several
// processes and a kiln built without MPI are an error (each would train alone).
std::shared_ptr<distribute::MultiWorkerMirroredStrategy> launched_strategy(double timeout_seconds, int64_t bucket_bytes,
                                                                      int threads);
// Adds --mpi-timeout (MpiOptions::timeout_seconds) to a subcommand that runs under mpirun.
void add_mpi_timeout_option(CLI::App* cmd, double& seconds);
// After an error: ends every process of a launched run (the others would wait for this one);
// returns the exit status otherwise.
int end_after_error();

}  // namespace kiln::cli
