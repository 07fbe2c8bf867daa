// libhdf5 behind io::h5::File. Debian's libhdf5 is built thread-safe, so no lock is taken here.
// libhdf5 reports errors on a stack it would print to stderr; kiln turns printing off and puts
// the innermost message of the stack into its IoError instead.
#include "io/hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>

#include "kiln/error.hpp"

namespace kiln::io::h5 {

static_assert(std::is_same_v<hid_t, int64_t>, "File keeps an hid_t as int64_t");

namespace {

void quiet() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

// libhdf5 knows open files by name, also those only in memory: each gets its own, so that the
// same file may be open twice at once (two threads loading one model).
std::string memory_name(const std::string& source) {
  static std::atomic<uint64_t> count{0};
  return source + " (in memory #" + std::to_string(++count) + ")";
}

// The description of the innermost (first pushed) error on libhdf5's stack.
std::string reason() {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(data) = e->desc;
        return 0;
      },
      &out);
  H5Eclear2(H5E_DEFAULT);
  return out.empty() ? "" : " (" + out + ")";
}

// An hid_t closed by the right function when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw IoError(source + ": " + what + reason());
}

// Attributes as Keras writes them: fixed-length byte strings (Keras 2, h5py's np.bytes_) or
// variable-length ones (h5py's str), in a scalar or a 1-D dataspace.
std::vector<std::string> read_strings(hid_t attr, const std::string& source,
                                      const std::string& what) {
  Handle type(H5Aget_type(attr), H5Tclose);
  Handle space(H5Aget_space(attr), H5Sclose);
  if (!type.ok() || !space.ok()) fail(source, "cannot read " + what);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0 || count > (1 << 24)) fail(source, what + " has an unreadable size");
  std::vector<std::string> out;
  // An empty list has no strings to type: Keras writes a weightless layer's weight_names as an
  // empty float64 array.
  if (count == 0) return out;
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw IoError(source + ": " + what + " is not a string");
  const auto n = static_cast<size_t>(count);
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    std::vector<char*> ptrs(n, nullptr);
    // A read that fails part way may have allocated some of the strings: they are freed either way.
    const bool read = H5Aread(attr, mem.get(), ptrs.data()) >= 0;
    if (read)
      for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    if (!read) fail(source, "cannot read " + what);
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0 || size > (size_t{1} << 26) / n)
    throw IoError(source + ": " + what + " is too large to read");
  std::vector<char> buf(size * n);
  if (H5Aread(attr, type.get(), buf.data()) < 0) fail(source, "cannot read " + what);
  for (size_t i = 0; i < n; ++i) {
    const char* s = buf.data() + i * size;
    out.emplace_back(s, strnlen(s, size));
  }
  return out;
}

}  // namespace

File File::open(const std::filesystem::path& path) {
  quiet();
  const std::string source = path.string();
  if (!std::filesystem::is_regular_file(path)) throw IoError(source + ": no such file");
  if (H5Fis_hdf5(source.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(source + ": not an HDF5 file (no HDF5 signature)");
  }
  hid_t id = H5Fopen(source.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail(source, "cannot open as an HDF5 file");
  return File(id, source);
}

File File::open_image(const std::string& bytes, const std::string& source) {
  quiet();
  static constexpr char kSignature[] = "\x89HDF\r\n\x1a\n";
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kSignature, 8) != 0)
    throw IoError(source + ": not an HDF5 file (no HDF5 signature)");
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_core(fapl.get(), 1 << 20, 0) < 0 ||
      H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()) < 0)
    fail(source, "cannot hold the HDF5 file in memory");
  hid_t id = H5Fopen(memory_name(source).c_str(), H5F_ACC_RDONLY, fapl.get());
  if (id < 0) fail(source, "cannot open as an HDF5 file");
  return File(id, source);
}

File File::create_in_memory(const std::string& source) {
  quiet();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_core(fapl.get(), 1 << 20, 0) < 0)
    fail(source, "cannot make an HDF5 file in memory");
  hid_t id = H5Fcreate(memory_name(source).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0) fail(source, "cannot make an HDF5 file in memory");
  return File(id, source);
}

File::File(File&& other) noexcept
    : id_(std::exchange(other.id_, -1)), source_(std::move(other.source_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) H5Fclose(id_);
    id_ = std::exchange(other.id_, -1);
    source_ = std::move(other.source_);
  }
  return *this;
}

File::~File() {
  if (id_ >= 0) H5Fclose(id_);
}

bool File::exists(const std::string& path) const {
  if (path == "/" || path.empty()) return true;
  // Each parent must exist before the next link is asked about.
  for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    std::string prefix = path.substr(0, pos);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (pos == std::string::npos) return true;
  }
}

bool File::is_group(const std::string& path) const {
  if (!exists(path)) return false;
  Handle object(H5Oopen(id_, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.ok()) fail(source_, "cannot open '" + path + "'");
  return H5Iget_type(object.get()) == H5I_GROUP;
}

std::vector<std::string> File::members(const std::string& group) const {
  if (!is_group(group)) throw IoError(source_ + ": no group '" + group + "'");
  Handle g(H5Gopen2(id_, group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) fail(source_, "cannot open group '" + group + "'");
  std::vector<std::string> names;
  herr_t rc = H5Literate(
      g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        auto& out = *static_cast<std::vector<std::string>*>(data);
        if (out.size() > (1 << 20)) return -1;
        out.emplace_back(name);
        return 0;
      },
      &names);
  if (rc < 0) fail(source_, "cannot list group '" + group + "'");
  return names;
}

bool File::has_attribute(const std::string& path, const std::string& name) const {
  if (!exists(path)) return false;
  htri_t rc = H5Aexists_by_name(id_, path.c_str(), name.c_str(), H5P_DEFAULT);
  if (rc < 0) fail(source_, "cannot read the attributes of '" + path + "'");
  return rc > 0;
}

std::string File::string_attribute(const std::string& path, const std::string& name) const {
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  if (!has_attribute(path, name)) throw IoError(source_ + ": missing " + what);
  Handle attr(H5Aopen_by_name(id_, path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) fail(source_, "cannot open " + what);
  std::vector<std::string> values = read_strings(attr.get(), source_, what);
  if (values.size() != 1)
    throw IoError(source_ + ": " + what + " holds " + std::to_string(values.size()) +
                  " strings, expected one");
  return values[0];
}

std::vector<std::string> File::string_list_attribute(const std::string& path,
                                                     const std::string& name) const {
  auto read = [&](const std::string& attr_name) {
    const std::string what = "attribute '" + attr_name + "' of '" + path + "'";
    Handle attr(H5Aopen_by_name(id_, path.c_str(), attr_name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    if (!attr.ok()) fail(source_, "cannot open " + what);
    return read_strings(attr.get(), source_, what);
  };
  if (has_attribute(path, name)) return read(name);
  // h5py cannot store an attribute over 64 KiB, so Keras splits long lists into NAME0, NAME1...
  std::vector<std::string> out;
  for (int chunk = 0; has_attribute(path, name + std::to_string(chunk)); ++chunk) {
    std::vector<std::string> part = read(name + std::to_string(chunk));
    out.insert(out.end(), part.begin(), part.end());
  }
  if (out.empty() && !has_attribute(path, name + "0"))
    throw IoError(source_ + ": missing attribute '" + name + "' of '" + path + "'");
  return out;
}

Shape File::dataset_shape(const std::string& path) const {
  if (!exists(path) || is_group(path)) throw IoError(source_ + ": no dataset '" + path + "'");
  Handle ds(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) fail(source_, "cannot open dataset '" + path + "'");
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0 || rank > H5S_MAX_RANK)
    fail(source_, "cannot read the shape of dataset '" + path + "'");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  Shape shape;
  for (hsize_t d : dims) {
    if (d > (hsize_t{1} << 40))
      throw IoError(source_ + ": dataset '" + path + "' claims a dimension of " +
                    std::to_string(d));
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Tensor File::read_floats(const std::string& path, const Shape& expected) const {
  Shape shape = dataset_shape(path);
  if (shape != expected)
    throw IoError(source_ + ": dataset '" + path + "' has shape " + shape_str(shape) +
                  ", the model expects " + shape_str(expected));
  Handle ds(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), H5Dclose);
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  if (!ds.ok() || !type.ok()) fail(source_, "cannot open dataset '" + path + "'");
  if (H5Tget_class(type.get()) != H5T_FLOAT)
    throw IoError(source_ + ": dataset '" + path + "' does not hold floating-point numbers");
  Tensor t(shape);
  if (t.size() > 0 &&
      H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data()) < 0)
    fail(source_, "cannot read dataset '" + path + "'");
  return t;
}

void File::create_group(const std::string& path) {
  if (exists(path)) return;
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle g(H5Gcreate2(id_, path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!g.ok()) fail(source_, "cannot create group '" + path + "'");
}

void File::write_floats(const std::string& path, const Tensor& values) {
  std::vector<hsize_t> dims(values.shape().begin(), values.shape().end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Handle ds(H5Dcreate2(id_, path.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose);
  if (!ds.ok() || (values.size() > 0 && H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                 H5P_DEFAULT, values.data()) < 0))
    fail(source_, "cannot write dataset '" + path + "'");
}

void File::write_string_attribute(const std::string& path, const std::string& name,
                                  const std::string& value) {
  // h5py's str: a variable-length UTF-8 string in a scalar dataspace.
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate_by_name(id_, path.c_str(), name.c_str(), type.get(), space.get(),
                                H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  const char* p = value.c_str();
  if (!attr.ok() || H5Awrite(attr.get(), type.get(), &p) < 0)
    fail(source_, "cannot write attribute '" + name + "' of '" + path + "'");
}

std::string File::image() {
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) fail(source_, "cannot flush the HDF5 file");
  ssize_t size = H5Fget_file_image(id_, nullptr, 0);
  if (size < 0) fail(source_, "cannot read back the HDF5 file");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (H5Fget_file_image(id_, bytes.data(), bytes.size()) < 0)
    fail(source_, "cannot read back the HDF5 file");
  return bytes;
}

}  // namespace kiln::io::h5
