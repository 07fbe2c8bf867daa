// GIF with giflib, record by record, so that nothing is allocated before the sizes are checked
// and only the first frame is decoded (Keras reads an animation's first frame). The frame is
// drawn on the file's logical screen: pixels outside it and transparent ones are black, as
// TensorFlow's decode_gif gives them.
#include <gif_lib.h>

#include <memory>

#include "kiln/io.hpp"

namespace kiln::io {

namespace {

struct Source {
  const std::string& bytes;
  size_t at = 0;
};

int read_from(GifFileType* gif, GifByteType* out, int n) {
  auto* s = static_cast<Source*>(gif->UserData);
  const size_t take = std::min(static_cast<size_t>(n), s->bytes.size() - s->at);
  std::copy_n(s->bytes.data() + s->at, take, reinterpret_cast<char*>(out));
  s->at += take;
  return static_cast<int>(take);
}

struct Closer {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};

}  // namespace

ByteTensor decode_gif(const std::string& bytes, const std::string& source) {
  Source in{bytes};
  int error = 0;
  std::unique_ptr<GifFileType, Closer> gif(DGifOpen(&in, &read_from, &error));
  auto fail = [&](const std::string& what, int code) {
    const char* why = GifErrorString(code);
    throw IoError(source + ": " + what + (why ? std::string(": ") + why : std::string()));
  };
  if (!gif) fail("not a readable GIF", error);
  const int64_t width = gif->SWidth, height = gif->SHeight;
  if (width <= 0 || height <= 0 || width * height > kMaxImagePixels)
    throw IoError(source + ": a " + std::to_string(width) + "x" + std::to_string(height) +
                  " GIF; kiln reads 1 to " + std::to_string(kMaxImagePixels) + " pixels");
  int transparent = -1;
  for (;;) {
    GifRecordType record;
    if (DGifGetRecordType(gif.get(), &record) == GIF_ERROR) fail("corrupt GIF", gif->Error);
    if (record == TERMINATE_RECORD_TYPE) throw IoError(source + ": a GIF with no image in it");
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif.get(), &code, &ext) == GIF_ERROR)
        fail("corrupt GIF extension", gif->Error);
      if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1))
        transparent = ext[4];
      while (ext)
        if (DGifGetExtensionNext(gif.get(), &ext) == GIF_ERROR)
          fail("corrupt GIF extension", gif->Error);
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif.get()) == GIF_ERROR) fail("corrupt GIF image header", gif->Error);
    const GifImageDesc& d = gif->Image;
    if (d.Left < 0 || d.Top < 0 || d.Width <= 0 || d.Height <= 0 || d.Left + d.Width > width ||
        d.Top + d.Height > height)
      throw IoError(source + ": its first frame (" + std::to_string(d.Width) + "x" +
                    std::to_string(d.Height) + " at " + std::to_string(d.Left) + ", " +
                    std::to_string(d.Top) + ") lies outside its " + std::to_string(width) + "x" +
                    std::to_string(height) + " screen");
    const ColorMapObject* map = d.ColorMap ? d.ColorMap : gif->SColorMap;
    if (!map) throw IoError(source + ": a GIF frame with no colour table");
    std::vector<GifByteType> indices(static_cast<size_t>(d.Width) * static_cast<size_t>(d.Height));
    // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every
    // 4th from 2, every 2nd from 1.
    static constexpr int kStart[] = {0, 4, 2, 1}, kStep[] = {8, 8, 4, 2};
    for (int pass = 0; pass < (d.Interlace ? 4 : 1); ++pass)
      for (int y = d.Interlace ? kStart[pass] : 0; y < d.Height; y += d.Interlace ? kStep[pass] : 1)
        if (DGifGetLine(gif.get(), indices.data() + static_cast<size_t>(y) * d.Width, d.Width) ==
            GIF_ERROR)
          fail("corrupt or truncated GIF pixel data", gif->Error);
    ByteTensor image({height, width, 3});  // zeros: black outside the frame
    for (int y = 0; y < d.Height; ++y)
      for (int x = 0; x < d.Width; ++x) {
        const int index = indices[static_cast<size_t>(y) * d.Width + x];
        if (index == transparent) continue;
        if (index >= map->ColorCount)
          throw IoError(source + ": a pixel uses colour " + std::to_string(index) + " of a " +
                        std::to_string(map->ColorCount) + "-colour table");
        uint8_t* out = image.data() + ((d.Top + y) * width + d.Left + x) * 3;
        out[0] = map->Colors[index].Red;
        out[1] = map->Colors[index].Green;
        out[2] = map->Colors[index].Blue;
      }
    return image;
  }
}

}  // namespace kiln::io
