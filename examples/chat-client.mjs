#!/usr/bin/env node
// A minimal terminal client: proves the wire protocol needs nothing but a websocket library.
// Each line typed is sent as a message; every frame received is printed.
//
//   node examples/chat-client.mjs --token TOKEN --conv CONVERSATION_ID [--url http://127.0.0.1:8787] [--since 0]
//
// It speaks chat.v1.json so that it needs no msgpack; resends keep their id, so a message is
// stored once however often it is sent.
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    token: { type: "string" },
    conv: { type: "string" },
    since: { type: "string" },
  },
});
if (!values.token || !values.conv) {
  console.error("usage: chat-client.mjs --token TOKEN --conv CONVERSATION_ID [--url URL] [--since SEQ]");
  process.exit(2);
}

const base = new URL(values.url);
base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
base.pathname = `/chat/${values.conv}`;
if (values.since !== undefined) base.searchParams.set("since", values.since);

const ws = new WebSocket(base, "chat.v1.json", { headers: { Authorization: `Bearer ${values.token}` } });
const pending = new Set();
let inputDone = false;

function show(frame) {
  switch (frame.t) {
    case "welcome":
      console.log(`# joined "${frame.conv.title}" as ${frame.me}; last seq ${frame.conv.lastSeq}`);
      break;
    case "msg":
      console.log(`[${frame.seq}] ${frame.from}: ${frame.body}`);
      break;
    case "ack":
      pending.delete(frame.id);
      console.log(`# stored as seq ${frame.seq}${frame.dup ? " (already stored)" : ""}`);
      break;
    case "error":
      console.log(`# error ${frame.code}: ${frame.message}`);
      if (frame.id) pending.delete(frame.id);
      break;
    default:
      console.log(`# ${JSON.stringify(frame)}`);
  }
  if (inputDone && pending.size === 0) ws.close(1000, "done");
}

ws.on("message", (data) => {
  const text = data.toString();
  if (text === "pong") return;
  const value = JSON.parse(text);
  for (const frame of Array.isArray(value) ? value : [value]) show(frame);
});
ws.on("close", (code, reason) => {
  console.log(`# closed ${code} ${reason}`);
  process.exit(code === 1000 ? 0 : 1);
});
ws.on("open", () => {
  const heartbeat = setInterval(() => ws.send("ping"), 30_000);
  ws.on("close", () => clearInterval(heartbeat));
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    const id = randomUUID();
    pending.add(id);
    ws.send(JSON.stringify({ t: "send", id, body: line }));
  });
  lines.on("close", () => {
    inputDone = true;
    if (pending.size === 0) setTimeout(() => ws.close(1000, "done"), 500);
  });
});
