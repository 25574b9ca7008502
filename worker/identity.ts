/** Headers the Worker sets on an upgrade it forwards to an object: the identity it verified. */
export const IDENTITY_HEADERS = { user: "X-Chat-User", name: "X-Chat-Name", session: "X-Chat-Session" } as const;
