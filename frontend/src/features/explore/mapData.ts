// The map's points in the shapes the canvas and the page need: flat typed arrays for drawing and
// hit-testing, the genres present (the legend), and title search. Pure functions.

import type { MapPoint } from "../../api/types";
import { genreColor } from "../movies/genreColors";
import { buildGrid, type GridIndex } from "./mapView";

export const NO_GENRE = "No genre";

export interface LegendGenre {
  /** The genre's name as the API sends it ("" for films without one). */
  genre: string;
  label: string;
  color: string;
  count: number;
}

export interface PreparedMap {
  points: MapPoint[];
  xs: Float32Array;
  ys: Float32Array;
  /** Index into `genres` of each point's genre. */
  genreOf: Uint16Array;
  /** The genres present, most films first. */
  genres: LegendGenre[];
  /** Point indices of each genre slot: drawn one fill per genre. */
  members: Int32Array[];
  grid: GridIndex;
  /** Lower-cased, accent-free titles, for search. */
  keys: string[];
  /** Point index by film id. */
  byId: Map<number, number>;
}

/** Lower case without accents or punctuation runs: "Amélie!" and "amelie" match. */
export function searchKey(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export function prepareMap(points: MapPoint[]): PreparedMap {
  const n = points.length;
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  const genreOf = new Uint16Array(n);
  const slot = new Map<string, number>();
  const counts: number[] = [];
  const names: string[] = [];
  const keys: string[] = new Array<string>(n);
  const byId = new Map<number, number>();
  points.forEach((point, i) => {
    xs[i] = Number.isFinite(point.x) ? point.x : 0;
    ys[i] = Number.isFinite(point.y) ? point.y : 0;
    const genre = point.genre ?? "";
    let g = slot.get(genre);
    if (g === undefined) {
      g = names.length;
      slot.set(genre, g);
      names.push(genre);
      counts.push(0);
    }
    genreOf[i] = g;
    counts[g] = (counts[g] ?? 0) + 1;
    keys[i] = searchKey(point.title);
    byId.set(point.id, i);
  });
  // Legend order: most films first, then by name; the slots keep their first-seen numbering.
  const order = names
    .map((genre, g) => ({ genre, g, count: counts[g] ?? 0 }))
    .sort((a, b) => b.count - a.count || a.genre.localeCompare(b.genre));
  const remap = new Uint16Array(names.length);
  order.forEach((entry, position) => {
    remap[entry.g] = position;
  });
  const members = order.map((entry) => new Int32Array(entry.count));
  const filled = new Int32Array(order.length);
  for (let i = 0; i < n; i += 1) {
    const g = remap[genreOf[i] ?? 0] ?? 0;
    genreOf[i] = g;
    const at = filled[g] ?? 0;
    const list = members[g];
    if (list) list[at] = i;
    filled[g] = at + 1;
  }
  const genres = order.map(({ genre, count }) => ({
    genre,
    label: genre || NO_GENRE,
    color: genreColor(genre),
    count,
  }));
  return { points, xs, ys, genreOf, genres, members, grid: buildGrid(xs, ys), keys, byId };
}

/**
 * Up to `limit` point indices whose titles match `query`: titles starting with it first, then
 * titles with a word starting with it, then titles containing it; shorter titles first in each.
 */
export function searchTitles(map: Pick<PreparedMap, "keys" | "points">, query: string, limit = 8): number[] {
  const q = searchKey(query);
  if (!q) return [];
  const ranked: { index: number; rank: number; length: number }[] = [];
  map.keys.forEach((key, index) => {
    const at = key.indexOf(q);
    if (at < 0) return;
    const rank = at === 0 ? 0 : key[at - 1] === " " ? 1 : 2;
    ranked.push({ index, rank, length: key.length });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.length - b.length || a.index - b.index);
  return ranked.slice(0, limit).map((entry) => entry.index);
}

export function titleWithYear(point: Pick<MapPoint, "title" | "year">): string {
  return point.year ? `${point.title} (${point.year})` : point.title;
}
