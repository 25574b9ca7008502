/**
 * The directory of public rooms, so that people can find a room to join. One object for the
 * whole service: it is touched only when a public room is created or someone browses, never on
 * the message path.
 */
import { DurableObject } from "cloudflare:workers";
import type { RoomListing } from "../protocol";

/** Most rooms one listing returns. */
export const DIRECTORY_PAGE = 50;

export class RoomDirectory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, title TEXT NOT NULL, created INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS rooms_created ON rooms (created DESC)");
  }

  add(room: RoomListing): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO rooms (id, title, created) VALUES (?, ?, ?)", room.id, room.title, room.created);
  }

  /** The newest public rooms, or those whose title contains `q` (case-insensitive). */
  list(q: string): RoomListing[] {
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.ctx.storage.sql
      .exec<{ id: string; title: string; created: number }>(
        "SELECT id, title, created FROM rooms WHERE title LIKE ? ESCAPE '\\' ORDER BY created DESC LIMIT ?",
        pattern, DIRECTORY_PAGE,
      )
      .toArray()
      .map((r) => ({ id: r.id, title: r.title, created: r.created }));
  }
}

export const directory = (env: Env) => env.DIRECTORY.get(env.DIRECTORY.idFromName("public-rooms"));
