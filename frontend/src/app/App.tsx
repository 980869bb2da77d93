import { lazy, Suspense } from "react";
import { ChatPage } from "../features/chat/ChatPage";
import { usePage } from "./router";

// The map is only loaded when someone opens Explore: the chat page stays small.
const ExplorePage = lazy(() => import("../features/explore/ExplorePage"));

export function App() {
  const [page, navigate] = usePage();
  const link = (target: typeof page, label: string, href: string) => (
    <a
      href={href}
      aria-current={page === target ? "page" : undefined}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(target);
      }}
    >
      {label}
    </a>
  );
  return (
    <div className="app">
      <header className="app-header">
        <p className="app-brand">Marquee</p>
        <nav className="app-nav" aria-label="Main">
          {link("chat", "Chat", "/")}
          {link("explore", "Explore", "/explore")}
        </nav>
      </header>
      <main className="app-main">
        {page === "chat" ? (
          <ChatPage />
        ) : (
          <Suspense fallback={<p role="status">Loading the map…</p>}>
            <ExplorePage />
          </Suspense>
        )}
      </main>
    </div>
  );
}
