/**
 * Display names by username, learnt from every conversation's members (the `welcome` frame), from
 * `member` events that carry a `name`, and from `profile` frames (a new name). Shared by all views,
 * so a person who joins or renames while you watch is shown by their name at once: in the join
 * line, on their messages, when typing and in notifications. Anyone not known yet is shown by
 * username; an erased account is shown as a deleted account, in the app's language.
 */
import { signal } from "@preact/signals";
import { t } from "../lib/i18n";

export const names = signal<ReadonlyMap<string, string>>(new Map());
/** Erased accounts (v1.1): their messages stay in DMs, under "Deleted account". */
export const deletedAccounts = signal<ReadonlySet<string>>(new Set());

export function learnNames(pairs: Iterable<{ username: string; name: string }>): void {
  let next: Map<string, string> | null = null;
  for (const { username, name } of pairs) {
    if (!name || (next ?? names.value).get(username) === name) continue;
    next ??= new Map(names.value);
    next.set(username, name);
  }
  if (next) names.value = next;
}

export function markDeleted(username: string): void {
  if (!deletedAccounts.value.has(username)) deletedAccounts.value = new Set(deletedAccounts.value).add(username);
}

export function nameOf(username: string): string {
  if (deletedAccounts.value.has(username)) return t("deletedAccount");
  return names.value.get(username) ?? username;
}
