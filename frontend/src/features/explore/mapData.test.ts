import { describe, expect, it } from "vitest";
import type { MapPoint } from "../../api/types";
import { genreColor } from "../movies/genreColors";
import { NO_GENRE, prepareMap, searchKey, searchTitles, titleWithYear } from "./mapData";
import { nearestPoint } from "./mapView";
import { POINTS } from "./testData";

describe("prepareMap", () => {
  const map = prepareMap(POINTS);

  it("lists the genres present, most films first, with their colours", () => {
    expect(map.genres.map((g) => [g.label, g.count])).toEqual([
      ["Comedy", 2],
      [NO_GENRE, 1],
      ["Action", 1],
      ["Adventure", 1],
      ["Fantasy", 1],
      ["Horror", 1],
    ]);
    expect(map.genres[0]?.color).toBe(genreColor("Comedy"));
    expect(map.genres[1]?.genre).toBe("");
  });

  it("keeps coordinates, genre slots and per-genre members consistent", () => {
    POINTS.forEach((point, i) => {
      expect(map.xs[i]).toBeCloseTo(point.x, 6);
      expect(map.ys[i]).toBeCloseTo(point.y, 6);
      const slot = map.genreOf[i] ?? -1;
      expect(map.genres[slot]?.genre).toBe(point.genre);
      expect([...(map.members[slot] ?? [])]).toContain(i);
      expect(map.byId.get(point.id)).toBe(i);
    });
    expect(map.members.reduce((sum, list) => sum + list.length, 0)).toBe(POINTS.length);
    // The grid indexes the same coordinates.
    expect(nearestPoint(map.grid, 0.5, 0.5, 0.01)).toBe(0);
  });

  it("copes with no points and with broken coordinates", () => {
    const empty = prepareMap([]);
    expect(empty.genres).toEqual([]);
    expect(empty.xs).toHaveLength(0);
    const broken = prepareMap([{ id: 1, title: "X", year: null, genre: "Drama", x: Number.NaN, y: 0.5 }]);
    expect(broken.xs[0]).toBe(0);
  });
});

describe("search", () => {
  it("normalises case, accents and punctuation", () => {
    expect(searchKey("  Amélie! ")).toBe("amelie");
    expect(searchKey("Ferris Bueller's Day-Off")).toBe("ferris bueller s day off");
    expect(searchKey("")).toBe("");
  });

  it("ranks title prefixes, then word prefixes, then inner matches, shorter first", () => {
    const points: MapPoint[] = ["The Star", "Starship Troopers", "Star Wars", "Lone Star", "Mustard"].map(
      (title, i) => ({ id: i, title, year: null, genre: "", x: 0, y: 0 }),
    );
    const map = prepareMap(points);
    const titles = (query: string, limit?: number) =>
      searchTitles(map, query, limit).map((index) => points[index]?.title);
    expect(titles("star")).toEqual(["Star Wars", "Starship Troopers", "The Star", "Lone Star", "Mustard"]);
    expect(titles("STAR", 2)).toEqual(["Star Wars", "Starship Troopers"]);
    expect(titles("  ")).toEqual([]);
    expect(titles("nothing like it")).toEqual([]);
  });

  it("finds accented titles from plain letters", () => {
    const map = prepareMap(POINTS);
    expect(searchTitles(map, "amelie").map((i) => POINTS[i]?.id)).toEqual([1]);
  });

  it("writes the year only when known", () => {
    expect(titleWithYear({ title: "Inception", year: 2010 })).toBe("Inception (2010)");
    expect(titleWithYear({ title: "Untitled", year: null })).toBe("Untitled");
  });
});
