// One colour per TMDB genre, shared by poster placeholders and the Explore map. Chosen to stay
// distinguishable from each other and to carry white text at a contrast of at least 4.5:1.

const GENRE_COLORS: Record<string, string> = {
  Action: "#b3261e",
  Adventure: "#a4510b",
  Animation: "#8a5a00",
  Comedy: "#6b6b00",
  Crime: "#4a4a4a",
  Documentary: "#3d6b1f",
  Drama: "#1f6b4a",
  Family: "#00696b",
  Fantasy: "#1f5f8b",
  History: "#5c4a2e",
  Horror: "#6b1f3d",
  Music: "#8b1f6b",
  Mystery: "#4a2e8b",
  Romance: "#a3214f",
  "Science Fiction": "#2e4a9e",
  "TV Movie": "#5a5a72",
  Thriller: "#3d3d6b",
  War: "#5e5a3a",
  Western: "#7a4a1f",
};

const FALLBACK = "#55606e";

export const GENRES = Object.keys(GENRE_COLORS);

export function genreColor(genre: string | undefined | null): string {
  return (genre && GENRE_COLORS[genre]) || FALLBACK;
}
