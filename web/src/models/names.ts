/**
 * Display names by username, learnt from every conversation's members (the `welcome` frame) and
 * from `member` events that carry a `name`. Shared by all views, so a person who joins while you
 * watch is shown by name at once: in the join line, on their messages, when typing and in
 * notifications. Anyone not known yet is shown by username.
 */
import { signal } from "@preact/signals";

export const names = signal<ReadonlyMap<string, string>>(new Map());

export function learnNames(pairs: Iterable<{ username: string; name: string }>): void {
  let next: Map<string, string> | null = null;
  for (const { username, name } of pairs) {
    if (!name || (next ?? names.value).get(username) === name) continue;
    next ??= new Map(names.value);
    next.set(username, name);
  }
  if (next) names.value = next;
}

export function nameOf(username: string): string {
  return names.value.get(username) ?? username;
}
