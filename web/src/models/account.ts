/** Account settings: my name, my password, where I am signed in, and erasing the account. */
import { effect, signal } from "@preact/signals";
import { accountApi, type SessionInfo } from "../lib/api-account";
import { endingSessions, me, signedOut } from "./app";
import { learnNames } from "./names";

/** The settings screen is on show instead of a conversation. */
export const settingsOpen = signal(false);
export const sessionList = signal<SessionInfo[] | null>(null);

// Signed out (here or by another device): the next person to sign in starts at their conversations.
effect(() => {
  if (!me.value) {
    settingsOpen.value = false;
    sessionList.value = null;
  }
});

export async function rename(name: string): Promise<void> {
  const user = await accountApi.update({ name: name.trim() });
  learnNames([user]);
  me.value = user;
}

/** Whether pushes to my devices show the message's text. */
export async function setPreviews(previews: boolean): Promise<void> {
  me.value = await accountApi.update({ previews });
}

/** The server keeps this session and ends every other one (their sockets close with 4401). */
export async function changePassword(current: string, next: string): Promise<void> {
  await accountApi.changePassword(current, next);
  await loadSessions();
}

export async function loadSessions(): Promise<void> {
  sessionList.value = await accountApi.sessions();
}

export async function endSession(id: string): Promise<void> {
  await accountApi.endSession(id);
  await loadSessions();
}

export async function endOtherSessions(): Promise<void> {
  await accountApi.endOtherSessions();
  await loadSessions();
}

/**
 * Erased on the server: this device signs out and says why, whether its sockets' 4401 or the
 * answer comes first.
 */
export async function eraseAccount(password: string): Promise<void> {
  await endingSessions("erased", () => accountApi.erase(password));
  settingsOpen.value = false;
  await signedOut("erased");
}
