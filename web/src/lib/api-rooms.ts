/** Running a room (PROTOCOL.md 7.3): settings, roles, removals, bans and deletion. */
import type { Role } from "../../../protocol";
import { call, field, isArray, isObject } from "./api";

export interface RoomPatch {
  title?: string;
  topic?: string;
  private?: boolean;
}

const room = (id: string) => `/api/conversations/${encodeURIComponent(id)}`;
const enc = encodeURIComponent;

export const roomsApi = {
  update: async (id: string, patch: RoomPatch) => field(await call("PATCH", room(id), patch), "conversation", isObject),
  setRole: async (id: string, username: string, role: Role) => { await call("PUT", `${room(id)}/members/${enc(username)}/role`, { role }); },
  remove: async (id: string, username: string) => { await call("DELETE", `${room(id)}/members/${enc(username)}`); },
  ban: async (id: string, username: string) => { await call("PUT", `${room(id)}/bans/${enc(username)}`); },
  unban: async (id: string, username: string) => { await call("DELETE", `${room(id)}/bans/${enc(username)}`); },
  bans: async (id: string) => field(await call("GET", `${room(id)}/bans`), "banned", isArray).filter((u): u is string => typeof u === "string"),
  erase: async (id: string) => { await call("DELETE", room(id)); },
  /** Invite links of a private room (issue 14): a new one's token; the live ones; revoking one. */
  makeInvite: async (id: string) => String(field(await call("POST", `${room(id)}/invites`, {}), "invite", isObject).token),
  invites: async (id: string) => field(await call("GET", `${room(id)}/invites`), "invites", isArray)
    .flatMap((l) => (isObject(l) && typeof l.token === "string" && typeof l.expires === "number" ? [{ token: l.token, expires: l.expires }] : [])),
  revokeInvite: async (id: string, token: string) => { await call("DELETE", `${room(id)}/invites/${enc(token)}`); },
};
