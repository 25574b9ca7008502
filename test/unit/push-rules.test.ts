/**
 * The small rules of Web Push (PROTOCOL.md 7.6) on their own: which answers of a push service
 * drop a subscription, which are retried and how long after, which hosts an endpoint may name,
 * and the Topic of a conversation.
 */
import { describe, expect, it } from "vitest";
import { topicOf } from "../../worker/push/request";
import { isPublicHostName } from "../../worker/push/subscription";
import { outcomeOf, PUSH_RETRY_BASE_MS, PUSH_RETRY_MAX_MS, retryDelayMs } from "../../worker/user/push-sender";

describe("a push service's answer", () => {
  it("2xx is sent, 404 and 410 gone, 429, 5xx and no answer retried, anything else refused", () => {
    expect([200, 201, 202].map(outcomeOf)).toEqual(["sent", "sent", "sent"]);
    expect([404, 410].map(outcomeOf)).toEqual(["gone", "gone"]);
    expect([0, 429, 500, 502, 503].map(outcomeOf)).toEqual(["retry", "retry", "retry", "retry", "retry"]);
    expect([400, 401, 403, 413].map(outcomeOf)).toEqual(["refused", "refused", "refused", "refused"]);
  });

  it("retries after a doubling wait with a tenth of jitter, capped, and never sooner than Retry-After asks", () => {
    expect(retryDelayMs(1, null, 0.5)).toBe(PUSH_RETRY_BASE_MS);
    expect(retryDelayMs(2, null, 0.5)).toBe(2 * PUSH_RETRY_BASE_MS);
    expect(retryDelayMs(1, null, 0)).toBe(0.9 * PUSH_RETRY_BASE_MS);
    expect(retryDelayMs(1, null, 1)).toBe(1.1 * PUSH_RETRY_BASE_MS);
    expect(retryDelayMs(30, null, 0.5)).toBe(PUSH_RETRY_MAX_MS);
    expect(retryDelayMs(1, "120", 0.5)).toBe(120_000);
    expect(retryDelayMs(1, "999999", 0.5)).toBe(PUSH_RETRY_MAX_MS);
    // An HTTP date or nonsense is not trusted: the backoff stands.
    expect(retryDelayMs(1, "Wed, 21 Oct 2026 07:28:00 GMT", 0.5)).toBe(PUSH_RETRY_BASE_MS);
  });
});

describe("endpoint hosts", () => {
  it("public names pass; IP literals, single labels and local names do not", () => {
    for (const ok of ["fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", "push.example.com."]) expect(isPublicHostName(ok), ok).toBe(true);
    for (const bad of ["10.0.0.1", "127.0.0.1", "169.254.169.254", "[::1]", "[fd00::1]", "2130706433", "0x7f000001", "localhost", "intranet", "nas.local", "svc.internal", "router.lan", "box.home.arpa", "a.localhost"]) {
      expect(isPublicHostName(bad), bad).toBe(false);
    }
  });
});

describe("the Topic", () => {
  it("is 32 base64url characters, the same for a conversation and different between two", async () => {
    const id = `d${"a".repeat(32)}`;
    const topic = await topicOf(id);
    expect(topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await topicOf(id)).toBe(topic);
    expect(await topicOf(`r${"a".repeat(32)}`)).not.toBe(topic);
    expect(topic).not.toContain("aaaa");
  });
});
