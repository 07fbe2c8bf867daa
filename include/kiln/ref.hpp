// Ref<Base>: a shared handle built implicitly from any Base-derived value or pointer, so that
// options read like Keras (`.optimizer = optimizers::SGD({...})`, `Dense(300, "relu")`).
#pragma once

#include <memory>
#include <type_traits>

namespace kiln {

template <typename Base>
class Ref {
 public:
  Ref(std::shared_ptr<Base> p) : p_(std::move(p)) {}
  template <typename D, typename = std::enable_if_t<std::is_base_of_v<Base, std::decay_t<D>>>>
  Ref(D&& value) : p_(std::make_shared<std::decay_t<D>>(std::forward<D>(value))) {}

  Base* operator->() const { return p_.get(); }
  Base& operator*() const { return *p_; }
  const std::shared_ptr<Base>& get() const { return p_; }

 private:
  std::shared_ptr<Base> p_;
};

}  // namespace kiln
