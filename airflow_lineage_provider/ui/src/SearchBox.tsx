// Search by part of a name (case-insensitive); picking a result focuses the graph on it.
import { useEffect, useRef, useState } from "react";
import { getJson, type SearchResult } from "./api";

export function SearchBox({ onPick }: { onPick: (nodeId: string) => void }) {
  const [text, setText] = useState("");
  const [results, setResults] = useState<SearchResult[]>([]);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const q = text.trim();
    if (!q) {
      setResults([]);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(() => {
      getJson<{ results: SearchResult[] }>("search", { q, limit: 20 })
        .then((body) => {
          if (!cancelled) {
            setResults(body.results);
            setError(null);
            setOpen(true);
          }
        })
        .catch((err: unknown) => !cancelled && setError(err instanceof Error ? err.message : String(err)));
    }, 200);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [text]);

  useEffect(() => {
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, []);

  return (
    <div className="search" ref={box}>
      <input
        type="search"
        placeholder="Search datasets, jobs, models…"
        aria-label="Search lineage"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onFocus={() => results.length && setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && results.length) {
            onPick(results[0].nodeId);
            setOpen(false);
          }
          if (e.key === "Escape") setOpen(false);
        }}
      />
      {open && text.trim() ? (
        <ul className="results" role="listbox" aria-label="Search results">
          {error ? <li className="muted">{error}</li> : null}
          {!error && results.length === 0 ? <li className="muted">No dataset or job matches “{text.trim()}”.</li> : null}
          {results.map((r) => (
            <li key={r.nodeId} role="option" aria-selected={false}>
              <button
                type="button"
                onClick={() => {
                  onPick(r.nodeId);
                  setOpen(false);
                }}
              >
                <span className={`badge ${r.type.toLowerCase()}`}>{r.type.toLowerCase()}</span>
                <span className="result-name">{r.name}</span>
                <span className="result-ns">{r.namespace}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
