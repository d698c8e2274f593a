// Colour helpers that keep the clinic's chosen colour readable (WCAG 2.1 AA, 4.5:1): the
// text on it is white or black, whichever contrasts more, and where the colour is used on
// white (links, quote bars) it is darkened until it reaches 4.5:1.

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;

export function parseColor(value) {
  const match = HEX.exec(String(value || "").trim());
  if (!match) return null;
  let hex = match[1];
  if (hex.length === 3) hex = hex.split("").map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

function luminance([r, g, b]) {
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const toHex = (rgb) => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;
const WHITE = [255, 255, 255];
const BLACK = [0, 0, 0];

/** The colours the widget uses, from the clinic's primary colour. */
export function palette(primary, fallback = "#005a9c") {
  const rgb = parseColor(primary) || parseColor(fallback);
  const onPrimary = contrast(rgb, WHITE) >= contrast(rgb, BLACK) ? WHITE : BLACK;
  let accent = rgb;
  for (let i = 0; i < 40 && contrast(accent, WHITE) < 4.5; i += 1) {
    accent = accent.map((v) => v * 0.9);
  }
  return { primary: toHex(rgb), onPrimary: toHex(onPrimary), accent: toHex(accent) };
}
