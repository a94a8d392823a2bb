"""``airflow-lineage doctor``: check an installation the way support would, and say what to fix.

Each check is a function returning :class:`Check` results; :data:`CHECKS` lists them in the order
they run. A check never raises: what goes wrong becomes a ``fail`` with the fix. Statuses:
``ok``; ``warn`` (works, but look at it); ``fail`` (lineage is not being captured or read);
``info`` (nothing to check in this version). The command exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from airflow_lineage_provider import conf

PACKAGE = "airflow-lineage-provider"
PLUGIN = "airflow_lineage_provider"
UPGRADE = "run `airflow-lineage db upgrade`"
# The Airflow minors the compatibility tests run on (tests/integration/test_compat.py). The range pip
# allows is the package's own requirement on apache-airflow (pyproject.toml), which also admits the
# next minor.
TESTED_AIRFLOW = ("3.1", "3.2", "3.3")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | info
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What the checks share: the store URL to check (``--store-url`` or the configured one)."""

    store_url: str | None = None


def declared_airflow() -> str:
    """The apache-airflow version range this installed package declares (``""`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, requires

    from packaging.requirements import Requirement

    try:
        requirements = [Requirement(line) for line in requires(PACKAGE) or []]
    except PackageNotFoundError:
        return ""
    for requirement in requirements:
        if requirement.name == "apache-airflow" and not requirement.marker:  # lower bounds first
            return ",".join(str(s) for s in sorted(requirement.specifier, key=lambda s: s.operator[0] == "<"))
    return ""


def airflow_support(version: str, declared: str) -> Check:
    """Whether Airflow ``version`` is one this package supports: in ``declared`` and tested."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    tested = ", ".join(TESTED_AIRFLOW[:-1]) + f" and {TESTED_AIRFLOW[-1]}"
    try:
        parsed = Version(version)
    except InvalidVersion:
        return Check("airflow", "warn", f"Airflow reports the version {version!r}, which is not a version")
    minor = f"{parsed.major}.{parsed.minor}"
    if declared and not SpecifierSet(declared).contains(parsed, prereleases=True):
        return Check(
            "airflow",
            "fail",
            f"Airflow {version} is not supported: {PACKAGE} needs apache-airflow{declared} "
            f"(tested on {tested})",
            f"run a supported Airflow (pip install 'apache-airflow{declared}'), or a release of {PACKAGE} "
            f"made for Airflow {minor}",
        )
    if minor not in TESTED_AIRFLOW:
        return Check(
            "airflow",
            "warn",
            f"Airflow {version} is allowed but not yet tested with this version of {PACKAGE} "
            f"(tested on {tested})",
            f"report what breaks, or run Airflow {TESTED_AIRFLOW[-1]}",
        )
    return Check("airflow", "ok", f"Airflow {version} is supported (tested on {tested})")


def check_airflow(ctx: Context) -> list[Check]:
    import airflow

    return [airflow_support(str(airflow.__version__), declared_airflow())]


def check_provider(ctx: Context) -> list[Check]:
    from airflow.providers_manager import ProvidersManager

    info = ProvidersManager().providers.get(PACKAGE)  # type: ignore[no-untyped-call]
    if info is None:
        return [
            Check(
                "provider",
                "fail",
                f"Airflow does not list {PACKAGE} among its providers",
                f"install it into Airflow's environment: pip install {PACKAGE}",
            )
        ]
    return [Check("provider", "ok", f"{PACKAGE} {info.version} is registered with Airflow")]


def check_plugin(ctx: Context) -> list[Check]:
    from airflow_lineage_provider import compat

    plugins, errors = compat.plugins()  # what every Airflow process loads
    ours = [p for p in plugins if p.name == PLUGIN]
    failed = {name: error for name, error in errors.items() if PLUGIN in name or PACKAGE in name}
    if failed:
        detail = "; ".join(f"{name}: {error}" for name, error in failed.items())
        return [Check("plugin", "fail", f"the plugin failed to load: {detail}", "fix the error above")]
    if not ours:
        return [
            Check(
                "plugin",
                "fail",
                f"Airflow loaded no plugin named {PLUGIN}",
                f"reinstall {PACKAGE} (its airflow.plugins entry point registers the plugin)",
            )
        ]
    if len(ours) > 1:
        return [Check("plugin", "warn", f"the plugin is loaded {len(ours)} times", "remove the duplicates")]
    plugin = ours[0]
    results = [Check("plugin", "ok", f"plugin {PLUGIN} is loaded")]
    if not plugin.listeners:
        results.append(
            Check(
                "capture",
                "fail",
                "the plugin registers no listener: lineage capture is off",
                "set [lineage_provider] disabled = False (AIRFLOW__LINEAGE_PROVIDER__DISABLED=False)",
            )
        )
    else:
        results.append(Check("capture", "ok", "the lineage listener is registered"))
    return results


def check_hook_lineage(ctx: Context) -> list[Check]:
    from airflow_lineage_provider import compat

    if compat.hook_lineage().HookLineageReader in compat.hook_lineage_readers():
        return [Check("hook lineage", "ok", "a hook lineage reader is registered: SQL hooks report lineage")]
    return [
        Check(
            "hook lineage",
            "fail",
            "no hook lineage reader is registered: SQL run through hooks is not captured",
            "set [lineage_provider] disabled = False",
        )
    ]


def _source(option: str, sources: dict[str, tuple[str, str]], default: str) -> str:
    """Where a value in force came from: an environment variable, airflow.cfg, or the default."""
    env = f"AIRFLOW__{conf.SECTION.upper()}__{option.upper()}"
    for suffix in ("", "_CMD", "_SECRET"):
        if env + suffix in os.environ:
            return f"env {env + suffix}"
    value, source = sources.get(option, (default, "default"))
    if source == "airflow.cfg":
        return "airflow.cfg, the default value" if value == default else "airflow.cfg"
    return "default" if "default" in source else source


def check_config(ctx: Context) -> list[Check]:
    from airflow.configuration import conf as airflow_conf

    from airflow_lineage_provider.exceptions import ConfigError
    from airflow_lineage_provider.get_provider_info import get_provider_info

    options = get_provider_info()["config"][conf.SECTION]["options"]
    section = airflow_conf.as_dict(display_source=True, display_sensitive=True).get(conf.SECTION, {})
    sources = {key: value for key, value in section.items() if isinstance(value, tuple)}
    results = []
    readers: dict[str, Callable[[], Any]] = {
        "disabled": conf.is_disabled,
        "store_url": lambda: (
            _hide_password(conf.store_url()) + ("" if _configured_url() else " (empty: the default)")
        ),
        "namespace": conf.namespace,
        "emit_timeout": conf.emit_timeout,
    }
    for option, spec in options.items():
        where = _source(option, sources, spec["default"])
        reader = readers.get(option)
        try:
            value = reader() if reader else airflow_conf.get(conf.SECTION, option, fallback="")
        except ConfigError as exc:
            results.append(Check(f"config {option}", "fail", f"{exc} (from {where})", f"fix it in {where}"))
            continue
        results.append(Check(f"config {option}", "ok", f"{value} (from {where})"))
    return results


def _configured_url() -> str:
    from airflow.configuration import conf as airflow_conf

    return str(airflow_conf.get(conf.SECTION, "store_url", fallback="") or "").strip()


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def check_store(ctx: Context) -> list[Check]:
    from sqlalchemy.exc import SQLAlchemyError

    from airflow_lineage_provider.exceptions import LineageError
    from airflow_lineage_provider.store import schema
    from airflow_lineage_provider.store.engine import make_engine, sqlite_path

    try:
        url = ctx.store_url or conf.store_url()
    except LineageError as exc:
        return [Check("store", "fail", str(exc), "fix [lineage_provider] store_url")]
    shown = _hide_password(url)
    fix_url = "check [lineage_provider] store_url (AIRFLOW__LINEAGE_PROVIDER__STORE_URL) or --store-url"
    try:
        path = sqlite_path(url)
    except (SQLAlchemyError, ValueError) as exc:  # ArgumentError: not a URL at all
        return [Check("store", "fail", f"{shown}: {exc}", fix_url)]
    if path is not None:
        problem = _sqlite_access(path)
        if problem is not None:
            return [problem]
    try:
        engine = make_engine(url, timeout=5.0)
    except (LineageError, SQLAlchemyError, ValueError) as exc:
        return [Check("store", "fail", f"{shown}: {exc}", fix_url)]
    try:
        with engine.connect() as conn:
            revision = schema.current_revision(conn)
    except SQLAlchemyError as exc:
        cause = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return [Check("store", "fail", f"cannot reach the store {shown}: {cause}", fix_url)]
    finally:
        engine.dispose()
    results = [Check("store", "ok", f"{shown} is reachable")]
    if revision == schema.HEAD_REVISION:
        results.append(Check("schema", "ok", f"at the latest revision {revision}"))
    elif revision is None:
        results.append(Check("schema", "warn", "the store has no tables yet", UPGRADE))
    elif revision in schema.KNOWN_REVISIONS:
        results.append(
            Check("schema", "warn", f"at revision {revision}, older than {schema.HEAD_REVISION}", UPGRADE)
        )
    else:
        results.append(
            Check(
                "schema",
                "fail",
                f"at revision {revision}, which this version ({schema.HEAD_REVISION}) does not know: "
                "a newer airflow-lineage-provider wrote it",
                f"upgrade {PACKAGE} to the version that wrote the store",
            )
        )
    return results


def _sqlite_access(path: str) -> Check | None:
    """A SQLite store must be creatable, then writable, by this user: tried for real, not guessed.

    (``os.access`` says yes to root even on a read-only mount; creating a file does not lie.)
    """
    if os.path.exists(path):
        try:
            with open(path, "r+b"):
                pass
        except OSError as exc:
            return Check(
                "store",
                "fail",
                f"the store {path} cannot be opened for writing: {exc.strerror}",
                f"give the user that runs Airflow tasks read and write access to {path}",
            )
        return None
    ancestor = os.path.dirname(path)
    while ancestor and not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    try:
        with tempfile.TemporaryFile(dir=ancestor or "."):
            pass
    except OSError as exc:
        return Check(
            "store",
            "fail",
            f"no store at {path}, and it cannot be created there ({ancestor}: {exc.strerror})",
            "point [lineage_provider] store_url at a writable directory, or fix that directory's permissions",
        )
    return Check(
        "store", "warn", f"no store at {path} yet (the first captured task creates it)", f"{UPGRADE} now"
    )


def check_outbox(ctx: Context) -> list[Check]:
    """Events waiting in the durable outbox (the store or API was unreachable) and dead letters."""
    from airflow_lineage_provider.emit.outbox import configured_outbox

    try:
        outbox = configured_outbox()
        depth, oldest = outbox.status()
        dead = outbox.dead_letter_count()
    except Exception as exc:  # the check reports; it never crashes doctor
        return [
            Check("outbox", "fail", f"cannot read the outbox: {exc}", "check [lineage_provider] outbox_dir")
        ]
    checks = []
    if depth:
        since = f", the oldest from {oldest.isoformat()}" if oldest else ""
        checks.append(
            Check(
                "outbox",
                "warn",
                f"{depth} event(s) waiting in {outbox.path}{since}",
                "make the store reachable, then run `airflow-lineage replay` (or wait for the next drain)",
            )
        )
    else:
        checks.append(Check("outbox", "ok", f"empty ({outbox.path})"))
    if dead:
        checks.append(
            Check(
                "dead letters",
                "warn",
                f"{dead} event(s) rejected as invalid, with the reason, in the outbox's dead-letter file",
                "read them with `airflow-lineage status`; they are never retried",
            )
        )
    return checks


CHECKS: list[Callable[[Context], list[Check]]] = [
    check_airflow,
    check_provider,
    check_plugin,
    check_hook_lineage,
    check_config,
    check_store,
    check_outbox,
]


def run(ctx: Context, checks: list[Callable[[Context], list[Check]]] | None = None) -> list[Check]:
    """Run every check; one that raises is reported as a failure of that check."""
    results: list[Check] = []
    for check in checks or CHECKS:
        name = check.__name__.removeprefix("check_").replace("_", " ")
        try:
            results.extend(check(ctx))
        except Exception as exc:  # a doctor must finish: a broken check is itself a finding
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())
            results.append(Check(name, "fail", f"the check itself failed: {detail}", "run with --debug"))
    return results


def summary(results: list[Check]) -> str:
    """The closing line: how many checks failed or warn, or that all is well."""
    failed = sum(r.status == "fail" for r in results)
    warned = sum(r.status == "warn" for r in results)
    if not failed and not warned:
        return "no problems found"
    parts = [f"{failed} failed" if failed else "", f"{warned} to look at" if warned else ""]
    return "doctor: " + ", ".join(p for p in parts if p) + " (see the fix column)"


def command(args: argparse.Namespace) -> int:
    """``airflow-lineage doctor``: print the checks (a table, or ``--json``); exit 1 when one fails."""
    from airflow_lineage_provider.cli import formats, views
    from airflow_lineage_provider.core.graph import LineageGraph

    results = run(Context(store_url=getattr(args, "store_url", None)))
    failed = any(r.status == "fail" for r in results)
    view = formats.View(
        data={"ok": not failed, "checks": [r.to_dict() for r in results]},
        graph=LineageGraph("", "both", 0, [], []),
        tree=lambda: views.checks_table(results),
        table=lambda: views.checks_table(results),
        summary=summary(results),
    )
    formats.write(view, args.format)
    return 1 if failed else 0


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``doctor`` to the CLI's subcommands."""
    from airflow_lineage_provider.cli import formats

    sub = commands.add_parser(
        "doctor",
        parents=[common],
        help="check the installation and say what to fix (exit 1 when a check fails)",
        description="Check that the Airflow version is supported, that Airflow loads the provider and "
        "plugin, the config in force and where each value comes from, the store (reachable, schema), hook "
        "lineage and the outbox.",
    )
    sub.set_defaults(standalone=command)
    formats.add_format_option(sub, "table", choices=("table", "json"))
