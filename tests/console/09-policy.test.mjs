// An application's OTP policy and the phone lookup (SPEC §14, §15) on a fresh server: sign up →
// project → test application → its Policy section: 4-digit codes with 5 attempts are refused
// by the guessing floor (shown next to Code length, nothing saved) → a template's own error
// shows next to that template, a bad locale's next to its Locale → 1 attempt and a German template with an emoji save, and the
// preview says UCS-2 with its segments → the policy survives a reload → Phone lookup: a valid
// +44 mobile, the same number written nationally with Region GB, and an invalid number whose
// reason is shown (an answer, not an error banner).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  api,
  button,
  checkA11y,
  closeBrowser,
  closeDialog,
  createApplicationUI,
  createProjectUI,
  eventually,
  expectSignInForm,
  expectText,
  field,
  goTo,
  journey,
  navLink,
  openConsole,
  screenshot,
  startServer,
  valueOf,
} from "./support.mjs";

const step = journey("policy");
let server;
let session;
let appId;

const GERMAN = "Dein {app}-Code: {code} 🔐 Er läuft in {minutes} Minuten ab.";

before(async () => {
  server = await startServer();
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

/** The text of the elements that describe a control (aria-describedby), e.g. its error. */
async function description(locator) {
  return locator.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? "")
      .join(" ")
      .trim(),
  );
}

/** The application page's Policy section (a region named by its heading). */
const policy = (page) => page.getByRole("main").getByRole("region", { name: "Policy", exact: true });

/** One template row of the Policy form: the group "Template N". */
const templateGroup = (page, n) => policy(page).getByRole("group", { name: `Template ${n}`, exact: true });

/** The row of the template previews whose row header is `locale`. */
const previewRow = (page, locale) =>
  policy(page).locator("table").getByRole("row").filter({ has: page.getByRole("rowheader", { name: locale, exact: true }) });

/** The policy as the server has it now (with the console's current ID token). */
async function serverPolicy() {
  const token = session.authResponses.filter((r) => r.status === 200 || r.status === 201).at(-1).body.data.idToken;
  const r = await api(server, "GET", `/v1/applications/${encodeURIComponent(appId)}/policy`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data;
}

step("sign up, create a project and a test application, open it", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await field(page, "Email").fill(EMAIL);
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign up").click();
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
  await createProjectUI(page, "Payments");
  await createApplicationUI(page, "Wallet", "Payments", "test");
  await closeDialog(page);
  await page.getByRole("main").getByRole("link", { name: "Wallet", exact: true }).click();
  await page.getByRole("main").getByRole("heading", { level: 1, name: "Wallet" }).waitFor();
  appId = decodeURIComponent(new URL(page.url()).hash.split("/")[2] ?? "");
  assert.ok(appId, `no application id in ${page.url()}`);
});

step("the Policy section shows the defaults and a preview of the en template", async () => {
  const { page } = session;
  const section = policy(page);
  await section.waitFor();
  assert.equal(await valueOf(field(section, "Code length")), "6");
  assert.equal(await valueOf(field(section, "Max attempts")), "5");
  assert.equal(await valueOf(field(section, "TTL (seconds)")), "300");
  assert.equal(await valueOf(field(section, "Default locale")), "en");
  assert.equal(await valueOf(field(section, "Default region")), "");
  assert.equal(await field(section, "Code alphabet").inputValue(), "digits");
  assert.equal(await field(section, "Number validation").inputValue(), "valid");
  assert.equal(await valueOf(field(templateGroup(page, 1), "Locale")), "en");
  assert.match(await valueOf(field(templateGroup(page, 1), "Template")), /\{code\}/);
  const en = previewRow(page, "en");
  await expectText(en, "GSM-7");
  // The sample code has the policy's length, and {app} is the application's name.
  await expectText(en, /\b\d{6}\b.*Wallet|Wallet.*\b\d{6}\b/);
  await checkA11y(page, "application page with its policy");
  await screenshot(page, "policy-defaults");
});

step("4-digit codes with 5 attempts: the guessing floor is shown next to Code length", async () => {
  const { page } = session;
  const section = policy(page);
  await field(section, "Code length").fill("4");
  await field(section, "Max attempts").fill("5");
  await button(section, "Save policy").click();
  const codeLength = field(section, "Code length");
  await eventually(async () => assert.equal(await codeLength.getAttribute("aria-invalid"), "true", "Code length is not marked invalid"));
  const problem = await description(codeLength);
  assert.match(problem, /^4 to 10 characters\. Code length:? \S/, `Code length's description: ${problem}`);
  assert.match(problem, /10[,. ]?000|guess|odds/i, `the guessing floor is not explained: ${problem}`);
  // Focus goes to the field, and nothing was saved.
  assert.equal(await codeLength.evaluate((el) => el === document.activeElement), true, "focus is not on Code length");
  assert.equal((await serverPolicy()).codeLength, 6);
  await checkA11y(page, "policy with a field error");
  await screenshot(page, "policy-guessing-floor");
});

step("a template without {code}, and a locale that is no BCP 47 tag, are refused next to them", async () => {
  const { page } = session;
  const section = policy(page);
  await field(section, "Max attempts").fill("1");
  await button(section, "Add template").click();
  const fr = templateGroup(page, 2);
  // The new row's Locale has the focus.
  assert.equal(await field(fr, "Locale").evaluate((el) => el === document.activeElement), true, "focus is not on the new Locale");
  await field(fr, "Locale").fill("fr");
  await field(fr, "Template").fill("Votre code {app}");
  await button(section, "Add template").click();
  const bad = templateGroup(page, 3);
  await field(bad, "Locale").fill("not_a_tag");
  await field(bad, "Template").fill("{code}");
  await button(section, "Save policy").click();
  const text = field(fr, "Template");
  await eventually(async () => assert.equal(await text.getAttribute("aria-invalid"), "true", "the fr template is not marked invalid"));
  assert.match(await description(text), /^Template:? \S/, "the fr template's problem is not next to it");
  assert.equal(await field(bad, "Locale").getAttribute("aria-invalid"), "true", "the bad locale is not marked invalid");
  assert.match(await description(field(bad, "Locale")), /^Locale:? .*BCP 47/, "the bad locale's problem is not next to it");
  assert.equal(await field(bad, "Template").getAttribute("aria-invalid"), null, "the bad locale's text is marked invalid");
  assert.equal(await field(section, "Code length").getAttribute("aria-invalid"), null, "Code length is still marked invalid");
  assert.equal(await field(templateGroup(page, 1), "Template").getAttribute("aria-invalid"), null, "the en template is marked invalid");
  assert.deepEqual(Object.keys((await serverPolicy()).templates), ["en"]);
  await checkA11y(page, "policy with template errors");
  // Remove takes the rows away (and their problems with them); focus stays in the form.
  await button(bad, "Remove").click();
  assert.equal(await field(fr, "Locale").evaluate((el) => el === document.activeElement), true, "focus did not move to the row above");
  await button(fr, "Remove").click();
  assert.equal(await templateGroup(page, 2).count(), 0, "a removed row is still there");
  assert.equal(await section.locator('[aria-invalid="true"]').count(), 0);
});

step("1 attempt and a German template with an emoji: saved, previewed as UCS-2", async () => {
  const { page } = session;
  const section = policy(page);
  await button(section, "Add template").click();
  const row = templateGroup(page, 2);
  await field(row, "Locale").fill("de");
  await field(row, "Template").fill(GERMAN);
  await button(section, "Save policy").click();
  await expectText(section.getByRole("status"), /saved/i);
  assert.equal(await section.locator('[aria-invalid="true"]').count(), 0, "a field is still marked invalid");
  const de = previewRow(page, "de");
  await expectText(de, "UCS-2");
  const cells = await de.first().locator("th, td").allInnerTexts();
  assert.equal(cells[0].trim(), "de");
  assert.match(cells[3].trim(), /^[1-9]\d*$/, `segments: ${JSON.stringify(cells)}`);
  assert.match(cells[4], /\b\d{4}\b/, "the preview's sample code is not 4 digits");
  assert.match(cells[4], /Wallet/);
  await expectText(previewRow(page, "en"), "GSM-7");
  const saved = await serverPolicy();
  assert.equal(saved.codeLength, 4);
  assert.equal(saved.maxAttempts, 1);
  assert.equal(saved.templates.de, GERMAN);
  assert.equal(saved.templatePreview.de.encoding, "UCS-2");
  assert.equal(String(saved.templatePreview.de.segments), cells[3].trim());
  await screenshot(page, "policy-saved");
});

step.check("the policy survives a reload", async () => {
  const { page } = session;
  await page.reload();
  const section = policy(page);
  await section.waitFor();
  // The default locale's template (en) comes first, then the others.
  assert.equal(await valueOf(field(templateGroup(page, 1), "Locale")), "en");
  assert.equal(await valueOf(field(section, "Code length")), "4");
  assert.equal(await valueOf(field(section, "Max attempts")), "1");
  assert.equal(await valueOf(field(templateGroup(page, 2), "Locale")), "de");
  assert.equal(await valueOf(field(templateGroup(page, 2), "Template")), GERMAN);
  await expectText(previewRow(page, "de"), "UCS-2");
});

step("Phone lookup: +44 7911 123456 is a valid mobile number", async () => {
  const { page } = session;
  await goTo(page, "Phone lookup");
  const main = page.getByRole("main");
  await field(main, "Phone number").fill("+44 7911 123456");
  await button(main, "Look up").click();
  const answer = main.locator("dl");
  await expectText(answer, /Valid yes\b/);
  await expectText(answer, /Number type mobile\b/);
  // (Google's metadata puts +44 7911 1… in Guernsey: GG, not GB.)
  await expectText(answer, /Region G[BG]\b/);
  await expectText(answer, /E\.164 \+447911123456\b/);
  await checkA11y(page, "phone lookup, a valid number");
  await screenshot(page, "phone-lookup-valid");
});

step("Phone lookup: a national number with Region GB", async () => {
  const { page } = session;
  const main = page.getByRole("main");
  await field(main, "Phone number").fill("07911 123456");
  await field(main, "Region").fill("GB");
  await button(main, "Look up").click();
  // The route keeps the question once the answer is in (a reload shows it again).
  await eventually(async () => assert.match(new URL(page.url()).hash, /region=GB/));
  await expectText(main.locator("dl"), /Valid yes\b.*E\.164 \+447911123456\b/);
});

step("Phone lookup: an invalid number shows its reason, not an error", async () => {
  const { page } = session;
  const main = page.getByRole("main");
  await field(main, "Region").fill("");
  await field(main, "Phone number").fill("+44 7700 900123");
  await button(main, "Look up").click();
  const answer = main.locator("dl");
  await expectText(answer, /Valid no\b/);
  await expectText(answer, /Reason INVALID_FOR_REGION\b/);
  await expectText(answer, /Number type unknown\b/);
  assert.equal(await main.getByRole("alert").filter({ hasText: /\S/ }).count(), 0, "an error banner is shown");
  assert.equal(await field(main, "Phone number").getAttribute("aria-invalid"), null);
  await checkA11y(page, "phone lookup, an invalid number");
  await screenshot(page, "phone-lookup-invalid");
});

step.check("no request left the server's origin; no script errors; only the two refused saves failed", async () => {
  assert.deepEqual(session.foreign, []);
  assert.deepEqual(session.errors, []);
  const policyPut = `400 PUT /v1/applications/${appId}/policy`;
  assert.deepEqual(session.failures, [policyPut, policyPut], "requests the console made failed");
});
