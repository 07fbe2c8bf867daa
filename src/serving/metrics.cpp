#include "serving/metrics.hpp"

#include <charconv>

namespace kiln::serving {

namespace {
std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}
}  // namespace

std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

template <size_t N>
void Histogram<N>::add(double value, const std::array<double, N>& bounds) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  counts[i].fetch_add(1, std::memory_order_relaxed);
  double s = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(s, s + value, std::memory_order_relaxed)) {
  }
}

template <size_t N>
void Histogram<N>::write(std::string& out, const std::string& name, const std::string& labels,
                         const std::array<double, N>& bounds) const {
  int64_t total = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= N; ++i) {
    total += counts[i].load(std::memory_order_relaxed);
    out += name + "_bucket{" + labels + sep + "le=\"" + (i < N ? number(bounds[i]) : "+Inf") + "\"} " +
           std::to_string(total) + "\n";
  }
  out += name + "_sum{" + labels + "} " + number(sum.load(std::memory_order_relaxed)) + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(total) + "\n";
}

template struct Histogram<kLatencyBounds.size()>;
template struct Histogram<kBatchBounds.size()>;

void Metrics::record(const std::string& model, const std::string& version, const std::string& api, int status,
                     double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{model, version, api, status}];
  latency_[{model, api}].add(seconds, kLatencyBounds);
}

void Metrics::write(std::string& out) const {
  std::lock_guard lock(mutex_);
  out += "# HELP kiln_requests_total Requests answered, by model, version, API and HTTP status.\n";
  out += "# TYPE kiln_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [model, version, api, status] = key;
    out += "kiln_requests_total{model=\"" + label_value(model) + "\",version=\"" + version + "\",api=\"" + api +
           "\",code=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  out += "# HELP kiln_request_latency_seconds Time from a request's arrival to its answer, by model and API.\n";
  out += "# TYPE kiln_request_latency_seconds histogram\n";
  for (const auto& [key, histogram] : latency_)
    histogram.write(out, "kiln_request_latency_seconds",
                    "model=\"" + label_value(key.first) + "\",api=\"" + key.second + "\"", kLatencyBounds);
}

}  // namespace kiln::serving
