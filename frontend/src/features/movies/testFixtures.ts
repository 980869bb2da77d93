// Test data for the movies feature's tests.
import type { Movie } from "../../api/types";

export function makeMovie(overrides: Partial<Movie> = {}): Movie {
  return {
    id: 680,
    title: "Pulp Fiction",
    year: 1994,
    genres: ["Crime", "Thriller"],
    overview: "A burger-loving hit man, his philosophical partner and a washed-up boxer converge.",
    poster_url: "https://image.tmdb.org/t/p/w342/pulp.jpg",
    vote_average: 8.49,
    vote_count: 12345,
    runtime: 154,
    original_language: "en",
    score: 0.9,
    reason: "Sharp dialogue and a non-linear plot, like the films you mentioned.",
    ...overrides,
  };
}
