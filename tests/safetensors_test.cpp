// The safetensors reader: round trips, and malformed files rejected with a reason.
#include <cstring>

#include "helpers.hpp"

namespace kiln {
namespace {

std::string file_with_header(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  return bytes + header + data;
}

void expect_rejected(const std::string& bytes, const std::string& reason) {
  try {
    io::parse_safetensors(bytes, "bad.safetensors");
    FAIL() << "accepted a file that should fail with: " << reason;
  } catch (const IoError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(reason), std::string::npos) << "expected '" << reason << "' in: " << msg;
  }
}

TEST(Safetensors, RoundTripKeepsNamesShapesAndBits) {
  testing::TempDir dir;
  std::map<std::string, Tensor> tensors = {{"dense/kernel", testing::random_tensor({3, 2}, 1)},
                                           {"dense/bias", testing::random_tensor({2}, 2)},
                                           {"empty", Tensor({0})}};
  io::write_safetensors(dir / "w.safetensors", tensors, {{"format", "kiln"}});
  auto bytes = io::read_file(dir / "w.safetensors");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["dense/kernel"]["dtype"], "F32");
  EXPECT_EQ(header["dense/kernel"]["shape"], nlohmann::json({3, 2}));
  EXPECT_EQ(header["__metadata__"]["format"], "kiln");
  auto back = io::read_safetensors(dir / "w.safetensors");
  ASSERT_EQ(back.size(), 3u);
  for (const auto& [name, t] : tensors) {
    EXPECT_EQ(back[name].shape(), t.shape()) << name;
    EXPECT_EQ(0, std::memcmp(back[name].data(), t.data(), 4 * t.size())) << name;
  }
}

TEST(Safetensors, MalformedFilesAreRejectedWithTheReason) {
  const std::string eight(8, 'x');
  expect_rejected("abc", "too short");
  expect_rejected(file_with_header("{}", "") .substr(0, 8) + "{", "header length 2 exceeds");
  expect_rejected(file_with_header("{not json", ""), "not valid JSON");
  expect_rejected(file_with_header("[1,2]", ""), "not a JSON object");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "1234"), "F16");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", eight),
                  "outside the 8-byte data buffer");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
                  "needs 12 bytes");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
                  "not a non-negative integer");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[2]}})", eight), "data_offsets");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight),
                  "overlap");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "gap");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight),
                  "cover 4 bytes");
  expect_rejected(file_with_header(R"({"__metadata__":{"k":1}})", ""), "not a string");
  expect_rejected(file_with_header(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight),
                  "impossibly large");
}

TEST(Safetensors, MissingFileNamesThePath) {
  try {
    io::read_safetensors("/nonexistent/model.safetensors");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace kiln
