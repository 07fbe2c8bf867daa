// A picture of a model's graph, as keras.utils.plot_model(show_shapes=True) draws it: one box per
// layer (name and class, then its input and output shapes), an arrow for every tensor one layer
// passes another. Graphviz's dot lays the graph out (ranks top to bottom, splines around boxes);
// kiln draws it with the same cairo code as its other pictures, so PNG, SVG and PDF look alike.
#include <graphviz/gvc.h>

#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "graph_walk.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"
#include "kiln/plot.hpp"
#include "plot/canvas.hpp"

namespace kiln::plot {

namespace {

using namespace detail;

constexpr double kPad = 8, kLine = 18, kMargin = 16;

std::string shape_text(const Shape& shape) {
  std::string s = "(None";
  for (int64_t d : shape) s += ", " + std::to_string(d);
  return s + ")";
}

// The lines of a layer's box: its name and class, then (with shapes) what goes in and out.
std::vector<std::string> box_lines(const Layer& layer, bool show_shapes) {
  std::vector<std::string> lines{layer.name() + " (" + layer.class_name() + ")"};
  if (!show_shapes) return lines;
  std::string in;
  if (layer.class_name() == "InputLayer") {
    in = shape_text(layer.output_shape());
  } else {
    for (const auto& s : layer.input_shapes()) in += (in.empty() ? "" : ", ") + shape_text(s);
    if (layer.input_shapes().size() > 1) in = "[" + in + "]";
  }
  lines.push_back("input: " + in);
  lines.push_back("output: " + shape_text(layer.output_shape()));
  return lines;
}

// Numbers from a graphviz attribute: "12.5,30" or "e,1,2 3,4 ..." (commas and spaces alike).
std::vector<double> numbers(const std::string& text) {
  std::vector<double> out;
  std::string token;
  std::istringstream in(text);
  while (std::getline(in, token, ' ')) {
    std::istringstream parts(token);
    std::string part;
    while (std::getline(parts, part, ','))
      if (!part.empty() && part != "e" && part != "s") out.push_back(std::stod(part));
  }
  return out;
}

// One edge's spline from graphviz: "e,x,y" (where the arrow points) then 3n+1 Bezier points.
struct Spline {
  std::vector<std::pair<double, double>> points;
  std::optional<std::pair<double, double>> arrow;
};

Spline parse_spline(const std::string& pos) {
  Spline s;
  std::istringstream in(pos);
  std::string token;
  while (std::getline(in, token, ' ')) {
    if (token.empty()) continue;
    std::vector<double> v = numbers(token);
    if (token.rfind("e,", 0) == 0 && v.size() == 2)
      s.arrow = std::pair{v[0], v[1]};
    else if (token.rfind("s,", 0) != 0 && v.size() == 2)
      s.points.emplace_back(v[0], v[1]);
  }
  return s;
}

struct Layout {
  double width = 0, height = 0;  // the graph's bounding box, in points (= pixels here)
  std::vector<Rect> boxes;       // per layer, y down from the top
  std::vector<Spline> edges;     // y down from the top
};

// "n3", "e12": graphviz's names for nodes and edges (built without operator+, on which GCC 12
// warns wrongly with -Wrestrict).
std::string graph_id(char prefix, size_t index) {
  std::string id(1, prefix);
  id += std::to_string(index);
  return id;
}

// Graphviz is not thread-safe: one layout at a time, in one context for the process (each
// context loads the plugins again, and graphviz 2.42's gvFreeContext leaks their configuration).
std::mutex graphviz_mutex;

GVC_t* graphviz_context() {
  static GVC_t* context = gvContext();
  return context;
}

Layout lay_out(const Model& model, const std::vector<std::pair<double, double>>& sizes) {
  std::lock_guard lock(graphviz_mutex);
  GVC_t* gvc = graphviz_context();
  Agraph_t* g = agopen(const_cast<char*>("model"), Agdirected, nullptr);
  agattr(g, AGRAPH, const_cast<char*>("rankdir"), const_cast<char*>("TB"));
  agattr(g, AGRAPH, const_cast<char*>("nodesep"), const_cast<char*>("0.3"));
  agattr(g, AGRAPH, const_cast<char*>("ranksep"), const_cast<char*>("0.35"));
  agattr(g, AGNODE, const_cast<char*>("shape"), const_cast<char*>("box"));
  agattr(g, AGNODE, const_cast<char*>("fixedsize"), const_cast<char*>("true"));
  agattr(g, AGNODE, const_cast<char*>("label"), const_cast<char*>(""));
  agattr(g, AGNODE, const_cast<char*>("width"), const_cast<char*>("1"));
  agattr(g, AGNODE, const_cast<char*>("height"), const_cast<char*>("1"));
  const auto& layers = model.layers();
  std::vector<Agnode_t*> nodes;
  std::map<const Layer*, Agnode_t*> node_of;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string id = graph_id('n', i);
    Agnode_t* n = agnode(g, id.data(), 1);
    std::string w = std::to_string(sizes[i].first / 72.0), h = std::to_string(sizes[i].second / 72.0);
    agset(n, const_cast<char*>("width"), w.data());
    agset(n, const_cast<char*>("height"), h.data());
    nodes.push_back(n);
    node_of[&*layers[i]] = n;
  }
  std::vector<Agedge_t*> edges;
  for (const auto& call : kiln::detail::layer_calls(model))
    for (const auto& input : call.node->inputs) {
      std::string id = graph_id('e', edges.size());
      edges.push_back(agedge(g, node_of.at(&*input.layer()), node_of.at(&*call.node->layer), id.data(), 1));
    }
  Layout layout;
  if (gvLayout(gvc, g, "dot") != 0) {
    agclose(g);
    throw Error("plot::model: graphviz could not lay out the graph of '" + model.name() + "'");
  }
  // Rendering to dot writes the layout into each object's attributes.
  char* data = nullptr;
  unsigned int length = 0;
  gvRenderData(gvc, g, "dot", &data, &length);
  gvFreeRenderData(data);
  std::vector<double> bb = numbers(agget(g, const_cast<char*>("bb")));
  layout.width = bb.size() == 4 ? bb[2] : 0;
  layout.height = bb.size() == 4 ? bb[3] : 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::vector<double> p = numbers(agget(nodes[i], const_cast<char*>("pos")));
    double x = p.size() == 2 ? p[0] : 0, y = p.size() == 2 ? layout.height - p[1] : 0;
    layout.boxes.push_back({x - sizes[i].first / 2, y - sizes[i].second / 2, sizes[i].first, sizes[i].second});
  }
  for (Agedge_t* e : edges) {
    Spline s = parse_spline(agget(e, const_cast<char*>("pos")));
    for (auto& [x, y] : s.points) y = layout.height - y;
    if (s.arrow) s.arrow->second = layout.height - s.arrow->second;
    layout.edges.push_back(std::move(s));
  }
  gvFreeLayout(gvc, g);
  agclose(g);
  return layout;
}

}  // namespace

std::vector<Rect> model(const Model& model, const std::filesystem::path& path, const ModelPlotOptions& options) {
  check_picture_path(path);
  if (!model.built()) throw ValueError("plot::model: the model '" + model.name() + "' is not built yet");
  const auto& layers = model.layers();
  std::vector<std::vector<std::string>> lines;
  std::vector<std::pair<double, double>> sizes;
  for (const auto& layer : layers) {
    lines.push_back(box_lines(*layer, options.show_shapes));
    double w = 0;
    for (size_t k = 0; k < lines.back().size(); ++k) w = std::max(w, text_width(lines.back()[k], kTextSize, k == 0));
    sizes.emplace_back(std::ceil(w + 2 * kPad), std::ceil(lines.back().size() * kLine + 2 * kPad - 4));
  }
  Layout layout = lay_out(model, sizes);
  const int width = static_cast<int>(std::ceil(layout.width + 2 * kMargin));
  const int height = static_cast<int>(std::ceil(layout.height + 2 * kMargin));
  if (width > kMaxPixels || height > kMaxPixels)
    throw ValueError("plot::model: the graph of '" + model.name() + "' needs " + std::to_string(width) + "x" +
                     std::to_string(height) + " pixels, more than a picture holds (" + std::to_string(kMaxPixels) + ")");
  Canvas canvas(path, width, height);
  cairo_t* cr = canvas.cr();
  cairo_translate(cr, kMargin, kMargin);
  canvas.color(rgb(0x404040));
  cairo_set_line_width(cr, 1.2);
  for (const auto& edge : layout.edges) {
    if (edge.points.empty()) continue;
    cairo_move_to(cr, edge.points[0].first, edge.points[0].second);
    for (size_t k = 1; k + 2 < edge.points.size(); k += 3)
      cairo_curve_to(cr, edge.points[k].first, edge.points[k].second, edge.points[k + 1].first,
                     edge.points[k + 1].second, edge.points[k + 2].first, edge.points[k + 2].second);
    cairo_stroke(cr);
    if (edge.arrow) {  // a filled head from the spline's end to the point graphviz gives
      auto [x0, y0] = edge.points.back();
      auto [x1, y1] = *edge.arrow;
      double dx = x1 - x0, dy = y1 - y0, len = std::hypot(dx, dy);
      if (len > 0) {
        double px = -dy / len * 3.5, py = dx / len * 3.5;
        cairo_move_to(cr, x1, y1);
        cairo_line_to(cr, x0 + px, y0 + py);
        cairo_line_to(cr, x0 - px, y0 - py);
        cairo_close_path(cr);
        cairo_fill(cr);
      }
    }
  }
  std::vector<Rect> boxes;
  for (size_t i = 0; i < layers.size(); ++i) {
    // Whole pixels, the outline on pixel centres: crisp 1-pixel edges.
    const Rect& exact = layout.boxes[i];
    const Rect b{std::round(exact.x) + 0.5, std::round(exact.y) + 0.5, std::round(exact.width), std::round(exact.height)};
    canvas.color(layers[i]->class_name() == "InputLayer" ? rgb(0xe8f0fa) : rgb(0xf5f5f5));
    cairo_rectangle(cr, b.x, b.y, b.width, b.height);
    cairo_fill_preserve(cr);
    canvas.color(rgb(0x404040));
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    canvas.color(rgb(0x000000));
    for (size_t k = 0; k < lines[i].size(); ++k)
      canvas.text(lines[i][k], b.x + b.width / 2, b.y + kPad + (k + 0.5) * kLine - 2, kTextSize, 0.5, 0.5, 0, k == 0);
    boxes.push_back({b.x + kMargin, b.y + kMargin, b.width, b.height});
  }
  canvas.save();
  return boxes;
}

}  // namespace kiln::plot
