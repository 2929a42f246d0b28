#include "app/http/guard.h"
#include "app/http/handlers.h"
#include "app/http/render.h"
#include "app/http/router.h"

namespace app::http {

Handler jwks_get(core::ReceiptSigner& receipts) {
  return [&receipts](const HttpRequest&) -> core::Result<Reply> {
    // Verifiers cache it; a rotation publishes the next key long before it signs (SPEC §16).
    Reply reply = Reply::plain(reply_bytes(receipts.jwks()), "application/json; charset=utf-8");
    reply.headers.emplace_back("Cache-Control", "public, max-age=300");
    return reply;
  };
}

Handler receipt_keys_list(core::AccountService& accounts, core::ReceiptSigner& receipts) {
  return [&accounts, &receipts](const HttpRequest& request) -> core::Result<Reply> {
    auto developer = console_developer(request, accounts);
    if (!developer.ok()) return developer.error();
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& key : receipts.list()) keys.push_back(receipt_key_json(key));
    return Reply::data(std::move(keys));
  };
}

}  // namespace app::http
