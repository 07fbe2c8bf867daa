// Per-class results of a classifier: the confusion matrix, precision, recall and F1, and
// scikit-learn's classification_report table.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln {

// counts[t * classes + p]: how many samples of true class t were predicted as p.
struct ConfusionMatrix {
  int64_t classes = 0;
  std::vector<int64_t> counts;
  int64_t operator()(int64_t truth, int64_t predicted) const {
    return counts[truth * classes + predicted];
  }
  int64_t total() const;
};

// Counts pairs of labels; throws ValueError if the lengths differ or a label is outside
// [0, classes).
ConfusionMatrix confusion_matrix(std::span<const int32_t> truth, std::span<const int32_t> predicted,
                                 int64_t classes);

// The index of the highest score in each row of a (N, classes) tensor.
std::vector<int32_t> argmax_rows(const Tensor& scores);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;  // 0 where undefined (no predictions or samples)
  int64_t support = 0;                       // samples of the class
};
std::vector<ClassScores> class_scores(const ConfusionMatrix& cm);

// scikit-learn's layout: one row per class (precision, recall, f1-score, support), then
// accuracy, macro avg and weighted avg. names: one per class (empty: the class numbers).
std::string classification_report(const ConfusionMatrix& cm,
                                  const std::vector<std::string>& names = {}, int digits = 2);

}  // namespace kiln
