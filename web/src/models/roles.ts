/**
 * What my role in a room lets me do (PROTOCOL.md 7.3), to offer only the controls that the server
 * would allow. The server checks every one again: this only spares people buttons that would fail.
 */
import type { Role } from "../../../protocol";

/** Settings, the ban list, and deleting others' messages: admins and the owner. */
export function canModerate(mine: Role | undefined): boolean {
  return mine === "owner" || mine === "admin";
}

/** Removing or banning `theirs`: the owner anyone else, an admin only plain members. */
export function canRemove(mine: Role | undefined, theirs: Role | undefined): boolean {
  if (mine === "owner") return theirs !== "owner";
  return mine === "admin" && (theirs ?? "member") === "member";
}

/** Roles are set, and ownership handed over, by the owner alone. */
export function canSetRoles(mine: Role | undefined): boolean {
  return mine === "owner";
}
