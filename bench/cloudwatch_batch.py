"""CloudWatch series for the health screen: one batched GetMetricData vs one call per series.

Against moto running as an HTTP server (no AWS account): a cluster with a writer and
N readers, 3 hours of one-minute points for the 9 instance metrics + VolumeBytesUsed.
Compares ``ops.shared.cloudwatch.cluster_metrics`` (one ``get_metric_data`` call) with the
usual script baseline, one ``get_metric_statistics`` call per metric and instance.
Reports API calls and wall time (median of --runs), side by side. On real AWS every
call also pays a network round trip (~20-100 ms), so the call count dominates.

Usage: python bench/cloudwatch_batch.py [--readers 3] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

import boto3

from auroractl.ops.shared import cloudwatch

REGION = "us-east-1"


def counting(endpoint: str, service: str, calls: list[str]):  # type: ignore[no-untyped-def]
    client = boto3.client(service, endpoint_url=endpoint, region_name=REGION)
    client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return client


def seed(endpoint: str, readers: int, now: dt.datetime) -> tuple[str, list[str]]:
    rds = boto3.client("rds", endpoint_url=endpoint, region_name=REGION)
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION)
    cid = "bench"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="bench-only-1",
    )
    names = [f"{cid}-w"] + [f"{cid}-r{i}" for i in range(readers)]
    for name in names:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    minutes = 180
    series = [(m, "DBInstanceIdentifier", n) for n in names for m in cloudwatch.INSTANCE_METRICS]
    series.append(("VolumeBytesUsed", "DBClusterIdentifier", cid))
    for metric, dim, value in series:
        points = [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dim, "Value": value}],
                "Timestamp": now - dt.timedelta(minutes=minutes - i),
                "Value": float(i % 97),
            }
            for i in range(minutes)
        ]
        for first in range(0, len(points), 1000):
            cw.put_metric_data(Namespace="AWS/RDS", MetricData=points[first : first + 1000])
    return cid, names


def per_series(endpoint: str, cid: str, names: list[str], now: dt.datetime, calls: list[str]):  # type: ignore[no-untyped-def]
    cw = counting(endpoint, "cloudwatch", calls)
    start = now - dt.timedelta(hours=3)
    out = []
    jobs = [(m, "DBInstanceIdentifier", n) for n in names for m in cloudwatch.INSTANCE_METRICS]
    jobs.append(("VolumeBytesUsed", "DBClusterIdentifier", cid))
    for metric, dim, value in jobs:
        r = cw.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName=metric,
            Dimensions=[{"Name": dim, "Value": value}],
            StartTime=start,
            EndTime=now,
            Period=60,
            Statistics=["Average"],
        )
        out.append(len(r["Datapoints"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readers", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        cid, names = seed(endpoint, args.readers, now)
        results = {}
        for label in ("per-series get_metric_statistics", "cluster_metrics (batched)"):
            times, calls_per_run, points = [], 0, 0
            for _ in range(args.runs):
                calls: list[str] = []
                t0 = time.perf_counter()
                if label.startswith("per-series"):
                    points = sum(per_series(endpoint, cid, names, now, calls))
                else:
                    cw = counting(endpoint, "cloudwatch", calls)
                    series = cloudwatch.cluster_metrics(
                        cid, REGION, endpoint_url=endpoint, now=now, cloudwatch_client=cw
                    )
                    points = sum(len(s.values) for s in series)
                times.append(time.perf_counter() - t0)
                calls_per_run = len(calls)
            results[label] = (statistics.median(times), calls_per_run, points)
    finally:
        server.stop()
    n = len(names)
    print(f"cluster: 1 writer + {args.readers} readers, 3 h of 1-minute points, {args.runs} runs")
    print(f"{'method':36} {'CloudWatch calls':>16} {'points':>8} {'median ms':>10}")
    for label, (t, calls, points) in results.items():
        print(f"{label:36} {calls:16} {points:8} {t * 1000:10.1f}")
    base = results["per-series get_metric_statistics"]
    new = results["cluster_metrics (batched)"]
    print(
        f"batched: {base[1] / max(new[1], 1):.0f}x fewer calls "
        f"({n} instances x {len(cloudwatch.INSTANCE_METRICS)} metrics + 1), "
        f"{base[0] / new[0]:.1f}x the speed locally"
    )


if __name__ == "__main__":
    main()
