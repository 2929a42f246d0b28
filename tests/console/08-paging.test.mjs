// Cursor paging on a history longer than one page (50): OTP requests and Logs show the first
// page, "Load more" brings the rest in order, and the button goes away at the end.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  button,
  closeBrowser,
  goTo,
  journey,
  openConsole,
  seedApplication,
  seedProject,
  sendOtp,
  signIn,
  signUpViaApi,
  startServer,
  eventually,
} from "./support.mjs";

const step = journey("paging");
let server;
let session;
const SENDS = 60;

before(async () => {
  server = await startServer({ args: ["--send-rate-limit", "1000", "--phone-send-limit", "1000"] });
  const account = await signUpViaApi(server, EMAIL);
  const project = await seedProject(server, account.idToken, "Paging project");
  const app = await seedApplication(server, account.idToken, project.id, "Paging app");
  for (let i = 0; i < SENDS; i += 1) {
    const sent = await sendOtp(server, app, `+999 300 000 ${String(100 + i)}`);
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
  }
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

async function bodyRows(page) {
  return page.getByRole("main").locator("table tbody tr").count();
}

for (const [pageName, total] of [["OTP requests", SENDS], ["Logs", SENDS]]) {
  step(`${pageName}: 50 rows, then "Load more" shows all ${total}`, async () => {
    if (!session) {
      session = await openConsole(server);
      await session.page.goto(`${server.origin}/console/`);
      await signIn(session.page, EMAIL);
    }
    const { page } = session;
    await goTo(page, pageName);
    await eventually(async () => assert.equal(await bodyRows(page), 50));
    await button(page, "Load more").click();
    await eventually(async () => assert.equal(await bodyRows(page), total));
    assert.equal(await button(page, "Load more").count(), 0, "Load more is still offered at the end");
    // Newest first, no row twice.
    const texts = await page.getByRole("main").locator("table tbody tr").allTextContents();
    assert.equal(new Set(texts).size, texts.length, "a row is shown twice");
  });
}
