"""Turn a pytest-benchmark JSON file into bench/RESULTS.md and bench/ratios.png.

Usage: python bench/report.py bench/.results.json [--out-dir DIR]

Every ratio is the library's median divided by the floor's median in the same group of the
same run, so machines and runs are never mixed: raw APSW for the SQLite workloads, raw psycopg
for the PostgreSQL section (groups named "PG ...", all run against one server in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

REFERENCE = "raw_apsw"
PG_REFERENCE = "raw_psycopg"
PG_PREFIX = "PG "
LIBRARY_ORDER = (
    "raw_apsw",
    "raw_apsw_aio",
    "raw_psycopg",
    "sqlite3",
    "sqlalchemy_core",
    "sqlalchemy_orm",
    "peewee",
    "activeq",
)

WORKLOADS = {
    "W01": "Insert every user in one bulk call (`insert_many`, executemany, ORM bulk insert, "
    "Peewee `insert_many` in chunks of 1,000) inside one transaction.",
    "W02": "Insert four orders per user the same way, into a table whose users exist "
    "(foreign keys on).",
    "W03": "Primary-key lookups (`find_by_id`, `Session.get`, `get_or_none`), a batch per round.",
    "W04": "`status = ? AND age > ? ORDER BY id LIMIT 20` returning objects, a batch per round.",
    "W05": "Every user, as objects (dataclass / Row / model) and in each library's tuple mode.",
    "W06": "Orders of the first N users: eager loading (`includes`, `selectinload`, `prefetch`, "
    "two queries with `json_each`) and the naive one-query-per-user loop.",
    "W07": "One `UPDATE ... WHERE status = ?` over users and one `DELETE ... WHERE status = ?` "
    "over orders through each bulk API.",
    "W08": "Build the W04 query and render SQL + parameters without executing it "
    "(raw APSW: the constant hand-written string).",
    "W09": "Every order in keyset chunks (`chunks(size)` / `WHERE id > ? ORDER BY id LIMIT ?`).",
    "W10": "The W04 query served by activeq's result cache (`cache(ttl=300)`), against raw APSW "
    "executing it; the peers have no result cache.",
    "W12": "Build a report query (three CTEs, a window, five joins) and render SQL + "
    "parameters from a cached shape without executing it (raw APSW: the constant string).",
    "W11": "A user by id plus that user's orders for many users with `asyncio.gather` "
    "(raw APSW: the same reads sequentially; raw_apsw_aio: APSW's async connection).",
}


PG_WORKLOADS = {
    "W01": "Insert every user in one bulk call inside one transaction: activeq `insert_many`, "
    "psycopg `executemany` (pipelined), SQLAlchemy's insertmanyvalues, Peewee `insert_many` in "
    "chunks of 1,000.",
    "W03": "Primary-key lookups, a batch per round. The async group: `await find_by_id` one "
    "after another against psycopg's AsyncConnection (labelled raw_psycopg there).",
}

# The bars activeq is held to in the PostgreSQL section (ratio to raw psycopg, same run).
PG_BARS = {
    "PG W01 insert users": 1.0,
    "PG W03 pk lookup": 1.3,
    "PG W03 async pk lookup": 1.3,
    "PG W04 filtered query": 1.3,
    "PG W09 keyset chunks": 1.2,
}


def is_pg(group: str) -> bool:
    return group.startswith(PG_PREFIX)


def describe(group: str) -> str | None:
    """The description of a group's workload (W-number), the PostgreSQL wording first."""
    if is_pg(group):
        key = group[len(PG_PREFIX):].split()[0]
        return PG_WORKLOADS.get(key) or WORKLOADS.get(key)
    return WORKLOADS.get(group.split()[0])


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= factor:
            return f"{seconds / factor:,.2f} {unit}"
    return f"{seconds / 1e-9:,.0f} ns"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.2f}×"


def is_reference(library: str, group: str = "") -> bool:
    """Whether ``library`` is the floor of ``group`` (raw psycopg in the PostgreSQL section)."""
    floor = PG_REFERENCE if is_pg(group) else REFERENCE
    return library.strip().lower().replace(" ", "_") == floor


def library_rank(name: str) -> tuple[int, str]:
    if is_reference(name) or is_reference(name, PG_PREFIX):
        return (0, name)
    return (LIBRARY_ORDER.index(name) if name in LIBRARY_ORDER else len(LIBRARY_ORDER), name)


def ungrouped(bench: dict, library: str) -> str:
    """A group name for a benchmark that set none: its test name without the library part."""
    base = bench["name"].split("[", 1)[0]
    param = bench.get("param") or ""
    rest = param[: -len(library)].rstrip("-") if param.endswith(library) else param
    return f"{base}[{rest}]" if rest else base


def collect(results: dict) -> dict[str, dict[str, dict]]:
    """{group: {library: row}} with medians, per-op times and ratios to the group's floor."""
    groups: dict[str, dict[str, dict]] = {}
    for bench in results.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        library = (
            extra.get("library") or extra.get("variant") or bench.get("param") or bench["name"]
        )
        group = extra.get("workload") or bench.get("group") or ungrouped(bench, library)
        stats = bench["stats"]
        ops = extra.get("ops_per_round") or None
        groups.setdefault(group, {})[library] = {
            "median": stats["median"],
            "iqr": stats.get("iqr"),
            "min": stats.get("min"),
            "rounds": stats.get("rounds"),
            "ops": ops,
            "per_op": stats["median"] / ops if ops else None,
        }
    for group, rows in groups.items():
        ref = next((r for lib, r in rows.items() if is_reference(lib, group)), None)
        for row in rows.values():
            row["ratio"] = row["median"] / ref["median"] if ref and ref["median"] > 0 else None
    return dict(sorted(groups.items()))


def environment(results: dict) -> dict:
    recorded = results.get("activeq_bench") or {}
    machine = results.get("machine_info") or {}
    versions = recorded.get("versions") or current_versions()
    return {
        "platform": recorded.get("platform") or platform.platform(),
        "machine": recorded.get("machine") or machine.get("machine") or platform.machine(),
        "cpu": (machine.get("cpu") or {}).get("brand_raw") or recorded.get("processor") or "",
        "cpu_count": recorded.get("cpu_count") or os.cpu_count(),
        "python": recorded.get("python")
        or machine.get("python_version")
        or platform.python_version(),
        "implementation": recorded.get("implementation") or platform.python_implementation(),
        "scale": recorded.get("scale"),
        "sizes": recorded.get("sizes"),
        "pragmas": recorded.get("pragmas"),
        "versions": versions,
        "datetime": results.get("datetime"),
    }


def current_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    try:
        import apsw

        out["apsw"] = apsw.apsw_version()
        out["sqlite (apsw)"] = apsw.sqlite_lib_version()
    except ImportError:
        out["apsw"] = None
    import sqlite3

    out["sqlite (stdlib sqlite3)"] = sqlite3.sqlite_version
    for name in ("sqlglot", "pydantic", "sqlalchemy", "peewee", "psycopg", "activeq"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def comparable(groups: dict, pg: bool = False) -> tuple[list[str], dict]:
    """The side-by-side workloads: groups run for the libraries of LIBRARY_ORDER, of the SQLite
    workloads or (``pg``) of the PostgreSQL section."""
    matrix = {
        group: rows
        for group, rows in groups.items()
        if is_pg(group) == pg
        and any(lib in LIBRARY_ORDER and not is_reference(lib, group) for lib in rows)
    }
    libraries = sorted(
        {lib for rows in matrix.values() for lib in rows if lib in LIBRARY_ORDER},
        key=library_rank,
    )
    return libraries, matrix


def render_markdown(groups: dict, env: dict, chart_name: str | None) -> str:
    out: list[str] = ["# Benchmark results", ""]
    out.append(
        "Generated by `bench/report.py` from one `make bench` run. Ratio = the library's median "
        f"÷ `{REFERENCE}`'s median in the same workload and run (lower is faster; 1.00× is "
        "hand-written SQL on APSW turning rows into slotted dataclasses). Batched workloads "
        "also show the time per single operation."
    )
    out.append("")
    out.append("## Environment")
    out.append("")
    out.append(f"- Platform: {env['platform']} ({env['machine']})")
    if env["cpu"]:
        out.append(f"- CPU: {env['cpu']}")
    out.append(f"- CPU count: {env['cpu_count']}")
    out.append(f"- Python: {env['python']} ({env['implementation']})")
    versions = env["versions"] or {}
    listed = ", ".join(
        f"{name} {value if value is not None else 'not installed'}"
        for name, value in versions.items()
        if name != "python"
    )
    out.append(f"- Libraries: {listed}")
    apsw_sqlite = versions.get("sqlite (apsw)")
    stdlib_sqlite = versions.get("sqlite (stdlib sqlite3)")
    if apsw_sqlite and stdlib_sqlite and apsw_sqlite != stdlib_sqlite:
        out.append(
            f"- SQLite builds differ: raw_apsw, raw_apsw_aio and activeq run on APSW's SQLite "
            f"{apsw_sqlite}; sqlite3, SQLAlchemy and Peewee go through the stdlib `sqlite3` "
            f"driver and its SQLite {stdlib_sqlite}. Part of those peers' ratios is the "
            "driver and SQLite version, not the library."
        )
    if env["scale"] is not None:
        out.append(f"- Scale: {env['scale']} (`--scale`; 1.0 = 50,000 users, 200,000 orders)")
    sizes = env.get("sizes")
    if sizes:
        out.append(
            f"- Sizes: {sizes['users']:,} users, {sizes['orders']:,} orders, batch of "
            f"{sizes['batch']:,} operations per round, eager load of {sizes['eager_users']:,} "
            f"users, chunks of {sizes['chunk']:,}"
        )
    pragmas = env.get("pragmas")
    if pragmas:
        first = next(iter(pragmas.values()))
        same = all(p == first for p in pragmas.values())
        shown = ", ".join(f"{k}={v}" for k, v in first.items())
        note = "read back from every library's own connection" if same else "DIFFER by library"
        out.append(f"- Pragmas ({note}): {shown}")
    if env["datetime"]:
        out.append(f"- Run at: {env['datetime']}")
    out.append("")

    libraries, matrix = comparable(groups)
    out.append("## Ratio to raw APSW")
    out.append("")
    out.append("| workload | " + " | ".join(libraries) + " |")
    out.append("|---|" + "---:|" * len(libraries))
    for group, rows in matrix.items():
        cells = [fmt_ratio(rows[lib]["ratio"]) if lib in rows else "—" for lib in libraries]
        out.append(f"| {group} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("— = not run (not applicable to that library, or the feature was skipped).")
    pg_libraries, pg_matrix = comparable(groups, pg=True)
    others = [g for g in groups if g not in matrix and g not in pg_matrix]
    if others:
        out.append(
            "Benchmarks with their own variants are listed under Per workload only: "
            + ", ".join(others)
            + "."
        )
    out.append("")
    if chart_name:
        out.append(f"![ratios]({chart_name})")
        out.append("")
    if pg_matrix:
        out += pg_section(pg_libraries, pg_matrix, env)

    out.append("## Per workload")
    out.append("")
    for group, rows in groups.items():
        out.append(f"### {group}")
        out.append("")
        description = describe(group)
        if description:
            out.append(description)
            out.append("")
        batched = any(r["ops"] for r in rows.values())
        header = "| library | median | " + ("per op | " if batched else "") + "ratio | rounds |"
        out.append(header)
        out.append("|---|---:|" + ("---:|" if batched else "") + "---:|---:|")
        for lib in sorted(rows, key=library_rank):
            r = rows[lib]
            cells = [lib, fmt_time(r["median"])]
            if batched:
                cells.append(fmt_time(r["per_op"]))
            cells += [fmt_ratio(r["ratio"]), str(r["rounds"])]
            out.append("| " + " | ".join(cells) + " |")
        ops = {r["ops"] for r in rows.values() if r["ops"]}
        if ops:
            out.append("")
            out.append(f"Operations per round: {', '.join(f'{o:,}' for o in sorted(ops))}.")
        out.append("")
    return "\n".join(out)


def pg_section(libraries: list[str], matrix: dict, env: dict) -> list[str]:
    """The PostgreSQL table: ratios to raw psycopg, with activeq's bar and whether it holds."""
    out = ["## PostgreSQL: ratio to raw psycopg", ""]
    server = (env.get("versions") or {}).get("postgresql server")
    out.append(
        "Every library against the same PostgreSQL server in the same run"
        + (f" ({server})" if server else "")
        + ", through psycopg 3 (SQLAlchemy's `postgresql+psycopg` dialect; Peewee's "
        "`PostgresqlDatabase` on psycopg 3). 1.00× is hand-written SQL on psycopg turning rows "
        "into slotted dataclasses."
    )
    out.append("")
    out.append("| workload | " + " | ".join(libraries) + " | activeq bar |")
    out.append("|---|" + "---:|" * len(libraries) + "---|")
    for line in pg_lines(libraries, matrix):
        out.append(line)
    out.append("")
    return out


def pg_lines(libraries: list[str], matrix: dict) -> list[str]:
    lines = []
    for group, rows in matrix.items():
        cells = [fmt_ratio(rows[lib]["ratio"]) if lib in rows else "—" for lib in libraries]
        bar = PG_BARS.get(group)
        ours = rows.get("activeq", {}).get("ratio")
        verdict = "—"
        if bar is not None:
            verdict = f"≤ {bar:.1f}×" + (
                "" if ours is None else (" met" if ours <= bar else " MISSED")
            )
        lines.append(f"| {group} | " + " | ".join(cells) + f" | {verdict} |")
    return lines


def render_chart(groups: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False

    libraries, groups = comparable(groups)
    libraries = [lib for lib in libraries if not is_reference(lib)]
    names = list(groups)
    if not names or not libraries:
        return False
    width = 0.8 / len(libraries)
    fig, ax = plt.subplots(figsize=(max(10, 1.1 * len(names)), 6))
    for k, lib in enumerate(libraries):
        xs, ys = [], []
        for i, group in enumerate(names):
            row = groups[group].get(lib)
            if row and row["ratio"]:
                xs.append(i - 0.4 + width * (k + 0.5))
                ys.append(row["ratio"])
        ax.bar(xs, ys, width=width, label=lib)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(f"median ÷ {REFERENCE} median (log scale, lower is faster)")
    ax.set_title("Time relative to raw APSW, same run")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="pytest-benchmark JSON file")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)

    results = json.loads(args.results.read_text())
    groups = collect(results)
    if not groups:
        print(f"no benchmarks in {args.results}", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    chart = args.out_dir / "ratios.png"
    has_chart = render_chart(groups, chart)
    markdown = render_markdown(groups, environment(results), chart.name if has_chart else None)
    (args.out_dir / "RESULTS.md").write_text(markdown + "\n")
    print(f"wrote {args.out_dir / 'RESULTS.md'}" + (f" and {chart}" if has_chart else ""))
    pg_libraries, pg_matrix = comparable(groups, pg=True)
    if pg_matrix:
        print("PostgreSQL, ratio to raw psycopg:")
        print("| workload | " + " | ".join(pg_libraries) + " | activeq bar |")
        for line in pg_lines(pg_libraries, pg_matrix):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
