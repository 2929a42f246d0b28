// A customer's backend checking a verification receipt (SPEC §16) the way the README shows:
// with the public `jose` package, fetching the server's JWKS.
// Usage: node verify-receipt.mjs <JWKS URL> <issuer> <audience> <receipt> [expected nonce]
// Prints one JSON line: {ok: true, payload, protectedHeader} or {ok: false, error, code}.
import { webcrypto } from "node:crypto";

// jose uses the Web Crypto global, which Node 18 (Debian bookworm's nodejs) only has behind a
// flag; it is imported once the global is there.
globalThis.crypto ??= webcrypto;
const { createRemoteJWKSet, jwtVerify } = await import("jose");

const [jwksUrl, issuer, audience, token, nonce] = process.argv.slice(2);

try {
  if (!token) throw new Error("usage: verify-receipt.mjs <JWKS URL> <issuer> <audience> <receipt> [nonce]");
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: "phone-verification+jwt",
    algorithms: ["ES256"],
  });
  if (nonce !== undefined && payload.nonce !== nonce) {
    throw new Error(`nonce mismatch: expected ${JSON.stringify(nonce)}, got ${JSON.stringify(payload.nonce)}`);
  }
  console.log(JSON.stringify({ ok: true, payload, protectedHeader }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), code: error?.code ?? null }));
}
