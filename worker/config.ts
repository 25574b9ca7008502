/**
 * Limits in force: the protocol's defaults, each overridable by a positive integer in the Worker's
 * environment (LIMIT_ENV_VARS names the variables). A malformed override is ignored, not fatal:
 * a typo in a variable must not take the service down.
 */
import { DEFAULT_LIMITS, LIMIT_ENV_VARS, type Limits } from "../protocol";

/** A positive number from the environment variable `name`, or `fallback` when unset or malformed. */
export function positiveVar(env: object, name: string, fallback: number): number {
  const raw: unknown = Reflect.get(env, name);
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function limitsFromEnv(env: object): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_ENV_VARS) as (keyof Limits)[]) {
    limits[key] = positiveVar(env, LIMIT_ENV_VARS[key], DEFAULT_LIMITS[key]);
  }
  return limits;
}

/** Origins allowed to open sockets besides the app's own: a comma-separated list of origins. */
export function allowedOrigins(env: { ALLOWED_ORIGINS?: string }): string[] {
  return (env.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}
