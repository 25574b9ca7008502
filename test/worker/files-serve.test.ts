/**
 * Serving files (PROTOCOL.md 7.4): members only; the type comes from the file's own first bytes,
 * never from what was declared (HTML declared as PNG is not a PNG; SVG and HTML are downloads);
 * every safety header on every answer; ETag and If-None-Match; Range.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, dm, room, signup } from "./helpers";
import { download, pattern, upload, uploaded } from "./files-helpers";
import { gif, jpeg, png, webpLossy, avif } from "../unit/image-fixtures";

function expectSafety(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
  expect(res.headers.get("cache-control")).toBe("private");
}

const HTML = "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>";
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';

describe("download", () => {
  it("members get the bytes; a non-member gets 404, a made-up file 404", async () => {
    const [a, b, c] = [await signup("fd"), await signup("fd"), await signup("fd")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, pattern(5000), { name: "data.bin" });
    for (const who of [a, b]) {
      const res = await download(who, conv.id, file.id);
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(pattern(5000));
    }
    const stranger = await download(c, conv.id, file.id);
    expect(stranger.status).toBe(404);
    expect(await stranger.text()).not.toContain("data.bin");
    expect((await download(a, conv.id, "nosuchfile")).status).toBe(404);
    expect((await download(a, conv.id, "../../etc")).status).toBe(404);
    // A file of another conversation is not reachable through this one.
    const other = await dm(a, c);
    expect((await download(a, other.id, file.id)).status).toBe(404);
  });

  it("a member who left a room is refused (403 or 404), never served", async () => {
    const [a, b] = [await signup("fd"), await signup("fd")];
    const r = await room(a, [b]);
    const file = await uploaded(a, r.id, "secret", { name: "s.txt", type: "text/plain" });
    expect((await download(b, r.id, file.id)).status).toBe(200);
    const left = await fetchLeave(b.token, r.id);
    expect(left).toBe(204);
    const res = await download(b, r.id, file.id);
    expect([403, 404]).toContain(res.status);
    expect(await res.text()).not.toContain("secret");
  });
});

async function fetchLeave(token: string, id: string): Promise<number> {
  const res = await SELF.fetch(`${BASE}/api/conversations/${id}/leave`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

describe("type sniffing and the safety headers", () => {
  it("serves the five image types as themselves, from their bytes, with their size in the record", async () => {
    const [a, b] = [await signup("ft"), await signup("ft")];
    const conv = await dm(a, b);
    const cases = [
      [png(10, 20), "image/png"],
      [jpeg(30, 40), "image/jpeg"],
      [gif(5, 6), "image/gif"],
      [webpLossy(7, 8), "image/webp"],
      [avif(9, 10), "image/avif"],
    ] as const;
    for (const [bytes, type] of cases) {
      // Declared as something else entirely: the bytes decide.
      const file = await uploaded(a, conv.id, bytes, { name: "pic", type: "application/pdf" });
      expect(file.type).toBe(type);
      expect(file.width).toBeGreaterThan(0);
      const res = await download(b, conv.id, file.id);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("content-disposition")).toMatch(/^inline; /);
      expectSafety(res);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    }
  });

  it("HTML bytes declared as image/png are not served as PNG: an octet-stream download", async () => {
    const [a, b] = [await signup("ft"), await signup("ft")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, HTML, { name: "cat.png", type: "image/png" });
    expect(file.type).toBe("application/octet-stream");
    expect(file.width).toBeUndefined();
    const res = await download(b, conv.id, file.id);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="cat.png"/);
    expectSafety(res);
    expect(await res.text()).toBe(HTML);
  });

  it("SVG and HTML, declared as what they are, are downloads, never rendered", async () => {
    const [a, b] = [await signup("ft"), await signup("ft")];
    const conv = await dm(a, b);
    for (const [bytes, name, type] of [[SVG, "logo.svg", "image/svg+xml"], [HTML, "page.html", "text/html"], ["alert(1)", "x.js", "text/javascript"]] as const) {
      const file = await uploaded(a, conv.id, bytes, { name, type });
      expect(file.type.startsWith("image/")).toBe(false);
      const res = await download(b, conv.id, file.id);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("content-disposition")).toMatch(/^attachment; /);
      expectSafety(res);
      await res.arrayBuffer();
    }
  });

  it("a file name is encoded per RFC 6266 (ASCII fallback and UTF-8 filename*), never breaking the header", async () => {
    const [a, b] = [await signup("ft"), await signup("ft")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, "x", { name: '报告 "final"\r\n; x=1.pdf', type: "application/pdf" });
    expect(file.name).toBe('报告 "final"__; x=1.pdf');
    expect(file.type).toBe("application/pdf");
    const res = await download(b, conv.id, file.id);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="__ _final___; x=1.pdf"; filename*=UTF-8''${encodeURIComponent('报告 "final"__; x=1.pdf')}`,
    );
    await res.arrayBuffer();
  });

  it("the safety headers are on a 304 and a 206 too", async () => {
    const [a, b] = [await signup("ft"), await signup("ft")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, pattern(100));
    const first = await download(b, conv.id, file.id);
    await first.arrayBuffer();
    const etag = first.headers.get("etag")!;
    const notModified = await download(b, conv.id, file.id, { "If-None-Match": etag });
    expect(notModified.status).toBe(304);
    expectSafety(notModified);
    const partial = await download(b, conv.id, file.id, { Range: "bytes=0-9" });
    expect(partial.status).toBe(206);
    expectSafety(partial);
    await partial.arrayBuffer();
  });
});

describe("ETag and Range", () => {
  it("the ETag is the SHA-256 of the bytes; If-None-Match answers 304 without a body, another tag 200", async () => {
    const [a, b] = [await signup("fe"), await signup("fe")];
    const conv = await dm(a, b);
    const bytes = pattern(2048);
    const file = await uploaded(a, conv.id, bytes);
    const res = await download(b, conv.id, file.id);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((x) => x.toString(16).padStart(2, "0")).join("");
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    await res.arrayBuffer();
    const same = await download(b, conv.id, file.id, { "If-None-Match": `"nope", W/"${digest}"` });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    const other = await download(b, conv.id, file.id, { "If-None-Match": '"something-else"' });
    expect(other.status).toBe(200);
    expect(new Uint8Array(await other.arrayBuffer())).toEqual(bytes);
  });

  it("Range answers 206 with exactly those bytes and Content-Range; past the end 416", async () => {
    const [a, b] = [await signup("fg"), await signup("fg")];
    const conv = await dm(a, b);
    const size = 300_000;
    const bytes = pattern(size);
    const file = await uploaded(a, conv.id, bytes);
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      ["bytes=1000-1999", 1000, 1999],
      ["bytes=299990-", 299_990, size - 1],
      ["bytes=-25", size - 25, size - 1],
      ["bytes=299000-999999", 299_000, size - 1],
    ];
    for (const [header, first, last] of cases) {
      const res = await download(b, conv.id, file.id, { Range: header });
      expect(res.status, header).toBe(206);
      expect(res.headers.get("content-range"), header).toBe(`bytes ${first}-${last}/${size}`);
      expect(res.headers.get("content-length"), header).toBe(String(last - first + 1));
      expect(new Uint8Array(await res.arrayBuffer()), header).toEqual(bytes.slice(first, last + 1));
    }
    const beyond = await download(b, conv.id, file.id, { Range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${size}`);
    await beyond.arrayBuffer();
    // A malformed or multiple range is ignored: the whole file.
    const whole = await download(b, conv.id, file.id, { Range: "bytes=0-1,5-6" });
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(size);
  });
});

describe("upload safety", () => {
  it("a non-member cannot upload into a conversation (its list says nothing of it)", async () => {
    const [a, b, c] = [await signup("fn"), await signup("fn"), await signup("fn")];
    const conv = await dm(a, b);
    const res = await upload(c, conv.id, png(1, 1), { type: "image/png" });
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});
