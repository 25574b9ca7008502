// Draws the app's icons (a white speech bubble on the accent colour) into web/public/icons: SVG for
// browsers that take it, and the PNG sizes that installing needs, rasterised here (4×4 samples per
// pixel) and written as plain PNG with node:zlib, so no image tool or download is involved.
// Run: node scripts/icons.mjs (the output is committed; run again only to change the drawing).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

const dir = join(import.meta.dirname, "..", "web", "public", "icons");
const ACCENT = [0x2f, 0x6f, 0xed];
const WHITE = [0xff, 0xff, 0xff];

// The drawing in a 0..1 square. `pad` shrinks the bubble towards the centre: a maskable icon keeps
// everything inside the central circle of 80 % (the platform may cut the rest away).
const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
function bubble(x, y, pad) {
  const s = (v) => 0.5 + (v - 0.5) * (1 - pad);
  if (inRoundRect(x, y, s(0.2), s(0.24), s(0.8), s(0.68), 0.12 * (1 - pad))) return true;
  // The tail: a triangle under the bubble's lower left.
  const [ax, ay, bx, by, cx, cy] = [s(0.3), s(0.6), s(0.48), s(0.66), s(0.28), s(0.82)];
  const d = (px, py, qx, qy) => (x - qx) * (py - qy) - (px - qx) * (y - qy);
  const d1 = d(ax, ay, bx, by), d2 = d(bx, by, cx, cy), d3 = d(cx, cy, ax, ay);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

function png(size, maskable) {
  const N = 4;
  const rows = [];
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0, then RGBA
    for (let px = 0; px < size; px++) {
      let bg = 0, fg = 0;
      for (let i = 0; i < N * N; i++) {
        const x = (px + ((i % N) + 0.5) / N) / size, y = (py + (Math.floor(i / N) + 0.5) / N) / size;
        // "any": a rounded square with transparent corners; maskable: the colour to the edges.
        if (!maskable && !inRoundRect(x, y, 0, 0, 1, 1, 0.22)) continue;
        if (bubble(x, y, maskable ? 0.2 : 0)) fg++;
        else bg++;
      }
      const a = (bg + fg) / (N * N);
      const o = 1 + px * 4;
      for (let c = 0; c < 3; c++) row[o + c] = a === 0 ? 0 : Math.round((ACCENT[c] * bg + WHITE[c] * fg) / (bg + fg));
      row[o + 3] = Math.round(a * 255);
    }
    rows.push(row);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter method, not interlaced
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

// The same drawing as SVG (the page's favicon follows the system's dark mode).
const path = (pad) => {
  const s = (v) => +(100 * (0.5 + (v - 0.5) * (1 - pad))).toFixed(1);
  const r = +(12 * (1 - pad)).toFixed(1);
  return `<rect x="${s(0.2)}" y="${s(0.24)}" width="${s(0.8) - s(0.2)}" height="${s(0.68) - s(0.24)}" rx="${r}"/><path d="M${s(0.3)} ${s(0.6)}L${s(0.48)} ${s(0.66)}L${s(0.28)} ${s(0.82)}z"/>`;
};
const svg = (maskable) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">` +
  (maskable ? "" : `<style>@media(prefers-color-scheme:dark){.b{fill:#5b8cff}.f{fill:#0b0d12}}</style>`) +
  `<rect class="b" width="100" height="100" rx="${maskable ? 0 : 22}" fill="#2f6fed"/><g class="f" fill="#fff">${path(maskable ? 0.2 : 0)}</g></svg>\n`;

writeFileSync(join(dir, "icon.svg"), svg(false));
writeFileSync(join(dir, "maskable.svg"), svg(true));
for (const size of [192, 512]) writeFileSync(join(dir, `icon-${size}.png`), png(size, false));
writeFileSync(join(dir, "maskable-512.png"), png(512, true));
console.log("icons written to web/public/icons");
