// The main journey on a fresh server: sign up → sign out → sign in → create a project →
// create a test application → copy its credentials from the dialog → send a code through the
// API with them → see it under OTP requests and in the Inbox → verify it → see it in Logs and
// on the Dashboard → sign out. Also: GET / redirects, the console's security headers, no
// request leaves the server's origin, the refresh token is not in localStorage.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  PHONE,
  api,
  button,
  closeBrowser,
  closeDialog,
  copyCredentialsFromDialog,
  createApplicationUI,
  createProjectUI,
  credentialsInDialog,
  eventually,
  expectSignInForm,
  expectText,
  field,
  goTo,
  journey,
  navLink,
  openConsole,
  screenshot,
  sendOtp,
  signIn,
  startServer,
  tableRow,
  verifyOtp,
} from "./support.mjs";

const step = journey("otp");
let server;
let session;
const email = EMAIL;
let credentials;
let sent;

before(async () => {
  server = await startServer();
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

step.check("GET / redirects to /console/", async () => {
  const r = await fetch(`${server.origin}/`, { redirect: "manual" });
  assert.ok([301, 302, 303, 307, 308].includes(r.status), `GET / answered ${r.status}`);
  assert.equal(new URL(r.headers.get("location"), server.origin).pathname, "/console/");
  assert.match(r.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, "the redirect has no CSP");
  // A browser following it lands on the console's sign-in form.
  const s = await openConsole(server);
  try {
    await s.page.goto(`${server.origin}/`);
    assert.equal(new URL(s.page.url()).pathname, "/console/");
    await expectSignInForm(s.page);
  } finally {
    await s.close();
  }
});

step.check("console responses carry CSP, nosniff and no-referrer", async () => {
  const checkHeaders = (what, headers) => {
    const csp = headers.get("content-security-policy") ?? "";
    assert.match(csp, /(^|;)\s*default-src 'self'(\s*;|$)/, `${what}: CSP ${csp}`);
    assert.match(csp, /(^|;)\s*frame-ancestors 'none'(\s*;|$)/, `${what}: CSP ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: CSP ${csp}`);
    assert.equal(headers.get("x-content-type-options"), "nosniff", what);
    assert.equal(headers.get("referrer-policy"), "no-referrer", what);
  };
  const index = await fetch(server.url);
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
  checkHeaders("/console/", index.headers);
  const html = await index.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>\s*\S/i, "inline script in index.html");
  // Every asset the page loads carries them too.
  const assets = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => new URL(m[1], server.url));
  assert.ok(assets.length > 0, "index.html loads no asset");
  for (const url of assets.filter((u) => u.origin === server.origin)) {
    const r = await fetch(url);
    assert.equal(r.status, 200, `${url.pathname} answered ${r.status}`);
    checkHeaders(url.pathname, r.headers);
  }
});

step("sign up through the console", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  // The sign-in form doubles as the sign-up form: the same two fields, then "Sign up".
  await field(page, "Email").fill(email);
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign up").click();
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
  await eventually(async () =>
    assert.ok(session.authResponses.some((r) => /signup$/.test(r.url) && r.status === 201), "no 201 from /v1/auth/signup"),
  );
  await expectText(page.locator("header"), email);
});

step("sign out, then sign in with the new account", async () => {
  const { page } = session;
  await button(page, "Sign out").click();
  await expectSignInForm(page);
  await signIn(page, email);
  await eventually(async () =>
    assert.ok(session.authResponses.some((r) => /login$/.test(r.url) && r.status === 200), "no 200 from /v1/auth/login"),
  );
});

step.check("the refresh token is not in localStorage", async () => {
  const { page } = session;
  const refreshTokens = session.authResponses.map((r) => r.body?.data?.refreshToken).filter(Boolean);
  assert.ok(refreshTokens.length > 0, "saw no refresh token in the sign-in answers");
  const stored = await page.evaluate(() => Object.entries(localStorage).map(([k, v]) => `${k}=${v}`).join("\n"));
  for (const token of refreshTokens) assert.ok(!stored.includes(token), "a refresh token is stored in localStorage");
});

step("create a project", async () => {
  await createProjectUI(session.page, "Checkout", "Phone checks at checkout");
});

step("create a test application; its dialog shows the credentials once", async () => {
  const { page } = session;
  await createApplicationUI(page, "Web shop", "Checkout", "test");
  const shown = await credentialsInDialog(page);
  assert.match(shown.clientId ?? "", /^ph_test_client_[0-9a-f]{48}$/);
  assert.match(shown.clientSecret ?? "", /^ph_test_secret_[0-9a-f]{48}$/);
  assert.match(shown.apiKey ?? "", /^ph_test_api_[0-9a-f]{48}$/);
  assert.match(shown.webhookSecret ?? "", /^whsec_[0-9a-f]{48}$/);
  await screenshot(page, "applications-credentials");
  // Copy each value with its Copy button; the clipboard holds exactly what the dialog shows.
  const copied = await copyCredentialsFromDialog(page);
  assert.equal(copied.clientId, shown.clientId);
  assert.equal(copied.clientSecret, shown.clientSecret);
  assert.equal(copied.apiKey, shown.apiKey);
  credentials = copied;
  await closeDialog(page);
  // Shown once: after closing, neither the secret nor the API key is anywhere on the page.
  const text = await page.locator("body").innerText();
  assert.ok(!text.includes(credentials.clientSecret), "client secret still shown after the dialog closed");
  assert.ok(!text.includes(credentials.apiKey), "API key still shown after the dialog closed");
  await expectText(tableRow(page.getByRole("main"), "Web shop"), /test/i);
});

step("send a code through the API with the copied credentials", async () => {
  const r = await sendOtp(server, credentials);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.match(r.body.data.testCode, /^\d{6}$/);
  sent = r.body.data;
});

step("the request shows under OTP requests, pending", async () => {
  const { page } = session;
  await goTo(page, "OTP requests");
  await expectText(tableRow(page.getByRole("main"), PHONE), /pending/i);
});

step("the message shows in the Inbox with its code", async () => {
  const { page } = session;
  await goTo(page, "Inbox");
  await expectText(tableRow(page.getByRole("main"), PHONE), sent.testCode);
});

step("verify the code through the API; OTP requests shows it verified", async () => {
  const { page } = session;
  const r = await verifyOtp(server, credentials, sent.requestId, sent.testCode);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.data.status, "verified");
  await goTo(page, "Dashboard");
  await goTo(page, "OTP requests");
  await expectText(tableRow(page.getByRole("main"), PHONE), /verified/i);
  await screenshot(page, "otp-requests");
});

step.check("the Inbox no longer shows the used code", async () => {
  const { page } = session;
  await goTo(page, "Inbox");
  const row = tableRow(page.getByRole("main"), PHONE);
  await expectText(row, "[expired]");
  assert.ok(!(await row.first().innerText()).includes(sent.testCode), "the verified code is still shown in the Inbox");
});

step("Logs list the send and the verification", async () => {
  const { page } = session;
  await goTo(page, "Logs");
  const main = page.getByRole("main");
  await expectText(tableRow(main, "otp.created"), PHONE);
  await expectText(tableRow(main, "otp.verified"), PHONE);
  await screenshot(page, "logs");
});

step.check("Users lists the verified phone", async () => {
  const { page } = session;
  await goTo(page, "Users");
  await expectText(tableRow(page.getByRole("main"), PHONE), PHONE);
});

step("Profile: change the name and Save", async () => {
  const { page } = session;
  await goTo(page, "Profile");
  const main = page.getByRole("main");
  await expectText(main, email);
  await expectText(main, /\+999 \d{3} \d{3} \d{3}/);
  await field(main, "Name").fill("Ada Lovelace");
  await button(main, "Save").click();
  await expectText(main.getByRole("status").filter({ hasText: /\S/ }), /saved/i);
  const token = session.authResponses.at(-1).body.data.idToken;
  await eventually(async () => {
    const me = await api(server, "GET", "/v1/developer/me", { token });
    assert.equal(me.body.data.name, "Ada Lovelace");
  });
});

step("the Dashboard counts the request and the verification", async () => {
  const { page } = session;
  await goTo(page, "Dashboard");
  const main = page.getByRole("main");
  await expectText(main, /100\s*%/);
  // A daily chart: an svg/canvas or a table of days.
  await eventually(async () => {
    const charts = await main.locator("svg, canvas, table, figure").count();
    assert.ok(charts > 0, "no chart on the dashboard");
  });
  const summary = await api(server, "GET", "/v1/analytics/summary", {
    token: session.authResponses.at(-1).body.data.idToken,
  });
  assert.equal(summary.body.data.otpRequests, 1);
  assert.equal(summary.body.data.otpVerified, 1);
  await screenshot(page, "dashboard");
});

step("Logs in live mode show a new event without reloading", async () => {
  const { page } = session;
  await goTo(page, "Logs");
  const main = page.getByRole("main");
  await expectText(tableRow(main, "otp.verified"), PHONE);
  await field(main, "Live mode").check();
  const other = "+999 123 456 780";
  const r = await sendOtp(server, credentials, other);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await expectText(tableRow(main, other), "otp.created", { timeout: 15_000 });
  await field(main, "Live mode").uncheck();
});

step.check("no request from the page went to another origin; no script errors", async () => {
  assert.deepEqual(session.foreign, []);
  assert.deepEqual(session.errors, []);
  assert.deepEqual(session.failures, [], "requests the console made failed");
});

step("sign out ends the session", async () => {
  const { page } = session;
  const refreshToken = session.authResponses.at(-1).body.data.refreshToken;
  await button(page, "Sign out").click();
  await expectSignInForm(page);
  // The server revoked the refresh token (POST /v1/auth/logout) ...
  await eventually(async () => {
    const r = await api(server, "POST", "/v1/auth/refresh", { body: { refreshToken } });
    assert.equal(r.status, 401, "the refresh token still works after Sign out");
  });
  // ... and a reload does not sign back in.
  await page.reload();
  await expectSignInForm(page);
  assert.equal(await navLink(page, "Dashboard").count(), 0);
});
