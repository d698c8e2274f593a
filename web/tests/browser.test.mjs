// The widget in a real browser (Debian's Chromium, driven by playwright-core) against the
// real Rasa server, by keyboard only: a question answered with a quotation, a warning sign
// answered with an alert, the history after a reload, a dropped connection with a message
// queued and delivered, HTML shown as text, axe-core's WCAG 2.1 AA rules, a 320 px phone.
//
// tests/e2e/test_widget.py starts the demo page server and runs this with:
//   DEMO_URL        the demo clinic page, its widget pointed at the test Rasa server
//   SCREENSHOT_DIR  where to save a screenshot of each step (results/screenshots)
//   CARE_TEAM_PHONE the test clinic's care team number, expected as a tel: link
//   CHROMIUM        the browser (default /usr/bin/chromium); never downloaded
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";

import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const DEMO_URL = process.env.DEMO_URL;
const SHOTS = process.env.SCREENSHOT_DIR || "screenshots";
const CARE_TEAM_PHONE = process.env.CARE_TEAM_PHONE || "555-0199";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const REPLY_TIMEOUT = 60_000;

const BATH = "Do not take a bath for the first 24";
const HOME = "Medial Branch Neurotomy: What to Expect at Home";
const XSS = `<img src=x onerror="window.__xss=1;alert(1)"><script>window.__xss=2</script><b>bold?</b>`;

function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

let shot = 0;
async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  shot += 1;
  const path = join(SHOTS, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Presses Tab (or Shift+Tab) until `locator` has the focus; fails after `max` presses. */
async function tabTo(page, locator, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i += 1) {
    if (await locator.evaluate((el) => el.getRootNode().activeElement === el).catch(() => false)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  assert.fail(`could not reach ${locator} by keyboard`);
}

/** The focus is visible: an outline of at least 2 px that is not transparent. */
async function assertVisibleFocus(locator) {
  const style = await locator.evaluate((el) => {
    const s = getComputedStyle(el);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor };
  });
  assert.notEqual(style.style, "none", "focused element has no outline");
  assert.ok(style.width >= 2, `focus outline only ${style.width}px`);
  assert.ok(!/rgba\(.*, 0\)$/.test(style.color), "focus outline is transparent");
}

async function say(page, text) {
  const input = page.getByLabel("Your message");
  const focused = await input.evaluate((el) => el.getRootNode().activeElement === el);
  assert.ok(focused, "the message box has the focus");
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
}

/** Waits until the widget has no message in flight (the server acknowledged the turn). */
async function turnOver(page) {
  await page.waitForFunction(() => {
    const w = window.spineChatWidget;
    return w && w.inflight.size === 0 && w.queue.length === 0;
  }, null, { timeout: REPLY_TIMEOUT });
}

async function runAxe(page, label) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const results = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  const summary = results.violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`);
  console.log(`axe ${label}: ${results.passes.length} rules passed; violations: ${summary.join(", ") || "none"}`);
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) })),
    [],
    `axe found serious or critical violations (${label})`,
  );
}

async function queueOf(page) {
  return page.evaluate(() => {
    const key = Object.keys(localStorage).find((k) => k.startsWith("spine-chat:") && k.endsWith(":queue"));
    return key ? JSON.parse(localStorage.getItem(key)) : [];
  });
}

test("the chat widget, by keyboard, in Chromium", { timeout: 600_000 }, async (t) => {
  assert.ok(DEMO_URL, "DEMO_URL is not set: run this through tests/e2e/test_widget.py");
  const browser = await launch();
  t.after(() => browser.close());
  const errors = [];
  const dialogs = [];

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // A switch for the network between the page and the Rasa server, to drop the connection.
  const network = { offline: false, sockets: new Set() };
  await context.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (network.offline) {
      ws.close({ code: 4000, reason: "offline" });
      return;
    }
    const server = ws.connectToServer();
    const pair = { ws, server };
    network.sockets.add(pair);
    ws.onClose(() => network.sockets.delete(pair));
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  await page.goto(DEMO_URL);

  const launcher = page.getByRole("button", { name: "Questions? Chat with us" });
  const input = page.getByLabel("Your message");
  const log = page.getByRole("log", { name: "Conversation" });
  const status = page.locator("#spine-chat-widget .status");

  await t.test("opens by keyboard, with a visible focus, and connects", async () => {
    await tabTo(page, launcher);
    await assertVisibleFocus(launcher);
    await page.keyboard.press("Enter");
    await input.waitFor({ state: "visible" });
    assert.ok(await input.evaluate((el) => el.getRootNode().activeElement === el), "focus moves to the message box");
    await assertVisibleFocus(input);
    await page.waitForFunction(
      () => document.querySelector("#spine-chat-widget").shadowRoot.querySelector(".status").dataset.state === "online",
      null, { timeout: 20_000 },
    );
    assert.equal((await status.textContent()).trim(), "Connected");
    await screenshot(page, "desktop-open");
  });

  await t.test("a question is answered with the handout's words as a quotation, typing shown meanwhile", async () => {
    await page.evaluate(() => {
      const typing = document.querySelector("#spine-chat-widget").shadowRoot.querySelector(".typing");
      window.__typingSeen = false;
      new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
        .observe(typing, { attributes: true, attributeFilter: ["hidden"] });
    });
    await say(page, "can I have a bath after it?");
    const quote = log.locator("figure.quote", { has: page.locator("blockquote", { hasText: BATH }) });
    await quote.waitFor({ timeout: REPLY_TIMEOUT });
    assert.equal((await quote.locator("figcaption cite").textContent()).trim(), HOME);
    assert.ok(await page.evaluate(() => window.__typingSeen), "the typing indicator was shown");
    await turnOver(page);
    assert.ok(await page.locator("#spine-chat-widget .typing").isHidden(), "and hidden when the turn is over");
    await screenshot(page, "desktop-quote");
  });

  await t.test("a warning sign gets an alert (role=alert) with the numbers as tel: links", async () => {
    await say(page, "I passed out");
    const alert = page.getByRole("alert").filter({ hasText: "Call 911" });
    await alert.waitFor({ timeout: REPLY_TIMEOUT });
    assert.match(await alert.getAttribute("class"), /alert-emergency/);
    const careTeam = alert.locator(`a[href="tel:${CARE_TEAM_PHONE.replace(/[^\d+]/g, "")}"]`);
    await careTeam.waitFor({ timeout: REPLY_TIMEOUT });
    assert.ok(await alert.locator('a[href="tel:911"]').count() >= 1, "911 is a tel: link");
    assert.ok(await alert.locator("blockquote").count() >= 1, "the warning is quoted");
    await turnOver(page);
    await screenshot(page, "desktop-alert");
  });

  await t.test("a yes/no question's buttons work by keyboard", async () => {
    // right after a warning, feeling unwell repeats the warning; after a thanks, it is asked about
    await say(page, "thanks");
    await turnOver(page);
    await say(page, "i feel really rough, something is not right");
    const yes = log.getByRole("button", { name: "Yes" });
    await yes.waitFor({ timeout: REPLY_TIMEOUT });
    await turnOver(page);
    await tabTo(page, yes, { back: true });
    await assertVisibleFocus(yes);
    await page.keyboard.press("Enter");
    await log.locator(".msg.user", { hasText: /^You said: Yes$/ }).waitFor({ timeout: REPLY_TIMEOUT });
    await page.getByRole("alert").filter({ hasText: "Please act on this now." }).waitFor({ timeout: REPLY_TIMEOUT });
    await turnOver(page);
    assert.ok(await input.evaluate((el) => el.getRootNode().activeElement === el), "focus back in the message box");
  });

  await t.test("HTML and script in a message are shown as text, never run", async () => {
    await say(page, XSS);
    await turnOver(page);
    const mine = log.locator(".msg.user p").last();
    assert.equal(await mine.textContent(), XSS);
    assert.equal(await page.locator("#spine-chat-widget img, #spine-chat-widget script, #spine-chat-widget b").count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.deepEqual(dialogs, []);
    await mine.scrollIntoViewIfNeeded();
    await screenshot(page, "desktop-html-as-text");
  });

  await t.test("axe-core: no serious or critical WCAG 2.1 A/AA violations (desktop)", async () => {
    await runAxe(page, "desktop, after a warning");
  });

  await t.test("a reload continues the conversation and shows its history", async () => {
    await page.reload();
    await log.locator("figure.quote", { hasText: BATH }).waitFor({ timeout: 20_000 });
    const texts = await log.locator(".msg.user p").allTextContents();
    assert.deepEqual(texts.slice(0, 2), ["can I have a bath after it?", "I passed out"]);
    assert.ok(texts.includes(XSS), "the HTML message is in the history, as text");
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    const warning = log.locator(".alert-emergency", { hasText: "Call 911" });
    assert.equal(await warning.count(), 1);
    assert.ok(await warning.locator('a[href^="tel:"]').count() >= 2);
    assert.equal(await page.getByRole("alert").count(), 0, "an old warning is not announced again");
    await screenshot(page, "desktop-history-after-reload");
  });

  await t.test("a dropped connection: shown, a message typed meanwhile is queued and sent on reconnect", async () => {
    network.offline = true;
    for (const { ws, server } of network.sockets) {
      await ws.close({ code: 4001, reason: "network down" });
      await server.close();
    }
    await page.waitForFunction(
      () => document.querySelector("#spine-chat-widget").shadowRoot.querySelector(".status").dataset.state === "offline",
      null, { timeout: 20_000 },
    );
    assert.match(await status.textContent(), /Offline/);
    await tabTo(page, input);
    await say(page, "can I drive myself home?");
    const pending = log.locator(".msg.user", { hasText: "can I drive myself home?" });
    await pending.locator(".state", { hasText: "Not sent yet" }).waitFor();
    const [queued] = await queueOf(page);
    assert.equal(queued.text, "can I drive myself home?");
    assert.match(queued.message_id, /^[0-9a-f]{32}$/);
    await screenshot(page, "desktop-offline-queued");
    // even a reload while offline keeps it
    await page.reload();
    await log.locator(".msg.user", { hasText: "can I drive myself home?" }).waitFor();
    assert.equal((await queueOf(page)).length, 1);
    network.offline = false; // the network is back: the widget reconnects by itself
    await page.waitForFunction(
      () => document.querySelector("#spine-chat-widget").shadowRoot.querySelector(".status").dataset.state === "online",
      null, { timeout: 30_000 },
    );
    await log.locator(".msg.bot", { hasText: "drive" }).last().waitFor({ timeout: REPLY_TIMEOUT });
    await turnOver(page);
    assert.deepEqual(await queueOf(page), []);
    assert.equal(await log.locator(".msg.user", { hasText: "can I drive myself home?" }).count(), 1);
    assert.equal(await log.locator(".state").count(), 0, "nothing left pending");
  });

  await t.test("Escape closes the chat and gives the focus back to its button", async () => {
    await tabTo(page, input);
    await page.keyboard.press("Escape");
    assert.ok(await launcher.evaluate((el) => el.getRootNode().activeElement === el));
    await page.keyboard.press("Enter");
    await input.waitFor({ state: "visible" });
  });

  await t.test("usable on a 320 px wide phone", async () => {
    const phone = await browser.newContext({ viewport: { width: 320, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const mobile = await phone.newPage();
    mobile.on("pageerror", (error) => errors.push(String(error)));
    await mobile.goto(DEMO_URL);
    await screenshot(mobile, "phone-page");
    const mLauncher = mobile.getByRole("button", { name: "Questions? Chat with us" });
    await tabTo(mobile, mLauncher);
    await mobile.keyboard.press("Enter");
    const mInput = mobile.getByLabel("Your message");
    await mInput.waitFor({ state: "visible" });
    await mobile.waitForFunction(() => window.spineChatWidget && window.spineChatWidget.confirmed, null, { timeout: 20_000 });
    await say(mobile, "I passed out");
    const alert = mobile.getByRole("alert").filter({ hasText: "Call 911" });
    await alert.waitFor({ timeout: REPLY_TIMEOUT });
    // a first message: no custom action has put the clinic's numbers in slots yet, so the
    // numbers part points to the patient's papers; 911 is a link either way
    await alert.locator(".contacts").waitFor({ timeout: REPLY_TIMEOUT });
    await alert.locator('a[href="tel:911"]').first().waitFor();
    await turnOver(mobile);
    const within = async (locator, what) => {
      const box = await locator.boundingBox();
      assert.ok(box, `${what} is not rendered`);
      assert.ok(box.x >= 0 && box.x + box.width <= 320.5, `${what} does not fit in 320 px: ${JSON.stringify(box)}`);
    };
    await within(mobile.locator("#spine-chat-widget .panel"), "the chat panel");
    await within(mInput, "the message box");
    await within(mobile.getByRole("button", { name: "Send" }), "the Send button");
    await within(mobile.getByRole("button", { name: "Close chat" }), "the Close button");
    await within(alert, "the alert");
    const overflow = await mobile.evaluate(() => {
      const log = document.querySelector("#spine-chat-widget").shadowRoot.querySelector(".log");
      return { page: document.documentElement.scrollWidth, log: log.scrollWidth - log.clientWidth };
    });
    assert.ok(overflow.page <= 320, `the page scrolls sideways: ${overflow.page}px`);
    assert.ok(overflow.log <= 0, "the conversation scrolls sideways");
    await screenshot(mobile, "phone-alert");
    await runAxe(mobile, "320 px phone");
    await phone.close();
  });

  assert.deepEqual(errors, [], "no script errors on the page");
});
