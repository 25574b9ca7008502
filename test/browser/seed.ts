/** Seeding through the API and a socket from Node (a bearer token, as a bot would), to set a scene fast. */
import WebSocket from "ws";
import { createCodec, DEFAULT_LIMITS, SUBPROTOCOL_MSGPACK, isRecord, type Summary } from "../../protocol";
import { PASSWORD } from "./steps";

const codec = createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS);

export async function apiSignup(baseUrl: string, username: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/signup`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password: PASSWORD }) });
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

/** Sends the bodies in order and resolves when every one is acknowledged; `prefix` keeps the ids of separate calls apart. */
export function sendAll(baseUrl: string, token: string, conv: string, bodies: string[], prefix = "seed"): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace("http", "ws")}/chat/${conv}`, [SUBPROTOCOL_MSGPACK], { headers: { Authorization: `Bearer ${token}` } });
    let acked = 0;
    ws.on("open", () => {
      for (const [i, body] of bodies.entries()) ws.send(codec.encode({ t: "send", id: `${prefix}-${i}`, body }));
    });
    ws.on("message", (data: Buffer) => {
      for (const f of codec.decodeAll(new Uint8Array(data))) {
        if (isRecord(f) && f.t === "ack" && ++acked === bodies.length) {
          ws.close();
          resolve();
        }
        if (isRecord(f) && f.t === "error") reject(new Error(`seeding refused: ${String(f.message)}`));
      }
    });
    ws.on("error", reject);
  });
}
