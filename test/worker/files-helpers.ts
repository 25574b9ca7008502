/** Uploads and downloads for the file tests (PROTOCOL.md 7.4). */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import type { FileRef } from "../../protocol";
import { BASE, convSql, type Account } from "./helpers";

export async function upload(
  account: Account,
  convId: string,
  bytes: Uint8Array | string,
  opts: { name?: string; type?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const headers: Record<string, string> = { Authorization: `Bearer ${account.token}`, "Content-Type": opts.type ?? "application/octet-stream", ...opts.headers };
  if (opts.name !== undefined) headers["x-file-name"] = encodeURIComponent(opts.name);
  return SELF.fetch(`${BASE}/api/conversations/${convId}/files`, { method: "POST", headers, body });
}

/** Uploads and expects 201; the file's reference. */
export async function uploaded(account: Account, convId: string, bytes: Uint8Array | string, opts: { name?: string; type?: string } = {}): Promise<FileRef> {
  const res = await upload(account, convId, bytes, opts);
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { file: FileRef }).file;
}

export function download(account: Account, convId: string, fileId: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${BASE}/api/conversations/${convId}/files/${fileId}`, { headers: { Authorization: `Bearer ${account.token}`, ...headers } });
}

/** Every R2 key stored under the conversation's prefix. */
export async function r2Keys(convId: string): Promise<string[]> {
  const listed = await env.FILES.list({ prefix: `${convId}/` });
  return listed.objects.map((o) => o.key);
}

export async function fileRows(convId: string): Promise<Record<string, SqlStorageValue>[]> {
  return convSql(convId, "SELECT * FROM files ORDER BY created, id");
}

/** Bytes uploaded by `username` in the quota's window, as their object counts them. */
export async function quotaUsed(username: string): Promise<number> {
  return runInDurableObject(env.USERS.get(env.USERS.idFromName(username)), (instance) => instance.fileQuota.used());
}

/** Records `bytes` as uploaded by `username` just now (to bring the quota to its edge quickly). */
export async function prefillQuota(username: string, bytes: number): Promise<void> {
  await runInDurableObject(env.USERS.get(env.USERS.idFromName(username)), (instance) => {
    instance.fileQuota.reserve(`prefill-${crypto.randomUUID()}`, bytes, Number.MAX_SAFE_INTEGER);
  });
}

/** `n` bytes of a repeating pattern (so that a wrong range shows). */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + (i >> 8)) & 255;
  return out;
}
