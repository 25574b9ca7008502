/** Running the room on screen: settings, roles, removals, bans, deletion (PROTOCOL.md 7.3). */
import { readSummary, type Role } from "../../../protocol";
import { roomsApi, type RoomPatch } from "../lib/api-rooms";
import { forget, inbox } from "./app";

export async function updateRoom(id: string, patch: RoomPatch): Promise<void> {
  const s = readSummary(await roomsApi.update(id, patch));
  // The `room` event updates the open conversation; the list hears it from the inbox too, but at once is nicer.
  if (s) inbox.upsert(s);
}

export const setRole = (id: string, username: string, role: Role) => roomsApi.setRole(id, username, role);
export const removeMember = (id: string, username: string) => roomsApi.remove(id, username);
export const banMember = (id: string, username: string) => roomsApi.ban(id, username);
export const unbanMember = (id: string, username: string) => roomsApi.unban(id, username);
export const bannedIn = (id: string) => roomsApi.bans(id);

/** Deleted for everyone: it goes from my screen at once (the others' lists hear `left`). */
export async function deleteRoom(id: string): Promise<void> {
  await roomsApi.erase(id);
  await forget(id);
}
