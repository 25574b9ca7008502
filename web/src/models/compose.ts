/** What the composer is doing besides writing a new message: replying to one, or editing one of mine. */
import { signal } from "@preact/signals";
import { DEFAULT_LIMITS, FILES_PER_MESSAGE, type FileRef, type Message } from "../../../protocol";
import { sizeText } from "../lib/files";
import { t } from "../lib/i18n";

export const replyingTo = signal<Message | null>(null);
export const editing = signal<Message | null>(null);
/** A side panel of the conversation view. */
export const panel = signal<"members" | "search" | "room" | null>(null);
/** The message whose action menu is open (one at a time, in the conversation on screen). */
export const menuFor = signal<number | null>(null);
/** Files chosen, pasted or dropped for the message being written. */
export const attached = signal<File[]>([]);
/** Why the last files could not be attached (or the message was refused), until the next try. */
export const attachError = signal("");
/** The image viewer: one message's images, the one shown, and the element to give the focus back to. */
export const viewing = signal<{ conv: string; files: FileRef[]; i: number; from: HTMLElement } | null>(null);

/** Adds files to the message being written: each once, none over the size limit, at most FILES_PER_MESSAGE. */
export function attach(list: Iterable<File>): void {
  const next = [...attached.value];
  let why = "";
  for (const f of list) {
    if (next.some((x) => x.name === f.name && x.size === f.size && x.lastModified === f.lastModified)) continue;
    if (f.size > DEFAULT_LIMITS.fileBytes) why = t("fileTooBig", { name: f.name, max: sizeText(DEFAULT_LIMITS.fileBytes) });
    else if (next.length >= FILES_PER_MESSAGE) why = t("tooManyFiles", { n: FILES_PER_MESSAGE });
    else next.push(f);
  }
  attached.value = next;
  attachError.value = why;
}
