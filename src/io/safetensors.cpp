// safetensors, as https://github.com/huggingface/safetensors specifies it:
//   bytes 0-7   N, the header length, unsigned 64-bit little-endian
//   bytes 8-8+N a UTF-8 JSON object: {"<name>": {"dtype": "F32", "shape": [...],
//               "data_offsets": [begin, end]}, ..., "__metadata__": {"<key>": "<string>"}}
//               kiln pads it with spaces to a multiple of 8 bytes
//   the rest    the data buffer; offsets are relative to its start, and the tensors cover it
//               exactly, without gaps or overlaps. Values are little-endian, row-major.
// kiln reads and writes F32 only, and rejects anything that breaks the rules above.
#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "io/json_fields.hpp"
#include "kiln/io.hpp"

namespace kiln::io {

static_assert(std::endian::native == std::endian::little, "kiln's file formats assume little-endian");

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw IoError(source + ": not a valid safetensors file: " + what);
}

}  // namespace

std::map<std::string, Tensor> parse_safetensors(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 8)
    fail(source, "it is " + std::to_string(bytes.size()) + " bytes long, too short for the 8-byte header length");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeader || n > bytes.size() - 8)
    fail(source, "header length " + std::to_string(n) + " exceeds the " +
                     std::to_string(bytes.size() - 8) + " bytes that follow it");
  const nlohmann::json header =
      io::parse_json<nlohmann::json, IoError>(bytes.substr(8, n), source + ": not a valid safetensors file: header");
  if (!header.is_object()) fail(source, "header is not a JSON object");
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;

  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  std::map<std::string, Tensor> out;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!info.is_object()) fail(source, where + " is not described by an object");
    if (!info.contains("dtype") || !info["dtype"].is_string())
      fail(source, where + " has no dtype string");
    if (info["dtype"] != "F32")
      fail(source, where + " has dtype " + info["dtype"].get<std::string>() + "; kiln reads F32 only");
    if (!info.contains("shape") || !info["shape"].is_array())
      fail(source, where + " has no shape array");
    Shape shape;
    uint64_t count = 1;
    for (const auto& d : info["shape"]) {
      if (!d.is_number_unsigned()) fail(source, where + " has a shape entry that is not a non-negative integer: " + d.dump());
      uint64_t v = d.get<uint64_t>();
      if (v != 0 && count > (uint64_t{1} << 40) / v) fail(source, where + " has an impossibly large shape " + info["shape"].dump());
      count *= v;
      shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = info.value("data_offsets", nlohmann::json());
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(source, where + " needs data_offsets [begin, end], received " + off.dump());
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail(source, where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                       "] outside the " + std::to_string(data_size) + "-byte data buffer");
    if (end - begin != count * 4)
      fail(source, where + " of shape " + info["shape"].dump() + " needs " + std::to_string(count * 4) +
                       " bytes, its offsets span " + std::to_string(end - begin));
    Tensor t(shape);
    std::memcpy(t.data(), data + begin, end - begin);
    out.emplace(name, std::move(t));
    spans.push_back({begin, end, name});
  }
  if (header.contains("__metadata__")) {
    const auto& meta = header["__metadata__"];
    if (!meta.is_object()) fail(source, "__metadata__ is not an object");
    for (const auto& [k, v] : meta.items())
      if (!v.is_string()) fail(source, "__metadata__ entry '" + k + "' is not a string");
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  uint64_t expected = 0;
  for (const auto& s : spans) {
    if (s.begin != expected)
      fail(source, "tensor '" + s.name + "' starts at byte " + std::to_string(s.begin) + " of the data buffer, expected " +
                       std::to_string(expected) + (s.begin < expected ? " (tensors overlap)" : " (a gap)"));
    expected = s.end;
  }
  if (expected != data_size)
    fail(source, "the tensors cover " + std::to_string(expected) + " bytes but the data buffer holds " +
                     std::to_string(data_size));
  return out;
}

std::map<std::string, Tensor> read_safetensors(const std::filesystem::path& path) {
  return parse_safetensors(read_file(path), path.string());
}

void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, safetensors_bytes(tensors, metadata));
}

std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    uint64_t bytes = static_cast<uint64_t>(t.size()) * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string json = header.dump();
  json.resize((json.size() + 7) / 8 * 8, ' ');
  std::string file(8, '\0');
  uint64_t n = json.size();
  std::memcpy(file.data(), &n, 8);
  file += json;
  file.reserve(file.size() + offset);
  for (const auto& [name, t] : tensors)
    file.append(reinterpret_cast<const char*>(t.data()), static_cast<size_t>(t.size()) * 4);
  return file;
}

}  // namespace kiln::io
