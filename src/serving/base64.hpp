// Base64 as TF Serving's clients write it in {"b64": "..."}: the standard alphabet or the
// URL-safe one, padded or not; whitespace is not allowed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kiln::serving {

// The decoded bytes, or nothing for text that is not base64.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

}  // namespace kiln::serving
