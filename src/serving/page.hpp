// The page at / that lets a person try a served model in a browser (src/serving/page/index.html,
// compiled in at build time): plain HTML and JavaScript calling the REST API.
#pragma once

namespace kiln::serving {

extern const char* const kPage;

}  // namespace kiln::serving
