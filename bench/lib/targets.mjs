// The servers the generator drives, behind one shape: make rooms with members, and say how a
// member's socket connects. Ours needs accounts (sign-up over HTTP, rooms, invitations); the two
// references take a room name and a user name in the URL.
import { BenchSocket } from "./client.mjs";

const PASSWORD = "bench password 1";

async function api(base, method, path, token, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

async function inParallel(items, concurrency, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Our Worker: users signed up once per server, shared by its `direct` and `wrangler` targets. */
export class OursServer {
  kind = "ours";
  users = [];
  /** @param baseUrl () => the URL for set-up calls (HTTP), straight to workerd */
  constructor(baseUrl) {
    this.baseUrl = baseUrl;
  }
  get base() {
    return this.baseUrl();
  }

  async signup(count) {
    const tag = Date.now().toString(36).slice(-5);
    const t0 = performance.now();
    this.users = await inParallel(Array.from({ length: count }, (_, i) => i), 4, async (i) => {
      const username = `b${tag}_${i}`;
      const { token } = await api(this.base, "POST", "/api/signup", undefined, { username, password: PASSWORD });
      return { username, token };
    });
    return performance.now() - t0;
  }

  /** A room whose members are `count` users of the pool starting at `offset` (wrapping). */
  async room(count, offset = 0) {
    const n = Math.min(count, this.users.length);
    const members = Array.from({ length: n }, (_, i) => this.users[(offset + i) % this.users.length]);
    const owner = members[0];
    const { conversation } = await api(this.base, "POST", "/api/conversations", owner.token, { kind: "room", title: "bench", private: true });
    await inParallel(members.slice(1), 12, (m) => api(this.base, "POST", `/api/conversations/${conversation.id}/members`, owner.token, { username: m.username }));
    return { id: conversation.id, members };
  }

  /** `count` rooms of `size` members, made a few at a time (each invitation is two commits). */
  rooms(count, size) {
    return inParallel(Array.from({ length: count }, (_, r) => r), 8, (r) => this.room(size, r * size));
  }

  /** `count` DMs between distinct pairs of users (2i, 2i + 1), made with `{kind: "dm"}`. */
  dms(count) {
    return inParallel(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
      const a = this.users[(2 * i) % this.users.length];
      const b = this.users[(2 * i + 1) % this.users.length];
      const { conversation } = await api(this.base, "POST", "/api/conversations", a.token, { kind: "dm", with: b.username });
      return { id: conversation.id, members: [a, b] };
    });
  }
}

/** bench/bare and bench/floor: rooms exist on first use. */
export class ReferenceServer {
  users = [];
  #rooms = 0;
  constructor(kind) {
    this.kind = kind;
  }
  async signup(count) {
    this.users = Array.from({ length: count }, (_, i) => ({ username: `u${i}`, token: null }));
    return 0;
  }
  /** Members drawn from the same pool as ours (wrapping), so a user's sockets span the same rooms. */
  async room(count, offset = 0) {
    const pool = this.users.length || Number.POSITIVE_INFINITY;
    const members = Array.from({ length: Math.min(count, pool) }, (_, i) => ({ username: `u${(offset + i) % pool}`, token: null }));
    return { id: `r${Date.now().toString(36)}${this.#rooms++}`, members };
  }
  rooms(count, size) {
    return Promise.all(Array.from({ length: count }, (_, r) => this.room(size, r * size)));
  }
  /** The references have no DMs: a room of two is what they would do for one. */
  dms(count) {
    return this.rooms(count, 2);
  }
}

/**
 * A server reached one way: `via` is "direct" (workerd's own port, or the floor) or "wrangler"
 * (wrangler dev's proxy). `cpuPids`: the processes whose CPU counts as the server's.
 */
export class Target {
  constructor({ label, server, port, via, workerPid, cpuPids, rssPid }) {
    Object.assign(this, { label, server, port, via, workerPid, cpuPids, rssPid });
  }

  /** The URL and headers of a socket of member `m` on `path` (`/chat/<id>`, `/inbox`). */
  address(path, m, { since } = {}) {
    const q = new URLSearchParams();
    if (since !== undefined) q.set("since", String(since));
    if (!m.token) q.set("user", m.username);
    const qs = q.toString();
    return { url: `ws://127.0.0.1:${this.port}${path}${qs ? `?${qs}` : ""}`, headers: m.token ? { Authorization: `Bearer ${m.token}` } : {} };
  }

  /** A socket for member `m` of `room` (the `i`-th of that member's sockets). */
  socket(room, m, protocol, codec, { since, autoSync = true } = {}) {
    const { url, headers } = this.address(`/chat/${room.id}`, m, { since });
    const s = new BenchSocket(url, protocol, codec, { headers, autoSync, label: `${this.label} ${m.username}` });
    if (since !== undefined) s.expectFrom(since);
    return s;
  }
}
