// Keras's progress bar, drawn the way keras.utils.Progbar draws it.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "kiln/callbacks.hpp"

namespace kiln {

namespace {

constexpr int kWidth = 30;
constexpr double kRedrawSeconds = 0.05;

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// " 1ms/step": the time per unit in the unit of time Keras picks for it.
std::string per_step(double seconds, const std::string& unit) {
  if (seconds >= 1 || seconds == 0) return printf_str(" %.0fs/", seconds) + unit;
  if (seconds >= 1e-3) return printf_str(" %.0fms/", seconds * 1e3) + unit;
  return printf_str(" %.0fus/", seconds * 1e6) + unit;
}

std::string eta(double seconds) {
  long s = static_cast<long>(seconds);
  char buf[64];
  if (s > 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s % 3600) / 60, s % 60);
  else if (s > 60)
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

std::string values(const Logs& logs) {
  std::string s;
  for (const auto& [k, v] : logs.items())
    s += " - " + k + ":" + printf_str(std::abs(v) > 1e-3 ? " %.4f" : " %.4e", v);
  return s;
}

std::string counter(int64_t current, int64_t target) {
  int digits = static_cast<int>(std::to_string(target).size());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%*lld/%lld", digits, static_cast<long long>(current),
                static_cast<long long>(target));
  return buf;
}

}  // namespace

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

Progbar::Progbar(int64_t target, int verbose, std::ostream& out, bool dynamic, std::string unit_name)
    : target_(std::max<int64_t>(target, 1)),
      verbose_(verbose),
      out_(out),
      dynamic_(dynamic),
      unit_name_(std::move(unit_name)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progbar::update(int64_t current, const Logs& logs, bool finalize, const std::string& note) {
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double per_unit = current > 0 ? elapsed / static_cast<double>(current) : 0.0;
  if (verbose_ == 2) {
    if (finalize)
      out_ << counter(current, target_) << printf_str(" - %.0fs", elapsed) << values(logs)
           << printf_str(" - %.0fs/epoch -", elapsed) << per_step(per_unit, unit_name_) << note << '\n'
           << std::flush;
    return;
  }
  if (verbose_ != 1) return;
  if (!finalize && (!dynamic_ || std::chrono::duration<double>(now - last_draw_).count() <
                                     kRedrawSeconds))
    return;
  last_draw_ = now;
  std::string line = counter(current, target_) + " [";
  int filled = static_cast<int>(kWidth * std::min<double>(1.0, double(current) / target_));
  if (filled > 0) line += std::string(filled - 1, '=') + (current < target_ ? '>' : '=');
  line += std::string(kWidth - filled, '.') + "]";
  if (finalize || current >= target_)
    line += printf_str(" - %.0fs", elapsed) + per_step(per_unit, unit_name_);
  else
    line += " - ETA: " + eta(per_unit * static_cast<double>(target_ - current));
  line += values(logs);
  if (dynamic_) {
    out_ << '\r' << line;
    if (line.size() < drawn_width_) out_ << std::string(drawn_width_ - line.size(), ' ');
    drawn_width_ = line.size();
  } else {
    out_ << line;
  }
  if (finalize) out_ << '\n';
  out_ << std::flush;
}

ProgbarLogger::ProgbarLogger(std::ostream& out)
    : out_(out), dynamic_(&out == &std::cout && stdout_is_terminal()) {}

void ProgbarLogger::on_epoch_begin(int epoch, const Logs&) {
  if (params_.verbose == 0) return;
  if (params_.epochs > 1 || params_.verbose == 1)
    out_ << "Epoch " << epoch + 1 << '/' << params_.epochs << '\n' << std::flush;
  bar_ = std::make_unique<Progbar>(params_.steps, params_.verbose, out_, dynamic_);
  seen_ = 0;
}

void ProgbarLogger::on_train_batch_end(int64_t batch, const Logs& logs) {
  seen_ = batch + 1;
  if (bar_) bar_->update(seen_, logs);
}

void ProgbarLogger::on_epoch_end(int, const Logs& logs) {
  // With a pipeline, one line per epoch also says how much of the training steps' time went on
  // waiting for batches: near 0 when the data keeps up with the model. (With arrays the line
  // stays Keras's.)
  std::string note;
  if (params_.verbose == 2 && fit_state_ && fit_state_->from_pipeline && fit_state_->train_seconds > 0)
    note = printf_str(" - %.1f%% waiting for data", 100.0 * fit_state_->data_wait_seconds / fit_state_->train_seconds);
  if (bar_) bar_->update(seen_, logs, true, note);
  bar_.reset();
}

}  // namespace kiln
