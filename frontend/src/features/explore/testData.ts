// Shared fixtures of the Explore tests.
import type { CatalogMap, MapPoint, Movie } from "../../api/types";

export const POINTS: MapPoint[] = [
  { id: 27205, title: "Inception", year: 2010, genre: "Action", x: 0.5, y: 0.5 },
  { id: 496243, title: "Parasite", year: 2019, genre: "Comedy", x: -0.5, y: 0.2 },
  { id: 671, title: "Harry Potter and the Philosopher's Stone", year: 2001, genre: "Adventure", x: 0, y: -0.8 },
  { id: 8392, title: "My Neighbor Totoro", year: 1988, genre: "Fantasy", x: -0.2, y: -0.3 },
  { id: 694, title: "The Shining", year: 1980, genre: "Horror", x: 1, y: -1 },
  { id: 9377, title: "Ferris Bueller's Day Off", year: 1986, genre: "Comedy", x: -1, y: 1 },
  { id: 1, title: "Amélie", year: 2001, genre: "", x: 0, y: 0 },
];

export function catalogMap(points: MapPoint[] = POINTS): CatalogMap {
  return { method: "pca", count: points.length, points };
}

export function movieFor(point: MapPoint): Movie {
  return {
    id: point.id,
    title: point.title,
    year: point.year,
    genres: point.genre ? [point.genre] : [],
    overview: `About ${point.title}.`,
    poster_url: null,
    vote_average: 7.5,
    vote_count: 100,
    runtime: 120,
    original_language: "en",
    score: null,
    reason: "",
  };
}
