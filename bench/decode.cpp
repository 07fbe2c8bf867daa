// Decoding throughput of kiln's image readers on one core, against Pillow's on the same files
// (bench/peers/pil_decode.py; bench/decode.sh runs both and compares).
// Usage: bench_decode DIR [repeats]          decodes every image file under DIR, `repeats` times
//        bench_decode --make DIR COUNT       writes COUNT synthetic 32x32 colour JPEGs (quality 95)
// The files are read into memory first: the time is decoding alone, to uint8 pixels in the file's
// own channels (1 for a grey file, else 3).
#include <algorithm>
#include <filesystem>
#include <random>

#include "common.hpp"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

// Photo-like 32x32 colour images: a gradient between two colours, three soft discs, grain.
void make(const fs::path& dir, int count) {
  fs::create_directories(dir);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255), pos(0, 31), radius(4, 12), grain(-6, 6);
  for (int k = 0; k < count; ++k) {
    ByteTensor image({32, 32, 3});
    int from[3], to[3], disc[3][6];
    for (int c = 0; c < 3; ++c) from[c] = byte(rng), to[c] = byte(rng);
    for (auto& d : disc)
      d[0] = pos(rng), d[1] = pos(rng), d[2] = radius(rng), d[3] = byte(rng), d[4] = byte(rng),
      d[5] = byte(rng);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c) {
          double v = from[c] + (to[c] - from[c]) * (x + y) / 62.0;
          for (const auto& d : disc) {
            const double r = std::hypot(x - d[0], y - d[1]);
            const double w = std::clamp((d[2] - r) / 2.0, 0.0, 1.0);
            v = v * (1 - w) + d[3 + c] * w;
          }
          image.data()[(y * 32 + x) * 3 + c] =
              static_cast<uint8_t>(std::clamp(v + grain(rng), 0.0, 255.0));
        }
    char name[32];
    std::snprintf(name, sizeof name, "%05d.jpg", k);
    std::string bytes = io::encode_jpeg(image, 95);
    std::FILE* f = std::fopen((dir / name).c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "--make") {
    make(argv[2], std::atoi(argv[3]));
    return 0;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_decode DIR [repeats] | --make DIR COUNT\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(argv[1]))
    if (datasets::is_image_file_name(e.path())) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> files;
  for (const auto& p : paths) files.push_back(io::read_file(p));
  const io::ImageInfo info = io::image_info(files.at(0), paths[0].string());
  const int64_t channels = info.channels == 1 ? 1 : 3;
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r)
    seconds.push_back(bench::time_it([&] {
      for (size_t i = 0; i < files.size(); ++i)
        io::decode_image(files[i], paths[i].string(), channels);
    }));
  const std::string ext = paths[0].extension().string().substr(1);
  bench::report("decode " + ext + " " + std::to_string(info.height) + "x" +
                    std::to_string(info.width) + "x" + std::to_string(channels),
                seconds, ", \"files\": " + std::to_string(files.size()));
}
