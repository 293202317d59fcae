"""The ``advise`` subcommand's arguments, apart from its implementation so that building preflight's
parser does not import the analysis (numpy and the metric and spend sources)."""

from __future__ import annotations

import argparse
from pathlib import Path

MAX_DAYS = 90


def add_arguments(parser: argparse.ArgumentParser, project_dir: Path) -> None:
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    use = parser.add_mutually_exclusive_group()
    use.add_argument("--prometheus", metavar="URL", help="Prometheus HTTP API with DCGM exporter and kube-state-metrics")
    use.add_argument("--metrics", metavar="FILE", help="saved query_range responses (written by --save-metrics)")
    parser.add_argument("--save-metrics", metavar="FILE", help="with --prometheus: save its answers for offline runs")
    spend = parser.add_mutually_exclusive_group()
    spend.add_argument("--cost-explorer", action="store_true",
                       help="read daily spend by FinOps project tag from Cost Explorer (ce:GetCostAndUsage)")
    spend.add_argument("--costs", metavar="FILE", help="saved GetCostAndUsage responses (boto3's shape)")
    parser.add_argument("--save-costs", metavar="FILE", help="with --cost-explorer: save its answers")
    parser.add_argument("--days", type=int, default=14, help=f"analysis window in days (default 14, at most {MAX_DAYS})")
    parser.add_argument("--end", metavar="TIME", help="end of the window, ISO 8601 in UTC (default: now)")
    parser.add_argument("--json", metavar="PATH", help="write the report (JSON) to PATH ('-' for stdout)")
    parser.add_argument("--markdown", metavar="PATH", help="write the report as Markdown (a pull request body) to PATH")
    parser.add_argument("--patch", action="store_true",
                        help="edit the stack file in place (comments kept) with every change not of low confidence")
    parser.add_argument("--project-dir", type=Path, default=project_dir, help=argparse.SUPPRESS)
