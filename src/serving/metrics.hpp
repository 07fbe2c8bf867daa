// The server's counters in Prometheus's text format (/monitoring/prometheus/metrics): requests
// by model, version, API and status code, a latency histogram per model and API, and, from the
// servables, batch sizes and queue lengths. Recording is thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace kiln::serving {

// Histogram bucket bounds: request latency in seconds, and batch sizes in instances.
inline constexpr std::array<double, 12> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
inline constexpr std::array<double, 11> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

// Counts per bucket (the last one past every bound), with the sum and the number of samples.
template <size_t N>
struct Histogram {
  std::array<std::atomic<int64_t>, N + 1> counts{};
  std::atomic<double> sum{0};
  void add(double value, const std::array<double, N>& bounds);
  // Prometheus's cumulative _bucket lines, then _sum and _count, for `name{labels}`.
  void write(std::string& out, const std::string& name, const std::string& labels, const std::array<double, N>& bounds) const;
};

class Metrics {
 public:
  // model and version are "" for requests that reached no model (a bad path, a bad token).
  void record(const std::string& model, const std::string& version, const std::string& api, int status, double seconds);
  // Appends the request counters and latency histograms.
  void write(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string, int>, int64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram<kLatencyBounds.size()>> latency_;
};

// A Prometheus label value with \, " and newlines escaped.
std::string label_value(const std::string& text);

}  // namespace kiln::serving
