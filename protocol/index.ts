export * from "./frames";
export * from "./limits";
export * from "./guards";
export * from "./codec";
export { scanMsgpack, ScanError, type ScanLimits } from "./msgpack-scan";
export * from "./server-guards";
