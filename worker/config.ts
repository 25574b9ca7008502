/**
 * Limits in force: the protocol's defaults, each overridable by a positive integer in the Worker's
 * environment (LIMIT_ENV_VARS names the variables). A malformed override is ignored, not fatal:
 * a typo in a variable must not take the service down.
 */
import { DEFAULT_LIMITS, LIMIT_ENV_VARS, type Limits } from "../protocol";

export function limitsFromEnv(env: object): Limits {
  const vars = env as Record<string, unknown>;
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(LIMIT_ENV_VARS) as (keyof Limits)[]) {
    const raw = vars[LIMIT_ENV_VARS[key]];
    const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (Number.isFinite(n) && n > 0) limits[key] = n;
  }
  return limits;
}

/** Origins allowed to open sockets besides the app's own: a comma-separated list of origins. */
export function allowedOrigins(env: { ALLOWED_ORIGINS?: string }): string[] {
  return (env.ALLOWED_ORIGINS ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}
