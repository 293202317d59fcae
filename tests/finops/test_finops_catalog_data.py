"""The shipped snapshot and the fixed rates travel with their dates and sources."""

from __future__ import annotations

from ai_platform_finops import rates
from ai_platform_finops.catalog import DATA_DIR, price_table

README = (DATA_DIR / "README.md").read_text(encoding="utf-8")


def test_the_snapshot_names_its_region_date_and_source_and_the_readme_says_the_same():
    table = price_table("us-east-1")
    assert table is not None
    assert (table.region, table.date) == ("us-east-1", "2026-07-20")
    assert "karpenter-provider-aws" in table.source and "Pricing API" in table.source
    assert f"{len(table.usd_per_hour):,} EC2 instance types" in README
    assert table.price("g5.xlarge") == 1.006 and table.price("g5.12xlarge") == 5.672


def test_every_fixed_rate_has_a_source_and_is_in_the_data_readme():
    for name, rate in rates.all_rates().items():
        assert rate.source and ("aws.amazon.com" in rate.source or "AWS" in rate.source), name
        assert f"{rate.usd:.2f}".rstrip("0").rstrip(".") in README or f"{rate.usd}" in README, name
    assert rates.EBS_GB_MONTH["gp3"].usd == 0.08
    assert (rates.EKS_STANDARD_SUPPORT.usd, rates.EKS_EXTENDED_SUPPORT.usd, rates.NAT_GATEWAY_HOUR.usd) == (0.10, 0.60, 0.045)


def test_the_eks_calendar_gives_each_minor_14_months_of_standard_support_in_order():
    ends = [rates.EKS_STANDARD_SUPPORT_END[v] for v in sorted(rates.EKS_STANDARD_SUPPORT_END, key=lambda v: int(v.split(".")[1]))]
    assert ends == sorted(ends)
    assert rates.EKS_STANDARD_SUPPORT_END["1.34"].isoformat() == "2026-12-02"
