/**
 * File downloads have a budget of their own (LIMIT_FILE_READS_PER_MINUTE, 3000 a minute), apart
 * from the per-user HTTP budget (300 a minute): a conversation full of images asks for one file
 * per image shown, and must neither be cut off at the 300th nor leave the rest of the app without
 * requests. Uploads stay in the HTTP budget.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol";
import { limitsFromEnv } from "../../worker/config";
import { api, dm, signup, spend, spent } from "./helpers";
import { download, upload, uploaded } from "./files-helpers";
import { png } from "../unit/image-fixtures";

const limits = limitsFromEnv(env);

describe("the file download budget", () => {
  it(`is ${DEFAULT_LIMITS.fileReadsPerMinute} a minute by default, larger than the HTTP budget`, () => {
    expect(limits.fileReadsPerMinute).toBe(DEFAULT_LIMITS.fileReadsPerMinute);
    expect(limits.fileReadsPerMinute).toBeGreaterThan(limits.httpPerMinute);
  });

  it("downloads (200 and 304) are taken from it, not from the HTTP budget; uploads from the HTTP budget", async () => {
    const [a, b] = [await signup("fb"), await signup("fb")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, png(4, 3), { name: "p.png" });
    const httpBefore = await spent(a, "http_hits");
    const first = await download(a, conv.id, file.id);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const again = await download(a, conv.id, file.id, { "If-None-Match": first.headers.get("ETag") ?? "" });
    expect(again.status).toBe(304);
    expect(await spent(a, "file_hits")).toBe(2);
    expect(await spent(a, "http_hits")).toBe(httpBefore);
    await (await upload(a, conv.id, png(2, 2), { name: "q.png" })).arrayBuffer();
    expect(await spent(a, "http_hits")).toBe(httpBefore + 1);
    expect(await spent(a, "file_hits")).toBe(2);
  });

  it("with the HTTP budget used up, files still download; with the file budget used up, the rest still works", async () => {
    const [a, b] = [await signup("fb"), await signup("fb")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, png(4, 3), { name: "p.png" });
    await spend(a, limits.httpPerMinute);
    expect((await api("GET", "/api/me", a.token)).status).toBe(429);
    const served = await download(a, conv.id, file.id);
    expect(served.status).toBe(200);
    await served.arrayBuffer();

    await spend(b, limits.fileReadsPerMinute - 1, "file_hits");
    const last = await download(b, conv.id, file.id);
    expect(last.status).toBe(200);
    await last.arrayBuffer();
    const refused = await download(b, conv.id, file.id);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    expect((await api("GET", "/api/me", b.token)).status).toBe(200);
  });
});
