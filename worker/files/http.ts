/**
 * The HTTP details of serving files (PROTOCOL.md 7.4), as pure functions: the upload's name and
 * declared type, the safety headers, `Content-Disposition` (RFC 6266), `If-None-Match` and `Range`.
 */
import { FILE_NAME_MAX } from "../../protocol";
import { IMAGE_TYPES, type ImageType } from "./sniff";

export const OCTET_STREAM = "application/octet-stream";

/** Headers on every file response, whatever it holds. */
export const FILE_SAFETY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "sandbox; default-src 'none'",
  "Cache-Control": "private",
};

const CONTROL_OR_SEPARATOR = /[\u0000-\u001f\u007f/\\]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The file's name from `x-file-name` (URI-encoded): control characters and path separators become
 * `_`, the name is trimmed and cut to FILE_NAME_MAX characters; none, or one that is not valid
 * percent-encoding, gives "file"; null only for text that cannot be a name at all.
 */
export function fileName(header: string | null): string | null {
  if (header === null || header.trim() === "") return "file";
  let name: string;
  try {
    name = decodeURIComponent(header);
  } catch {
    return null;
  }
  if (LONE_SURROGATE.test(name)) return null;
  name = name.replace(CONTROL_OR_SEPARATOR, "_").trim();
  if ([...name].length > FILE_NAME_MAX) name = [...name].slice(0, FILE_NAME_MAX).join("");
  return name === "" || name === "." || name === ".." ? "file" : name;
}

const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/;

/**
 * The type recorded for a file that is not one of the five images (sniffed): its declared type,
 * for clients to pick an icon, unless that claims an image (it was not one) or is malformed.
 * Never used to serve it: such files are always served as application/octet-stream.
 */
export function declaredType(header: string | null): string {
  const t = (header ?? "").split(";")[0]!.trim().toLowerCase();
  if (!MIME.test(t) || t.startsWith("image/")) return OCTET_STREAM;
  return t;
}

export function isServedImage(type: string): type is ImageType {
  return (IMAGE_TYPES as readonly string[]).includes(type);
}

/** `Content-Disposition` per RFC 6266: an ASCII fallback `filename` and the exact `filename*` (RFC 8187). */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${exact}`;
}

/** Whether `If-None-Match` matches the strong ETag `etag` (weak comparison, as RFC 9110 asks for GET). */
export function noneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === bare);
}

export type RangeAnswer = { offset: number; length: number } | "unsatisfiable" | null;

/**
 * A `Range` header over a file of `size` bytes: one range of bytes, or null to send the whole
 * file (no header, another unit, several ranges or a malformed one: RFC 9110 lets a server ignore
 * those), or "unsatisfiable" (416).
 */
export function parseRange(header: string | null, size: number): RangeAnswer {
  if (header === null) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const first = Number(m[1]);
  const last = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < first) return null;
  if (first >= size) return "unsatisfiable";
  return { offset: first, length: last - first + 1 };
}
