/** Tiny handcrafted image headers (no pixels): what sniff.ts reads, for unit and Workers tests. */
export const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));
export const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
export const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
export const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];

export const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
export const png = (w: number, h: number) => bytes(PNG_SIG, be32(13), "IHDR", be32(w), be32(h), [8, 6, 0, 0, 0], be32(0));
export const gif = (w: number, h: number) => bytes("GIF89a", le16(w), le16(h), [0, 0, 0]);
/** SOI, an APP0 (JFIF) segment, a DQT-like segment, then SOF0 (or SOF2). */
export const jpeg = (w: number, h: number, sof = 0xc0) =>
  bytes([0xff, 0xd8], [0xff, 0xe0], be16(16), "JFIF", [0, 1, 1, 0, 0, 1, 0, 1, 0, 0], [0xff, 0xdb], be16(4), [0, 0], [0xff, sof], be16(17), [8], be16(h), be16(w), [3]);
const riff = (chunk: number[]) => bytes("RIFF", [0, 0, 0, 0], "WEBP", chunk);
export const webpLossy = (w: number, h: number) => riff([...bytes("VP8 ", [0, 0, 0, 0], [0, 0, 0], [0x9d, 0x01, 0x2a], le16(w), le16(h))]);
export const webpLossless = (w: number, h: number) => {
  const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
  return riff([...bytes("VP8L", [0, 0, 0, 0], [0x2f], [bits & 255, (bits >>> 8) & 255, (bits >>> 16) & 255, (bits >>> 24) & 255])]);
};
export const webpExtended = (w: number, h: number) => riff([...bytes("VP8X", [10, 0, 0, 0], [0, 0, 0, 0], le24(w - 1), le24(h - 1))]);
const box = (type: string, content: number[]) => [...be32(8 + content.length), ...bytes(type), ...content];
const fullBox = (type: string, content: number[]) => box(type, [0, 0, 0, 0, ...content]);
export const avif = (w: number, h: number, brand = "avif") =>
  new Uint8Array([
    ...box("ftyp", [...bytes(brand), 0, 0, 0, 0, ...bytes("mif1"), ...bytes("miaf")]),
    ...fullBox("meta", [...fullBox("hdlr", [0, 0, 0, 0, ...bytes("pict"), ...new Array(13).fill(0)]), ...box("iprp", box("ipco", fullBox("ispe", [...be32(w), ...be32(h)])))]),
  ]);

