/** Seeding through the API and a socket from Node (a bearer token, as a bot would), to set a scene fast. */
import WebSocket from "ws";
import { createCodec, DEFAULT_LIMITS, SUBPROTOCOL_MSGPACK, isRecord, type Summary } from "../../protocol";
import { PASSWORD } from "./steps";

const codec = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);

export async function apiSignup(baseUrl: string, username: string, name?: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/signup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password: PASSWORD, ...(name ? { name } : {}) }) });
  const data: unknown = await res.json();
  if (res.status !== 201 || !isRecord(data) || typeof data.token !== "string") throw new Error(`signup failed: ${res.status}`);
  return data.token;
}

export async function apiDm(baseUrl: string, token: string, peer: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/conversations`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ kind: "dm", with: peer }),
  });
  const data: unknown = await res.json();
  if (!isRecord(data) || !isRecord(data.conversation) || typeof data.conversation.id !== "string") throw new Error("dm failed");
  const conv: Pick<Summary, "id"> = { id: data.conversation.id };
  return conv.id;
}

/** A message to seed: its text, or its text and the seq it replies to. */
export type Seed = string | { body: string; replyTo: number };

/**
 * Sends the messages in order and resolves with their seqs when every one is acknowledged;
 * `prefix` keeps the ids of separate calls apart.
 */
export function sendAll(baseUrl: string, token: string, conv: string, bodies: Seed[], prefix = "seed"): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/chat/${conv}`, [SUBPROTOCOL_MSGPACK], { headers: { Authorization: `Bearer ${token}` } });
    let acked = 0;
    const seqs = new Map<string, number>();
    ws.on("open", () => {
      for (const [i, m] of bodies.entries()) ws.send(codec.encode(typeof m === "string" ? { t: "send", id: `${prefix}-${i}`, body: m } : { t: "send", id: `${prefix}-${i}`, ...m }));
    });
    ws.on("message", (data: Buffer) => {
      for (const f of codec.decodeAll(new Uint8Array(data))) {
        if (isRecord(f) && f.t === "ack" && typeof f.id === "string" && typeof f.seq === "number") seqs.set(f.id, f.seq);
        if (isRecord(f) && f.t === "ack" && ++acked === bodies.length) {
          ws.close();
          resolve(bodies.map((_, i) => seqs.get(`${prefix}-${i}`) ?? 0));
        }
        if (isRecord(f) && f.t === "error") reject(new Error(`seeding refused: ${String(f.message)}`));
      }
    });
    ws.on("error", reject);
  });
}

/** A room created by `token`'s user, with `others` invited; its id. */
export async function apiRoom(baseUrl: string, token: string, title: string, others: string[] = []): Promise<string> {
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
  const res = await fetch(`${baseUrl}/api/conversations`, { method: "POST", headers, body: JSON.stringify({ kind: "room", title }) });
  const data: unknown = await res.json();
  if (!isRecord(data) || !isRecord(data.conversation) || typeof data.conversation.id !== "string") throw new Error("room failed");
  const id = data.conversation.id;
  for (const username of others) {
    const r = await fetch(`${baseUrl}/api/conversations/${encodeURIComponent(id)}/members`, { method: "POST", headers, body: JSON.stringify({ username }) });
    if (!r.ok) throw new Error(`invite failed: ${r.status}`);
  }
  return id;
}

/**
 * Sends raw frames on a conversation's socket (e.g. `typing`), then asks for `history` and closes
 * once it is answered: the frames before it were handled by then.
 */
export function sendFrames(baseUrl: string, token: string, conv: string, frames: Record<string, unknown>[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/chat/${conv}`, [SUBPROTOCOL_MSGPACK], { headers: { Authorization: `Bearer ${token}` } });
    let sent = false;
    ws.on("message", (data: Buffer) => {
      for (const f of codec.decodeAll(new Uint8Array(data))) {
        if (isRecord(f) && f.t === "welcome" && !sent) {
          sent = true;
          for (const frame of frames) ws.send(codec.encode(frame));
          ws.send(codec.encode({ t: "history", limit: 1 }));
        } else if (isRecord(f) && f.t === "history") {
          ws.close();
          resolve();
        }
      }
    });
    ws.on("error", reject);
  });
}

/** Whether `username` is online as the conversation's welcome to `token`'s user says (PROTOCOL.md 3.1). */
export function onlineIn(baseUrl: string, token: string, conv: string, username: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/chat/${conv}`, [SUBPROTOCOL_MSGPACK], { headers: { Authorization: `Bearer ${token}` } });
    ws.on("message", (data: Buffer) => {
      for (const f of codec.decodeAll(new Uint8Array(data))) {
        if (isRecord(f) && f.t === "welcome" && Array.isArray(f.members)) {
          ws.close();
          resolve(f.members.some((m) => isRecord(m) && m.username === username && m.online === true));
        }
      }
    });
    ws.on("error", reject);
  });
}
