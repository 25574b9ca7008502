/** Per-address limits on log-in failures and sign-ups (worker/limiter.ts). */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addressLimits } from "../../worker/limiter";
import { signup, uniqueName } from "./helpers";

const post = (path: string, ip: string, body: unknown) =>
  SELF.fetch(`https://chat.test${path}`, {
    method: "POST",
    headers: { "CF-Connecting-IP": ip, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

const limiter = (ip: string) => env.LIMITERS.get(env.LIMITERS.idFromName(`addr:${ip}`));

/** Fills an address's window up to the configured maximum in one statement. */
async function fill(ip: string, kind: string, count: number): Promise<void> {
  await runInDurableObject(limiter(ip), (_instance, state) => {
    state.storage.sql.exec(
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?) INSERT INTO hits (kind, at) SELECT ?, ? FROM n`,
      count, kind, Date.now(),
    );
  });
}

describe("per-address limits", () => {
  const limits = addressLimits(env);

  it("counts failed log-ins per address and refuses the address once over the limit", async () => {
    const account = await signup("victim", "the right password");
    const ip = "198.51.100.7";
    const wrong = await post("/api/login", ip, { username: account.username, password: "a wrong password" });
    expect(wrong.status).toBe(401);
    await fill(ip, "login", limits.login.max - 1);
    // Even the right password is refused from this address now, with a clear error.
    const refused = await post("/api/login", ip, { username: account.username, password: "the right password" });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: { code: "rate_limited", message: expect.any(String) } });
    // Another address is not affected.
    expect((await post("/api/login", "198.51.100.8", { username: account.username, password: "the right password" })).status).toBe(200);
  });

  it("limits sign-ups per address", async () => {
    const ip = "198.51.100.9";
    expect((await post("/api/signup", ip, { username: uniqueName("s"), password: "password 123" })).status).toBe(201);
    await fill(ip, "signup", limits.signup.max - 1);
    const refused = await post("/api/signup", ip, { username: uniqueName("s"), password: "password 123" });
    expect(refused.status).toBe(429);
  });

  it("does not limit loopback clients (wrangler dev and its load tests)", async () => {
    await fill("127.0.0.1", "signup", limits.signup.max + 5);
    expect((await post("/api/signup", "127.0.0.1", { username: uniqueName("s"), password: "password 123" })).status).toBe(201);
  });

  it("forgets events older than the window", async () => {
    const ip = "198.51.100.10";
    await runInDurableObject(limiter(ip), (instance, state) => {
      state.storage.sql.exec("INSERT INTO hits (kind, at) VALUES ('login', ?)", Date.now() - 2 * 60_000);
      expect(instance.take("login", { max: 1, windowMs: 60_000 }).ok).toBe(true);
      expect(instance.take("login", { max: 1, windowMs: 60_000 })).toEqual({ ok: false, retryAfterSec: 60 });
    });
  });
});
