#include "serving/servable.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace kiln::serving {

Servable::Servable(const std::function<Model()>& load, int replicas, int64_t version, BatchingOptions batching,
                   double timeout_seconds)
    : version_(version),
      batching_(batching),
      timeout_(std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_seconds))) {
  for (int i = 0; i < std::max(1, replicas); ++i) {
    replicas_.push_back(std::make_unique<Model>(load()));
    free_.push_back(replicas_.back().get());
  }
  signature_ = std::make_shared<const Signature>(signature_of(*replicas_[0]));
  if (batching_.max_batch_size > 0) thread_ = std::thread([this] { loop(); });
}

Servable::~Servable() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Servable::submit(RequestBody body, Done done) {
  if (batching_.max_batch_size > 0) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back({std::move(body), std::move(done), std::chrono::steady_clock::now()});
    }
    wake_.notify_one();
    return;
  }
  Model* model;
  {
    std::unique_lock lock(mutex_);
    freed_.wait(lock, [&] { return !free_.empty(); });
    model = free_.back();
    free_.pop_back();
  }
  std::vector<Job> jobs;
  jobs.push_back({std::move(body), std::move(done)});
  run(*model, jobs);
  {
    std::lock_guard lock(mutex_);
    free_.push_back(model);
  }
  freed_.notify_one();
}

int64_t Servable::queue_length() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

void Servable::loop() {
  std::vector<Job> jobs;
  for (;;) {
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and every queued request answered
    jobs.clear();
    int64_t rows = queue_.front().body.rows;
    jobs.push_back(std::move(queue_.front()));
    queue_.pop_front();
    if (batching_.max_batch_size > 0) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(batching_.batch_timeout_micros);
      while (rows < batching_.max_batch_size) {
        if (queue_.empty() && !wake_.wait_until(lock, deadline, [&] { return stop_ || !queue_.empty(); })) break;
        if (queue_.empty() || rows + queue_.front().body.rows > batching_.max_batch_size) break;
        rows += queue_.front().body.rows;
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(jobs, [&](Job& j) {
      if (now - j.queued <= timeout_) return false;
      j.done({}, 504, "the request waited " + std::to_string(std::chrono::duration<double>(now - j.queued).count()) +
                          " s for its batch, over the timeout (--rest_api_timeout_in_ms)");
      return true;
    });
    if (!jobs.empty()) run(*replicas_[0], jobs);
  }
}

void Servable::run(Model& model, std::vector<Job>& jobs) {
  const size_t n_inputs = signature_->inputs.size();
  int64_t rows = 0;
  for (const auto& j : jobs) rows += j.body.rows;
  std::vector<Inputs> x;
  if (jobs.size() == 1) {
    for (auto& t : jobs[0].body.inputs) x.emplace_back(std::move(t));
  } else {
    for (size_t k = 0; k < n_inputs; ++k) {
      Shape shape = signature_->inputs[k].shape;
      shape.insert(shape.begin(), rows);
      Tensor batch(shape);
      float* dst = batch.data();
      for (const auto& j : jobs) dst = std::copy_n(j.body.inputs[k].data(), j.body.inputs[k].size(), dst);
      x.emplace_back(std::move(batch));
    }
  }
  batch_sizes_.add(static_cast<double>(rows), kBatchBounds);
  std::vector<Tensor> outputs;
  try {
    outputs = model.predict_outputs(x, {.batch_size = rows});
  } catch (const std::exception& e) {
    for (auto& j : jobs) j.done({}, 500, e.what());
    return;
  }
  if (jobs.size() == 1) {
    jobs[0].done(std::move(outputs), 200, "");
    return;
  }
  int64_t begin = 0;
  for (auto& j : jobs) {
    std::vector<Tensor> mine;
    for (const auto& out : outputs) mine.push_back(out.slice(begin, begin + j.body.rows).clone());
    begin += j.body.rows;
    j.done(std::move(mine), 200, "");
  }
}

}  // namespace kiln::serving
