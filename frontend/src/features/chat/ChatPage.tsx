import { useEffect, useMemo, useState } from "react";
import type { ChatFilters } from "../../api/types";
import { MoviePanel } from "../movies/MoviePanel";
import "./chat.css";
import { Composer } from "./Composer";
import { FiltersBar } from "./FiltersBar";
import { MessageList } from "./MessageList";
import { loadFilters, saveFilters } from "./storage";
import { useChat } from "./useChat";

export const DEGRADED_TEXT = "The language model is unavailable; showing search results only.";

/** Seconds left until `at`, ticking each second; 0 once passed or when `at` is null. */
function useCountdown(at: number | null): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (at === null || at <= Date.now()) return;
    const timer = window.setInterval(() => {
      setTick((t) => t + 1);
      if (at <= Date.now()) window.clearInterval(timer);
    }, 250);
    return () => window.clearInterval(timer);
  }, [at]);
  return at === null ? 0 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export function ChatPage() {
  const [draft, setDraft] = useState("");
  const [filters, setFiltersState] = useState<ChatFilters>(loadFilters);
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const chat = useChat((text) => setDraft((current) => (current.trim() ? current : text)));
  const wait = useCountdown(chat.error?.kind === "rate_limited" ? chat.error.retryAt : null);

  const setFilters = (next: ChatFilters) => {
    setFiltersState(next);
    saveFilters(next);
  };

  // The cards shown: the turn the user picked, else the latest turn with films.
  const shown = useMemo(() => {
    const assistants = chat.messages.filter((m) => m.role === "assistant");
    const picked = assistants.find((m) => m.key === selectedKey);
    if (picked) return picked;
    for (let i = assistants.length - 1; i >= 0; i -= 1) {
      const message = assistants[i];
      if (message && (message.movies.length > 0 || message.status === "thinking")) return message;
    }
    return null;
  }, [chat.messages, selectedKey]);

  const latest = chat.messages[chat.messages.length - 1];
  // Degraded and no model reply: the model is down or too slow. (A slow enrichment also marks a
  // turn degraded; when the model then writes the reply, the banner would be wrong.)
  const degraded = latest?.role === "assistant" && latest.degraded && latest.replySource !== "model";
  const yearsInverted =
    filters.year_min !== null && filters.year_max !== null && filters.year_min > filters.year_max;
  const blockedReason =
    wait > 0 ? `Too many requests: wait ${wait} s` : yearsInverted ? "Fix the year filter first" : null;

  const send = (text: string) => {
    if (chat.send(text, filters)) {
      setDraft("");
      setSelectedKey(null);
    }
  };

  return (
    <div className="chat-page">
      <section className="chat-column" aria-label="Chat">
        <div className="chat-toolbar">
          <FiltersBar filters={filters} onChange={setFilters} />
          <button
            type="button"
            className="btn btn-small new-chat"
            onClick={() => {
              chat.newChat();
              setSelectedKey(null);
            }}
          >
            New chat
          </button>
        </div>
        {degraded && (
          <div className="banner banner-warning" role="status">
            {DEGRADED_TEXT}
          </div>
        )}
        <MessageList
          messages={chat.messages}
          selectedKey={shown?.key ?? null}
          onSelect={setSelectedKey}
          onStarter={send}
          loadingHistory={chat.loadingHistory}
        />
        {chat.error && (
          <div className="banner banner-error" role="alert">
            <span>
              {chat.error.kind === "rate_limited" && wait > 0
                ? `Too many requests: please wait ${wait} s before sending again.`
                : chat.error.message}
            </span>
            {/* Rate limited: the text is back in the input, and Send comes back when the wait is over. */}
            {chat.error.kind !== "rate_limited" && (chat.error.retryText || chat.error.kind === "history") && (
              <button
                type="button"
                className="btn btn-small"
                disabled={wait > 0 || chat.busy}
                onClick={() => {
                  if (chat.error?.retryText && draft.trim() === chat.error.retryText) setDraft("");
                  chat.retry(filters);
                }}
              >
                Retry
              </button>
            )}
            <button type="button" className="btn btn-small" onClick={chat.dismissError} aria-label="Dismiss">
              ×
            </button>
          </div>
        )}
        <Composer
          value={draft}
          onChange={setDraft}
          onSend={() => send(draft)}
          onStop={chat.stop}
          busy={chat.busy}
          blockedReason={blockedReason}
        />
      </section>
      <section className="movies-column" aria-label="Films">
        <MoviePanel
          movies={shown?.movies ?? []}
          messageId={shown?.messageId ?? null}
          loading={shown?.status === "thinking"}
          initialFeedback={shown?.feedback ?? {}}
          emptyHint="Films will appear here as soon as Marquee finds them."
        />
      </section>
    </div>
  );
}
