/**
 * Headers the Worker sets on an upgrade it forwards to an object: the identity it verified. (The
 * display name is not among them: the objects keep names themselves, and a header cannot carry a
 * non-ASCII name as it is.)
 */
export const IDENTITY_HEADERS = { user: "X-Chat-User", session: "X-Chat-Session" } as const;
