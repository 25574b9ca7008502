import { colourIndex, initials } from "../lib/avatar";

/** Initials on a colour derived from the name; decorative (the name is always written beside it). */
export function Avatar({ name, online, small }: { name: string; online?: boolean | undefined; small?: boolean }) {
  return (
    <span class={`avatar av-${colourIndex(name)}${small ? " small" : ""}`} aria-hidden="true">
      {initials(name)}
      {online !== undefined && <span class={online ? "dot on" : "dot"} />}
    </span>
  );
}
