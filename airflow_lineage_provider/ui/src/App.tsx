// The Lineage view: search a node, see its lineage as a graph (upstream, downstream or both, to a
// chosen depth), open a node's details, list and download what is downstream (its impact).
// With ?dag_id=<id> (the DAG page's Lineage tab) it shows what that DAG reads and writes instead.
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, type Direction, getJson, type LineageResponse } from "./api";
import { emptyGraph, mergeAnswer, type ViewGraph } from "./graph";
import { GraphView } from "./GraphView";
import { SearchBox } from "./SearchBox";
import { SidePanel } from "./SidePanel";
import { currentMode, type Mode, watchMode } from "./theme";

const NODE_LIMIT = 250;
const EXPAND_DEPTH = 2;

interface Focus {
  node?: string;
  dagId?: string;
}

function readLocation(): { focus: Focus; direction: Direction; depth: number } {
  const params = new URLSearchParams(window.location.search);
  const direction = params.get("direction");
  const depth = Number(params.get("depth"));
  return {
    focus: { node: params.get("node") ?? undefined, dagId: params.get("dag_id") ?? undefined },
    direction: direction === "upstream" || direction === "downstream" ? direction : "both",
    depth: Number.isInteger(depth) && depth >= 1 && depth <= 20 ? depth : 4,
  };
}

function writeLocation(focus: Focus, direction: Direction, depth: number) {
  const params = new URLSearchParams();
  if (focus.dagId) params.set("dag_id", focus.dagId);
  if (focus.node) params.set("node", focus.node);
  params.set("direction", direction);
  params.set("depth", String(depth));
  window.history.replaceState(null, "", `?${params.toString()}`);
}

export function App() {
  const initial = useMemo(readLocation, []);
  const [mode, setMode] = useState<Mode>(currentMode());
  const [focus, setFocus] = useState<Focus>(initial.focus);
  const [direction, setDirection] = useState<Direction>(initial.direction);
  const [depth, setDepth] = useState<number>(initial.depth);
  const [graph, setGraph] = useState<ViewGraph>(emptyGraph());
  const [root, setRoot] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => watchMode(setMode), []);
  useEffect(() => {
    document.documentElement.dataset.theme = mode;
  }, [mode]);

  useEffect(() => {
    writeLocation(focus, direction, depth);
    if (!focus.node && !focus.dagId) {
      setGraph(emptyGraph());
      setRoot(null);
      return;
    }
    let cancelled = false;
    setLoading(true);
    setError(null);
    const request = focus.dagId
      ? getJson<LineageResponse>(`dags/${encodeURIComponent(focus.dagId)}/lineage`, { depth, direction, limit: NODE_LIMIT })
      : getJson<LineageResponse>("lineage", { nodeId: focus.node, depth, direction, limit: NODE_LIMIT });
    request
      .then((answer) => {
        if (cancelled) return;
        setGraph(mergeAnswer(emptyGraph(), answer));
        setRoot(answer.root);
        setSelected((current) => current ?? (focus.node ? answer.root : null));
      })
      .catch((err: unknown) => {
        if (cancelled) return;
        setGraph(emptyGraph());
        setRoot(null);
        if (err instanceof ApiError && err.status === 404 && focus.dagId) {
          setError(`No lineage recorded for DAG ${focus.dagId} yet: it appears after the DAG's next run.`);
        } else setError(err instanceof Error ? err.message : String(err));
      })
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [focus, direction, depth]);

  const expand = useCallback(
    (nodeId: string) => {
      setLoading(true);
      getJson<LineageResponse>("lineage", { nodeId, depth: EXPAND_DEPTH, direction, limit: NODE_LIMIT })
        .then((answer) => setGraph((g) => mergeAnswer(g, answer, nodeId)))
        .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
        .finally(() => setLoading(false));
    },
    [direction],
  );

  const openNode = useCallback((nodeId: string) => {
    setSelected(nodeId);
    setFocus({ node: nodeId });
  }, []);

  const selectedNode = selected ? (graph.nodes.get(selected) ?? null) : null;

  return (
    <div className="app">
      <header className="toolbar">
        <h1 className="title">Lineage</h1>
        {focus.dagId ? (
          <span className="dag-chip" data-testid="dag-chip">
            DAG <strong>{focus.dagId}</strong>
          </span>
        ) : null}
        <SearchBox onPick={openNode} />
        <label className="control">
          Direction
          <select aria-label="Direction" value={direction} onChange={(e) => setDirection(e.target.value as Direction)}>
            <option value="upstream">Upstream</option>
            <option value="downstream">Downstream</option>
            <option value="both">Both</option>
          </select>
        </label>
        <label className="control">
          Depth
          <input
            aria-label="Depth"
            type="number"
            min={1}
            max={20}
            value={depth}
            onChange={(e) => {
              const value = Number(e.target.value);
              if (Number.isInteger(value) && value >= 1 && value <= 20) setDepth(value);
            }}
          />
        </label>
        <Legend />
        {loading ? <span className="muted" role="status">Loading…</span> : null}
      </header>
      {error ? (
        <div className="banner error" role="alert">
          {error}
        </div>
      ) : null}
      {graph.isPartial ? (
        <div className="banner" role="note">
          Large graph: showing the {graph.nodes.size} nearest nodes. Expand a node (＋) to see beyond it.
        </div>
      ) : null}
      <main className="content">
        {graph.nodes.size > 0 ? (
          <GraphView graph={graph} root={root} dagId={focus.dagId} selected={selected} onSelect={setSelected} onExpand={expand} mode={mode} />
        ) : (
          <div className="empty" data-testid="empty">
            {loading ? "" : focus.node || focus.dagId ? "Nothing to show." : "Search a dataset, job or model to see where its data comes from and where it goes."}
          </div>
        )}
        {selectedNode ? (
          <SidePanel key={selectedNode.id} node={selectedNode} graph={graph} onClose={() => setSelected(null)} onFocus={openNode} />
        ) : null}
      </main>
    </div>
  );
}

function Legend() {
  return (
    <span className="legend" aria-label="Legend">
      <span className="swatch dataset" /> dataset <span className="swatch job" /> job <span className="swatch model" /> model <span className="swatch deployment" /> deployment
    </span>
  );
}
