/**
 * Checks of the JSON bodies of the HTTP API (PROTOCOL.md sections 1 and 2). Each returns the clean
 * value or throws an `invalid` ApiError that says what is wrong.
 */
import { isRecord } from "../protocol";
import { invalid } from "./errors";

export const USERNAME = /^[a-z0-9_-]{3,32}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function body(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw invalid("the body must be a JSON object");
  return value;
}

/** The request's body as a JSON object, or an `invalid` error. */
export async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await request.json();
  } catch {
    throw invalid("the body must be JSON");
  }
  return body(value);
}

export function username(value: unknown, field = "username"): string {
  if (typeof value !== "string") throw invalid(`${field} must be a string`);
  const u = value.trim().toLowerCase();
  if (!USERNAME.test(u)) throw invalid(`${field} must be 3-32 of a-z, 0-9, _ and -`);
  return u;
}

export function password(value: unknown): string {
  if (typeof value !== "string" || value.length < 8 || value.length > 200) {
    throw invalid("password must be 8-200 characters");
  }
  return value;
}

/** A display name or room title: 1..max characters, trimmed, no control characters. */
export function label(value: unknown, field: string, max: number): string {
  if (typeof value !== "string") throw invalid(`${field} must be a string`);
  const v = value.trim();
  if (v.length < 1 || v.length > max || CONTROL.test(v)) throw invalid(`${field} must be 1-${max} characters`);
  return v;
}

export function optionalLabel(value: unknown, field: string, max: number): string | undefined {
  return value === undefined || value === null ? undefined : label(value, field, max);
}

/** Conversation ids are opaque to clients; here: `d` (DM) or `r` (room) and 32 hex digits. */
export const CONVERSATION_ID = /^[dr][0-9a-f]{32}$/;

export function isConversationId(id: string): boolean {
  return CONVERSATION_ID.test(id);
}

export function positiveInt(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw invalid(`${field} must be a positive integer`);
  return Number(value);
}
