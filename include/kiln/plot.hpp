// Pictures of what training did: learning curves, grids of images and confusion matrices,
// drawn with cairo in matplotlib's default look. The file name's extension picks the format:
// .png, .svg or .pdf. Files are written whole or not at all (a temporary file, then a rename);
// a bad argument or a missing folder throws before anything is drawn.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/callbacks.hpp"
#include "kiln/report.hpp"
#include "kiln/tensor.hpp"

namespace kiln {
class Model;
}

namespace kiln::plot {

// A rectangle in the picture, in pixels from its top-left corner.
struct Rect {
  double x = 0, y = 0, width = 0, height = 0;
};

struct CurvesOptions {
  std::string title = "Learning curves";
  std::optional<std::pair<double, double>> ylim;  // default: the data's range plus 5% margins
  int width = 800, height = 500;                  // the tutorial's figsize=(8, 5) at 100 dpi
};

// One line per history column against the epoch, with a grid, a legend, axis labels and a
// title: what pd.DataFrame(history.history).plot() shows. Columns are drawn loss first, then
// the other metrics, then their val_ versions. Returns the plot area (inside the axes).
Rect learning_curves(const History& history, const std::filesystem::path& path,
                     const CurvesOptions& options = {});

struct GridOptions {
  int scale = 4;              // each image pixel becomes scale x scale picture pixels
  int64_t columns = 0;        // images per row; 0: as square a grid as fits
  std::string cmap = "gray";  // "gray" (0 black), "binary" (0 white) or "viridis"
  std::string title;
};

// Images (N, H, W) or (N, H, W, C) with C 1 or 3, uint8, in a grid, scaled up by nearest
// neighbour so pixels stay crisp, each with its caption underneath ("\n" starts a new line).
// captions: one per image, or none. Returns where each image landed.
std::vector<Rect> image_grid(const ByteTensor& images, const std::vector<std::string>& captions,
                             const std::filesystem::path& path, const GridOptions& options = {});

struct ConfusionOptions {
  std::string title = "Confusion matrix";
};

// The counts in a grid of cells shaded by their share of the row (true class), with the class
// names on both axes (predicted across, true down). Returns the area of the cells.
Rect confusion_matrix(const ConfusionMatrix& cm, const std::vector<std::string>& class_names,
                      const std::filesystem::path& path, const ConfusionOptions& options = {});

// A search's results (kiln::tuner): the objective of each trial against its number (with the
// best so far as a step line) and against the first hyperparameter's value.
struct SearchPlotData {
  std::string objective;
  std::vector<double> trial, score;     // one per trial; a NaN score is left out
  std::string parameter;                // the hyperparameter's name
  std::vector<double> value;            // its value in each trial (for a choice: the index)
  std::vector<std::string> categories;  // a choice's values, its axis labels; empty for numbers
  bool log_scale = false;               // a log-sampled parameter: a log axis
  bool maximize = true;                 // which way "best so far" goes
};

// The two panels side by side. Returns their plot areas (trial axis, then parameter axis).
std::vector<Rect> search_results(const SearchPlotData& data, const std::filesystem::path& path);

struct ModelPlotOptions {
  bool show_shapes = true;  // each box lists its input and output shapes
};

// The model's graph as keras.utils.plot_model(show_shapes=True) draws it: one box per layer with
// its name, class and (show_shapes) shapes, an arrow for every tensor passed from one layer to
// another, laid out top to bottom by graphviz's dot. Returns each layer's box, in the order of
// model.layers().
std::vector<Rect> model(const Model& model, const std::filesystem::path& path,
                        const ModelPlotOptions& options = {});

// A callback that redraws the learning curves at the end of every epoch, so a picture viewer
// shows the run as it goes. A bad file name or missing folder throws when training begins; a
// picture that cannot be written later (the folder removed, the disk full) is reported once on
// standard error and training goes on.
class LearningCurvesPlotter : public Callback {
 public:
  explicit LearningCurvesPlotter(std::filesystem::path path, CurvesOptions options = {});
  bool chief_only() const override { return true; }
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;

 private:
  std::filesystem::path path_;
  CurvesOptions options_;
  History history_;
  bool warned_ = false;
};

}  // namespace kiln::plot
