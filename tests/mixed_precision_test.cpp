// The mixed_bfloat16 dtype policy: Keras's names, Dense computing on bfloat16 operands with
// float32 sums, the policy surviving save and load, and bad policies explained.
#include <cstring>

#include "helpers.hpp"
#include "kernels/cpu/bf16.hpp"

namespace kiln {
namespace {

using layers::Dense, layers::Flatten;

// Sets the global policy for one test and puts float32 back afterwards.
struct GlobalPolicy {
  explicit GlobalPolicy(const std::string& name) { mixed_precision::set_global_policy(name); }
  ~GlobalPolicy() { mixed_precision::set_global_policy("float32"); }
};

void round_to_bf16(Tensor& t) {
  for (auto& v : t.values()) v = cpu::round_to_bf16(v);
}

TEST(MixedPrecision, LayersTakeTheGlobalPolicyWhenCreated) {
  EXPECT_EQ(mixed_precision::global_policy(), "float32");
  Dense before(3);
  {
    GlobalPolicy bf16("mixed_bfloat16");
    Dense during(3);
    Flatten flatten;
    EXPECT_EQ(during->dtype_policy(), "mixed_bfloat16");
    EXPECT_TRUE(during->mixed_bfloat16());
    EXPECT_EQ(flatten->dtype_policy(), "mixed_bfloat16");
    EXPECT_EQ(Dense({.units = 3, .dtype = "float32"})->dtype_policy(), "float32");
  }
  EXPECT_EQ(before->dtype_policy(), "float32");
  EXPECT_EQ(Dense({.units = 2, .dtype = "mixed_bfloat16"})->dtype_policy(), "mixed_bfloat16");
  try {
    mixed_precision::set_global_policy("mixed_float16");
    FAIL() << "accepted mixed_float16";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "unknown dtype policy 'mixed_float16'; kiln knows \"float32\" and "
                  "\"mixed_bfloat16\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(mixed_precision::global_policy(), "float32");
  EXPECT_THROW(Dense({.units = 2, .dtype = "bfloat16"}), ValueError);
}

// On operands that bfloat16 represents exactly, mixed_bfloat16 computes what float32 does; on
// others it rounds them first, forward and backward.
TEST(MixedPrecision, DenseMultipliesBf16OperandsAndSumsInFloat32) {
  const int64_t B = 5, IN = 37, OUT = 19;
  Dense mixed({.units = OUT, .activation = "tanh", .dtype = "mixed_bfloat16"});
  Dense plain({.units = OUT, .activation = "tanh"});
  testing::materialize(*mixed, {{IN}}, 3);
  testing::materialize(*plain, {{IN}}, 3);
  Tensor x = testing::random_tensor({B, IN}, 4), dy = testing::random_tensor({B, OUT}, 5);
  Tensor y_mixed({B, OUT}), y_plain({B, OUT}), dx_mixed({B, IN}), dx_plain({B, IN});

  testing::call_forward(*mixed, {}, x, y_mixed);
  testing::call_forward(*plain, {}, x, y_plain);
  double apart = 0;
  for (int64_t i = 0; i < y_mixed.size(); ++i)
    apart = std::max(apart, double(std::abs(y_mixed[i] - y_plain[i])));
  EXPECT_GT(apart, 1e-4) << "the bf16 forward pass did not round its operands";

  for (Tensor* t : {&x, &dy, &mixed->params()[0].value, &plain->params()[0].value}) round_to_bf16(*t);
  Context ctx{.training = true, .accumulate = false};
  testing::call_forward(*mixed, ctx, x, y_mixed);
  testing::call_forward(*plain, ctx, x, y_plain);
  for (int64_t i = 0; i < y_mixed.size(); ++i)
    EXPECT_NEAR(y_mixed[i], y_plain[i], 1e-6) << "output " << i;
  // tanh's derivative at the outputs is not a bf16 value: backward starts from the
  // pre-activation gradient, as the fused softmax-crossentropy does.
  ctx.grad_is_preactivation = true;
  Tensor dz_mixed = dy.clone(), dz_plain = dy.clone();
  testing::call_backward(*mixed, ctx, x, y_mixed, dz_mixed, &dx_mixed);
  testing::call_backward(*plain, ctx, x, y_plain, dz_plain, &dx_plain);
  for (int64_t i = 0; i < dx_mixed.size(); ++i)
    EXPECT_NEAR(dx_mixed[i], dx_plain[i], 1e-6) << "input grad " << i;
  for (size_t p = 0; p < 2; ++p) {
    const Tensor &gm = mixed->params()[p].grad, &gp = plain->params()[p].grad;
    for (int64_t i = 0; i < gm.size(); ++i)
      EXPECT_NEAR(gm[i], gp[i], 1e-6) << mixed->params()[p].name << " " << i;
  }
}

Sequential mixed_model() {
  GlobalPolicy bf16("mixed_bfloat16");
  utils::set_random_seed(9);
  Sequential model({Flatten({4, 3}), Dense(5, "relu"), Dense(3, "softmax")});
  model.compile({.optimizer = "sgd", .metrics = {"accuracy"}});
  Tensor x = testing::random_tensor({16, 4, 3}, 3);
  std::vector<int32_t> y(16);
  for (int i = 0; i < 16; ++i) y[i] = i % 3;
  model.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 1});
  return model;
}

TEST(MixedPrecision, PolicySurvivesSaveAndLoad) {
  testing::TempDir dir;
  Sequential model = mixed_model();
  model.save(dir.path());
  auto config = nlohmann::json::parse(io::read_file(dir / "config.json"));
  const auto& layers = config["config"]["layers"];
  EXPECT_EQ(layers[0]["config"]["dtype"], "float32");  // the input stays float32
  nlohmann::json policy = {{"class_name", "Policy"}, {"config", {{"name", "mixed_bfloat16"}}}};
  for (size_t i = 1; i < layers.size(); ++i) EXPECT_EQ(layers[i]["config"]["dtype"], policy) << i;

  Sequential loaded = load_model(dir.path());  // while the global policy is float32
  for (const auto& layer : loaded.layers())
    EXPECT_EQ(layer->dtype_policy(), "mixed_bfloat16") << layer->name();
  Tensor x = testing::random_tensor({7, 4, 3}, 4);
  Tensor a = model.predict(x), b = loaded.predict(x);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(float) * a.size()));

  // Keras 3 writes {"class_name": "DTypePolicy", ...}; a plain name is read too.
  auto keras3 = config;
  keras3["config"]["layers"][2]["config"]["dtype"] = {
      {"module", "keras"}, {"class_name", "DTypePolicy"}, {"config", {{"name", "float32"}}}};
  keras3["config"]["layers"][3]["config"]["dtype"] = "float32";
  testing::write_bytes(dir / "config.json", keras3.dump());
  Sequential relabelled = load_model(dir.path());
  EXPECT_EQ(relabelled.layers()[1]->dtype_policy(), "float32");
  EXPECT_EQ(relabelled.layers()[2]->dtype_policy(), "float32");
}

void expect_config_error(const testing::TempDir& dir, const nlohmann::json& config,
                         const std::string& reason) {
  testing::write_bytes(dir / "config.json", config.dump());
  try {
    load_model(dir.path());
    FAIL() << "loaded a broken model; expected: " << reason;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(reason), std::string::npos)
        << "expected '" << reason << "' in: " << e.what();
  }
}

TEST(MixedPrecision, BadPoliciesInConfigAreExplained) {
  testing::TempDir dir;
  mixed_model().save(dir.path());
  auto good = nlohmann::json::parse(io::read_file(dir / "config.json"));
  auto unknown = good;
  unknown["config"]["layers"][2]["config"]["dtype"] = "float16";
  expect_config_error(dir, unknown, "layer Dense 'dense': unknown dtype policy 'float16'");
  auto number = good;
  number["config"]["layers"][2]["config"]["dtype"] = 16;
  expect_config_error(dir, number,
                      "field 'dtype' must be a policy name or {\"class_name\": \"Policy\"");
  auto nameless = good;
  nameless["config"]["layers"][1]["config"]["dtype"] = {{"class_name", "Policy"},
                                                        {"config", nlohmann::json::object()}};
  expect_config_error(dir, nameless,
                      "layer Flatten 'flatten': field 'dtype' must be a policy name");
}

}  // namespace
}  // namespace kiln
