/**
 * What a file's first bytes say it is (PROTOCOL.md 7.4): PNG, JPEG, GIF, WebP or AVIF, and the
 * image's width and height read from its header, without decoding any pixel. Pure functions over a
 * prefix of the file (HEAD_BYTES of it; see stream.ts): a declared type is never trusted, and
 * anything these do not recognise is served as a download.
 */

export type ImageType = "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif";
export const IMAGE_TYPES: readonly ImageType[] = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"];

export interface Sniffed {
  type: ImageType;
  /** Both set, or neither (when the header was cut off or made no sense). */
  width?: number;
  height?: number;
}

/** How much of a file's start is kept for sniffing: JPEG's size can follow 64 KiB of EXIF. */
export const HEAD_BYTES = 128 * 1024;
/** Sizes above this are not believed (no browser draws a 100 000-pixel-wide image). */
const MAX_SIDE = 65_535;

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const ascii = (b: Uint8Array, i: number, s: string) => {
  if (i + s.length > b.length) return false;
  for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) return false;
  return true;
};

function sized(type: ImageType, width: number, height: number): Sniffed {
  if (width >= 1 && height >= 1 && width <= MAX_SIDE && height <= MAX_SIDE) return { type, width, height };
  return { type };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function png(b: Uint8Array): Sniffed | null {
  if (b.length < 8 || PNG_SIGNATURE.some((v, i) => b[i] !== v)) return null;
  // The first chunk is IHDR: length (4), "IHDR", width (4), height (4), all big-endian.
  if (b.length < 24 || !ascii(b, 12, "IHDR")) return { type: "image/png" };
  return sized("image/png", u32be(b, 16), u32be(b, 20));
}

function gif(b: Uint8Array): Sniffed | null {
  if (!ascii(b, 0, "GIF87a") && !ascii(b, 0, "GIF89a")) return null;
  if (b.length < 10) return { type: "image/gif" };
  return sized("image/gif", u16le(b, 6), u16le(b, 8));
}

/** JPEG: walk the marker segments to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC). */
function jpeg(b: Uint8Array): Sniffed | null {
  if (b.length < 3 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return null;
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return { type: "image/jpeg" };
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RST0-7 (and SOI again).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return { type: "image/jpeg" }; // EOI or scan: no frame header before it
    const length = u16be(b, i + 2);
    if (length < 2) return { type: "image/jpeg" };
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      // length (2), precision (1), height (2), width (2)
      if (i + 9 > b.length) return { type: "image/jpeg" };
      return sized("image/jpeg", u16be(b, i + 7), u16be(b, i + 5));
    }
    i += 2 + length;
  }
  return { type: "image/jpeg" };
}

/** WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended). */
function webp(b: Uint8Array): Sniffed | null {
  if (!ascii(b, 0, "RIFF") || !ascii(b, 8, "WEBP")) return null;
  if (ascii(b, 12, "VP8 ") && b.length >= 30) {
    // Frame tag (3) then the start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return { type: "image/webp" };
    return sized("image/webp", u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (ascii(b, 12, "VP8L") && b.length >= 25) {
    if (b[20] !== 0x2f) return { type: "image/webp" };
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return sized("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, "VP8X") && b.length >= 30) {
    return sized("image/webp", u24le(b, 24) + 1, u24le(b, 27) + 1);
  }
  return { type: "image/webp" };
}

/**
 * AVIF: an ISO-BMFF file whose `ftyp` box names the brand `avif` or `avis` (as major or a
 * compatible brand). The size is the first `ispe` (image spatial extents) property in the
 * `meta` box: found by walking meta > iprp > ipco, not by searching the bytes.
 */
function avif(b: Uint8Array): Sniffed | null {
  if (b.length < 16 || !ascii(b, 4, "ftyp")) return null;
  const ftypSize = u32be(b, 0);
  if (ftypSize < 16 || ftypSize > b.length || ftypSize > 4096) return null;
  let brand = false;
  for (let i = 8; i + 4 <= ftypSize; i += 4) {
    if (i === 12) continue; // minor version
    if (ascii(b, i, "avif") || ascii(b, i, "avis")) brand = true;
  }
  if (!brand) return null;
  const meta = box(b, ftypSize, b.length, "meta");
  // `meta` is a full box: 4 bytes of version and flags before its children.
  const iprp = meta && box(b, meta.start + 4, meta.end, "iprp");
  const ipco = iprp && box(b, iprp.start, iprp.end, "ipco");
  const ispe = ipco && box(b, ipco.start, ipco.end, "ispe");
  if (!ispe || ispe.start + 12 > ispe.end) return { type: "image/avif" };
  return sized("image/avif", u32be(b, ispe.start + 4), u32be(b, ispe.start + 8));
}

/** The first box of type `name` among the boxes from `from` to `to`: its content's bounds. */
function box(b: Uint8Array, from: number, to: number, name: string): { start: number; end: number } | null {
  let i = from;
  while (i + 8 <= to) {
    let size = u32be(b, i);
    let header = 8;
    if (size === 1) {
      // A 64-bit size: only its low 32 bits can matter within the bytes we hold.
      if (i + 16 > to || u32be(b, i + 8) !== 0) return null;
      size = u32be(b, i + 12);
      header = 16;
    } else if (size === 0) {
      size = to - i; // to the end
    }
    if (size < header || i + size > to) return null;
    if (ascii(b, i + 4, name)) return { start: i + header, end: i + size };
    i += size;
  }
  return null;
}

/** The image type and size the bytes show, or null when they are not one of the five images. */
export function sniffImage(head: Uint8Array): Sniffed | null {
  return png(head) ?? jpeg(head) ?? gif(head) ?? webp(head) ?? avif(head);
}
