/**
 * What the person had typed but not sent, per user and conversation, so that switching
 * conversations or reloading the page loses nothing. Per user: two accounts on one browser keep
 * their drafts apart.
 */
import { load, save } from "../lib/store";

const key = (user: string, conv: string) => `draft:${user}:${conv}`;

export function loadDraft(user: string, conv: string): string {
  return load(key(user, conv)) ?? "";
}

export function saveDraft(user: string, conv: string, text: string): void {
  save(key(user, conv), text.trim() === "" ? null : text);
}
