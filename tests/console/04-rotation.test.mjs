// Rotation on a fresh server: rotating the client secret, then the API key, from the
// application's page shows the new value once (in a dialog, with Copy); the old credential
// stops working at once and the new one works. The webhook secret can be revealed, rotated,
// and revealed again.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  button,
  closeBrowser,
  closeDialog,
  dialog,
  eventually,
  expectText,
  field,
  goTo,
  journey,
  openConsole,
  readClipboard,
  seedApplication,
  seedProject,
  sendOtp,
  signIn,
  signUpViaApi,
  startServer,
  valueOf,
} from "./support.mjs";

const step = journey("rotation");
let server;
let session;
const email = EMAIL;
let app; // the seeded application with its original credentials
let current; // the credentials that work now

before(async () => {
  server = await startServer();
  const account = await signUpViaApi(server, email);
  const project = await seedProject(server, account.idToken, "Rotation project");
  app = await seedApplication(server, account.idToken, project.id, "Rotating app", "test");
  current = { clientId: app.clientId, clientSecret: app.clientSecret, apiKey: app.apiKey };
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

/** Rotates the credential of the fieldset named `label` and returns the value shown once. */
async function rotate(page, label, pattern) {
  const group = page.getByRole("main").getByRole("group", { name: label, exact: true });
  await button(group, "Rotate").click();
  const d = dialog(page);
  const shown = await valueOf(field(d, label).first());
  assert.match(shown, pattern, `the dialog's ${label}`);
  // Copy puts exactly that value on the clipboard.
  await page.evaluate(() => navigator.clipboard.writeText(""));
  await button(d, "Copy").first().click();
  await eventually(async () => assert.equal((await readClipboard(page)).trim(), shown));
  await closeDialog(page);
  return shown;
}

step("open the application's page", async () => {
  assert.equal((await sendOtp(server, current, "+999 100 000 001")).status, 201, "the seeded credentials do not work");
  session = await openConsole(server);
  const { page } = session;
  await signIn(page, email);
  await goTo(page, "Applications");
  await page.getByRole("main").getByRole("link", { name: "Rotating app", exact: true }).click();
  await page.getByRole("main").getByRole("heading", { level: 1, name: "Rotating app" }).waitFor();
});

step("rotate the client secret: the new value is shown once, the old one stops working", async () => {
  const { page } = session;
  const secret = await rotate(page, "Client secret", /^ph_test_secret_[0-9a-f]{48}$/);
  assert.notEqual(secret, app.clientSecret);
  const old = await sendOtp(server, current, "+999 100 000 002");
  assert.equal(old.status, 401, `the old client secret still works: ${JSON.stringify(old.body)}`);
  current = { ...current, clientSecret: secret };
  const fresh = await sendOtp(server, current, "+999 100 000 002");
  assert.equal(fresh.status, 201, `the new client secret does not work: ${JSON.stringify(fresh.body)}`);
  // Shown once: gone from the page once the dialog closed, also after a reload; the masked
  // preview shows the new value's last four characters.
  assert.ok(!(await page.locator("body").innerText()).includes(secret), "the new secret is still on the page");
  await page.reload();
  await page.getByRole("main").getByRole("heading", { level: 1, name: "Rotating app" }).waitFor();
  const text = await page.locator("body").innerText();
  assert.ok(!text.includes(secret), "the new secret is on the page after a reload");
  await expectText(page.getByRole("main"), secret.slice(-4));
});

step("rotate the API key: the new value is shown once, the old one stops working", async () => {
  const { page } = session;
  const apiKey = await rotate(page, "API key", /^ph_test_api_[0-9a-f]{48}$/);
  assert.notEqual(apiKey, app.apiKey);
  const old = await sendOtp(server, current, "+999 100 000 003");
  assert.equal(old.status, 401, `the old API key still works: ${JSON.stringify(old.body)}`);
  current = { ...current, apiKey };
  const fresh = await sendOtp(server, current, "+999 100 000 003");
  assert.equal(fresh.status, 201, `the new API key does not work: ${JSON.stringify(fresh.body)}`);
  assert.ok(!(await page.locator("body").innerText()).includes(apiKey), "the new API key is still on the page");
});

step("reveal, rotate and reveal the webhook secret", async () => {
  const { page } = session;
  const section = () => page.getByRole("main").getByRole("region", { name: "Webhook secret", exact: true });
  await button(section(), "Reveal webhook secret").click();
  await eventually(async () => assert.equal(await valueOf(field(section(), "Webhook secret").first()), app.webhookSecret));
  const rotated = await rotate(page, "Webhook secret", /^whsec_[0-9a-f]{48}$/);
  assert.notEqual(rotated, app.webhookSecret);
  await button(section(), "Reveal webhook secret").click();
  await eventually(async () => assert.equal(await valueOf(field(section(), "Webhook secret").first()), rotated));
});

step.check("no request left the server's origin", async () => {
  assert.deepEqual(session.foreign, []);
});
