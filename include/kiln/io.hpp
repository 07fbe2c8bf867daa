// Saving and loading models, and the safetensors reader and writer they use.
// A saved model is a folder: config.json (architecture as Keras's model.to_json() lays it out,
// plus compile settings, class names and preprocessing) and model.safetensors (weights named
// "<layer>/<weight>", little-endian F32). docs/formats.md describes both.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

// Loads a model saved by Model::save, Sequential or functional (hold a Sequential in a
// Sequential: `Sequential m = load_model(dir)`); throws IoError or ConfigError naming the file
// and the problem. `path` is a kiln model folder, or a file Keras saved: a Keras 3 .keras archive
// or a legacy full-model .h5 (Keras 2, or Keras 3's legacy writer). A Keras file's layers,
// activations and options are all checked before any weight is read, and one ConfigError lists
// every item kiln cannot run. A Keras model records no preprocessing: its rescale is 1/255,
// or 1 when it begins with a Rescaling layer (metadata["rescale"] says which).
Model load_model(const std::filesystem::path& path);

namespace io {

// Whether `path` is a file in one of Keras's formats (a zip, or an HDF5 file), by its first bytes.
bool is_keras_file(const std::filesystem::path& path);

// The architecture and settings of a model as config.json holds them.
nlohmann::ordered_json model_config(const Model& model);
// Builds (but does not load weights into) a model from such a config, Keras 2's layout or
// Keras 3's; `source` names the file in error messages, which are ConfigErrors naming the layer
// and the field.
Model model_from_config(const nlohmann::json& config, const std::string& source);

// Reads every tensor of a safetensors file (F32 only). Malformed files throw IoError.
std::map<std::string, Tensor> read_safetensors(const std::filesystem::path& path);
// Parses safetensors bytes; `source` names them in error messages.
std::map<std::string, Tensor> parse_safetensors(const std::string& bytes, const std::string& source);
// Writes tensors as F32, in name order, with optional string metadata.
void write_safetensors(const std::filesystem::path& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The bytes write_safetensors writes.
std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {});

// Reads an 8-bit grayscale PNG as (height, width) uint8. Any other PNG (colour, 16-bit,
// palette, alpha), one of more than kMaxImagePixels pixels, or a malformed file throws IoError
// saying what it is. With `expected` (height, width), another size throws ShapeError; both
// checks read the header only, before any pixel memory is allocated.
constexpr int64_t kMaxImagePixels = int64_t{1} << 24;
ByteTensor read_png_gray(const std::filesystem::path& path, const Shape& expected = {});
ByteTensor parse_png_gray(const std::string& bytes, const std::string& source, const Shape& expected = {});
// Writes (height, width) uint8 as an 8-bit grayscale PNG.
void write_png_gray(const std::filesystem::path& path, const ByteTensor& image);
// The bytes of an 8-bit PNG of (height, width) or (height, width, channels) uint8, channels 1
// (grey), 2 (grey and alpha), 3 (RGB) or 4 (RGBA).
std::string encode_png(const ByteTensor& image);

// The bytes of a baseline JPEG (libjpeg-turbo) of (height, width), (height, width, 1) or
// (height, width, 3) uint8, at quality 1 to 100 (4:2:0 chroma subsampling below 90, none from 90).
std::string encode_jpeg(const ByteTensor& image, int quality = 95);
// Decodes a JPEG as (height, width, 1) for a grey file or (height, width, 3) for a colour one.
// A truncated or corrupt file (libjpeg's warnings included), a CMYK one, or one of more than
// kMaxImagePixels pixels throws IoError naming `source`; the size is checked on the header,
// before the pixels are allocated.
ByteTensor decode_jpeg(const std::string& bytes, const std::string& source);

// Decodes a BMP (uncompressed: 1-, 4-, 8-bit palettes, 24-bit, 32-bit with alpha) as
// (height, width, 3 or 4); rows bottom-up or top-down.
ByteTensor decode_bmp(const std::string& bytes, const std::string& source);
// Decodes a GIF's first frame, drawn on its logical screen (black outside the frame and where
// transparent), as (height, width, 3).
ByteTensor decode_gif(const std::string& bytes, const std::string& source);
// Decodes a PNG (any colour type and depth), a JPEG, a BMP or a GIF, told apart by their first bytes, as
// (height, width, channels) with channels 1 (grey; colour becomes luma 0.299 R + 0.587 G +
// 0.114 B), 3 (RGB; grey is copied) or 4 (RGBA; opaque where the file has no alpha). Anything
// else, or a malformed file, throws IoError naming `source` and what it found.
ByteTensor decode_image(const std::string& bytes, const std::string& source, int64_t channels);
// A PNG's or JPEG's size and channels as stored (1 grey, 3 colour, 4 with alpha).
struct ImageInfo {
  int64_t height = 0, width = 0, channels = 0;
};
ImageInfo image_info(const std::string& bytes, const std::string& source);
// The same conversions on a decoded (height, width, 1|3|4) image.
ByteTensor convert_channels(const ByteTensor& image, int64_t channels);
// Resizes (height, width, channels) uint8 as tf.image.resize does without antialiasing
// ("bilinear", "nearest" or "area", half-pixel centres), rounding to uint8.
ByteTensor resize_image(const ByteTensor& image, int64_t height, int64_t width, const std::string& interpolation);
// The largest centred window of the image with the aspect ratio height:width (Keras's
// smart_resize crop, before it resizes).
ByteTensor crop_to_aspect_ratio(const ByteTensor& image, int64_t height, int64_t width);

// Image bytes as a model input of (height, width, channels) takes them: decoded (decode_image),
// cropped to the input's aspect ratio when `crop`, and resized with `interpolation`: what
// datasets::load_image does to a file, and kiln serve to a {"b64": ...} instance.
ByteTensor prepare_image(const std::string& bytes, const std::string& source, int64_t height, int64_t width,
                         int64_t channels, const std::string& interpolation, bool crop);

// A member to take from an archive: at most max_bytes (a larger one, by its header's claim or
// as it unpacks, is an IoError), and whether its absence is an error.
struct ArchiveMember {
  std::string name;
  uint64_t max_bytes = uint64_t{1} << 30;
  bool required = true;
};
// The contents of the named members of a tar (plain, gzip, bzip2 or xz) or zip archive, read
// with libarchive. Throws IoError naming the archive on a corrupt or truncated archive, a
// missing required member (listing those it holds), or a member over its limit.
std::map<std::string, std::string> read_archive_members(const std::filesystem::path& archive,
                                                        const std::vector<ArchiveMember>& members);

// Reads a whole file; throws IoError naming it.
std::string read_file(const std::filesystem::path& path);
// Writes a whole file through a temporary in the same folder and a rename, so a reader never
// sees half of it; the file is fsynced before the rename.
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);
// Writes the files (name -> bytes) of folder `dir` as one unit: they go into a new temporary
// folder beside it, fsynced, which then takes dir's place in one atomic exchange (renameat2's
// RENAME_EXCHANGE). A reader, or a process killed at any moment, sees the old folder or the new
// one, never a mix. Other files in dir are kept (hard links); sub-folders move over after the
// exchange. Temporaries left by a killed save are removed by the next save of the same folder.
void write_folder_atomic(const std::filesystem::path& dir, const std::map<std::string, std::string>& files);

}  // namespace io
}  // namespace kiln
