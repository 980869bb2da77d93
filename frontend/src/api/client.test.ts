import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, chatStream, getConversation } from "./client";
import type { ChatEvent } from "./types";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

function mockFetch(response: Response) {
  const fetchMock = vi.fn().mockResolvedValue(response);
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

const META = {
  conversation_id: "6f1c1b0e-8d2a-4c55-9d7e-2f0a4b7d9e11",
  intent: "recommend",
  movies: [{ id: 27205, title: "Inception", year: 2010, genres: ["Action"], overview: "", poster_url: null, vote_average: 8.4, vote_count: 100, runtime: 148, original_language: "en", score: 0.9, reason: "a heist in dreams" }],
  degraded: false,
  notices: [],
};

describe("chatStream", () => {
  it("decodes events whose bytes (even one character's) are split across chunks", async () => {
    const text =
      `event: meta\ndata: ${JSON.stringify(META)}\n\n` +
      'event: token\ndata: {"text":"Amélie — très bien"}\n\n' +
      'event: done\ndata: {"conversation_id":"x","message_id":5,"reply":"Amélie — très bien","reply_source":"model","replaced":false,"degraded":false,"notices":[]}\n\n';
    const bytes = new TextEncoder().encode(text);
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const fetchMock = mockFetch(
      new Response(streamOf([bytes.slice(0, cut), bytes.slice(cut, cut + 7), bytes.slice(cut + 7)]), {
        headers: { "Content-Type": "text/event-stream" },
      }),
    );
    const events: ChatEvent[] = [];
    await chatStream({ message: "hi" }, { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.type)).toEqual(["meta", "token", "done"]);
    expect(events[1]).toEqual({ type: "token", data: { text: "Amélie — très bien" } });
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/chat/stream/");
    expect(JSON.parse(init.body as string)).toEqual({ message: "hi" });
  });

  it("throws a network error when the stream ends before done", async () => {
    mockFetch(new Response(streamOf([new TextEncoder().encode(`event: meta\ndata: ${JSON.stringify(META)}\n\n`)])));
    const events: ChatEvent[] = [];
    await expect(chatStream({ message: "hi" }, { onEvent: (e) => events.push(e) })).rejects.toMatchObject({
      kind: "network",
    });
    expect(events).toHaveLength(1);
  });

  it("turns a 429 into a rate-limited error with the wait time", async () => {
    mockFetch(
      new Response(JSON.stringify({ error: { code: "throttled", message: "Request was throttled.", details: {} } }), {
        status: 429,
        headers: { "Retry-After": "17", "Content-Type": "application/json" },
      }),
    );
    const error = await chatStream({ message: "hi" }, { onEvent: () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: "rate_limited", status: 429, retryAfter: 17 });
    expect((error as ApiError).message).toContain("17 s");
  });

  it("carries the backend's message and field errors on a 400", async () => {
    mockFetch(
      new Response(
        JSON.stringify({ error: { code: "invalid", message: "Invalid input.", details: { fields: { message: ["Too long."] } } } }),
        { status: 400 },
      ),
    );
    await expect(chatStream({ message: "x" }, { onEvent: () => undefined })).rejects.toMatchObject({
      kind: "invalid",
      message: "Invalid input.",
      fields: { message: ["Too long."] },
    });
  });

  it("reports an unreachable server as a network error", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(chatStream({ message: "x" }, { onEvent: () => undefined })).rejects.toMatchObject({ kind: "network" });
  });
});

describe("getConversation", () => {
  it("fills in the fields of films that left the catalog", async () => {
    mockFetch(
      new Response(
        JSON.stringify({
          id: "c",
          title: "t",
          messages: [{ id: 2, role: "assistant", content: "r", created_at: "", movies: [{ id: 1, title: "Gone", score: 0.5, reason: "", removed: true }] }],
        }),
      ),
    );
    const conversation = await getConversation("c");
    expect(conversation.messages[0]?.movies?.[0]).toMatchObject({ id: 1, title: "Gone", genres: [], poster_url: null, removed: true });
  });
});
