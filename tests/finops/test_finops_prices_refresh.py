"""``prices refresh`` against a real botocore pricing client whose answers are stubbed (no network)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ai_platform_finops.catalog import PriceTable, price_table, read_price_table, write_price_table
from preflight import prices
from preflight.cli import main

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
REGION = "eu-west-1"


def price_item(instance_type: str, usd: str | None, currency: str = "USD") -> str:
    """One PriceList entry as the API returns it: a JSON document in a string."""
    per_unit = {currency: usd} if usd is not None else {}
    return json.dumps({
        "product": {"productFamily": "Compute Instance", "attributes": {"instanceType": instance_type, "regionCode": REGION}},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {"ABC.JRTCKXETXF.6YS6EN2CT7": {
            "unit": "Hrs", "pricePerUnit": per_unit}}}}},
        "version": "20261120000000", "publicationDate": "2026-11-20T00:00:00Z",
    })


def client() -> Any:
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def expected(region: str = REGION, token: str | None = None, instance_type: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"ServiceCode": "AmazonEC2", "Filters": prices.filters(region, instance_type),
                              "FormatVersion": "aws_v1", "MaxResults": 100}
    if token:
        params["NextToken"] = token
    return params


def test_filters_are_the_documented_term_matches():
    assert prices.filters("eu-west-1", "g5.xlarge") == [
        {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "g5.xlarge"},
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-west-1"},
        {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "licenseModel", "Value": "No License required"},
        {"Type": "TERM_MATCH", "Field": "marketoption", "Value": "OnDemand"},
    ]


def test_pages_no_usd_price_and_malformed_items(tmp_path: Path):
    pricing = client()
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {
            "FormatVersion": "aws_v1",
            "PriceList": [price_item("g5.xlarge", "1.1080000000"), price_item("cn.large", "7.1", currency="CNY")],
            "NextToken": "page-2",
        }, expected(REGION))
        stub.add_response("get_products", {
            "FormatVersion": "aws_v1",
            "PriceList": ["{not json", json.dumps({"product": {}}), price_item("m6i.large", "0.1070000000"),
                          price_item("free.nano", "0.0000000000")],
        }, expected(REGION, "page-2"))
        path, result = prices.refresh(REGION, tmp_path / "ec2-ondemand-eu-west-1.csv", client=pricing, now=NOW)
        stub.assert_no_pending_responses()
    assert (result.pages, result.items) == (2, 6)
    assert sorted(result.no_usd) == ["cn.large", "free.nano"]
    assert len(result.malformed) == 2 and "not JSON" in result.malformed[0]
    table = read_price_table(path)
    assert table.usd_per_hour == {"g5.xlarge": 1.108, "m6i.large": 0.107}
    assert (table.region, table.date) == (REGION, "2026-11-27")
    assert "pricing:GetProducts" in table.source and "fetched 2026-11-27T09:30:00Z" in table.source
    # The estimator's loader finds it where the refresh wrote it.
    assert price_table(REGION, tmp_path) == table


def test_an_empty_answer_writes_nothing(tmp_path: Path):
    pricing = client()
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []}, expected("xx-nowhere-1"))
        with pytest.raises(prices.RefreshError, match="returned no on-demand Linux price for region 'xx-nowhere-1'"):
            prices.refresh("xx-nowhere-1", tmp_path / "out.csv", client=pricing, now=NOW)
    assert not (tmp_path / "out.csv").exists()


def test_instance_types_are_queried_one_by_one_and_merged_into_the_snapshot(tmp_path: Path):
    path = tmp_path / "snapshot.csv"
    write_price_table(PriceTable(REGION, "2026-07-20", "older", {"g5.xlarge": 1.0, "t3.micro": 0.01}), path)
    pricing = client()
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [price_item("g5.xlarge", "1.108")]},
                          expected(REGION, instance_type="g5.xlarge"))
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [price_item("g6.xlarge", "0.885")]},
                          expected(REGION, instance_type="g6.xlarge"))
        prices.refresh(REGION, path, ["g5.xlarge", "g6.xlarge"], client=pricing, now=NOW)
    table = read_price_table(path)
    assert table.usd_per_hour == {"g5.xlarge": 1.108, "g6.xlarge": 0.885, "t3.micro": 0.01}
    assert table.date == "2026-11-27" and "dated 2026-07-20" in table.source


def test_cli_refresh_and_its_errors(tmp_path: Path, monkeypatch, capsys):
    pricing = client()
    stub = Stubber(pricing)
    stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [price_item("g5.xlarge", "1.108")]},
                      expected(REGION))
    stub.add_client_error("get_products", "AccessDeniedException", "not allowed pricing:GetProducts",
                          expected_params=expected(REGION))
    stub.activate()
    monkeypatch.setattr(prices, "make_client", lambda: pricing)
    out = tmp_path / "fresh.csv"
    assert main(["prices", "refresh", "--region", REGION, "--out", str(out)]) == 0
    assert "wrote 1 on-demand prices for eu-west-1" in capsys.readouterr().out
    assert read_price_table(out).usd_per_hour == {"g5.xlarge": 1.108}

    assert main(["prices", "refresh", "--region", REGION, "--out", str(tmp_path / "denied.csv")]) == 2
    err = capsys.readouterr().err
    assert "prices refresh: AWS Pricing API" in err and "AccessDeniedException" in err and "Traceback" not in err
    assert main(["prices", "refresh"]) == 2
    assert "--region" in capsys.readouterr().err


# --- a refresh never shrinks the catalog by accident ------------------------------------------

SHIPPED = Path(__file__).resolve().parents[2] / "finops" / "ai_platform_finops" / "data" / "ec2-ondemand-us-east-1.csv"


def shipped_copy(tmp_path: Path) -> Path:
    path = tmp_path / "ec2-ondemand-us-east-1.csv"
    path.write_bytes(SHIPPED.read_bytes())
    return path


def no_client() -> Any:
    raise AssertionError("the Pricing API must not be asked when the snapshot is unusable")


def test_a_partial_refresh_of_the_shipped_catalog_changes_one_row_and_keeps_the_rest(tmp_path, monkeypatch, capsys):
    path = shipped_copy(tmp_path)
    before = read_price_table(path).usd_per_hour
    assert len(before) > 1300
    pricing = client()
    with Stubber(pricing) as stub:
        stub.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": [price_item("g5.xlarge", "1.5")]},
                          expected("us-east-1", instance_type="g5.xlarge"))
        monkeypatch.setattr(prices, "make_client", lambda: pricing)
        assert main(["prices", "refresh", "--region", "us-east-1", "--out", str(path), "--instance-type", "g5.xlarge"]) == 0
    after = read_price_table(path).usd_per_hour
    assert after == {**before, "g5.xlarge": 1.5}
    assert f"wrote {len(before)} on-demand prices" in capsys.readouterr().out


def test_a_snapshot_with_one_bad_row_is_exit_2_with_nothing_written(tmp_path, monkeypatch, capsys):
    path = shipped_copy(tmp_path)
    damaged = path.read_text().replace("g5.xlarge,", "g5.xlarge,not-a-price-", 1)
    path.write_text(damaged)
    monkeypatch.setattr(prices, "make_client", no_client)
    code = main(["prices", "refresh", "--region", "us-east-1", "--out", str(path), "--instance-type", "g5.xlarge"])
    err = capsys.readouterr().err
    assert code == 2 and path.read_text() == damaged
    assert err.count("\n") == 1 and "g5.xlarge: price 'not-a-price-" in err and "nothing was written" in err


@pytest.mark.parametrize("content, problem", [
    ("# region: eu-west-1\ninstance_type,usd_per_hour\n,1.0\n", "row 1: no instance type"),
    ("# region: eu-west-1\ninstance_type,usd_per_hour\nm5.large,nan\n", "not a finite"),
    ("# region: eu-west-1\ninstance_type,usd_per_hour\nm5.large,1e999\n", "not a finite"),
    ("# region: eu-west-1\ninstance_type,usd_per_hour\nm5.large,1\nm5.large,2\n", "appears twice"),
    ("# region: eu-west-1\nname,price\n", "header"),
])
def test_damaged_snapshots_are_named_by_row(tmp_path, monkeypatch, capsys, content, problem):
    path = tmp_path / "s.csv"
    path.write_text(content)
    monkeypatch.setattr(prices, "make_client", no_client)
    assert main(["prices", "refresh", "--region", REGION, "--out", str(path)]) == 2
    assert problem in capsys.readouterr().err and path.read_text() == content


def test_a_snapshot_that_is_not_a_regular_file_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.csv"
    path.symlink_to("/dev/zero")
    monkeypatch.setattr(prices, "make_client", no_client)
    assert main(["prices", "refresh", "--region", REGION, "--out", str(path)]) == 2
    assert "is a device, not a regular file" in capsys.readouterr().err


def test_a_snapshot_of_another_region_is_refused(tmp_path, monkeypatch, capsys):
    path = shipped_copy(tmp_path)
    monkeypatch.setattr(prices, "make_client", no_client)
    assert main(["prices", "refresh", "--region", REGION, "--out", str(path)]) == 2
    assert "holds prices for us-east-1, not eu-west-1" in capsys.readouterr().err


def test_a_full_refresh_that_drops_rows_needs_allow_shrink(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.csv"
    write_price_table(PriceTable(REGION, "2026-07-20", "older", {f"m5.{i}xlarge": 1.0 + i for i in range(40)}), path)
    before = path.read_text()
    answer = {"FormatVersion": "aws_v1", "PriceList": [price_item(f"m5.{i}xlarge", "3.0") for i in range(37)]}
    pricing = client()
    with Stubber(pricing) as stub:
        stub.add_response("get_products", answer, expected(REGION))
        stub.add_response("get_products", answer, expected(REGION))
        monkeypatch.setattr(prices, "make_client", lambda: pricing)
        assert main(["prices", "refresh", "--region", REGION, "--out", str(path)]) == 2
        assert "would drop 3 of the snapshot's 40 prices" in capsys.readouterr().err and path.read_text() == before
        assert main(["prices", "refresh", "--region", REGION, "--out", str(path), "--allow-shrink"]) == 0
    assert len(read_price_table(path).usd_per_hour) == 37


def test_dropping_a_few_percent_is_allowed(tmp_path):
    existing = PriceTable(REGION, "d", "s", {f"t{i}": 1.0 for i in range(100)})
    assert prices.shrink_problem(PriceTable(REGION, "d", "s", {f"t{i}": 1.0 for i in range(95)}), existing) is None
    assert "drop 6 of" in (prices.shrink_problem(PriceTable(REGION, "d", "s", {f"t{i}": 1.0 for i in range(94)}), existing) or "")
