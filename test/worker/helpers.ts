/**
 * Test helpers for the Workers pool: accounts through the HTTP API and socket clients that decode
 * every frame (batches included) and let a test wait for the frame it expects.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import type { ConversationObject } from "../../worker/conversation";
import type { UserObject } from "../../worker/user";
import { HTTP_WINDOW_MS } from "../../worker/user/account";
import {
  createCodec,
  DEFAULT_LIMITS,
  SUBPROTOCOL_MSGPACK,
  SUBPROTOCOLS,
  type AnyServerFrame,
  type EventFrame,
  type Limits,
  type Subprotocol,
  type Summary,
} from "../../protocol";

export const BASE = "https://chat.test";
let counter = 0;

/** A username no other test uses (the pool shares storage within a file). */
export function uniqueName(prefix = "u"): string {
  counter++;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e4)}`.slice(0, 32);
}

export interface Account {
  username: string;
  token: string;
}

/** The session id inside an account's token (its payload is base64url JSON `{u, s, e}`). */
export function sessionOf(account: Account): string {
  const payload = account.token.split(".")[1]!.replaceAll("-", "+").replaceAll("_", "/");
  return (JSON.parse(atob(payload)) as { s: string }).s;
}

/**
 * Puts `count` requests in one of the user's budget windows (worker/user/hit-window.ts), as if just
 * made: `http_hits` (every request) or `file_hits` (file downloads). Written to the window's table
 * and read back, the way a restarted object would find them.
 */
export async function spend(account: Account, count: number, table: "http_hits" | "file_hits" = "http_hits"): Promise<void> {
  await runInDurableObject(userStub(account.username), (instance, state) => {
    const window = instance.account.requests[table === "http_hits" ? "http" : "files"];
    window.flush(HTTP_WINDOW_MS);
    state.storage.sql.exec(
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO ${table} (at) SELECT ? FROM n`,
      count, Date.now(),
    );
    window.reset();
  });
}

/** How many requests the user's window holds now. */
export async function spent(account: Account, table: "http_hits" | "file_hits"): Promise<number> {
  return runInDurableObject(userStub(account.username), (instance) =>
    instance.account.requests[table === "http_hits" ? "http" : "files"].held(HTTP_WINDOW_MS, Date.now()));
}

export async function api(method: string, path: string, token?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return SELF.fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function signup(prefix = "u", password = "correct horse battery"): Promise<Account> {
  const username = uniqueName(prefix);
  const res = await api("POST", "/api/signup", undefined, { username, password });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
  const data = (await res.json()) as { token: string };
  return { username, token: data.token };
}

export async function dm(a: Account, b: Account): Promise<Summary> {
  const res = await api("POST", "/api/conversations", a.token, { kind: "dm", with: b.username });
  if (res.status !== 201 && res.status !== 200) throw new Error(`dm failed: ${res.status}`);
  return ((await res.json()) as { conversation: Summary }).conversation;
}

export async function room(owner: Account, members: Account[] = [], isPrivate = false): Promise<Summary> {
  const res = await api("POST", "/api/conversations", owner.token, { kind: "room", title: "Room", private: isPrivate });
  if (res.status !== 201) throw new Error(`room failed: ${res.status}`);
  const conv = ((await res.json()) as { conversation: Summary }).conversation;
  for (const m of members) {
    const r = await api("POST", `/api/conversations/${conv.id}/members`, owner.token, { username: m.username });
    if (r.status !== 200) throw new Error(`invite failed: ${r.status}`);
  }
  return conv;
}

export interface ClientOptions {
  protocol?: Subprotocol | null;
  origin?: string;
  since?: number;
  cookie?: boolean;
}

/** A socket client that records every frame and waits for the ones a test expects. */
export class TestClient {
  readonly frames: AnyServerFrame[] = [];
  /** `pong` text frames received (the runtime's answers to `ping`). */
  pongs = 0;
  closeCode: number | null = null;
  closeReason = "";
  private waiters: (() => void)[] = [];
  private codec;

  constructor(readonly ws: WebSocket, readonly protocol: Subprotocol) {
    this.codec = createCodec(protocol, DEFAULT_LIMITS);
    // The runtime follows the standard and hands binary frames over as Blobs unless asked.
    (ws as WebSocket & { binaryType: string }).binaryType = "arraybuffer";
    ws.accept();
    ws.addEventListener("message", (ev) => {
      const data = ev.data as string | ArrayBuffer;
      if (data === "pong") {
        this.pongs++;
        this.wake();
        return;
      }
      for (const f of this.codec.decodeAll(data)) this.frames.push(f as AnyServerFrame);
      this.wake();
    });
    ws.addEventListener("close", (ev) => {
      this.closeCode = ev.code;
      this.closeReason = ev.reason;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; frames so far: ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits until `pred` holds over the frames received so far. */
  async until(pred: (frames: AnyServerFrame[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      if (this.closeCode !== null) throw new Error(`socket closed ${this.closeCode} ${this.closeReason}`);
      await this.changed(Math.max(1, deadline - Date.now()));
    }
  }

  /** The first frame (after index `from`) of type `t` matching `pred`. */
  async next<T extends AnyServerFrame["t"]>(t: T, pred: (f: Extract<AnyServerFrame, { t: T }>) => boolean = () => true, timeoutMs?: number): Promise<Extract<AnyServerFrame, { t: T }>> {
    let found: Extract<AnyServerFrame, { t: T }> | undefined;
    await this.until((frames) => {
      found = frames.find((f): f is Extract<AnyServerFrame, { t: T }> => f.t === t && pred(f as Extract<AnyServerFrame, { t: T }>));
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  of<T extends AnyServerFrame["t"]>(t: T): Extract<AnyServerFrame, { t: T }>[] {
    return this.frames.filter((f): f is Extract<AnyServerFrame, { t: T }> => f.t === t);
  }

  send(frame: object): void {
    this.ws.send(this.codec.encode(frame));
  }

  sendRaw(data: string | ArrayBuffer | Uint8Array): void {
    this.ws.send(data);
  }

  async closed(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === null) await this.changed(Math.max(1, deadline - Date.now()));
    return this.closeCode;
  }

  close(code = 1000): void {
    try {
      this.ws.close(code, "bye");
    } catch {
      // already closed
    }
  }
}

export async function connect(path: string, account: Account | null, opts: ClientOptions = {}): Promise<TestClient> {
  const protocol = opts.protocol === undefined ? SUBPROTOCOL_MSGPACK : opts.protocol;
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (protocol) headers["Sec-WebSocket-Protocol"] = protocol;
  if (account) {
    if (opts.cookie) headers.Cookie = `session=${account.token}`;
    else headers.Authorization = `Bearer ${account.token}`;
  }
  if (opts.origin) headers.Origin = opts.origin;
  const url = `${BASE}${path}${opts.since === undefined ? "" : `${path.includes("?") ? "&" : "?"}since=${opts.since}`}`;
  const res = await SELF.fetch(url, { headers });
  if (res.status !== 101 || !res.webSocket) throw new Error(`upgrade failed: ${res.status} ${await res.text()}`);
  // Decode with what the server answered, so that a wrong negotiation fails the test.
  const answered = res.headers.get("Sec-WebSocket-Protocol");
  const spoken = SUBPROTOCOLS.find((p) => p === answered) ?? SUBPROTOCOL_MSGPACK;
  return new TestClient(res.webSocket, spoken);
}

/** Sends each body with a fresh id and waits for its ack; the seqs, in order. */
export async function sendAll(client: TestClient, bodies: string[]): Promise<number[]> {
  const seqs: number[] = [];
  for (const [i, body] of bodies.entries()) {
    const id = `m${i}-${Math.random().toString(36).slice(2)}`;
    client.send({ t: "send", id, body });
    seqs.push((await client.next("ack", (f) => f.id === id)).seq);
  }
  return seqs;
}

/** Connects to a conversation and waits for `welcome` and `synced`. */
export async function join(convId: string, account: Account, opts: ClientOptions = {}): Promise<TestClient> {
  const c = await connect(`/chat/${convId}`, account, opts);
  await c.next("synced");
  return c;
}

/**
 * A DM between two new people, the second watching (an inbox open, its first frame read) and the
 * first connected to the conversation: the set-up of every count and notification test.
 */
export async function watchedDm(): Promise<{ alice: Account; bob: Account; conv: Summary; inbox: TestClient; a: TestClient }> {
  const set = await dmBobWatches();
  const a = await join(set.conv.id, set.alice);
  return { ...set, a };
}

/** The same DM with nobody connected to it yet: Bob watching from his inbox, Alice away. */
export async function dmBobWatches(): Promise<{ alice: Account; bob: Account; conv: Summary; inbox: TestClient }> {
  const alice = await signup("alice");
  const bob = await signup("bob");
  const conv = await dm(alice, bob);
  const inbox = await connect("/inbox", bob);
  await inbox.next("inbox");
  return { alice, bob, conv, inbox };
}

// ---- reaching into the conversation object (Durable Object test helpers) ----------------------

/** The user object's stub, as the Worker addresses it: by username, or an account's. */
export function userStub(who: string | { username: string }): DurableObjectStub<UserObject> {
  return env.USERS.get(env.USERS.idFromName(typeof who === "string" ? who : who.username)) as DurableObjectStub<UserObject>;
}

/** A statement that writes (what writesDuring records). */
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** The write statements an object (a user's: userStub, a conversation's: convStub) runs while `during` runs. */
export function writesDuring(stub: DurableObjectStub<UserObject> | DurableObjectStub<ConversationObject>, during: () => Promise<void>): Promise<string[]> {
  return statementsDuring(stub, during, WRITE);
}

/** The statements an object runs while `during` runs (those `pick` matches; all by default), in order. */
export async function statementsDuring(stub: DurableObjectStub<UserObject> | DurableObjectStub<ConversationObject>, during: () => Promise<void>, pick = /./): Promise<string[]> {
  const recorded: string[] = [];
  let original: SqlStorage["exec"] | null = null;
  await runInDurableObject(stub, (_i, state) => {
    const sql = state.storage.sql;
    original = sql.exec;
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      if (pick.test(query)) recorded.push(query);
      return original!.call(sql, query, ...bindings);
    }) as SqlStorage["exec"];
  });
  try {
    await during();
  } finally {
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec = original!;
    });
  }
  return recorded;
}

/**
 * Makes stored state look as an object made before the schema's revision record (schema-revision.ts)
 * stored it, so that its next wake runs the whole install, migrations included.
 */
export function asOlderObject(sql: SqlStorage): void {
  sql.exec("DROP TABLE IF EXISTS schema_revision");
}

/** The conversation object's stub, as the Worker addresses it. */
export function convStub(id: string): DurableObjectStub<ConversationObject> {
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(id));
}

/** Changes limits on the live instance (lost on eviction), e.g. to lift the send rate for a load test. */
export async function setLimits(id: string, patch: Partial<Limits>): Promise<void> {
  await runInDurableObject(convStub(id), (instance) => {
    instance.limits = { ...instance.limits, ...patch };
  });
}

/** Rows of a query run in the conversation object's own SQLite storage. */
export async function convSql(id: string, query: string, ...bindings: SqlStorageValue[]): Promise<Record<string, SqlStorageValue>[]> {
  return runInDurableObject(convStub(id), (_instance, state) => state.storage.sql.exec(query, ...bindings).toArray());
}

/** Everything a frame could change in a conversation's storage, for before/after comparisons. */
export async function storedState(id: string): Promise<string> {
  const tables = ["meta", "members", "events", "messages", "reactions"];
  const dump: Record<string, Record<string, SqlStorageValue>[]> = {};
  for (const t of tables) dump[t] = await convSql(id, `SELECT * FROM ${t} ORDER BY 1`);
  // The search index is built in the background a moment after sends: bring it up to date first,
  // so that two snapshots differ only by what frames changed.
  await runInDurableObject(convStub(id), (instance) => {
    while (instance.search.indexPending() > 0);
  });
  dump.fts = await convSql(id, "SELECT rowid, body FROM messages_fts ORDER BY rowid");
  return JSON.stringify(dump);
}

const EVENT_TYPES: ReadonlySet<string> = new Set(["msg", "edit", "delete", "react", "member"]);

/** Frames of the conversation log: each carries its own seq. */
export function isEvent(f: AnyServerFrame): f is EventFrame {
  return EVENT_TYPES.has(f.t);
}

/** Event seqs in the frames a client received, in the order received. */
export function eventSeqs(frames: readonly AnyServerFrame[]): number[] {
  return frames.filter(isEvent).map((f) => f.seq);
}

/** 1, 2, ..., n (or from..to). */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Closes clients and waits for the server's answer, so that no close handler outlives the test. */
export async function closeAll(...clients: TestClient[]): Promise<void> {
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.closed().catch(() => 0)));
}
