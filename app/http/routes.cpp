#include "app/http/routes.h"

#include "app/http/handlers.h"
#include "app/http/idempotency.h"
#include "embedded/embedded.h"
#include "embedded/kConsoleFiles.h"

namespace app::http {

std::vector<Route> make_routes(const Services& services) {
  // One handler (and one table of files and tags) for both console routes.
  const Handler console = console_file(embedded::kConsoleFiles);
  const Handler to_console = console_redirect();
  // Idempotency-Key (SPEC §16) on send, verify and every console POST.
  const auto by_application = [&](Handler route) {
    return keyed_by_application(std::move(route), services.applications, services.idempotency);
  };
  const auto by_developer = [&](Handler route) {
    return keyed_by_developer(std::move(route), services.accounts, services.idempotency);
  };
  return {
      {"GET", "/v1/health", health_get(services.health)},
      {"GET", "/v1/openapi.json", openapi_get(embedded::kOpenApiJson)},

      {"GET", "/", to_console},
      {"GET", "/console", to_console},
      {"GET", "/console/", console},
      {"GET", "/console/{file}", console},

      {"POST", "/v1/auth/signup", auth_signup(services.accounts)},
      {"POST", "/v1/auth/login", auth_login(services.accounts)},
      {"POST", "/v1/auth/refresh", auth_refresh(services.accounts)},
      {"POST", "/v1/auth/logout", auth_logout(services.accounts)},
      {"GET", "/v1/developer/me", developer_me_get(services.accounts)},
      {"PATCH", "/v1/developer/me", developer_me_patch(services.accounts)},

      {"GET", "/v1/projects", projects_list(services.accounts, services.projects)},
      {"POST", "/v1/projects", by_developer(projects_create(services.accounts, services.projects))},
      {"GET", "/v1/projects/{id}", projects_get(services.accounts, services.projects)},
      {"PATCH", "/v1/projects/{id}", projects_update(services.accounts, services.projects)},
      {"DELETE", "/v1/projects/{id}", projects_delete(services.accounts, services.projects)},

      {"GET", "/v1/applications", applications_list(services.accounts, services.applications)},
      {"POST", "/v1/applications", by_developer(applications_create(services.accounts, services.applications))},
      {"GET", "/v1/applications/{id}", applications_get(services.accounts, services.applications)},
      {"PATCH", "/v1/applications/{id}", applications_update(services.accounts, services.applications)},
      {"DELETE", "/v1/applications/{id}", applications_delete(services.accounts, services.applications)},
      {"POST", "/v1/applications/{id}/rotate/{type}",
       by_developer(applications_rotate(services.accounts, services.applications))},
      {"GET", "/v1/applications/{id}/webhook-secret",
       applications_webhook_secret(services.accounts, services.applications)},
      {"GET", "/v1/applications/{id}/policy", applications_policy_get(services.accounts, services.applications)},
      {"PUT", "/v1/applications/{id}/policy", applications_policy_put(services.accounts, services.applications)},
      {"POST", "/v1/applications/{id}/policy/simulate",
       by_developer(applications_policy_simulate(services.accounts, services.abuse))},
      {"GET", "/v1/applications/{id}/blocks", applications_blocks_list(services.accounts, services.abuse)},
      {"DELETE", "/v1/applications/{id}/blocks/{prefix}", applications_blocks_lift(services.accounts, services.abuse)},

      {"POST", "/v1/otp/send", by_application(otp_send(services.applications, services.otp))},
      {"POST", "/v1/otp/verify", by_application(otp_verify(services.applications, services.otp))},
      {"GET", "/v1/otp", otp_list(services.accounts, services.otp)},
      {"GET", "/v1/otp/{id}", otp_get(services.accounts, services.otp)},
      {"GET", "/v1/inbox", inbox_list(services.accounts, services.otp)},
      {"GET", "/v1/users", users_list(services.accounts, services.otp)},
      {"GET", "/v1/users/{phoneNumber}", users_get(services.accounts, services.applications, services.otp)},
      {"GET", "/v1/phone-numbers/{number}", phone_numbers_get(services.accounts, services.applications, services.otp)},

      {"GET", "/v1/logs", logs_list(services.accounts, services.analytics)},
      {"GET", "/v1/analytics/summary", analytics_summary(services.accounts, services.analytics)},
      {"GET", "/v1/analytics/timeseries", analytics_timeseries(services.accounts, services.analytics)},

      {"GET", "/v1/webhooks", webhooks_list(services.accounts, services.webhooks)},
      {"POST", "/v1/webhooks", by_developer(webhooks_create(services.accounts, services.webhooks))},
      {"GET", "/v1/webhooks/{id}", webhooks_get(services.accounts, services.webhooks)},
      {"PATCH", "/v1/webhooks/{id}", webhooks_update(services.accounts, services.webhooks)},
      {"DELETE", "/v1/webhooks/{id}", webhooks_delete(services.accounts, services.webhooks)},
      {"POST", "/v1/webhooks/{id}/test", by_developer(webhooks_test(services.accounts, services.webhooks))},
      {"GET", "/v1/webhooks/{id}/deliveries", webhooks_deliveries(services.accounts, services.webhooks)},
      {"POST", "/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
       by_developer(webhooks_retry(services.accounts, services.webhooks))},

      {"GET", "/.well-known/jwks.json", jwks_get(services.receipts)},
      {"GET", "/v1/receipt-keys", receipt_keys_list(services.accounts, services.receipts)},
  };
}

}  // namespace app::http
