// Keyboard only: after the page loads, every action is a key press (Tab, Shift+Tab, Enter,
// Space, Escape, arrows, typing) — sign in, then create a test application and copy its
// client ID. Reading the page (where focus is, what a field holds) is allowed; clicking is not.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  EMAIL,
  PASSWORD,
  closeBrowser,
  credentialsInDialog,
  eventually,
  expectSignInForm,
  expectText,
  journey,
  navLink,
  openConsole,
  readClipboard,
  seedProject,
  signUpViaApi,
  startServer,
  tableRow,
} from "./support.mjs";

const step = journey("keyboard");
let server;
let session;
const email = EMAIL;

before(async () => {
  server = await startServer();
  const account = await signUpViaApi(server, email);
  await seedProject(server, account.idToken, "Alpha project");
  await seedProject(server, account.idToken, "Keyboard project");
});

after(async () => {
  await session?.close();
  await closeBrowser();
  await server?.dispose();
});

/** What has focus: { tag, type, role, name, label, value, text, inDialog }. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: "BODY", type: "", role: "", label: "", text: "", value: "", inDialog: false, inNav: false };
    const labels = el.labels ? [...el.labels].map((l) => l.textContent.trim()).join(" ") : "";
    const labelledBy = (el.getAttribute("aria-labelledby") ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent.trim() ?? "")
      .join(" ");
    return {
      tag: el.tagName,
      type: el.getAttribute("type") ?? "",
      role: el.getAttribute("role") ?? "",
      label: el.getAttribute("aria-label") ?? (labelledBy || labels),
      text: (el.textContent ?? "").trim().replace(/\s+/g, " "),
      value: "value" in el ? String(el.value) : "",
      inDialog: Boolean(el.closest("dialog[open]")),
      inNav: Boolean(el.closest("nav")),
    };
  });
}

/** Presses Tab (then Shift+Tab) until `want(focus)` holds; fails after many presses. */
async function tabTo(page, want, what) {
  const seen = [];
  for (const key of ["Tab", "Shift+Tab"]) {
    for (let i = 0; i < 60; i++) {
      const f = await focused(page);
      if (want(f)) return f;
      seen.push(`${f.tag}:${f.label || f.text.slice(0, 30)}`);
      await page.keyboard.press(key);
    }
  }
  assert.fail(`Tab never reached ${what}; focus went through: ${seen.slice(0, 40).join(", ")}`);
}

const isField = (label) => (f) => ["INPUT", "SELECT", "TEXTAREA"].includes(f.tag) && f.label === label;
const isButton = (text) => (f) => (f.tag === "BUTTON" || f.role === "button") && (f.label || f.text) === text;
const isLink = (text) => (f) => f.tag === "A" && (f.label || f.text) === text;

/** Chooses an option of the focused <select> (or radio group) by typing / arrow keys. */
async function chooseByKeyboard(page, matches, what) {
  const f = await focused(page);
  if (f.tag === "SELECT") {
    for (let i = 0; i < 20; i++) {
      const text = await page.evaluate(() => document.activeElement.selectedOptions[0]?.textContent ?? "");
      if (matches(text)) return;
      await page.keyboard.press("ArrowDown");
    }
  } else if (f.type === "radio") {
    for (let i = 0; i < 10; i++) {
      const text = await page.evaluate(() => {
        const el = document.activeElement;
        return el.checked ? (el.labels?.[0]?.textContent ?? el.value) : "";
      });
      if (matches(text)) return;
      await page.keyboard.press("ArrowDown");
    }
  }
  assert.fail(`could not choose ${what} with the keyboard (focus on ${JSON.stringify(f)})`);
}

step("sign in with the keyboard only", async () => {
  session = await openConsole(server);
  const { page } = session;
  await expectSignInForm(page);
  await tabTo(page, isField("Email"), "the Email field");
  await page.keyboard.type(email);
  await tabTo(page, isField("Password"), "the Password field");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await navLink(page, "Dashboard").waitFor({ state: "visible" });
  // A person waits for the page to load before moving on (the console moves focus to the
  // page's title once its data is in).
  await session.idle();
});

step("reach Applications and open New application with the keyboard", async () => {
  const { page } = session;
  await tabTo(page, isLink("Applications"), "the Applications link");
  await page.keyboard.press("Enter");
  await eventually(async () => assert.match(page.url(), /#\/applications/));
  await page.getByRole("main").getByRole("heading", { level: 1, name: /Applications/ }).waitFor();
  await session.idle();
  await tabTo(page, isButton("New application"), "the New application button");
  await page.keyboard.press("Enter");
  await page.locator("dialog[open]").waitFor();
  // Focus moves into the dialog.
  await eventually(async () => assert.ok((await focused(page)).inDialog, "focus is not in the dialog"));
});

step("fill the form and create a test application with the keyboard", async () => {
  const { page } = session;
  await tabTo(page, (f) => f.inDialog && isField("Name")(f), "the Name field");
  await page.keyboard.type("Keyboard app");
  await tabTo(page, (f) => f.inDialog && (isField("Project")(f) || f.label === "Project"), "the Project field");
  await chooseByKeyboard(page, (t) => t.includes("Keyboard project"), "the project Keyboard project");
  await tabTo(page, (f) => f.inDialog && (isField("Environment")(f) || f.type === "radio"), "the Environment field");
  await chooseByKeyboard(page, (t) => /^\s*test\b/i.test(t), "the test environment");
  await tabTo(page, (f) => f.inDialog && isButton("Create")(f), "the Create button");
  await page.keyboard.press("Enter");
  const shown = await credentialsInDialog(page);
  assert.match(shown.clientId ?? "", /^ph_test_client_/);
  assert.match(shown.clientSecret ?? "", /^ph_test_secret_/);
  // Copy the client ID with the keyboard (the first Copy button in the dialog).
  await tabTo(page, (f) => f.inDialog && isButton("Copy")(f), "a Copy button");
  await page.evaluate(() => navigator.clipboard.writeText(""));
  await page.keyboard.press("Space");
  await eventually(async () => {
    const copied = (await readClipboard(page)).trim();
    assert.ok(Object.values(shown).includes(copied), `the clipboard holds ${JSON.stringify(copied.slice(0, 30))}`);
  });
  // Escape closes the dialog; the application is listed.
  await page.keyboard.press("Escape");
  await eventually(async () => assert.equal(await page.locator("dialog[open]").count(), 0, "Escape did not close the dialog"));
  await expectText(tableRow(page.getByRole("main"), "Keyboard app"), /test/i);
  await session.idle();
  assert.ok(!(await focused(page)).tag.match(/^BODY$/), "focus was lost (on <body>) after the dialog closed");
});

step("focus is visible on the focused control", async () => {
  const { page } = session;
  await tabTo(page, isLink("Projects"), "the Projects link");
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return { outline: style.outlineStyle, width: style.outlineWidth, shadow: style.boxShadow };
  });
  assert.ok(
    (outline.outline !== "none" && outline.width !== "0px") || (outline.shadow && outline.shadow !== "none"),
    `no visible focus indicator on the Projects link: ${JSON.stringify(outline)}`,
  );
});
