// Every page, with data in it, on a fresh server: an axe-core scan with no serious or critical
// violations (the sign-in and sign-up forms, each page, the open dialogs), a screenshot of each
// at 1440x900, and no horizontal scroll at 360 px wide.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PHONE,
  api,
  button,
  checkA11y,
  closeBrowser,
  closeDialog,
  dialog,
  expectNoHorizontalScroll,
  expectSignInForm,
  field,
  goTo,
  journey,
  openConsole,
  screenshot,
  seedApplication,
  seedProject,
  sendOtp,
  signIn,
  signUpViaApi,
  startReceiver,
  startServer,
  tablesCutOff,
  verifyOtp,
} from "./support.mjs";

const step = journey("pages");
let server;
let receiver;
let session;
let app;
let webhookId;
const email = EMAIL;

const PAGES = [
  ["dashboard", "Dashboard"],
  ["projects", "Projects"],
  ["applications", "Applications"],
  ["otp", "OTP requests"],
  ["inbox", "Inbox"],
  ["webhooks", "Webhooks"],
  ["users", "Users"],
  ["phone-lookup", "Phone lookup"],
  ["receipt-keys", "Receipt keys"],
  ["logs", "Logs"],
  ["profile", "Profile"],
];

before(async () => {
  server = await startServer();
  receiver = await startReceiver();
  const account = await signUpViaApi(server, email);
  const token = account.idToken;
  const project = await seedProject(server, token, "Storefront", "The public web shop");
  await seedProject(server, token, "Back office", "");
  app = await seedApplication(server, token, project.id, "Checkout app", "test");
  await seedApplication(server, token, project.id, "Live app", "live");
  // Some history: one verified, one wrong code, one pending.
  const hook = await api(server, "POST", "/v1/webhooks", {
    token,
    body: { appId: app.id, url: receiver.url, events: ["otp.created", "otp.verified", "otp.failed"] },
  });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  webhookId = hook.body.data.id;
  const first = (await sendOtp(server, app, PHONE)).body.data;
  assert.equal((await verifyOtp(server, app, first.requestId, first.testCode)).status, 200);
  const second = (await sendOtp(server, app, "+999 555 000 111")).body.data;
  const wrong = second.testCode === "000000" ? "111111" : "000000";
  assert.equal((await verifyOtp(server, app, second.requestId, wrong)).status, 400);
  await sendOtp(server, app, "+999 555 000 222");
  receiver.setStatus(500);
  await api(server, "POST", `/v1/webhooks/${webhookId}/test`, { token });
  receiver.setStatus(200);
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
  await receiver?.close();
});

step.check("the sign-in form, and its errors, pass axe", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await checkA11y(page, "sign-in");
  await screenshot(page, "sign-in");
  // Sign up with a password that is too short: the field errors are accessible too.
  await field(page, "Email").fill("someone.new@example.com");
  await field(page, "Password").fill("short");
  await button(page, "Sign up").click();
  await page.locator('[aria-invalid="true"]').first().waitFor();
  await checkA11y(page, "sign-up with a field error");
  // A refused sign-in shows an error: still accessible.
  await field(page, "Email").fill(email);
  await field(page, "Password").fill("wrong password here");
  await button(page, "Sign in").click();
  await page.getByRole("alert").filter({ hasText: /\S/ }).first().waitFor();
  await checkA11y(page, "sign-in with an error");
});

step("sign in", async () => {
  await session?.close();
  session = await openConsole(server);
  await signIn(session.page, email);
});

for (const [id, name] of PAGES) {
  step.check(`${name}: axe and a screenshot at 1440x900`, async () => {
    const { page } = session;
    await goTo(page, name);
    await page.mouse.move(0, 0);
    await page.getByRole("main").locator(":is(table, .empty, form, dl, ul, svg):visible").first().waitFor();
    await checkA11y(page, name);
    // Lists are real tables with header cells.
    const tables = await page.getByRole("main").locator("table").evaluateAll((ts) =>
      ts.map((t) => ({ headers: t.querySelectorAll("thead th, tr:first-child th").length, rows: t.rows.length })),
    );
    if (!["dashboard", "profile", "phone-lookup"].includes(id)) assert.ok(tables.length > 0, `no <table> on ${name}`);
    for (const t of tables) assert.ok(t.headers > 0, `a table on ${name} has no header cells`);
    await screenshot(page, `page-${id}`);
  });
}

step.check("detail pages and dialogs pass axe", async () => {
  const { page } = session;
  // The application's page (rotation, reveal) and a credentials dialog.
  await goTo(page, "Applications");
  await page.getByRole("main").getByRole("link", { name: "Checkout app", exact: true }).click();
  await page.getByRole("main").getByRole("heading", { level: 1, name: "Checkout app" }).waitFor();
  await page.getByRole("main").getByRole("region", { name: "Policy", exact: true }).locator("table").waitFor();
  await checkA11y(page, "application detail (with its policy)");
  await screenshot(page, "page-application-detail");
  // Its policy form with one more template row.
  await button(page.getByRole("main"), "Add template").click();
  await checkA11y(page, "application policy with a new template row");
  await button(page.getByRole("main").getByRole("group", { name: "Webhook secret", exact: true }), "Rotate").click();
  await field(dialog(page), "Webhook secret").first().waitFor();
  await checkA11y(page, "rotation dialog");
  await closeDialog(page);
  // The New project / New application / New webhook dialogs.
  for (const [pageName, buttonName] of [
    ["Projects", "New project"],
    ["Applications", "New application"],
    ["Webhooks", "New webhook"],
  ]) {
    await goTo(page, pageName);
    await button(page, buttonName).click();
    await button(dialog(page), "Create").waitFor();
    await checkA11y(page, `${buttonName} dialog`);
    await closeDialog(page);
  }
  // A phone lookup's answer.
  await goTo(page, "Phone lookup");
  await field(page.getByRole("main"), "Phone number").fill("+44 7911 123456");
  await button(page.getByRole("main"), "Look up").click();
  await page.getByRole("main").locator("dl").waitFor();
  await checkA11y(page, "phone lookup answer");
  await screenshot(page, "page-phone-lookup-answer");
  // A webhook's page with its delivery log.
  await page.goto(`${server.url}#/webhooks/${encodeURIComponent(webhookId)}`);
  await button(page.getByRole("main"), "Send test event").waitFor();
  await page.getByRole("main").locator("table").first().waitFor();
  await checkA11y(page, "webhook detail");
});

step.check("tables fit the page at 1440 px (no column cut off)", async () => {
  const { page } = session;
  await page.setViewportSize({ width: 1440, height: 900 });
  const problems = [];
  const check = async (label) => {
    for (const problem of await tablesCutOff(page)) problems.push(`${label}: ${problem}`);
  };
  for (const [, name] of PAGES) {
    await goTo(page, name);
    await page.getByRole("main").locator(":is(table, .empty, form, dl, ul, svg):visible").first().waitFor();
    await check(name);
  }
  await page.goto(`${server.url}#/webhooks/${encodeURIComponent(webhookId)}`);
  await page.getByRole("main").locator("table").first().waitFor();
  await check("webhook detail (deliveries)");
  assert.deepEqual(problems, []);
});

step.check("no horizontal scroll at 360 px on the main pages", async () => {
  await session.close();
  session = await openConsole(server, { width: 360, height: 740 });
  const { page } = session;
  await signIn(page, email);
  await expectNoHorizontalScroll(page, "Dashboard");
  for (const [id, name] of PAGES) {
    // At this width the navigation may be behind a menu button: go by the route.
    await page.evaluate((hash) => (location.hash = hash), `#/${id}`);
    await page.getByRole("main").getByRole("heading", { level: 1 }).filter({ hasText: new RegExp(name, "i") }).waitFor();
    await page.getByRole("main").locator(":is(table, .empty, form, dl, ul, svg):visible").first().waitFor();
    await expectNoHorizontalScroll(page, name);
    await screenshot(page, `narrow-${id}`);
  }
  // An application's page, with its policy form and template previews.
  await page.evaluate((hash) => (location.hash = hash), `#/applications/${encodeURIComponent(app.id)}`);
  await page.getByRole("main").getByRole("region", { name: "Policy", exact: true }).locator("table").waitFor();
  await expectNoHorizontalScroll(page, "application detail");
  await screenshot(page, "narrow-application-detail");
  await checkA11y(page, "application detail at 360 px");
  await page.evaluate(() => (location.hash = "#/dashboard"));
  await page.getByRole("main").getByRole("heading", { level: 1 }).filter({ hasText: /Dashboard/ }).waitFor();
  await checkA11y(page, "Dashboard at 360 px");
});

step("no request left the server's origin; no script errors", async () => {
  assert.deepEqual(session.foreign, []);
  assert.deepEqual(session.errors, []);
  assert.deepEqual(session.failures, [], "requests the console made failed");
});
