// Turns a bot message's text into DOM nodes, always as text (never innerHTML): quotes from
// the handouts become <blockquote> with the handout's title in <cite>, phone numbers become
// tel: links. Kept apart from the widget so the rules are easy to read and test.

const OPEN = "\u201c"; // “
const CLOSE = "\u201d"; // ”
const CITE = /^\s*\u2014\s+(.+)$/; // "— <handout title>"

/**
 * Splits a bot message into blocks: {type: "text", text} and
 * {type: "quote", quotes: [string], cite: string|null}. A quote runs from “ to ”, possibly
 * over several lines; consecutive quotes followed by a "— title" line share that title.
 */
export function parseBlocks(text) {
  const lines = String(text).split("\n");
  const blocks = [];
  let plain = [];
  const flushPlain = () => {
    if (plain.length) blocks.push({ type: "text", text: plain.join("\n") });
    plain = [];
  };
  let i = 0;
  while (i < lines.length) {
    const start = lines[i].indexOf(OPEN);
    if (start < 0) {
      plain.push(lines[i]);
      i += 1;
      continue;
    }
    // Collect one or more consecutive quotes, then an optional title line.
    const quotes = [];
    let j = i;
    let column = start;
    let ok = true;
    let lead = ""; // words before the first quote on its line
    while (j < lines.length && lines[j].indexOf(OPEN, column) >= 0) {
      const from = lines[j].indexOf(OPEN, column);
      const before = lines[j].slice(0, from);
      if (quotes.length > 0 && before.trim()) break; // words between two quotes: end this group
      // find the closing mark, possibly on a later line
      let k = j;
      let end = lines[k].indexOf(CLOSE, from + 1);
      while (end < 0 && k + 1 < lines.length) {
        k += 1;
        end = lines[k].indexOf(CLOSE);
      }
      if (end < 0) {
        ok = quotes.length > 0;
        break;
      }
      const body = k === j
        ? lines[j].slice(from + 1, end)
        : [lines[j].slice(from + 1), ...lines.slice(j + 1, k), lines[k].slice(0, end)].join("\n");
      if (quotes.length === 0 && before.trim()) lead = before.trimEnd();
      quotes.push(body);
      const rest = lines[k].slice(end + 1);
      if (rest.indexOf(OPEN) >= 0) {
        j = k;
        column = end + 1;
        continue;
      }
      j = k + 1;
      column = 0;
      if (rest.trim()) {
        lines.splice(j, 0, rest.trim()); // words after the quote on its line
        break;
      }
      if (!(j < lines.length && lines[j].trimStart().startsWith(OPEN))) break;
    }
    if (!ok || quotes.length === 0) {
      plain.push(lines[i]);
      i += 1;
      continue;
    }
    if (lead) plain.push(lead);
    flushPlain();
    let cite = null;
    if (j < lines.length && CITE.test(lines[j])) {
      cite = lines[j].match(CITE)[1].trim();
      j += 1;
    }
    blocks.push({ type: "quote", quotes, cite });
    i = j;
  }
  flushPlain();
  return blocks;
}

// A phone number: 7+ digits with spaces, dashes or brackets between, or a short emergency
// number given by the page (911 by default). Decimals such as 100.4 never match.
const PHONE = /\+?\d[\d ()-]{5,}\d/g;

/** Splits text into strings and {tel, text} parts for phone numbers. */
export function findPhones(text, emergencyNumbers = ["911"]) {
  const found = [];
  for (const match of text.matchAll(PHONE)) {
    const digits = match[0].replace(/\D/g, "");
    if (digits.length >= 7) found.push({ start: match.index, end: match.index + match[0].length });
  }
  for (const number of emergencyNumbers) {
    if (!/^\d{2,4}$/.test(number)) continue;
    const re = new RegExp(`(?<![\\d.])${number}(?![\\d.]\\d|\\d)`, "g");
    for (const match of text.matchAll(re)) {
      const start = match.index;
      const end = start + number.length;
      if (!found.some((f) => start < f.end && end > f.start)) found.push({ start, end });
    }
  }
  found.sort((a, b) => a.start - b.start);
  const parts = [];
  let at = 0;
  for (const { start, end } of found) {
    if (start > at) parts.push(text.slice(at, start));
    const shown = text.slice(start, end);
    parts.push({ tel: shown.replace(/[^\d+]/g, ""), text: shown });
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

/** Appends text to a node, with phone numbers as tel: links when `links` is set. */
export function appendText(doc, parent, text, options = {}) {
  if (!options.links) {
    parent.appendChild(doc.createTextNode(text));
    return;
  }
  for (const part of findPhones(text, options.emergencyNumbers)) {
    if (typeof part === "string") {
      parent.appendChild(doc.createTextNode(part));
    } else {
      const a = doc.createElement("a");
      a.href = `tel:${part.tel}`;
      a.className = "tel";
      a.textContent = part.text;
      parent.appendChild(a);
    }
  }
}

/** Renders a bot message's text as paragraphs and quotations into `parent`. */
export function renderBotText(doc, parent, text, options = {}) {
  for (const block of parseBlocks(text)) {
    if (block.type === "text") {
      const p = doc.createElement("p");
      appendText(doc, p, block.text, options);
      parent.appendChild(p);
      continue;
    }
    const figure = doc.createElement("figure");
    figure.className = "quote";
    const quote = doc.createElement("blockquote");
    for (const q of block.quotes) {
      const p = doc.createElement("p");
      appendText(doc, p, q, options);
      quote.appendChild(p);
    }
    figure.appendChild(quote);
    if (block.cite) {
      const caption = doc.createElement("figcaption");
      caption.appendChild(doc.createTextNode("\u2014 "));
      const cite = doc.createElement("cite");
      cite.textContent = block.cite;
      caption.appendChild(cite);
      figure.appendChild(caption);
    }
    parent.appendChild(figure);
  }
}
