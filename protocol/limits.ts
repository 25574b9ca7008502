/**
 * Limits, error codes and close codes of the wire contract (PROTOCOL.md sections 5 and 6).
 * Every limit is a named default; the Worker lets an operator override each one through the
 * environment variable named in LIMIT_ENV_VARS (see docs/protocol.md).
 */

export const SUBPROTOCOL_MSGPACK = "chat.v1.msgpack";
export const SUBPROTOCOL_JSON = "chat.v1.json";
/** msgpack with the short field names of protocol/short-keys.ts (an extension of v1). */
export const SUBPROTOCOL_MSGPACK_SHORT = "chat.v1.msgpack.short";
export const SUBPROTOCOLS = [SUBPROTOCOL_MSGPACK, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK_SHORT] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

/** The heartbeat text frames, answered by the runtime itself even while an object hibernates. */
export const PING = "ping";
export const PONG = "pong";

export interface Limits {
  /** Largest websocket message accepted, in bytes (UTF-8 bytes for text frames). Closed with 1009. */
  frameBytes: number;
  /** Longest message body, in characters (UTF-16 code units). error `too_large`. */
  bodyChars: number;
  /** Decoder: longest string or binary, in bytes. */
  decoderStrBytes: number;
  /** Decoder: most entries in one array or map. */
  decoderEntries: number;
  /** Decoder: deepest nesting of arrays and maps; a frame itself is depth 1. */
  decoderDepth: number;
  /** Sustained sends per second per user and conversation. */
  sendsPerSecond: number;
  /** Burst of sends allowed above the sustained rate. */
  sendBurst: number;
  /** `history` and `sync` frames per second per user and conversation (`rate_limited`). */
  readsPerSecond: number;
  /** Burst of `history` and `sync` frames above the sustained rate. */
  readBurst: number;
  /** `typing` is relayed at most once in this many ms per user and conversation; extras are dropped. */
  typingIntervalMs: number;
  /** Most events replayed on connect or per `sync` before `synced.more`. */
  backlog: number;
  /** Most members of a room. */
  roomMembers: number;
  /** Most open sockets per user on one object. The next one is closed with 4429. */
  socketsPerUser: number;
  /** Bad frames tolerated per socket per minute before it is closed with 1008. */
  badFramesPerMinute: number;
  /** Heartbeat interval in ms: clients ping this often; silent sockets are closed after two. */
  heartbeatMs: number;
  /** HTTP requests per signed-in user in any minute (socket upgrades included). `429`. */
  httpPerMinute: number;
  /**
   * File downloads (GET of a file route) per signed-in user in any minute, counted apart from
   * `httpPerMinute`: a room full of images costs one request per image shown. `429`.
   */
  fileReadsPerMinute: number;
  /** Most conversations one user belongs to. `403 full`. */
  conversationsPerUser: number;
  /** Rooms one user may create in any 24 hours. `429`. */
  roomsPerDay: number;
  /** Failed log-ins per username in 15 minutes before it is locked (`429`), made-up names alike. */
  loginFailuresPerUsername: number;
  /** Largest uploaded file, in bytes (PROTOCOL.md 7.4). `413 too_large`. */
  fileBytes: number;
  /** Bytes one user may upload in any 24 hours, all conversations together (7.5). `429`. */
  fileBytesPerDay: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  frameBytes: 64 * 1024,
  bodyChars: 4000,
  decoderStrBytes: 64 * 1024,
  decoderEntries: 1000,
  decoderDepth: 8,
  sendsPerSecond: 10,
  sendBurst: 20,
  readsPerSecond: 5,
  readBurst: 20,
  typingIntervalMs: 2000,
  backlog: 200,
  roomMembers: 10_000,
  socketsPerUser: 16,
  badFramesPerMinute: 20,
  heartbeatMs: 30_000,
  httpPerMinute: 300,
  fileReadsPerMinute: 3000,
  conversationsPerUser: 1000,
  roomsPerDay: 50,
  loginFailuresPerUsername: 10,
  fileBytes: 10 * 1024 * 1024,
  fileBytesPerDay: 200 * 1024 * 1024,
});

/** The environment variable that overrides each limit (a positive integer). */
export const LIMIT_ENV_VARS: Readonly<Record<keyof Limits, string>> = Object.freeze({
  frameBytes: "LIMIT_FRAME_BYTES",
  bodyChars: "LIMIT_BODY_CHARS",
  decoderStrBytes: "LIMIT_DECODER_STR_BYTES",
  decoderEntries: "LIMIT_DECODER_ENTRIES",
  decoderDepth: "LIMIT_DECODER_DEPTH",
  sendsPerSecond: "LIMIT_SENDS_PER_SECOND",
  sendBurst: "LIMIT_SEND_BURST",
  readsPerSecond: "LIMIT_READS_PER_SECOND",
  readBurst: "LIMIT_READ_BURST",
  typingIntervalMs: "LIMIT_TYPING_INTERVAL_MS",
  backlog: "LIMIT_BACKLOG",
  roomMembers: "LIMIT_ROOM_MEMBERS",
  socketsPerUser: "LIMIT_SOCKETS_PER_USER",
  badFramesPerMinute: "LIMIT_BAD_FRAMES_PER_MINUTE",
  heartbeatMs: "HEARTBEAT_MS",
  httpPerMinute: "LIMIT_HTTP_PER_MINUTE",
  fileReadsPerMinute: "LIMIT_FILE_READS_PER_MINUTE",
  conversationsPerUser: "LIMIT_CONVERSATIONS_PER_USER",
  roomsPerDay: "LIMIT_ROOMS_PER_DAY",
  loginFailuresPerUsername: "LIMIT_LOGIN_FAILURES_PER_USERNAME",
  fileBytes: "LIMIT_FILE_BYTES",
  fileBytesPerDay: "LIMIT_FILE_BYTES_PER_DAY",
});

/** Most messages one `history` frame or HTTP page returns. */
export const HISTORY_MAX = 100;
/** A client's own message id: 1..64 characters. */
export const CLIENT_ID_MAX = 64;
/** A reaction: one emoji of at most 16 characters. */
export const EMOJI_MAX = 16;
/** Most files one message carries (PROTOCOL.md 7.4). */
export const FILES_PER_MESSAGE = 10;
/** A file's id, as the server makes them: 1..64 of `A-Za-z0-9_-`. */
export const FILE_ID_MAX = 64;
/** Longest file name kept, in characters (a longer one is cut). */
export const FILE_NAME_MAX = 200;
/** Clients drop a `typing` indication after this long. */
export const TYPING_TTL_MS = 5000;

export const ERROR_CODES = [
  "bad_frame",
  "unknown_type",
  "invalid",
  "too_large",
  "rate_limited",
  "forbidden",
  "not_found",
  "full",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_LARGE: 1009,
  INTERNAL: 1011,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
  TOO_MANY_SOCKETS: 4429,
});

/** Close codes after which a client must not reconnect on its own. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE.UNAUTHORIZED,
  CLOSE.FORBIDDEN,
  CLOSE.NOT_FOUND,
]);
