import { fireEvent, render, screen } from "@testing-library/react";
import { Poster } from "./Poster";
import { makeMovie } from "./testFixtures";

describe("Poster", () => {
  it("shows the poster image with alt text, lazy loading and a 2:3 size", () => {
    render(<Poster movie={makeMovie()} />);
    const image = screen.getByRole("img", { name: "Poster of Pulp Fiction" });
    expect(image.tagName).toBe("IMG");
    expect(image).toHaveAttribute("src", "https://image.tmdb.org/t/p/w342/pulp.jpg");
    expect(image).toHaveAttribute("loading", "lazy");
    const width = Number(image.getAttribute("width"));
    const height = Number(image.getAttribute("height"));
    expect(width).toBeGreaterThan(0);
    expect(height / width).toBeCloseTo(1.5);
  });

  it("shows a genre-coloured placeholder with title and year when there is no poster", () => {
    render(<Poster movie={makeMovie({ poster_url: null, genres: ["Horror"] })} />);
    const placeholder = screen.getByRole("img", { name: "No poster: Pulp Fiction" });
    expect(placeholder.tagName).not.toBe("IMG");
    expect(placeholder).toHaveTextContent("Pulp Fiction");
    expect(placeholder).toHaveTextContent("1994");
    expect(placeholder).toHaveStyle({ backgroundColor: "#6b1f3d" });
    expect(document.querySelector("img")).toBeNull();
  });

  it("replaces an image that fails to load by the placeholder", () => {
    render(<Poster movie={makeMovie()} size="small" />);
    fireEvent.error(screen.getByRole("img", { name: "Poster of Pulp Fiction" }));
    expect(screen.getByRole("img", { name: "No poster: Pulp Fiction" })).toBeInTheDocument();
    expect(document.querySelector("img")).toBeNull();
  });

  it("gives a new poster URL its own chance after a failure", () => {
    const { rerender } = render(<Poster movie={makeMovie()} />);
    fireEvent.error(screen.getByRole("img"));
    rerender(<Poster movie={makeMovie({ poster_url: "/media/other.jpg" })} />);
    expect(screen.getByRole("img", { name: "Poster of Pulp Fiction" })).toHaveAttribute("src", "/media/other.jpg");
  });

  it("does not use non-http URLs as image sources", () => {
    render(<Poster movie={makeMovie({ poster_url: "javascript:alert(1)" })} />);
    expect(screen.getByRole("img", { name: "No poster: Pulp Fiction" })).toBeInTheDocument();
    expect(document.querySelector("img")).toBeNull();
  });
});
