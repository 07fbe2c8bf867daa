// Dataset::cache: each sample kept the first time it is made, in memory or in a file. The
// samples share one layout (the first sample's): features, target and weight at fixed places,
// so the memory cache is one array per feature and the file one record per sample.
//
// A cache file is written beside its name (<file>.partial) while the first pass makes the
// samples, and renamed into place once every sample is in it, so a file under the given name is
// always complete. It begins with "KILNCCH1", a little-endian uint64 length and a JSON header
// (the data's name, the sample count and the layout), padded to 64 bytes; then one record per
// sample: the features' values, the label (int32) or target (float32), the weight (float32)
// and a byte that says whether the sample was kept (1) or left out (2).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "data/spec.hpp"

namespace kiln::data::detail {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'C', 'C', 'H', '1'};
enum : uint8_t { kEmpty = 0, kKept = 1, kLeftOut = 2, kWriting = 3 };

struct Layout {
  std::vector<Shape> shapes;
  std::vector<bool> bytes;
  Shape target;  // empty: an int32 label
  int64_t feature_bytes(size_t k) const { return shape_size(shapes[k]) * (bytes[k] ? 1 : 4); }
  int64_t target_bytes() const { return target.empty() ? 4 : 4 * shape_size(target); }
  int64_t record_bytes() const {
    int64_t n = target_bytes() + 4 + 1;
    for (size_t k = 0; k < shapes.size(); ++k) n += feature_bytes(k);
    return n;
  }
  static Layout of(const Example& e) {
    Layout l;
    for (const auto& f : e.x) {
      l.shapes.push_back(feature_shape(f));
      l.bytes.push_back(is_bytes(f));
    }
    if (!e.target.empty()) l.target = e.target.shape();
    return l;
  }
  bool fits(const Example& e) const {
    if (e.x.size() != shapes.size() || e.target.shape() != target) return false;
    for (size_t k = 0; k < shapes.size(); ++k)
      if (feature_shape(e.x[k]) != shapes[k] || is_bytes(e.x[k]) != bytes[k]) return false;
    return true;
  }
  nlohmann::json to_json() const {
    nlohmann::json j;
    for (size_t k = 0; k < shapes.size(); ++k)
      j["features"].push_back({{"shape", shapes[k]}, {"dtype", bytes[k] ? "uint8" : "float32"}});
    j["target"] = target;
    return j;
  }
  // Throws when the layout is not one a cache writes: at most 64 features, each of at most
  // 2^32 values (so that a record's size cannot overflow).
  static Layout from_json(const nlohmann::json& j) {
    Layout l;
    auto bounded = [](Shape shape) {
      if (shape.size() > 8 || shape_size(shape) > (int64_t{1} << 32))
        throw ShapeError("a sample shaped " + shape_str(shape) + " is beyond what a cache holds");
      return shape;
    };
    const auto& features = j.at("features");
    if (!features.is_array() || features.size() > 64) throw ShapeError("expected at most 64 features");
    for (const auto& f : features) {
      l.shapes.push_back(bounded(f.at("shape").get<Shape>()));
      l.bytes.push_back(f.at("dtype") == "uint8");
    }
    l.target = bounded(j.at("target").get<Shape>());
    return l;
  }
  std::string describe() const { return to_json().dump(); }
};

template <typename T>
const char* raw(const BasicTensor<T>& t) { return reinterpret_cast<const char*>(t.data()); }

// Writes sample e into `record` (record_bytes() long).
void pack(const Layout& l, const Example& e, bool kept, char* record) {
  char* p = record;
  for (size_t k = 0; k < l.shapes.size(); ++k) {
    const int64_t n = l.feature_bytes(k);
    if (kept) std::memcpy(p, std::visit([](const auto& t) { return raw(t); }, e.x[k]), n);
    p += n;
  }
  if (l.target.empty())
    std::memcpy(p, &e.label, 4);
  else if (kept)
    std::memcpy(p, e.target.data(), l.target_bytes());
  p += l.target_bytes();
  std::memcpy(p, &e.weight, 4);
  p[4] = static_cast<char>(kept ? kKept : kLeftOut);
}

void unpack(const Layout& l, const char* record, Example& e) {
  e.x.clear();
  const char* p = record;
  for (size_t k = 0; k < l.shapes.size(); ++k) {
    const int64_t n = l.feature_bytes(k);
    if (l.bytes[k]) {
      ByteTensor t(l.shapes[k]);
      std::memcpy(t.data(), p, n);
      e.x.emplace_back(std::move(t));
    } else {
      Tensor t(l.shapes[k]);
      std::memcpy(t.data(), p, n);
      e.x.emplace_back(std::move(t));
    }
    p += n;
  }
  if (l.target.empty()) {
    std::memcpy(&e.label, p, 4);
    e.target = Tensor();
  } else {
    e.target = Tensor(l.target);
    std::memcpy(e.target.data(), p, l.target_bytes());
  }
  std::memcpy(&e.weight, p + l.target_bytes(), 4);
}

void full_io(bool write, int fd, char* buf, int64_t n, int64_t offset, const std::string& path) {
  while (n > 0) {
    ssize_t got = write ? ::pwrite(fd, buf, static_cast<size_t>(n), offset) : ::pread(fd, buf, static_cast<size_t>(n), offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0)
      throw IoError("cache: cannot " + std::string(write ? "write" : "read") + " '" + path + "'" +
                    (got < 0 ? ": " + std::string(std::strerror(errno)) : ": the file is shorter than its header says"));
    buf += got, n -= got, offset += got;
  }
}

class CacheNode : public Node {
 public:
  CacheNode(std::shared_ptr<const Node> parent, std::filesystem::path file)
      : parent_(std::move(parent)), file_(std::move(file)), state_(new std::atomic<uint8_t>[parent_->size()]) {
    for (int64_t i = 0; i < parent_->size(); ++i) state_[i].store(kEmpty, std::memory_order_relaxed);
    if (!file_.empty()) open_existing();
  }
  ~CacheNode() override {
    if (fd_ >= 0) ::close(fd_);
  }
  int64_t size() const override { return parent_->size(); }
  std::string name() const override { return parent_->name() + ".cache()"; }
  bool has_labels() const override { return parent_->has_labels(); }
  bool has_weights() const override { return parent_->has_weights(); }

  bool get(int64_t i, const Context& context, Example& e) const override {
    uint8_t s = state_[i].load(std::memory_order_acquire);
    if (s == kKept) return read(i, e), true;
    if (s == kLeftOut) return false;
    const bool kept = parent_->get(i, context, e);
    uint8_t expected = kEmpty;
    if (!state_[i].compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel)) return kept;
    try {
      store(i, e, kept);
    } catch (...) {
      state_[i].store(kEmpty, std::memory_order_release);
      throw;
    }
    state_[i].store(kept ? kKept : kLeftOut, std::memory_order_release);
    if (++stored_ == size() && !file_.empty()) finish_file();
    return kept;
  }

 private:
  std::filesystem::path partial() const { return file_.string() + ".partial"; }

  // Takes an earlier run's complete file for the same data, if there is one: a file of another
  // dataset's samples is made again; one that is not a cache, or whose header or size is
  // damaged, is an IoError (never overwritten, never trusted).
  void open_existing() {
    int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct Closer {
      int& fd;
      ~Closer() {
        if (fd >= 0) ::close(fd);
      }
    } closer{fd};
    const std::string name = file_.string();
    char head[16];
    if (::pread(fd, head, 16, 0) != 16 || std::memcmp(head, kMagic, 8) != 0)
      throw IoError("cache: '" + name + "' exists and is not a kiln cache file; remove it or name another file");
    Layout layout;
    int64_t offset = 0;
    try {
      uint64_t len;
      std::memcpy(&len, head + 8, 8);
      if (len > (1u << 20)) throw IoError("a header of " + std::to_string(len) + " bytes");
      std::string text(len, '\0');
      full_io(false, fd, text.data(), static_cast<int64_t>(len), 16, name);
      const nlohmann::json header = nlohmann::json::parse(text);
      const auto& n = header.at("name");
      const auto& count = header.at("size");
      if (!n.is_string() || n.get<std::string>() != parent_->name() || !count.is_number_integer() ||
          count.get<int64_t>() != size())
        return;  // another dataset's cache (or another version of it): made again
      layout = Layout::from_json(header.at("layout"));
      offset = (16 + static_cast<int64_t>(len) + 63) / 64 * 64;
      int64_t total;
      struct stat st;
      if (__builtin_mul_overflow(size(), layout.record_bytes(), &total) || __builtin_add_overflow(total, offset, &total))
        throw IoError("records too large to address");
      if (::fstat(fd, &st) != 0 || st.st_size != total)
        throw IoError("holds " + std::to_string(st.st_size) + " bytes where its header says " + std::to_string(total));
    } catch (const std::exception& e) {
      throw IoError("cache: '" + name + "' is damaged (" + e.what() + "); remove it to make it again");
    }
    for (int64_t i = 0; i < size(); ++i) {
      char kept;
      full_io(false, fd, &kept, 1, offset + (i + 1) * layout.record_bytes() - 1, name);
      state_[i].store(kept == kKept ? kKept : kLeftOut, std::memory_order_relaxed);
    }
    layout_ = std::move(layout);
    has_layout_ = reading_ = true;
    data_offset_ = offset;
    stored_ = size();
    fd_ = fd;
    fd = -1;
  }

  void read(int64_t i, Example& e) const {
    if (file_.empty()) {
      e.x.clear();
      for (size_t k = 0; k < layout_.shapes.size(); ++k) {
        const int64_t n = shape_size(layout_.shapes[k]);
        if (layout_.bytes[k])
          e.x.emplace_back(ByteTensor::view(layout_.shapes[k], bytes_[k].storage(), const_cast<uint8_t*>(bytes_[k].data()) + i * n));
        else
          e.x.emplace_back(Tensor::view(layout_.shapes[k], floats_[k].storage(), const_cast<float*>(floats_[k].data()) + i * n));
      }
      e.label = labels_[i];
      if (!layout_.target.empty()) {
        const int64_t t = shape_size(layout_.target);
        e.target = Tensor::view(layout_.target, targets_.storage(), const_cast<float*>(targets_.data()) + i * t);
      }
      e.weight = weights_[i];
      return;
    }
    std::vector<char> record(static_cast<size_t>(layout_.record_bytes()));
    full_io(false, fd_, record.data(), layout_.record_bytes(), data_offset_ + i * layout_.record_bytes(), file_.string());
    unpack(layout_, record.data(), e);
  }

  void store(int64_t i, const Example& e, bool kept) const {
    {
      std::lock_guard lock(mutex_);
      if (!has_layout_) {
        // A sample left out before any was kept needs no storage: its state says so (and in a
        // file, a record never written reads as left out).
        if (!kept) return;
        create(e);
      }
    }
    if (kept && !layout_.fits(e))
      throw ShapeError("cache: sample " + std::to_string(i) + " has the layout " + Layout::of(e).describe() +
                       ", the cache's first sample " + layout_.describe() + "; cached samples must all have the same shapes");
    if (!file_.empty()) {
      std::vector<char> record(static_cast<size_t>(layout_.record_bytes()));
      pack(layout_, e, kept, record.data());
      full_io(true, fd_, record.data(), layout_.record_bytes(), data_offset_ + i * layout_.record_bytes(), partial().string());
      return;
    }
    if (kept) {
      for (size_t k = 0; k < layout_.shapes.size(); ++k) {
        const int64_t n = shape_size(layout_.shapes[k]);
        if (layout_.bytes[k])
          std::memcpy(bytes_[k].data() + i * n, std::get<ByteTensor>(e.x[k]).data(), n);
        else
          std::memcpy(floats_[k].data() + i * n, std::get<Tensor>(e.x[k]).data(), 4 * n);
      }
      if (!layout_.target.empty()) std::memcpy(targets_.data() + i * e.target.size(), e.target.data(), 4 * e.target.size());
    }
    labels_[i] = e.label;
    weights_[i] = e.weight;
  }

  // The storage for every sample, laid out as `first`.
  void create(const Example& first) const {
    layout_ = Layout::of(first);
    const int64_t n = size();
    if (file_.empty()) {
      bytes_.clear();
      floats_.clear();
      for (size_t k = 0; k < layout_.shapes.size(); ++k) {
        Shape all = layout_.shapes[k];
        all.insert(all.begin(), n);
        bytes_.push_back(layout_.bytes[k] ? ByteTensor(all) : ByteTensor());
        floats_.push_back(layout_.bytes[k] ? Tensor() : Tensor(all));
      }
      if (!layout_.target.empty()) {
        Shape all = layout_.target;
        all.insert(all.begin(), n);
        targets_ = Tensor(all);
      }
      labels_.assign(static_cast<size_t>(n), 0);
      weights_.assign(static_cast<size_t>(n), 1.0f);
      has_layout_ = true;
      return;
    }
    const std::string path = partial().string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IoError("cache: cannot create '" + path + "': " + std::strerror(errno));
    const std::string text = nlohmann::json{{"name", parent_->name()}, {"size", n}, {"layout", layout_.to_json()}}.dump();
    const uint64_t len = text.size();
    data_offset_ = (16 + static_cast<int64_t>(len) + 63) / 64 * 64;
    std::string head(static_cast<size_t>(data_offset_), '\0');
    std::memcpy(head.data(), kMagic, 8);
    std::memcpy(head.data() + 8, &len, 8);
    std::memcpy(head.data() + 16, text.data(), len);
    try {
      full_io(true, fd_, head.data(), data_offset_, 0, path);
    } catch (...) {
      ::close(fd_);
      fd_ = -1;
      std::remove(path.c_str());
      throw;
    }
    has_layout_ = true;
  }

  void finish_file() const {
    std::lock_guard lock(mutex_);
    if (reading_) return;
    if (fd_ < 0) {  // every sample was left out: nothing to keep
      reading_ = true;
      return;
    }
    if (::fsync(fd_) != 0 || std::rename(partial().c_str(), file_.c_str()) != 0)
      throw IoError("cache: cannot move '" + partial().string() + "' to '" + file_.string() + "': " + std::strerror(errno));
    reading_ = true;
  }

  std::shared_ptr<const Node> parent_;
  std::filesystem::path file_;
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
  mutable std::atomic<int64_t> stored_{0};
  mutable std::mutex mutex_;
  mutable Layout layout_;
  mutable bool has_layout_ = false, reading_ = false;
  mutable std::vector<ByteTensor> bytes_;
  mutable std::vector<Tensor> floats_;
  mutable Tensor targets_;
  mutable std::vector<int32_t> labels_;
  mutable std::vector<float> weights_;
  mutable int fd_ = -1;
  mutable int64_t data_offset_ = 0;
};

}  // namespace

std::shared_ptr<const Node> cache_node(std::shared_ptr<const Node> parent, const std::filesystem::path& file) {
  return std::make_shared<CacheNode>(std::move(parent), file);
}

}  // namespace kiln::data::detail
