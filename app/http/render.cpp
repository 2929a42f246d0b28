#include "app/http/render.h"

#include "core/phone.h"

namespace app::http {

nlohmann::json developer_json(const core::Developer& developer) {
  return {{"id", developer.id},
          {"email", developer.email},
          {"name", developer.name},
          {"company", developer.company},
          {"plan", developer.plan},
          {"virtualPhoneNumber", core::display_phone(developer.virtual_phone)},
          {"createdAt", developer.created_at},
          {"updatedAt", developer.updated_at}};
}

nlohmann::json session_json(const core::Session& session) {
  return {{"idToken", session.id_token},
          {"refreshToken", session.refresh_token},
          {"expiresIn", session.expires_in},
          {"developer", developer_json(session.developer)}};
}

nlohmann::json project_json(const core::Project& project) {
  return {{"id", project.id},
          {"name", project.name},
          {"description", project.description},
          {"applicationCount", project.application_count},
          {"createdAt", project.created_at},
          {"updatedAt", project.updated_at}};
}

nlohmann::json application_json(const core::Application& application) {
  return {{"id", application.id},
          {"projectId", application.project_id},
          {"name", application.name},
          {"environment", application.environment},
          {"status", application.status},
          {"clientId", application.client_id},
          {"clientSecretPreview", application.client_secret_preview},
          {"apiKeyPreview", application.api_key_preview},
          {"createdAt", application.created_at},
          {"updatedAt", application.updated_at},
          {"rotatedAt", application.rotated_at ? nlohmann::json(*application.rotated_at) : nlohmann::json(nullptr)}};
}

nlohmann::json created_application_json(const core::CreatedApplication& created) {
  nlohmann::json body = application_json(created.application);
  body["clientSecret"] = created.client_secret;
  body["apiKey"] = created.api_key;
  body["webhookSecret"] = created.webhook_secret;
  body["warning"] =
      "Store the client secret and API key now: this is the only time they are shown. The webhook secret can be "
      "revealed again.";
  return body;
}

namespace {
nlohmann::json optional_json(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json otp_json(const core::OtpRequest& request) {
  return {{"id", request.id},
          {"requestId", request.id},
          {"appId", request.app_id},
          {"phone", core::display_phone(request.phone)},
          {"status", request.status},
          {"attempts", request.attempts},
          {"deliveryStatus", request.delivery_status},
          {"createdAt", request.created_at},
          {"expiresAt", request.expires_at},
          {"verifiedAt", optional_json(request.verified_at)},
          {"region", optional_json(request.region)},
          {"numberType", request.number_type}};
}

nlohmann::json send_json(const core::SendResult& sent) {
  nlohmann::json body = {{"requestId", sent.request.id},
                         {"phone", core::display_phone(sent.request.phone)},
                         {"status", sent.request.status},
                         {"expiresAt", sent.request.expires_at},
                         {"region", optional_json(sent.request.region)},
                         {"numberType", sent.request.number_type},
                         {"codeLength", sent.request.code_length},
                         {"codeAlphabet", sent.request.code_alphabet},
                         {"locale", optional_json(sent.request.locale)}};
  if (sent.test_code) body["testCode"] = *sent.test_code;
  return body;
}

nlohmann::json verify_json(const core::Verification& verification) {
  const core::OtpRequest& request = verification.request;
  nlohmann::json json = {{"requestId", request.id},
                         {"status", request.status},
                         {"phone", core::display_phone(request.phone)},
                         {"verifiedAt", optional_json(request.verified_at)}};
  if (verification.receipt) {
    json["receipt"] = verification.receipt->token;
    json["receiptExpiresAt"] = verification.receipt->expires_at;
  }
  return json;
}

nlohmann::json receipt_key_json(const core::ReceiptKeyInfo& key) {
  return {{"kid", key.kid}, {"state", key.state}, {"createdAt", key.created_at}};
}

nlohmann::json inbox_json(const core::InboxMessage& message) {
  return {{"id", message.id},
          {"appId", message.app_id},
          {"requestId", message.request_id},
          {"phone", core::display_phone(message.phone)},
          {"message", message.message},
          {"createdAt", message.created_at}};
}

nlohmann::json identity_json(const core::Identity& identity) {
  return {{"phoneNumber", core::display_phone(identity.phone)},
          {"createdAt", identity.created_at},
          {"lastVerifiedAt", identity.last_verified_at},
          {"verificationCount", identity.verification_count},
          {"lastApplicationId", identity.last_application_id},
          {"region", optional_json(identity.region)},
          {"numberType", identity.number_type}};
}

nlohmann::json policy_json(const core::PolicyView& view) {
  nlohmann::json body = core::policy_fields_json(view.policy);
  body["templatePreview"] = core::template_preview(view.policy, view.app_name);
  return body;
}

nlohmann::json phone_lookup_json(const core::PhoneInfo& info) {
  return {{"e164", optional_json(info.e164)},
          {"phone", info.e164 ? nlohmann::json(core::display_phone(*info.e164)) : nlohmann::json(nullptr)},
          {"valid", info.valid},
          {"possible", info.possible},
          {"reason", optional_json(info.reason)},
          {"region", optional_json(info.region)},
          {"countryCallingCode", info.country_code == 0 ? nlohmann::json(nullptr) : nlohmann::json(info.country_code)},
          {"numberType", info.number_type},
          {"nationalFormat", optional_json(info.national_format)},
          {"internationalFormat", optional_json(info.international_format)},
          {"metadataVersion", core::phone_metadata_version()}};
}

nlohmann::json log_json(const core::LogEntry& entry) {
  return {{"id", entry.id},
          {"event", entry.event},
          {"appId", entry.app_id},
          {"requestId", optional_json(entry.request_id)},
          {"phone", entry.phone ? nlohmann::json(core::display_phone(*entry.phone)) : nlohmann::json(nullptr)},
          {"status", optional_json(entry.status)},
          {"createdAt", entry.created_at},
          {"detail", entry.detail}};
}

nlohmann::json webhook_json(const core::Webhook& webhook) {
  return {{"id", webhook.id},         {"appId", webhook.app_id},         {"url", webhook.url},
          {"events", webhook.events}, {"status", webhook.status},        {"createdAt", webhook.created_at},
          {"updatedAt", webhook.updated_at}};
}

nlohmann::json delivery_json(const core::WebhookDelivery& delivery) {
  return {{"id", delivery.id},
          {"eventId", delivery.event_id},
          {"event", delivery.event},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"lastStatusCode", delivery.last_status_code ? nlohmann::json(*delivery.last_status_code) : nlohmann::json(nullptr)},
          {"lastError", optional_json(delivery.last_error)},
          {"lastDurationMs", delivery.last_duration_ms ? nlohmann::json(*delivery.last_duration_ms) : nlohmann::json(nullptr)},
          {"createdAt", delivery.created_at},
          {"lastAttemptAt", optional_json(delivery.last_attempt_at)},
          {"nextAttemptAt", optional_json(delivery.next_attempt_at)}};
}

nlohmann::json block_json(const core::PrefixBlock& block) {
  return {{"prefix", block.prefix},
          {"sends", block.sends},
          {"verified", block.verified},
          {"blockedAt", core::format_timestamp(block.blocked_at)},
          {"reopensAt", core::format_timestamp(block.reopens_at)}};
}

nlohmann::json simulation_json(const core::SimulationResult& result) {
  nlohmann::json blocked = nlohmann::json::object();
  for (core::BlockRule rule : core::kBlockRules) {
    blocked[std::string(core::block_rule_name(rule))] = result.blocked[static_cast<int>(rule)];
  }
  nlohmann::json prefixes = nlohmann::json::array();
  for (const auto& [prefix, at] : result.prefixes_blocked) {
    prefixes.push_back({{"prefix", prefix}, {"blockedAt", core::format_timestamp(at)}});
  }
  return {{"sends", result.sends},
          {"blocked", std::move(blocked)},
          {"verifiedBlocked", result.verified_blocked},
          {"prefixesBlocked", std::move(prefixes)}};
}

}  // namespace app::http
