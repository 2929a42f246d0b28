// Shared helpers for the console journeys: a fresh server per journey, headless Debian
// chromium through playwright-core, a loopback webhook receiver, an axe-core scan, polling
// assertions (no fixed sleeps) and screenshots.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { mkdtemp, mkdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");

export const BINARY = path.resolve(repo, process.env.COBINAR_BINARY ?? "build/cobinar-phone");
export const CHROMIUM = process.env.COBINAR_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = path.resolve(
  process.env.COBINAR_SCREENSHOTS_DIR ?? path.join(tmpdir(), "cobinar-console-screenshots"),
);
/** Longest wait of any single polling assertion or locator action (ms). */
export const TIMEOUT = Number(process.env.COBINAR_CONSOLE_TIMEOUT_MS ?? 10_000);

export const PASSWORD = "correct horse battery staple";
/** A virtual number: test apps and +999 numbers always deliver to the inbox. */
export const PHONE = "+999 123 456 789";

// ---------------------------------------------------------------------------------------------
// Server

// Servers still running when the test process exits (a crash, say) are killed with it.
const liveServers = new Set();
process.once("exit", () => {
  for (const child of liveServers) child.kill("SIGKILL");
});

const SERVE_ARGS = ["--signup", "open", "--sms-driver", "inbox", "--webhook-allow-http", "--webhook-allow-private"];

/**
 * Starts BINARY on a fresh database in a new temporary directory (or `dir`, to restart on the
 * same database and key file), on a free loopback port (or `port`), and waits for its
 * `listening` log line. Returns { url, origin, port, dir, db, stderr(), stop(), restart(opts) }.
 */
export async function startServer({ dir, port = 0, args = [] } = {}) {
  const fresh = dir === undefined;
  dir ??= await mkdtemp(path.join(tmpdir(), "cobinar-console-"));
  const db = path.join(dir, "data.sqlite");
  const child = spawn(BINARY, ["--db", db, "--listen", `127.0.0.1:${port}`, ...SERVE_ARGS, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  liveServers.add(child);
  child.once("exit", () => liveServers.delete(child));
  let log = "";
  const listening = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const line = log.split("\n").find((l) => l.includes("listening") && /address=127\.0\.0\.1:\d+/.test(l));
      if (line) {
        child.stderr.off("data", onData);
        child.stderr.on("data", (more) => (log += more));
        resolve(Number(/address=127\.0\.0\.1:(\d+)/.exec(line)[1]));
      }
    };
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", onData);
    child.once("exit", (code, signal) => reject(new Error(`server exited (${code ?? signal}) before listening:\n${log}`)));
    child.once("error", (error) => reject(new Error(`cannot start ${BINARY} (set COBINAR_BINARY): ${error.message}`)));
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const boundPort = await listening
    .catch(async (error) => {
      if (fresh) await rm(dir, { recursive: true, force: true });
      throw error;
    })
    .finally(() => clearTimeout(timer));
  const origin = `http://127.0.0.1:${boundPort}`;
  let stopped = false;
  const server = {
    origin,
    url: `${origin}/console/`,
    port: boundPort,
    dir,
    db,
    stderr: () => log,
    /** Stops the server (SIGTERM, then SIGKILL after 10 s); keeps the directory. */
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(kill);
    },
    /** Stops it and starts it again on the same database, key file and port. */
    async restart(opts = {}) {
      await server.stop();
      return startServer({ dir, port: boundPort, ...opts });
    },
    /** Stops it and deletes its directory. */
    async dispose() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Runs one command of BINARY (e.g. ["developer", "disable", "--email", e]) on the server's db. */
export async function runCommand(server, args, input) {
  const child = spawn(BINARY, [...args, "--db", server.db], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  child.stdin.end(input ?? "");
  const [code] = await once(child, "exit");
  return { code, stdout, stderr };
}

/** A JSON call to the server's API; returns { status, headers, body }. */
export async function api(server, method, pathname, { body, token, headers = {} } = {}) {
  const response = await fetch(server.origin + pathname, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, body: json };
}

/** Signs a developer up through the API (for journeys that are not about signing up). */
export async function signUpViaApi(server, email, password = PASSWORD, name = "Ada Tester") {
  const r = await api(server, "POST", "/v1/auth/signup", { body: { email, password, name } });
  assert.equal(r.status, 201, `signup: ${JSON.stringify(r.body)}`);
  return r.body.data;
}

/** Seeds a project (and optionally a test application) through the API. */
export async function seedProject(server, token, name = "Seed project", description = "") {
  const r = await api(server, "POST", "/v1/projects", { token, body: { name, description } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data;
}

export async function seedApplication(server, token, projectId, name = "Seed app", environment = "test") {
  const r = await api(server, "POST", "/v1/applications", { token, body: { name, projectId, environment } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data;
}

/** The app-auth headers of a credentials object { clientId, clientSecret, apiKey }. */
export function appHeaders(c) {
  return { "x-client-id": c.clientId, "x-client-secret": c.clientSecret, "x-api-key": c.apiKey };
}

export async function sendOtp(server, credentials, phone = PHONE) {
  return api(server, "POST", "/v1/otp/send", { headers: appHeaders(credentials), body: { phone } });
}

export async function verifyOtp(server, credentials, requestId, code) {
  return api(server, "POST", "/v1/otp/verify", { headers: appHeaders(credentials), body: { requestId, code } });
}

// ---------------------------------------------------------------------------------------------
// Browser

let browserPromise = null;

/** One headless chromium per test file (launched on first use). */
export function browser() {
  browserPromise ??= chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
    timeout: 60_000,
  });
  return browserPromise;
}

export async function closeBrowser() {
  if (!browserPromise) return;
  const b = await browserPromise;
  browserPromise = null;
  await b.close();
}

/**
 * A fresh context and page on the server's console. Every request the page makes to another
 * origin is recorded in `foreign` (the console must need no network beyond the server).
 * Console errors and uncaught page errors are recorded in `errors`, answers of 400 and up
 * ("401 GET /v1/projects") in `failures`, and the sign-in/sign-up/refresh answers (with their
 * bodies) in `authResponses`.
 */
export async function openConsole(server, { width = 1440, height = 900, clipboard = true } = {}) {
  const b = await browser();
  // The console's own CSP stays on (no bypassCSP): axe is evaluated through the protocol.
  const context = await b.newContext({ viewport: { width, height }, locale: "en-US", timezoneId: "UTC" });
  if (clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.origin });
  context.setDefaultTimeout(TIMEOUT);
  context.setDefaultNavigationTimeout(TIMEOUT * 2);
  const page = await context.newPage();
  const foreign = [];
  const errors = [];
  const authResponses = [];
  page.on("request", (request) => {
    const url = request.url();
    if (/^(data|blob|about):/.test(url)) return;
    if (new URL(url).origin !== server.origin) foreign.push(`${request.method()} ${url}`);
  });
  const failures = [];
  let inFlight = 0;
  let lastActivity = Date.now();
  const isApi = (request) => new URL(request.url()).pathname.startsWith("/v1/");
  page.on("request", (request) => {
    if (isApi(request)) (inFlight += 1), (lastActivity = Date.now());
  });
  for (const event of ["requestfinished", "requestfailed"]) {
    page.on(event, (request) => {
      if (isApi(request)) (inFlight -= 1), (lastActivity = Date.now());
    });
  }
  /** Waits until no API request has been in flight for `quietMs` (the page has loaded its data). */
  const idle = (quietMs = 300) =>
    eventually(async () => assert.ok(inFlight === 0 && Date.now() - lastActivity >= quietMs, `${inFlight} API requests in flight`), {
      interval: 50,
    });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // A failed request is logged as "Failed to load resource"; those are in `failures`.
    if (message.type() === "error" && !/^Failed to load resource/.test(message.text())) {
      errors.push(`console.error: ${message.text()}`);
    }
  });
  page.on("response", async (response) => {
    if (response.status() >= 400) {
      const url = new URL(response.url());
      failures.push(`${response.status()} ${response.request().method()} ${url.pathname}${url.search}`);
    }
    if (!/\/v1\/auth\/(login|signup|refresh)$/.test(new URL(response.url()).pathname)) return;
    try {
      authResponses.push({ url: response.url(), status: response.status(), body: await response.json() });
    } catch {
      authResponses.push({ url: response.url(), status: response.status(), body: null });
    }
  });
  lastPage = page;
  await page.goto(server.url);
  return { context, page, foreign, errors, failures, authResponses, idle, close: () => context.close() };
}

let lastPage = null;

/**
 * A journey's steps: node:test tests run in order and share state; once a step fails, the
 * later ones are skipped (naming the failed step) — except checks (`step.check(...)`), which
 * leave the state as they found it, so their failure skips nothing. A failing page is saved
 * as SCREENSHOTS/failed-<journey>-<step>.png.
 */
export function journey(name) {
  let failed = null;
  const define = (independent) => (title, fn) =>
    test(title, async (t) => {
      if (failed) return t.skip(`skipped: step "${failed}" failed`);
      try {
        await fn(t);
      } catch (error) {
        if (!independent) failed = title;
        if (lastPage && !lastPage.isClosed()) {
          const slug = `${name}-${title}`.replace(/[^a-z0-9]+/gi, "-").slice(0, 80);
          await screenshot(lastPage, `failed-${slug}`).then(
            (file) => console.log(`# failure screenshot: ${file}`),
            () => {},
          );
        }
        throw error;
      }
    });
  const step = define(false);
  step.check = define(true);
  return step;
}

// ---------------------------------------------------------------------------------------------
// Locators by the accessible names the console promises (SPEC §13)

export const field = (scope, name) => scope.getByLabel(name, { exact: true });
export const button = (scope, name) => scope.getByRole("button", { name, exact: true });
export const navLink = (page, name) => page.getByRole("navigation").getByRole("link", { name, exact: true });
export const dialog = (page) => page.locator("dialog[open]").or(page.getByRole("dialog")).first();

/** The sign-in form is showing (the Sign in button and the Email field). */
export async function expectSignInForm(page, timeout = TIMEOUT) {
  await button(page, "Sign in").waitFor({ state: "visible", timeout });
  await field(page, "Email").waitFor({ state: "visible", timeout });
}

/** Signs in through the form with the mouse and keyboard (fill + click). */
export async function signIn(page, email, password = PASSWORD) {
  await expectSignInForm(page);
  await field(page, "Email").fill(email);
  await field(page, "Password").fill(password);
  await button(page, "Sign in").click();
  await button(page, "Sign in").waitFor({ state: "detached" });
  await page.getByRole("main").getByRole("heading", { level: 1 }).first().waitFor();
}

/** Clicks a navigation link and waits for the hash route and the page's main heading. */
export async function goTo(page, name) {
  const link = navLink(page, name);
  const href = await link.getAttribute("href");
  await link.click();
  await eventually(async () => {
    if (href?.startsWith("#")) assert.equal(new URL(page.url()).hash.split("?")[0], href.split("?")[0], `route of ${name}`);
    const h = await page.getByRole("main").getByRole("heading", { level: 1 }).first().textContent();
    assert.match(h ?? "", new RegExp(name, "i"), `heading of ${name}`);
  });
}

/** The value shown by an element: an input's value, else its text. */
export async function valueOf(locator) {
  await locator.waitFor({ state: "attached" });
  return (
    await locator.evaluate((el) =>
      "value" in el && typeof el.value === "string" && el.tagName !== "BUTTON" && el.tagName !== "OUTPUT"
        ? el.value
        : el.textContent,
    )
  ).trim();
}

/** Reads the system clipboard the page sees (the context is granted clipboard-read). */
export async function readClipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Rows of the tables in `scope` whose text contains `text` (string or RegExp). */
export function tableRow(scope, text) {
  return scope.locator("table").getByRole("row").filter({ hasText: text });
}

// ---------------------------------------------------------------------------------------------
// Polling assertions

/** Retries `fn` (an assertion) until it passes or `timeout` ms pass; rethrows the last failure. */
export async function eventually(fn, { timeout = TIMEOUT, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 1.5, 500);
  }
}

/** Waits until the locator's text matches `pattern` (string: contains; RegExp: matches). */
export async function expectText(locator, pattern, { timeout = TIMEOUT } = {}) {
  await eventually(
    async () => {
      const text = (await locator.first().innerText({ timeout: 1000 })).replace(/\s+/g, " ");
      if (pattern instanceof RegExp) assert.match(text, pattern);
      else assert.ok(text.includes(pattern), `expected ${JSON.stringify(pattern)} in ${JSON.stringify(text.slice(0, 500))}`);
    },
    { timeout },
  );
}

// ---------------------------------------------------------------------------------------------
// Accessibility, layout, screenshots

let axeSource = null;

/**
 * Runs axe-core on the page and fails on serious or critical violations, listing each one.
 * The console's CSP forbids inline scripts, so axe's source is evaluated through the
 * DevTools protocol (page.evaluate), which CSP does not govern.
 */
export async function checkA11y(page, label) {
  axeSource ??= await readFile(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");
  const loaded = await page.evaluate(() => typeof window.axe === "object");
  if (!loaded) await page.evaluate(`${axeSource}\n;void 0`);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(" ")} — ${n.failureSummary?.split("\n").slice(1).join(" ").trim()}`),
    }));
  });
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = violations.filter((v) => !bad.includes(v));
  if (minor.length) {
    console.log(`axe (${label}): ${minor.length} minor/moderate: ${minor.map((v) => `${v.id}(${v.impact})`).join(", ")}`);
  }
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 5).join("\n    ")}`),
    [],
    `axe found serious/critical violations on ${label}`,
  );
}

/** The page has no horizontal scroll (document wider than the viewport). */
export async function expectNoHorizontalScroll(page, label) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(
    Math.max(m.scrollWidth, m.bodyScrollWidth) <= m.clientWidth,
    `${label}: horizontal scroll at ${m.clientWidth}px (content ${Math.max(m.scrollWidth, m.bodyScrollWidth)}px wide)`,
  );
}

/**
 * The tables in the main region that do not fit their box (an action button, say, cut off
 * behind a horizontal scroll), as sentences. Meant for desktop widths; at phone widths a
 * table may scroll inside its box.
 */
export async function tablesCutOff(page) {
  return page
    .getByRole("main")
    .locator("table")
    .evaluateAll((tables) =>
      tables
        .filter((t) => t.getClientRects().length > 0)
        .map((t) => ({
          caption: t.caption?.textContent.trim() ?? "(no caption)",
          table: Math.ceil(t.getBoundingClientRect().width),
          box: t.parentElement.clientWidth,
        }))
        .filter((t) => t.table > t.box + 1)
        .map((t) => `table "${t.caption}" is ${t.table}px wide in a ${t.box}px box`),
    );
}

/** Saves a screenshot of the viewport as SCREENSHOTS/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
  return file;
}

// ---------------------------------------------------------------------------------------------
// Webhook receiver

/**
 * A loopback HTTP receiver that records each request ({ method, url, headers, body, json })
 * and answers with `status` (switch with setStatus(500) / setStatus(200)).
 */
export async function startReceiver() {
  const requests = [];
  let status = 200;
  const http = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let json = null;
      try {
        json = JSON.parse(body);
      } catch {}
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, json, answered: status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "failing on purpose");
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const port = http.address().port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    setStatus: (s) => (status = s),
    close: () => new Promise((resolve) => http.close(resolve)),
  };
}

/** The developer of each journey (every journey has a fresh server and database). */
export const EMAIL = "ada@example.com";

// ---------------------------------------------------------------------------------------------
// Console actions shared by journeys

/**
 * Picks `choice` (string or RegExp, matched against the option's text or value) in the form
 * control labelled `name`: a <select>, or a group of radio buttons.
 */
export async function choose(scope, name, choice) {
  const control = field(scope, name);
  const tag = await control
    .first()
    .evaluate((el) => el.tagName)
    .catch(() => null);
  const matches = (s) => (choice instanceof RegExp ? choice.test(s) : s.trim() === choice);
  if (tag === "SELECT") {
    const options = await control.first().locator("option").evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent })));
    const option = options.find((o) => matches(o.text) || matches(o.value));
    assert.ok(option, `no option ${choice} in ${name}: ${JSON.stringify(options)}`);
    await control.first().selectOption(option.value);
    return;
  }
  // A radio group (fieldset/legend or role=radiogroup) named `name`.
  const group = scope.getByRole("radiogroup", { name, exact: true }).or(scope.getByRole("group", { name, exact: true }));
  await group.first().getByRole("radio", { name: choice }).check();
}

/** The credentials shown in the open dialog, by their labels (absent ones are undefined). */
export async function credentialsInDialog(page) {
  const d = dialog(page);
  await field(d, "Client ID").first().waitFor({ state: "visible" });
  const out = {};
  for (const [key, label] of [
    ["clientId", "Client ID"],
    ["clientSecret", "Client secret"],
    ["apiKey", "API key"],
    ["webhookSecret", "Webhook secret"],
  ]) {
    const el = field(d, label);
    if ((await el.count()) > 0) out[key] = await valueOf(el.first());
  }
  return out;
}

const CREDENTIAL_PATTERNS = {
  clientId: /^ph_(test|live)_client_[0-9a-f]{48}$/,
  clientSecret: /^ph_(test|live)_secret_[0-9a-f]{48}$/,
  apiKey: /^ph_(test|live)_api_[0-9a-f]{48}$/,
  webhookSecret: /^whsec_[0-9a-f]{48}$/,
};

/** Which credential a copied value is (by its format), or null. */
export function credentialKind(value) {
  for (const [kind, pattern] of Object.entries(CREDENTIAL_PATTERNS)) if (pattern.test(value)) return kind;
  return null;
}

/**
 * Clicks every `Copy` button in the open dialog and reads the clipboard after each, returning
 * the copied credentials by kind (told apart by their formats).
 */
export async function copyCredentialsFromDialog(page) {
  const d = dialog(page);
  const copies = button(d, "Copy");
  const n = await copies.count();
  assert.ok(n >= 3, `expected a Copy button per credential in the dialog, found ${n}`);
  const copied = {};
  for (let i = 0; i < n; i++) {
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await copies.nth(i).click();
    const value = await eventually(async () => {
      const v = (await readClipboard(page)).trim();
      assert.ok(v, `Copy button ${i + 1} put nothing on the clipboard`);
      return v;
    });
    const kind = credentialKind(value);
    assert.ok(kind, `Copy button ${i + 1} copied something that is no credential: ${value.slice(0, 40)}`);
    copied[kind] = value;
  }
  return copied;
}

/** Closes the open dialog with its close/done button (or Escape) and waits until it is gone. */
export async function closeDialog(page) {
  const d = dialog(page);
  const closer = d.getByRole("button", { name: /^(close|done|ok|i('| ha)ve (saved|copied) (them|it)|cancel)\b/i });
  if ((await closer.count()) > 0) await closer.first().click();
  else await page.keyboard.press("Escape");
  await eventually(async () => assert.equal(await page.locator("dialog[open]").count(), 0, "the dialog is still open"));
}

/** Creates a project through the console's New project dialog. */
export async function createProjectUI(page, name, description = "") {
  await goTo(page, "Projects");
  await button(page, "New project").click();
  const d = dialog(page);
  await field(d, "Name").fill(name);
  if (description) await field(d, "Description").fill(description);
  await button(d, "Create").click();
  await expectText(page.getByRole("main").locator("table"), name);
}

/**
 * Creates an application through the console's New application dialog; leaves the
 * credentials dialog open.
 */
export async function createApplicationUI(page, name, projectName, environment = "test") {
  await goTo(page, "Applications");
  await button(page, "New application").click();
  const d = dialog(page);
  await field(d, "Name").fill(name);
  await choose(d, "Project", projectName);
  await choose(d, "Environment", new RegExp(`^\\s*${environment}\\b`, "i"));
  await button(d, "Create").click();
  await field(dialog(page), "Client ID").first().waitFor({ state: "visible" });
}
