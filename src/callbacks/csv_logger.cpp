// CSVLogger: one row per epoch in a CSV file (Keras's layout), optionally appended to an
// existing log; a fit continued from a backup writes its restored epochs first.
#include <algorithm>

#include "kiln/callbacks.hpp"
#include "kiln/error.hpp"

namespace kiln {

CSVLogger::CSVLogger(std::string filename, char separator, bool append)
    : filename_(std::move(filename)), separator_(separator), append_(append) {}

void CSVLogger::on_train_begin(const Logs&) {
  if (file_.is_open()) file_.close();
  write_header_ = true;
  if (append_) {
    // As Keras: the header goes in only when the file is absent or empty.
    std::error_code ec;
    const auto size = std::filesystem::file_size(filename_, ec);
    write_header_ = ec || size == 0;
  }
  file_.open(filename_, std::ios::out | (append_ ? std::ios::app : std::ios::trunc));
  if (!file_)
    throw IoError("CSVLogger: cannot open '" + filename_ + "' for " +
                  (append_ ? "appending" : "writing"));
  keys_.clear();
  // A fit continued from a backup (FitState) starts with the epochs it restored, so that a new
  // file holds the whole run; an appended one already has them.
  if (append_ || !fit_state()) return;
  const History& done = fit_state()->history;
  for (size_t i = 0; i < done.epoch.size(); ++i) {
    Logs logs;
    for (const auto& [key, values] : done.history)
      if (i < values.size()) logs.set(key, values[i]);
    on_epoch_end(done.epoch[i], logs);
  }
}

void CSVLogger::on_epoch_end(int epoch, const Logs& logs) {
  if (keys_.empty()) {
    for (const auto& item : logs.items()) keys_.push_back(item.first);
    std::sort(keys_.begin(), keys_.end());
    if (write_header_) {
      file_ << "epoch";
      for (const auto& k : keys_) file_ << separator_ << k;
      file_ << '\n';
    }
  }
  file_ << epoch;
  for (const auto& k : keys_)
    file_ << separator_ << (logs.contains(k) ? format_number(logs.at(k)) : "");
  file_ << '\n' << std::flush;
  if (!file_) throw IoError("CSVLogger: writing '" + filename_ + "' failed");
}

void CSVLogger::on_train_end(const Logs&) { file_.close(); }

}  // namespace kiln
