/**
 * API errors as typed exceptions, turned into `{error: {code, message}}` responses in one place
 * (the app's onError). Anything else becomes a bare 500 `internal`: no stack reaches a client.
 */
import type { ErrorCode } from "../protocol";

export type ApiErrorCode = ErrorCode | "unauthorized" | "taken" | "config" | "blocked" | "banned";

export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503;

export class ApiError extends Error {
  constructor(
    readonly status: ApiErrorStatus,
    readonly code: ApiErrorCode,
    message: string,
    /** For a 429: the seconds after which the request may succeed (the `Retry-After` header). */
    readonly retryAfterSec?: number,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new ApiError(400, "invalid", message);
export const unauthorized = (message = "not signed in") => new ApiError(401, "unauthorized", message);
export const forbidden = (message = "not allowed") => new ApiError(403, "forbidden", message);
export const notFound = (message = "not found") => new ApiError(404, "not_found", message);
export const full = (message: string) => new ApiError(403, "full", message);
export const tooMany = (message: string, retryAfterSec: number) => new ApiError(429, "rate_limited", message, retryAfterSec);

export function errorBody(code: ApiErrorCode, message: string): { error: { code: ApiErrorCode; message: string } } {
  return { error: { code, message } };
}
