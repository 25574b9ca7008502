/** Refusals without an id (an edit, deletion or reaction the server would not take) become a notice. */
import { describe, expect, it } from "vitest";
import { ConversationModel } from "../../web/src/models/conversation";
import { msg, welcome } from "./web-fixtures";

function opened() {
  const m = new ConversationModel("c1", "alice", 0);
  m.receive(welcome(0));
  m.receive({ t: "synced", lastSeq: 0, more: false });
  m.receive(msg(1, "bob"));
  return m;
}

describe("refusal notices", () => {
  it("shows an error without an id as a notice and changes nothing else", () => {
    const m = opened();
    const before = m.timeline.value;
    expect(m.notice.value).toBeNull();
    expect(m.receive({ t: "error", code: "forbidden", message: "not yours" })).toEqual([]);
    expect(m.notice.value?.code).toBe("forbidden");
    expect(m.timeline.value).toBe(before);
  });

  it("numbers repeats apart, so the same refusal twice is announced twice", () => {
    const m = opened();
    m.receive({ t: "error", code: "rate_limited", message: "slow down" });
    const first = m.notice.value;
    m.receive({ t: "error", code: "rate_limited", message: "slow down" });
    expect(m.notice.value?.code).toBe("rate_limited");
    expect(m.notice.value?.n).not.toBe(first?.n);
  });

  it("is gone once dismissed, and the latest refusal replaces an earlier one", () => {
    const m = opened();
    m.receive({ t: "error", code: "full", message: "too many emoji" });
    m.receive({ t: "error", code: "not_found", message: "no such message" });
    expect(m.notice.value?.code).toBe("not_found");
    m.dismissNotice();
    expect(m.notice.value).toBeNull();
  });

  it("does not turn an error naming a message of mine into a notice", () => {
    const m = opened();
    m.addLocal({ id: "x1", body: "hi", created: 1 });
    m.receive({ t: "error", code: "too_large", message: "too long", id: "x1" });
    expect(m.notice.value).toBeNull();
    expect(m.local.value[0]?.failed).toBe("too_large");
  });
});
