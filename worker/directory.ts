/**
 * The directory of public rooms, so that people can find a room to join. One object for the
 * whole service: it is touched only when a public room is created or someone browses, never on
 * the message path.
 */
import { DurableObject } from "cloudflare:workers";
import type { RoomListing } from "../protocol";

/** Most rooms one listing returns. */
export const DIRECTORY_PAGE = 50;
/** Longest LIKE pattern the deployed Durable Object SQLite accepts, in bytes. */
export const LIKE_PATTERN_MAX_BYTES = 50;

export class RoomDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS rooms_created ON rooms (created DESC)");
  }

  add(room: RoomListing): void {
    // A listed room keeps its place (created) when it is renamed or listed again (v1.1).
    this.ctx.storage.sql.exec(
      "INSERT INTO rooms (id, title, created) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title",
      room.id, room.title, room.created,
    );
  }

  /** A room deleted or made private (v1.1). */
  remove(id: string): void {
    this.ctx.storage.sql.exec("DELETE FROM rooms WHERE id = ?", id);
  }

  /** The newest public rooms, or those whose title contains `q` (case-insensitive). */
  list(q: string): RoomListing[] {
    const { pattern, whole } = likePattern(q);
    const rows = this.ctx.storage.sql
      .exec<{ id: string; title: string; created: number }>(
        "SELECT id, title, created FROM rooms WHERE title LIKE ? ESCAPE '\\' ORDER BY created DESC LIMIT ?",
        // A shortened pattern matches more than asked: read further, then keep the real matches.
        pattern, whole ? DIRECTORY_PAGE : DIRECTORY_PAGE * 4,
      )
      .toArray();
    const needle = q.toLowerCase();
    return rows
      .filter((r) => whole || r.title.toLowerCase().includes(needle))
      .slice(0, DIRECTORY_PAGE)
      .map((r) => ({ id: r.id, title: r.title, created: r.created }));
  }
}

/**
 * The deployed Durable Object SQLite refuses a LIKE pattern over 50 bytes (the local runtime
 * does not check). `%q%` with `\`, `%` and `_` escaped, cut at a character boundary to fit;
 * `whole`: nothing was cut, so the pattern alone decides.
 */
export function likePattern(q: string): { pattern: string; whole: boolean } {
  const encoder = new TextEncoder();
  let body = "";
  let bytes = 2; // the two %
  for (const ch of q) {
    const piece = /[\\%_]/.test(ch) ? `\\${ch}` : ch;
    const size = encoder.encode(piece).length;
    if (bytes + size > LIKE_PATTERN_MAX_BYTES) return { pattern: `%${body}%`, whole: false };
    body += piece;
    bytes += size;
  }
  return { pattern: `%${body}%`, whole: true };
}

export const directory = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName("public-rooms"));
