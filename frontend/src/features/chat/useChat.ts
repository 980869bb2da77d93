// The chat's state: the turns on screen, the one in flight, and what went wrong. Talks to the
// backend only through the API client.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, chatStream, getConversation } from "../../api/client";
import type { ChatFilters, Movie, StoredMessage } from "../../api/types";
import { loadConversationId, saveConversationId } from "./storage";

export type TurnStatus = "thinking" | "streaming" | "done" | "stopped" | "failed";

export interface ChatMessage {
  /** Stable key on screen. */
  key: string;
  role: "user" | "assistant";
  content: string;
  status: TurnStatus;
  /** The backend's id of an assistant message: what feedback refers to. */
  messageId: number | null;
  movies: Movie[];
  degraded: boolean;
  /** Who wrote the reply: model, template, faq…; null until the turn is done. */
  replySource: string | null;
  notices: string[];
  feedback: Record<number, -1 | 1>;
  /** What went wrong with this turn, shown under it. */
  error: string | null;
}

export interface ChatError {
  message: string;
  kind: ApiError["kind"] | "history";
  /** When rate limited: the moment sending is allowed again (ms since epoch). */
  retryAt: number | null;
  /** The text to send again with Retry. */
  retryText: string | null;
}

let keySeq = 0;
const newKey = () => `m${++keySeq}`;

function assistant(partial: Partial<ChatMessage>): ChatMessage {
  return {
    key: newKey(),
    role: "assistant",
    content: "",
    status: "thinking",
    messageId: null,
    movies: [],
    degraded: false,
    replySource: null,
    notices: [],
    feedback: {},
    error: null,
    ...partial,
  };
}

export function fromStored(message: StoredMessage): ChatMessage {
  if (message.role === "user") {
    return { ...assistant({}), role: "user", content: message.content, status: "done" };
  }
  const feedback: Record<number, -1 | 1> = {};
  for (const item of message.feedback ?? []) {
    if (item.movie_id !== null) feedback[item.movie_id] = item.rating;
  }
  return assistant({
    content: message.content,
    status: "done",
    messageId: message.id,
    movies: message.movies ?? [],
    degraded: message.degraded ?? false,
    replySource: message.reply_source ?? null,
    feedback,
  });
}

export interface UseChat {
  messages: ChatMessage[];
  conversationId: string | null;
  busy: boolean;
  loadingHistory: boolean;
  error: ChatError | null;
  send: (text: string, filters: ChatFilters) => boolean;
  stop: () => void;
  newChat: () => void;
  retry: (filters: ChatFilters) => void;
  dismissError: () => void;
  reloadHistory: () => void;
}

/**
 * `onUnsent(text)` is called when a message could not be sent at all (network, 429, invalid):
 * the page puts it back in the input so nothing the user typed is lost.
 */
export function useChat(onUnsent?: (text: string) => void): UseChat {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [conversationId, setConversationId] = useState<string | null>(() => loadConversationId());
  const [busy, setBusy] = useState(false);
  const [loadingHistory, setLoadingHistory] = useState<boolean>(() => loadConversationId() !== null);
  const [error, setError] = useState<ChatError | null>(null);
  const [historyTick, setHistoryTick] = useState(0);
  const controller = useRef<AbortController | null>(null);
  const conversationRef = useRef(conversationId);
  conversationRef.current = conversationId;
  const onUnsentRef = useRef(onUnsent);
  onUnsentRef.current = onUnsent;

  // A stored conversation comes back after a reload.
  useEffect(() => {
    const id = loadConversationId();
    if (id === null) {
      setLoadingHistory(false);
      return;
    }
    const abort = new AbortController();
    setLoadingHistory(true);
    getConversation(id, abort.signal)
      .then((conversation) => {
        setMessages(conversation.messages.map(fromStored));
        setError(null);
      })
      .catch((reason: unknown) => {
        if (abort.signal.aborted) return;
        if (reason instanceof ApiError && reason.kind === "not_found") {
          saveConversationId(null); // gone from the server: start afresh
          setConversationId(null);
          return;
        }
        const message = reason instanceof ApiError ? reason.message : "The conversation could not be loaded.";
        setError({ message: `Your earlier conversation could not be loaded. ${message}`, kind: "history", retryAt: null, retryText: null });
      })
      .finally(() => {
        if (!abort.signal.aborted) setLoadingHistory(false);
      });
    return () => abort.abort();
  }, [historyTick]);

  useEffect(() => () => controller.current?.abort(), []);

  const update = (key: string, change: (message: ChatMessage) => ChatMessage) =>
    setMessages((all) => all.map((m) => (m.key === key ? change(m) : m)));

  const send = useCallback((raw: string, filters: ChatFilters): boolean => {
    const text = raw.trim();
    if (!text || controller.current) return false;
    const userMessage: ChatMessage = { ...assistant({}), role: "user", content: text, status: "done" };
    const reply = assistant({});
    setMessages((all) => [...all, userMessage, reply]);
    setError(null);
    setBusy(true);
    const abort = new AbortController();
    controller.current = abort;
    let started = false;

    chatStream(
      { message: text, conversation_id: conversationRef.current, filters, limit: 8 },
      {
        signal: abort.signal,
        onEvent: (event) => {
          if (event.type === "meta") {
            started = true;
            const id = event.data.conversation_id;
            if (id !== conversationRef.current) {
              conversationRef.current = id;
              setConversationId(id);
              saveConversationId(id);
            }
            update(reply.key, (m) => ({
              ...m,
              status: "streaming",
              movies: event.data.movies,
              degraded: event.data.degraded,
              notices: event.data.notices,
            }));
          } else if (event.type === "token") {
            update(reply.key, (m) => ({ ...m, status: "streaming", content: m.content + event.data.text }));
          } else if (event.type === "done") {
            update(reply.key, (m) => ({
              ...m,
              status: "done",
              content: event.data.reply,
              messageId: event.data.message_id,
              degraded: event.data.degraded,
              replySource: event.data.reply_source,
              notices: event.data.notices,
            }));
          } else {
            update(reply.key, (m) => ({ ...m, status: "failed", error: event.data.message }));
            setError({ message: event.data.message, kind: "server", retryAt: null, retryText: text });
          }
        },
      },
    )
      .catch((reason: unknown) => {
        if (reason instanceof DOMException && reason.name === "AbortError") {
          update(reply.key, (m) => ({ ...m, status: "stopped" }));
          return;
        }
        const apiError =
          reason instanceof ApiError ? reason : new ApiError("network", "Something went wrong while sending.");
        if (!started) {
          // Nothing reached the server's pipeline: take the turn back, give the text back.
          setMessages((all) => all.filter((m) => m.key !== userMessage.key && m.key !== reply.key));
          onUnsentRef.current?.(text);
        } else {
          update(reply.key, (m) => ({ ...m, status: "failed", error: apiError.message }));
        }
        setError({
          message: apiError.message,
          kind: apiError.kind,
          retryAt: apiError.retryAfter !== null ? Date.now() + apiError.retryAfter * 1000 : null,
          retryText: text,
        });
      })
      .finally(() => {
        if (controller.current === abort) controller.current = null;
        setBusy(false);
      });
    return true;
  }, []);

  const stop = useCallback(() => controller.current?.abort(), []);

  const newChat = useCallback(() => {
    controller.current?.abort();
    controller.current = null;
    saveConversationId(null);
    conversationRef.current = null;
    setConversationId(null);
    setMessages([]);
    setError(null);
    setBusy(false);
  }, []);

  const retry = useCallback(
    (filters: ChatFilters) => {
      if (error?.kind === "history") {
        setHistoryTick((t) => t + 1);
        return;
      }
      const text = error?.retryText;
      if (!text) return;
      // A turn that failed midway is replaced by the new attempt.
      setMessages((all) => {
        const last = all[all.length - 1];
        const prev = all[all.length - 2];
        return last?.status === "failed" && prev?.content === text ? all.slice(0, -2) : all;
      });
      send(text, filters);
    },
    [error, send],
  );

  return {
    messages,
    conversationId,
    busy,
    loadingHistory,
    error,
    send,
    stop,
    newChat,
    retry,
    dismissError: () => setError(null),
    reloadHistory: () => setHistoryTick((t) => t + 1),
  };
}
