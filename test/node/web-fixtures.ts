/** Frames and fakes shared by the web client's unit tests. */
import { createCodec, DEFAULT_LIMITS, SUBPROTOCOL_MSGPACK, SUBPROTOCOLS, type Codec, type Member, type MsgFrame, type Summary, type WelcomeFrame } from "../../protocol";
import type { IDBFactory } from "fake-indexeddb";
import { Outbox } from "../../web/src/lib/outbox";
import type { SocketLike } from "../../web/src/lib/socket";
import type { Timers } from "../../web/src/lib/timers";
import { ConversationSession } from "../../web/src/models/session";

export const conv: Summary = { id: "c1", kind: "dm", title: "Bob", peer: "bob", lastSeq: 0, readSeq: 0, unread: 0 };

export function member(username: string, online = false, readSeq = 0): Member {
  return { username, name: username, online, readSeq };
}

export function welcome(lastSeq: number, members: Member[] = [member("alice", true), member("bob")]): WelcomeFrame {
  return { t: "welcome", conv: { ...conv, lastSeq }, me: "alice", members };
}

export function msg(seq: number, from = "bob", id = `m${seq}`, body = `message ${seq}`): MsgFrame {
  return { t: "msg", seq, id, from, body, ts: 1_700_000_000_000 + seq };
}

/** The codec of a subprotocol a server answered ("" for none: plain msgpack). */
function codecOf(protocol: string): Codec {
  return createCodec(SUBPROTOCOLS.find((p) => p === protocol) ?? SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);
}

/** Node has no CloseEvent: the fields a close event carries. */
class TestCloseEvent extends Event implements CloseEvent {
  constructor(readonly code: number, readonly reason = "", readonly wasClean = false) {
    super("close");
  }
}

/** A WebSocket stand-in: records what the client sends; the test plays the server. */
export class FakeSocket implements SocketLike {
  binaryType: BinaryType = "blob";
  readyState = 0;
  sent: (string | Uint8Array)[] = [];
  closedWith: number | null = null;
  onopen: ((ev: Event) => unknown) | null = null;
  onmessage: ((ev: MessageEvent) => unknown) | null = null;
  onclose: ((ev: CloseEvent) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;

  /** What the fake server answers: by default the first protocol offered, as our server does. */
  protocol = "";

  constructor(readonly url: string, readonly protocols: string[]) {}

  send(data: string | Uint8Array<ArrayBuffer>): void {
    this.sent.push(data);
  }
  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  /** Opens the connection; `answer` is the subprotocol the server picks (the first offered by default). */
  open(answer = this.protocols[0] ?? ""): void {
    this.protocol = answer;
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  /** The server sends these frames as one websocket message (a batch when more than one). */
  deliver(...frames: object[]): void {
    const c = codecOf(this.protocol);
    const bytes = frames.length === 1 ? c.encode(frames[0]!) : c.encodeBatch(frames);
    const data = typeof bytes === "string" ? bytes : bytes.slice().buffer;
    this.onmessage?.(new MessageEvent("message", { data }));
  }
  text(data: string): void {
    this.onmessage?.(new MessageEvent("message", { data }));
  }
  drop(code: number): void {
    this.readyState = 3;
    this.onclose?.(new TestCloseEvent(code));
  }
  /** The frames the client sent, decoded (pings as the string "ping"). */
  frames(): unknown[] {
    return this.sent.map((d) => (typeof d === "string" ? d : codecOf(this.protocol).decodeAll(d)[0]));
  }
}

/** Timers the test advances by hand. */
export class ManualTimers implements Timers {
  now = 0;
  #next = 1;
  #due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.#due.delete(handle);
  }
  pending(): number[] {
    return [...this.#due.values()].map((d) => d.at - this.now);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = [...this.#due.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > until) break;
      this.#due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = until;
  }
}

/**
 * Alice's session of conversation c1 with its outbox in `idb`; every socket it opens is a
 * FakeSocket pushed to `sockets` (the last one is the live one).
 */
export function fakeSession(idb: IDBFactory, sockets: FakeSocket[], since: number | null = 0): ConversationSession {
  return new ConversationSession("c1", since, {
    outbox: new Outbox(idb),
    user: "alice",
    socketUrl: (p) => `ws://test${p}`,
    onIncoming: () => {},
    onApplied: () => {},
    onFinal: () => {},
    create: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s;
    },
  });
}
