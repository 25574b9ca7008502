/** Conversations pinned to the top of the side bar: on this device only (localStorage, per user). */
import { signal } from "@preact/signals";
import { load, save } from "../lib/store";

export const pinned = signal<ReadonlySet<string>>(new Set());
let owner = "";

export function loadPins(user: string): void {
  owner = user;
  let ids: unknown = [];
  try {
    ids = JSON.parse(load(`pins:${user}`) ?? "[]");
  } catch {
    ids = [];
  }
  pinned.value = new Set(Array.isArray(ids) ? ids.filter((x): x is string => typeof x === "string") : []);
}

export function togglePin(id: string): void {
  const next = new Set(pinned.value);
  if (!next.delete(id)) next.add(id);
  pinned.value = next;
  save(`pins:${owner}`, next.size === 0 ? null : JSON.stringify([...next]));
}
