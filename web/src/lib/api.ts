/** The HTTP API of PROTOCOL.md sections 1 and 2, with the session cookie (same origin). */
import type { Me, Message, RoomListing, Summary } from "../../../protocol";

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, "network", "network unavailable");
  }
  if (res.status === 204) return null;
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = isObject(data) && isObject(data.error) ? data.error : {};
    throw new ApiFailure(res.status, typeof err.code === "string" ? err.code : "http", typeof err.message === "string" ? err.message : res.statusText);
  }
  return data;
}

/** The `user` of an answer: me, with my settings (`previews` is true unless the server says false). */
export function user(v: unknown): Me {
  if (isObject(v) && isObject(v.user) && typeof v.user.username === "string" && typeof v.user.name === "string") {
    return { username: v.user.username, name: v.user.name, previews: v.user.previews !== false };
  }
  throw new ApiFailure(500, "bad_answer", "unexpected answer");
}

export function field<T>(v: unknown, key: string, check: (x: unknown) => x is T): T {
  if (isObject(v) && check(v[key])) return v[key];
  throw new ApiFailure(500, "bad_answer", "unexpected answer");
}

export const isArray = (x: unknown): x is unknown[] => Array.isArray(x);

export type { RoomListing };

/** One listed room, or null when the server sent something else (it is then left out). */
export function readRoom(v: unknown): RoomListing | null {
  if (!isObject(v) || typeof v.id !== "string" || typeof v.title !== "string" || typeof v.created !== "number") return null;
  return { id: v.id, title: v.title, created: v.created };
}

export const api = {
  me: async (): Promise<Me | null> => {
    try {
      return user(await call("GET", "/api/me"));
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 401) return null;
      throw err;
    }
  },
  /** `name` is the display name; the server uses the username when it is left out. */
  signup: async (username: string, password: string, name?: string) =>
    user(await call("POST", "/api/signup", name ? { username, password, name } : { username, password })),
  login: async (username: string, password: string) => user(await call("POST", "/api/login", { username, password })),
  logout: async () => { await call("POST", "/api/logout"); },
  conversations: async () => field(await call("GET", "/api/conversations"), "conversations", isArray),
  startDm: async (username: string) => field(await call("POST", "/api/conversations", { kind: "dm", with: username }), "conversation", isObject),
  createRoom: async (title: string, isPrivate: boolean) =>
    field(await call("POST", "/api/conversations", { kind: "room", title, private: isPrivate }), "conversation", isObject),
  join: async (id: string, invite?: string) =>
    field(await call("POST", `/api/conversations/${encodeURIComponent(id)}/join`, invite ? { invite } : undefined), "conversation", isObject),
  mute: async (id: string, muted: boolean) => field(await call("PATCH", `/api/conversations/${encodeURIComponent(id)}/settings`, { muted }), "conversation", isObject),
  leave: async (id: string) => { await call("POST", `/api/conversations/${encodeURIComponent(id)}/leave`); },
  publicRooms: async (q: string) =>
    field(await call("GET", `/api/conversations/public?q=${encodeURIComponent(q)}`), "rooms", isArray).map(readRoom).filter((r): r is RoomListing => r !== null),
  invite: async (id: string, username: string) => { await call("POST", `/api/conversations/${encodeURIComponent(id)}/members`, { username }); },
  /** PROTOCOL.md 7.6: my own settings of a conversation. */
  search: async (id: string, q: string) =>
    field(await call("GET", `/api/conversations/${encodeURIComponent(id)}/search?q=${encodeURIComponent(q)}`), "messages", isArray),
};

export type { Message, Summary };
