// Error paths on a fresh server: a wrong password, a field error, a 409 on deleting a project
// that still has an application, and session expiry against the real server — a silent
// refresh after the server restarts with another issuer (the old ID token is refused), and a
// revoked session (the account disabled from the command line while the console is open).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  api,
  button,
  closeBrowser,
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
  seedApplication,
  seedProject,
  signIn,
  signUpViaApi,
  startServer,
  tableRow,
} from "./support.mjs";

const step = journey("errors");
let server;
let session;
const email = EMAIL;
let account;

before(async () => {
  server = await startServer();
  account = await signUpViaApi(server, email);
  const project = await seedProject(server, account.idToken, "Busy project", "has an application");
  await seedApplication(server, account.idToken, project.id, "Busy app");
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

step("a wrong password is refused with a message, and the sign-in form stays", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await field(page, "Email").fill(email);
  await field(page, "Password").fill("not the password at all");
  await button(page, "Sign in").click();
  const alert = page.getByRole("alert").filter({ hasText: /\S/ });
  await alert.first().waitFor({ state: "visible" });
  assert.match(await alert.first().innerText(), /password|credentials|email/i);
  await eventually(async () => assert.ok(session.authResponses.some((r) => /login$/.test(r.url) && r.status === 401)));
  await expectSignInForm(page);
  assert.equal(await navLink(page, "Dashboard").count(), 0, "signed in with a wrong password");
  // The right password still works afterwards.
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign in").click();
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
});

step("a field error is shown next to its field (New project with an empty name)", async () => {
  const { page } = session;
  await goTo(page, "Projects");
  await button(page, "New project").click();
  const d = dialog(page);
  await field(d, "Name").fill("");
  await button(d, "Create").click();
  const name = field(d, "Name");
  await eventually(async () => assert.equal(await name.getAttribute("aria-invalid"), "true", "Name is not marked invalid"));
  assert.match(await description(name), /must be 1 to 100 characters/i, "the Name field's description does not carry the server's problem");
  // Focus goes to the invalid field, and the dialog stays open.
  assert.equal(await name.evaluate((el) => el === document.activeElement), true, "focus is not on the invalid field");
  // Fixing it clears the error and creates the project.
  await name.fill("Second project");
  await button(d, "Create").click();
  await expectText(tableRow(page.getByRole("main"), "Second project"), "Second project");
});

step("a 409 on deleting a project that still has an application is explained", async () => {
  const { page } = session;
  const row = tableRow(page.getByRole("main"), "Busy project");
  await button(row, "Delete").click();
  const d = dialog(page);
  await button(d, "Delete").click();
  const alert = d.getByRole("alert").filter({ hasText: /\S/ });
  await alert.first().waitFor({ state: "visible" });
  assert.match(await alert.first().innerText(), /application/i);
  // Nothing was deleted.
  await button(d, "Cancel").click();
  await expectText(tableRow(page.getByRole("main"), "Busy project"), "Busy project");
  const projects = await api(server, "GET", "/v1/projects", { token: account.idToken });
  assert.ok(projects.body.data.some((p) => p.name === "Busy project"));
});

step("an empty project can be deleted", async () => {
  const { page } = session;
  const row = tableRow(page.getByRole("main"), "Second project");
  await button(row, "Delete").click();
  await button(dialog(page), "Delete").click();
  await eventually(async () => assert.equal(await tableRow(page.getByRole("main"), "Second project").count(), 0));
});

step("session expiry, silent refresh: after a restart with another issuer the console refreshes and carries on", async () => {
  const { page } = session;
  await goTo(page, "Projects");
  const before = session.authResponses.filter((r) => r.status === 200 || r.status === 201);
  const oldIdToken = before.at(-1).body.data.idToken;
  server = await server.restart({ args: ["--issuer", "cobinar-console-test-restarted"] });
  // The console's ID token is no longer accepted ...
  const me = await api(server, "GET", "/v1/developer/me", { token: oldIdToken });
  assert.equal(me.status, 401, "the old ID token still works after the issuer changed");
  // ... yet the next action works without a sign-in: the console refreshed its session.
  await goTo(page, "Applications");
  await expectText(tableRow(page.getByRole("main"), "Busy app"), "Busy app");
  assert.equal(await button(page, "Sign in").count(), 0, "the console showed the sign-in form");
  await eventually(async () =>
    assert.ok(
      session.authResponses.some((r) => /refresh$/.test(r.url) && r.status === 200),
      "the console did not refresh its session through /v1/auth/refresh",
    ),
  );
  await goTo(page, "Projects");
  await expectText(tableRow(page.getByRole("main"), "Busy project"), "Busy project");
});

step("session expiry, revoked: disabling the account sends the console back to sign-in", async () => {
  const { page } = session;
  // The session ends while a dialog is open: the dialog goes, and the sign-in form is usable.
  await goTo(page, "Projects");
  await button(page, "New project").click();
  await field(dialog(page), "Name").fill("Never created");
  const result = await runCommand(server, ["developer", "disable", "--email", email]);
  assert.equal(result.code, 0, result.stderr);
  await button(dialog(page), "Create").click();
  await expectSignInForm(page);
  assert.equal(await page.locator("dialog[open]").count(), 0, "a dialog outlived the session");
  assert.equal(await navLink(page, "Dashboard").count(), 0);
  // The console says why.
  await expectText(page.locator("body"), /session|sign in again|signed out/i);
  // Signing in again is refused while the account is disabled, allowed once enabled.
  assert.equal((await runCommand(server, ["developer", "enable", "--email", email])).code, 0);
  await signIn(page, email);
});
