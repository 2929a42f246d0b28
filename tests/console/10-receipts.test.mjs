// Signed receipts (SPEC §16) on a fresh server: sign up → project → test application → in its
// credentials dialog, "Send a test code" and "Verify code" → the verify answer's receipt is shown
// decoded: its header (ES256, kid, typ) and claims (aud = the client ID, phone_number_verified
// true, the phone in E.164, jti = the request) and when it expires; the receipt verifies with
// the key at /.well-known/jwks.json → Receipt keys: one key, signing, the one that signed it, as
// `cobinar-phone receipt-keys list` says.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify as verifySignature } from "node:crypto";
import {
  EMAIL,
  PASSWORD,
  PHONE,
  button,
  checkA11y,
  closeBrowser,
  closeDialog,
  createApplicationUI,
  createProjectUI,
  credentialsInDialog,
  dialog,
  eventually,
  expectSignInForm,
  expectText,
  field,
  goTo,
  journey,
  navLink,
  openConsole,
  runCommand,
  screenshot,
  startServer,
  valueOf,
} from "./support.mjs";

const step = journey("receipts");
let server;
let session;
let clientId;
let sent;
let verified;
let decoded;

/** The JSON object in one base64url part of a compact JWS. */
const part = (jws, index) => JSON.parse(Buffer.from(jws.split(".")[index], "base64url").toString("utf8"));

/** The open dialog's receipt (a region named by its heading) and one of its groups. */
const receiptRegion = (page) => dialog(page).getByRole("region", { name: "Signed receipt", exact: true });
const receiptGroup = (page, name) => receiptRegion(page).getByRole("group", { name, exact: true });

before(async () => {
  server = await startServer();
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

step("sign up, create a project and a test application", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await field(page, "Email").fill(EMAIL);
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign up").click();
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
  await createProjectUI(page, "Onboarding");
  await createApplicationUI(page, "Sign-up check", "Onboarding", "test");
  clientId = (await credentialsInDialog(page)).clientId;
  assert.match(clientId ?? "", /^ph_test_client_[0-9a-f]{48}$/);
});

step("send a test code from the credentials dialog", async () => {
  const { page } = session;
  const d = dialog(page);
  await field(d, "Phone number").fill(PHONE);
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/otp/send" && r.request().method() === "POST");
  await button(d, "Send a test code").click();
  const response = await answer;
  assert.equal(response.status(), 201, await response.text());
  sent = (await response.json()).data;
  assert.match(sent.testCode ?? "", /^\d{6}$/, "a test application's send answer carries testCode");
  // The Code field comes filled with the test code.
  const code = field(d, "Code");
  await code.waitFor({ state: "visible" });
  assert.equal(await valueOf(code), sent.testCode);
});

step("verify it: the receipt's header and claims are shown, decoded", async () => {
  const { page } = session;
  const d = dialog(page);
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === "/v1/otp/verify" && r.request().method() === "POST");
  await button(d, "Verify code").click();
  const response = await answer;
  assert.equal(response.status(), 200, await response.text());
  assert.equal(response.headers()["idempotent-replayed"], undefined, "a first answer is marked as replayed");
  verified = (await response.json()).data;
  assert.equal(verified.status, "verified");
  assert.match(verified.receipt ?? "", /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "no compact JWS in the verify answer");
  assert.ok(!Number.isNaN(Date.parse(verified.receiptExpiresAt)), `receiptExpiresAt: ${verified.receiptExpiresAt}`);
  decoded = { header: part(verified.receipt, 0), claims: part(verified.receipt, 1) };

  // What the server signed (the contract), before what the console shows of it.
  assert.equal(decoded.header.alg, "ES256");
  assert.equal(decoded.header.typ, "phone-verification+jwt");
  assert.ok(decoded.header.kid, "no kid in the receipt's header");
  assert.equal(decoded.claims.aud, clientId);
  assert.equal(decoded.claims.phone_number_verified, true);
  assert.equal(decoded.claims.phone_number, PHONE.replace(/\s+/g, ""));
  assert.equal(decoded.claims.sub, decoded.claims.phone_number);
  assert.deepEqual(decoded.claims.amr, ["otp", "sms"]);
  assert.equal(decoded.claims.jti, sent.requestId);
  assert.equal(decoded.claims.auth_time, Math.floor(Date.parse(verified.verifiedAt) / 1000));
  assert.equal(decoded.claims.exp, Math.floor(Date.parse(verified.receiptExpiresAt) / 1000), "exp is not receiptExpiresAt");
  assert.ok(decoded.claims.exp > decoded.claims.iat, "exp is not after iat");
  assert.ok(!("nonce" in decoded.claims), "a nonce claim although the send carried none");

  await expectText(d.getByRole("status").filter({ hasText: /Verified/ }), /Verified: .*receipt/i);
  const header = receiptGroup(page, "Header");
  await expectText(header, /\balg ES256\b/);
  await expectText(header, /\btyp phone-verification\+jwt\b/);
  await expectText(header, `kid ${decoded.header.kid}`);
  const claims = receiptGroup(page, "Claims");
  await expectText(claims, `aud ${clientId}`);
  await expectText(claims, /\bphone_number_verified true\b/);
  await expectText(claims, `phone_number ${decoded.claims.phone_number}`);
  await expectText(claims, `jti ${sent.requestId}`);
  await expectText(claims, `iss ${decoded.claims.iss}`);
  await expectText(claims, /\bamr \["otp","sms"\]/);
  // When it expires (receiptExpiresAt), and the token itself, to paste into a backend's check.
  const expires = receiptRegion(page).locator("p").filter({ hasText: /expires/i }).locator(`time[datetime="${verified.receiptExpiresAt}"]`);
  assert.equal(await expires.count(), 1, "receiptExpiresAt is not shown");
  assert.equal(await valueOf(field(d, "Receipt (JWS)")), verified.receipt);
  // The key set's link opens a new tab: the dialog shows the credentials only once.
  const jwksLink = receiptRegion(page).getByRole("link", { name: /^\/\.well-known\/jwks\.json\b/ });
  assert.equal(await jwksLink.getAttribute("href"), "/.well-known/jwks.json");
  assert.equal(await jwksLink.getAttribute("target"), "_blank");
  await checkA11y(page, "credentials dialog with a decoded receipt");
  await receiptRegion(page).getByRole("heading", { name: "Signed receipt" }).scrollIntoViewIfNeeded();
  await screenshot(page, "receipt-decoded");
});

step.check("the receipt verifies with its key from /.well-known/jwks.json", async () => {
  const response = await fetch(`${server.origin}/.well-known/jwks.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("cache-control") ?? "", /\bpublic\b.*\bmax-age=300\b/);
  const { keys } = await response.json();
  const jwk = keys.find((k) => k.kid === decoded.header.kid);
  assert.ok(jwk, `the receipt's kid ${decoded.header.kid} is not in the JWKS: ${JSON.stringify(keys)}`);
  assert.deepEqual({ kty: jwk.kty, crv: jwk.crv, alg: jwk.alg, use: jwk.use }, { kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
  const [head, body, signature] = verified.receipt.split(".");
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: "jwk" });
  const ok = verifySignature("sha256", Buffer.from(`${head}.${body}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));
  assert.ok(ok, "the receipt's ES256 signature does not verify with the published key");
});

step("Receipt keys: one key, signing, the one that signed the receipt", async () => {
  const { page } = session;
  await closeDialog(page);
  await goTo(page, "Receipt keys");
  const main = page.getByRole("main");
  const rows = main.locator("table tbody tr");
  await eventually(async () => assert.equal(await rows.count(), 1, "expected exactly one receipt key"));
  const cells = (await rows.first().locator("th, td").allInnerTexts()).map((t) => t.trim());
  assert.equal(cells[0], decoded.header.kid, `the key's kid: ${JSON.stringify(cells)}`);
  assert.equal(cells[1], "signing", `the key's state: ${JSON.stringify(cells)}`);
  assert.equal(await main.getByRole("link", { name: "/.well-known/jwks.json", exact: true }).getAttribute("href"), "/.well-known/jwks.json");
  await checkA11y(page, "Receipt keys");
  await screenshot(page, "page-receipt-keys");
});

step.check("`cobinar-phone receipt-keys list` names the same key", async () => {
  const { code, stdout, stderr } = await runCommand(server, ["receipt-keys", "list"]);
  assert.equal(code, 0, stderr);
  const listed = JSON.parse(stdout);
  assert.ok(Array.isArray(listed), stdout);
  assert.deepEqual(
    listed.map((k) => [k.kid, k.state]),
    [[decoded.header.kid, "signing"]],
  );
});

step.check("no request left the server's origin; no script errors; no request failed", async () => {
  assert.deepEqual(session.foreign, []);
  assert.deepEqual(session.errors, []);
  assert.deepEqual(session.failures, [], "requests the console made failed");
});
