// Calls to the lineage REST API of this plugin (same origin: the Airflow UI's `_token` cookie
// authenticates them). Every name from data stays data: it is rendered as text by React, never as HTML.

export type Direction = "upstream" | "downstream" | "both";

export interface LineageEdge {
  origin: string;
  destination: string;
  type: "input" | "output" | "declared" | null;
  /** Declared by a producer (the OpenLineage lineage facet), not seen in a run: drawn dashed. */
  declared?: boolean;
}

/** Data quality assertions one run reported on a dataset (dataQualityAssertions). */
export interface AssertionReport {
  dataset?: string;
  runId: string;
  version: string | null;
  time: string | null;
  failing: number;
  total: number;
  assertions: { assertion?: string; success?: boolean; column?: string; name?: string; severity?: string }[];
}

/** A dataset's assertion state in a lineage answer: the latest report on its current version. */
export interface AssertionState {
  failing: number;
  total: number;
  runId: string;
  version: string | null;
}

export interface LineageNode {
  id: string;
  type: "DATASET" | "JOB" | "RUN";
  data: Record<string, unknown> & { depth?: number; name?: string; namespace?: string };
  inEdges: LineageEdge[];
  outEdges: LineageEdge[];
}

export interface LineageResponse {
  graph: LineageNode[];
  root: string;
  direction: Direction;
  depth: number;
  asOf: string | null;
  isPartial: boolean;
}

export interface SearchResult {
  type: "DATASET" | "JOB" | "RUN";
  name: string;
  namespace: string;
  nodeId: string;
  updatedAt: string | null;
}

export interface Run {
  id: string;
  state: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  createdAt: string | null;
  facets: Record<string, unknown>;
  assertions?: AssertionReport[];
  tests?: { name?: string; status?: string; severity?: string; type?: string }[];
}

export interface Field {
  name: string;
  type: string | null;
  description: string | null;
  tags?: string[];
}

export interface Dataset {
  name: string;
  namespace: string;
  type: string;
  fields: Field[];
  facets: Record<string, unknown>;
  currentVersion: string | null;
  updatedAt: string | null;
  description: string | null;
  tags?: string[];
}

export interface ModelSummary {
  id: string;
  currentVersion: string | null;
  framework: string | null;
  metrics: Record<string, unknown>;
}

export interface DatasetVersion {
  version: string;
  createdAt: string | null;
  createdByRun: Run | null;
  fields: Field[];
  assertions?: AssertionReport[];
}

export interface Job {
  name: string;
  namespace: string;
  jobType: string | null;
  type: string;
  facets: Record<string, unknown>;
  latestRuns: Run[];
  inputs: { namespace: string; name: string }[];
  outputs: { namespace: string; name: string }[];
  description: string | null;
  location: string | null;
}

export interface ImpactNode {
  id: string;
  type: "dataset" | "job";
  namespace: string;
  name: string;
  depth: number;
  failingAssertions?: number | null;
}

export interface ImpactResponse {
  root: string;
  depth: number;
  isPartial: boolean;
  nodes: ImpactNode[];
}

/** Everything downstream of a node, counted (GET impact/summary): most first in each list. */
export interface ImpactSummary {
  root: string;
  depth: number;
  asOf: string | null;
  total: number;
  byType: { kind: "dataset" | "job"; type: string | null; count: number }[];
  byNamespace: { namespace: string; count: number }[];
  byOwner: { owner: string; count: number }[];
  unowned: number;
  dags: { dagId: string; namespace: string; jobs: number }[];
  jobsWithoutDag: number;
}

/** One page of everything downstream (GET impact/nodes): nearest first; total counts every page. */
export interface ImpactPage {
  root: string;
  depth: number;
  asOf: string | null;
  total: number;
  offset: number;
  nodes: ImpactNode[];
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The API root, relative to this page (served at <base>/lineage/ui/). */
export function apiUrl(path: string, params: Record<string, string | number | boolean | undefined> = {}): string {
  const url = new URL(`../api/v1/${path}`, window.location.href);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** One path segment: names may hold "/" and ":" (the API decodes %2F in path parameters). */
export const seg = (value: string) => encodeURIComponent(value);

export async function getJson<T>(path: string, params: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
  const response = await fetch(apiUrl(path, params), { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
      else if (Array.isArray(body.detail)) detail = body.detail.map((d: { msg?: string }) => d.msg ?? "").join("; ");
    } catch {
      /* not JSON: keep the status text */
    }
    if (response.status === 401) detail = "Your Airflow session has ended: log in again.";
    throw new ApiError(response.status, detail);
  }
  return (await response.json()) as T;
}

/** "dataset:<ns>:<name>" -> its parts, from the node's own data when it has them. */
export function nodeParts(node: LineageNode): { kind: string; namespace: string; name: string } {
  const data = node.data;
  if (node.type === "DATASET" || node.type === "JOB") {
    const ns = typeof data.namespace === "string" ? data.namespace : "";
    const name = typeof data.name === "string" ? data.name : node.id;
    return { kind: node.type.toLowerCase(), namespace: ns, name };
  }
  return { kind: "run", namespace: "", name: node.id };
}
