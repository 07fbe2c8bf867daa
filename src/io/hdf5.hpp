// A small C++ face on Debian's libhdf5 (the C library) for what Keras's files need: groups,
// their members, string attributes, and float datasets read and written. Every failure is an
// IoError naming the file, the item and libhdf5's own reason; nothing here prints or aborts.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln::io::h5 {

class File {
 public:
  // Opens a file read-only; `source` names it in errors.
  static File open(const std::filesystem::path& path);
  // Opens an HDF5 file held in memory (a .keras archive's model.weights.h5), read-only.
  static File open_image(const std::string& bytes, const std::string& source);
  // Creates an empty file in memory; image() returns its bytes.
  static File create_in_memory(const std::string& source);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  ~File();

  const std::string& source() const { return source_; }

  // Whether a path ("model_weights/dense") names a group or dataset, and whether it is a group.
  bool exists(const std::string& path) const;
  bool is_group(const std::string& path) const;
  // The names of a group's members, in name order.
  std::vector<std::string> members(const std::string& group) const;

  // Whether the object at `path` ("/" for the file) has the attribute.
  bool has_attribute(const std::string& path, const std::string& name) const;
  // A string attribute (fixed or variable length, scalar or a one-element array).
  std::string string_attribute(const std::string& path, const std::string& name) const;
  // A string array attribute, including Keras's long lists split over NAME0, NAME1, ...
  std::vector<std::string> string_list_attribute(const std::string& path,
                                                 const std::string& name) const;

  // A dataset's shape (a scalar's is {}).
  Shape dataset_shape(const std::string& path) const;
  // A floating-point dataset converted to float32; it must have `expected` shape.
  Tensor read_floats(const std::string& path, const Shape& expected) const;

  // Writing (files made by create_in_memory): groups are made with their parents.
  void create_group(const std::string& path);
  void write_floats(const std::string& path, const Tensor& values);
  void write_string_attribute(const std::string& path, const std::string& name,
                              const std::string& value);
  // The file's bytes, flushed.
  std::string image();

 private:
  File(int64_t id, std::string source) : id_(id), source_(std::move(source)) {}
  int64_t id_ = -1;  // an hid_t
  std::string source_;
};

}  // namespace kiln::io::h5
