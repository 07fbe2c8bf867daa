// ONNX export: a model as a file that runtimes other than kiln run (onnxruntime, OpenCV's dnn,
// TensorRT, ONNX.js, ...). The graph takes the model's inputs as kiln's models take them
// (float32, channels-last, a dynamic batch dimension named "batch"; pixels already scaled by the
// model's preprocessing.rescale, which is recorded in the file's metadata with the class names)
// and gives its outputs. Convolutions and pooling run channels-first inside, with a Transpose
// at each change of layout; Dropout and the augmentation layers, which do nothing at inference,
// are left out. docs/formats.md has the operator mapping.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "kiln/model.hpp"

namespace kiln {

struct OnnxOptions {
  int64_t opset = 17;           // the ai.onnx operator set version, 13 to 17
  bool fold_batch_norm = true;  // a BatchNormalization after a linear Conv2D or Dense becomes its weights
};

// The ONNX ModelProto's bytes. ValueError for a layer or setting ONNX export does not cover
// (naming it), or an opset outside 13..17.
std::string onnx_model(const Model& model, const OnnxOptions& options = {});
// Writes onnx_model(model, options) to `path` (atomically).
void export_onnx(const Model& model, const std::filesystem::path& path, const OnnxOptions& options = {});

}  // namespace kiln
