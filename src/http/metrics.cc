#include "http/metrics.h"

#include <fmt/format.h>

namespace comity::http {

const std::vector<double>& Metrics::DefaultBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

std::string Metrics::RenderLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.type = type;
  f.help = help;
}

void Metrics::Add(const std::string& name, const Labels& labels, double delta) {
  std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  families_[name].values[key] += delta;
}

void Metrics::Set(const std::string& name, const Labels& labels, double value) {
  std::string key = RenderLabels(labels);
  std::lock_guard lock(mu_);
  families_[name].values[key] = value;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double value) {
  std::string key = RenderLabels(labels);
  const auto& buckets = DefaultBuckets();
  std::lock_guard lock(mu_);
  Histogram& h = families_[name].histograms[key];
  if (h.counts.empty()) h.counts.assign(buckets.size(), 0);
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (value <= buckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  const auto& buckets = DefaultBuckets();
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, f.help);
    if (!f.type.empty()) out += fmt::format("# TYPE {} {}\n", name, f.type);
    for (const auto& [labels, v] : f.values) {
      if (labels.empty()) {
        out += fmt::format("{} {}\n", name, v);
      } else {
        out += fmt::format("{}{{{}}} {}\n", name, labels, v);
      }
    }
    for (const auto& [labels, h] : f.histograms) {
      std::string sep = labels.empty() ? "" : ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < buckets.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, buckets[i],
                           cumulative);
      }
      out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.count);
      std::string braces = labels.empty() ? "" : "{" + labels + "}";
      out += fmt::format("{}_sum{} {}\n", name, braces, h.sum);
      out += fmt::format("{}_count{} {}\n", name, braces, h.count);
    }
  }
  return out;
}

}  // namespace comity::http
