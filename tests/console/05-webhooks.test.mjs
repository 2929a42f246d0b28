// Webhooks on a fresh server, to a loopback receiver: create one, send a test event and see
// the delivery, make the receiver fail and see the failure, let it recover and retry the
// failed delivery; a real OTP event shows up in the delivery log too.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  button,
  choose,
  closeBrowser,
  dialog,
  eventually,
  expectText,
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
  tableRow,
} from "./support.mjs";

const step = journey("webhooks");
let server;
let receiver;
let session;
let app;
const email = EMAIL;

before(async () => {
  server = await startServer();
  receiver = await startReceiver();
  const account = await signUpViaApi(server, email);
  const project = await seedProject(server, account.idToken, "Hooks project");
  await seedApplication(server, account.idToken, project.id, "Other app");
  app = await seedApplication(server, account.idToken, project.id, "Hooked app");
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
  await receiver?.close();
});

const deliveries = (page) =>
  page.getByRole("main").getByRole("region", { name: /deliver/i }).or(page.getByRole("main")).first();

/** The delivery log's rows (newest first), as text. */
async function deliveryRows(page) {
  return page.getByRole("main").locator("table").last().locator("tbody tr").allInnerTexts();
}

step("create a webhook to the local receiver", async () => {
  session = await openConsole(server);
  const { page } = session;
  await signIn(page, email);
  await goTo(page, "Webhooks");
  await button(page, "New webhook").click();
  const d = dialog(page);
  await choose(d, "Application", /^Hooked app\b/);
  await field(d, "URL").fill(receiver.url);
  await d.getByRole("checkbox", { name: "otp.created", exact: true }).check();
  await d.getByRole("checkbox", { name: "otp.verified", exact: true }).check();
  await button(d, "Create").click();
  await expectText(page.getByRole("main"), receiver.url);
  await button(page.getByRole("main"), "Send test event").waitFor();
});

step("send a test event: the receiver gets it and the delivery shows as succeeded", async () => {
  const { page } = session;
  await button(page.getByRole("main"), "Send test event").click();
  await expectText(page.getByRole("main").getByRole("status").filter({ hasText: /\S/ }), /HTTP 200/);
  await eventually(async () => assert.equal(receiver.requests.length, 1));
  const [request] = receiver.requests;
  assert.equal(request.method, "POST");
  assert.equal(request.headers["x-cobinar-event"], "otp.verified");
  assert.match(request.headers["x-cobinar-signature"] ?? "", /^sha256=[0-9a-f]{64}$/);
  await eventually(async () => {
    const rows = await deliveryRows(page);
    assert.equal(rows.length, 1, `delivery rows: ${JSON.stringify(rows)}`);
    assert.match(rows[0], /succeeded/i);
    assert.match(rows[0], /200/);
  });
});

step("make the receiver fail: the test event shows as failed with its status", async () => {
  const { page } = session;
  receiver.setStatus(500);
  await button(page.getByRole("main"), "Send test event").click();
  await expectText(page.getByRole("main").getByRole("status").filter({ hasText: /\S/ }), /500/);
  await eventually(async () => assert.equal(receiver.requests.length, 2));
  await eventually(async () => {
    const rows = await deliveryRows(page);
    assert.equal(rows.length, 2, `delivery rows: ${JSON.stringify(rows)}`);
    assert.match(rows[0], /failed/i);
    assert.match(rows[0], /500/);
  });
  // The delivery log in view, with the failure at its top.
  await page.mouse.move(0, 0);
  await page
    .getByRole("main")
    .getByRole("region", { name: "Deliveries" })
    .evaluate((el) => el.scrollIntoView({ block: "end" }));
  await screenshot(page, "webhooks-deliveries");
});

step("let the receiver recover and retry the failed delivery", async () => {
  const { page } = session;
  receiver.setStatus(200);
  const failedRow = page.getByRole("main").locator("table").last().locator("tbody tr").filter({ hasText: /failed/i });
  await button(failedRow.first(), "Retry").click();
  await eventually(async () => assert.equal(receiver.requests.length, 3));
  assert.equal(receiver.requests[2].answered, 200);
  // The same event id was delivered again.
  assert.equal(receiver.requests[2].headers["x-cobinar-event-id"], receiver.requests[1].headers["x-cobinar-event-id"]);
  await eventually(async () => {
    const rows = await deliveryRows(page);
    assert.equal(rows.length, 2, `delivery rows: ${JSON.stringify(rows)}`);
    assert.ok(rows.every((r) => /succeeded/i.test(r)), `not all succeeded after the retry: ${JSON.stringify(rows)}`);
  });
});

step("a real OTP event is delivered and listed", async () => {
  const { page } = session;
  const r = await sendOtp(server, app);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await eventually(async () => assert.ok(receiver.requests.some((q) => q.headers["x-cobinar-event"] === "otp.created")));
  await eventually(async () => {
    await button(deliveries(page), "Refresh").first().click();
    const rows = await deliveryRows(page);
    assert.ok(rows.some((row) => /otp\.created/.test(row) && /succeeded/i.test(row)), `delivery rows: ${JSON.stringify(rows)}`);
  });
  await page.mouse.move(0, 0);
  await screenshot(page, "webhooks-deliveries-retried");
});

step.check("the webhook is listed on the Webhooks page", async () => {
  const { page } = session;
  await goTo(page, "Webhooks");
  await expectText(tableRow(page.getByRole("main"), receiver.url), /Hooked app/);
  assert.deepEqual(session.foreign, []);
});
