/**
 * The Worker keeps the tokens whose signature it checked (auth/token.ts): a token seen again
 * costs no HMAC, and the cache never accepts what a fresh check would refuse.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CHECKED_TOKENS_MAX, signToken, verifyToken } from "../../worker/auth/token";

const SECRET = "a-test-secret-0123456789abcdef";
let n = 0;
const claims = (expires = Date.now() + 60_000) => ({ username: `tc${++n}`, session: `s${n}`, expires });

afterEach(() => vi.restoreAllMocks());

describe("checked tokens", () => {
  it("checks a token's signature once, then answers from memory", async () => {
    const c = claims();
    const token = await signToken(c, SECRET);
    const verify = vi.spyOn(crypto.subtle, "verify");
    expect(await verifyToken(token, SECRET)).toEqual(c);
    expect(await verifyToken(token, SECRET)).toEqual(c);
    expect(await verifyToken(token, SECRET)).toEqual(c);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it("refuses a remembered token once it has expired", async () => {
    const c = claims(Date.now() + 1_000);
    const token = await signToken(c, SECRET);
    expect(await verifyToken(token, SECRET)).toEqual(c);
    expect(await verifyToken(token, SECRET, c.expires)).toBeNull();
    expect(await verifyToken(token, SECRET, c.expires + 1)).toBeNull();
  });

  it("refuses a remembered token under another secret", async () => {
    const token = await signToken(claims(), SECRET);
    expect(await verifyToken(token, SECRET)).not.toBeNull();
    expect(await verifyToken(token, "another-secret-0123456789abcdef")).toBeNull();
    expect(await verifyToken(token, SECRET)).not.toBeNull();
  });

  it("refuses forgeries made from a remembered token", async () => {
    const c = claims();
    const token = await signToken(c, SECRET);
    expect(await verifyToken(token, SECRET)).toEqual(c);
    const [v, payload, sig] = token.split(".") as [string, string, string];
    const other = btoa(JSON.stringify({ u: "mallory", s: c.session, e: c.expires })).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
    expect(await verifyToken(`${v}.${other}.${sig}`, SECRET)).toBeNull();
    expect(await verifyToken(`${v}.${payload}.${flipped}`, SECRET)).toBeNull();
    expect(await verifyToken(`${v}.${payload}.${sig}.`, SECRET)).toBeNull();
  });

  it("hands out copies: a caller that changes its claims changes nothing for the next", async () => {
    const c = claims();
    const token = await signToken(c, SECRET);
    const first = (await verifyToken(token, SECRET))!;
    first.username = "mallory";
    expect(await verifyToken(token, SECRET)).toEqual(c);
  });

  it("keeps a bounded number: the oldest is checked again once it was pushed out", async () => {
    const oldest = await signToken(claims(), SECRET);
    await verifyToken(oldest, SECRET);
    const others = await Promise.all(Array.from({ length: CHECKED_TOKENS_MAX }, () => signToken(claims(), SECRET)));
    for (const t of others) await verifyToken(t, SECRET);
    const verify = vi.spyOn(crypto.subtle, "verify");
    await verifyToken(others.at(-1)!, SECRET);
    expect(verify).toHaveBeenCalledTimes(0);
    expect(await verifyToken(oldest, SECRET)).not.toBeNull();
    expect(verify).toHaveBeenCalledTimes(1);
  });
});
