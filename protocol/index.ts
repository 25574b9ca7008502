export * from "./frames";
export * from "./limits";
export * from "./guards";
export * from "./codec";
export { scanMsgpack, ScanError, type ScanLimits } from "./msgpack-scan";
export * from "./server-guards";
export { SHORT_KEYS, SHORT_TYPES, shortenFrame, expandFrame, FieldNameError } from "./short-keys";
export * from "./push";
