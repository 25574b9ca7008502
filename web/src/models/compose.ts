/** What the composer is doing besides writing a new message: replying to one, or editing one of mine. */
import { signal } from "@preact/signals";
import type { Message } from "../../../protocol";

export const replyingTo = signal<Message | null>(null);
export const editing = signal<Message | null>(null);
/** A side panel of the conversation view. */
export const panel = signal<"members" | "search" | "room" | null>(null);
/** The message whose action menu is open (one at a time, in the conversation on screen). */
export const menuFor = signal<number | null>(null);
