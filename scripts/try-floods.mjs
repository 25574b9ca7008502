// Floods from outside, as a new user would try them, against a running `npm run dev` (or any
// wrangler dev: U=http://127.0.0.1:PORT): one member of a DM sends 150 of each frame kind as fast as
// it can (edits of 3 KB, reactions, typing, history, sync since=0), then an ordinary person types,
// reacts, scrolls history and reconnects. Prints what was refused; nothing here is a test.
//
//   node scripts/try-floods.mjs
import WebSocket from "ws";
const U = process.env.U ?? "http://127.0.0.1:8787";
const post = async (path, body, token) => {
  const r = await fetch(U + path, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return r.status === 204 ? null : r.json();
};
const n = Date.now().toString(36);
const a = await post("/api/signup", { username: `fa${n}`, password: "a long password" });
const b = await post("/api/signup", { username: `fb${n}`, password: "a long password" });
const conv = (await post("/api/conversations", { kind: "dm", with: `fb${n}` }, a.token)).conversation;
function open(token, since) {
  return new Promise((res) => {
    const ws = new WebSocket(`${U.replace("http", "ws")}/chat/${conv.id}${since === undefined ? "" : `?since=${since}`}`, ["chat.v1.json"], { headers: { authorization: `Bearer ${token}` } });
    const frames = [];
    ws.on("message", (d) => { const v = JSON.parse(d.toString()); for (const f of Array.isArray(v) ? v : [v]) frames.push(f); });
    ws.on("open", () => res({ ws, frames, send: (f) => ws.send(JSON.stringify(f)) }));
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const A = await open(a.token, 0);
const B = await open(b.token, 0);
await sleep(300);
A.send({ t: "send", id: "target", body: "target message" });
await sleep(300);
const target = A.frames.find((f) => f.t === "ack").seq;
const kinds = {
  edit: (i) => ({ t: "edit", target, body: `edit ${i} ${"x".repeat(3000)}` }),
  react: (i) => ({ t: "react", target, emoji: "👍", on: i % 2 === 0 }),
  typing: () => ({ t: "typing" }),
  history: () => ({ t: "history", limit: 100 }),
  sync: () => ({ t: "sync", since: 0 }),
};
const result = {};
for (const [kind, make] of Object.entries(kinds)) {
  const errorsBefore = A.frames.filter((f) => f.t === "error").length;
  const typingBefore = B.frames.filter((f) => f.t === "typing").length;
  const t0 = Date.now();
  for (let i = 0; i < 150; i++) A.send(make(i));
  await sleep(1500);
  const refused = A.frames.filter((f) => f.t === "error").slice(errorsBefore);
  result[kind] = { sentIn: `${Date.now() - t0 - 1500} ms`, refused: refused.length, codes: [...new Set(refused.map((f) => f.code))], typingRelayed: kind === "typing" ? B.frames.filter((f) => f.t === "typing").length - typingBefore : undefined };
  await sleep(4000); // let the buckets refill before the next kind
}
console.log("flood", JSON.stringify(result, null, 1));
// An ordinary person: types and sends 10 messages, reacts to some, scrolls 5 pages, reconnects 3 times.
const errorsBefore = B.frames.filter((f) => f.t === "error").length;
let last = 0;
for (let i = 0; i < 10; i++) {
  B.send({ t: "typing" });
  await sleep(700);
  B.send({ t: "send", id: `b${i}`, body: `message ${i}` });
  await sleep(300);
  if (i % 3 === 0) B.send({ t: "react", target, emoji: "🎉", on: true });
  if (i % 3 === 1) B.send({ t: "react", target, emoji: "🎉", on: false });
}
for (let p = 0; p < 5; p++) { B.send({ t: "history", before: 50 - p * 10, limit: 10 }); await sleep(400); }
last = Math.max(...B.frames.filter((f) => "seq" in f && f.t !== "receipt").map((f) => f.seq));
B.send({ t: "read", seq: last });
let refusedOnReconnect = 0;
for (let r = 0; r < 3; r++) {
  B.ws.close();
  await sleep(500);
  const again = await open(b.token, last);
  await sleep(500);
  refusedOnReconnect += again.frames.filter((f) => f.t === "error").length + (again.ws.readyState === WebSocket.OPEN ? 0 : 1);
  again.ws.close();
}
console.log("ordinary", JSON.stringify({ refused: B.frames.filter((f) => f.t === "error").length - errorsBefore, refusedOnReconnect }));
A.ws.close();
process.exit(0);
