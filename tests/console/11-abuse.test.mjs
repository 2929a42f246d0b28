// Abuse controls (SPEC §17) on a fresh server started with --sms-driver inbox: sign up → project →
// live application → its Policy section shows the abuse defaults (premium_rate and shared_cost
// blocked, the conversion breaker on) and an empty Blocks list → an unknown country code is
// refused by Save next to Allowed countries, a breaker number out of range by Simulate next to
// Minimum sends → blocked countries, a daily send limit, a safe list, voip blocked and a tight
// breaker are saved (and survive a reload) → a webhook subscribed to otp.blocked → sends through
// the API: a premium-rate number and a French one are refused, and the third unverified send to
// one prefix trips the breaker (the webhook gets each otp.blocked) → Simulate with an unsaved
// change shows what it would have refused (and saves nothing) → the block is in the Blocks list →
// Lift → it is gone, and that prefix takes sends again.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  api,
  appHeaders,
  button,
  checkA11y,
  choose,
  closeBrowser,
  closeDialog,
  createApplicationUI,
  createProjectUI,
  credentialsInDialog,
  dialog,
  eventually,
  expectNoHorizontalScroll,
  expectSignInForm,
  expectText,
  field,
  goTo,
  journey,
  navLink,
  openConsole,
  screenshot,
  startReceiver,
  startServer,
  tableRow,
  valueOf,
} from "./support.mjs";

const step = journey("abuse");
let server;
let receiver;
let session;
let appId;
let credentials;

/** One destination prefix (+44740012 with a prefix length of 8), four numbers in it. */
const PREFIX = "+44740012";
const SAME_PREFIX = ["+447400123001", "+447400123002", "+447400123003", "+447400123004"];
/** A UK premium-rate number (blocked by default) and a French mobile (blocked below). */
const PREMIUM = "+449098765432";
const FRENCH = "+33612345678";

before(async () => {
  server = await startServer();
  receiver = await startReceiver();
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
  await receiver?.close();
});

const main = (page) => page.getByRole("main");
/** The application page's Policy section and Blocks section (regions named by their headings). */
const policy = (page) => main(page).getByRole("region", { name: "Policy", exact: true });
const blocks = (page) => main(page).getByRole("region", { name: "Blocks", exact: true });
/** A group (fieldset) of the Policy form by its legend. */
const group = (page, name) => policy(page).getByRole("group", { name, exact: true });
const checkbox = (scope, name) => scope.getByRole("checkbox", { name, exact: true });

/** The text of the elements that describe a control (aria-describedby): its hint and error. */
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

/** The console's current ID token (from its last sign-up or refresh answer). */
function token() {
  return session.authResponses.filter((r) => r.status === 200 || r.status === 201).at(-1).body.data.idToken;
}

async function consoleApi(method, pathname, body) {
  const r = await api(server, method, pathname, { token: token(), body });
  return r;
}

/** The policy as the server has it now. */
async function serverPolicy() {
  const r = await consoleApi("GET", `/v1/applications/${encodeURIComponent(appId)}/policy`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.data;
}

async function send(phone) {
  return api(server, "POST", "/v1/otp/send", { headers: appHeaders(credentials), body: { phone } });
}

/** The values of a <dl class="details"> in `scope`, by their terms. */
async function detailValues(scope) {
  return scope.locator("dl.details").first().evaluate((dl) => {
    const out = {};
    for (const dt of dl.querySelectorAll("dt")) out[dt.textContent.trim()] = dt.nextElementSibling?.textContent.trim();
    return out;
  });
}

step("sign up, create a project and a live application, open it", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await field(page, "Email").fill(EMAIL);
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign up").click();
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
  await createProjectUI(page, "Growth");
  await createApplicationUI(page, "Pumped app", "Growth", "live");
  credentials = await credentialsInDialog(page);
  assert.match(credentials.clientId ?? "", /^ph_live_client_[0-9a-f]{48}$/);
  await closeDialog(page);
  await main(page).getByRole("link", { name: "Pumped app", exact: true }).click();
  await main(page).getByRole("heading", { level: 1, name: "Pumped app" }).waitFor();
  appId = decodeURIComponent(new URL(page.url()).hash.split("/")[2] ?? "");
  assert.ok(appId, `no application id in ${page.url()}`);
});

step("the Policy section shows the abuse defaults; Blocks is empty", async () => {
  const { page } = session;
  const section = policy(page);
  await section.waitFor();
  assert.equal(await valueOf(field(section, "Allowed countries")), "");
  assert.equal(await valueOf(field(section, "Blocked countries")), "");
  assert.equal(await valueOf(field(section, "Daily send limit")), "");
  assert.equal(await valueOf(field(section, "Safe list")), "");
  const allowed = group(page, "Allowed number types");
  const blocked = group(page, "Blocked number types");
  assert.equal(await allowed.getByRole("checkbox", { checked: true }).count(), 0, "an allowed number type is checked");
  assert.equal(await checkbox(blocked, "premium_rate").isChecked(), true);
  assert.equal(await checkbox(blocked, "shared_cost").isChecked(), true);
  assert.equal(await blocked.getByRole("checkbox", { checked: true }).count(), 2);
  const breaker = group(page, "Conversion breaker");
  assert.equal(await checkbox(breaker, "Conversion breaker on").isChecked(), true);
  assert.equal(await valueOf(field(breaker, "Prefix length (digits)")), "6");
  assert.equal(await valueOf(field(breaker, "Window (seconds)")), "3600");
  assert.equal(await valueOf(field(breaker, "Minimum sends")), "20");
  assert.equal(await valueOf(field(breaker, "Minimum conversion")), "0.2");
  assert.equal(await valueOf(field(breaker, "Block for (seconds)")), "43200");
  assert.equal(await valueOf(field(section, "Days to replay")), "7");
  await button(section, "Simulate").waitFor();
  await expectText(blocks(page), /No open blocks/);
  await checkA11y(page, "live application with its abuse controls");
  await group(page, "Abuse controls").scrollIntoViewIfNeeded();
  await screenshot(page, "abuse-defaults");
});

step("an unknown country is refused by Save next to Allowed countries; nothing is saved", async () => {
  const { page } = session;
  const section = policy(page);
  const countries = field(section, "Allowed countries");
  await countries.fill("gb, XX");
  await button(section, "Save policy").click();
  await eventually(async () => assert.equal(await countries.getAttribute("aria-invalid"), "true", "Allowed countries is not marked invalid"));
  const problem = await description(countries);
  assert.match(problem, /Allowed countries:? must be an array of ISO 3166-1 alpha-2 .*XX/, `Allowed countries' description: ${problem}`);
  assert.equal(await countries.evaluate((el) => el === document.activeElement), true, "focus is not on Allowed countries");
  assert.equal((await serverPolicy()).allowedCountries, null);
});

step("Simulate checks the policy being edited: a breaker number out of range shows next to it", async () => {
  const { page } = session;
  const section = policy(page);
  await field(section, "Allowed countries").fill("");
  const minSends = field(group(page, "Conversion breaker"), "Minimum sends");
  await minSends.fill("0");
  const answer = page.waitForResponse((r) => r.url().endsWith(`/v1/applications/${appId}/policy/simulate`));
  await button(section, "Simulate").click();
  assert.equal((await answer).status(), 400);
  await eventually(async () => assert.equal(await minSends.getAttribute("aria-invalid"), "true", "Minimum sends is not marked invalid"));
  const problem = await description(minSends);
  assert.match(problem, /Minimum sends:? must be an integer between 1 and 100000/, `Minimum sends' description: ${problem}`);
  assert.equal(await field(section, "Allowed countries").getAttribute("aria-invalid"), null, "the earlier error is still shown");
  assert.equal(await minSends.evaluate((el) => el === document.activeElement), true, "focus is not on Minimum sends");
  assert.equal((await serverPolicy()).conversionBreaker.minSends, 20);
  await checkA11y(page, "policy with an abuse field error");
  await screenshot(page, "abuse-simulate-error");
});

step("edit the abuse fields and save them", async () => {
  const { page } = session;
  const section = policy(page);
  await field(section, "Blocked countries").fill("fr, de");
  await field(section, "Daily send limit").fill("500");
  await field(section, "Safe list").fill("+44 7911 123456\n+3519");
  await checkbox(group(page, "Blocked number types"), "voip").check();
  const breaker = group(page, "Conversion breaker");
  await field(breaker, "Prefix length (digits)").fill("8");
  await field(breaker, "Minimum sends").fill("2");
  await field(breaker, "Minimum conversion").fill("0.5");
  await field(breaker, "Block for (seconds)").fill("3600");
  await button(section, "Save policy").click();
  await expectText(section.getByRole("status").filter({ hasText: /\S/ }), /Policy saved/);
  assert.equal(await section.locator('[aria-invalid="true"]').count(), 0, "a field is still marked invalid");
  const saved = await serverPolicy();
  assert.equal(saved.allowedCountries, null);
  assert.deepEqual(saved.blockedCountries, ["FR", "DE"]);
  assert.equal(saved.allowedNumberTypes, null);
  assert.deepEqual([...saved.blockedNumberTypes].sort(), ["premium_rate", "shared_cost", "voip"]);
  assert.equal(saved.dailySendLimit, 500);
  assert.deepEqual(saved.safeList, ["+447911123456", "+3519"]);
  assert.deepEqual(saved.conversionBreaker, {
    enabled: true,
    prefixLength: 8,
    windowSeconds: 3600,
    minSends: 2,
    minConversion: 0.5,
    blockSeconds: 3600,
  });
  // The form shows what the server kept.
  assert.equal(await valueOf(field(section, "Blocked countries")), "FR, DE");
  await screenshot(page, "abuse-saved");
});

step.check("the abuse fields survive a reload", async () => {
  const { page } = session;
  await page.reload();
  const section = policy(page);
  await section.waitFor();
  assert.equal(await valueOf(field(section, "Blocked countries")), "FR, DE");
  assert.equal(await valueOf(field(section, "Daily send limit")), "500");
  assert.equal(await valueOf(field(section, "Safe list")), "+447911123456\n+3519");
  assert.equal(await checkbox(group(page, "Blocked number types"), "voip").isChecked(), true);
  assert.equal(await valueOf(field(group(page, "Conversion breaker"), "Prefix length (digits)")), "8");
  assert.equal(await valueOf(field(group(page, "Conversion breaker"), "Minimum conversion")), "0.5");
});

step("a webhook subscribed to otp.blocked", async () => {
  const { page } = session;
  await goTo(page, "Webhooks");
  await button(page, "New webhook").click();
  const d = dialog(page);
  await choose(d, "Application", /^Pumped app\b/);
  await field(d, "URL").fill(receiver.url);
  await d.getByRole("checkbox", { name: "otp.verified", exact: true }).uncheck();
  await d.getByRole("checkbox", { name: "otp.blocked", exact: true }).check();
  await button(d, "Create").click();
  await expectText(main(page), receiver.url);
  await expectText(main(page), "otp.blocked");
});

step("sends through the API: premium rate and France refused, the breaker trips on the third send to one prefix", async () => {
  const premium = await send(PREMIUM);
  assert.equal(premium.status, 403, JSON.stringify(premium.body));
  assert.equal(premium.body.error.code, "SEND_BLOCKED");
  assert.equal(premium.body.error.details.rule, "number_type");
  const french = await send(FRENCH);
  assert.equal(french.status, 403, JSON.stringify(french.body));
  assert.equal(french.body.error.details.rule, "country");
  for (const phone of SAME_PREFIX.slice(0, 2)) {
    const r = await send(phone);
    assert.equal(r.status, 201, `${phone}: ${JSON.stringify(r.body)}`);
  }
  const third = await send(SAME_PREFIX[2]);
  assert.equal(third.status, 403, JSON.stringify(third.body));
  assert.equal(third.body.error.details.rule, "conversion_breaker");
  assert.equal(third.body.error.details.prefix, PREFIX);
  // Each refusal is an otp.blocked event, delivered to the webhook.
  await eventually(async () => {
    const events = receiver.requests.filter((q) => q.headers["x-cobinar-event"] === "otp.blocked");
    assert.equal(events.length, 3, `otp.blocked deliveries: ${events.length}`);
    const rules = events.map((q) => JSON.stringify(q.json)).join("\n");
    for (const rule of ["number_type", "country", "conversion_breaker"]) assert.ok(rules.includes(`"${rule}"`), `no ${rule} in ${rules}`);
  });
});

step("Simulate with an unsaved change: the figures are shown, nothing is saved", async () => {
  const { page } = session;
  await goTo(page, "Applications");
  await main(page).getByRole("link", { name: "Pumped app", exact: true }).click();
  const section = policy(page);
  await section.waitFor();
  // One unverified send before a prefix is judged (saved: 2).
  await field(group(page, "Conversion breaker"), "Minimum sends").fill("1");
  await field(section, "Days to replay").fill("3");
  const request = page.waitForRequest((r) => r.url().endsWith(`/v1/applications/${appId}/policy/simulate`));
  const answer = page.waitForResponse((r) => r.url().endsWith(`/v1/applications/${appId}/policy/simulate`));
  await button(section, "Simulate").click();
  const body = (await request).postDataJSON();
  assert.equal(body.days, 3);
  assert.equal(body.policy.conversionBreaker.minSends, 1, "Simulate did not send the policy being edited");
  assert.deepEqual(body.policy.blockedCountries, ["FR", "DE"]);
  const response = await answer;
  assert.equal(response.status(), 200, await response.text());
  const result = (await response.json()).data;
  // The two accepted sends to one prefix: the second is refused by the breaker, unverified.
  assert.equal(result.sends, 2);
  assert.deepEqual(result.blocked, { country: 0, number_type: 0, daily_budget: 0, conversion_breaker: 1 });
  assert.equal(result.verifiedBlocked, 0);
  assert.deepEqual(result.prefixesBlocked.map((p) => p.prefix), [PREFIX]);

  const status = section.getByRole("status").filter({ hasText: /replayed/ });
  await expectText(status, /Over the last 3 days, 2 sends replayed: this policy would have refused 1, 0 of them verified\. \(The policy as it stands in the form; nothing was saved\.\)/);
  const figures = await detailValues(section.locator(".simulation-result"));
  assert.deepEqual(figures, {
    "Sends replayed": "2",
    "Refused by country": "0",
    "Refused by number type": "0",
    "Refused by the conversion breaker": "1",
    "Refused by the daily send limit": "0",
    "Verified sends refused": "0",
  });
  const prefixRow = tableRow(section, PREFIX);
  await expectText(prefixRow, PREFIX);
  assert.equal(await prefixRow.locator("time").getAttribute("datetime"), result.prefixesBlocked[0].blockedAt);
  // Simulating saved nothing.
  assert.equal((await serverPolicy()).conversionBreaker.minSends, 2);
  await checkA11y(page, "policy with a simulation");
  await section.locator(".simulation-result").scrollIntoViewIfNeeded();
  await screenshot(page, "abuse-simulation");
});

step("the block is in the Blocks list", async () => {
  const { page } = session;
  const region = blocks(page);
  // The page was opened after the block: the list has it (Refresh reads it again).
  await button(region, "Refresh").click();
  const row = tableRow(region, PREFIX);
  await expectText(row, PREFIX);
  const listed = await consoleApi("GET", `/v1/applications/${encodeURIComponent(appId)}/blocks`);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.data.length, 1);
  const [block] = listed.body.data;
  assert.equal(block.prefix, PREFIX);
  const cells = (await row.locator("th, td").allInnerTexts()).map((c) => c.trim());
  assert.equal(cells[0], PREFIX);
  assert.equal(cells[1], String(block.sends));
  assert.equal(cells[2], String(block.verified));
  assert.equal(block.sends, 2);
  assert.equal(block.verified, 0);
  const times = await row.locator("time").evaluateAll((ts) => ts.map((t) => t.getAttribute("datetime")));
  assert.deepEqual(times, [block.blockedAt, block.reopensAt]);
  assert.equal(Date.parse(block.reopensAt) - Date.parse(block.blockedAt), 3600 * 1000);
  // Lift is a button of its own row, described by the prefix.
  const lift = button(row, "Lift");
  assert.match(await description(lift), new RegExp(`^\\${PREFIX}$`));
  await checkA11y(page, "application with an open block");
  await region.scrollIntoViewIfNeeded();
  await screenshot(page, "abuse-blocks");
});

step.check("at 360 px wide, the abuse controls, the simulation and the blocks fit (no horizontal scroll)", async () => {
  const { page } = session;
  const size = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 800 });
  try {
    await eventually(() => expectNoHorizontalScroll(page, "application page with its abuse controls at 360 px"));
    await screenshot(page, "abuse-blocks-360");
  } finally {
    await page.setViewportSize(size);
  }
});

step("Lift: the block is gone and the prefix takes sends again", async () => {
  const { page } = session;
  const region = blocks(page);
  const answer = page.waitForResponse((r) => r.request().method() === "DELETE");
  await button(tableRow(region, PREFIX), "Lift").click();
  const response = await answer;
  assert.equal(new URL(response.url()).pathname, `/v1/applications/${appId}/blocks/%2B${PREFIX.slice(1)}`);
  assert.equal(response.status(), 200);
  await expectText(region.getByRole("status"), `Lifted the block on ${PREFIX}`);
  await expectText(region, /No open blocks/);
  assert.equal(await tableRow(region, PREFIX).count(), 0, "the lifted block is still listed");
  assert.equal(await button(region, "Refresh").evaluate((el) => el === document.activeElement), true, "focus is not on Refresh");
  const listed = await consoleApi("GET", `/v1/applications/${encodeURIComponent(appId)}/blocks`);
  assert.deepEqual(listed.body.data, []);
  // A lifted prefix is judged only on the sends after it reopened.
  const again = await send(SAME_PREFIX[3]);
  assert.equal(again.status, 201, JSON.stringify(again.body));
  await checkA11y(page, "application after a lift");
  await region.scrollIntoViewIfNeeded();
  await screenshot(page, "abuse-lifted");
});

step.check("no request left the server's origin; no script errors; only the two refused checks failed", async () => {
  assert.deepEqual(session.foreign, []);
  assert.deepEqual(session.errors, []);
  assert.deepEqual(session.failures, [
    `400 PUT /v1/applications/${appId}/policy`,
    `400 POST /v1/applications/${appId}/policy/simulate`,
  ]);
});
