// CIFAR-10 and CIFAR-100 from their binary archives: records of label bytes and a 32x32x3 image
// stored plane by plane, turned channels-last as Keras gives them.
#include "kiln/datasets/cifar.hpp"
#include "kiln/io.hpp"

namespace kiln::datasets {

namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;
constexpr int64_t kImageBytes = 3 * kPlane;

Split parse_records(const std::vector<const std::string*>& parts,
                    const std::vector<std::string>& names, const std::string& archive,
                    const CifarLayout& layout) {
  const int64_t record = layout.label_bytes + kImageBytes;
  int64_t n = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto size = static_cast<int64_t>(parts[p]->size());
    if (size == 0 || size % record != 0)
      throw IoError(archive + ": member '" + names[p] + "' holds " + std::to_string(size) +
                    " bytes, not a whole number of " + std::to_string(record) +
                    "-byte CIFAR records");
    n += size / record;
  }
  Split s{ByteTensor({n, kSide, kSide, 3}), ByteTensor({n})};
  uint8_t* image = s.images.data();
  int64_t i = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(parts[p]->data());
    const int64_t count = static_cast<int64_t>(parts[p]->size()) / record;
    for (int64_t r = 0; r < count; ++r, ++i, image += kImageBytes) {
      const uint8_t* rec = bytes + r * record;
      const uint8_t label = rec[layout.label_index];
      if (label >= layout.num_classes)
        throw IoError(archive + ": record " + std::to_string(r) + " of member '" + names[p] +
                      "' has label " + std::to_string(label) + "; expected 0 to " +
                      std::to_string(layout.num_classes - 1));
      s.labels.data()[i] = label;
      const uint8_t* planes = rec + layout.label_bytes;
      for (int64_t px = 0; px < kPlane; ++px)
        for (int64_t c = 0; c < 3; ++c) image[px * 3 + c] = planes[c * kPlane + px];
    }
  }
  return s;
}

}  // namespace

std::pair<Split, Split> read_cifar_archive(const std::filesystem::path& archive,
                                           const CifarLayout& layout) {
  std::vector<io::ArchiveMember> members;
  for (const auto& m : layout.train_members) members.push_back({m});
  members.push_back({layout.test_member});
  auto contents = io::read_archive_members(archive, members);
  std::vector<const std::string*> train;
  for (const auto& m : layout.train_members) train.push_back(&contents.at(m));
  return {parse_records(train, layout.train_members, archive.string(), layout),
          parse_records({&contents.at(layout.test_member)}, {layout.test_member}, archive.string(),
                        layout)};
}

namespace cifar10 {

const Source& source() {
  static const Source s{"cifar10",
                        {{"cifar-10-binary.tar.gz",
                          "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"}},
                        "/usr/share/datasets/cifar10",
                        "https://www.cs.toronto.edu/~kriz/"};
  return s;
}

std::pair<Split, Split> load_data() {
  const auto& src = source();
  CifarLayout layout;
  for (int b = 1; b <= 5; ++b)
    layout.train_members.push_back("cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin");
  layout.test_member = "cifar-10-batches-bin/test_batch.bin";
  return read_cifar_archive(locate(src) / src.files[0].name, layout);
}

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

}  // namespace cifar10

namespace cifar100 {

namespace {

bool fine(const std::string& label_mode) {
  if (label_mode != "fine" && label_mode != "coarse")
    throw ValueError("cifar100: label_mode must be \"fine\" or \"coarse\", received \"" +
                     label_mode + "\"");
  return label_mode == "fine";
}

}  // namespace

const Source& source() {
  static const Source s{"cifar100",
                        {{"cifar-100-binary.tar.gz",
                          "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"}},
                        "/usr/share/datasets/cifar100",
                        "https://www.cs.toronto.edu/~kriz/"};
  return s;
}

std::pair<Split, Split> load_data(const std::string& label_mode) {
  const bool is_fine = fine(label_mode);
  const auto& src = source();
  CifarLayout layout{{"cifar-100-binary/train.bin"},
                     "cifar-100-binary/test.bin",
                     2,
                     is_fine ? 1 : 0,
                     is_fine ? 100 : 20};
  return read_cifar_archive(locate(src) / src.files[0].name, layout);
}

const std::vector<std::string>& class_names(const std::string& label_mode) {
  static const std::vector<std::string> fine_names = {
      "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
      "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
      "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
      "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
      "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
      "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
      "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
      "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
      "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
      "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
      "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
      "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
      "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
      "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
      "table",       "tank",          "telephone", "television", "tiger",        "tractor",
      "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
      "willow_tree", "wolf",          "woman",     "worm"};
  static const std::vector<std::string> coarse_names = {"aquatic_mammals",
                                                        "fish",
                                                        "flowers",
                                                        "food_containers",
                                                        "fruit_and_vegetables",
                                                        "household_electrical_devices",
                                                        "household_furniture",
                                                        "insects",
                                                        "large_carnivores",
                                                        "large_man-made_outdoor_things",
                                                        "large_natural_outdoor_scenes",
                                                        "large_omnivores_and_herbivores",
                                                        "medium_mammals",
                                                        "non-insect_invertebrates",
                                                        "people",
                                                        "reptiles",
                                                        "small_mammals",
                                                        "trees",
                                                        "vehicles_1",
                                                        "vehicles_2"};
  return fine(label_mode) ? fine_names : coarse_names;
}

}  // namespace cifar100

}  // namespace kiln::datasets
