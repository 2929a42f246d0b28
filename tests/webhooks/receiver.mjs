// A customer's webhook receiver, verifying every delivery the way the README shows:
// with the public `standardwebhooks` package and with node:crypto for x-cobinar-signature.
// Usage: node receiver.mjs <webhook secret>
// Prints "listening <port>", then one JSON line per delivery: {ok, event, id, error?}.
import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";

const secret = process.argv[2];
const webhook = new Webhook(secret);

function cobinarSignatureOk(rawBody, header) {
  const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(rawBody).digest("hex"));
  return (header ?? "").split(" ").some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const result = { ok: false };
    try {
      const event = webhook.verify(rawBody, req.headers); // throws on a bad signature or timestamp
      if (!cobinarSignatureOk(rawBody, req.headers["x-cobinar-signature"])) throw new Error("x-cobinar-signature mismatch");
      if (req.headers["webhook-id"] !== event.id) throw new Error("webhook-id differs from the body id");
      Object.assign(result, { ok: true, event: event.event, id: event.id });
    } catch (error) {
      result.error = String(error.message ?? error);
    }
    console.log(JSON.stringify(result));
    res.writeHead(result.ok ? 204 : 400).end();
  });
});

server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
