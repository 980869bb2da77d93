import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, getCatalogMap, getMovie } from "../../api/client";
import type { MapPoint, Movie } from "../../api/types";
import ExplorePage from "./ExplorePage";
import { catalogMap, movieFor, POINTS } from "./testData";

vi.mock("../../api/client", async (importActual) => {
  const actual = await importActual<typeof import("../../api/client")>();
  return { ...actual, getCatalogMap: vi.fn(), getMovie: vi.fn() };
});

// The card is another feature's component: a stand-in shows which film it was given.
vi.mock("../movies/MovieCard", () => ({
  MovieCard: ({ movie }: { movie: Movie }) => (
    <article aria-label="Film card">
      <h3>{movie.title}</h3>
      <p>{movie.overview}</p>
    </article>
  ),
}));

const mockedMap = vi.mocked(getCatalogMap);
const mockedMovie = vi.mocked(getMovie);

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function legendButton(name: RegExp) {
  return within(screen.getByRole("group", { name: "Genres shown on the map" })).getByRole("button", { name });
}

beforeEach(() => {
  // jsdom has no 2D canvas: the page must work without drawing.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  mockedMovie.mockImplementation(async (id: number) => {
    const point = POINTS.find((p) => p.id === id);
    if (!point) throw new ApiError("not_found", "No such film.", { status: 404 });
    return movieFor(point);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  mockedMap.mockReset();
  mockedMovie.mockReset();
});

describe("ExplorePage", () => {
  it("shows a loading status, then the map and a legend of the genres present", async () => {
    const pending = deferred<ReturnType<typeof catalogMap>>();
    mockedMap.mockReturnValue(pending.promise);
    render(<ExplorePage />);
    expect(screen.getByRole("status")).toHaveTextContent("Loading the map…");
    expect(screen.queryByRole("application")).not.toBeInTheDocument();

    await act(async () => pending.resolve(catalogMap()));
    expect(screen.queryByText("Loading the map…")).not.toBeInTheDocument();
    expect(screen.getByRole("application", { name: /map of 7 films/i })).toHaveAttribute("tabindex", "0");
    const legend = screen.getByRole("group", { name: "Genres shown on the map" });
    const labels = within(legend)
      .getAllByRole("button")
      .map((button) => button.textContent);
    // Most films first: Comedy has two; the film without a genre is "No genre".
    expect(labels[0]).toBe("Comedy, 2 films");
    expect(labels).toHaveLength(6);
    expect(labels).toContain("No genre, 1 film");
    expect(labels.some((label) => label?.startsWith("Drama"))).toBe(false); // only genres present
    for (const button of within(legend).getAllByRole("button")) {
      expect(button).toHaveAttribute("aria-pressed", "true");
    }
    expect(screen.getByText(/7 films, placed by how alike/)).toBeInTheDocument();
  });

  it("hides and shows a genre with its legend toggle", async () => {
    const user = userEvent.setup();
    mockedMap.mockResolvedValue(catalogMap());
    render(<ExplorePage />);
    const comedy = await waitFor(() => legendButton(/^Comedy/));
    await user.click(comedy);
    expect(comedy).toHaveAttribute("aria-pressed", "false");
    expect(screen.getByText(/5 of 7 films/)).toBeInTheDocument();
    await user.click(comedy);
    expect(comedy).toHaveAttribute("aria-pressed", "true");
    await user.click(legendButton(/^Horror/));
    await user.click(screen.getByRole("button", { name: "Show all genres" }));
    expect(legendButton(/^Horror/)).toHaveAttribute("aria-pressed", "true");
    expect(screen.queryByRole("button", { name: "Show all genres" })).not.toBeInTheDocument();
  });

  it("shows the error with a Retry that loads the map again", async () => {
    const user = userEvent.setup();
    mockedMap
      .mockRejectedValueOnce(new ApiError("unavailable", "Marquee is starting: try again in a few seconds.", { status: 503 }))
      .mockResolvedValueOnce(catalogMap());
    render(<ExplorePage />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Marquee is starting: try again in a few seconds.");
    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("application", { name: /map of 7 films/i })).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(mockedMap).toHaveBeenCalledTimes(2);
  });

  it("explains how to ingest a catalog when the map is empty", async () => {
    mockedMap.mockResolvedValue(catalogMap([]));
    render(<ExplorePage />);
    expect(await screen.findByRole("heading", { name: "The catalog is empty" })).toBeInTheDocument();
    expect(screen.getByText(/make data SOURCE=tmdb-csv DATA=/)).toBeInTheDocument();
    expect(screen.queryByRole("application")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Find a film on the map")).not.toBeInTheDocument();
  });

  it("finds a film by title, opens its card, and closes it", async () => {
    const user = userEvent.setup();
    mockedMap.mockResolvedValue(catalogMap());
    render(<ExplorePage />);
    const search = await screen.findByLabelText("Find a film on the map");
    await user.type(search, "incep");
    const results = screen.getByRole("list", { name: "Matching films" });
    const match = within(results).getByRole("button", { name: /Inception \(2010\)/ });
    await user.click(match);

    expect(mockedMovie).toHaveBeenCalledWith(27205, expect.any(AbortSignal));
    const panel = screen.getByRole("complementary", { name: "Film on the map" });
    expect(await within(panel).findByRole("heading", { name: "Inception" })).toBeInTheDocument();
    expect(within(panel).getByText("About Inception.")).toBeInTheDocument();
    // Picked from the keyboard-friendly search: focus follows to the card's panel.
    expect(within(panel).getByRole("heading", { name: "Film on the map" })).toHaveFocus();
    expect(search).toHaveValue("");

    await user.click(within(panel).getByRole("button", { name: "Close the film's card" }));
    expect(screen.queryByRole("complementary")).not.toBeInTheDocument();
    expect(search).toHaveFocus();
  });

  it("matches titles without accents or case, at most eight, and Enter picks the first", async () => {
    const user = userEvent.setup();
    const many: MapPoint[] = Array.from({ length: 12 }, (_, i) => ({
      id: 100 + i,
      title: `Star Film ${i + 1}`,
      year: 2000 + i,
      genre: "Drama",
      x: i / 12,
      y: -i / 12,
    }));
    mockedMap.mockResolvedValue(catalogMap([...POINTS, ...many]));
    mockedMovie.mockImplementation(async (id) => movieFor([...POINTS, ...many].find((p) => p.id === id) as MapPoint));
    render(<ExplorePage />);
    const search = await screen.findByLabelText("Find a film on the map");
    await user.type(search, "STAR");
    expect(within(screen.getByRole("list", { name: "Matching films" })).getAllByRole("button")).toHaveLength(8);
    await user.clear(search);
    await user.type(search, "amelie");
    expect(screen.getByRole("button", { name: /Amélie \(2001\)/ })).toBeInTheDocument();
    await user.keyboard("{Enter}");
    expect(mockedMovie).toHaveBeenCalledWith(1, expect.any(AbortSignal));
    expect(await screen.findByRole("heading", { name: "Amélie" })).toBeInTheDocument();
    await user.type(search, "zzzz");
    expect(screen.getByText(/No film on the map matches/)).toBeInTheDocument();
  });

  it("closes the results when focus leaves the search, and reopens them on return", async () => {
    const user = userEvent.setup();
    mockedMap.mockResolvedValue(catalogMap());
    render(<ExplorePage />);
    const search = await screen.findByLabelText("Find a film on the map");
    await user.type(search, "the");
    expect(screen.getByRole("list", { name: "Matching films" })).toBeInTheDocument();
    await user.tab(); // into the results: still open
    expect(screen.getByRole("button", { name: /The Shining/ })).toHaveFocus();
    await user.click(screen.getByRole("application"));
    expect(screen.queryByRole("list", { name: "Matching films" })).not.toBeInTheDocument();
    await user.click(search);
    expect(screen.getByRole("list", { name: "Matching films" })).toBeInTheDocument();
  });

  it("shows a hidden genre again when a film of it is picked by title", async () => {
    const user = userEvent.setup();
    mockedMap.mockResolvedValue(catalogMap());
    render(<ExplorePage />);
    await user.click(await waitFor(() => legendButton(/^Horror/)));
    expect(legendButton(/^Horror/)).toHaveAttribute("aria-pressed", "false");
    await user.type(screen.getByLabelText("Find a film on the map"), "shining");
    await user.click(screen.getByRole("button", { name: /The Shining/ }));
    expect(legendButton(/^Horror/)).toHaveAttribute("aria-pressed", "true");
  });

  it("offers Retry when the film cannot be loaded, and says when it left the catalog", async () => {
    const user = userEvent.setup();
    mockedMap.mockResolvedValue(catalogMap());
    mockedMovie
      .mockRejectedValueOnce(new ApiError("network", "Cannot reach Marquee."))
      .mockResolvedValueOnce(movieFor(POINTS[1] as MapPoint))
      .mockRejectedValueOnce(new ApiError("not_found", "Not found.", { status: 404 }));
    render(<ExplorePage />);
    const search = await screen.findByLabelText("Find a film on the map");
    await user.type(search, "parasite");
    await user.keyboard("{Enter}");
    const panel = screen.getByRole("complementary");
    const alert = await within(panel).findByRole("alert");
    expect(alert).toHaveTextContent("Cannot reach Marquee.");
    await user.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await within(panel).findByRole("heading", { name: "Parasite" })).toBeInTheDocument();

    await user.type(search, "totoro");
    await user.keyboard("{Enter}");
    expect(await screen.findByText("My Neighbor Totoro (1988) is no longer in the catalog.")).toBeInTheDocument();
    expect(within(screen.getByRole("complementary")).queryByRole("button", { name: "Retry" })).toBeNull();
  });
});
