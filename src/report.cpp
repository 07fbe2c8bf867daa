#include "kiln/report.hpp"

#include <algorithm>
#include <cstdio>

#include "kiln/error.hpp"
#include "kiln/metrics.hpp"

namespace kiln {

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t c : counts) sum += c;
  return sum;
}

ConfusionMatrix confusion_matrix(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                                 int64_t classes) {
  if (truth.size() != predicted.size())
    throw ValueError("confusion_matrix: " + std::to_string(truth.size()) + " true labels but " +
                     std::to_string(predicted.size()) + " predictions");
  ConfusionMatrix cm{classes, std::vector<int64_t>(static_cast<size_t>(classes * classes), 0)};
  for (size_t i = 0; i < truth.size(); ++i) {
    for (int32_t label : {truth[i], predicted[i]})
      if (label < 0 || label >= classes)
        throw ValueError("confusion_matrix: label " + std::to_string(label) + " at index " +
                         std::to_string(i) + " is outside [0, " + std::to_string(classes) + ")");
    ++cm.counts[truth[i] * classes + predicted[i]];
  }
  return cm;
}

std::vector<int32_t> argmax_rows(const Tensor& scores) {
  if (scores.rank() != 2)
    throw ShapeError("argmax_rows: expected (N, classes) scores, received " +
                     shape_str(scores.shape()));
  int64_t n = scores.dim(0), c = scores.dim(1);
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[i] = static_cast<int32_t>(metrics::argmax(scores.data() + i * c, c));
  return out;
}

std::vector<ClassScores> class_scores(const ConfusionMatrix& cm) {
  std::vector<ClassScores> out(static_cast<size_t>(cm.classes));
  for (int64_t k = 0; k < cm.classes; ++k) {
    int64_t tp = cm(k, k), predicted = 0, actual = 0;
    for (int64_t j = 0; j < cm.classes; ++j) {
      predicted += cm(j, k);
      actual += cm(k, j);
    }
    ClassScores& s = out[k];
    s.support = actual;
    s.precision = predicted ? static_cast<double>(tp) / predicted : 0.0;
    s.recall = actual ? static_cast<double>(tp) / actual : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  }
  return out;
}

std::string classification_report(const ConfusionMatrix& cm, const std::vector<std::string>& names,
                                  int digits) {
  if (!names.empty() && static_cast<int64_t>(names.size()) != cm.classes)
    throw ValueError("classification_report: " + std::to_string(names.size()) +
                     " class names for " + std::to_string(cm.classes) + " classes");
  auto name_of = [&](int64_t k) { return names.empty() ? std::to_string(k) : names[k]; };
  size_t width = std::string("weighted avg").size();
  for (int64_t k = 0; k < cm.classes; ++k) width = std::max(width, name_of(k).size());
  int col = std::max(digits + 2, 9);  // "precision" is 9 wide
  std::string out;
  char line[512];
  auto row = [&](const std::string& name, const double* values, int count, int64_t support) {
    int n = std::snprintf(line, sizeof line, "%*s", static_cast<int>(width), name.c_str());
    for (int i = 0; i < 3; ++i) {
      if (i < 3 - count)
        n += std::snprintf(line + n, sizeof line - n, " %*s", col, "");
      else
        n += std::snprintf(line + n, sizeof line - n, " %*.*f", col, digits,
                           values[i - (3 - count)]);
    }
    std::snprintf(line + n, sizeof line - n, " %*lld\n", col, static_cast<long long>(support));
    out += line;
  };
  std::snprintf(line, sizeof line, "%*s %*s %*s %*s %*s\n\n", static_cast<int>(width), "", col,
                "precision", col, "recall", col, "f1-score", col, "support");
  out += line;
  auto scores = class_scores(cm);
  double macro[3] = {}, weighted[3] = {};
  int64_t total = cm.total(), correct = 0;
  for (int64_t k = 0; k < cm.classes; ++k) {
    const ClassScores& s = scores[k];
    double v[3] = {s.precision, s.recall, s.f1};
    row(name_of(k), v, 3, s.support);
    for (int i = 0; i < 3; ++i) {
      macro[i] += v[i] / static_cast<double>(cm.classes);
      weighted[i] +=
          total ? v[i] * static_cast<double>(s.support) / static_cast<double>(total) : 0.0;
    }
    correct += cm(k, k);
  }
  out += "\n";
  double accuracy = total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
  row("accuracy", &accuracy, 1, total);
  row("macro avg", macro, 3, total);
  row("weighted avg", weighted, 3, total);
  return out;
}

}  // namespace kiln
