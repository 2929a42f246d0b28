// Every route of the API, in one table.
#pragma once

#include <vector>

#include "app/http/router.h"
#include "core/abuse_guard.h"
#include "core/accounts.h"
#include "core/analytics.h"
#include "core/applications.h"
#include "core/projects.h"
#include "core/health.h"
#include "core/idempotency.h"
#include "core/otp.h"
#include "core/webhooks.h"

namespace app::http {

// The services the routes call; owned by the Application, outliving the server.
struct Services {
  const core::HealthService& health;
  core::AccountService& accounts;
  core::ProjectService& projects;
  core::ApplicationService& applications;
  core::OtpService& otp;
  core::WebhookService& webhooks;
  core::AnalyticsService& analytics;
  core::IdempotencyService& idempotency;
  core::ReceiptSigner& receipts;
  core::AbuseGuard& abuse;
};

std::vector<Route> make_routes(const Services& services);

}  // namespace app::http
