/**
 * parseClientFrame on decoded values: every optional field, defaults and clamps, the emoji and id
 * rules, and that only known fields are copied. Also chooseSubprotocol.
 */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  HISTORY_MAX,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  chooseSubprotocol,
  parseClientFrame,
  type ClientFrame,
  type Limits,
} from "../../protocol";

function parse(value: unknown, limits: Limits = DEFAULT_LIMITS) {
  return parseClientFrame(value, limits);
}

function ok(value: unknown, frame: ClientFrame, limits?: Limits): void {
  const got = parse(value, limits);
  expect(got).toEqual({ ok: true, frame });
  // Exactly the known keys: nothing unknown, no key holding undefined.
  if (got.ok) expect(Object.keys(got.frame).sort()).toEqual(Object.keys(frame).sort());
}

function refused(value: unknown, code: string, limits?: Limits): void {
  const got = parse(value, limits);
  expect(got.ok).toBe(false);
  if (!got.ok) {
    expect(got.code).toBe(code);
    expect(got.message).toMatch(/\S/);
  }
}

describe("send", () => {
  it("takes id and body, and replyTo when given", () => {
    ok({ t: "send", id: "m1", body: "hi" }, { t: "send", id: "m1", body: "hi" });
    ok({ t: "send", id: "m1", body: "hi", replyTo: 3 }, { t: "send", id: "m1", body: "hi", replyTo: 3 });
  });

  it("treats a null replyTo as absent", () => {
    ok({ t: "send", id: "m1", body: "hi", replyTo: null }, { t: "send", id: "m1", body: "hi" });
    ok({ t: "send", id: "m1", body: "hi", replyTo: undefined }, { t: "send", id: "m1", body: "hi" });
  });

  it("drops unknown fields, including ones the server sets itself", () => {
    ok(
      { t: "send", id: "m1", body: "hi", from: "mallory", seq: 99, ts: 1, extra: { deep: [1] } },
      { t: "send", id: "m1", body: "hi" },
    );
  });

  it("accepts ids of 1 and 64 characters, with any printable characters", () => {
    ok({ t: "send", id: "a", body: "x" }, { t: "send", id: "a", body: "x" });
    const long = "é".repeat(64);
    ok({ t: "send", id: long, body: "x" }, { t: "send", id: long, body: "x" });
    ok({ t: "send", id: "👍 id with spaces", body: "x" }, { t: "send", id: "👍 id with spaces", body: "x" });
    refused({ t: "send", id: "é".repeat(65), body: "x" }, "invalid");
  });

  it("keeps a body as it is: tabs, line breaks, surrounding spaces, emoji", () => {
    const body = "  line one\r\n\tline two 👨‍👩‍👧 \n";
    ok({ t: "send", id: "m1", body }, { t: "send", id: "m1", body });
  });

  it("takes a body of exactly 4000 characters (UTF-16 code units), not one more", () => {
    ok({ t: "send", id: "m1", body: "x".repeat(4000) }, { t: "send", id: "m1", body: "x".repeat(4000) });
    refused({ t: "send", id: "m1", body: "x".repeat(4001) }, "too_large");
    // 2000 emoji of two code units each are at the limit; one more code unit is over.
    ok({ t: "send", id: "m1", body: "😀".repeat(2000) }, { t: "send", id: "m1", body: "😀".repeat(2000) });
    refused({ t: "send", id: "m1", body: `${"😀".repeat(2000)}x` }, "too_large");
  });

  it("follows the configured body limit", () => {
    const limits = { ...DEFAULT_LIMITS, bodyChars: 10 };
    ok({ t: "send", id: "m1", body: "0123456789" }, { t: "send", id: "m1", body: "0123456789" }, limits);
    refused({ t: "send", id: "m1", body: "0123456789a" }, "too_large", limits);
    refused({ t: "edit", target: 1, body: "0123456789a" }, "too_large", limits);
  });

  it("names the frame's id in its error", () => {
    expect(parse({ t: "send", id: "m7", body: "" })).toMatchObject({ ok: false, code: "invalid", id: "m7" });
    expect(parse({ t: "send", id: "m7", body: "x".repeat(4001) })).toMatchObject({ ok: false, code: "too_large", id: "m7" });
    const noId = parse({ t: "send", id: 7, body: "x" });
    expect(noId.ok === false && "id" in noId).toBe(false);
  });
});

describe("send with files (v1.1)", () => {
  it("takes 1-10 distinct file ids; the body may then be empty or left out", () => {
    ok({ t: "send", id: "m1", body: "look", files: ["f1"] }, { t: "send", id: "m1", body: "look", files: ["f1"] });
    ok({ t: "send", id: "m1", body: "", files: ["f1", "f_2-x"] }, { t: "send", id: "m1", body: "", files: ["f1", "f_2-x"] });
    ok({ t: "send", id: "m1", files: ["f1"] }, { t: "send", id: "m1", body: "", files: ["f1"] });
    ok({ t: "send", id: "m1", body: "  \n ", files: ["f1"] }, { t: "send", id: "m1", body: "", files: ["f1"] });
    const ten = Array.from({ length: 10 }, (_, i) => `f${i}`);
    ok({ t: "send", id: "m1", body: "", files: ten }, { t: "send", id: "m1", body: "", files: ten });
    ok({ t: "send", id: "m1", body: "hi", files: null }, { t: "send", id: "m1", body: "hi" });
  });

  it("an empty body without files is still refused", () => {
    refused({ t: "send", id: "m1", body: "" }, "invalid");
    refused({ t: "send", id: "m1" }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: [] }, "invalid");
  });

  it("refuses bad lists and ids, and the body rules still hold", () => {
    refused({ t: "send", id: "m1", body: "", files: Array.from({ length: 11 }, (_, i) => `f${i}`) }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: ["f1", "f1"] }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: "f1" }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: [7] }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: [""] }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: ["../etc/passwd"] }, "invalid");
    refused({ t: "send", id: "m1", body: "", files: ["x".repeat(65)] }, "invalid");
    refused({ t: "send", id: "m1", body: "x".repeat(4001), files: ["f1"] }, "too_large");
    refused({ t: "send", id: "m1", body: "a\u0000b", files: ["f1"] }, "invalid");
    refused({ t: "send", id: "m1", body: 5, files: ["f1"] }, "invalid");
  });
});

describe("sync, read, typing", () => {
  it("take since and seq from 0", () => {
    ok({ t: "sync", since: 0 }, { t: "sync", since: 0 });
    ok({ t: "sync", since: Number.MAX_SAFE_INTEGER }, { t: "sync", since: Number.MAX_SAFE_INTEGER });
    ok({ t: "read", seq: 0 }, { t: "read", seq: 0 });
    ok({ t: "read", seq: 12, id: "x" }, { t: "read", seq: 12 });
  });

  it("typing carries nothing", () => {
    ok({ t: "typing" }, { t: "typing" });
    ok({ t: "typing", username: "mallory", on: true }, { t: "typing" });
  });
});

describe("history", () => {
  it("defaults limit to 50 and leaves before out when not given", () => {
    ok({ t: "history" }, { t: "history", limit: 50 });
    ok({ t: "history", before: null, limit: null }, { t: "history", limit: 50 });
  });

  it("takes before and limit", () => {
    ok({ t: "history", before: 1, limit: 1 }, { t: "history", before: 1, limit: 1 });
    ok({ t: "history", before: 500, limit: 100 }, { t: "history", before: 500, limit: 100 });
  });

  it("clamps limit to 100", () => {
    expect(HISTORY_MAX).toBe(100);
    ok({ t: "history", limit: 101 }, { t: "history", limit: 100 });
    ok({ t: "history", before: 9, limit: Number.MAX_SAFE_INTEGER }, { t: "history", before: 9, limit: 100 });
  });

  it("refuses a limit or before below 1", () => {
    refused({ t: "history", limit: 0 }, "invalid");
    refused({ t: "history", before: 0 }, "invalid");
  });
});

describe("edit and delete", () => {
  it("take target and body", () => {
    ok({ t: "edit", target: 1, body: "new" }, { t: "edit", target: 1, body: "new" });
    ok({ t: "edit", target: 2, body: "new", id: "x", seq: 3 }, { t: "edit", target: 2, body: "new" });
    ok({ t: "delete", target: 5 }, { t: "delete", target: 5 });
    ok({ t: "delete", target: 5, body: "x" }, { t: "delete", target: 5 });
  });
});

describe("react: one emoji of at most 16 characters", () => {
  const react = (emoji: unknown, on: unknown = true) => ({ t: "react", target: 1, emoji, on });
  const accepted = [
    "👍", // two code units
    "❤️", // with a variation selector
    "👍🏽", // with a skin tone
    "👨‍👩‍👧‍👦", // a ZWJ family of 11 code units
    "🏳️‍🌈",
    "🇫🇷", // a flag: two regional indicators
    ":+1:", // a shortcode is text too
    "x".repeat(16),
  ];
  it.each(accepted)("accepts %s", (emoji) => {
    ok(react(emoji), { t: "react", target: 1, emoji, on: true });
    ok(react(emoji, false), { t: "react", target: 1, emoji, on: false });
  });

  const refusedEmoji: [string, unknown][] = [
    ["empty", ""],
    ["a space", " "],
    ["a non-breaking space", "\u00a0"],
    ["two with a space", "👍 👎"],
    ["a tab inside", "👍\t"],
    ["a newline", "\n"],
    ["a control character", "\u0007"],
    ["17 characters", "x".repeat(17)],
    ["9 emoji of two code units (18)", "😀".repeat(9)],
    ["a lone surrogate", "\ud83d"],
    ["a number", 1],
    ["null", null],
  ];
  it.each(refusedEmoji)("refuses %s", (_name, emoji) => refused(react(emoji), "invalid"));

  it("needs a boolean on", () => {
    refused(react("👍", 1), "invalid");
    refused(react("👍", "false"), "invalid");
    refused({ t: "react", target: 1, emoji: "👍" }, "invalid");
  });
});

describe("values that are not frames", () => {
  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a number", 1],
    ["a string", "typing"],
    ["an array", [{ t: "typing" }]],
    ["bytes", new Uint8Array([1, 2])],
  ])("refuses %s as bad_frame", (_name, value) => refused(value, "bad_frame"));

  it("does not follow a prototype for t or its fields", () => {
    // A value whose fields live only on its prototype is not a frame: only own fields count
    // once it came from a decoder, and decoders build plain objects.
    const value: Record<string, unknown> = JSON.parse('{"__proto__":{"t":"typing"}}');
    refused(value, "bad_frame");
  });
});

describe("chooseSubprotocol", () => {
  it.each([
    [null, SUBPROTOCOL_MSGPACK],
    [undefined, SUBPROTOCOL_MSGPACK],
    ["", SUBPROTOCOL_MSGPACK],
    ["chat.v1.msgpack", SUBPROTOCOL_MSGPACK],
    ["chat.v1.json", SUBPROTOCOL_JSON],
    [" chat.v1.json ", SUBPROTOCOL_JSON],
    ["chat.v1.json, chat.v1.msgpack", SUBPROTOCOL_MSGPACK],
    ["chat.v1.msgpack,chat.v1.json", SUBPROTOCOL_MSGPACK],
    ["chat.v2.json, chat.v1.json", SUBPROTOCOL_JSON],
    ["other, chat.v1.json", SUBPROTOCOL_JSON],
    ["chat.v1.JSON", SUBPROTOCOL_MSGPACK], // tokens are case-sensitive
    ["chat.v1.json2", SUBPROTOCOL_MSGPACK],
    ["something-else", SUBPROTOCOL_MSGPACK],
  ])("%j -> %s", (offered, protocol) => {
    expect(chooseSubprotocol(offered)).toBe(protocol);
  });
});
