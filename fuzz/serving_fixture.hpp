// A RestApi serving fixtures' small_cnn as model "m" (version 1, saved once per process), and the
// answer to a request, checked as every answer of the server must be: a status a client
// understands and, for JSON, a body that parses.
#pragma once

#include "serving/rest_api.hpp"

namespace kiln::fuzz {

serving::HttpResponse answer(const serving::HttpRequest& request);

}  // namespace kiln::fuzz
