/** The Hono app's types: bindings and the per-request variables set by the auth middleware. */
import { Hono } from "hono";
import type { Caller } from "./auth/session";

export interface AppEnv {
  Bindings: Env;
  Variables: { caller: Caller };
}

export const createApp = () => new Hono<AppEnv>();

export const users = (env: Env, username: string) => env.USERS.get(env.USERS.idFromName(username));
export const conversations = (env: Env, id: string) => env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(id));
