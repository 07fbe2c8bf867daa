// One loaded version of a model and the thread that runs it. Requests are queued; the thread
// runs them one at a time, or, with batching on, gathers queued requests into one batch of up to
// max_batch_size instances, waiting at most batch_timeout_micros for more (TF Serving's batching
// parameters). Destroying a servable first answers every request already queued.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "kiln/serving.hpp"
#include "serving/predict_body.hpp"
#include "serving/signature.hpp"

namespace kiln::serving {

class Servable {
 public:
  // outputs: one tensor per model output, [rows, ...]; or an error text (outputs empty).
  using Done = std::function<void(std::vector<Tensor> outputs, const std::string& error)>;

  Servable(Model model, int64_t version, BatchingOptions batching);
  ~Servable();
  Servable(const Servable&) = delete;
  Servable& operator=(const Servable&) = delete;

  int64_t version() const { return version_; }
  const Signature& signature() const { return *signature_; }
  // Shared, for answers written after the request let the servable go.
  const std::shared_ptr<const Signature>& shared_signature() const { return signature_; }
  void submit(RequestBody body, Done done);

 private:
  struct Job {
    RequestBody body;
    Done done;
  };
  void loop();
  void run(std::vector<Job>& jobs);

  Model model_;
  int64_t version_;
  std::shared_ptr<const Signature> signature_;
  BatchingOptions batching_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace kiln::serving
