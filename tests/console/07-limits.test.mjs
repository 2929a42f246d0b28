// On a server with sign-up closed and a login limit of 3: "Sign up" explains that sign-up is
// closed, and the 429 of too many sign-in attempts says when to try again (its own server: the
// limit also counts the client address, which every journey shares).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  button,
  closeBrowser,
  expectSignInForm,
  expectText,
  field,
  journey,
  openConsole,
  runCommand,
  startServer,
} from "./support.mjs";

const step = journey("limits");
let server;
let session;

before(async () => {
  server = await startServer({ args: ["--signup", "closed", "--login-rate-limit", "3"] });
  const created = await runCommand(server, ["developer", "create", "--email", EMAIL, "--password-stdin"], `${PASSWORD}\n`);
  assert.equal(created.code, 0, created.stderr);
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

step("sign-up closed: Sign up says so and who can create accounts", async () => {
  session = await openConsole(server);
  const { page } = session;
  await page.goto(`${server.origin}/console/`);
  await expectSignInForm(page);
  await field(page, "Email").fill("newcomer@example.com");
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign up").click();
  await expectText(page.getByRole("alert").filter({ hasText: /./ }).first(), /sign-up is closed/i);
  await expectText(page.getByRole("alert").filter({ hasText: /./ }).first(), /developer create/);
});

step("too many sign-in attempts: the 429 says when to try again", async () => {
  const { page } = session;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    await field(page, "Email").fill(EMAIL);
    await field(page, "Password").fill(`wrong password ${attempt}`);
    await button(page, "Sign in").click();
    await expectText(page.getByRole("alert").filter({ hasText: /./ }).first(), /email or password|invalid|incorrect/i);
  }
  await field(page, "Password").fill(PASSWORD);
  await button(page, "Sign in").click();
  await expectText(page.getByRole("alert").filter({ hasText: /./ }).first(), /try again in \d+ seconds?/i);
  assert.equal(await button(page, "Sign out").count(), 0, "signed in past the limit");
});
