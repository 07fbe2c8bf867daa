// kiln datasets: what datasets kiln loads by name, and writing one out as an image folder.
#include <cstdio>

#include "commands.hpp"
#include "common.hpp"
#include "kiln/datasets/export.hpp"

namespace kiln::cli {

namespace {

struct ExportArgs {
  std::string name, dir, format = "png";
  int quality = 95;
};

std::string shape_text(const Shape& s) {
  std::string out;
  for (int64_t d : s) {
    if (!out.empty()) out += 'x';
    out += std::to_string(d);
  }
  return out;
}

void list() {
  std::printf("%-16s %-8s %6s %6s %7s  %s\n", "name", "image", "train", "test", "classes", "what");
  for (const auto& info : datasets::catalogue()) {
    auto local = datasets::find_local(info.source);
    std::printf("%-16s %-8s %6lld %6lld %7lld  %s\n", info.name.c_str(),
                shape_text(info.image_shape).c_str(), static_cast<long long>(info.train_size),
                static_cast<long long>(info.test_size), static_cast<long long>(info.num_classes),
                info.description.c_str());
    std::printf("%-16s %s\n", "",
                local ? ("in " + local->string()).c_str()
                      : ("not here; downloaded on first use from " + info.source.url).c_str());
  }
}

void export_folder(const ExportArgs& a) {
  datasets::Dataset data = datasets::load(a.name);
  const int64_t total = data.train.images.dim(0) + data.test.images.dim(0);
  Progbar bar(total, 1, std::cout, stdout_is_terminal(), "image");
  datasets::ExportSummary done = datasets::export_image_folder(
      data, a.dir, {.format = a.format, .quality = a.quality, .progress = [&](int64_t n, int64_t) {
                      bar.update(n, {}, n == total);
                    }});
  std::cout << "Wrote " << done.images << " " << a.format << " images (" << done.bytes / (1 << 20)
            << " MiB) of " << data.class_names.size() << " classes to " << a.dir << "/train and "
            << a.dir << "/test\n";
}

}  // namespace

void add_datasets(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "datasets", "The datasets kiln loads by name; write one out as an image folder");
  cmd->require_subcommand(1);
  cmd->add_subcommand("list", "Name, image shape, sizes, classes and where each dataset is found")
      ->callback(list);
  auto* exp = cmd->add_subcommand(
      "export",
      "Write a dataset as DIR/train/<class>/<index>.png and DIR/test/...: the layout "
      "image_dataset_from_directory reads");
  auto a = std::make_shared<ExportArgs>();
  exp->add_option("NAME", a->name, "Dataset name (see `kiln datasets list`)")->required();
  exp->add_option("DIR", a->dir, "A new (or empty) folder to write into")->required();
  exp->add_option("--format", a->format, "Image format")
      ->check(CLI::IsMember({"png", "jpeg"}))
      ->capture_default_str();
  exp->add_option("--quality", a->quality, "JPEG quality")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  exp->callback([a] { export_folder(*a); });
}

}  // namespace kiln::cli
