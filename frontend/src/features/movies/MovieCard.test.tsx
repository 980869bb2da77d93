import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MovieCard } from "./MovieCard";
import { makeMovie } from "./testFixtures";

const LONG_OVERVIEW =
  "In the realm of underworld Los Angeles, two mob hitmen, a boxer, a gangster's wife and a pair of " +
  "diner bandits intertwine in four tales of violence and redemption, told out of order and full of talk.";

function stubClipboard(writeText: (text: string) => Promise<void>) {
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
}

afterEach(() => {
  vi.restoreAllMocks();
  Reflect.deleteProperty(navigator, "share");
});

describe("MovieCard", () => {
  it("renders every field of the film in an article labelled by its title", () => {
    render(
      <MovieCard
        movie={makeMovie({ original_language: "fr", overview: "Short overview.", poster_url: null })}
      />,
    );
    const article = screen.getByRole("article", { name: "Pulp Fiction" });
    const card = within(article);
    expect(card.getByRole("heading", { level: 3, name: "Pulp Fiction" })).toBeInTheDocument();
    expect(card.getByRole("img", { name: "No poster: Pulp Fiction" })).toBeInTheDocument();
    const facts = article.querySelector(".movie-facts");
    expect(facts).toHaveTextContent("Year: 1994");
    expect(facts).toHaveTextContent("Runtime: 2 h 34 min");
    expect(facts).toHaveTextContent("Original language: French");
    expect(article.querySelector(".movie-rating")).toHaveTextContent("★ 8.5 (12,345 votes)");
    expect(card.getByText("Crime")).toBeInTheDocument();
    expect(card.getByText("Thriller")).toBeInTheDocument();
    expect(card.getByText(/Sharp dialogue and a non-linear plot/)).toBeInTheDocument();
    expect(card.getByText("Short overview.")).toBeInTheDocument();
    // A short overview needs no toggle; no callbacks, no optional buttons.
    expect(card.queryByRole("button", { name: /show more/i })).toBeNull();
    expect(card.queryByRole("button", { name: "More like this" })).toBeNull();
    expect(card.queryByRole("button", { name: /good pick/i })).toBeNull();
    expect(card.getByRole("button", { name: "Copy title" })).toBeInTheDocument();
  });

  it("leaves out English as language, and missing facts", () => {
    render(
      <MovieCard
        movie={makeMovie({ vote_average: null, vote_count: null, runtime: null, reason: "", year: null })}
      />,
    );
    expect(screen.queryByText("English")).toBeNull();
    expect(screen.queryByText(/★/)).toBeNull();
    expect(screen.queryByText(/min/)).toBeNull();
    expect(document.querySelector(".movie-reason")).toBeNull();
  });

  it("shows a hostile title and overview literally, never as HTML", () => {
    const hostile = "<img src=x onerror=alert(1)>";
    render(
      <MovieCard
        movie={makeMovie({ title: hostile, poster_url: null, overview: "<b>bold</b>", reason: "<script>x</script>" })}
        onFeedback={() => {}}
        onMoreLikeThis={() => {}}
      />,
    );
    expect(screen.getByRole("heading", { level: 3 })).toHaveTextContent(hostile);
    expect(screen.getByRole("article", { name: hostile })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: `No poster: ${hostile}` })).toHaveTextContent(hostile);
    expect(screen.getByRole("button", { name: `Good pick: ${hostile}` })).toBeInTheDocument();
    expect(screen.getByText("<b>bold</b>")).toBeInTheDocument();
    expect(screen.getByText("<script>x</script>")).toBeInTheDocument();
    expect(document.querySelector('img[src="x"]')).toBeNull();
    expect(document.querySelector("img")).toBeNull();
    expect(document.querySelector("b, script")).toBeNull();
  });

  it("expands and collapses a long overview", async () => {
    const user = userEvent.setup();
    render(<MovieCard movie={makeMovie({ overview: LONG_OVERVIEW })} />);
    const toggle = screen.getByRole("button", { name: "Show more" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    const overview = document.getElementById(toggle.getAttribute("aria-controls") ?? "");
    expect(overview).toHaveTextContent(LONG_OVERVIEW);
    expect(overview).toHaveClass("is-clamped");

    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(toggle).toHaveTextContent("Show less");
    expect(overview).not.toHaveClass("is-clamped");

    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(toggle).toHaveTextContent("Show more");
  });

  it("reflects the feedback in aria-pressed and reports clicks", async () => {
    const user = userEvent.setup();
    const onFeedback = vi.fn();
    const onMoreLikeThis = vi.fn();
    const movie = makeMovie();
    render(<MovieCard movie={movie} feedback={1} onFeedback={onFeedback} onMoreLikeThis={onMoreLikeThis} />);
    const up = screen.getByRole("button", { name: "Good pick: Pulp Fiction" });
    const down = screen.getByRole("button", { name: "Not for me: Pulp Fiction" });
    expect(up).toHaveAttribute("aria-pressed", "true");
    expect(down).toHaveAttribute("aria-pressed", "false");

    await user.click(down);
    expect(onFeedback).toHaveBeenCalledWith(-1);
    await user.click(screen.getByRole("button", { name: "More like this" }));
    expect(onMoreLikeThis).toHaveBeenCalledWith(movie);
  });

  it("disables the thumbs with an explanation when asked", () => {
    render(<MovieCard movie={makeMovie()} onFeedback={() => {}} feedbackDisabledReason="Wait for the reply." />);
    const up = screen.getByRole("button", { name: "Good pick: Pulp Fiction" });
    expect(up).toBeDisabled();
    expect(up).toHaveAttribute("title", "Wait for the reply.");
  });

  it("shows removed films with a note and no actions", () => {
    render(<MovieCard movie={makeMovie({ removed: true })} onFeedback={() => {}} onMoreLikeThis={() => {}} />);
    expect(screen.getByText("No longer in the catalog")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /more like this|good pick|not for me|copy title/i })).toBeNull();
  });

  it("copies 'title (year)' to the clipboard and says so", async () => {
    const user = userEvent.setup();
    const writeText = vi.fn<(text: string) => Promise<void>>().mockResolvedValue(undefined);
    stubClipboard(writeText);
    render(<MovieCard movie={makeMovie()} />);
    await user.click(screen.getByRole("button", { name: "Copy title" }));
    expect(writeText).toHaveBeenCalledWith("Pulp Fiction (1994)");
    const status = await screen.findByText("Copied");
    expect(status).toHaveAttribute("aria-live", "polite");
  });

  it("says when copying failed", async () => {
    const user = userEvent.setup();
    stubClipboard(() => Promise.reject(new DOMException("denied", "NotAllowedError")));
    Object.defineProperty(document, "execCommand", { value: () => false, configurable: true });
    render(<MovieCard movie={makeMovie()} />);
    await user.click(screen.getByRole("button", { name: "Copy title" }));
    expect(await screen.findByText("Couldn't copy")).toBeInTheDocument();
    Reflect.deleteProperty(document, "execCommand");
  });

  it("uses the share sheet when the browser has one", async () => {
    const user = userEvent.setup();
    const share = vi.fn().mockResolvedValue(undefined);
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "share", { value: share, configurable: true });
    stubClipboard(writeText);
    render(<MovieCard movie={makeMovie()} />);
    await user.click(screen.getByRole("button", { name: "Copy title" }));
    expect(share).toHaveBeenCalledWith({ title: "Pulp Fiction", text: "Pulp Fiction (1994)" });
    expect(writeText).not.toHaveBeenCalled();
    expect(await screen.findByText("Shared")).toBeInTheDocument();
  });
});
