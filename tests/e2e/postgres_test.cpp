// Several nodes on one PostgreSQL database, through the real binary (skipped unless
// COBINAR_TEST_POSTGRES names a PostgreSQL superuser URL; scripts/with-postgres.sh sets it).
#include "tests/e2e/helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/jwt.h"
#include "storage/postgres/connection.h"
#include "tests/e2e/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

using namespace std::chrono_literals;

namespace {

using testing::binary;
using testing::start_and_wait;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Every test starts with this: without a PostgreSQL server there is nothing to test.
bool postgres_configured() {
  if (!testing::test_postgres_url().empty()) return true;
  MESSAGE("skipped: COBINAR_TEST_POSTGRES is unset (run through scripts/with-postgres.sh)");
  return false;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last answer.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// One HTTP exchange with a node; status 0 when nothing answered (refused, reset, timed out).
struct Answer {
  int status = 0;
  Json body;
  httplib::Headers headers;
  std::string error_code() const {
    return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
  }
  Json data() const { return body.is_object() && body.contains("data") ? body["data"] : Json(); }
};

httplib::Client client_for(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  client.set_write_timeout(10);
  return client;
}

Answer to_answer(const httplib::Result& result) {
  Answer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.headers = result->headers;
  answer.body = Json::parse(result->body, nullptr, false);
  return answer;
}

Answer post(int port, const std::string& path, const httplib::Headers& headers, const Json& body) {
  auto client = client_for(port);
  return to_answer(client.Post(path, headers, body.dump(), "application/json"));
}

Answer get(int port, const std::string& path, const httplib::Headers& headers) {
  auto client = client_for(port);
  return to_answer(client.Get(path, headers));
}

// A `+999` virtual number, distinct for each n.
std::string virtual_phone(long long n) {
  std::string digits = std::to_string(100'000'000 + n);
  return "+999" + digits;
}

// A wrong code for a request whose right code is `code`.
std::string wrong_code(const std::string& code) { return code == "000000" ? "111111" : "000000"; }

// A `cobinar-phone serve` process on the shared database.
class Node {
 public:
  Node(std::string name, const std::vector<std::string>& args)
      : name_(std::move(name)), process_(std::make_unique<testing::Process>(binary(), args)) {
    port_ = start_and_wait(*process_);
  }
  int port() const { return port_; }
  const std::string& name() const { return name_; }

  // With --metrics-listen 127.0.0.1:0: the sum of a Prometheus metric's samples whose labels
  // contain `label` (e.g. outcome="delivered"), or -1 when not served.
  double metric(const std::string& name, const std::string& label) const {
    std::smatch match;
    const std::string err = process_->err();
    if (!std::regex_search(err, match, std::regex(R"(metrics listening address=127\.0\.0\.1:(\d+))"))) return -1;
    httplib::Client client("127.0.0.1", std::stoi(match[1]));
    const auto scraped = client.Get("/metrics");
    if (!scraped || scraped->status != 200) return -1;
    double sum = 0;
    std::istringstream lines(scraped->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(name + "{") && line.find(label) != std::string::npos) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return sum;
  }
  testing::Process& process() { return *process_; }
  // Its stderr without the access log (every line but "info request ..."), for failure context.
  std::string log() const {
    std::string kept, line;
    std::istringstream lines(process_->err());
    while (std::getline(lines, line)) {
      if (line.find(" info request ") == std::string::npos) kept += line + "\n";
    }
    return name_ + " stderr (access log left out):\n" + kept;
  }

  // SIGTERM; the exit code (nullopt if it did not exit within 15 s).
  std::optional<int> stop() {
    process_->signal(SIGTERM);
    return process_->wait(15s);
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait(10s);
  }

 private:
  std::string name_;
  std::unique_ptr<testing::Process> process_;
  int port_ = 0;
};

// A fresh database, one key file, and the nodes serving them. Members die in reverse order:
// the nodes before the database is dropped.
class Cluster {
 public:
  explicit Cluster(std::vector<std::string> options) : key_(dir_.file("cobinar.key")), options_(std::move(options)) {}

  const std::string& url() const { return database_.url(); }
  const std::string& key() const { return key_; }
  testing::TempDir& dir() { return dir_; }

  std::vector<std::string> args() const {
    std::vector<std::string> args = {"--db", url(), "--key-file", key_, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), options_.begin(), options_.end());
    return args;
  }

  // Starts one more node; the first one creates the key file (the others read it).
  Node& start(const std::string& name) {
    nodes_.push_back(std::make_unique<Node>(name, args()));
    return *nodes_.back();
  }

  // Every node's stderr, for a failure's context.
  std::string logs() const {
    std::string all;
    for (const auto& node : nodes_) all += node->log() + "\n";
    return all;
  }

  // The CLI on this database and key (developer create, token, ...).
  testing::Completed cli(std::vector<std::string> args) const {
    args.insert(args.end(), {"--db", url(), "--key-file", key_});
    return testing::run_binary(binary(), args);
  }

 private:
  testing::TempDir dir_;
  testing::TempPostgresDatabase database_;
  std::string key_;
  std::vector<std::string> options_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// A developer (created by the CLI) with one project, seen through the console API.
struct Tenant {
  httplib::Headers console;
  std::string project_id;
};

// An application's JSON as created (with its secrets).
struct App {
  Json json;
  std::string id() const { return json["id"]; }
  httplib::Headers credentials() const {
    return {{"x-client-id", json["clientId"]}, {"x-client-secret", json["clientSecret"]}, {"x-api-key", json["apiKey"]}};
  }
};

httplib::Headers bearer_of(const std::string& token_output) {
  return {{"Authorization", "Bearer " + token_output.substr(0, token_output.find('\n'))}};
}

Tenant create_tenant(const std::function<testing::Completed(std::vector<std::string>)>& cli, int port,
                     const std::string& email = "ops@example.com") {
  const auto created = cli({"developer", "create", "--email", email, "--plan", "unlimited"});
  REQUIRE_MESSAGE(created.code == 0, created.err);
  const auto token = cli({"token", "--email", email});
  REQUIRE_MESSAGE(token.code == 0, token.err);
  Tenant tenant;
  tenant.console = bearer_of(token.out);
  const auto project = post(port, "/v1/projects", tenant.console, {{"name", "p"}});
  REQUIRE_MESSAGE(project.status == 201, project.body.dump());
  tenant.project_id = project.data()["id"];
  return tenant;
}

Tenant create_tenant(const Cluster& cluster, int port) {
  return create_tenant([&](std::vector<std::string> args) { return cluster.cli(std::move(args)); }, port);
}

App create_app(int port, const Tenant& tenant, const std::string& name = "Shop", const std::string& environment = "test") {
  const auto created = post(port, "/v1/applications", tenant.console,
                            {{"name", name}, {"projectId", tenant.project_id}, {"environment", environment}});
  REQUIRE_MESSAGE(created.status == 201, created.body.dump());
  return App{created.data()};
}

// POST /v1/otp/send for a test app: the request id and its code.
struct Sent {
  std::string request_id;
  std::string code;
};

Sent send_code(int port, const App& app, const std::string& phone) {
  const auto sent = post(port, "/v1/otp/send", app.credentials(), {{"phone", phone}});
  REQUIRE_MESSAGE(sent.status == 201, sent.body.dump());
  return {sent.data()["requestId"], sent.data()["testCode"]};
}

Answer verify(int port, const App& app, const std::string& request_id, const std::string& code) {
  return post(port, "/v1/otp/verify", app.credentials(), {{"requestId", request_id}, {"code", code}});
}

// Answers tallied by "status" or "status CODE".
using Tally = std::map<std::string, int>;

std::string tally_key(const Answer& answer) {
  const std::string code = answer.error_code();
  return std::to_string(answer.status) + (code.empty() ? "" : " " + code);
}

std::string describe(const Tally& tally) {
  std::string text;
  for (const auto& [key, count] : tally) text += (text.empty() ? "" : ", ") + key + ": " + std::to_string(count);
  return text;
}

// Runs `work(thread, request)` for threads × requests, every thread released at once; tallies
// the answers.
Tally in_parallel(int threads, int requests, const std::function<Answer(int, int)>& work,
                  std::vector<Answer>* answers = nullptr) {
  std::mutex mutex;
  Tally tally;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ++ready;
      while (!go) std::this_thread::yield();
      for (int r = 0; r < requests; ++r) {
        Answer answer = work(t, r);
        std::lock_guard lock(mutex);
        ++tally[tally_key(answer)];
        if (answers) answers->push_back(std::move(answer));
      }
    });
  }
  while (ready < threads) std::this_thread::yield();
  go = true;
  for (auto& thread : pool) thread.join();
  return tally;
}

// GET every page of a console list (?limit=200&cursor=...).
std::vector<Json> list_all(int port, const std::string& path, const httplib::Headers& console) {
  std::vector<Json> items;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const std::string separator = path.find('?') == std::string::npos ? "?" : "&";
    const auto answer = get(port, path + separator + "limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), console);
    REQUIRE_MESSAGE(answer.status == 200, answer.body.dump());
    for (const auto& item : answer.body["data"]) items.push_back(item);
    if (answer.body["nextCursor"].is_null()) break;
    cursor = answer.body["nextCursor"];
  }
  return items;
}

// A loopback webhook receiver that counts deliveries per event id.
class Receiver {
 public:
  explicit Receiver(int port = 0) {
    // Each node's delivery threads keep their connections open (8 per node by default), and
    // httplib serves one kept-alive connection per pool thread: enough threads for all of them,
    // or deliveries would queue behind idle connections.
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_.Post("/hooks", [this](const httplib::Request& req, httplib::Response& res) {
      const auto body = Json::parse(req.body, nullptr, false);
      std::lock_guard lock(mutex_);
      ++total_;
      if (!body.is_object() || !body.contains("id")) {
        ++malformed_;
      } else {
        const std::string id = body["id"];
        if (req.get_header_value("webhook-id") != id || req.get_header_value("x-cobinar-event-id") != id) ++mismatched_;
        ++count_by_id_[id];
        body_by_id_[id] = body;
        if (!arrived_at_.count(id)) arrived_at_[id] = std::chrono::system_clock::now();
      }
      res.status = 204;
    });
    if (port == 0) {
      port_ = server_.bind_to_any_port("127.0.0.1");
      REQUIRE(port_ > 0);
    } else {
      // httplib sets only SO_REUSEPORT on Linux; the port's previous owner may leave
      // TIME_WAIT sockets behind, which SO_REUSEADDR lets us bind past.
      server_.set_socket_options([](int sock) {
        const int on = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
      });
      REQUIRE_MESSAGE(server_.bind_to_port("127.0.0.1", port), "cannot bind 127.0.0.1:" << port);
      port_ = port;
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }
  std::map<std::string, int> counts() const {
    std::lock_guard lock(mutex_);
    return count_by_id_;
  }
  std::map<std::string, Json> bodies() const {
    std::lock_guard lock(mutex_);
    return body_by_id_;
  }
  int total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }
  // Seconds from each event's createdAt to its first arrival here.
  std::vector<double> latencies() const {
    std::lock_guard lock(mutex_);
    std::vector<double> out;
    for (const auto& [id, arrived] : arrived_at_) {
      std::tm parts{};
      int millis = 0;
      const std::string created = body_by_id_.at(id)["createdAt"];
      if (::strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &parts) == nullptr) continue;
      millis = std::stoi(created.substr(20, 3));
      const auto at = std::chrono::system_clock::from_time_t(::timegm(&parts)) + std::chrono::milliseconds(millis);
      out.push_back(std::chrono::duration<double>(arrived - at).count());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  int malformed() const {
    std::lock_guard lock(mutex_);
    return malformed_;
  }
  int mismatched() const {
    std::lock_guard lock(mutex_);
    return mismatched_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, int> count_by_id_;
  std::map<std::string, Json> body_by_id_;
  std::map<std::string, std::chrono::system_clock::time_point> arrived_at_;
  int total_ = 0, malformed_ = 0, mismatched_ = 0;
};

// ISO timestamp `seconds` from now, in the server's format, computed by PostgreSQL.
const char* kLeasedSql =
    "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at > "
    "to_char((now() AT TIME ZONE 'utc') + interval '5 seconds', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

const std::vector<std::string> kAllEvents = {"otp.created",      "otp.verified",     "otp.failed",
                                             "otp.expired",      "identity.created", "identity.updated",
                                             "application.created", "application.deleted"};

}  // namespace

TEST_CASE("postgres: a code sent through node A verifies through node B; console reads agree") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "1000", "--verify-rate-limit", "1000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());

  // The app created through A authenticates on B at once.
  const Sent sent = send_code(a.port(), app, "+999 482 918 102");
  const auto verified = verify(b.port(), app, sent.request_id, sent.code);
  REQUIRE_MESSAGE(verified.status == 200, verified.body.dump());
  CHECK(verified.data()["status"] == "verified");
  CHECK(verified.data()["requestId"] == sent.request_id);

  const auto on_b = get(b.port(), "/v1/otp/" + sent.request_id, tenant.console);
  REQUIRE(on_b.status == 200);
  CHECK(on_b.data()["status"] == "verified");
  CHECK(on_b.data()["attempts"] == 0);
  CHECK_FALSE(on_b.data()["verifiedAt"].is_null());
  const auto on_a = get(a.port(), "/v1/otp/" + sent.request_id, tenant.console);
  CHECK(on_a.body == on_b.body);

  const auto again = verify(a.port(), app, sent.request_id, sent.code);
  CHECK(again.status == 409);
  CHECK(again.error_code() == "OTP_ALREADY_VERIFIED");

  // And the other way round: sent on B, a wrong code on A, the right one on B.
  const Sent second = send_code(b.port(), app, "+999 482 918 103");
  const auto wrong = verify(a.port(), app, second.request_id, wrong_code(second.code));
  CHECK(wrong.status == 400);
  CHECK(wrong.error_code() == "INVALID_CODE");
  CHECK(wrong.body["error"]["details"]["attemptsRemaining"] == 4);
  CHECK(verify(b.port(), app, second.request_id, second.code).status == 200);

  // Every console read answers the same on both nodes.
  for (const std::string& path : std::vector<std::string>{"/v1/otp", "/v1/otp/" + second.request_id, "/v1/users",
                                                          "/v1/users/%2B999482918102", "/v1/logs", "/v1/analytics/summary",
                                                          "/v1/applications", "/v1/inbox"}) {
    CAPTURE(path);
    const auto from_a = get(a.port(), path, tenant.console);
    const auto from_b = get(b.port(), path, tenant.console);
    CHECK(from_a.status == 200);
    CHECK(from_a.body == from_b.body);
  }
  const auto requests = get(b.port(), "/v1/otp", tenant.console).data();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1]["attempts"] == 0);
  CHECK(requests[0]["attempts"] == 1);
  CHECK(get(a.port(), "/v1/users", tenant.console).data().size() == 2);

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: per-app and per-phone limits hold across both nodes under parallel load") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "20", "--phone-send-limit", "3", "--verify-rate-limit", "1000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  INFO(cluster.logs());

  // 80 sends to distinct phones, alternating nodes: the app's 20 per minute, no more.
  const App app = create_app(a.port(), tenant, "Many phones");
  std::vector<Answer> answers;
  const Tally tally = in_parallel(
      8, 10,
      [&](int t, int r) {
        const int port = (t + r) % 2 == 0 ? a.port() : b.port();
        return post(port, "/v1/otp/send", app.credentials(), {{"phone", virtual_phone(t * 100 + r)}});
      },
      &answers);
  MESSAGE("distinct phones: " << describe(tally));
  CHECK(tally.at("201") == 20);
  CHECK(tally.count("429 RATE_LIMITED") == 1);
  if (tally.count("429 RATE_LIMITED")) CHECK(tally.at("429 RATE_LIMITED") == 60);
  CHECK(tally.size() == 2);
  for (const auto& answer : answers) {
    if (answer.status != 429) continue;
    CHECK(answer.headers.count("Retry-After") == 1);
    CHECK(answer.body["error"]["details"]["retryAfter"].get<int>() >= 1);
  }
  // What was answered is what is stored.
  CHECK(list_all(b.port(), "/v1/otp?appId=" + app.id(), tenant.console).size() == 20);

  // A fresh app (its own 20 per minute): 16 parallel sends to one phone, both nodes: 3.
  const App one_phone = create_app(b.port(), tenant, "One phone");
  const Tally same_phone = in_parallel(8, 2, [&](int t, int r) {
    const int port = (t + r) % 2 == 0 ? a.port() : b.port();
    return post(port, "/v1/otp/send", one_phone.credentials(), {{"phone", "+999 611 000 000"}});
  });
  MESSAGE("one phone: " << describe(same_phone));
  CHECK(same_phone.at("201") == 3);
  CHECK(same_phone.count("429 RATE_LIMITED") == 1);
  if (same_phone.count("429 RATE_LIMITED")) CHECK(same_phone.at("429 RATE_LIMITED") == 13);
  CHECK(same_phone.size() == 2);
  // The newest of the three is pending, the two before it superseded.
  const auto stored = list_all(a.port(), "/v1/otp?appId=" + one_phone.id(), tenant.console);
  REQUIRE(stored.size() == 3);
  CHECK(stored[0]["status"] == "pending");
  CHECK(stored[1]["status"] == "failed");
  CHECK(stored[2]["status"] == "failed");

  // The refused phone sends gave back the app's slots they took: 17 more sends to other
  // phones fit its 20 per minute (3 used), the 18th does not.
  int accepted = 0;
  for (int i = 0; i < 18; ++i) {
    const auto answer = post(i % 2 ? a.port() : b.port(), "/v1/otp/send", one_phone.credentials(),
                             {{"phone", virtual_phone(5000 + i)}});
    if (answer.status == 201) ++accepted;
  }
  CHECK(accepted == 17);

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: a parallel verify race across nodes has exactly one winner and never more than 5 attempts") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "1000", "--verify-rate-limit", "100000", "--phone-failure-limit", "100000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());

  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    // The right code, 16 times at once across both nodes: one 200, the rest 409.
    const Sent right = send_code(round % 2 ? a.port() : b.port(), app, virtual_phone(100 + round));
    const Tally winners = in_parallel(16, 1, [&](int t, int) {
      return verify(t % 2 ? a.port() : b.port(), app, right.request_id, right.code);
    });
    MESSAGE("right code x16: " << describe(winners));
    CHECK(winners.at("200") == 1);
    CHECK(winners.count("409 OTP_ALREADY_VERIFIED") == 1);
    if (winners.count("409 OTP_ALREADY_VERIFIED")) CHECK(winners.at("409 OTP_ALREADY_VERIFIED") == 15);
    CHECK(winners.size() == 2);
    const auto verified = get(b.port(), "/v1/otp/" + right.request_id, tenant.console).data();
    CHECK(verified["status"] == "verified");
    CHECK(verified["attempts"] == 0);

    // A wrong code, 24 times at once across both nodes: five attempts counted, then failed.
    const Sent target = send_code(round % 2 ? b.port() : a.port(), app, virtual_phone(200 + round));
    std::vector<Answer> answers;
    const Tally wrong = in_parallel(
        12, 2,
        [&](int t, int r) {
          return verify((t + r) % 2 ? a.port() : b.port(), app, target.request_id, wrong_code(target.code));
        },
        &answers);
    MESSAGE("wrong code x24: " << describe(wrong));
    CHECK(wrong.at("400 INVALID_CODE") == 5);
    CHECK(wrong.count("410 OTP_FAILED") == 1);
    if (wrong.count("410 OTP_FAILED")) CHECK(wrong.at("410 OTP_FAILED") == 19);
    CHECK(wrong.size() == 2);
    // Serialised: the remaining attempts counted down 4, 3, 2, 1, 0, each once.
    std::multiset<int> remaining;
    for (const auto& answer : answers) {
      if (answer.status == 400) remaining.insert(answer.body["error"]["details"]["attemptsRemaining"].get<int>());
    }
    CHECK(remaining == std::multiset<int>{0, 1, 2, 3, 4});
    const auto failed = get(a.port(), "/v1/otp/" + target.request_id, tenant.console).data();
    CHECK(failed["status"] == "failed");
    CHECK(failed["attempts"] == 5);
    // The right code is too late now.
    const auto late = verify(b.port(), app, target.request_id, target.code);
    CHECK(late.status == 410);
    CHECK(late.error_code() == "OTP_FAILED");
  }

  // Events agree: per failed request 5 invalid_code + 1 max_attempts; per verified one 1.
  const auto logs = list_all(a.port(), "/v1/logs", tenant.console);
  int invalid = 0, max_attempts = 0, verified = 0;
  for (const auto& entry : logs) {
    if (entry["event"] == "otp.verified") ++verified;
    if (entry["event"] == "otp.failed" && entry["detail"].value("reason", "") == "invalid_code") ++invalid;
    if (entry["event"] == "otp.failed" && entry["detail"].value("reason", "") == "max_attempts") ++max_attempts;
  }
  CHECK(verified == 3);
  CHECK(invalid == 15);
  CHECK(max_attempts == 3);

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: a webhook subscribed to every event gets each event once while both nodes run workers") {
  if (!postgres_configured()) return;
  Receiver receiver;
  Cluster cluster({"--webhook-allow-http", "--webhook-allow-private", "--send-rate-limit", "1000",
                   "--verify-rate-limit", "1000", "--metrics-listen", "127.0.0.1:0"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());
  const auto hook = post(b.port(), "/v1/webhooks", tenant.console,
                         {{"appId", app.id()}, {"url", receiver.url()}, {"events", kAllEvents}});
  REQUIRE_MESSAGE(hook.status == 201, hook.body.dump());
  if (std::getenv("COBINAR_TEST_AUDIT")) {
    storage::PgConnection audit(cluster.url());
    audit.exec(R"SQL(
CREATE TABLE audit_log (n BIGSERIAL, at TIMESTAMPTZ DEFAULT clock_timestamp(), pid INT DEFAULT pg_backend_pid(),
                        xid BIGINT DEFAULT txid_current(), what TEXT);
CREATE FUNCTION audit_events() RETURNS trigger AS $$ BEGIN
  INSERT INTO audit_log(what) VALUES ('event seq=' || NEW.seq || ' ' || NEW.type || ' locks=' ||
    coalesce((SELECT string_agg(mode || ':' || granted || ':' || objid, ',') FROM pg_locks
              WHERE pid = pg_backend_pid() AND locktype = 'advisory'), 'none'));
  RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION audit_events();
CREATE FUNCTION audit_cursor() RETURNS trigger AS $$ BEGIN
  INSERT INTO audit_log(what) VALUES ('cursor ' || NEW.name || ' -> ' || NEW.seq || ' snapshot=' || txid_current_snapshot());
  RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_cursor AFTER INSERT OR UPDATE ON outbox_cursors FOR EACH ROW EXECUTE FUNCTION audit_cursor();
CREATE FUNCTION audit_delivery() RETURNS trigger AS $$ BEGIN
  INSERT INTO audit_log(what) VALUES ('delivery for ' || NEW.event_id || ' snapshot=' || txid_current_snapshot());
  RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_delivery AFTER INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION audit_delivery();
)SQL");
  }

  // 30 send + verify pairs from 3 client threads; each pair sent on one node, verified on
  // the other; every third verify is preceded by a wrong code (otp.failed too).
  constexpr int kPairs = 30;
  std::atomic<int> wrong_codes{0};
  const auto started = Clock::now();
  const Tally tally = in_parallel(3, kPairs / 3, [&](int t, int r) {
    const int n = t * 100 + r;
    const int send_port = n % 2 ? a.port() : b.port(), verify_port = n % 2 ? b.port() : a.port();
    const auto sent = post(send_port, "/v1/otp/send", app.credentials(), {{"phone", virtual_phone(n)}});
    if (sent.status != 201) return sent;
    const std::string id = sent.data()["requestId"], code = sent.data()["testCode"];
    if (r % 3 == 0) {
      const auto wrong = verify(send_port, app, id, wrong_code(code));
      if (wrong.status != 400) return wrong;
      ++wrong_codes;
    }
    return verify(verify_port, app, id, code);
  });
  const double traffic_took = seconds_since(started);
  CHECK(tally.at("200") == kPairs);
  CHECK(tally.size() == 1);

  // The events of the traffic, from the log: created, failed, verified, identity.created.
  std::set<std::string> expected;
  for (const auto& entry : list_all(a.port(), "/v1/logs?appId=" + app.id(), tenant.console)) {
    if (!entry["requestId"].is_null()) expected.insert(entry["id"].get<std::string>());
  }
  CHECK(expected.size() == static_cast<std::size_t>(kPairs * 3 + wrong_codes));

  auto missing = [&] {
    const auto counts = receiver.counts();
    std::size_t absent = 0;
    for (const auto& id : expected) absent += counts.count(id) ? 0 : 1;
    return absent;
  };
  const bool all = wait_until([&] { return missing() == 0; }, 30s);
  const double delivered_after = seconds_since(started);
  std::this_thread::sleep_for(2s);  // late duplicates, if any, arrive now
  CHECK_MESSAGE(all, "missing " << missing() << " of " << expected.size() << " events");
  if (!all) {
    // Where the lost ones are: their seq against the outbox cursor, and their delivery rows.
    storage::PgConnection db(cluster.url());
    const auto counts = receiver.counts();
    MESSAGE("outbox cursor: " << db.query_int64("SELECT coalesce(max(seq), -1) FROM outbox_cursors") << ", events: "
                              << db.query_int64("SELECT count(*) FROM events") << ", max seq "
                              << db.query_int64("SELECT max(seq) FROM events") << ", delivery rows: "
                              << db.query_int64("SELECT count(*) FROM webhook_deliveries"));
    for (const auto& id : expected) {
      if (counts.count(id)) continue;
      if (std::getenv("COBINAR_TEST_AUDIT")) {
        std::system(("psql '" + cluster.url() + "' -c \"COPY (SELECT n, at, pid, xid, what FROM audit_log ORDER BY n) TO STDOUT\" > /tmp/audit-" + id + ".tsv; psql '" + cluster.url() + "' -Atc \"SELECT seq, id, type FROM events ORDER BY seq\" > /tmp/events-" + id + ".txt").c_str());
      }
      MESSAGE("lost event " << id << ": seq " << db.query_int64("SELECT seq FROM events WHERE id = '" + id + "'")
                            << ", delivery rows " << db.query_int64("SELECT count(*) FROM webhook_deliveries WHERE event_id = '" + id + "'"));
    }
  }

  const auto counts = receiver.counts();
  const auto bodies = receiver.bodies();
  int duplicates = 0, extra = 0;
  std::map<std::string, int> by_event;
  for (const auto& [id, count] : counts) {
    duplicates += count - 1;
    if (!expected.count(id)) {
      ++extra;
      MESSAGE("delivered an event outside the traffic: " << bodies.at(id).dump());
    }
    ++by_event[bodies.at(id)["event"].get<std::string>()];
  }
  std::string events;
  for (const auto& [event, count] : by_event) events += event + "=" + std::to_string(count) + " ";
  MESSAGE("deliveries: " << receiver.total() << " for " << counts.size() << " events (" << events << "), duplicates "
                         << duplicates << ", all delivered after " << delivered_after << " s (traffic took "
                         << traffic_took << " s); delivered by A: "
                         << a.metric("cobinar_webhook_delivery_attempts_total", "outcome=\"delivered\"")
                         << ", by B: " << b.metric("cobinar_webhook_delivery_attempts_total", "outcome=\"delivered\""));
  const auto latencies = receiver.latencies();
  if (!latencies.empty()) {
    MESSAGE("event → delivery latency: median " << latencies[latencies.size() / 2] << " s, max " << latencies.back()
                                               << " s");
  }
  CHECK(receiver.malformed() == 0);
  CHECK(receiver.mismatched() == 0);
  CHECK(duplicates <= static_cast<int>(expected.size()) / 20);
  CHECK(extra == 0);

  // Each delivery row is settled as succeeded, one per event.
  const auto deliveries = list_all(a.port(), "/v1/webhooks/" + hook.data()["id"].get<std::string>() + "/deliveries",
                                   tenant.console);
  std::map<std::string, int> rows_per_event;
  int succeeded = 0;
  for (const auto& delivery : deliveries) {
    ++rows_per_event[delivery["eventId"].get<std::string>()];
    if (delivery["status"] == "succeeded") ++succeeded;
    if (delivery["attempts"] != 1) MESSAGE("delivery attempted more than once: " << delivery.dump());
  }
  CHECK(deliveries.size() == counts.size());
  CHECK(rows_per_event.size() == deliveries.size());
  CHECK(succeeded == static_cast<int>(deliveries.size()));

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: kill -9 of one node during deliveries — the other finishes them") {
  if (!postgres_configured()) return;
  // A receiver that is down in the slow way: its port takes connections and never answers,
  // so each attempt holds its claim until the 10 s timeout.
  // (SOCK_CLOEXEC: the nodes spawned meanwhile must not inherit it and keep the port.)
  const int blackhole = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int on = 1;
  ::setsockopt(blackhole, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(blackhole, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(blackhole, 128) == 0);
  socklen_t length = sizeof address;
  ::getsockname(blackhole, reinterpret_cast<sockaddr*>(&address), &length);
  const int receiver_port = ntohs(address.sin_port);
  bool blackhole_open = true;
  struct CloseBlackhole {
    int fd;
    bool& open;
    ~CloseBlackhole() {
      if (open) ::close(fd);
    }
  } close_blackhole{blackhole, blackhole_open};

  Cluster cluster({"--webhook-allow-http", "--webhook-allow-private", "--webhook-lease", "16",
                   "--webhook-retry-schedule", "1,1,1,1,1,1,1,1,1,1", "--send-rate-limit", "1000"});
  storage::PgConnection db(cluster.url());
  Node& a = cluster.start("A");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());
  const auto hook = post(a.port(), "/v1/webhooks", tenant.console,
                         {{"appId", app.id()},
                          {"url", "http://127.0.0.1:" + std::to_string(receiver_port) + "/hooks"},
                          {"events", {"otp.created"}}});
  REQUIRE_MESSAGE(hook.status == 201, hook.body.dump());

  // Wave 1 while only A runs: A's workers claim its deliveries and hang on the receiver.
  std::set<std::string> request_ids;
  for (int i = 0; i < 6; ++i) request_ids.insert(send_code(a.port(), app, virtual_phone(i)).request_id);
  REQUIRE_MESSAGE(wait_until([&] { return db.query_int64(kLeasedSql) == 6; }, 10s),
                  "A did not claim wave 1; leased: " << db.query_int64(kLeasedSql));

  // Wave 2 through B, while both run.
  Node& b = cluster.start("B");
  for (int i = 6; i < 12; ++i) request_ids.insert(send_code(b.port(), app, virtual_phone(i)).request_id);
  REQUIRE(wait_until([&] { return db.query_int64("SELECT count(*) FROM webhook_deliveries") == 12; }, 10s));
  std::this_thread::sleep_for(300ms);  // B's workers claim and attempt wave 2
  const long long leased = db.query_int64(kLeasedSql);
  MESSAGE("deliveries leased when A is killed: " << leased << " of 12");
  CHECK(leased >= 6);

  const auto killed = Clock::now();
  a.kill();
  // The receiver comes up on the same port.
  ::close(blackhole);
  blackhole_open = false;
  std::set<std::string> delivered;
  Receiver receiver(receiver_port);
  auto delivered_requests = [&] {
    std::set<std::string> ids;
    for (const auto& [id, body] : receiver.bodies()) ids.insert(body["payload"]["requestId"].get<std::string>());
    return ids;
  };
  const bool all = wait_until([&] { return delivered_requests() == request_ids; }, 45s);
  const double took = seconds_since(killed);
  CHECK_MESSAGE(all, "delivered " << delivered_requests().size() << " of " << request_ids.size() << "\n" << b.log());
  int duplicates = 0;
  for (const auto& [id, count] : receiver.counts()) duplicates += count - 1;
  MESSAGE("B delivered all 12 events " << took << " s after A was killed; duplicates " << duplicates);

  // A worker records its batch's outcomes after the batch's last attempt: give it a moment.
  const std::string deliveries_path = "/v1/webhooks/" + hook.data()["id"].get<std::string>() + "/deliveries";
  std::vector<Json> deliveries;
  wait_until(
      [&] {
        deliveries = list_all(b.port(), deliveries_path, tenant.console);
        return std::all_of(deliveries.begin(), deliveries.end(), [](const Json& d) { return d["status"] == "succeeded"; });
      },
      10s);
  CHECK(deliveries.size() == 12);
  for (const auto& delivery : deliveries) CHECK_MESSAGE(delivery["status"] == "succeeded", delivery.dump());
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: kill -9 under load loses no answered write") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "1000000", "--verify-rate-limit", "1000000", "--phone-send-limit", "1000"});
  Node& a = cluster.start("A");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());

  // Request id → verified, for every answered 201 (and 200).
  std::mutex mutex;
  std::map<std::string, bool> answered;
  std::atomic<bool> stop{false};
  std::atomic<int> unanswered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const auto sent = post(a.port(), "/v1/otp/send", app.credentials(), {{"phone", virtual_phone(t * 100000 + i)}});
        if (sent.status != 201) {
          if (sent.status == 0) {
            ++unanswered;
            std::this_thread::sleep_for(10ms);  // the node is gone: no need to spin
          }
          continue;
        }
        const std::string id = sent.data()["requestId"];
        {
          std::lock_guard lock(mutex);
          answered[id] = false;
        }
        if (i % 2) continue;  // half stay pending
        const auto verified = verify(a.port(), app, id, sent.data()["testCode"]);
        if (verified.status == 200) {
          std::lock_guard lock(mutex);
          answered[id] = true;
        } else if (verified.status == 0) {
          ++unanswered;
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  a.kill();
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& client : clients) client.join();

  std::size_t verified_count = 0;
  for (const auto& [id, verified] : answered) verified_count += verified ? 1 : 0;
  MESSAGE("answered before the kill: " << answered.size() << " sends, " << verified_count << " verifies; "
                                       << unanswered.load() << " requests unanswered");
  CHECK(answered.size() >= 20);

  Node& c = cluster.start("C");
  int lost = 0, wrong_status = 0;
  auto client = client_for(c.port());
  client.set_keep_alive(true);
  for (const auto& [id, verified] : answered) {
    const auto read = to_answer(client.Get("/v1/otp/" + id, tenant.console));
    if (read.status != 200) {
      ++lost;
      MESSAGE("lost " << id << ": " << read.status << " " << read.body.dump());
      continue;
    }
    const std::string status = read.data()["status"];
    const bool ok = verified ? status == "verified" : (status == "pending" || status == "verified");
    if (!ok) {
      ++wrong_status;
      MESSAGE(id << " answered " << (verified ? "verified" : "pending") << ", reads " << status);
    }
  }
  CHECK(lost == 0);
  CHECK(wrong_status == 0);
  CHECK(c.stop() == 0);
}

TEST_CASE("postgres: migrate-data copies an SQLite database into PostgreSQL and a node serves it") {
  if (!postgres_configured()) return;
  testing::TempDir dir;
  const std::string sqlite = dir.file("data.sqlite");
  const std::string key = sqlite + ".key";
  testing::TempPostgresDatabase target;

  // Before: a server on the SQLite file, one app, one verified code.
  std::string old_token;
  App app;
  Sent first;
  {
    testing::Process server(binary(), {"--db", sqlite, "--listen", "127.0.0.1:0"});
    const int port = start_and_wait(server);
    const Tenant tenant = create_tenant(
        [&](std::vector<std::string> args) {
          args.insert(args.end(), {"--db", sqlite});
          return testing::run_binary(binary(), args);
        },
        port);
    old_token = tenant.console.find("Authorization")->second;
    app = create_app(port, tenant);
    first = send_code(port, app, "+999 482 918 102");
    REQUIRE(verify(port, app, first.request_id, first.code).status == 200);

    // Not while a server writes to the file.
    const auto refused = testing::run_binary(binary(), {"migrate-data", "--from", sqlite, "--to", target.url()});
    CHECK(refused.code == 1);
    CHECK_MESSAGE(refused.err.find("stop it before migrate-data") != std::string::npos, refused.err);

    server.signal(SIGTERM);
    REQUIRE(server.wait(15s) == 0);
  }

  const auto migrated = testing::run_binary(binary(), {"migrate-data", "--from", sqlite, "--to", target.url()});
  REQUIRE_MESSAGE(migrated.code == 0, migrated.err);
  const auto report = Json::parse(migrated.out, nullptr, false);
  REQUIRE_MESSAGE(report.is_object(), migrated.out);
  REQUIRE(report.contains("rows"));
  CHECK(report["rows"]["developers"] == 1);
  CHECK(report["rows"]["applications"] == 1);
  CHECK(report["rows"]["otp_requests"] == 1);
  CHECK(report["rows"]["identities"] == 1);
  CHECK(report["keyFile"] == key);

  // Two nodes serve the copy with the SQLite server's key.
  const std::vector<std::string> args = {"--db", target.url(), "--key-file", key, "--listen", "127.0.0.1:0"};
  Node a("A", args);
  Node b("B", args);
  INFO(a.log() << "\n" << b.log());
  const httplib::Headers console = {{"Authorization", old_token}};

  // The token issued before the move still signs in; the history and the identity are there.
  const auto requests = get(a.port(), "/v1/otp", console);
  REQUIRE_MESSAGE(requests.status == 200, requests.body.dump());
  REQUIRE(requests.data().size() == 1);
  CHECK(requests.data()[0]["id"] == first.request_id);
  CHECK(requests.data()[0]["status"] == "verified");
  const auto users = get(b.port(), "/v1/users", console);
  REQUIRE(users.status == 200);
  REQUIRE(users.data().size() == 1);
  CHECK(users.data()[0]["phoneNumber"] == "+999 482 918 102");
  CHECK(users.data()[0]["verificationCount"] == 1);

  // The old app's credentials send and verify; the identity is updated, not duplicated.
  const Sent again = send_code(b.port(), app, "+999 482 918 102");
  const auto verified = verify(a.port(), app, again.request_id, again.code);
  CHECK_MESSAGE(verified.status == 200, verified.body.dump());
  const auto identity = get(a.port(), "/v1/users/%2B999482918102", console);
  CHECK(identity.data()["verificationCount"] == 2);
  // New events follow the copied ones (the event sequence moved past them).
  const auto logs = get(a.port(), "/v1/logs", console).data();
  REQUIRE(logs.size() >= 4);
  CHECK(logs[0]["requestId"] == again.request_id);
  CHECK(logs[logs.size() - 1]["requestId"] == first.request_id);

  // A fresh token from the CLI on the PostgreSQL database works too.
  const auto token = testing::run_binary(binary(), {"token", "--email", "ops@example.com", "--db", target.url(), "--key-file", key});
  REQUIRE_MESSAGE(token.code == 0, token.err);
  const auto me = get(b.port(), "/v1/developer/me", bearer_of(token.out));
  CHECK(me.status == 200);
  CHECK(me.data()["email"] == "ops@example.com");

  // It only fills an empty database.
  const auto twice = testing::run_binary(binary(), {"migrate-data", "--from", sqlite, "--to", target.url()});
  CHECK(twice.code == 1);
  CHECK_MESSAGE(twice.err.find("already holds developers") != std::string::npos, twice.err);
  CHECK(get(a.port(), "/v1/otp", console).data().size() == 2);

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

namespace {

// One exchange with its body's bytes as sent (for byte-for-byte comparisons).
struct RawAnswer {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  bool replayed() const { return headers.count("Idempotent-Replayed") > 0; }
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string error_code() const {
    const auto parsed = Json::parse(body, nullptr, false);
    return parsed.is_object() && parsed.contains("error") ? parsed["error"].value("code", "") : "";
  }
};

RawAnswer raw_post(int port, const std::string& path, const httplib::Headers& headers, const std::string& body) {
  auto client = client_for(port);
  const auto result = client.Post(path, headers, body, "application/json");
  if (!result) return {};
  return {result->status, result->body, result->headers};
}

httplib::Headers with_key(httplib::Headers headers, const std::string& key) {
  headers.emplace("Idempotency-Key", key);
  return headers;
}

// The kid in a compact JWS's header.
std::string kid_of(const std::string& token) {
  const auto header = core::base64url_decode(token.substr(0, token.find('.')));
  REQUIRE(header);
  return Json::parse(*header).value("kid", "");
}

std::set<std::string> jwks_kids(int port) {
  std::set<std::string> kids;
  const auto jwks = get(port, "/.well-known/jwks.json", {});
  if (jwks.status != 200) return kids;
  for (const auto& key : jwks.body["keys"]) kids.insert(key["kid"].get<std::string>());
  return kids;
}

}  // namespace

TEST_CASE("postgres: one Idempotency-Key, one effect across two nodes") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "100000", "--phone-send-limit", "1000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());

  constexpr int kRounds = 8;
  constexpr int kPerNode = 2;  // concurrent requests per node and round
  int conflicts = 0, replays = 0;
  std::map<std::string, std::string> phone_of_round;
  for (int round = 0; round < kRounds; ++round) {
    CAPTURE(round);
    const std::string key = "pg-send-" + std::to_string(round);
    const std::string phone = virtual_phone(700 + round);
    const std::string body = Json{{"phone", phone}}.dump();
    phone_of_round[key] = phone;

    // The same keyed send, released at once on both nodes.
    std::vector<RawAnswer> answers(2 * kPerNode);
    std::vector<int> ports(2 * kPerNode);
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int i = 0; i < 2 * kPerNode; ++i) {
      ports[i] = i % 2 ? b.port() : a.port();
      pool.emplace_back([&, i] {
        auto client = client_for(ports[i]);
        ++ready;
        while (!go) std::this_thread::yield();
        const auto result = client.Post("/v1/otp/send", with_key(app.credentials(), key), body, "application/json");
        if (result) answers[i] = {result->status, result->body, result->headers};
      });
    }
    while (ready < 2 * kPerNode) std::this_thread::yield();
    go = true;
    for (auto& thread : pool) thread.join();

    // One first answer (no header), the same bytes replayed, or "in use, retry in 1 s".
    std::optional<std::string> created;
    int first_answers = 0;
    for (const auto& answer : answers) {
      if (answer.status == 201 && !answer.replayed()) {
        ++first_answers;
        created = answer.body;
      }
    }
    REQUIRE_MESSAGE(first_answers == 1, "answers: " << [&] {
      std::string text;
      for (const auto& answer : answers) text += std::to_string(answer.status) + " " + answer.body + "\n";
      return text;
    }());
    for (std::size_t i = 0; i < answers.size(); ++i) {
      const auto& answer = answers[i];
      CAPTURE(i);
      CAPTURE(answer.body);
      if (answer.status == 201) {
        CHECK(answer.body == *created);
        if (answer.replayed()) {
          ++replays;
          CHECK(answer.header("Idempotent-Replayed") == "true");
        }
        continue;
      }
      ++conflicts;
      CHECK(answer.status == 409);
      CHECK(answer.error_code() == "IDEMPOTENCY_KEY_IN_USE");
      CHECK(answer.header("Retry-After") == "1");
      // The retry the 409 asks for (on the same node) replays the 201.
      const auto retried = raw_post(ports[i], "/v1/otp/send", with_key(app.credentials(), key), body);
      CHECK(retried.status == 201);
      CHECK(retried.replayed());
      CHECK(retried.body == *created);
    }
    // Either node replays it afterwards.
    for (const int port : {a.port(), b.port()}) {
      const auto later = raw_post(port, "/v1/otp/send", with_key(app.credentials(), key), body);
      CHECK(later.status == 201);
      CHECK(later.replayed());
      CHECK(later.body == *created);
    }
  }
  MESSAGE(kRounds << " rounds of " << 2 * kPerNode << " concurrent keyed sends: " << replays << " replays, "
                  << conflicts << " answered 409 IDEMPOTENCY_KEY_IN_USE");

  // One key, one OTP request.
  std::map<std::string, int> per_phone;
  for (const auto& request : list_all(b.port(), "/v1/otp?appId=" + app.id(), tenant.console)) {
    std::string phone = request["phone"];
    phone.erase(std::remove(phone.begin(), phone.end(), ' '), phone.end());
    ++per_phone[phone];
  }
  for (const auto& [key, phone] : phone_of_round) {
    CAPTURE(key);
    CHECK(per_phone[phone] == 1);
  }
  CHECK(per_phone.size() == phone_of_round.size());

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("postgres: a key rotated through one node is followed by the other within 5 s") {
  if (!postgres_configured()) return;
  Cluster cluster({"--send-rate-limit", "100000", "--phone-send-limit", "1000", "--verify-rate-limit", "100000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  const App app = create_app(a.port(), tenant);
  INFO(cluster.logs());
  long long phone = 800;
  // Sent through one node, verified through the other: the receipt's kid.
  auto receipt_kid = [&](Node& sender, Node& verifier) {
    const Sent sent = send_code(sender.port(), app, virtual_phone(++phone));
    const auto verified = verify(verifier.port(), app, sent.request_id, sent.code);
    REQUIRE_MESSAGE(verified.status == 200, verified.body.dump());
    return kid_of(verified.data()["receipt"]);
  };

  // Both nodes start on one key ring: the same signing key.
  const auto listed = cluster.cli({"receipt-keys", "list"});
  REQUIRE_MESSAGE(listed.code == 0, listed.err);
  const Json initial = Json::parse(listed.out);
  REQUIRE(initial.size() == 1);
  const std::string old_kid = initial[0]["kid"];
  CHECK(jwks_kids(a.port()) == std::set<std::string>{old_kid});
  CHECK(jwks_kids(b.port()) == std::set<std::string>{old_kid});
  CHECK(receipt_kid(a, b) == old_kid);
  CHECK(receipt_kid(b, a) == old_kid);

  // rotate with no publish delay: the new key signs at once, on every node within 5 s.
  const auto rotated = cluster.cli({"receipt-keys", "rotate", "--receipt-key-publish-seconds", "0"});
  REQUIRE_MESSAGE(rotated.code == 0, rotated.err);
  const auto rotated_at = Clock::now();
  const std::string new_kid = Json::parse(rotated.out)["kid"];
  CHECK(new_kid != old_kid);
  const std::set<std::string> both = {old_kid, new_kid};
  std::string kid_from_b, kid_from_a;
  CHECK(wait_until([&] { return jwks_kids(a.port()) == both && jwks_kids(b.port()) == both; }, 5s));
  CHECK(wait_until([&] { return (kid_from_b = receipt_kid(a, b)) == new_kid; }, 5s));
  CHECK(wait_until([&] { return (kid_from_a = receipt_kid(b, a)) == new_kid; }, 5s));
  CHECK(kid_from_b == new_kid);
  CHECK(kid_from_a == new_kid);
  MESSAGE("both nodes signed with the rotated key " << seconds_since(rotated_at) << " s after the rotate");
  CHECK(seconds_since(rotated_at) < 5.5);

  // retire the old key: gone from both nodes' JWKS within 5 s.
  const auto retired = cluster.cli({"receipt-keys", "retire", "--kid", old_kid});
  REQUIRE_MESSAGE(retired.code == 0, retired.err);
  CHECK(wait_until(
      [&] {
        return jwks_kids(a.port()) == std::set<std::string>{new_kid} && jwks_kids(b.port()) == std::set<std::string>{new_kid};
      },
      5s));

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

namespace {

Answer put(int port, const std::string& path, const httplib::Headers& headers, const Json& body) {
  auto client = client_for(port);
  return to_answer(client.Put(path, headers, body.dump(), "application/json"));
}

Answer del(int port, const std::string& path, const httplib::Headers& headers) {
  auto client = client_for(port);
  return to_answer(client.Delete(path, headers));
}

}  // namespace

TEST_CASE("postgres: the abuse breaker and the daily budget are counted by both nodes together (SPEC §17)") {
  if (!postgres_configured()) return;
  Cluster cluster({"--sms-driver", "inbox", "--send-rate-limit", "100000", "--phone-send-limit", "1000",
                   "--verify-rate-limit", "100000"});
  Node& a = cluster.start("A");
  Node& b = cluster.start("B");
  const Tenant tenant = create_tenant(cluster, a.port());
  INFO(cluster.logs());

  // The breaker: 80 parallel sends to one prefix, alternating nodes, none verified. Exactly
  // minSends are accepted whichever node took them; the rest are refused with the same block.
  const App app = create_app(a.port(), tenant, "Pumped", "live");
  const std::string base = "/v1/applications/" + app.id();
  REQUIRE(put(b.port(), base + "/policy", tenant.console,
              {{"conversionBreaker", {{"minSends", 10}, {"prefixLength", 6}, {"blockSeconds", 3600}}}})
              .status == 200);
  std::vector<Answer> answers;
  const Tally pumped = in_parallel(
      8, 10,
      [&](int t, int r) {
        const int port = (t + r) % 2 == 0 ? a.port() : b.port();
        return post(port, "/v1/otp/send", app.credentials(), {{"phone", "+447400" + std::to_string(100000 + t * 100 + r)}});
      },
      &answers);
  MESSAGE("one prefix: " << describe(pumped));
  CHECK(pumped.at("201") == 10);
  CHECK(pumped.at("403 SEND_BLOCKED") == 70);
  CHECK(pumped.size() == 2);
  std::set<std::string> reopening;
  for (const auto& answer : answers) {
    if (answer.status != 403) continue;
    CHECK(answer.body["error"]["details"]["prefix"] == "+447400");
    CHECK(answer.body["error"]["details"]["sends"] == 10);
    reopening.insert(answer.body["error"]["details"]["reopensAt"].get<std::string>());
  }
  CHECK(reopening.size() == 1);  // one block, opened once
  // Both nodes list it; one lifts it; the other accepts the prefix again, judged afresh.
  const auto listed = get(a.port(), base + "/blocks", tenant.console);
  REQUIRE(listed.data().size() == 1);
  CHECK(listed.data()[0]["prefix"] == "+447400");
  CHECK(del(a.port(), base + "/blocks/%2B447400", tenant.console).status == 200);
  CHECK(get(b.port(), base + "/blocks", tenant.console).data().empty());
  CHECK(post(b.port(), "/v1/otp/send", app.credentials(), {{"phone", "+447400999001"}}).status == 201);
  CHECK(list_all(b.port(), "/v1/otp?appId=" + app.id(), tenant.console).size() == 11);

  // The daily budget: 40 parallel sends to distinct numbers across both nodes, budget 15.
  const App budgeted = create_app(b.port(), tenant, "Budgeted", "live");
  REQUIRE(put(a.port(), "/v1/applications/" + budgeted.id() + "/policy", tenant.console,
              {{"dailySendLimit", 15}, {"conversionBreaker", {{"enabled", false}}}})
              .status == 200);
  const Tally budget = in_parallel(8, 5, [&](int t, int r) {
    const int port = (t + r) % 2 == 0 ? a.port() : b.port();
    return post(port, "/v1/otp/send", budgeted.credentials(), {{"phone", "+4474" + std::to_string(10000000 + t * 1000 + r)}});
  });
  MESSAGE("daily budget: " << describe(budget));
  CHECK(budget.at("201") == 15);
  CHECK(budget.at("429 RATE_LIMITED") == 25);
  CHECK(list_all(a.port(), "/v1/otp?appId=" + budgeted.id(), tenant.console).size() == 15);

  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}
