// Route handlers, grouped per resource. Each is thin: parse, call the core, render.
#pragma once

#include <span>
#include <string_view>

#include "app/http/reply.h"
#include "core/abuse_guard.h"
#include "core/accounts.h"
#include "core/analytics.h"
#include "core/applications.h"
#include "core/projects.h"
#include "core/receipts.h"
#include "core/health.h"
#include "core/otp.h"
#include "core/webhooks.h"
#include "embedded/kConsoleFiles.h"

namespace app::http {

// GET /v1/health
Handler health_get(const core::HealthService& health);
// GET /v1/openapi.json
Handler openapi_get(std::string_view document);
// GET / and GET /console: a redirect to /console/
Handler console_redirect();
// GET /console/ (index.html) and GET /console/{file}: the embedded console
Handler console_file(std::span<const embedded::File> files);

// POST /v1/auth/signup, /login, /refresh, /logout
Handler auth_signup(core::AccountService& accounts);
Handler auth_login(core::AccountService& accounts);
Handler auth_refresh(core::AccountService& accounts);
Handler auth_logout(core::AccountService& accounts);
// GET, PATCH /v1/developer/me
Handler developer_me_get(core::AccountService& accounts);
Handler developer_me_patch(core::AccountService& accounts);

// /v1/projects[/{id}]
Handler projects_list(core::AccountService& accounts, core::ProjectService& projects);
Handler projects_create(core::AccountService& accounts, core::ProjectService& projects);
Handler projects_get(core::AccountService& accounts, core::ProjectService& projects);
Handler projects_update(core::AccountService& accounts, core::ProjectService& projects);
Handler projects_delete(core::AccountService& accounts, core::ProjectService& projects);

// /v1/applications[/{id}[/rotate/{type} | /webhook-secret]]
Handler applications_list(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_create(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_get(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_update(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_delete(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_rotate(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_webhook_secret(core::AccountService& accounts, core::ApplicationService& applications);
// GET, PUT /v1/applications/{id}/policy
Handler applications_policy_get(core::AccountService& accounts, core::ApplicationService& applications);
Handler applications_policy_put(core::AccountService& accounts, core::ApplicationService& applications);
// POST /v1/applications/{id}/policy/simulate, GET …/blocks, DELETE …/blocks/{prefix} (SPEC §17)
Handler applications_policy_simulate(core::AccountService& accounts, core::AbuseGuard& abuse);
Handler applications_blocks_list(core::AccountService& accounts, core::AbuseGuard& abuse);
Handler applications_blocks_lift(core::AccountService& accounts, core::AbuseGuard& abuse);

// /v1/otp/send, /v1/otp/verify (app auth); /v1/otp[/{id}], /v1/inbox, /v1/users[/{phone}] (console)
Handler otp_send(core::ApplicationService& applications, core::OtpService& otp);
Handler otp_verify(core::ApplicationService& applications, core::OtpService& otp);
Handler otp_list(core::AccountService& accounts, core::OtpService& otp);
Handler otp_get(core::AccountService& accounts, core::OtpService& otp);
Handler inbox_list(core::AccountService& accounts, core::OtpService& otp);
Handler users_list(core::AccountService& accounts, core::OtpService& otp);
Handler users_get(core::AccountService& accounts, core::ApplicationService& applications, core::OtpService& otp);
// GET /v1/phone-numbers/{number} (console auth or the API key alone)
Handler phone_numbers_get(core::AccountService& accounts, core::ApplicationService& applications, core::OtpService& otp);

// /v1/logs, /v1/analytics/summary, /v1/analytics/timeseries
Handler logs_list(core::AccountService& accounts, core::AnalyticsService& analytics);
Handler analytics_summary(core::AccountService& accounts, core::AnalyticsService& analytics);
Handler analytics_timeseries(core::AccountService& accounts, core::AnalyticsService& analytics);

// /v1/webhooks[/{id}[/test | /deliveries[/{deliveryId}/retry]]]
Handler webhooks_list(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_create(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_get(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_update(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_delete(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_test(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_deliveries(core::AccountService& accounts, core::WebhookService& webhooks);
Handler webhooks_retry(core::AccountService& accounts, core::WebhookService& webhooks);

// Receipts (SPEC §16): the public JWKS (no auth) and the key ring's states (console, read-only).
Handler jwks_get(core::ReceiptSigner& receipts);
Handler receipt_keys_list(core::AccountService& accounts, core::ReceiptSigner& receipts);

}  // namespace app::http
