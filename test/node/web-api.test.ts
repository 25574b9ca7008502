/** The API client checks what the server answers before the app uses it: the public room list. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiFailure, readRoom } from "../../web/src/lib/api";

function answer(status: number, body: unknown) {
  const fetch = vi.fn(async (_input: string, _init?: RequestInit) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

afterEach(() => { vi.unstubAllGlobals(); });

describe("public rooms", () => {
  it("reads a listing and leaves out entries of the wrong shape", async () => {
    const fetch = answer(200, {
      rooms: [
        { id: "r1", title: "Lobby", created: 5, extra: true },
        { id: "r2", title: 7, created: 4 },
        { id: "r3", title: "No date" },
        "nonsense",
        { id: "r4", title: "Café", created: 3 },
      ],
    });
    expect(await api.publicRooms(" café&x ")).toEqual([
      { id: "r1", title: "Lobby", created: 5 },
      { id: "r4", title: "Café", created: 3 },
    ]);
    expect(fetch.mock.calls[0]?.[0]).toBe(`/api/conversations/public?q=${encodeURIComponent(" café&x ")}`);
  });

  it("refuses an answer without a room list", async () => {
    answer(200, { conversations: [] });
    await expect(api.publicRooms("")).rejects.toMatchObject({ code: "bad_answer" });
  });

  it("passes the server's error on", async () => {
    answer(400, { error: { code: "invalid", message: "q must be at most 100 characters" } });
    const err: unknown = await api.publicRooms("x".repeat(101)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiFailure);
    expect(err).toMatchObject({ status: 400, code: "invalid" });
  });

  it("copies only the known fields of a room", () => {
    expect(readRoom({ id: "a", title: "b", created: 1, private: true })).toEqual({ id: "a", title: "b", created: 1 });
    expect(readRoom(null)).toBeNull();
  });
});

describe("sign-up and leaving", () => {
  it("sends the display name only when one was given", async () => {
    const fetch = answer(201, { user: { username: "ann", name: "Ann" }, token: "t" });
    // `previews` (7.6) is on unless the server says it is off.
    expect(await api.signup("ann", "password1", "Ann")).toEqual({ username: "ann", name: "Ann", previews: true });
    await api.signup("ann", "password1");
    expect(JSON.parse(String(fetch.mock.calls[0]?.[1]?.body))).toEqual({ username: "ann", password: "password1", name: "Ann" });
    expect(JSON.parse(String(fetch.mock.calls[1]?.[1]?.body))).toEqual({ username: "ann", password: "password1" });
  });

  it("reads previews off from the user", async () => {
    answer(200, { user: { username: "ann", name: "Ann", previews: false } });
    expect(await api.me()).toEqual({ username: "ann", name: "Ann", previews: false });
  });

  it("leaves with a POST and takes the empty 204", async () => {
    const fetch = vi.fn(async (_input: string, _init?: RequestInit) => new Response(null, { status: 204 }));
    vi.stubGlobal("fetch", fetch);
    await api.leave("room/1");
    expect(fetch.mock.calls[0]?.[0]).toBe("/api/conversations/room%2F1/leave");
    expect(fetch.mock.calls[0]?.[1]?.method).toBe("POST");
  });
});
