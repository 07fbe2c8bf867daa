#include <algorithm>

#include "kiln/callbacks.hpp"
#include "kiln/error.hpp"

namespace kiln {

CSVLogger::CSVLogger(std::string filename, char separator)
    : filename_(std::move(filename)), separator_(separator) {}

void CSVLogger::on_train_begin(const Logs&) {
  file_.open(filename_, std::ios::out | std::ios::trunc);
  if (!file_) throw IoError("CSVLogger: cannot open '" + filename_ + "' for writing");
  keys_.clear();
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  if (keys_.empty()) {
    for (const auto& item : logs.items()) keys_.push_back(item.first);
    std::sort(keys_.begin(), keys_.end());
    file_ << "epoch";
    for (const auto& k : keys_) file_ << separator_ << k;
    file_ << '\n';
  }
  file_ << epoch;
  for (const auto& k : keys_) file_ << separator_ << (logs.contains(k) ? format_number(logs.at(k)) : "");
  file_ << '\n' << std::flush;
  if (!file_) throw IoError("CSVLogger: writing '" + filename_ + "' failed");
}

void CSVLogger::on_train_end(const Logs&) { file_.close(); }

}  // namespace kiln
