/**
 * The HTTP pieces of serving files (worker/files/http.ts), as pure functions: Range, If-None-Match,
 * the name and declared type of an upload, and RFC 6266 Content-Disposition.
 */
import { describe, expect, it } from "vitest";
import { contentDisposition, declaredType, fileName, isServedImage, noneMatch, parseRange } from "../../worker/files/http";

describe("parseRange", () => {
  it("reads one range of bytes, clamped to the file", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual({ offset: 0, length: 1 });
    expect(parseRange("bytes=2-5", 10)).toEqual({ offset: 2, length: 4 });
    expect(parseRange("bytes=7-", 10)).toEqual({ offset: 7, length: 3 });
    expect(parseRange("bytes=7-100", 10)).toEqual({ offset: 7, length: 3 });
    expect(parseRange("bytes=-3", 10)).toEqual({ offset: 7, length: 3 });
    expect(parseRange("bytes=-30", 10)).toEqual({ offset: 0, length: 10 });
  });

  it("answers unsatisfiable past the end, and ignores what it need not serve", () => {
    expect(parseRange("bytes=10-", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
    for (const h of [null, "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=-", "bytes=a-b", "bytes= 1-2x"]) expect(parseRange(h, 10)).toBeNull();
  });
});

describe("noneMatch", () => {
  it("matches the tag in a list, weak or strong, and *", () => {
    expect(noneMatch('"abc"', '"abc"')).toBe(true);
    expect(noneMatch('W/"abc"', '"abc"')).toBe(true);
    expect(noneMatch('"x", "abc"', '"abc"')).toBe(true);
    expect(noneMatch("*", '"abc"')).toBe(true);
    expect(noneMatch('"abcd"', '"abc"')).toBe(false);
    expect(noneMatch(null, '"abc"')).toBe(false);
  });
});

describe("fileName", () => {
  it("decodes the URI-encoded name and makes it harmless", () => {
    expect(fileName(encodeURIComponent("报告 v2.pdf"))).toBe("报告 v2.pdf");
    expect(fileName(encodeURIComponent("../../etc/passwd"))).toBe(".._.._etc_passwd");
    expect(fileName(encodeURIComponent("a\\b\r\nc\u0000d"))).toBe("a_b__c_d");
    expect(fileName(encodeURIComponent("  spaced  "))).toBe("spaced");
    expect(fileName(encodeURIComponent("x".repeat(300)))).toHaveLength(200);
    expect(fileName(encodeURIComponent("😀".repeat(300)))).toBe("😀".repeat(200));
    for (const empty of [null, "", "  ", encodeURIComponent(".."), encodeURIComponent(".")]) expect(fileName(empty)).toBe("file");
  });

  it("refuses what does not decode to text", () => {
    expect(fileName("%E0%A4%A")).toBeNull();
    expect(fileName("%ED%A0%80")).toBeNull(); // a lone surrogate, UTF-8 encoded
  });
});

describe("declaredType", () => {
  it("keeps a plain declared type, but never an image one (only the bytes make an image)", () => {
    expect(declaredType("application/pdf")).toBe("application/pdf");
    expect(declaredType("Text/Plain; charset=utf-8")).toBe("text/plain");
    expect(declaredType("image/png")).toBe("application/octet-stream");
    expect(declaredType("image/svg+xml")).toBe("application/octet-stream");
    for (const bad of [null, "", "pdf", "a/b/c", "text/html\r\nx: y", `${"x".repeat(70)}/y`]) expect(declaredType(bad)).toBe("application/octet-stream");
  });

  it("serves as themselves only the five image types", () => {
    for (const t of ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]) expect(isServedImage(t)).toBe(true);
    for (const t of ["image/svg+xml", "text/html", "application/pdf", "image/bmp", "application/octet-stream"]) expect(isServedImage(t)).toBe(false);
  });
});

describe("contentDisposition", () => {
  it("gives an ASCII fallback and the exact UTF-8 name (RFC 6266, RFC 8187)", () => {
    expect(contentDisposition("attachment", "report.pdf")).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    expect(contentDisposition("inline", '报告 "x" 100%.png')).toBe(`inline; filename="__ _x_ 100_.png"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22x%22%20100%25.png`);
    expect(contentDisposition("attachment", "it's (1)*.txt")).toBe(`attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`);
  });
});
