// Details of one node: schema, facets, versions and the runs and SQL that produced it (datasets), or a
// job's runs with state and duration and its SQL; and everything downstream of it (impact): counted,
// listed page by page, and to download.
import { useEffect, useState } from "react";
import {
  apiUrl,
  type Dataset,
  type DatasetVersion,
  getJson,
  type ImpactPage,
  type ImpactSummary,
  type Job,
  type LineageNode,
  type ModelSummary,
  nodeParts,
  type Run,
  seg,
} from "./api";
import { Assertions, RunChecks } from "./Checks";
import { assertionsOf, kindOf, type ViewGraph } from "./graph";

interface Props {
  node: LineageNode;
  graph: ViewGraph;
  onClose: () => void;
  onFocus: (id: string) => void;
}

function useFetch<T>(path: string | null, params: Record<string, string | number> = {}): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  const key = path ? `${path}?${new URLSearchParams(params as Record<string, string>).toString()}` : null;
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    setState({ data: null, error: null });
    getJson<T>(path, params)
      .then((data) => !cancelled && setState({ data, error: null }))
      .catch((err: unknown) => !cancelled && setState({ data: null, error: err instanceof Error ? err.message : String(err) }));
    return () => {
      cancelled = true;
    };
  }, [key]);
  return state;
}

function when(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value.endsWith("Z") || /[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function sqlOf(facets: Record<string, unknown>): string | null {
  const sql = facets.sql as { query?: unknown } | undefined;
  return sql && typeof sql.query === "string" ? sql.query : null;
}

function Facets({ facets }: { facets: Record<string, unknown> }) {
  const names = Object.keys(facets).sort();
  if (!names.length) return <p className="muted">No facets.</p>;
  return (
    <div className="facets">
      {names.map((name) => (
        <details key={name}>
          <summary>{name}</summary>
          <pre>{JSON.stringify(facets[name], null, 2)}</pre>
        </details>
      ))}
    </div>
  );
}

function Runs({ runs }: { runs: Run[] }) {
  if (!runs.length) return <p className="muted">No runs recorded.</p>;
  return (
    <table className="runs" data-testid="runs">
      <thead>
        <tr>
          <th>State</th>
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id} title={`run ${run.id}`}>
            <td>
              <span className={`state ${run.state.toLowerCase()}`}>{run.state.toLowerCase()}</span>
            </td>
            <td>{when(run.startedAt ?? run.createdAt)}</td>
            <td>{duration(run.durationMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function JobDetails({ namespace, name, title }: { namespace: string; name: string; title?: string }) {
  const { data: job, error } = useFetch<Job>(`namespaces/${seg(namespace)}/jobs/${seg(name)}`);
  if (error) return <p className="error">{error}</p>;
  if (!job) return <p className="muted">Loading…</p>;
  const sql = sqlOf(job.facets);
  return (
    <div className="job-details">
      {title ? <h3>{title}</h3> : null}
      {job.jobType ? <p className="muted">{job.jobType.toLowerCase()} job</p> : null}
      {job.description ? <p>{job.description}</p> : null}
      {sql ? (
        <>
          <h4>SQL</h4>
          <pre className="sql" data-testid="sql">
            {sql}
          </pre>
        </>
      ) : null}
      <h4>Last runs</h4>
      <Runs runs={job.latestRuns.slice(0, 10)} />
      <RunChecks runs={job.latestRuns} />
      {title ? null : (
        <>
          <h4>Facets</h4>
          <Facets facets={job.facets} />
        </>
      )}
    </div>
  );
}

// The metrics of a model's current version: logged naming it, or in the run that wrote it.
function ModelMetrics({ nodeId }: { nodeId: string }) {
  const { data, error } = useFetch<{ models: ModelSummary[] }>("ml/models", { nodeId });
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  const model = data.models[0];
  const names = model ? Object.keys(model.metrics).sort() : [];
  if (!model || !names.length) return <p className="muted">No metrics recorded for the current version.</p>;
  return (
    <table className="schema" data-testid="model-metrics" title={`version ${model.currentVersion ?? ""}`}>
      <thead>
        <tr>
          <th>Metric</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {names.map((name) => (
          <tr key={name}>
            <td>{name}</td>
            <td>{typeof model.metrics[name] === "object" ? JSON.stringify(model.metrics[name]) : String(model.metrics[name])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function DatasetDetails({ node, graph }: { node: LineageNode; graph: ViewGraph }) {
  const { namespace, name } = nodeParts(node);
  const base = `namespaces/${seg(namespace)}/datasets/${seg(name)}`;
  const { data: dataset, error } = useFetch<Dataset>(base);
  const { data: versions } = useFetch<{ versions: DatasetVersion[]; totalCount: number }>(`${base}/versions`, { limit: 10 });
  const producers = [...graph.edges.values()].filter((e) => e.target === node.id).map((e) => graph.nodes.get(e.source)).filter((n): n is LineageNode => Boolean(n && n.type === "JOB"));
  const checks = assertionsOf(node);
  if (error) return <p className="error">{error}</p>;
  if (!dataset) return <p className="muted">Loading…</p>;
  return (
    <div>
      {dataset.description ? <p>{dataset.description}</p> : null}
      {kindOf(node) === "model" ? (
        <>
          <h4>Metrics</h4>
          <ModelMetrics nodeId={node.id} />
        </>
      ) : null}
      {checks ? (
        <p className={checks.failing ? "checks failing" : "muted"} data-testid="assertion-state">
          {checks.failing
            ? `${checks.failing} of ${checks.total} data quality assertions failed on the current version`
            : `All ${checks.total} data quality assertions passed on the current version`}
        </p>
      ) : null}
      {(dataset.tags ?? []).length ? (
        <ul className="tags" data-testid="tags" aria-label="Tags">
          {(dataset.tags ?? []).map((tag) => (
            <li key={tag} className="tag">
              {tag}
            </li>
          ))}
        </ul>
      ) : null}
      <h4>Schema</h4>
      {dataset.fields.length ? (
        <table className="schema" data-testid="schema">
          <thead>
            <tr>
              <th>Column</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {dataset.fields.map((f) => (
              <tr key={f.name}>
                <td>
                  {f.name}
                  {(f.tags ?? []).map((tag) => (
                    <span key={tag} className="tag" data-testid="field-tag">
                      {tag}
                    </span>
                  ))}
                </td>
                <td className="muted">{f.type ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No schema recorded.</p>
      )}
      <h4>Versions {versions ? <span className="muted">({versions.totalCount})</span> : null}</h4>
      {versions && versions.versions.length ? (
        <ul className="versions" data-testid="versions">
          {versions.versions.map((v) => (
            <li key={v.version}>
              <code title={v.version}>{v.version.slice(0, 12)}</code> <span className="muted">{when(v.createdAt)}</span>
              {v.createdByRun ? <span className={`state ${v.createdByRun.state.toLowerCase()}`}>{v.createdByRun.state.toLowerCase()}</span> : null}
              <Assertions reports={v.assertions ?? []} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No versions recorded.</p>
      )}
      {producers.map((p) => {
        const parts = nodeParts(p);
        return <JobDetails key={p.id} namespace={parts.namespace} name={parts.name} title={`Produced by ${parts.name}`} />;
      })}
      <h4>Facets</h4>
      <Facets facets={dataset.facets} />
    </div>
  );
}

const IMPACT_PAGE = 50;

function Counts({ title, testId, rows }: { title: string; testId: string; rows: [string, number][] }) {
  if (!rows.length) return null;
  return (
    <div className="impact-counts">
      <h5>{title}</h5>
      <table className="schema" data-testid={testId}>
        <tbody>
          {rows.map(([label, count]) => (
            <tr key={label}>
              <td>{label}</td>
              <td className="count">{count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// The counts of everything downstream: by type, namespace, affected DAG and owner.
function ImpactCounts({ nodeId }: { nodeId: string }) {
  const { data, error } = useFetch<ImpactSummary>("impact/summary", { nodeId, depth: 20 });
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Counting…</p>;
  if (!data.total) return <p className="muted">Nothing downstream: a change here breaks nothing recorded.</p>;
  return (
    <div className="impact-summary" data-testid="impact-summary">
      <p data-testid="impact-total">
        <strong>{data.total}</strong> nodes downstream
        {data.dags.length ? `, in ${data.dags.length} DAG${data.dags.length === 1 ? "" : "s"}` : ""}
        {data.jobsWithoutDag ? `; ${data.jobsWithoutDag} jobs outside Airflow DAGs` : ""}
      </p>
      <Counts title="By type" testId="impact-by-type" rows={data.byType.map((e) => [e.type ? `${e.kind} · ${e.type.toLowerCase()}` : e.kind, e.count])} />
      <Counts title="Affected DAGs (jobs)" testId="impact-dags" rows={data.dags.map((d) => [d.dagId, d.jobs])} />
      <Counts title="By namespace" testId="impact-by-namespace" rows={data.byNamespace.map((e) => [e.namespace, e.count])} />
      <Counts
        title="By owner"
        testId="impact-by-owner"
        rows={[...data.byOwner.map((e): [string, number] => [e.owner, e.count]), ...(data.unowned ? [["(no owner)", data.unowned] as [string, number]] : [])]}
      />
    </div>
  );
}

// Every downstream node, a page at a time (nearest first), through the whole set.
function ImpactList({ nodeId }: { nodeId: string }) {
  const [offset, setOffset] = useState(0);
  useEffect(() => setOffset(0), [nodeId]);
  const { data, error } = useFetch<ImpactPage>("impact/nodes", { nodeId, depth: 20, offset, limit: IMPACT_PAGE });
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  if (!data.total) return null;
  const last = Math.min(data.offset + data.nodes.length, data.total);
  return (
    <div data-testid="impact-pages">
      <div className="impact-pager">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - IMPACT_PAGE))} data-testid="impact-prev">
          ← Previous
        </button>
        <span className="muted" data-testid="impact-range">
          {data.offset + 1}–{last} of {data.total}
        </span>
        <button type="button" disabled={last >= data.total} onClick={() => setOffset(offset + IMPACT_PAGE)} data-testid="impact-next">
          Next →
        </button>
      </div>
      <ul className="impact-list" data-testid="impact-list">
        {data.nodes.map((n) => (
          <li key={n.id} title={n.id}>
            <span className={`badge ${n.type}`}>{n.type}</span> {n.name} <span className="muted">· {n.depth} hops</span>
            {n.failingAssertions ? <span className="checks failing"> ✗ {n.failingAssertions} failing</span> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Impact({ nodeId }: { nodeId: string }) {
  const csv = apiUrl("impact", { nodeId, depth: 20, format: "csv" });
  const json = apiUrl("impact", { nodeId, depth: 20, format: "json" });
  return (
    <section className="impact" data-testid="impact">
      <div className="impact-head">
        <h4>Impact: everything downstream</h4>
        <a className="button" href={csv} download="impact.csv" data-testid="impact-csv">
          CSV
        </a>
        <a className="button" href={json} download="impact.json" data-testid="impact-json">
          JSON
        </a>
      </div>
      <ImpactCounts nodeId={nodeId} />
      <ImpactList nodeId={nodeId} />
    </section>
  );
}

export function SidePanel({ node, graph, onClose, onFocus }: Props) {
  const kind = kindOf(node);
  const parts = nodeParts(node);
  const [tab, setTab] = useState<"details" | "impact">("details");
  return (
    <aside className="panel" data-testid="side-panel" aria-label="Node details">
      <div className="panel-head">
        <span className={`badge ${kind}`}>{kind}</span>
        <button type="button" className="close" aria-label="Close details" onClick={onClose}>
          ×
        </button>
      </div>
      <h2 className="panel-name">{parts.name}</h2>
      <p className="panel-ns">{parts.namespace}</p>
      <code className="node-id">{node.id}</code>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "details"} onClick={() => setTab("details")}>
          Details
        </button>
        <button type="button" role="tab" aria-selected={tab === "impact"} onClick={() => setTab("impact")}>
          Impact
        </button>
        <button type="button" className="link" onClick={() => onFocus(node.id)}>
          Center lineage here
        </button>
      </div>
      {tab === "impact" ? (
        <Impact nodeId={node.id} />
      ) : node.type === "JOB" ? (
        <JobDetails namespace={parts.namespace} name={parts.name} />
      ) : node.type === "DATASET" ? (
        <DatasetDetails node={node} graph={graph} />
      ) : null}
    </aside>
  );
}
