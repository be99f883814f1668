// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4) for GET /metrics.
//
//   Metrics m;
//   m.Describe("comity_http_requests_total", "counter", "HTTP requests served");
//   m.Add("comity_http_requests_total", {{"route", "/healthz"}, {"status", "200"}});
//   m.Observe("comity_http_request_seconds", {{"route", "/healthz"}}, 0.0004);
//   m.Set("comity_outbox_depth", {}, 3);
//   std::string text = m.Render();
//
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace comity::http {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // type: "counter", "gauge" or "histogram". Metrics not described render as untyped.
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Add(const std::string& name, const Labels& labels, double delta = 1);
  void Set(const std::string& name, const Labels& labels, double value);
  // Histogram with the default latency buckets (seconds).
  void Observe(const std::string& name, const Labels& labels, double value);

  std::string Render() const;

  static const std::vector<double>& DefaultBuckets();

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket (non-cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, double> values;         // rendered label set -> value
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
  };
  static std::string RenderLabels(const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // GUARDED_BY(mu_)
};

}  // namespace comity::http
