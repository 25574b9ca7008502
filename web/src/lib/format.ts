/** Times and days in the chosen language. */
import { lang, t } from "./i18n";

const locale = () => (lang.value === "zh" ? "zh-CN" : "en");

export function time(ts: number): string {
  return new Date(ts).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function day(ts: number, now = Date.now()): string {
  const key = dayKey(ts);
  if (key === dayKey(now)) return lang.value === "zh" ? "今天" : "Today";
  if (key === dayKey(now - 86_400_000)) return lang.value === "zh" ? "昨天" : "Yesterday";
  return new Date(ts).toLocaleDateString(locale(), { year: "numeric", month: "long", day: "numeric", weekday: "short" });
}

/** The side bar's short time: the hour today, the date otherwise. */
export function short(ts: number, now = Date.now()): string {
  if (dayKey(ts) === dayKey(now)) return time(ts);
  return new Date(ts).toLocaleDateString(locale(), { month: "short", day: "numeric" });
}

/** The whole date and time, for the tooltip of a message's time. */
export function full(ts: number): string {
  return new Date(ts).toLocaleString(locale(), { dateStyle: "full", timeStyle: "short" });
}

/** Someone's presence in words: online, or when they were last online ("last seen 5 min ago"). */
export function presence(online: boolean, seen?: number, now = Date.now()): string {
  if (online) return t("online");
  if (!seen) return t("offlineStatus");
  const min = Math.floor((now - seen) / 60_000);
  const at = time(seen);
  const when = min < 1 ? t("justNow") : min < 60 ? t("minAgo", { n: min })
    : dayKey(seen) === dayKey(now) ? t("todayAt", { at })
    : dayKey(seen) === dayKey(now - 86_400_000) ? t("yesterdayAt", { at }) : `${short(seen, now)} ${at}`;
  return t("lastSeen", { when });
}
