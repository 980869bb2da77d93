import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { StreamOptions } from "../../api/client";
import type { ChatEvent, ChatRequest, Movie } from "../../api/types";
import { ChatPage, DEGRADED_TEXT } from "./ChatPage";

const api = vi.hoisted(() => ({
  chatStream: vi.fn(),
  getConversation: vi.fn(),
  getSimilar: vi.fn(),
  sendFeedback: vi.fn(),
}));

vi.mock("../../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../../api/client")>()),
  ...api,
}));

const { ApiError } = await import("../../api/client");

const CONVERSATION = "6f1c1b0e-8d2a-4c55-9d7e-2f0a4b7d9e11";

function movie(id: number, title: string): Movie {
  return {
    id, title, year: 1999, genres: ["Comedy"], overview: `${title} overview`, poster_url: null,
    vote_average: 7.1, vote_count: 1200, runtime: 101, original_language: "fr", score: 0.8,
    reason: `because ${title}`,
  };
}

/** A chat stream the test drives: emit events, then finish or fail it. */
function controlledStream() {
  let options: StreamOptions | undefined;
  let body: ChatRequest | undefined;
  let finish: () => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  api.chatStream.mockImplementationOnce((request: ChatRequest, opts: StreamOptions) => {
    body = request;
    options = opts;
    return new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
      opts.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  });
  return {
    get body() {
      return body;
    },
    emit: (event: Parameters<StreamOptions["onEvent"]>[0]) => act(() => options?.onEvent(event)),
    finish: () => act(async () => finish()),
    fail: (error: unknown) => act(async () => fail(error)),
  };
}

const meta = (movies: Movie[], degraded = false): ChatEvent => ({
  type: "meta",
  data: { conversation_id: CONVERSATION, intent: "recommend", movies, degraded, notices: [] },
});
const done = (reply: string, degraded = false): ChatEvent => ({
  type: "done",
  data: { conversation_id: CONVERSATION, message_id: 42, reply, reply_source: "model", replaced: false, degraded, notices: [] },
});

beforeEach(() => {
  vi.clearAllMocks();
});

describe("ChatPage", () => {
  it("offers starter prompts on an empty chat, and one click sends it", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    const starters = screen.getByRole("list", { name: "Suggestions" });
    await userEvent.click(within(starters).getByRole("button", { name: "A French comedy from the 90s" }));
    expect(stream.body?.message).toBe("A French comedy from the 90s");
    expect(screen.getByText("Thinking…")).toBeInTheDocument();
  });

  it("sends on Enter, adds a line on Shift+Enter, shows cards at meta and streams the reply", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    const input = screen.getByLabelText("Message");
    await userEvent.type(input, "funny heist{Shift>}{Enter}{/Shift}please");
    expect(input).toHaveValue("funny heist\nplease");
    expect(api.chatStream).not.toHaveBeenCalled();
    await userEvent.type(input, "{Enter}");
    expect(api.chatStream).toHaveBeenCalledTimes(1);
    expect(stream.body).toMatchObject({ message: "funny heist\nplease", conversation_id: null, limit: 8 });
    expect(input).toHaveValue("");
    expect(screen.getByRole("button", { name: "Stop" })).toBeInTheDocument();

    stream.emit(meta([movie(1, "Le Dîner de cons"), movie(2, "Amélie")]));
    // Cards before any reply text.
    expect(screen.getByRole("heading", { name: "Le Dîner de cons" })).toBeInTheDocument();
    expect(screen.getByText("Writing…")).toBeInTheDocument();
    stream.emit({ type: "token", data: { text: "Try " } });
    stream.emit({ type: "token", data: { text: "Amélie." } });
    expect(screen.getByText("Try Amélie.")).toBeInTheDocument();
    stream.emit(done("Try Amélie, it's lovely."));
    await stream.finish();
    expect(screen.getByText("Try Amélie, it's lovely.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Send" })).toBeInTheDocument();
    expect(localStorage.getItem("marquee.conversationId")).toBe(CONVERSATION);
  });

  it("Stop aborts the stream and keeps what arrived", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    await userEvent.type(screen.getByLabelText("Message"), "space films{Enter}");
    stream.emit(meta([movie(3, "Gravity")]));
    stream.emit({ type: "token", data: { text: "Gravity is" } });
    await userEvent.click(screen.getByRole("button", { name: "Stop" }));
    await waitFor(() => expect(screen.getByText("Stopped.")).toBeInTheDocument());
    expect(screen.getByText("Gravity is")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Gravity" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Send" })).toBeInTheDocument();
  });

  it("shows the degraded banner when the backend says so", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    await userEvent.type(screen.getByLabelText("Message"), "anything{Enter}");
    stream.emit({
      type: "meta",
      data: { conversation_id: CONVERSATION, intent: "recommend", movies: [movie(4, "Heat")], degraded: true,
              notices: ["The model service is unavailable (ConnectError)."] },
    });
    expect(screen.getByText(DEGRADED_TEXT)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Heat" })).toBeInTheDocument();
    // The technical notes are there for whoever wants them, folded away.
    const notes = screen.getByText("1 note on this answer");
    expect(notes.closest("details")).not.toHaveAttribute("open");
    expect(screen.getByText("The model service is unavailable (ConnectError).")).not.toBeVisible();
  });

  it("drops the degraded banner when the model wrote the reply after all", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    await userEvent.type(screen.getByLabelText("Message"), "anything{Enter}");
    stream.emit(meta([movie(4, "Heat")], true));
    expect(screen.getByText(DEGRADED_TEXT)).toBeInTheDocument();
    stream.emit(done("Heat is a fine pick.", true));
    await stream.finish();
    expect(screen.queryByText(DEGRADED_TEXT)).not.toBeInTheDocument();
  });

  it("on 429 gives the text back, shows the wait and blocks sending until it passes", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const stream = controlledStream();
      render(<ChatPage />);
      const input = screen.getByLabelText("Message");
      await userEvent.type(input, "too fast{Enter}");
      await stream.fail(new ApiError("rate_limited", "Too many requests: please wait 3 s and try again.", { status: 429, retryAfter: 3 }));
      expect(input).toHaveValue("too fast");
      expect(screen.getByRole("alert")).toHaveTextContent(/wait 3 s/);
      expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
      await act(async () => vi.advanceTimersByTime(3100));
      expect(screen.getByRole("button", { name: "Send" })).toBeEnabled();
    } finally {
      vi.useRealTimers();
    }
  });

  it("on a network error keeps the text and Retry sends it again", async () => {
    const first = controlledStream();
    render(<ChatPage />);
    await userEvent.type(screen.getByLabelText("Message"), "a sad film{Enter}");
    await first.fail(new ApiError("network", "Cannot reach Marquee."));
    expect(screen.getByRole("alert")).toHaveTextContent("Cannot reach Marquee.");
    expect(screen.getByLabelText("Message")).toHaveValue("a sad film");
    const second = controlledStream();
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(second.body?.message).toBe("a sad film");
    expect(screen.getByLabelText("Message")).toHaveValue("");
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("reloads the stored conversation, and New chat starts afresh", async () => {
    localStorage.setItem("marquee.conversationId", CONVERSATION);
    api.getConversation.mockResolvedValueOnce({
      id: CONVERSATION,
      title: "x",
      messages: [
        { id: 1, role: "user", content: "a heist film", created_at: "" },
        { id: 2, role: "assistant", content: "Try Heat.", created_at: "", degraded: false, movies: [movie(5, "Heat")], feedback: [{ movie_id: 5, rating: 1 }] },
      ],
    });
    render(<ChatPage />);
    expect(await screen.findByText("Try Heat.")).toBeInTheDocument();
    expect(api.getConversation).toHaveBeenCalledWith(CONVERSATION, expect.anything());
    expect(screen.getByText("a heist film")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Heat" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "New chat" }));
    expect(screen.queryByText("Try Heat.")).not.toBeInTheDocument();
    expect(localStorage.getItem("marquee.conversationId")).toBeNull();
    expect(screen.getByRole("list", { name: "Suggestions" })).toBeInTheDocument();
  });

  it("sends the filters with each message and shows them as removable chips", async () => {
    const stream = controlledStream();
    render(<ChatPage />);
    await userEvent.click(screen.getByRole("button", { name: "Filters" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Comedy" }));
    await userEvent.click(screen.getByRole("checkbox", { name: "Romance" }));
    await userEvent.selectOptions(screen.getByLabelText("Decade"), "1990");
    await userEvent.selectOptions(screen.getByLabelText("Minimum rating"), "7");
    await userEvent.selectOptions(screen.getByLabelText("Language"), "fr");
    const chips = screen.getByRole("list", { name: "Active filters" });
    expect(within(chips).getAllByRole("listitem").map((li) => li.textContent?.replace("×", ""))).toEqual([
      "Comedy", "Romance", "1990s", "★ 7+", "French",
    ]);
    await userEvent.click(screen.getByRole("button", { name: "Remove filter: Romance" }));
    await userEvent.type(screen.getByLabelText("Message"), "something light{Enter}");
    expect(stream.body?.filters).toEqual({ genres: ["Comedy"], year_min: 1990, year_max: 1999, min_rating: 7, language: "fr" });
    expect(JSON.parse(localStorage.getItem("marquee.filters") ?? "{}")).toMatchObject({ genres: ["Comedy"] });
  });

  it("renders a hostile reply as text", async () => {
    const stream = controlledStream();
    const { container } = render(<ChatPage />);
    await userEvent.type(screen.getByLabelText("Message"), "x{Enter}");
    stream.emit(meta([movie(6, "<img src=x onerror=alert(1)>")]));
    stream.emit({ type: "token", data: { text: "<b>bold</b>" } });
    expect(screen.getByText("<b>bold</b>")).toBeInTheDocument();
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector('img[src="x"]')).toBeNull();
  });
});
