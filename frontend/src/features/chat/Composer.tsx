import { type KeyboardEvent, useEffect, useRef } from "react";

export const MAX_MESSAGE = 2000;

interface Props {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  onStop: () => void;
  busy: boolean;
  /** Why sending is not possible right now (e.g. rate limited), or null. */
  blockedReason: string | null;
}

/** The message input: Enter sends, Shift+Enter adds a line; Stop replaces Send while replying. */
export function Composer({ value, onChange, onSend, onStop, busy, blockedReason }: Props) {
  const input = useRef<HTMLTextAreaElement>(null);

  // Grow with the text up to a limit, then scroll.
  useEffect(() => {
    const area = input.current;
    if (!area) return;
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight, 180)}px`;
  }, [value]);

  const canSend = !busy && blockedReason === null && value.trim().length > 0 && value.length <= MAX_MESSAGE;

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== "Enter" || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    if (canSend) onSend();
  };

  const remaining = MAX_MESSAGE - value.length;
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        if (canSend) onSend();
      }}
    >
      <label htmlFor="chat-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="chat-input"
        ref={input}
        className="composer-input"
        rows={1}
        value={value}
        placeholder="Ask for a film…"
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={remaining < 200 ? "chat-input-hint chat-input-count" : "chat-input-hint"}
        autoFocus
      />
      <span id="chat-input-hint" className="composer-hint">
        Enter to send · Shift+Enter for a new line
      </span>
      {remaining < 200 && (
        <span id="chat-input-count" className={`composer-count${remaining < 0 ? " over" : ""}`}>
          {remaining < 0 ? `${-remaining} characters too long` : `${remaining} characters left`}
        </span>
      )}
      {busy ? (
        <button type="button" className="btn" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" className="btn btn-primary" disabled={!canSend} title={blockedReason ?? undefined}>
          Send
        </button>
      )}
    </form>
  );
}
