// kiln serve: TensorFlow Serving's REST API for kiln models (kiln/serving.hpp), with TF Serving's
// flag names.
#include <fstream>

#include "commands.hpp"
#include "common.hpp"
#include "kiln/serving.hpp"
#include "serving/model_config.hpp"

namespace kiln::cli {

namespace {

struct ServeArgs {
  std::string model_dir, model_name, model_base_path, model_config_file, version_policy = "latest", auth_token_file;
  std::vector<int64_t> versions;
  bool enable_batching = false, quiet = false;
  serving::ServerOptions options;
  int64_t rest_api_timeout_in_ms = 30000;
};

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("--auth_token_file: cannot read '" + path + "'");
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) throw ValueError("--auth_token_file: '" + path + "' holds no token on its first line");
  return token;
}

// The one model given by a folder or --model_base_path, or those of --model_config_file.
std::vector<serving::ModelSource> models_of(const ServeArgs& a) {
  const int given = !a.model_dir.empty() + !a.model_base_path.empty() + !a.model_config_file.empty();
  if (given != 1)
    throw ValueError("give one of: a model folder, --model_base_path (with --model_name), --model_config_file");
  if (!a.model_config_file.empty()) return serving::read_model_config(a.model_config_file);
  std::filesystem::path base = a.model_dir.empty() ? a.model_base_path : a.model_dir;
  std::string name = a.model_name;
  // A folder serves under its name, a Keras file (model.keras) under its name without extension.
  const bool keras_file = io::is_keras_file(base);
  const auto named = base.has_filename() ? base : base.parent_path();
  if (name.empty()) name = (keras_file ? named.stem() : named.filename()).string();
  if (!keras_file && !std::filesystem::is_directory(base))
    throw IoError("'" + base.string() + "' is not a folder (nor a Keras .keras or .h5 file)");
  return {{.name = name, .base_path = base, .version_policy = a.version_policy, .versions = a.versions}};
}

void run(ServeArgs& a) {
  auto& o = a.options;
  o.models = models_of(a);
  if (!a.enable_batching) o.batching.max_batch_size = 0;
  o.timeout_seconds = static_cast<double>(a.rest_api_timeout_in_ms) / 1000.0;
  if (!a.auth_token_file.empty()) o.auth_token = read_token(a.auth_token_file);
  o.access_log = !a.quiet;
  serving::Server server(o);
  for (const auto& m : o.models)
    std::cerr << "kiln serve: serving '" << m.name << "' on http://" << o.host << ":" << server.port() << "/v1/models/"
              << m.name << std::endl;
  server.run();
  std::cerr << "kiln serve: stopped" << std::endl;
}

}  // namespace

void add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over TensorFlow Serving's REST API");
  auto a = std::make_shared<ServeArgs>();
  auto& o = a->options;
  o.batching.max_batch_size = 64;
  cmd->add_option("MODEL", a->model_dir, "A model folder, a Keras .keras or .h5 file, or a folder of numbered version folders");
  cmd->add_option("--model_name", a->model_name, "The model's name in URLs (default: the folder's name)");
  cmd->add_option("--model_base_path", a->model_base_path, "A folder of numbered version folders (TF Serving's layout)");
  cmd->add_option("--model_config_file", a->model_config_file,
                  "Several models: TF Serving's model config file (text format, or the same in JSON)");
  cmd->add_option("--model_version_policy", a->version_policy, "latest: the highest version that loads; all; specific (--versions)")
      ->check(CLI::IsMember({"latest", "all", "specific"}))->capture_default_str();
  cmd->add_option("--versions", a->versions, "The versions served with --model_version_policy specific")->delimiter(',');
  cmd->add_option("--rest_api_port", o.port, "Port (0: any free one)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  cmd->add_flag("--enable_batching", a->enable_batching, "Run concurrent requests to a model as one batch");
  cmd->add_option("--max_batch_size", o.batching.max_batch_size, "Instances in one batch (with --enable_batching)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch_timeout_micros", o.batching.batch_timeout_micros, "How long a batch waits for more requests")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--max_body_bytes", o.max_body_bytes, "Larger request bodies get 413")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max_instances", o.max_instances, "More instances in one request get 413")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--rest_api_timeout_in_ms", a->rest_api_timeout_in_ms, "Time to receive a request, idle time between requests, and the longest wait for a batch")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--file_system_poll_wait_seconds", o.poll_seconds, "How often version folders are looked at")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--cors_allow_origin", o.cors_allow_origin, "Origin allowed to call the API from a browser page (or *)");
  cmd->add_option("--auth_token_file", a->auth_token_file, "A file whose first line is the bearer token every request must carry");
  cmd->add_option("--threads", o.threads, "I/O threads (default: one per core)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet", a->quiet, "No access log line per request");
  cmd->callback([a] { run(*a); });
}

}  // namespace kiln::cli
