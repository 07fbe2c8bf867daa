// One loaded version of a model. Without batching, a request runs at once on the thread that
// received it, on one of several replicas of the model (one per I/O thread, so none waits for
// another and no request changes threads). With batching, requests are queued and the servable's
// own thread gathers them into one batch of up to max_batch_size instances, waiting at most
// batch_timeout_micros for more (TF Serving's batching parameters). Destroying a servable first
// answers every request already queued.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "kiln/serving.hpp"
#include "serving/metrics.hpp"
#include "serving/predict_body.hpp"
#include "serving/signature.hpp"

namespace kiln::serving {

class Servable {
 public:
  // outputs: one tensor per model output, [rows, ...]; or an HTTP status and an error text
  // (outputs empty).
  using Done = std::function<void(std::vector<Tensor> outputs, int status, const std::string& error)>;

  // load() is called once per replica (replicas >= 1). A request that waits longer than
  // `timeout_seconds` for its batch is answered 504 without running.
  Servable(const std::function<Model()>& load, int replicas, int64_t version, BatchingOptions batching,
           double timeout_seconds);
  ~Servable();
  Servable(const Servable&) = delete;
  Servable& operator=(const Servable&) = delete;

  int64_t version() const { return version_; }
  const Signature& signature() const { return *signature_; }
  // Shared, for answers written after the request let the servable go.
  const std::shared_ptr<const Signature>& shared_signature() const { return signature_; }
  // Runs the request (now, or queued for the next batch); done is called exactly once.
  void submit(RequestBody body, Done done);
  // Requests waiting for a batch, and the instances each run has taken so far.
  int64_t queue_length() const;
  const Histogram<kBatchBounds.size()>& batch_sizes() const { return batch_sizes_; }

 private:
  struct Job {
    RequestBody body;
    Done done;
    std::chrono::steady_clock::time_point queued{};
  };
  void loop();
  void run(Model& model, std::vector<Job>& jobs);

  std::vector<std::unique_ptr<Model>> replicas_;
  std::vector<Model*> free_;  // replicas no request is using
  int64_t version_;
  std::shared_ptr<const Signature> signature_;
  BatchingOptions batching_;
  std::chrono::steady_clock::duration timeout_;
  Histogram<kBatchBounds.size()> batch_sizes_;
  mutable std::mutex mutex_;
  std::condition_variable wake_, freed_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kiln::serving
