/**
 * Whom I block (PROTOCOL.md 7.2). The server refuses their DMs and invitations; in rooms we share
 * it changes nothing on the server, so the app itself folds their messages away (with "show").
 */
import { signal } from "@preact/signals";
import { accountApi } from "../lib/api-account";

export const blocked = signal<ReadonlySet<string>>(new Set());

export async function loadBlocks(): Promise<void> {
  blocked.value = new Set(await accountApi.blocked());
}

export async function setBlocked(username: string, on: boolean): Promise<void> {
  await (on ? accountApi.block(username) : accountApi.unblock(username));
  const next = new Set(blocked.value);
  if (on) next.add(username);
  else next.delete(username);
  blocked.value = next;
}

export function forgetBlocks(): void {
  blocked.value = new Set();
}
