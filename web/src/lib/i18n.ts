/**
 * English and Chinese. The language comes from navigator.language, may be switched by the person
 * (remembered in localStorage), and sets <html lang>. Strings are looked up by key; `{name}` in a
 * string is replaced by the parameter of that name.
 */
import { signal } from "@preact/signals";
import { en } from "./strings-en";
import { zh } from "./strings-zh";

export type Lang = "en" | "zh";
export type Key = keyof typeof en;

const tables: Record<Lang, Record<Key, string>> = { en, zh };

export function pickLang(saved: string | null, languages: readonly string[]): Lang {
  if (saved === "en" || saved === "zh") return saved;
  for (const l of languages) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "zh") return "zh";
    if (base === "en") return "en";
  }
  return "en";
}

function savedLang(): string | null {
  try {
    return localStorage.getItem("lang");
  } catch {
    return null;
  }
}

export const lang = signal<Lang>(
  typeof navigator === "undefined" ? "en" : pickLang(savedLang(), navigator.languages?.length ? navigator.languages : [navigator.language]),
);

export function setLang(l: Lang): void {
  lang.value = l;
  try {
    localStorage.setItem("lang", l);
  } catch {
    /* private mode: the choice lasts this visit */
  }
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

export function t(key: Key, params?: Record<string, string | number>): string {
  let s = tables[lang.value][key];
  if (params) for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}
