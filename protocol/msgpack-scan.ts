/**
 * A structural pre-scan of msgpack bytes, run before the real decoder allocates anything.
 * It walks the headers only, so a small frame that declares huge lengths (which crashed the local
 * workerd process) is refused in time linear in its size: every declared length must fit in the
 * bytes that remain, every string and container must fit the limits, and nesting is bounded.
 */

export interface ScanLimits {
  decoderStrBytes: number;
  decoderEntries: number;
  decoderDepth: number;
}

export class ScanError extends Error {}

/** Returns how many top-level values the bytes hold; throws ScanError when they break a limit. */
export function scanMsgpack(bytes: Uint8Array, limits: ScanLimits, maxValues = Infinity): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  let pos = 0;
  let values = 0;

  const need = (n: number, what: string): void => {
    if (n > end - pos) throw new ScanError(`truncated ${what}`);
  };
  const u8 = (): number => { need(1, "header"); return view.getUint8(pos++); };
  const u16 = (): number => { need(2, "length"); const v = view.getUint16(pos); pos += 2; return v; };
  const u32 = (): number => { need(4, "length"); const v = view.getUint32(pos); pos += 4; return v; };

  const skipBytes = (n: number, what: string): void => {
    if (n > limits.decoderStrBytes) throw new ScanError(`${what} longer than ${limits.decoderStrBytes} bytes`);
    need(n, what);
    pos += n;
  };

  while (pos < end) {
    if (++values > maxValues) throw new ScanError("more than one value in the frame");
    // Remaining items at each open level; the bottom entry is the top-level value itself.
    const stack: number[] = [1];
    while (stack.length > 0) {
      stack[stack.length - 1]!--;
      const b = u8();
      let items = -1; // items of a container that starts here; -1: not a container
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
        // fixint, nil, bool: the header is the whole value
      } else if (b >= 0x80 && b <= 0x8f) items = (b & 0x0f) * 2;
      else if (b >= 0x90 && b <= 0x9f) items = b & 0x0f;
      else if (b >= 0xa0 && b <= 0xbf) skipBytes(b & 0x1f, "string");
      else {
        switch (b) {
          case 0xc4: skipBytes(u8(), "binary"); break;
          case 0xc5: skipBytes(u16(), "binary"); break;
          case 0xc6: skipBytes(u32(), "binary"); break;
          case 0xd9: skipBytes(u8(), "string"); break;
          case 0xda: skipBytes(u16(), "string"); break;
          case 0xdb: skipBytes(u32(), "string"); break;
          case 0xca: need(4, "float"); pos += 4; break;
          case 0xcb: need(8, "float"); pos += 8; break;
          case 0xcc: case 0xd0: need(1, "integer"); pos += 1; break;
          case 0xcd: case 0xd1: need(2, "integer"); pos += 2; break;
          case 0xce: case 0xd2: need(4, "integer"); pos += 4; break;
          case 0xcf: case 0xd3: need(8, "integer"); pos += 8; break;
          case 0xdc: items = u16(); break;
          case 0xdd: items = u32(); break;
          case 0xde: items = u16() * 2; break;
          case 0xdf: items = u32() * 2; break;
          default:
            // 0xc1 is never used; extensions (0xc7-0xc9, 0xd4-0xd8) are not part of this protocol.
            throw new ScanError(`unsupported msgpack type 0x${b.toString(16)}`);
        }
      }
      if (items >= 0) {
        const depth = stack.length; // open containers once this one is open
        if (depth > limits.decoderDepth) throw new ScanError(`nested deeper than ${limits.decoderDepth}`);
        const entries = b >= 0x80 && b <= 0x8f ? items / 2 : b === 0xde || b === 0xdf ? items / 2 : items;
        if (entries > limits.decoderEntries) throw new ScanError(`more than ${limits.decoderEntries} entries`);
        // Each item takes at least one byte, so a declared count larger than what remains is a lie.
        need(items, "container");
        stack.push(items);
      }
      while (stack.length > 0 && stack[stack.length - 1] === 0) stack.pop();
    }
  }
  return values;
}
