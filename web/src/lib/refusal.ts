/**
 * A refused request in the app's language. The server's own messages are English and written for
 * developers; people get these words instead, chosen by the error code and then the status.
 */
import { ApiFailure } from "./api";
import { t, type Key } from "./i18n";

const BY_CODE: Record<string, Key> = {
  blocked: "errorBlocked",
  banned: "errorBanned",
  full: "errorFull",
  rate_limited: "errorTooMany",
  network: "errorNetwork",
  taken: "errorTaken",
  push: "errorPush",
};

const BY_STATUS: Record<number, Key> = {
  400: "errorInvalid",
  401: "errorWrongPassword",
  403: "errorNotAllowed",
  404: "errorNotFound",
  415: "errorInvalid",
  429: "errorTooMany",
};

/** `overrides` say a status in this place's words (a 404 on a username is "No such user"). */
export function refusal(err: unknown, overrides: Partial<Record<number, Key>> = {}): string {
  if (!(err instanceof ApiFailure)) return t("errorGeneric");
  const key = BY_CODE[err.code] ?? overrides[err.status] ?? BY_STATUS[err.status] ?? "errorGeneric";
  return t(key);
}
