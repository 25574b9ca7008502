/**
 * What the person had typed but not sent, per user and conversation, so that switching
 * conversations or reloading the page loses nothing. Per user: two accounts on one browser keep
 * their drafts apart; signing out forgets them (the next person at a shared computer must not
 * read them).
 */
import { load, save } from "../lib/store";

const key = (user: string, conv: string) => `draft:${user}:${conv}`;

export function loadDraft(user: string, conv: string): string {
  return load(key(user, conv)) ?? "";
}

export function saveDraft(user: string, conv: string, text: string): void {
  save(key(user, conv), text.trim() === "" ? null : text);
}

export function forgetDrafts(user: string): void {
  try {
    const mine = Object.keys(localStorage).filter((k) => k.startsWith(`draft:${user}:`));
    for (const k of mine) localStorage.removeItem(k);
  } catch {
    /* no storage: nothing was kept */
  }
}
