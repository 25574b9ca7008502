/** Files of messages (PROTOCOL.md 7.4): their address, size in words, box on screen, and the upload. */
import { readFileRef, type FileRef } from "../../../protocol";
import { ApiFailure, isObject } from "./api";
import { t } from "./i18n";

/** A file of a message not sent yet: its bytes until uploaded, then the server's record of it. */
export type QueuedFile = FileRef | { blob: Blob; name: string };
export type PendingFile = { blob: Blob; name: string };

export const pending = (f: QueuedFile): f is PendingFile => "blob" in f;

/** The bytes of files still to upload. */
export const pendingBytes = (files: readonly QueuedFile[] = []) => files.reduce((n, f) => n + (pending(f) ? f.blob.size : 0), 0);

export const fileUrl = (conv: string, id: string) => `/api/conversations/${encodeURIComponent(conv)}/files/${encodeURIComponent(id)}`;

/** Only the five image types the server sniffed are recorded as image/*: shown inline. */
export const isImage = (f: { type: string }) => f.type.startsWith("image/");

export function sizeText(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${Math.round(n / 1024)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`;
}

/** Longest side of an image's box in the list. */
const BOX = 320;

/**
 * The box an image takes in the list, from the width and height the server read from its header:
 * known before a byte of it loads, so the list does not move when it arrives. Unknown: a fixed box.
 */
export function imageBox(f: FileRef): { width: number; height: number } {
  if (!f.width || !f.height) return { width: 240, height: 180 };
  const k = Math.min(1, BOX / f.width, BOX / f.height);
  return { width: Math.max(1, Math.round(f.width * k)), height: Math.max(1, Math.round(f.height * k)) };
}

/** A message's text for a preview or a quote: its body, or with none its files ("🖼 photo", "📎 report.pdf"). */
export function textOf(m: { body: string; files?: readonly { name: string; type?: string }[] | undefined }): string {
  const f = m.files ?? [];
  if (m.body || !f[0]) return m.body;
  if (f.every((x) => x.type?.startsWith("image/"))) return `🖼 ${f.length > 1 ? t("photos", { n: f.length }) : t("photo")}`;
  return `📎 ${f[0].name}${f.length > 1 ? ` +${f.length - 1}` : ""}`;
}

/**
 * Uploads one file into conversation `conv` with XMLHttpRequest, which reports the progress of the
 * request body (fetch does not); a Blob body always carries the Content-Length the route needs.
 * Rejects with an ApiFailure: status 0 for no network, "aborted" when `stop` fires.
 */
export function uploadFile(conv: string, f: PendingFile, progress: (done: number) => void, stop: AbortSignal): Promise<FileRef> {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", `/api/conversations/${encodeURIComponent(conv)}/files`);
    x.setRequestHeader("x-file-name", encodeURIComponent(f.name));
    x.setRequestHeader("Content-Type", f.blob.type || "application/octet-stream");
    x.responseType = "json";
    x.upload.onprogress = (e) => progress(e.loaded / (e.total || 1));
    const fail = (status: number, code: string) => reject(new ApiFailure(status, code, code));
    x.onload = () => {
      const r: unknown = x.response;
      const ref = x.status === 201 && isObject(r) ? readFileRef(r.file) : null;
      if (ref) resolve(ref);
      else fail(x.status, isObject(r) && isObject(r.error) && typeof r.error.code === "string" ? r.error.code : "http");
    };
    x.onerror = () => fail(0, "network");
    x.onabort = () => fail(0, "aborted");
    stop.addEventListener("abort", () => x.abort());
    x.send(f.blob);
  });
}
