/**
 * sniffImage on tiny handcrafted headers: each of the five image types is told by its first bytes
 * (never by a declared type), its width and height are read from the header, and bytes that only
 * look like an image, or are HTML, SVG or a cut-off header, are not taken for one.
 */
import { describe, expect, it } from "vitest";
import { sniffImage } from "../../worker/files/sniff";
import { avif, be16, bytes, gif, jpeg, le16, PNG_SIG, png, webpExtended, webpLossless, webpLossy } from "./image-fixtures";


describe("sniffImage", () => {
  it("reads PNG, GIF, JPEG, WebP (3 forms) and AVIF sizes from their headers", () => {
    expect(sniffImage(png(640, 480))).toEqual({ type: "image/png", width: 640, height: 480 });
    expect(sniffImage(gif(3, 70))).toEqual({ type: "image/gif", width: 3, height: 70 });
    expect(sniffImage(jpeg(1024, 768))).toEqual({ type: "image/jpeg", width: 1024, height: 768 });
    expect(sniffImage(jpeg(31, 17, 0xc2))).toEqual({ type: "image/jpeg", width: 31, height: 17 });
    expect(sniffImage(webpLossy(300, 200))).toEqual({ type: "image/webp", width: 300, height: 200 });
    expect(sniffImage(webpLossless(5, 9))).toEqual({ type: "image/webp", width: 5, height: 9 });
    expect(sniffImage(webpExtended(4000, 3000))).toEqual({ type: "image/webp", width: 4000, height: 3000 });
    expect(sniffImage(avif(1920, 1080))).toEqual({ type: "image/avif", width: 1920, height: 1080 });
    expect(sniffImage(avif(8, 8, "avis"))).toEqual({ type: "image/avif", width: 8, height: 8 });
  });

  it("skips JPEG segments that are not a frame header (DHT, DQT, APPn)", () => {
    const dht = bytes([0xff, 0xd8], [0xff, 0xc4], be16(4), [0, 0], [0xff, 0xc0], be16(17), [8], be16(2), be16(3), [3]);
    expect(sniffImage(dht)).toEqual({ type: "image/jpeg", width: 3, height: 2 });
  });

  it("keeps the type but no size when the header is cut off or absurd", () => {
    expect(sniffImage(png(640, 480).slice(0, 12))).toEqual({ type: "image/png" });
    expect(sniffImage(jpeg(10, 10).slice(0, 30))).toEqual({ type: "image/jpeg" });
    expect(sniffImage(png(0, 10))).toEqual({ type: "image/png" });
    expect(sniffImage(png(100_000, 10))).toEqual({ type: "image/png" });
  });

  it("does not take HTML, SVG, text, PDF, other ISO-BMFF files or near misses for images", () => {
    const text = (s: string) => new TextEncoder().encode(s);
    expect(sniffImage(text("<!doctype html><script>alert(1)</script>"))).toBeNull();
    expect(sniffImage(text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'))).toBeNull();
    expect(sniffImage(text("%PDF-1.7\n"))).toBeNull();
    expect(sniffImage(new Uint8Array())).toBeNull();
    expect(sniffImage(bytes("GIF90a", le16(1), le16(1)))).toBeNull();
    expect(sniffImage(bytes(PNG_SIG.slice(0, 7)))).toBeNull();
    expect(sniffImage(bytes("RIFF", [0, 0, 0, 0], "WAVE", "fmt "))).toBeNull();
    expect(sniffImage(avif(8, 8, "mp42"))).toBeNull(); // an MP4, not an AVIF
    // HTML after a PNG-looking first byte is still not a PNG.
    expect(sniffImage(bytes([0x89], "<html>"))).toBeNull();
  });
});
