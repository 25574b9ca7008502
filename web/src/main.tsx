/** The web app: renders into #app and signs in from the session cookie if there is one. */
import { render } from "preact";
import { App } from "./components/App";
import { lang } from "./lib/i18n";
import { boot } from "./models/app";
import { registerWorker } from "./models/pwa";
import "./styles.css";

document.documentElement.lang = lang.value === "zh" ? "zh-CN" : "en";
const root = document.getElementById("app");
if (root) render(<App />, root);
void boot();
registerWorker().catch(() => {}); // without it (no https, a private window) the app works online
