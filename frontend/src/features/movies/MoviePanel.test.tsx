import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ApiError, getSimilar, sendFeedback } from "../../api/client";
import type { Movie, MovieList } from "../../api/types";
import { MoviePanel } from "./MoviePanel";
import { makeMovie } from "./testFixtures";

vi.mock("../../api/client", async (importActual) => {
  const actual = await importActual<typeof import("../../api/client")>();
  return { ...actual, getSimilar: vi.fn(), sendFeedback: vi.fn() };
});

const mockedGetSimilar = vi.mocked(getSimilar);
const mockedSendFeedback = vi.mocked(sendFeedback);

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const pulp = makeMovie();
const heat = makeMovie({ id: 949, title: "Heat", year: 1995 });
const jackie = makeMovie({ id: 184, title: "Jackie Brown", year: 1997 });
const reservoir = makeMovie({ id: 500, title: "Reservoir Dogs", year: 1992 });

function list(results: Movie[], extra: Partial<MovieList> = {}): MovieList {
  return { count: results.length, mode: "embedding", degraded: false, notice: "", results, ...extra };
}

beforeEach(() => {
  mockedGetSimilar.mockReset();
  mockedSendFeedback.mockReset();
});

describe("MoviePanel", () => {
  it("shows skeletons and a status while the first results load", () => {
    const { container } = render(<MoviePanel movies={[]} messageId={null} loading />);
    expect(screen.getByRole("heading", { level: 2, name: "Recommendations" })).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("Finding films…");
    expect(container.querySelectorAll(".movie-skeleton")).toHaveLength(3);
    expect(screen.queryByRole("article")).toBeNull();
  });

  it("shows the empty hint when there is nothing and nothing is loading", () => {
    const { container } = render(
      <MoviePanel movies={[]} messageId={null} loading={false} heading="Picks" emptyHint="Ask me anything." />,
    );
    expect(screen.getByRole("heading", { level: 2, name: "Picks" })).toBeInTheDocument();
    expect(screen.getByText("Ask me anything.")).toBeInTheDocument();
    expect(screen.getByRole("status")).toHaveTextContent("");
    expect(container.querySelectorAll(".movie-skeleton")).toHaveLength(0);
  });

  it("lists the picks as cards", () => {
    render(<MoviePanel movies={[pulp, heat]} messageId={7} loading={false} />);
    expect(screen.getAllByRole("article")).toHaveLength(2);
    expect(screen.getByRole("article", { name: "Pulp Fiction" })).toBeInTheDocument();
    expect(screen.getByRole("article", { name: "Heat" })).toBeInTheDocument();
  });

  it("sends feedback with the message and movie ids, optimistically, once per rating", async () => {
    const user = userEvent.setup();
    const pending = deferred<{ id: number; rating: number }>();
    mockedSendFeedback.mockReturnValue(pending.promise);
    render(<MoviePanel movies={[pulp, heat]} messageId={42} loading={false} />);
    const up = screen.getByRole("button", { name: "Good pick: Heat" });

    await user.click(up);
    expect(mockedSendFeedback).toHaveBeenCalledTimes(1);
    expect(mockedSendFeedback).toHaveBeenCalledWith({ message_id: 42, movie_id: 949, rating: 1 });
    expect(up).toHaveAttribute("aria-pressed", "true"); // before the server answered

    await act(async () => pending.resolve({ id: 1, rating: 1 }));
    await user.click(up); // the same thumb again keeps the rating
    expect(up).toHaveAttribute("aria-pressed", "true");
    expect(mockedSendFeedback).toHaveBeenCalledTimes(1);
    expect(screen.getByRole("button", { name: "Good pick: Pulp Fiction" })).toHaveAttribute("aria-pressed", "false");
  });

  it("reverts the thumbs and shows the error when saving fails", async () => {
    const user = userEvent.setup();
    mockedSendFeedback.mockResolvedValueOnce({ id: 1, rating: 1 });
    mockedSendFeedback.mockRejectedValueOnce(new ApiError("server", "Feedback is unavailable right now."));
    render(<MoviePanel movies={[pulp]} messageId={42} loading={false} />);
    const up = screen.getByRole("button", { name: "Good pick: Pulp Fiction" });
    const down = screen.getByRole("button", { name: "Not for me: Pulp Fiction" });

    await user.click(up);
    expect(up).toHaveAttribute("aria-pressed", "true");
    await user.click(down);
    expect(mockedSendFeedback).toHaveBeenLastCalledWith({ message_id: 42, movie_id: 680, rating: -1 });

    const card = within(screen.getByRole("article", { name: "Pulp Fiction" }));
    expect(await card.findByRole("alert")).toHaveTextContent("Feedback is unavailable right now.");
    expect(down).toHaveAttribute("aria-pressed", "false");
    expect(up).toHaveAttribute("aria-pressed", "true"); // back to what the server accepted
  });

  it("disables feedback until the reply has a message id", () => {
    render(<MoviePanel movies={[pulp]} messageId={null} loading />);
    const up = screen.getByRole("button", { name: "Good pick: Pulp Fiction" });
    expect(up).toBeDisabled();
    expect(up.getAttribute("title")).toMatch(/once the reply has finished/);
    expect(screen.queryByText(/Finding films/)).toBeNull();
  });

  it("starts each message from its own stored feedback", () => {
    const { rerender } = render(
      <MoviePanel movies={[pulp]} messageId={1} loading={false} initialFeedback={{ 680: -1 }} />,
    );
    const down = () => screen.getByRole("button", { name: "Not for me: Pulp Fiction" });
    const up = () => screen.getByRole("button", { name: "Good pick: Pulp Fiction" });
    expect(down()).toHaveAttribute("aria-pressed", "true");
    rerender(<MoviePanel movies={[pulp]} messageId={2} loading={false} initialFeedback={{ 680: 1 }} />);
    expect(down()).toHaveAttribute("aria-pressed", "false");
    expect(up()).toHaveAttribute("aria-pressed", "true");
  });

  it("drills into similar films and comes back", async () => {
    const user = userEvent.setup();
    mockedGetSimilar.mockImplementation(async (id) =>
      id === pulp.id ? list([jackie, reservoir], { degraded: true, notice: "Using genres only." }) : list([heat]),
    );
    render(<MoviePanel movies={[pulp, heat]} messageId={3} loading={false} />);

    await user.click(within(screen.getByRole("article", { name: "Pulp Fiction" })).getByRole("button", { name: "More like this" }));
    const heading = screen.getByRole("heading", { level: 2, name: "More like Pulp Fiction" });
    expect(heading).toHaveFocus();
    expect(mockedGetSimilar).toHaveBeenCalledWith(680, 8, expect.any(AbortSignal));
    expect(await screen.findByRole("article", { name: "Jackie Brown" })).toBeInTheDocument();
    expect(screen.getByRole("article", { name: "Reservoir Dogs" })).toBeInTheDocument();
    expect(screen.queryByRole("article", { name: "Heat" })).toBeNull();
    expect(screen.getByText("Using genres only.")).toBeInTheDocument();
    // Similar films can be drilled into, not rated.
    expect(screen.queryByRole("button", { name: /Good pick/ })).toBeNull();

    await user.click(within(screen.getByRole("article", { name: "Jackie Brown" })).getByRole("button", { name: "More like this" }));
    expect(screen.getByRole("heading", { level: 2, name: "More like Jackie Brown" })).toHaveFocus();
    expect(await screen.findByRole("article", { name: "Heat" })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: /Back/ }));
    expect(screen.getByRole("heading", { level: 2, name: "More like Pulp Fiction" })).toHaveFocus();
    expect(screen.getByRole("article", { name: "Jackie Brown" })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: /Back/ }));
    expect(screen.getByRole("heading", { level: 2, name: "Recommendations" })).toHaveFocus();
    expect(screen.getByRole("article", { name: "Heat" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Good pick: Pulp Fiction" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Back/ })).toBeNull();
    expect(mockedGetSimilar).toHaveBeenCalledTimes(2);
  });

  it("shows a loading status, then an error with Retry", async () => {
    const user = userEvent.setup();
    const first = deferred<MovieList>();
    mockedGetSimilar.mockReturnValueOnce(first.promise).mockResolvedValueOnce(list([jackie]));
    render(<MoviePanel movies={[pulp]} messageId={3} loading={false} />);

    await user.click(screen.getByRole("button", { name: "More like this" }));
    expect(screen.getByRole("status")).toHaveTextContent("Finding films…");
    await act(async () => first.reject(new ApiError("unavailable", "The catalog is offline.")));
    expect(screen.getByRole("alert")).toHaveTextContent("The catalog is offline.");

    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("article", { name: "Jackie Brown" })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
    expect(mockedGetSimilar).toHaveBeenCalledTimes(2);
  });

  it("cancels the similar request when going back or unmounting", async () => {
    const user = userEvent.setup();
    mockedGetSimilar.mockReturnValue(new Promise<MovieList>(() => {}));
    const { unmount } = render(<MoviePanel movies={[pulp]} messageId={3} loading={false} />);

    await user.click(screen.getByRole("button", { name: "More like this" }));
    const firstSignal = mockedGetSimilar.mock.calls[0]?.[2];
    expect(firstSignal?.aborted).toBe(false);
    await user.click(screen.getByRole("button", { name: /Back/ }));
    expect(firstSignal?.aborted).toBe(true);

    await user.click(screen.getByRole("button", { name: "More like this" }));
    const secondSignal = mockedGetSimilar.mock.calls[1]?.[2];
    unmount();
    expect(secondSignal?.aborted).toBe(true);
  });

  it("returns to the top level when a new chat turn brings new picks", async () => {
    const user = userEvent.setup();
    mockedGetSimilar.mockResolvedValue(list([jackie]));
    const { rerender } = render(<MoviePanel movies={[pulp]} messageId={3} loading={false} />);
    await user.click(screen.getByRole("button", { name: "More like this" }));
    expect(await screen.findByRole("article", { name: "Jackie Brown" })).toBeInTheDocument();

    rerender(<MoviePanel movies={[heat]} messageId={4} loading={false} />);
    expect(screen.getByRole("heading", { level: 2, name: "Recommendations" })).toBeInTheDocument();
    expect(screen.getByRole("article", { name: "Heat" })).toBeInTheDocument();
    expect(screen.queryByRole("article", { name: "Jackie Brown" })).toBeNull();
  });
});
