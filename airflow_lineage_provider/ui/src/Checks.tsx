// Data quality: the assertions reported on a dataset version or by a run (dataQualityAssertions), and a
// run's test results (TestRunFacet), failing ones first. Names from data stay text.
import type { AssertionReport, Run } from "./api";

/** Data quality assertions of reports (a dataset version's, or a run's): failing ones first. */
export function Assertions({ reports }: { reports: AssertionReport[] }) {
  if (!reports.length) return null;
  return (
    <ul className="assertions" data-testid="assertions">
      {reports.flatMap((report) =>
        [...report.assertions]
          .sort((a, b) => Number(a.success !== false) - Number(b.success !== false))
          .map((a, i) => (
            <li key={`${report.runId}-${report.dataset ?? ""}-${i}`} className={a.success === false ? "failing" : "passing"}>
              {a.success === false ? "✗" : "✓"} {a.name ?? a.assertion ?? "assertion"}
              {a.column ? <span className="muted"> · {a.column}</span> : null}
              {a.severity ? <span className="muted"> · {a.severity}</span> : null}
              {report.dataset ? <span className="muted"> · {report.dataset}</span> : null}
            </li>
          )),
      )}
    </ul>
  );
}

export function RunChecks({ runs }: { runs: Run[] }) {
  const checked = runs.filter((r) => (r.assertions ?? []).length || (r.tests ?? []).length).slice(0, 3);
  if (!checked.length) return null;
  return (
    <div data-testid="run-checks">
      <h4>Checks of the last runs</h4>
      {checked.map((run) => (
        <div key={run.id} title={`run ${run.id}`}>
          <p className="muted">run {run.id.slice(0, 8)}</p>
          <Assertions reports={run.assertions ?? []} />
          {(run.tests ?? []).length ? (
            <ul className="assertions" data-testid="tests">
              {(run.tests ?? []).map((t, i) => (
                <li key={i} className={t.status === "fail" ? "failing" : "passing"}>
                  {t.status === "fail" ? "✗" : t.status === "skip" ? "–" : "✓"} {t.name ?? t.type ?? "test"}
                  {t.severity ? <span className="muted"> · {t.severity}</span> : null}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ))}
    </div>
  );
}
