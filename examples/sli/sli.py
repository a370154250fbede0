"""The platform's SLIs from spanwise's analysis file, with DuckDB (`pip install duckdb`):
availability, p95 and p99 latency per route, error rate per service, slow-request share.

Usage: python examples/sli/sli.py [--json] [--parquet OUT] FILE

`spans.sql` turns the file (the file exporter's OTLP-JSON lines) into a `spans` view and a
`requests` view (server spans); each other `.sql` file beside it is one SLI, a plain query
that runs unchanged in any DuckDB session where `spans.sql` has run. Prints each SLI as a
table, or all of them as one JSON object with `--json`. `--parquet OUT` also writes the
`spans` view, one row per span with its weight, to a Parquet file for a warehouse load job.
"""

import argparse
import json
import pathlib

import duckdb

HERE = pathlib.Path(__file__).resolve().parent
SLIS = ["availability", "latency", "error_rate", "slow_share"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the file exporter's OTLP-JSON lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--parquet", metavar="OUT", help="write the spans, one row each, to OUT")
    args = parser.parse_args()
    if not pathlib.Path(args.file).is_file():
        parser.error(f"{args.file}: no such file")

    db = duckdb.connect()
    quoted = args.file.replace("'", "''")
    db.execute(f"SET VARIABLE traces_file = '{quoted}'")
    db.execute((HERE / "spans.sql").read_text())
    if args.parquet:
        out = args.parquet.replace("'", "''")
        db.execute(f"COPY (SELECT * FROM spans) TO '{out}' (FORMAT parquet)")
    results = {}
    for name in SLIS:
        relation = db.sql((HERE / f"{name}.sql").read_text())
        if args.json:
            results[name] = [dict(zip(relation.columns, row)) for row in relation.fetchall()]
        else:
            print(f"-- {name}")
            relation.show()
    if args.json:
        print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
