/**
 * Files in the web client: boxes sized from width and height, previews of messages without text,
 * and the uploads a conversation's session makes from the outbox: one at a time, each recorded
 * as it completes (a reload uploads only the rest), the `send` once the last is up, refusals as
 * failures with why, cancel aborting the request.
 */
import { IDBFactory } from "fake-indexeddb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol";
import { imageBox, pending, sizeText, textOf } from "../../web/src/lib/files";
import { attach, attachError, attached } from "../../web/src/models/compose";
import { Outbox } from "../../web/src/lib/outbox";
import type { ConversationSession } from "../../web/src/models/session";
import { type FakeSocket, fakeSession, welcome } from "./web-fixtures";

describe("boxes and previews", () => {
  it("sizes an image's box from its width and height, within 320 px, the ratio kept", () => {
    const f = { id: "f", name: "a.png", type: "image/png", size: 1 };
    expect(imageBox({ ...f, width: 640, height: 480 })).toEqual({ width: 320, height: 240 });
    expect(imageBox({ ...f, width: 300, height: 600 })).toEqual({ width: 160, height: 320 });
    expect(imageBox({ ...f, width: 100, height: 50 })).toEqual({ width: 100, height: 50 });
    expect(imageBox({ ...f, width: 10_000, height: 1 })).toEqual({ width: 320, height: 1 });
    expect(imageBox(f)).toEqual({ width: 240, height: 180 });
  });

  it("says what a message of files only holds; a caption wins", () => {
    const png = { name: "a.png", type: "image/png" };
    const pdf = { name: "report.pdf", type: "application/pdf" };
    expect(textOf({ body: "", files: [png] })).toBe("🖼 photo");
    expect(textOf({ body: "", files: [png, png] })).toBe("🖼 2 photos");
    expect(textOf({ body: "", files: [pdf, png] })).toBe("📎 report.pdf +1");
    expect(textOf({ body: "look", files: [pdf] })).toBe("look");
    expect(textOf({ body: "" })).toBe("");
    expect([sizeText(12), sizeText(4400), sizeText(3 << 20)]).toEqual(["12 B", "4 KB", "3.0 MB"]);
  });
});

describe("attaching", () => {
  it("attaches each file once, at most 10, and refuses one over the size limit in words", () => {
    attached.value = [];
    const files = Array.from({ length: 12 }, (_, i) => new File(["x"], `f${i}.txt`, { lastModified: 1 }));
    attach(files.slice(0, 3));
    attach(files.slice(0, 1)); // the same file again
    expect(attached.value.map((f) => f.name)).toEqual(["f0.txt", "f1.txt", "f2.txt"]);
    expect(attachError.value).toBe("");
    attach(files);
    expect(attached.value).toHaveLength(10);
    expect(attachError.value).toBe("At most 10 files in one message.");
    attached.value = [];
    attach([new File([new Uint8Array(DEFAULT_LIMITS.fileBytes + 1)], "big.bin"), files[0]!]);
    expect(attached.value.map((f) => f.name)).toEqual(["f0.txt"]);
    expect(attachError.value).toBe("big.bin: over 10.0 MB.");
    attached.value = [];
  });
});

/** An XMLHttpRequest stand-in: the test answers each upload, fails it, or sees it aborted. */
class FakeXhr {
  static all: FakeXhr[] = [];
  upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  response: unknown = null;
  responseType = "";
  url = "";
  headers: Record<string, string> = {};
  body: unknown = null;
  aborted = false;
  constructor() {
    FakeXhr.all.push(this);
  }
  open(_method: string, url: string): void {
    this.url = url;
  }
  setRequestHeader(k: string, v: string): void {
    this.headers[k] = v;
  }
  send(body: unknown): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }
  answer(status: number, response: unknown): void {
    this.status = status;
    this.response = response;
    this.onload?.();
  }
}

const ref = (id: string, name: string) => ({ file: { id, name, type: "application/octet-stream", size: 3 } });
const file = (name: string) => ({ blob: new Blob(["abc"]), name });

function opened(idb: IDBFactory): { s: ConversationSession; socket: () => FakeSocket } {
  const sockets: FakeSocket[] = [];
  const s = fakeSession(idb, sockets);
  s.start();
  sockets[0]!.open();
  sockets[0]!.deliver(welcome(0), { t: "synced", lastSeq: 0, more: false });
  return { s, socket: () => sockets.at(-1)! };
}

const sends = (s: FakeSocket) => s.frames().filter((f) => typeof f === "object" && f !== null && "t" in f && f.t === "send");

describe("uploads from the outbox", () => {
  beforeEach(() => {
    FakeXhr.all = [];
    Reflect.set(globalThis, "XMLHttpRequest", FakeXhr);
  });
  afterEach(() => {
    Reflect.deleteProperty(globalThis, "XMLHttpRequest");
  });

  it("uploads one file at a time, records each, and sends once with every id", async () => {
    const idb = new IDBFactory();
    const { s, socket } = opened(idb);
    await s.post("m1", "two files", undefined, [file("a.txt"), file("b.txt")]);
    await expect.poll(() => FakeXhr.all.length).toBe(1);
    const first = FakeXhr.all[0]!;
    expect(first.url).toBe("/api/conversations/c1/files");
    expect(first.headers["x-file-name"]).toBe("a.txt");
    expect(sends(socket())).toEqual([]);
    first.answer(201, ref("f1", "a.txt"));
    await expect.poll(() => FakeXhr.all.length).toBe(2);
    expect(sends(socket())).toEqual([]);
    // The first is recorded: a reload now would upload only the second.
    const kept = (await new Outbox(idb).list("alice"))[0]!;
    expect(kept.files!.map((f) => (pending(f) ? `bytes ${f.name}` : f.id))).toEqual(["f1", "bytes b.txt"]);
    FakeXhr.all[1]!.answer(201, ref("f2", "b.txt"));
    await expect.poll(() => sends(socket()).length).toBe(1);
    expect(sends(socket())[0]).toEqual({ t: "send", id: "m1", body: "two files", files: ["f1", "f2"] });
    expect(FakeXhr.all).toHaveLength(2);
  });

  it("after a reload, uploads only what had not finished, then sends", async () => {
    const idb = new IDBFactory();
    await new Outbox(idb).put({ id: "m2", user: "alice", conv: "c1", body: "", created: 1, files: [ref("f1", "a.txt").file, file("b.txt")] });
    const { s, socket } = opened(idb);
    const [entry] = await new Outbox(idb).list("alice");
    s.model.addLocal({ id: entry!.id, body: entry!.body, created: entry!.created, files: entry!.files! });
    socket().deliver(welcome(0), { t: "synced", lastSeq: 0, more: false });
    await expect.poll(() => FakeXhr.all.length).toBe(1);
    expect(FakeXhr.all[0]!.headers["x-file-name"]).toBe("b.txt");
    FakeXhr.all[0]!.answer(201, ref("f2", "b.txt"));
    await expect.poll(() => sends(socket()).length).toBe(1);
    expect(sends(socket())[0]).toEqual({ t: "send", id: "m2", body: "", files: ["f1", "f2"] });
  });

  it("a refusal marks the message failed with why, in the outbox too, and sends nothing", async () => {
    const idb = new IDBFactory();
    const { s, socket } = opened(idb);
    await s.post("m3", "", undefined, [file("huge.bin")]);
    await expect.poll(() => FakeXhr.all.length).toBe(1);
    FakeXhr.all[0]!.answer(413, { error: { code: "too_large", message: "too large" } });
    await expect.poll(() => s.model.local.value[0]?.failed).toBe("too_large");
    await expect.poll(async () => (await new Outbox(idb).list("alice"))[0]?.failed).toBe("too_large");
    expect(sends(socket())).toEqual([]);
  });

  it("no network: nothing is sent, and the next welcome tries the same file again", async () => {
    const idb = new IDBFactory();
    const { s, socket } = opened(idb);
    await s.post("m4", "caption", undefined, [file("a.txt")]);
    await expect.poll(() => FakeXhr.all.length).toBe(1);
    FakeXhr.all[0]!.onerror?.();
    await expect.poll(() => s.upload.value).toBe(null);
    expect(s.model.local.value[0]?.failed).toBeUndefined();
    socket().deliver(welcome(0), { t: "synced", lastSeq: 0, more: false });
    await expect.poll(() => FakeXhr.all.length).toBe(2);
    FakeXhr.all[1]!.answer(201, ref("f9", "a.txt"));
    await expect.poll(() => sends(socket()).length).toBe(1);
    expect(sends(socket())[0]).toEqual({ t: "send", id: "m4", body: "caption", files: ["f9"] });
    s.stop();
  });

  it("cancel aborts the upload; a message left with nothing is dropped, one with a caption goes without the file", async () => {
    const idb = new IDBFactory();
    const { s, socket } = opened(idb);
    const only = file("only.bin");
    await s.post("m5", "", undefined, [only]);
    await expect.poll(() => FakeXhr.all.length).toBe(1);
    s.cancelFile("m5", only);
    expect(FakeXhr.all[0]!.aborted).toBe(true);
    expect(s.model.local.value).toEqual([]);
    await expect.poll(async () => (await new Outbox(idb).list("alice")).length).toBe(0);

    const extra = file("extra.bin");
    await s.post("m6", "words stay", undefined, [extra]);
    await expect.poll(() => FakeXhr.all.length).toBe(2);
    s.cancelFile("m6", extra);
    expect(FakeXhr.all[1]!.aborted).toBe(true);
    expect(sends(socket())).toEqual([{ t: "send", id: "m6", body: "words stay" }]);
    expect(FakeXhr.all).toHaveLength(2);
  });
});
