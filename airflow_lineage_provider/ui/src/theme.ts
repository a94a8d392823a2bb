// Follow the Airflow UI's colour mode. The view is an iframe of the same origin, so the parent
// document's <html> class ("light" or "dark", set by the Airflow UI) can be read and observed.
// Opened on its own, the view follows the operating system's preference.

export type Mode = "light" | "dark";

function parentRoot(): HTMLElement | null {
  try {
    if (window.parent !== window) return window.parent.document.documentElement;
  } catch {
    /* another origin: no access */
  }
  return null;
}

export function currentMode(): Mode {
  const root = parentRoot();
  if (root) {
    if (root.classList.contains("dark")) return "dark";
    if (root.classList.contains("light")) return "light";
    const scheme = root.style.colorScheme;
    if (scheme === "dark" || scheme === "light") return scheme;
  }
  const forced = new URLSearchParams(window.location.search).get("theme");
  if (forced === "dark" || forced === "light") return forced;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Calls `onChange` whenever the mode may have changed; returns the unsubscribe function. */
export function watchMode(onChange: (mode: Mode) => void): () => void {
  const root = parentRoot();
  const notify = () => onChange(currentMode());
  const observer = root ? new MutationObserver(notify) : null;
  observer?.observe(root as Node, { attributes: true, attributeFilter: ["class", "style"] });
  const media = window.matchMedia?.("(prefers-color-scheme: dark)");
  media?.addEventListener("change", notify);
  return () => {
    observer?.disconnect();
    media?.removeEventListener("change", notify);
  };
}
