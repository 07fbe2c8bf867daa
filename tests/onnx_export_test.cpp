// ONNX export's own checks (tests/onnx_test.py runs the files in other tools): what it refuses,
// and that a file is the same bytes each time.
#include <gtest/gtest.h>

#include "helpers.hpp"
#include "kiln/kiln.hpp"

namespace kiln {
namespace {

using namespace layers;

std::string error_of(const Model& model, const OnnxOptions& options = {}) {
  try {
    onnx_model(model, options);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxExport, RefusesWhatItCannotWriteNamingIt) {
  Sequential mlp({Flatten({4, 4}), Dense(3, "softmax")});
  EXPECT_NE(error_of(mlp, {.opset = 12}).find("opset 12 is not supported; kiln writes 13 to 17"), std::string::npos);
  EXPECT_NE(error_of(mlp, {.opset = 18}).find("opset 18"), std::string::npos);
  Sequential thresholded({Flatten({4, 4}), ReLU({.threshold = 0.5}), Dense(3, "softmax")});
  EXPECT_NE(error_of(thresholded).find("layer 're_lu' (ReLU): a threshold other than 0 has no ONNX mapping"), std::string::npos)
      << error_of(thresholded);
}

TEST(OnnxExport, SameModelSameBytesAndTheFileIsWrittenWhole) {
  utils::set_random_seed(3);
  Sequential cnn({Conv2D({.filters = 2, .kernel_size = 3, .input_shape = {6, 6, 1}}), BatchNormalization(), Flatten(),
                  Dense(3, "softmax")});
  const std::string bytes = onnx_model(cnn);
  EXPECT_EQ(bytes, onnx_model(cnn));
  // ModelProto starts with ir_version (field 1, varint 8), then producer_name "kiln".
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x08\x08\x12\x04kiln", 8));
  testing::TempDir dir;
  export_onnx(cnn, dir / "cnn.onnx");
  EXPECT_EQ(io::read_file(dir / "cnn.onnx"), bytes);
  // Folding changes the file: the normalization becomes the kernel's weights.
  EXPECT_NE(onnx_model(cnn, {.fold_batch_norm = false}), bytes);
}

}  // namespace
}  // namespace kiln
