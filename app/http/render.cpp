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

}  // namespace app::http
