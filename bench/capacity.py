"""`auroractl capacity show` on 3 instances x 14 days of one-minute points, against moto.

Seeds a Serverless v2 cluster (writer + 2 readers) with 14 days of one-minute
ServerlessDatabaseCapacity per instance and the volume's I/O and size, then compares
``ops.capacity.report`` (one batched ``get_metric_data`` for every series) with the usual
script baseline: ``get_metric_statistics`` per instance, which returns at most 1,440
points per call, so 14 days of minutes take 14 calls per instance (plus one per volume
metric). API calls are counted with a botocore ``before-call`` hook on the bench's own
clients. On real AWS each call is also a network round trip (~20-100 ms), so the call
count dominates; moto's own query time grows with the window (see AURORA-NOTES).

Usage: python bench/capacity.py [--days 14] [--runs 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import time

import boto3

from auroractl.ops import capacity

REGION = "us-east-1"
VOLUME = ("VolumeReadIOPs", "VolumeWriteIOPs", "VolumeBytesUsed")


def counting(endpoint: str, service: str, calls: list[str]):  # type: ignore[no-untyped-def]
    from botocore.config import Config

    # moto answers a 14-day one-minute get_metric_data in minutes, not AWS's seconds.
    config = Config(read_timeout=1800, retries={"max_attempts": 1})
    client = boto3.client(service, endpoint_url=endpoint, region_name=REGION, config=config)
    client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return client


def seed(endpoint: str, days: int, now: dt.datetime) -> tuple[str, list[str]]:
    rds = boto3.client("rds", endpoint_url=endpoint, region_name=REGION)
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION)
    cid = "bench"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="aurora_admin",
        MasterUserPassword="bench-only-1",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16},
    )
    names = [f"{cid}-w", f"{cid}-r0", f"{cid}-r1"]
    for name in names:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    minutes = days * 1440
    series = [("ServerlessDatabaseCapacity", "DBInstanceIdentifier", n) for n in names]
    series += [(m, "DBClusterIdentifier", cid) for m in VOLUME]
    for k, (metric, dim, value) in enumerate(series):
        points = [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dim, "Value": value}],
                "Timestamp": now - dt.timedelta(minutes=minutes - i),
                # a daily wave between the floor and 8 ACU, a different phase per instance
                "Value": round(0.5 + 7.5 * max(0.0, math.sin((i + 300 * k) / 229.0)), 1),
            }
            for i in range(minutes)
        ]
        for first in range(0, len(points), 1000):
            cw.put_metric_data(Namespace="AWS/RDS", MetricData=points[first : first + 1000])
    return cid, names


def per_series(endpoint: str, cid: str, names: list[str], days: int, now, calls) -> int:  # type: ignore[no-untyped-def]
    """The baseline: get_metric_statistics in 1-day slices (its 1,440-point limit)."""
    cw = counting(endpoint, "cloudwatch", calls)
    rds = counting(endpoint, "rds", calls)
    rds.describe_db_clusters(DBClusterIdentifier=cid)
    points = 0
    jobs = [("ServerlessDatabaseCapacity", "DBInstanceIdentifier", n, 60) for n in names]
    jobs += [(m, "DBClusterIdentifier", cid, 86_400) for m in VOLUME]
    for metric, dim, value, period in jobs:
        slices = days if period == 60 else 1
        for d in range(slices):
            start = now - dt.timedelta(days=days - d * days / slices)
            end = start + dt.timedelta(days=days / slices)
            r = cw.get_metric_statistics(
                Namespace="AWS/RDS",
                MetricName=metric,
                Dimensions=[{"Name": dim, "Value": value}],
                StartTime=start,
                EndTime=end,
                Period=period,
                Statistics=["Sum" if metric.endswith("IOPs") else "Average"],
            )
            points += len(r["Datapoints"])
    return points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()

    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    results = {}
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        t0 = time.perf_counter()
        cid, names = seed(endpoint, args.days, now)
        print(
            f"seeded {len(names)} instances x {args.days} days in {time.perf_counter() - t0:.0f} s"
        )
        for label in ("per-series get_metric_statistics", "capacity show (batched)"):
            times, calls_per_run, points = [], 0, 0
            for _ in range(args.runs):
                calls: list[str] = []
                started = time.perf_counter()
                if label.startswith("per-series"):
                    points = per_series(endpoint, cid, names, args.days, now, calls)
                else:
                    r = capacity.report(
                        counting(endpoint, "rds", calls),
                        counting(endpoint, "cloudwatch", calls),
                        cid,
                        days=args.days,
                        now=now,
                    )
                    points = sum(s.points for s in r.instances)
                times.append(time.perf_counter() - started)
                calls_per_run = len(calls)
            results[label] = (statistics.median(times), calls_per_run, points)
    finally:
        server.stop()
    print(f"3 instances x {args.days} days of 1-minute points, {args.runs} run(s), moto server")
    print(f"{'method':36} {'API calls':>10} {'points':>8} {'median s':>9}")
    for label, (t, calls, points) in results.items():
        print(f"{label:36} {calls:10} {points:8} {t:9.2f}")
    base, new = results["per-series get_metric_statistics"], results["capacity show (batched)"]
    print(
        f"batched: {base[1] / max(new[1], 1):.1f}x fewer API calls, "
        f"{base[0] / new[0]:.2f}x the speed locally (capacity points include all instances)"
    )


if __name__ == "__main__":
    main()
