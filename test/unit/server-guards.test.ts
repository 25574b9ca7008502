/**
 * parseServerFrame and parseInboxFrame: every sample frame is accepted and copied; unknown fields
 * are dropped at every level; every field of every sample, at every depth, is checked: given the
 * wrong type it is refused, left out it is refused unless optional.
 */
import { describe, expect, it } from "vitest";
import { parseInboxFrame, parseServerFrame, readMessage, readSummary, type Parsed } from "../../protocol";
import { all, dmSummary, fullMessage, inboxSamples, plainMessage, roomSummary, serverSamples } from "./samples";

type Path = (string | number)[];
type Json = unknown;

/** A deep copy, so that mutations never reach the shared samples. */
function copy<T>(v: T): T {
  return structuredClone(v);
}

/** Every path to a value inside a frame, except the frame's own `t`. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      out.push([...at, i], ...paths(item, [...at, i]));
    });
  } else if (typeof v === "object" && v !== null) {
    for (const [k, item] of Object.entries(v)) {
      if (at.length === 0 && k === "t") continue;
      out.push([...at, k], ...paths(item, [...at, k]));
    }
  }
  return out;
}

type Container = Record<string | number, unknown>;

function isContainer(v: unknown): v is Container {
  return typeof v === "object" && v !== null;
}

function parentOf(root: Json, path: Path): Container {
  let v: unknown = root;
  for (const k of path.slice(0, -1)) v = isContainer(v) ? v[k] : undefined;
  if (!isContainer(v)) throw new Error(`no parent at ${path.join(".")}`);
  return v;
}

function withValue(frame: Json, path: Path, value: unknown): Json {
  const out = copy(frame);
  parentOf(out, path)[path[path.length - 1]!] = value;
  return out;
}

function without(frame: Json, path: Path): Json {
  const out = copy(frame);
  delete parentOf(out, path)[path[path.length - 1]!];
  return out;
}

/** A value of another type than `v`. */
function wrongType(v: unknown): unknown {
  if (typeof v === "string") return 1;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (Array.isArray(v)) return { 0: v[0] };
  return [v];
}

/** Optional fields: of Message, of Summary (where `members` is a count), synced.reset, ack.dup, error.id. */
function isOptional(t: string, path: Path): boolean {
  const key = path[path.length - 1];
  if (key === undefined || typeof key === "number") return false;
  // v1.1: the fields of the `room` and `role` events are required; `role` and `topic` elsewhere
  // (Summary, Member) and `by` on delete and member events are optional.
  if ((t === "room" || t === "role") && path.length === 1) return false;
  if (key === "role" || key === "topic") return true;
  if (key === "by" && (t === "delete" || t === "member") && path.length === 1) return true;
  if (["replyTo", "edited", "deleted", "reactions", "peer", "private", "last", "reset", "dup"].includes(key)) return true;
  // v1.1: a message's `files`, and an image file's `width` and `height`.
  if (key === "files" || key === "width" || key === "height") return true;
  // v1.1 (issue 14): unread mentions, in a Summary and on activity and read frames.
  if (key === "mentions" || key === "lastSeen") return true;
  if (key === "members") return path.length > 1; // welcome.members is the member list
  if (t === "member" && key === "name" && path.length === 1) return true; // v1.1: the display name
  if (key === "muted" && path.length > 1) return true; // v1.1 (7.6): Summary.muted; the `muted` frame's is required
  return t === "error" && key === "id";
}

type Parser = (v: unknown) => Parsed<unknown>;

const sockets: [string, Parser, { t: string }[]][] = [
  ["conversation", parseServerFrame, all(serverSamples)],
  ["inbox", parseInboxFrame, all(inboxSamples)],
];

describe.each(sockets)("%s socket frames", (_socket, parse, samples) => {
  const cases = samples.map((f) => [f.t, f] as const);

  it.each(cases)("%s is accepted and copied", (_t, frame) => {
    const input = copy(frame);
    const got = parse(input);
    expect(got).toEqual({ ok: true, frame });
    // A fresh object, not the decoded value itself.
    if (got.ok) expect(got.frame).not.toBe(input);
  });

  it.each(cases)("%s drops unknown fields at every level", (_t, frame) => {
    const noisy = copy(frame);
    const addNoise = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(addNoise);
      else if (typeof v === "object" && v !== null) {
        for (const item of Object.values(v)) addNoise(item);
        Object.assign(v, { extra: { nested: [1, 2] }, constructor: "x", toString: 5 });
      }
    };
    addNoise(noisy);
    expect(parse(noisy)).toEqual({ ok: true, frame });
  });

  it.each(cases)("%s refuses each field with the wrong type", (_t, frame) => {
    for (const path of paths(frame)) {
      const key = path[path.length - 1];
      const parent = parentOf(frame, path);
      const value = parent[key!];
      const got = parse(withValue(frame, path, wrongType(value)));
      expect({ path: path.join("."), code: got.ok ? "ok" : got.code }).toEqual({ path: path.join("."), code: "invalid" });
    }
  });

  it.each(cases)("%s refuses each required field left out, and takes optional ones out cleanly", (_t, frame) => {
    for (const path of paths(frame)) {
      if (typeof path[path.length - 1] === "number") continue; // array items are not fields
      const name = path.join(".");
      const less = without(frame, path);
      const nulled = withValue(frame, path, null);
      if (isOptional(frame.t, path)) {
        expect({ name, got: parse(less) }).toEqual({ name, got: { ok: true, frame: less } });
        expect({ name, got: parse(nulled) }).toEqual({ name, got: { ok: true, frame: less } });
      } else {
        expect({ name, code: codeOf(parse(less)) }).toEqual({ name, code: "invalid" });
        expect({ name, code: codeOf(parse(nulled)) }).toEqual({ name, code: "invalid" });
      }
    }
  });

  it("refuses what is not a frame", () => {
    for (const v of [null, undefined, 1, "x", true, [], [{ t: "typing", username: "a" }], new Uint8Array(1)]) {
      expect(codeOf(parse(v))).toBe("bad_frame");
    }
    expect(codeOf(parse({}))).toBe("bad_frame");
    expect(codeOf(parse({ t: 1 }))).toBe("bad_frame");
    expect(codeOf(parse({ t: null, username: "a" }))).toBe("bad_frame");
  });

  it("refuses unknown types", () => {
    for (const t of ["", "nope", "Welcome", "send", "sync", "__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(codeOf(parse({ t, username: "a", online: true }))).toBe("unknown_type");
    }
  });

  it("refuses an unknown error code", () => {
    expect(codeOf(parse({ t: "error", code: "teapot", message: "x" }))).toBe("invalid");
    expect(codeOf(parse({ t: "error", code: "toString", message: "x" }))).toBe("invalid");
  });

  it("refuses integers that are negative, fractional, unsafe or not finite", () => {
    for (const frame of samples) {
      for (const path of paths(frame)) {
        const value = parentOf(frame, path)[path[path.length - 1]!];
        if (typeof value !== "number") continue;
        for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
          const got = parse(withValue(frame, path, bad));
          expect({ path: `${frame.t}.${path.join(".")}`, bad, code: codeOf(got) }).toEqual({ path: `${frame.t}.${path.join(".")}`, bad, code: "invalid" });
        }
      }
    }
  });
});

function codeOf(p: Parsed<unknown>): string {
  return p.ok ? "ok" : p.code;
}

describe("which socket has which frames", () => {
  it("keeps inbox-only frames off the conversation socket, and the other way round", () => {
    for (const frame of [...inboxSamples.inbox, ...inboxSamples.activity, ...inboxSamples.read, ...inboxSamples.joined]) {
      expect(codeOf(parseServerFrame(frame))).toBe("unknown_type");
    }
    for (const t of ["welcome", "msg", "edit", "delete", "react", "member", "synced", "ack", "receipt", "typing", "history"] as const) {
      for (const frame of serverSamples[t]) expect(codeOf(parseInboxFrame(frame))).toBe("unknown_type");
    }
  });

  it("reads presence and error on both", () => {
    const presence = { t: "presence", username: "bob", online: true };
    expect(parseServerFrame(presence)).toEqual({ ok: true, frame: presence });
    expect(parseInboxFrame(presence)).toEqual({ ok: true, frame: presence });
    const error = { t: "error", code: "forbidden", message: "no", id: "m1" };
    expect(parseServerFrame(error)).toEqual({ ok: true, frame: error });
    expect(parseInboxFrame(error)).toEqual({ ok: true, frame: error });
  });
});

describe("bounds of the integer fields", () => {
  it("takes 0 where the contract allows it and refuses it where an event seq is due", () => {
    expect(codeOf(parseServerFrame({ t: "msg", ...plainMessage, seq: 0 }))).toBe("invalid");
    expect(codeOf(parseServerFrame({ t: "ack", id: "m1", seq: 0, ts: 1 }))).toBe("invalid");
    expect(codeOf(parseServerFrame({ t: "edit", seq: 2, target: 0, body: "x", ts: 1 }))).toBe("invalid");
    expect(codeOf(parseServerFrame({ t: "msg", ...plainMessage, replyTo: 0 }))).toBe("invalid");
    expect(codeOf(parseServerFrame({ t: "receipt", username: "a", seq: 0 }))).toBe("ok");
    expect(codeOf(parseServerFrame({ t: "synced", lastSeq: 0, more: false }))).toBe("ok");
    expect(codeOf(parseInboxFrame({ t: "read", conv: "c", seq: 0, unread: 0 }))).toBe("ok");
    expect(codeOf(parseServerFrame({ t: "welcome", conv: { ...dmSummary, members: 0 }, me: "a", members: [] }))).toBe("ok");
  });

  it("refuses a conversation kind other than dm or room", () => {
    expect(codeOf(parseInboxFrame({ t: "joined", conversation: { ...roomSummary, kind: "group" } }))).toBe("invalid");
  });
});

describe("readMessage and readSummary, for HTTP answers", () => {
  it("copy a valid Message or Summary", () => {
    expect(readMessage(copy(fullMessage))).toEqual(fullMessage);
    expect(readMessage({ ...plainMessage, extra: 1 })).toEqual(plainMessage);
    expect(readSummary(copy(roomSummary))).toEqual(roomSummary);
    expect(readSummary({ ...dmSummary, last: null })).toEqual(dmSummary);
  });

  it("return null for anything else", () => {
    expect(readMessage(null)).toBeNull();
    expect(readMessage({ ...plainMessage, ts: "now" })).toBeNull();
    expect(readMessage({ ...fullMessage, reactions: [{ emoji: "x", users: [1] }] })).toBeNull();
    expect(readSummary([])).toBeNull();
    expect(readSummary({ ...roomSummary, last: { ...plainMessage, id: 1 } })).toBeNull();
  });
});
