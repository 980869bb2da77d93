import { useEffect, useRef } from "react";
import type { ChatMessage } from "./useChat";

export const STARTERS = [
  "Something like Inception but funnier",
  "A French comedy from the 90s",
  "A feel-good film for a rainy Sunday",
  "Sci-fi with a twist ending, not too long",
];

interface Props {
  messages: ChatMessage[];
  selectedKey: string | null;
  onSelect: (key: string) => void;
  onStarter: (text: string) => void;
  loadingHistory: boolean;
}

function statusLine(message: ChatMessage): string | null {
  if (message.status === "thinking") return "Thinking…";
  if (message.status === "streaming" && !message.content) return "Writing…";
  if (message.status === "stopped") return "Stopped.";
  return null;
}

export function MessageList({ messages, selectedKey, onSelect, onStarter, loadingHistory }: Props) {
  const end = useRef<HTMLDivElement>(null);
  const last = messages[messages.length - 1];
  // Follow the conversation as it grows (new turns and streamed text).
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: "end" });
  }, [messages.length, last?.content, last?.status]);

  if (loadingHistory) {
    return (
      <div className="messages messages-empty">
        <p role="status">Loading your conversation…</p>
      </div>
    );
  }
  if (messages.length === 0) {
    return (
      <div className="messages messages-empty">
        <h2 className="empty-title">What would you like to watch?</h2>
        <p className="empty-text">Describe a mood, a plot, a film you loved, or try one of these:</p>
        <ul className="starters" aria-label="Suggestions">
          {STARTERS.map((text) => (
            <li key={text}>
              <button type="button" className="btn starter" onClick={() => onStarter(text)}>
                {text}
              </button>
            </li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <div className="messages" role="log" aria-label="Conversation" aria-live="polite" aria-relevant="additions">
      {messages.map((message) => {
        const status = statusLine(message);
        const active = message.status === "thinking" || message.status === "streaming";
        return (
          <div key={message.key} className={`message message-${message.role}`} aria-busy={active || undefined}>
            <span className="visually-hidden">{message.role === "user" ? "You said:" : "Marquee:"}</span>
            {message.content && <p className="message-text">{message.content}</p>}
            {status && (
              <p className={`message-status${active ? " pulsing" : ""}`} role={active ? "status" : undefined}>
                {status}
              </p>
            )}
            {message.error && <p className="message-error">{message.error}</p>}
            {message.notices.length > 0 && (
              <details className="message-notices">
                <summary>
                  {message.notices.length === 1 ? "1 note" : `${message.notices.length} notes`} on this answer
                </summary>
                <ul>
                  {message.notices.map((notice) => (
                    <li key={notice}>{notice}</li>
                  ))}
                </ul>
              </details>
            )}
            {message.role === "assistant" && message.movies.length > 0 && (
              <button
                type="button"
                className="btn btn-small message-films"
                aria-pressed={message.key === selectedKey}
                onClick={() => onSelect(message.key)}
              >
                {message.key === selectedKey ? "Showing" : "Show"} {message.movies.length}{" "}
                {message.movies.length === 1 ? "film" : "films"}
              </button>
            )}
          </div>
        );
      })}
      <div ref={end} />
    </div>
  );
}
