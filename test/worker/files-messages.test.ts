/**
 * Files in messages (PROTOCOL.md 7.4): `send` with `files` (the body may then be empty), a file
 * attaches once and only by its uploader, messages carry their files live, in replays, history,
 * search and the inbox's preview; deleting the message deletes its files (bytes and record); files
 * never attached are removed by the alarm after a day.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FileRef, MsgFrame } from "../../protocol";
import { UNATTACHED_TTL_MS } from "../../worker/conversation/files";
import { api, closeAll, connect, convSql, convStub, dm, join, room, signup, storedState } from "./helpers";
import { download, fileRows, pattern, r2Keys, uploaded } from "./files-helpers";
import { png } from "../unit/image-fixtures";

describe("send with files", () => {
  it("an empty body with files is a message; every member gets the files live, then in replay, history and search", async () => {
    const [a, b] = [await signup("fm"), await signup("fm")];
    const conv = await dm(a, b);
    const photo = await uploaded(a, conv.id, png(64, 48), { name: "photo.png", type: "image/png" });
    const doc = await uploaded(a, conv.id, "%PDF-1.7 hello", { name: "report.pdf", type: "application/pdf" });
    const [ca, cb] = [await join(conv.id, a), await join(conv.id, b)];
    ca.send({ t: "send", id: "m1", body: "", files: [photo.id, doc.id] });
    const ack = await ca.next("ack", (f) => f.id === "m1");
    const live = await cb.next("msg", (f) => f.id === "m1");
    const expected: FileRef[] = [
      { id: photo.id, name: "photo.png", type: "image/png", size: photo.size, width: 64, height: 48 },
      { id: doc.id, name: "report.pdf", type: "application/pdf", size: doc.size },
    ];
    expect(live.body).toBe("");
    expect(live.files).toEqual(expected);
    ca.send({ t: "send", id: "m2", body: "with text too", files: [(await uploaded(a, conv.id, "x", { name: "x.txt" })).id] });
    await ca.next("ack", (f) => f.id === "m2");
    // Replay after reconnecting.
    const late = await connect(`/chat/${conv.id}`, b, { since: ack.seq - 1 });
    const replayed = await late.next("msg", (f) => f.id === "m1");
    expect(replayed.files).toEqual(expected);
    // History over HTTP and over the socket.
    const page = (await (await api("GET", `/api/conversations/${conv.id}/messages`, b.token)).json()) as { messages: MsgFrame[] };
    expect(page.messages.find((m) => m.id === "m1")?.files).toEqual(expected);
    cb.send({ t: "history", limit: 10 });
    const history = await cb.next("history");
    expect(history.messages.find((m) => m.id === "m1")?.files).toEqual(expected);
    // Search finds the message by its text, with its files.
    await waitIndexed(conv.id);
    const found = (await (await api("GET", `/api/conversations/${conv.id}/search?q=text%20too`, b.token)).json()) as { messages: MsgFrame[] };
    expect(found.messages).toHaveLength(1);
    expect(found.messages[0]!.files?.[0]?.name).toBe("x.txt");
    // The conversation list's last message carries its files.
    const list = (await (await api("GET", "/api/conversations", b.token)).json()) as { conversations: { id: string; last?: MsgFrame }[] };
    await closeAll(ca, cb, late);
    expect(list.conversations.find((s) => s.id === conv.id)?.last?.id).toBe("m2");
  });

  it("a file attaches once: a second send with it is refused (invalid) and stores nothing", async () => {
    const [a, b] = [await signup("fo"), await signup("fo")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, "once", { name: "once.txt" });
    const ca = await join(conv.id, a);
    ca.send({ t: "send", id: "m1", body: "first", files: [file.id] });
    await ca.next("ack", (f) => f.id === "m1");
    const before = await storedState(conv.id);
    const rowsBefore = await fileRows(conv.id);
    ca.send({ t: "send", id: "m2", body: "again", files: [file.id] });
    const err = await ca.next("error", (f) => f.id === "m2");
    expect(err.code).toBe("invalid");
    expect(await storedState(conv.id)).toBe(before);
    expect(await fileRows(conv.id)).toEqual(rowsBefore);
    // Together with a fresh file, the whole send is refused: the fresh one stays unattached.
    const fresh = await uploaded(a, conv.id, "fresh", { name: "fresh.txt" });
    ca.send({ t: "send", id: "m3", body: "", files: [fresh.id, file.id] });
    expect((await ca.next("error", (f) => f.id === "m3")).code).toBe("invalid");
    expect((await convSql(conv.id, "SELECT seq FROM files WHERE id = ?", fresh.id))[0]?.seq).toBeNull();
    expect(await storedState(conv.id)).toBe(before);
    await closeAll(ca);
  });

  it("only the uploader attaches a file, and only in the conversation it was uploaded to", async () => {
    const [a, b, c] = [await signup("fw"), await signup("fw"), await signup("fw")];
    const conv = await dm(a, b);
    const other = await dm(a, c);
    const file = await uploaded(a, conv.id, "mine", { name: "mine.txt" });
    const cb = await join(conv.id, b);
    cb.send({ t: "send", id: "steal", body: "", files: [file.id] });
    expect((await cb.next("error", (f) => f.id === "steal")).code).toBe("invalid");
    const co = await join(other.id, a);
    co.send({ t: "send", id: "elsewhere", body: "", files: [file.id] });
    expect((await co.next("error", (f) => f.id === "elsewhere")).code).toBe("invalid");
    const ca = await join(conv.id, a);
    ca.send({ t: "send", id: "mine", body: "", files: [file.id] });
    expect((await ca.next("ack", (f) => f.id === "mine")).seq).toBeGreaterThan(0);
    await closeAll(ca, cb, co);
  });

  it("the inbox preview of a message with only files names them", async () => {
    const [a, b] = [await signup("fi"), await signup("fi")];
    const conv = await dm(a, b);
    const inbox = await connect("/inbox", b);
    await inbox.next("inbox");
    const ca = await join(conv.id, a);
    ca.send({ t: "send", id: "p1", body: "", files: [(await uploaded(a, conv.id, png(2, 2), { name: "a.png" })).id] });
    ca.send({ t: "send", id: "p2", body: "", files: [(await uploaded(a, conv.id, "%PDF", { name: "report.pdf", type: "application/pdf" })).id] });
    await inbox.until((f) => f.filter((x) => x.t === "activity").length >= 2, 15_000);
    expect(inbox.of("activity").map((x) => x.preview)).toEqual(["🖼 photo", "📎 report.pdf"]);
    await closeAll(ca, inbox);
  });
});

describe("removal", () => {
  it("deleting the message deletes its files: bytes gone from R2, the record gone, the route 404", async () => {
    const [a, b] = [await signup("fx"), await signup("fx")];
    const conv = await dm(a, b);
    const file = await uploaded(a, conv.id, pattern(1000), { name: "gone.bin" });
    const keep = await uploaded(a, conv.id, pattern(10), { name: "keep.bin" });
    const ca = await join(conv.id, a);
    ca.send({ t: "send", id: "d1", body: "", files: [file.id] });
    const { seq } = await ca.next("ack", (f) => f.id === "d1");
    ca.send({ t: "send", id: "d2", body: "", files: [keep.id] });
    await ca.next("ack", (f) => f.id === "d2");
    expect((await download(b, conv.id, file.id)).status).toBe(200);
    ca.send({ t: "delete", target: seq });
    await ca.next("delete", (f) => f.target === seq);
    expect((await download(b, conv.id, file.id)).status).toBe(404);
    expect((await fileRows(conv.id)).map((r) => r.id)).toEqual([keep.id]);
    await until(async () => !(await r2Keys(conv.id)).includes(`${conv.id}/${file.id}`));
    expect(await r2Keys(conv.id)).toEqual([`${conv.id}/${keep.id}`]);
    // History shows the deleted message without files.
    const page = (await (await api("GET", `/api/conversations/${conv.id}/messages`, b.token)).json()) as { messages: MsgFrame[] };
    expect(page.messages.find((m) => m.seq === seq)).toMatchObject({ deleted: true });
    expect(page.messages.find((m) => m.seq === seq)?.files).toBeUndefined();
    await closeAll(ca);
  });

  it("the alarm removes files never attached once they are a day old, and keeps younger and attached ones", async () => {
    const [a, b] = [await signup("fy"), await signup("fy")];
    const conv = await dm(a, b);
    const old = await uploaded(a, conv.id, "old", { name: "old.txt" });
    const young = await uploaded(a, conv.id, "young", { name: "young.txt" });
    const sent = await uploaded(a, conv.id, "sent", { name: "sent.txt" });
    const ca = await join(conv.id, a);
    ca.send({ t: "send", id: "s1", body: "", files: [sent.id] });
    await ca.next("ack", (f) => f.id === "s1");
    await closeAll(ca);
    // The clock: the old file's upload is moved back past a day (and the attached one too: it stays).
    const dayAgo = Date.now() - UNATTACHED_TTL_MS - 1000;
    await convSql(conv.id, "UPDATE files SET created = ? WHERE id IN (?, ?)", dayAgo, old.id, sent.id);
    // Unattached files are pending work: an alarm is set, and comes back while some remain.
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect((await fileRows(conv.id)).map((r) => r.id).sort()).toEqual([young.id, sent.id].sort());
    expect((await download(a, conv.id, old.id)).status).toBe(404);
    await until(async () => !(await r2Keys(conv.id)).includes(`${conv.id}/${old.id}`));
    expect((await r2Keys(conv.id)).sort()).toEqual([`${conv.id}/${young.id}`, `${conv.id}/${sent.id}`].sort());
    expect(await runDurableObjectAlarm(convStub(conv.id))).toBe(true);
    expect((await download(a, conv.id, young.id)).status).toBe(200);
  });
});

describe("a deleted room", () => {
  it("takes its files' bytes out of R2 before its storage goes", async () => {
    const [a, b] = [await signup("fk"), await signup("fk")];
    const r = await room(a, [b]);
    const sent = await uploaded(b, r.id, pattern(500), { name: "sent.bin" });
    await uploaded(a, r.id, pattern(50), { name: "loose.bin" });
    const cb = await join(r.id, b);
    cb.send({ t: "send", id: "r1", body: "", files: [sent.id] });
    await cb.next("ack", (f) => f.id === "r1");
    await closeAll(cb);
    expect(await r2Keys(r.id)).toHaveLength(2);
    const res = await api("DELETE", `/api/conversations/${r.id}`, a.token);
    expect(res.status).toBe(204);
    await until(async () => (await r2Keys(r.id)).length === 0);
    expect((await download(b, r.id, sent.id)).status).toBe(404);
  });
});

async function until(pred: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition never held");
}

async function waitIndexed(id: string): Promise<void> {
  await runInDurableObject(convStub(id), (instance) => {
    while (instance.search.indexPending() > 0);
  });
}
