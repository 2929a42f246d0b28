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

}  // namespace app::http
