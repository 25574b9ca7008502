import { useSignal } from "@preact/signals";
import type { Member, Role } from "../../../protocol";
import { t, type Key } from "../lib/i18n";
import { presence } from "../lib/format";
import { refusal } from "../lib/refusal";
import { blocked, setBlocked } from "../models/blocks";
import { banMember, removeMember, setRole } from "../models/moderation";
import { nameOf } from "../models/names";
import { canRemove, canSetRoles } from "../models/roles";
import { Avatar } from "./Avatar";

const ROLE_LABEL: Record<Role, Key> = { owner: "roleOwner", admin: "roleAdmin", member: "roleMember" };

interface Props {
  conv: string;
  member: Member;
  me: string;
  /** My role in this room; undefined in a DM. */
  myRole: Role | undefined;
  room: boolean;
  online: boolean | undefined;
  /** Where a refusal is told (the panel's status line). */
  onError: (text: string) => void;
}

/**
 * One member: name, role and presence; for anyone but me a "Manage" button opens what I may do to
 * them (block, and in a room by my role: roles, ownership, removal, ban), each named for them.
 */
export function MemberRow({ conv, member: m, me, myRole, room, online, onError }: Props) {
  const open = useSignal(false);
  const name = nameOf(m.username);
  const isMe = m.username === me;
  const isBlocked = blocked.value.has(m.username);
  const theirs = m.role ?? "member";

  async function run(action: () => Promise<void>, ask?: string) {
    if (ask && !confirm(ask)) return;
    try {
      await action();
      open.value = false;
    } catch (err) {
      onError(refusal(err));
    }
  }

  const button = (label: Key, action: () => Promise<void>, ask?: string, danger = false) => (
    <button type="button" class={`secondary small${danger ? " danger" : ""}`} aria-label={`${t(label)}: ${name}`} onClick={() => void run(action, ask)}>{t(label)}</button>
  );

  return (
    <li data-member={m.username} data-online={online === undefined ? "unknown" : online ? "yes" : "no"} data-role={m.role}>
      <div class="member-line">
        <Avatar name={name} online={online} small />
        <span class="grow">
          {name}{isMe ? ` (${t("you")})` : ""}
          {room && m.role && m.role !== "member" && <> <span class="role">{t(ROLE_LABEL[m.role])}</span></>}
          {isBlocked && <span class="sr-only">, {t("youBlockThem")}</span>}
        </span>
        <span class="muted small">{online === undefined ? "" : presence(online, m.lastSeen)}</span>
        {!isMe && !m.deleted && (
          <button type="button" class="ghost small" aria-expanded={open.value} aria-label={t("manageNamed", { name })} onClick={() => { open.value = !open.value; }}>⋯</button>
        )}
      </div>
      {open.value && (
        <fieldset class="member-actions">
          <legend class="sr-only">{t("manageNamed", { name })}</legend>
          {isBlocked
            ? button("unblock", () => setBlocked(m.username, false))
            : button("block", () => setBlocked(m.username, true), t("confirmBlock", { name }))}
          {room && canSetRoles(myRole) && theirs === "member" && button("makeAdmin", () => setRole(conv, m.username, "admin"))}
          {room && canSetRoles(myRole) && theirs === "admin" && button("makeMember", () => setRole(conv, m.username, "member"))}
          {room && canSetRoles(myRole) && button("makeOwner", () => setRole(conv, m.username, "owner"), t("confirmMakeOwner", { name }))}
          {room && canRemove(myRole, m.role) && button("removeMember", () => removeMember(conv, m.username), t("confirmRemove", { name }), true)}
          {room && canRemove(myRole, m.role) && button("banMember", () => banMember(conv, m.username), t("confirmBan", { name }), true)}
        </fieldset>
      )}
    </li>
  );
}
