// A small history router: the dashboard has a handful of routes, which does not need a library.
import { createContext, useContext, useEffect, useState, type MouseEvent, type ReactNode } from "react";

interface Location {
  path: string;
  search: URLSearchParams;
}

const RouterContext = createContext<{ location: Location; navigate: (to: string) => void }>({
  location: { path: "/", search: new URLSearchParams() },
  navigate: () => {},
});

function current(): Location {
  return { path: window.location.pathname, search: new URLSearchParams(window.location.search) };
}

export function Router({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  const navigate = (to: string) => {
    if (to !== window.location.pathname + window.location.search) window.history.pushState(null, "", to);
    setLocation(current());
    window.scrollTo(0, 0);
  };
  return <RouterContext.Provider value={{ location, navigate }}>{children}</RouterContext.Provider>;
}

export function useRouter() {
  return useContext(RouterContext);
}

export function Link(props: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  const { navigate } = useRouter();
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} aria-current={props.current ? "page" : undefined}>
      {props.children}
    </a>
  );
}
