// How the widget reads a bot message: quotes with their handout's title, phone numbers.
import assert from "node:assert/strict";
import { test } from "node:test";

import { palette, contrast, parseColor } from "../src/colors.js";
import { findPhones, parseBlocks } from "../src/render.js";

const HOME = "Medial Branch Neurotomy: What to Expect at Home";
const EXPERIENCE = "Medial Branch Neurotomy: Your Experience";

test("a warning: its first line as text, the quote over several lines, the title as cite", () => {
  const text = [
    "This may be an emergency.",
    "“Call 911 anytime you think you may need emergency care. For example, call if:",
    "• You passed out (lost consciousness).”",
    `— ${HOME}`,
  ].join("\n");
  assert.deepEqual(parseBlocks(text), [
    { type: "text", text: "This may be an emergency." },
    {
      type: "quote",
      quotes: ["Call 911 anytime you think you may need emergency care. For example, call if:\n• You passed out (lost consciousness)."],
      cite: HOME,
    },
  ]);
});

test("two handouts: two quotations, each with its own title; consecutive quotes share one", () => {
  const text = [
    "Please act on this now.",
    "“Call 911 anytime you think you may need emergency care.”",
    "“Call your doctor or nurse advice line now or seek immediate medical care if:”",
    `— ${HOME}`,
    "“Call your healthcare provider if you have:",
    "• Chills”",
    `— ${EXPERIENCE}`,
    "Test Spine Centre care team: 555-0199.",
  ].join("\n");
  const blocks = parseBlocks(text);
  assert.equal(blocks.length, 4);
  assert.deepEqual(blocks[1].quotes, [
    "Call 911 anytime you think you may need emergency care.",
    "Call your doctor or nurse advice line now or seek immediate medical care if:",
  ]);
  assert.equal(blocks[1].cite, HOME);
  assert.deepEqual(blocks[2], { type: "quote", quotes: ["Call your healthcare provider if you have:\n• Chills"], cite: EXPERIENCE });
  assert.deepEqual(blocks[3], { type: "text", text: "Test Spine Centre care team: 555-0199." });
});

test("text without quotation marks, or with an unclosed one, stays text", () => {
  assert.deepEqual(parseBlocks("I can't answer that."), [{ type: "text", text: "I can't answer that." }]);
  assert.deepEqual(parseBlocks("He said “hello"), [{ type: "text", text: "He said “hello" }]);
});

test("phone numbers become tel: parts; temperatures and short numbers do not", () => {
  const parts = findPhones("Care team: 555-0199. Fever over 100.4°F (38°C). Emergency: 911. Wait 24 hours.", ["911"]);
  const tels = parts.filter((p) => typeof p !== "string");
  assert.deepEqual(tels, [
    { tel: "5550199", text: "555-0199" },
    { tel: "911", text: "911" },
  ]);
  assert.equal(parts.map((p) => (typeof p === "string" ? p : p.text)).join(""),
    "Care team: 555-0199. Fever over 100.4°F (38°C). Emergency: 911. Wait 24 hours.");
  assert.deepEqual(findPhones("+1 (555) 010-0199")[0], { tel: "+15550100199", text: "+1 (555) 010-0199" });
});

test("the clinic's colour is kept readable: text on it and links on white reach 4.5:1", () => {
  for (const colour of ["#0b4f6c", "#ffcc00", "#7fdbff", "#777777", "#f00"]) {
    const p = palette(colour);
    assert.ok(contrast(parseColor(p.primary), parseColor(p.onPrimary)) >= 4.5, colour);
    assert.ok(contrast(parseColor(p.accent), [255, 255, 255]) >= 4.5, colour);
  }
  assert.equal(palette("red; background: url(x)").primary, "#005a9c", "anything but a hex colour is ignored");
});
