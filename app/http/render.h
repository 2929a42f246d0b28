// Core values as the JSON objects of the SPEC. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "core/accounts.h"
#include "core/analytics.h"
#include "core/applications.h"
#include "core/otp.h"
#include "core/webhooks.h"
#include "core/projects.h"

namespace app::http {

nlohmann::json developer_json(const core::Developer& developer);
nlohmann::json session_json(const core::Session& session);
nlohmann::json project_json(const core::Project& project);
nlohmann::json application_json(const core::Application& application);
nlohmann::json created_application_json(const core::CreatedApplication& created);
nlohmann::json otp_json(const core::OtpRequest& request);
nlohmann::json send_json(const core::SendResult& sent);
nlohmann::json verify_json(const core::Verification& verification);
// A receipt key as `receipt-keys list` and GET /v1/receipt-keys show it.
nlohmann::json receipt_key_json(const core::ReceiptKeyInfo& key);
nlohmann::json inbox_json(const core::InboxMessage& message);
nlohmann::json identity_json(const core::Identity& identity);
nlohmann::json policy_json(const core::PolicyView& view);
// SPEC §17: an open block of the breaker, and the what-if replay's figures.
nlohmann::json block_json(const core::PrefixBlock& block);
nlohmann::json simulation_json(const core::SimulationResult& result);
nlohmann::json phone_lookup_json(const core::PhoneInfo& info);
nlohmann::json webhook_json(const core::Webhook& webhook);
nlohmann::json log_json(const core::LogEntry& entry);
nlohmann::json delivery_json(const core::WebhookDelivery& delivery);

// Renders each item of a page with `render` into a list reply.
template <typename T, typename Render>
nlohmann::json page_items(const core::Page<T>& page, Render render) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : page.items) items.push_back(render(item));
  return items;
}

}  // namespace app::http
