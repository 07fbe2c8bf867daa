#include "helpers.hpp"

namespace kiln {
namespace {

TEST(Tensor, ShapeSliceAndReshapeShareStorage) {
  Tensor t({4, 2, 3});
  for (int64_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  EXPECT_EQ(t.size(), 24);
  EXPECT_EQ(t.row_size(), 6);
  Tensor s = t.slice(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(s[0], 6.0f);
  s[0] = -1.0f;
  EXPECT_EQ(t[6], -1.0f);
  Tensor r = t.reshape({4, 6});
  EXPECT_EQ(r.data(), t.data());
  Tensor c = t.clone();
  c[0] = 42.0f;
  EXPECT_EQ(t[0], 0.0f);
}

TEST(Tensor, BadShapesThrowWithTheShapesInTheMessage) {
  Tensor t({4, 6});
  EXPECT_THROW(t.slice(2, 5), ShapeError);
  EXPECT_THROW(t.slice(3, 2), ShapeError);
  try {
    t.reshape({5, 5});
    FAIL() << "reshape to a different size must throw";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 6]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[5, 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tensor({2, -1}), ShapeError);
  // Products that overflow 64 bits are errors, not wrapped counts (2^16 * 2^18 * 2^30 = 2^64).
  EXPECT_THROW(shape_size({65536, 262144, int64_t{1} << 30}), ShapeError);
  EXPECT_THROW(shape_size({int64_t{1} << 62, 4}), ShapeError);
  EXPECT_EQ(shape_size({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
  EXPECT_THROW(Tensor({int64_t{1} << 62}), ShapeError) << "2^62 floats overflow a byte count";
  EXPECT_THROW((Tensor({2}, {1.0f, 2.0f, 3.0f})), ShapeError);
}

TEST(Tensor, AstypeScalesBytesToFloats) {
  ByteTensor b({2, 2}, {0, 51, 255, 128});
  Tensor f = b.astype<float>() / 255.0f;
  EXPECT_FLOAT_EQ(f[0], 0.0f);
  EXPECT_FLOAT_EQ(f[1], 0.2f);
  EXPECT_FLOAT_EQ(f[2], 1.0f);
  Tensor g = b.astype<float>(1.0 / 255.0);
  EXPECT_NEAR(g[3], 128.0 / 255.0, 1e-7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.data()) % 64, 0u) << "storage is 64-byte aligned";
  Tensor doubled = f * 2.0f;
  EXPECT_FLOAT_EQ(doubled[1], 0.4f);
  EXPECT_FLOAT_EQ(f[1], 0.2f) << "scaling makes a new tensor";
  EXPECT_THROW(f / 0.0f, ValueError);
}

}  // namespace
}  // namespace kiln
