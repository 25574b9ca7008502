/**
 * Hostile client messages, each with the exact outcome the server's frame path (decodeOne, then
 * parseClientFrame) must give: `too_large` closes with 1009, the other codes answer with an
 * `error` frame. After every row the same codec instance must still decode a good frame, so a
 * failure never leaves the decoder in a broken state.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_LIMITS,
  DecodeFailure,
  SUBPROTOCOL_JSON,
  SUBPROTOCOL_MSGPACK,
  SUBPROTOCOL_MSGPACK_SHORT,
  createCodec,
  type Subprotocol,
  type WireData,
} from "../../protocol";
import { bytes, cat, mp, nest, rawMap, receive, type Outcome } from "./wire";

const codecs = {
  [SUBPROTOCOL_MSGPACK]: createCodec(SUBPROTOCOL_MSGPACK, DEFAULT_LIMITS),
  [SUBPROTOCOL_JSON]: createCodec(SUBPROTOCOL_JSON, DEFAULT_LIMITS),
  [SUBPROTOCOL_MSGPACK_SHORT]: createCodec(SUBPROTOCOL_MSGPACK_SHORT, DEFAULT_LIMITS),
};

const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();

function check(protocol: Subprotocol, data: WireData, want: Outcome): void {
  const codec = codecs[protocol];
  const got = receive(codec, data);
  if (want.frame === undefined) delete got.frame;
  expect(got).toEqual(want);
  expect(receive(codec, codec.encode({ t: "typing" }))).toEqual({ code: "ok", frame: { t: "typing" } });
}

const FRAME = DEFAULT_LIMITS.frameBytes; // 64 KiB

/** A typing frame padded with an unknown string field to exactly `size` bytes in msgpack. */
function msgpackOfSize(size: number): Uint8Array {
  const head = mp({ t: "typing", x: "" }).byteLength; // fixstr header for the empty filler
  // str16 (3-byte header) fillers: the empty fixstr header (1 byte) becomes 3 bytes.
  const data = mp({ t: "typing", x: "a".repeat(size - head - 2) });
  expect(data.byteLength).toBe(size);
  return data;
}

/** A typing frame padded to exactly `size` UTF-8 bytes of JSON, with a filler of `unit` repeated. */
function jsonOfSize(size: number, unit = "a"): string {
  const head = JSON.stringify({ t: "typing", x: "" });
  const unitBytes = new TextEncoder().encode(unit).byteLength;
  const fill = size - head.length;
  const text = JSON.stringify({ t: "typing", x: unit.repeat(Math.floor(fill / unitBytes)) + "a".repeat(fill % unitBytes) });
  expect(new TextEncoder().encode(text).byteLength).toBe(size);
  return text;
}

// ---- values that both codecs can carry: [name, value, outcome] ------------------------------

const BIG = 2 ** 53;
const good = { t: "send", id: "m1", body: "hello" };

const valueRows: [string, unknown, Outcome][] = [
  // non-map top level
  ["null", null, { code: "bad_frame" }],
  ["an integer", 7, { code: "bad_frame" }],
  ["a string", "send", { code: "bad_frame" }],
  ["a boolean", true, { code: "bad_frame" }],
  ["an array of one frame", [good], { code: "bad_frame" }],
  ["no t", { id: "m1", body: "x" }, { code: "bad_frame" }],
  ["t a number", { t: 1 }, { code: "bad_frame" }],
  ["t null", { t: null }, { code: "bad_frame" }],
  ["t a map", { t: { t: "send" } }, { code: "bad_frame" }],
  // unknown types, id echoed only when usable
  ["unknown t with an id", { t: "nope", id: "m1" }, { code: "unknown_type", id: "m1" }],
  ["unknown t without an id", { t: "nope" }, { code: "unknown_type" }],
  ["unknown t, numeric id", { t: "nope", id: 5 }, { code: "unknown_type" }],
  ["unknown t, 65-character id", { t: "nope", id: "x".repeat(65) }, { code: "unknown_type" }],
  ["unknown t, empty id", { t: "nope", id: "" }, { code: "unknown_type" }],
  ["unknown t, id with a control character", { t: "nope", id: "a\u0001" }, { code: "unknown_type" }],
  ["empty t", { t: "", id: "m1" }, { code: "unknown_type", id: "m1" }],
  ["t in another case", { t: "SEND", id: "m1", body: "x" }, { code: "unknown_type", id: "m1" }],
  ["a server frame type", { t: "msg", id: "m1" }, { code: "unknown_type", id: "m1" }],
  ["t __proto__", { t: "__proto__" }, { code: "unknown_type" }],
  ["t constructor", { t: "constructor" }, { code: "unknown_type" }],
  ["t toString", { t: "toString" }, { code: "unknown_type" }],
  ["t hasOwnProperty", { t: "hasOwnProperty" }, { code: "unknown_type" }],
  // send
  ["send: no id", { t: "send", body: "x" }, { code: "invalid" }],
  ["send: numeric id", { t: "send", id: 1, body: "x" }, { code: "invalid" }],
  ["send: empty id", { t: "send", id: "", body: "x" }, { code: "invalid" }],
  ["send: 65-character id", { t: "send", id: "x".repeat(65), body: "x" }, { code: "invalid" }],
  ["send: id with NUL", { t: "send", id: "a\u0000b", body: "x" }, { code: "invalid" }],
  ["send: id with a lone surrogate", { t: "send", id: "a\ud800", body: "x" }, { code: "invalid" }],
  ["send: no body", { t: "send", id: "m1" }, { code: "invalid", id: "m1" }],
  ["send: numeric body", { t: "send", id: "m1", body: 5 }, { code: "invalid", id: "m1" }],
  ["send: body an array", { t: "send", id: "m1", body: ["x"] }, { code: "invalid", id: "m1" }],
  ["send: body a map", { t: "send", id: "m1", body: { x: 1 } }, { code: "invalid", id: "m1" }],
  ["send: empty body", { t: "send", id: "m1", body: "" }, { code: "invalid", id: "m1" }],
  ["send: blank body", { t: "send", id: "m1", body: " \n\t " }, { code: "invalid", id: "m1" }],
  ["send: body with NUL", { t: "send", id: "m1", body: "a\u0000" }, { code: "invalid", id: "m1" }],
  ["send: body with BEL", { t: "send", id: "m1", body: "a\u0007" }, { code: "invalid", id: "m1" }],
  ["send: body with vertical tab", { t: "send", id: "m1", body: "a\u000b" }, { code: "invalid", id: "m1" }],
  ["send: body with ESC", { t: "send", id: "m1", body: "\u001b[31mred" }, { code: "invalid", id: "m1" }],
  ["send: body with DEL", { t: "send", id: "m1", body: "a\u007f" }, { code: "invalid", id: "m1" }],
  ["send: body with a lone high surrogate", { t: "send", id: "m1", body: "a\ud83d" }, { code: "invalid", id: "m1" }],
  ["send: body with a lone low surrogate", { t: "send", id: "m1", body: "\udc4da" }, { code: "invalid", id: "m1" }],
  ["send: body of 4001 characters", { t: "send", id: "m1", body: "x".repeat(4001) }, { code: "too_large", id: "m1" }],
  ["send: replyTo a string", { t: "send", id: "m1", body: "x", replyTo: "1" }, { code: "invalid", id: "m1" }],
  ["send: replyTo 0", { t: "send", id: "m1", body: "x", replyTo: 0 }, { code: "invalid", id: "m1" }],
  ["send: replyTo negative", { t: "send", id: "m1", body: "x", replyTo: -3 }, { code: "invalid", id: "m1" }],
  ["send: replyTo a float", { t: "send", id: "m1", body: "x", replyTo: 1.5 }, { code: "invalid", id: "m1" }],
  ["send: replyTo unsafe", { t: "send", id: "m1", body: "x", replyTo: BIG }, { code: "invalid", id: "m1" }],
  ["send: replyTo a boolean", { t: "send", id: "m1", body: "x", replyTo: true }, { code: "invalid", id: "m1" }],
  // sync
  ["sync: no since", { t: "sync" }, { code: "invalid" }],
  ["sync: since a string", { t: "sync", since: "0" }, { code: "invalid" }],
  ["sync: since null", { t: "sync", since: null }, { code: "invalid" }],
  ["sync: since negative", { t: "sync", since: -1 }, { code: "invalid" }],
  ["sync: since a float", { t: "sync", since: 1.5 }, { code: "invalid" }],
  ["sync: since 2^53", { t: "sync", since: BIG }, { code: "invalid" }],
  ["sync: since 1e300", { t: "sync", since: 1e300 }, { code: "invalid" }],
  ["sync: since an array", { t: "sync", since: [1] }, { code: "invalid" }],
  // read
  ["read: no seq", { t: "read" }, { code: "invalid" }],
  ["read: seq a string", { t: "read", seq: "1" }, { code: "invalid" }],
  ["read: seq negative", { t: "read", seq: -1 }, { code: "invalid" }],
  ["read: seq a float", { t: "read", seq: 0.5 }, { code: "invalid" }],
  ["read: seq a boolean", { t: "read", seq: false }, { code: "invalid" }],
  // history
  ["history: before 0", { t: "history", before: 0 }, { code: "invalid" }],
  ["history: before a string", { t: "history", before: "5" }, { code: "invalid" }],
  ["history: before a float", { t: "history", before: 5.5 }, { code: "invalid" }],
  ["history: limit 0", { t: "history", limit: 0 }, { code: "invalid" }],
  ["history: limit negative", { t: "history", limit: -5 }, { code: "invalid" }],
  ["history: limit a float", { t: "history", limit: 1.5 }, { code: "invalid" }],
  ["history: limit a string", { t: "history", limit: "10" }, { code: "invalid" }],
  ["history: limit a boolean", { t: "history", limit: true }, { code: "invalid" }],
  // edit
  ["edit: no target", { t: "edit", body: "x" }, { code: "invalid" }],
  ["edit: target 0", { t: "edit", target: 0, body: "x" }, { code: "invalid" }],
  ["edit: target a string", { t: "edit", target: "3", body: "x" }, { code: "invalid" }],
  ["edit: no body", { t: "edit", target: 3 }, { code: "invalid" }],
  ["edit: blank body", { t: "edit", target: 3, body: "  " }, { code: "invalid" }],
  ["edit: body with a control character", { t: "edit", target: 3, body: "a\u0008" }, { code: "invalid" }],
  ["edit: body of 4001 characters", { t: "edit", target: 3, body: "é".repeat(4001) }, { code: "too_large" }],
  // delete
  ["delete: no target", { t: "delete" }, { code: "invalid" }],
  ["delete: target 0", { t: "delete", target: 0 }, { code: "invalid" }],
  ["delete: target negative", { t: "delete", target: -1 }, { code: "invalid" }],
  ["delete: target a float", { t: "delete", target: 2.5 }, { code: "invalid" }],
  ["delete: target a string", { t: "delete", target: "3" }, { code: "invalid" }],
  // react
  ["react: no target", { t: "react", emoji: "👍", on: true }, { code: "invalid" }],
  ["react: target 0", { t: "react", target: 0, emoji: "👍", on: true }, { code: "invalid" }],
  ["react: no emoji", { t: "react", target: 1, on: true }, { code: "invalid" }],
  ["react: numeric emoji", { t: "react", target: 1, emoji: 5, on: true }, { code: "invalid" }],
  ["react: empty emoji", { t: "react", target: 1, emoji: "", on: true }, { code: "invalid" }],
  ["react: blank emoji", { t: "react", target: 1, emoji: " ", on: true }, { code: "invalid" }],
  ["react: emoji with a space", { t: "react", target: 1, emoji: "👍 👍", on: true }, { code: "invalid" }],
  ["react: emoji with a control character", { t: "react", target: 1, emoji: "👍\u0000", on: true }, { code: "invalid" }],
  ["react: emoji of 17 characters", { t: "react", target: 1, emoji: "x".repeat(17), on: true }, { code: "invalid" }],
  ["react: half a surrogate pair", { t: "react", target: 1, emoji: "\ud83d", on: true }, { code: "invalid" }],
  ["react: no on", { t: "react", target: 1, emoji: "👍" }, { code: "invalid" }],
  ["react: on a string", { t: "react", target: 1, emoji: "👍", on: "true" }, { code: "invalid" }],
  ["react: on a number", { t: "react", target: 1, emoji: "👍", on: 1 }, { code: "invalid" }],
  ["react: on null", { t: "react", target: 1, emoji: "👍", on: null }, { code: "invalid" }],
  // the decoder's limits on structure
  ["nesting of 8 (the limit)", { ...good, x: nest(7) }, { code: "ok", frame: { t: "send", id: "m1", body: "hello" } }],
  ["nesting of 9 (arrays)", { ...good, x: nest(8) }, { code: "bad_frame" }],
  ["nesting of 9 (maps)", { ...good, x: { a: { a: { a: { a: { a: { a: { a: { a: 1 } } } } } } } } }, { code: "bad_frame" }],
  ["an array of 1000 entries (the limit)", { t: "typing", x: new Array(1000).fill(0) }, { code: "ok", frame: { t: "typing" } }],
  ["an array of 1001 entries", { t: "typing", x: new Array(1001).fill(0) }, { code: "bad_frame" }],
  ["a map of 1001 entries", Object.fromEntries([["t", "typing"], ...Array.from({ length: 1000 }, (_, i) => [`k${i}`, 0])]), { code: "bad_frame" }],
  ["a nested map of 1001 entries", { t: "typing", x: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 0])) }, { code: "bad_frame" }],
];

describe.each([SUBPROTOCOL_MSGPACK, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK_SHORT] as const)("hostile values over %s", (protocol) => {
  const encode = (v: unknown): WireData => (protocol === SUBPROTOCOL_JSON ? JSON.stringify(v) : mp(v));
  it.each(valueRows)("%s", (_name, value, want) => check(protocol, encode(value), want));
});

// ---- msgpack bytes no encoder would write ---------------------------------------------------

const typingHead = bytes("82 a1 74 a6 747970696e67 a1 78"); // {t: "typing", x: <next value>}

const msgpackRows: [string, Uint8Array, Outcome][] = [
  ["empty", new Uint8Array(0), { code: "bad_frame" }],
  ["array32 declaring 2^32-1 items in 5 bytes", bytes("dd ffffffff"), { code: "bad_frame" }],
  ["map32 declaring 2^32-1 entries in 5 bytes", bytes("df ffffffff"), { code: "bad_frame" }],
  ["str32 declaring 4 GiB in 5 bytes", bytes("db ffffffff"), { code: "bad_frame" }],
  ["bin32 declaring 4 GiB in 5 bytes", bytes("c6 ffffffff"), { code: "bad_frame" }],
  ["array32 of 1000 (within the limit) with 3 bytes to follow", bytes("dd 000003e8 c0c0c0"), { code: "bad_frame" }],
  ["map16 of 1000 with nothing behind", bytes("de 03e8"), { code: "bad_frame" }],
  ["str32 of 60 000 bytes (within the limit) holding 2", cat(typingHead, bytes("db 0000ea60 6869")), { code: "bad_frame" }],
  ["bin16 of 300 bytes holding 1", cat(typingHead, bytes("c5 012c 00")), { code: "bad_frame" }],
  ["str32 inside a map, 4 GiB", cat(typingHead, bytes("db ffffffff 61")), { code: "bad_frame" }],
  ["10 KB of array32 headers of 2^32-1", bytes("dd ffffffff".repeat(2048)), { code: "bad_frame" }],
  ["10 KB of array32 headers of 1000", bytes("dd 000003e8".repeat(2048)), { code: "bad_frame" }],
  ["10 KB of array16 headers of one item", bytes("dc 0001".repeat(3413)), { code: "bad_frame" }],
  ["10 000 fixarrays of one item", cat(bytes("91".repeat(10_000)), bytes("c0")), { code: "bad_frame" }],
  // The encoder itself refuses to go beyond 100 levels, so a deep frame is written by hand.
  ["a frame 10 000 deep", rawMap([["t", mp("send")], ["id", mp("m1")], ["body", mp("hi")], ["x", bytes(`${"91".repeat(9_999)}c0`)]]), { code: "bad_frame" }],
  ["10 000 fixmaps of one entry", cat(bytes("81 a1 61".repeat(10_000)), bytes("c0")), { code: "bad_frame" }],
  ["a truncated frame", mp(good).subarray(0, mp(good).byteLength - 1), { code: "bad_frame" }],
  ["a truncated length", bytes("dd 00"), { code: "bad_frame" }],
  ["a truncated float", cat(typingHead, bytes("cb 0000")), { code: "bad_frame" }],
  ["a truncated uint64", cat(typingHead, bytes("cf 00000000")), { code: "bad_frame" }],
  ["two frames in one message", cat(mp({ t: "typing" }), mp({ t: "typing" })), { code: "bad_frame" }],
  ["a frame and a trailing nil", cat(mp(good), bytes("c0")), { code: "bad_frame" }],
  ["a frame and a trailing 0xc1", cat(mp(good), bytes("c1")), { code: "bad_frame" }],
  ["0xc1 alone", bytes("c1"), { code: "bad_frame" }],
  ["0xc1 as a value", cat(typingHead, bytes("c1")), { code: "bad_frame" }],
  ["fixext1", cat(typingHead, bytes("d4 01 00")), { code: "bad_frame" }],
  ["fixext16", cat(typingHead, bytes("d8 01"), new Uint8Array(16)), { code: "bad_frame" }],
  ["ext8", cat(typingHead, bytes("c7 01 05 00")), { code: "bad_frame" }],
  ["ext32 declaring 4 GiB", cat(typingHead, bytes("c9 ffffffff 05")), { code: "bad_frame" }],
  ["a timestamp (ext -1)", cat(typingHead, bytes("d6 ff 00000000")), { code: "bad_frame" }],
  ["an extension as the frame", bytes("d4 01 00"), { code: "bad_frame" }],
  ["binary as the frame", bytes("c4 02 8000"), { code: "bad_frame" }],
  ["a __proto__ key", rawMap([["t", mp("send")], ["__proto__", mp({ id: "x", polluted: true })], ["body", mp("hello")]]), { code: "bad_frame" }],
  ["a nested __proto__ key", rawMap([["t", mp("typing")], ["x", rawMap([["__proto__", mp({ polluted: true })]])]]), { code: "bad_frame" }],
  ["a map key that is an array", cat(bytes("82"), mp("t"), mp("typing"), bytes("91 01"), bytes("c0")), { code: "bad_frame" }],
  ["a map key that is nil", cat(bytes("82"), mp("t"), mp("typing"), bytes("c0 c0")), { code: "bad_frame" }],
  ["a map key that is binary", cat(bytes("82"), mp("t"), mp("typing"), bytes("c4 01 61 c0")), { code: "bad_frame" }],
  ["since NaN", rawMap([["t", mp("sync")], ["since", bytes("cb 7ff8000000000000")]]), { code: "invalid" }],
  ["since +Infinity", rawMap([["t", mp("sync")], ["since", bytes("cb 7ff0000000000000")]]), { code: "invalid" }],
  ["since a float32 1.5", rawMap([["t", mp("sync")], ["since", bytes("ca 3fc00000")]]), { code: "invalid" }],
  ["since a float64 -0", rawMap([["t", mp("sync")], ["since", bytes("cb 8000000000000000")]]), { code: "ok", frame: { t: "sync", since: 0 } }],
  ["since uint64 2^64-1", rawMap([["t", mp("sync")], ["since", bytes("cf ffffffffffffffff")]]), { code: "invalid" }],
  ["since uint64 2^53", rawMap([["t", mp("sync")], ["since", bytes("cf 0020000000000000")]]), { code: "invalid" }],
  ["since uint64 2^53-1", rawMap([["t", mp("sync")], ["since", bytes("cf 001fffffffffffff")]]), { code: "ok", frame: { t: "sync", since: 2 ** 53 - 1 } }],
  ["since int64 -1", rawMap([["t", mp("sync")], ["since", bytes("d3 ffffffffffffffff")]]), { code: "invalid" }],
  ["since int8 -1", rawMap([["t", mp("sync")], ["since", bytes("d0 ff")]]), { code: "invalid" }],
  ["since negative fixint", rawMap([["t", mp("sync")], ["since", bytes("ff")]]), { code: "invalid" }],
  ["seq as binary", rawMap([["t", mp("read")], ["seq", bytes("c4 01 01")]]), { code: "invalid" }],
  ["body as binary", rawMap([["t", mp("send")], ["id", mp("m1")], ["body", bytes("c4 02 6869")]]), { code: "invalid", id: "m1" }],
  // msgpack's lenient UTF-8 decoding turns an overlong NUL (c0 80) into U+0000: still caught.
  ["body with an overlong NUL", rawMap([["t", mp("send")], ["id", mp("m1")], ["body", bytes("a3 61 c080")]]), { code: "invalid", id: "m1" }],
  ["body with an encoded lone surrogate", rawMap([["t", mp("send")], ["id", mp("m1")], ["body", bytes("a4 61 eda080")]]), { code: "invalid", id: "m1" }],
  ["one byte over 64 KiB", msgpackOfSize(FRAME + 1), { code: "too_large" }],
  ["1 MiB of zeros", new Uint8Array(1 << 20), { code: "too_large" }],
  ["exactly 64 KiB", msgpackOfSize(FRAME), { code: "ok", frame: { t: "typing" } }],
];

describe("hostile msgpack bytes", () => {
  it.each(msgpackRows)("%s", (_name, data, want) => check(SUBPROTOCOL_MSGPACK, data, want));
  it.each(msgpackRows)("%s (short names)", (_name, data, want) => check(SUBPROTOCOL_MSGPACK_SHORT, data, want));

  it("takes an ArrayBuffer as well as a Uint8Array", () => {
    check(SUBPROTOCOL_MSGPACK, bytes("dd ffffffff").slice().buffer, { code: "bad_frame" });
    check(SUBPROTOCOL_MSGPACK, mp(good).slice().buffer, { code: "ok", frame: { t: "send", id: "m1", body: "hello" } });
  });

  it("refuses text on the msgpack codec", () => {
    check(SUBPROTOCOL_MSGPACK, JSON.stringify(good), { code: "bad_frame" });
    check(SUBPROTOCOL_MSGPACK, "", { code: "bad_frame" });
  });
});

// ---- JSON text no encoder would write -------------------------------------------------------

const jsonRows: [string, string, Outcome][] = [
  ["empty", "", { code: "bad_frame" }],
  ["whitespace", "  \n", { code: "bad_frame" }],
  ["a truncated frame", '{"t":"send","id":"m1","body":"hel', { code: "bad_frame" }],
  ["two frames in one message", '{"t":"typing"}{"t":"typing"}', { code: "bad_frame" }],
  ["two frames on two lines", '{"t":"typing"}\n{"t":"typing"}', { code: "bad_frame" }],
  ["a batch of frames", '[{"t":"typing"},{"t":"typing"}]', { code: "bad_frame" }],
  ["NaN", '{"t":"sync","since":NaN}', { code: "bad_frame" }],
  ["Infinity", '{"t":"sync","since":Infinity}', { code: "bad_frame" }],
  ["a hex number", '{"t":"sync","since":0x10}', { code: "bad_frame" }],
  ["a comment", '{"t":"typing"} // hi', { code: "bad_frame" }],
  ["single quotes", "{'t':'typing'}", { code: "bad_frame" }],
  ["a trailing comma", '{"t":"typing",}', { code: "bad_frame" }],
  ["a byte order mark", '\ufeff{"t":"typing"}', { code: "bad_frame" }],
  ["since 9007199254740993", '{"t":"sync","since":9007199254740993}', { code: "invalid" }],
  ["since 1e400", '{"t":"sync","since":1e400}', { code: "invalid" }],
  ["since -0", '{"t":"sync","since":-0}', { code: "ok", frame: { t: "sync", since: 0 } }],
  ["since 1.0 is an integer", '{"t":"sync","since":1.0}', { code: "ok", frame: { t: "sync", since: 1 } }],
  ["since 5e0 is an integer", '{"t":"sync","since":5e0}', { code: "ok", frame: { t: "sync", since: 5 } }],
  ["an escaped NUL in a body", '{"t":"send","id":"m1","body":"a\\u0000"}', { code: "invalid", id: "m1" }],
  ["an escaped lone surrogate in a body", '{"t":"send","id":"m1","body":"a\\ud800"}', { code: "invalid", id: "m1" }],
  ["an escaped surrogate pair in a body", '{"t":"send","id":"m1","body":"\\ud83d\\udc4d"}', { code: "ok", frame: { t: "send", id: "m1", body: "👍" } }],
  ["a raw newline inside a string", '{"t":"send","id":"m1","body":"a\nb"}', { code: "bad_frame" }],
  ["unbalanced closing brackets first", "]]]]]]]]]][[[[[[[[[[", { code: "bad_frame" }],
  ["brackets inside strings do not count as nesting", `{"t":"send","id":"m1","body":"${"[{".repeat(20)}\\"]}"}`, { code: "ok", frame: { t: "send", id: "m1", body: `${"[{".repeat(20)}"]}` } }],
  ["escaped quotes do not end a string early", `{"t":"typing","x":"\\\\\\"[[[[[[[[[["}`, { code: "ok", frame: { t: "typing" } }],
  ["10 000 levels of arrays", "[".repeat(10_000) + "]".repeat(10_000), { code: "bad_frame" }],
  ["10 000 open brackets", "[".repeat(10_000), { code: "bad_frame" }],
  ["10 000 levels of objects", `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`, { code: "bad_frame" }],
  ["a frame 10 000 deep", `{"t":"typing","x":${"[".repeat(9_999)}${"]".repeat(9_999)}}`, { code: "bad_frame" }],
  ["__proto__ with an id", '{"t":"send","__proto__":{"id":"x","polluted":true},"body":"hello"}', { code: "invalid" }],
  ["__proto__ as the only t", '{"__proto__":{"t":"typing"}}', { code: "bad_frame" }],
  ["__proto__ dropped", '{"t":"typing","__proto__":{"polluted":true}}', { code: "ok", frame: { t: "typing" } }],
  ["nested __proto__", '{"t":"typing","x":{"__proto__":{"polluted":true}}}', { code: "ok", frame: { t: "typing" } }],
  ["constructor.prototype", '{"t":"send","id":"m1","body":"hi","constructor":{"prototype":{"polluted":true}}}', { code: "ok", frame: { t: "send", id: "m1", body: "hi" } }],
  ["duplicate t: the last one wins", '{"t":"nope","t":"typing"}', { code: "ok", frame: { t: "typing" } }],
  ["one byte over 64 KiB", jsonOfSize(FRAME + 1), { code: "too_large" }],
  ["one byte over 64 KiB in three-byte characters", jsonOfSize(FRAME + 1, "€"), { code: "too_large" }],
  ["one byte over 64 KiB in four-byte characters", jsonOfSize(FRAME + 1, "😀"), { code: "too_large" }],
  ["exactly 64 KiB", jsonOfSize(FRAME), { code: "ok", frame: { t: "typing" } }],
  ["exactly 64 KiB in three-byte characters", jsonOfSize(FRAME, "€"), { code: "ok", frame: { t: "typing" } }],
  ["1 MiB", "x".repeat(1 << 20), { code: "too_large" }],
];

describe("hostile JSON text", () => {
  it.each(jsonRows)("%s", (_name, text, want) => check(SUBPROTOCOL_JSON, text, want));

  it("refuses binary on the JSON codec", () => {
    const utf8 = new TextEncoder().encode(JSON.stringify(good));
    check(SUBPROTOCOL_JSON, utf8, { code: "bad_frame" });
    check(SUBPROTOCOL_JSON, utf8.slice().buffer, { code: "bad_frame" });
    check(SUBPROTOCOL_JSON, new Uint8Array(0), { code: "bad_frame" });
  });
});

describe("__proto__ keys", () => {
  it("never reach a parsed frame", () => {
    const got = receive(codecs[SUBPROTOCOL_JSON], '{"t":"send","id":"m1","body":"hi","__proto__":{"admin":true}}');
    expect(got.code).toBe("ok");
    const frame = got.frame;
    expect(frame).toBeDefined();
    expect(Object.getPrototypeOf(frame)).toBe(Object.prototype);
    expect(Object.keys(frame ?? {})).toEqual(["t", "id", "body"]);
    expect(Object.hasOwn(frame ?? {}, "__proto__")).toBe(false);
    expect(JSON.stringify(frame)).toBe('{"t":"send","id":"m1","body":"hi"}');
  });

  afterAll(() => {
    // Nothing in this file may have polluted Object.prototype.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    const probe: Record<string, unknown> = {};
    expect(probe.polluted).toBeUndefined();
    expect(probe.admin).toBeUndefined();
    expect(probe.id).toBeUndefined();
  });
});

describe("hostile server messages (decodeAll, as the web client and the load generator use it)", () => {
  const codec = codecs[SUBPROTOCOL_MSGPACK];
  it.each([
    ["array32 of 2^32-1 in 5 bytes", bytes("dd ffffffff")],
    ["map32 of 2^32-1 in 5 bytes", bytes("df ffffffff")],
    ["str32 of 4 GiB in 5 bytes", bytes("db ffffffff")],
    ["bin32 of 4 GiB in 5 bytes", bytes("c6 ffffffff")],
    ["10 KB of array32 headers", bytes("dd ffffffff".repeat(2048))],
    ["10 000 nested fixarrays", cat(bytes("91".repeat(10_000)), bytes("c0"))],
    ["a good frame, then a truncated one", cat(mp({ t: "typing", username: "a" }), bytes("82 a1 74"))],
    ["an extension", bytes("d4 01 00")],
    ["0xc1", bytes("c1")],
    ["a __proto__ key", rawMap([["__proto__", mp({ polluted: true })]])],
  ])("%s throws DecodeFailure", (_name, data) => {
    expect(() => codec.decodeAll(data)).toThrow(DecodeFailure);
    expect(codec.decodeAll(mp({ t: "typing", username: "a" }))).toEqual([{ t: "typing", username: "a" }]);
  });

  it("bounds nesting at 32 levels", () => {
    expect(codec.decodeAll(mp({ t: "typing", x: nest(30) }))).toHaveLength(1);
    expect(() => codec.decodeAll(cat(bytes("81 a1 78"), bytes(`${"91".repeat(32)}c0`)))).toThrow(DecodeFailure);
  });

  it("refuses a JSON server message that is not JSON, and text on a msgpack socket", () => {
    expect(() => codecs[SUBPROTOCOL_JSON].decodeAll("pong")).toThrow(DecodeFailure);
    expect(() => codecs[SUBPROTOCOL_JSON].decodeAll(bytes("7b7d"))).toThrow(DecodeFailure);
    expect(() => codec.decodeAll("{}")).toThrow(DecodeFailure);
  });
});
