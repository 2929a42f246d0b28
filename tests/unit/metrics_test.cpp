#include "app/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "app/http/router.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "core/webhooks.h"
#include "storage/sqlite/database.h"

using namespace app::metrics;

namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (line.starts_with(prefix)) out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("sample values: integers exactly, others round-trip, infinities and NaN spelled out") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(42) == "42");
  CHECK(format_value(-3) == "-3");
  CHECK(format_value(1.5) == "1.5");
  CHECK(format_value(0.0005) == "0.0005");
  CHECK(format_value(1e300) == "1e+300");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::nan("")) == "NaN");
}

TEST_CASE("label values escape backslash, double quote and newline; HELP escapes backslash and newline") {
  CHECK(escape_label_value(R"(a\b"c)" "\nd") == R"(a\\b\"c\nd)");
  CHECK(escape_label_value("/v1/otp/{id}") == "/v1/otp/{id}");
  CHECK(escape_help("one\\two\nthree \"quoted\"") == R"(one\\two\nthree "quoted")");
}

TEST_CASE("an exposition is HELP and TYPE lines, then samples with their labels") {
  Exposition out;
  out.family("cobinar_things_total", "counter", "Things.\nCounted \\ here.");
  out.sample("cobinar_things_total", {{"kind", "a\"b"}, {"route", "/x"}}, 3);
  out.sample("cobinar_things_total", {}, 0.25);
  CHECK(out.text() ==
        "# HELP cobinar_things_total Things.\\nCounted \\\\ here.\n"
        "# TYPE cobinar_things_total counter\n"
        "cobinar_things_total{kind=\"a\\\"b\",route=\"/x\"} 3\n"
        "cobinar_things_total 0.25\n");
}

TEST_CASE("histogram buckets are cumulative, upper bounds inclusive, and end with +Inf == _count") {
  Histogram histogram({1, 2, 5});
  for (double v : {0.5, 1.0, 1.5, 7.0}) histogram.observe(v);
  const auto snapshot = histogram.snapshot();
  CHECK(snapshot.cumulative == std::vector<std::uint64_t>{2, 3, 3, 4});
  CHECK(snapshot.count == 4);
  CHECK(snapshot.sum == doctest::Approx(10.0));

  Exposition out;
  out.family("cobinar_wait_seconds", "histogram", "Waits.");
  out.histogram("cobinar_wait_seconds", {{"route", "/v1/otp/send"}}, snapshot);
  CHECK(out.text() ==
        "# HELP cobinar_wait_seconds Waits.\n"
        "# TYPE cobinar_wait_seconds histogram\n"
        "cobinar_wait_seconds_bucket{route=\"/v1/otp/send\",le=\"1\"} 2\n"
        "cobinar_wait_seconds_bucket{route=\"/v1/otp/send\",le=\"2\"} 3\n"
        "cobinar_wait_seconds_bucket{route=\"/v1/otp/send\",le=\"5\"} 3\n"
        "cobinar_wait_seconds_bucket{route=\"/v1/otp/send\",le=\"+Inf\"} 4\n"
        "cobinar_wait_seconds_sum{route=\"/v1/otp/send\"} 10\n"
        "cobinar_wait_seconds_count{route=\"/v1/otp/send\"} 4\n");

  Exposition bare;
  bare.histogram("h", {}, Histogram({0.5}).snapshot());
  CHECK(bare.text() == "h_bucket{le=\"0.5\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST_CASE("the server's metrics count requests by route template and OTP outcomes by error code") {
  Metrics metrics("1.2.3\"x");
  RouteMetrics* send = metrics.add_route("POST", "/v1/otp/send");
  RouteMetrics* verify = metrics.add_route("POST", "/v1/otp/verify");
  metrics.add_route("GET", "/v1/otp/{id}");
  send->record(201, std::nullopt, std::chrono::milliseconds(3));
  send->record(429, core::ErrorCode::kRateLimited, std::chrono::milliseconds(1));
  verify->record(400, core::ErrorCode::kInvalidCode, std::chrono::milliseconds(2));
  verify->record(200, std::nullopt, std::chrono::milliseconds(2));
  verify->record(410, core::ErrorCode::kOtpExpired, std::chrono::milliseconds(2));
  metrics.unmatched()->record(404, core::ErrorCode::kNotFound, std::chrono::microseconds(10));
  metrics.on_commit({3, std::chrono::milliseconds(2), std::chrono::milliseconds(1), true});
  metrics.on_commit({1, std::chrono::milliseconds(1), {}, false});
  metrics.on_sms_attempt(core::SmsAttemptOutcome::kRetry);
  metrics.on_webhook_attempt(core::WebhookAttemptOutcome::kDelivered);
  metrics.on_webhook_attempt(core::WebhookAttemptOutcome::kGone);

  ScrapeState state;
  state.open_connections = 7;
  state.rejected_requests = 2;
  state.sms_queue = QueueState{4, 12.5};
  state.webhook_queue = QueueState{0, 0};
  state.wal_bytes = 4096;
  state.process = ProcessState{1e6, 2e6, 0.5, 1.7e9, 12, 1024, 9};
  const std::string text = metrics.render(state);

  CHECK(has_line(text, R"(cobinar_build_info{version="1.2.3\"x"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="POST",route="/v1/otp/send",status_class="2xx"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="POST",route="/v1/otp/send",status_class="4xx"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="POST",route="/v1/otp/verify",status_class="4xx"} 2)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="other",route="unmatched",status_class="4xx"} 1)"));
  // A route without traffic has no series yet.
  CHECK(text.find("route=\"/v1/otp/{id}\"") == std::string::npos);
  CHECK(has_line(text, R"(cobinar_http_request_duration_seconds_bucket{method="POST",route="/v1/otp/send",le="0.001"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_request_duration_seconds_bucket{method="POST",route="/v1/otp/send",le="+Inf"} 2)"));
  CHECK(has_line(text, R"(cobinar_http_request_duration_seconds_count{method="POST",route="/v1/otp/verify"} 3)"));
  CHECK(has_line(text, R"(cobinar_otp_sends_total{outcome="sent"} 1)"));
  CHECK(has_line(text, R"(cobinar_otp_sends_total{outcome="rate_limited"} 1)"));
  CHECK(has_line(text, R"(cobinar_otp_sends_total{outcome="invalid"} 0)"));
  CHECK(has_line(text, R"(cobinar_otp_verifies_total{outcome="verified"} 1)"));
  CHECK(has_line(text, R"(cobinar_otp_verifies_total{outcome="invalid_code"} 1)"));
  CHECK(has_line(text, R"(cobinar_otp_verifies_total{outcome="expired"} 1)"));
  CHECK(has_line(text, R"(cobinar_otp_verifies_total{outcome="already_verified"} 0)"));
  CHECK(lines_starting(text, "cobinar_otp_verifies_total{outcome=\"error\"}").size() == 1);  // each label once
  CHECK(has_line(text, R"(cobinar_rate_limited_total{method="POST",route="/v1/otp/send"} 1)"));
  CHECK(has_line(text, R"(cobinar_rate_limited_total{method="POST",route="/v1/otp/verify"} 0)"));
  CHECK(has_line(text, "cobinar_http_open_connections 7"));
  CHECK(has_line(text, "cobinar_http_rejected_requests_total 2"));
  CHECK(has_line(text, "cobinar_sms_queue_depth 4"));
  CHECK(has_line(text, "cobinar_sms_queue_oldest_age_seconds 12.5"));
  CHECK(has_line(text, "cobinar_webhook_queue_depth 0"));
  CHECK(has_line(text, R"(cobinar_sms_delivery_attempts_total{outcome="retry"} 1)"));
  CHECK(has_line(text, R"(cobinar_webhook_delivery_attempts_total{outcome="delivered"} 1)"));
  CHECK(has_line(text, R"(cobinar_webhook_delivery_attempts_total{outcome="gone"} 1)"));
  CHECK(has_line(text, R"(cobinar_db_commit_batch_jobs_bucket{le="2"} 1)"));
  CHECK(has_line(text, R"(cobinar_db_commit_batch_jobs_bucket{le="4"} 2)"));
  CHECK(has_line(text, "cobinar_db_commit_batch_jobs_sum 4"));
  CHECK(has_line(text, "cobinar_db_commit_duration_seconds_count 1"));
  CHECK(has_line(text, "cobinar_db_batch_duration_seconds_count 2"));
  CHECK(has_line(text, "cobinar_db_failed_batches_total 1"));
  CHECK(has_line(text, "cobinar_db_wal_size_bytes 4096"));
  CHECK(text.find("cobinar_db_size_bytes") == std::string::npos);  // unknown: left out, not 0
  CHECK(has_line(text, "process_resident_memory_bytes 1000000"));
  CHECK(has_line(text, "process_open_fds 12"));
  CHECK(has_line(text, "cobinar_process_threads 9"));

  // Every family is declared once, before its samples, and every sample belongs to a declared family.
  std::vector<std::string> declared;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    if (line.starts_with("# TYPE ")) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(std::find(declared.begin(), declared.end(), name) == declared.end());
      declared.push_back(name);
      continue;
    }
    if (line.starts_with("#")) continue;
    REQUIRE_FALSE(declared.empty());
    const std::string name = line.substr(0, line.find_first_of("{ "));
    const std::string& family = declared.back();
    const bool belongs = name == family || name == family + "_bucket" || name == family + "_sum" ||
                         name == family + "_count";
    CHECK_MESSAGE(belongs, line);
  }
  CHECK(text.back() == '\n');
}

TEST_CASE("the router counts under the route template, never the raw path") {
  core::ManualClock clock(core::TimePoint{});
  app::Log log(app::LogFormat::kText, clock, [](std::string_view) {});
  Metrics metrics("test");
  app::http::Router router(
      {{"GET", "/v1/users/{phoneNumber}",
        [](const app::http::HttpRequest&) -> core::Result<app::http::Reply> { return core::Error::not_found(); }},
       {"GET", "/v1/health",
        [](const app::http::HttpRequest&) -> core::Result<app::http::Reply> { return app::http::Reply::data({}); }}},
      log, &metrics);
  auto dispatch = [&](const std::string& method, const std::string& target) {
    httplib::Request request;
    request.method = method;
    request.target = target;
    request.path = target;
    httplib::Response response;
    router.dispatch(request, response, "rid");
    return response.status;
  };
  CHECK(dispatch("GET", "/v1/users/+999482918102") == 404);
  CHECK(dispatch("GET", "/v1/health") == 200);
  CHECK(dispatch("DELETE", "/v1/health") == 405);
  CHECK(dispatch("GET", "/v1/nothing/here") == 404);
  const std::string text = metrics.render({});
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="GET",route="/v1/users/{phoneNumber}",status_class="4xx"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="GET",route="/v1/health",status_class="2xx"} 1)"));
  CHECK(has_line(text, R"(cobinar_http_requests_total{method="other",route="unmatched",status_class="4xx"} 2)"));
  CHECK(text.find("482918102") == std::string::npos);
  CHECK(text.find("nothing") == std::string::npos);
}
