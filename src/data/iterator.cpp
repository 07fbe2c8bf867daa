// One pass over a Dataset: the epoch's order of samples and batches, and the batches built on
// the caller's thread or, with prefetch, by background threads that stay up to `prefetch`
// batches ahead of the caller, each thread building whole batches.
#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "data/spec.hpp"

namespace kiln::data {

using detail::Context;

struct Iterator::State {
  std::shared_ptr<const detail::Spec> spec;
  Context context;
  std::vector<int64_t> order;                      // the epoch's samples
  std::vector<std::pair<int64_t, int64_t>> spans;  // each batch's [begin, end) in order
  int64_t next = 0;                                // the batch next() gives next
  double waited = 0;

  // With prefetch:
  std::mutex mutex;
  std::condition_variable ready, room;
  std::vector<std::optional<Batch>> built;
  std::vector<std::exception_ptr> errors;
  int64_t claimed = 0;
  bool stop = false;
  std::vector<std::thread> threads;

  Batch build(int64_t k) const {
    const auto [begin, end] = spans[static_cast<size_t>(k)];
    return detail::assemble(*spec->node, order.data() + begin, end - begin, context);
  }

  // The batches kept ahead before a sleeping builder is woken again.
  int64_t low_water() const { return std::max<int64_t>(1, spec->prefetch / 2); }

  void work() {
    // SCHED_BATCH: a builder woken by the consumer does not preempt it (or the model's threads);
    // it runs in its fair share of the cores. Woken as SCHED_OTHER, it took the trainer's core
    // at once for the whole refill, and fit waited 10% of an epoch of cached batches that were
    // ready (1.8% as SCHED_BATCH; bench/pipeline.cpp).
    sched_param param{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    const auto batches = static_cast<int64_t>(spans.size());
    for (;;) {
      int64_t k;
      {
        std::unique_lock lock(mutex);
        // A thread that finds the buffer full sleeps until it has run down to half, then fills
        // it in one go: one wake-up per prefetch / 2 batches, not one per batch, leaves the
        // cores to the model.
        if (claimed < batches && claimed >= next + spec->prefetch)
          room.wait(lock, [&] { return stop || claimed >= batches || claimed < next + low_water(); });
        if (stop || claimed >= batches) return;
        if (claimed >= next + spec->prefetch) continue;
        k = claimed++;
      }
      std::optional<Batch> batch;
      std::exception_ptr error;
      try {
        batch = build(k);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex);
        built[static_cast<size_t>(k)] = std::move(batch);
        errors[static_cast<size_t>(k)] = error;
      }
      ready.notify_all();
    }
  }
};

Iterator::Iterator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Iterator::Iterator(Iterator&&) noexcept = default;

Iterator::~Iterator() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  state_->room.notify_all();
  for (auto& t : state_->threads) t.join();
}

double Iterator::waited_seconds() const { return state_->waited; }

bool Iterator::next(Batch& batch) {
  State& s = *state_;
  const auto batches = static_cast<int64_t>(s.spans.size());
  if (s.next >= batches) return false;
  const auto start = std::chrono::steady_clock::now();
  const int64_t k = s.next;
  if (s.threads.empty()) {
    batch = s.build(k);
  } else {
    std::unique_lock lock(s.mutex);
    s.ready.wait(lock, [&] { return s.built[static_cast<size_t>(k)].has_value() || s.errors[static_cast<size_t>(k)]; });
    if (s.errors[static_cast<size_t>(k)]) std::rethrow_exception(s.errors[static_cast<size_t>(k)]);
    batch = std::move(*s.built[static_cast<size_t>(k)]);
    s.built[static_cast<size_t>(k)].reset();
  }
  s.waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bool wake;
  {
    std::lock_guard lock(s.mutex);
    s.next = k + 1;
    wake = s.claimed < s.next + s.low_water();
  }
  if (wake) s.room.notify_all();
  return true;
}

Iterator Dataset::iterate(int epoch, std::optional<uint64_t> seed, std::optional<double> scale) const {
  auto s = std::make_unique<Iterator::State>();
  s->spec = spec_;
  s->context = {epoch, seed ? *seed : utils::global_rng().next(), scale};
  s->order = detail::apply(spec_->sample_ops, spec_->node->size(), s->context);
  const auto n = static_cast<int64_t>(s->order.size());
  const int64_t bs = spec_->batch > 0 ? spec_->batch : 1;
  const int64_t batches = spec_->drop_remainder ? n / bs : (n + bs - 1) / bs;
  // The batches' order, after the operations on batches (shuffle, take, skip).
  for (int64_t b : detail::apply(spec_->batch_ops, batches, s->context))
    s->spans.emplace_back(b * bs, std::min(n, (b + 1) * bs));
  if (spec_->prefetch > 0 && !s->spans.empty()) {
    const int threads = spec_->threads > 0 ? spec_->threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    s->built.resize(s->spans.size());
    s->errors.resize(s->spans.size());
    Iterator it(std::move(s));  // from here its destructor stops and joins what was started
    for (int t = 0; t < std::min<int64_t>(threads, static_cast<int64_t>(it.state_->spans.size())); ++t)
      it.state_->threads.emplace_back([state = it.state_.get()] { state->work(); });
    return it;
  }
  return Iterator(std::move(s));
}

}  // namespace kiln::data
