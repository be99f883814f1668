// Load driver for bench/federation_bench.sh: drafts N requests on a node through its API (not
// timed), then submits them all from C concurrent clients (timed) — as fast as they go, or at
// an offered rate (--rate: submit i is sent at start + i / rate) — and prints JSON:
//   {"drafted": N, "submitted": N, "errors": 0, "submit_seconds": 1.23, "first_submit_us": ...}
// Delivery (submit → signed receipt) is measured by the script from the outbox table.
//
//   federation_load --url http://127.0.0.1:8443 --token T --from XA --to XB
//       --requests 5000 --concurrency 32
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/federation_api.h"

namespace {

namespace json = boost::json;
using comity::http::PooledTransport;

std::string Body(const std::string& from, const std::string& to, int i) {
  json::object r{
      {"schema", "comity.request/v1"},
      {"requesting_state", from},
      {"requested_state", to},
      {"requesting_authority",
       json::object{{"name", "Ministry of Justice, International Cooperation Unit"},
                    {"kind", "central_authority"}}},
      {"proceeding", json::object{{"kind", "investigation"},
                                  {"reference", "INV-2026-" + std::to_string(i)},
                                  {"conducting_authority", "Public Prosecutor"}}},
      {"offences", json::array{json::object{{"category", "computer_fraud"},
                                            {"national_provision", "Criminal Code s. 301"},
                                            {"max_penalty_years", 8},
                                            {"description", "Phishing campaign."}}}},
      {"facts", "A phishing kit hosted in the requested state collected bank credentials."},
      {"purpose", "Identify the operator of the account."},
      {"urgency", "routine"},
      {"measures", json::array{json::object{
                       {"type", "produce"},
                       {"data_categories", json::array{"subscriber", "traffic"}},
                       {"selectors", json::array{json::object{
                                         {"kind", "email"},
                                         {"value", "load" + std::to_string(i) + "@example.net"},
                                         {"provider", "ExampleMail Ltd"}}}},
                       {"period", json::object{{"from", "2026-03-01"}, {"to", "2026-06-30"}}},
                       {"justification", "The account registered the phishing domain."}}}},
      {"persons", json::array{json::object{{"role", "suspect"},
                                           {"nationalities", json::array{from}},
                                           {"residence", to}}}},
      {"domestic_authorization",
       json::object{
           {"authority_kind", "judge"}, {"reference", "Order 77/2026"}, {"date", "2026-10-28"}}},
      {"assurances", json::array{"use_limited_to_stated_proceedings"}},
      {"language", "en"}};
  return json::serialize(r);
}

template <typename F>
void Parallel(int n, int threads, F f) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) f(i);
    });
  }
  for (auto& t : pool) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url, token, from = "XA", to = "XB", times_file, mark_file;
  int requests = 1000, concurrency = 16, pause_ms = 0;
  double rate = 0;  // submits per second offered (0: as fast as the clients go)
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url")
      url = v;
    else if (k == "--token")
      token = v;
    else if (k == "--from")
      from = v;
    else if (k == "--to")
      to = v;
    else if (k == "--requests")
      requests = std::atoi(v.c_str());
    else if (k == "--concurrency")
      concurrency = std::atoi(v.c_str());
    else if (k == "--pause-ms")
      pause_ms = std::atoi(v.c_str());
    else if (k == "--rate")
      rate = std::atof(v.c_str());
    else if (k == "--times")
      times_file = v;
    else if (k == "--mark")
      mark_file = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (url.empty() || token.empty() || requests < 1 || concurrency < 1 || rate < 0) {
    std::fprintf(stderr,
                 "usage: federation_load --url URL --token TOKEN [--from XA] [--to XB] "
                 "[--requests N] [--concurrency C] [--pause-ms MS] [--rate PER_SECOND] "
                 "[--times FILE] [--mark FILE]\n");
    return 2;
  }
  // Keep-alive connections, as a browser or an API client would use.
  PooledTransport client(static_cast<size_t>(concurrency), 1 << 20);
  client.set_header("Authorization", "Bearer " + token);
  constexpr std::chrono::milliseconds kTimeout{60'000};
  std::vector<std::string> ids(requests);
  std::atomic<int> errors{0};
  std::mutex err_mu;
  std::string first_error;
  auto fail = [&](const std::string& what) {
    ++errors;
    std::lock_guard<std::mutex> lock(err_mu);
    if (first_error.empty()) first_error = what;
  };

  Parallel(requests, concurrency, [&](int i) {
    auto r = client.Post(url, "/api/v1/requests", Body(from, to, i), kTimeout);
    if (!r.ok() || r->status != 201) {
      fail(r.ok() ? r->body : r.status().ToString());
      return;
    }
    ids[i] = std::string(json::parse(r->body).at("id").as_string());
  });
  if (!mark_file.empty()) {
    // Tells a watcher that drafting is done (created empty; the pause gives it time to look).
    std::FILE* m = std::fopen(mark_file.c_str(), "w");
    if (m == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", mark_file.c_str());
      return 1;
    }
    std::fclose(m);
  }
  if (pause_ms > 0) {
    // Lets a profiler (or the --mark watcher) tell drafting from submitting.
    if (mark_file.empty()) std::fprintf(stderr, "drafted\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto start_wall = std::chrono::system_clock::now();
  std::atomic<int> submitted{0};
  // When each submit began, µs of the wall clock (the nodes' clock on this machine): with an
  // offered rate, the moment it was due — a submit sent late because every client was busy
  // counts its wait (no coordinated omission).
  std::vector<int64_t> submit_us(requests, 0), sent_us(requests, 0), answered_us(requests, 0);
  auto wall_us = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  Parallel(requests, concurrency, [&](int i) {
    if (ids[i].empty()) return;
    if (rate > 0) {
      // An offered load: submit i is due at start + i / rate, whoever sends it.
      const auto due = std::chrono::duration<double>(i / rate);
      std::this_thread::sleep_until(
          start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(due));
      submit_us[i] =
          wall_us(start_wall + std::chrono::duration_cast<std::chrono::microseconds>(due));
    }
    sent_us[i] = wall_us(std::chrono::system_clock::now());
    if (submit_us[i] == 0) submit_us[i] = sent_us[i];
    auto r = client.Post(url, "/api/v1/requests/" + ids[i] + "/submit", "{}", kTimeout);
    if (!r.ok() || r->status != 200) {
      fail(r.ok() ? r->body : r.status().ToString());
      return;
    }
    answered_us[i] = wall_us(std::chrono::system_clock::now());
    ++submitted;
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  json::object out{{"drafted", requests - errors.load()},
                   {"submitted", submitted.load()},
                   {"errors", errors.load()},
                   {"submit_seconds", seconds},
                   {"first_submit_us", std::chrono::duration_cast<std::chrono::microseconds>(
                                           start_wall.time_since_epoch())
                                           .count()}};
  if (!first_error.empty()) out["first_error"] = first_error.substr(0, 300);
  if (!times_file.empty()) {
    // "<request id> <submit µs> <sent µs> <answered µs>" per submitted request: when it was due
    // (or sent, with no offered rate), when the client sent it, and when the node answered.
    std::FILE* f = std::fopen(times_file.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", times_file.c_str());
      return 1;
    }
    for (int i = 0; i < requests; ++i) {
      if (answered_us[i] != 0) {  // submitted
        std::fprintf(f, "%s %lld %lld %lld\n", ids[i].c_str(), static_cast<long long>(submit_us[i]),
                     static_cast<long long>(sent_us[i]), static_cast<long long>(answered_us[i]));
      }
    }
    std::fclose(f);
  }
  std::printf("%s\n", json::serialize(out).c_str());
  return errors.load() == 0 ? 0 : 1;
}
