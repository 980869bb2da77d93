// Two pages, so no router library: the path decides, links push history entries.
import { useEffect, useState } from "react";

export type Page = "chat" | "explore";

export function pageOf(pathname: string): Page {
  return /^\/explore\/?$/.test(pathname) ? "explore" : "chat";
}

export function usePage(): [Page, (page: Page) => void] {
  const [page, setPage] = useState<Page>(() => pageOf(window.location.pathname));
  useEffect(() => {
    const onPop = () => setPage(pageOf(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = (next: Page) => {
    const path = next === "explore" ? "/explore" : "/";
    if (window.location.pathname !== path) window.history.pushState(null, "", path);
    setPage(next);
  };
  return [page, navigate];
}
