// The few protocol-buffer encodings an ONNX file needs, written by hand: varints, 32-bit floats,
// length-delimited bytes and nested messages, packed repeated numbers. Fields are appended in
// the order they are written (protobuf readers accept any order).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace kiln::onnx::pb {

class Message {
 public:
  // Wire types: 0 varint, 2 length-delimited, 5 fixed 32-bit.
  Message& varint(int field, uint64_t value) {
    key(field, 0);
    raw_varint(value);
    return *this;
  }
  Message& int64(int field, int64_t value) { return varint(field, static_cast<uint64_t>(value)); }
  Message& float32(int field, float value) {
    key(field, 5);
    char b[4];
    std::memcpy(b, &value, 4);  // little-endian, as protobuf's fixed32 (x86 and AArch64 are)
    bytes_.append(b, 4);
    return *this;
  }
  Message& bytes(int field, std::string_view value) {
    key(field, 2);
    raw_varint(value.size());
    bytes_.append(value);
    return *this;
  }
  Message& message(int field, const Message& value) { return bytes(field, value.bytes_); }
  Message& packed_int64(int field, std::span<const int64_t> values) {
    Message packed;
    for (int64_t v : values) packed.raw_varint(static_cast<uint64_t>(v));
    return bytes(field, packed.bytes_);
  }
  const std::string& str() const { return bytes_; }

 private:
  void key(int field, int wire_type) { raw_varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire_type)); }
  void raw_varint(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<char>(v));
  }
  std::string bytes_;
};

}  // namespace kiln::onnx::pb
