/** My account (PROTOCOL.md 7.1) and whom I block (7.2): the routes under /api/me. */
import type { Me } from "../../../protocol";
import { call, field, isArray, isObject, user } from "./api";

/** One of my signed-in sessions, as GET /api/me/sessions lists them. */
export interface SessionInfo {
  id: string;
  created: number;
  lastUsed: number;
  agent?: string;
  current: boolean;
}

function readSession(v: unknown): SessionInfo | null {
  if (!isObject(v) || typeof v.id !== "string" || typeof v.created !== "number" || typeof v.lastUsed !== "number") return null;
  const s: SessionInfo = { id: v.id, created: v.created, lastUsed: v.lastUsed, current: v.current === true };
  if (typeof v.agent === "string") s.agent = v.agent;
  return s;
}

const me = "/api/me";
const enc = encodeURIComponent;

export const accountApi = {
  /** My name, or whether pushes show message text (PROTOCOL.md 7.6). */
  update: async (patch: { name: string } | { previews: boolean }): Promise<Me> => user(await call("PATCH", me, patch)),
  changePassword: async (current: string, password: string) => { await call("POST", `${me}/password`, { current, password }); },
  sessions: async () => field(await call("GET", `${me}/sessions`), "sessions", isArray).map(readSession).filter((s): s is SessionInfo => s !== null),
  endSession: async (id: string) => { await call("DELETE", `${me}/sessions/${enc(id)}`); },
  endOtherSessions: async () => { await call("DELETE", `${me}/sessions`); },
  erase: async (password: string) => { await call("DELETE", me, { password }); },
  blocked: async () => field(await call("GET", `${me}/blocks`), "blocked", isArray).filter((u): u is string => typeof u === "string"),
  block: async (username: string) => { await call("PUT", `${me}/blocks/${enc(username)}`); },
  unblock: async (username: string) => { await call("DELETE", `${me}/blocks/${enc(username)}`); },
};
