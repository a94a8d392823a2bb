// The graph the view shows: nodes and edges of one or more lineage answers, merged, so that a node can
// be expanded in place instead of drawing thousands of nodes at once.
import type { AssertionState, LineageNode, LineageResponse } from "./api";

export type Kind = "dataset" | "job" | "model" | "deployment" | "run";

export interface ViewGraph {
  nodes: Map<string, LineageNode>;
  edges: Map<string, { source: string; target: string; type: string | null; declared: boolean }>;
  /** Nodes whose neighbours beyond them were not fetched yet (they can be expanded). */
  frontier: Set<string>;
  isPartial: boolean;
}

export const emptyGraph = (): ViewGraph => ({ nodes: new Map(), edges: new Map(), frontier: new Set(), isPartial: false });

const MODEL_TYPES = new Set(["model", "ml_model", "mlmodel"]);

export function kindOf(node: LineageNode): Kind {
  if (node.type === "JOB") return "job";
  if (node.type === "RUN") return "run";
  const subtype = node.data.type;
  if (typeof subtype === "string" && MODEL_TYPES.has(subtype.toLowerCase())) return "model";
  if (subtype === "DEPLOYMENT") return "deployment"; // ml.log_deployment: downstream of a model version
  return "dataset";
}

/** Adds one answer to the graph; its nodes at the answer's depth limit become the frontier. */
export function mergeAnswer(graph: ViewGraph, answer: LineageResponse, expanded?: string): ViewGraph {
  const nodes = new Map(graph.nodes);
  const edges = new Map(graph.edges);
  const frontier = new Set(graph.frontier);
  if (expanded) frontier.delete(expanded);
  for (const node of answer.graph) {
    const known = nodes.has(node.id);
    nodes.set(node.id, node);
    const depth = typeof node.data.depth === "number" ? node.data.depth : 0;
    if (!known && depth >= answer.depth && answer.depth > 0) frontier.add(node.id);
    if (known && depth < answer.depth) frontier.delete(node.id);
    for (const e of [...node.inEdges, ...node.outEdges]) {
      edges.set(`${e.origin}\u0000${e.destination}`, { source: e.origin, target: e.destination, type: e.type, declared: Boolean(e.declared) });
    }
  }
  for (const [key, e] of edges) if (!nodes.has(e.source) || !nodes.has(e.target)) edges.delete(key);
  return { nodes, edges, frontier, isPartial: graph.isPartial || answer.isPartial };
}

/** The node's assertion state when its current version has data quality assertions. */
export function assertionsOf(node: LineageNode): AssertionState | null {
  const state = node.data.assertions as AssertionState | null | undefined;
  return state && typeof state.failing === "number" ? state : null;
}
