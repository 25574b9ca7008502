/**
 * Uploads (PROTOCOL.md 7.4, 7.5): members only, the size limit at its edge, the daily quota at its
 * edge and under parallel uploads, and what a failed upload leaves behind (nothing).
 */
import { env, listDurableObjectIds, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { limitsFromEnv } from "../../worker/config";
import { BASE, dm, room, signup } from "./helpers";
import { download, fileRows, pattern, prefillQuota, quotaUsed, r2Keys, upload, uploaded } from "./files-helpers";
import { png } from "../unit/image-fixtures";

const LIMITS = limitsFromEnv(env);

describe("upload", () => {
  it("a member uploads; the answer describes the file, and R2 and the table hold it", async () => {
    const [a, b] = [await signup("fu"), await signup("fu")];
    const conv = await dm(a, b);
    const res = await upload(a, conv.id, png(320, 200), { name: "shot.png", type: "image/png" });
    expect(res.status).toBe(201);
    const { file } = (await res.json()) as { file: Record<string, unknown> };
    expect(file).toEqual({ id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), name: "shot.png", type: "image/png", size: png(320, 200).length, width: 320, height: 200 });
    expect(await r2Keys(conv.id)).toEqual([`${conv.id}/${file.id}`]);
    const rows = await fileRows(conv.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: file.id, owner: a.username, seq: null, size: png(320, 200).length });
    const digest = await crypto.subtle.digest("SHA-256", png(320, 200));
    expect(rows[0]!.sha256).toBe([...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join(""));
    // The other member downloads the same bytes.
    const got = await download(b, conv.id, file.id as string);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(png(320, 200));
  });

  it("a non-member, and a made-up conversation, get 404 and nothing is stored", async () => {
    const [a, b, stranger] = [await signup("fu"), await signup("fu"), await signup("fx")];
    const conv = await dm(a, b);
    const res = await upload(stranger, conv.id, "hello", { name: "x.txt", type: "text/plain" });
    expect(res.status).toBe(404);
    const made = await upload(stranger, "r0123456789abcdef0123456789abcdef", "hello");
    expect(made.status).toBe(404);
    expect(await r2Keys(conv.id)).toEqual([]);
    expect(await r2Keys("r0123456789abcdef0123456789abcdef")).toEqual([]);
    expect(await quotaUsed(stranger.username)).toBe(0);
    // A former member of a room: 403 or 404, never stored.
    const r = await room(a, [b]);
    const file = await uploaded(b, r.id, "kept", { name: "a.txt" });
    expect((await leave(b, r.id)).status).toBe(204);
    expect([403, 404]).toContain((await upload(b, r.id, "after")).status);
    expect([403, 404]).toContain((await download(b, r.id, file.id)).status);
    expect(await r2Keys(r.id)).toEqual([`${r.id}/${file.id}`]);
  });

  it("exactly the size limit passes; one byte over is 413 and leaves nothing in R2, the table or the quota", async () => {
    const [a, b] = [await signup("fs"), await signup("fs")];
    const conv = await dm(a, b);
    const over = await upload(a, conv.id, pattern(LIMITS.fileBytes + 1), { name: "big.bin" });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe("too_large");
    expect(await r2Keys(conv.id)).toEqual([]);
    expect(await fileRows(conv.id)).toEqual([]);
    expect(await quotaUsed(a.username)).toBe(0);
    const exact = await upload(a, conv.id, pattern(LIMITS.fileBytes), { name: "big.bin" });
    expect(exact.status).toBe(201);
    expect(await r2Keys(conv.id)).toHaveLength(1);
    expect(await quotaUsed(a.username)).toBe(LIMITS.fileBytes);
  });

  it("an upload without a length, or empty, is refused before anything is stored", async () => {
    const [a, b] = [await signup("fl"), await signup("fl")];
    const conv = await dm(a, b);
    // A stream the runtime cannot know the length of (chunked transfer encoding).
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.close();
        sent = true;
        controller.enqueue(pattern(1000));
      },
    });
    const res = await uploadStream(a.token, conv.id, stream);
    expect(res.status).toBe(411);
    expect((await upload(a, conv.id, new Uint8Array())).status).toBe(400);
    expect(await r2Keys(conv.id)).toEqual([]);
    expect(await quotaUsed(a.username)).toBe(0);
  });
});

describe("strangers cost nothing", () => {
  it("an upload or download naming a made-up conversation creates no conversation object with storage", async () => {
    const a = await signup("fz");
    const before = new Set((await listDurableObjectIds(env.CONVERSATIONS)).map((id) => id.toString()));
    for (const id of ["r0123456789abcdef0123456789abcdef", "d0123456789abcdef0123456789abcdef"]) {
      const up = await upload(a, id, pattern(100));
      expect(up.status).toBe(404);
      await up.arrayBuffer();
      const down = await download(a, id, "AAAAAAAAAAAAAAAAAAAAAA");
      expect(down.status).toBe(404);
      await down.arrayBuffer();
    }
    const held: string[] = [];
    for (const id of await listDurableObjectIds(env.CONVERSATIONS)) {
      if (before.has(id.toString())) continue;
      const tables = await runInDurableObject(env.CONVERSATIONS.get(id), (_i, state) => state.storage.sql.exec("SELECT name FROM sqlite_master").toArray().length);
      if (tables > 0) held.push(id.toString());
    }
    expect(held).toEqual([]);
    expect(await quotaUsed(a.username)).toBe(0);
  });
});

describe("the daily quota", () => {
  it("passes an upload that reaches it exactly, refuses one byte more with 429 and Retry-After", async () => {
    const [a, b] = [await signup("fq"), await signup("fq")];
    const conv = await dm(a, b);
    await prefillQuota(a.username, LIMITS.fileBytesPerDay - 1000);
    expect((await upload(a, conv.id, pattern(1000))).status).toBe(201);
    expect(await quotaUsed(a.username)).toBe(LIMITS.fileBytesPerDay);
    const res = await upload(a, conv.id, pattern(1));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await r2Keys(conv.id)).toHaveLength(1);
    // The quota is the user's, across conversations.
    const other = await dm(a, await signup("fq"));
    expect((await upload(a, other.id, pattern(1))).status).toBe(429);
    expect(await r2Keys(other.id)).toEqual([]);
  });

  it("parallel uploads never pass it together: exactly as many succeed as fit", async () => {
    const [a, b] = [await signup("fp"), await signup("fp")];
    const conv = await dm(a, b);
    const size = 10_000;
    await prefillQuota(a.username, LIMITS.fileBytesPerDay - 3 * size);
    const answers = await Promise.all(Array.from({ length: 8 }, () => upload(a, conv.id, pattern(size)).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      })));
    expect(answers.filter((s) => s === 201)).toHaveLength(3);
    expect(answers.filter((s) => s === 429)).toHaveLength(5);
    expect(await r2Keys(conv.id)).toHaveLength(3);
    expect(await fileRows(conv.id)).toHaveLength(3);
    expect(await quotaUsed(a.username)).toBe(LIMITS.fileBytesPerDay);
  });

  it("a refused upload gives its reservation back", async () => {
    const [a, b] = [await signup("fr"), await signup("fr")];
    const conv = await dm(a, b);
    expect((await upload(a, conv.id, pattern(LIMITS.fileBytes + 1))).status).toBe(413);
    expect((await upload(a, conv.id, new Uint8Array())).status).toBe(400);
    expect(await quotaUsed(a.username)).toBe(0);
  });
});

function leave(account: { token: string }, id: string): Promise<Response> {
  return SELF.fetch(`${BASE}/api/conversations/${id}/leave`, { method: "POST", headers: { Authorization: `Bearer ${account.token}` } });
}

function uploadStream(token: string, id: string, body: ReadableStream): Promise<Response> {
  return SELF.fetch(`${BASE}/api/conversations/${id}/files`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" }, body, duplex: "half" } as RequestInit);
}
