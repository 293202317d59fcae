"""The advisor's report as text (terminal) and Markdown (the pull request's body)."""

from __future__ import annotations

from typing import Any, Mapping

from ..cost import money, signed


def _saving(rec: Mapping[str, Any]) -> str:
    monthly = rec.get("monthly_usd") or {}
    value = monthly.get("saving")
    if value is None:
        return "not priced"
    return f"saves {money(value)} USD/month" if value > 0 else (
        f"costs {money(-value)} USD/month more" if value < 0 else "no change in the estimate")


def _forecast_line(name: str, f: Mapping[str, Any]) -> str:
    budget = f.get("budget")
    versus = f" vs budget {money(budget)} ({f.get('status')})" if budget is not None else " (no budget)"
    return (f"{name}: {money(f.get('forecast'))} USD by the end of {f.get('month')} "
            f"({f.get('interval', 0.9):.0%} interval {money(f.get('lower'))} - {money(f.get('upper'))}; "
            f"{money(f.get('actual_to_date'))} so far){versus}")


def text(report: Mapping[str, Any]) -> str:
    w = report.get("window") or {}
    lines = [f"Advisor: {report.get('project')}/{report.get('stack')} ({report.get('environment')}), "
             f"{w.get('start')} to {w.get('end')} ({w.get('days')} days)"]
    recs = report.get("recommendations") or []
    total = report.get("total_saving_usd")
    lines += ["", f"Recommendations ({len(recs)}; together {money(total)} USD/month by the estimator, all changes priced "
                  "at once: single savings can overlap):" if recs
              else "Recommendations: none"]
    for i, rec in enumerate(recs, 1):
        lines.append(f"  {i}. [{rec['kind']}] {rec['title']}")
        lines.append(f"     {_saving(rec)}; confidence {rec['confidence']}{'; patched' if rec.get('patched') else ''}")
        for change in rec.get("changes") or []:
            lines.append(f"     {change['path']}: {change['from']!r} -> {change['to']!r}")
        for ev in rec.get("evidence") or []:
            if ev.get("query"):
                value = ev.get("value")
                shown = f" = {value}" if isinstance(value, (int, float)) else ""
                lines.append(f"     evidence: {ev.get('statistic')}{shown}: {ev.get('query')}")
        lines.append(f"     risk: {rec['risk']}")
    for title, key in (("Held by guardrails", "held"), ("Not judged", "not_judged"), ("Ignored (advisor.ignore)", "ignored")):
        entries = report.get(key) or []
        if entries:
            lines += ["", f"{title}:"] + [f"  {e['target']}: {e['reason']}" for e in entries]
    forecast = report.get("forecast")
    if forecast:
        lines += ["", f"Month-end forecast ({forecast.get('method')}):"]
        lines += [f"  {_forecast_line(n, f)}" for n, f in (forecast.get("projects") or {}).items()]
    anomalies = report.get("anomalies")
    if anomalies is not None:
        lines += ["", f"Spend anomalies ({report.get('anomaly_method')}): {len(anomalies) or 'none'}"]
        for a in anomalies:
            drivers = ", ".join(f"{d['service']} {signed(d['delta'])}" for d in a.get("drivers") or [])
            lines.append(f"  {a['date']} {a['project']}: {money(a['amount'])} USD vs {money(a['expected'])} expected "
                         f"(z {a['z']:+.1f}); drivers: {drivers or '-'}")
    return "\n".join(lines) + "\n"


def markdown(report: Mapping[str, Any], diff_text: str | None = None) -> str:
    w = report.get("window") or {}
    recs = report.get("recommendations") or []
    out = [f"## Advisor: `{report.get('stack')}`", "",
           f"Measured {w.get('start')} to {w.get('end')} ({w.get('days')} days). "
           f"Savings are preflight's estimate of the stack before and after each change (USD a month, expected).", ""]
    if recs:
        out += ["| # | Change | Monthly | Confidence | Evidence |", "|---|---|---|---|---|"]
        for i, rec in enumerate(recs, 1):
            ev = next((e for e in rec.get("evidence") or [] if e.get("query")), None)
            evidence = (f"p{ev['percentile']:g} of `{ev['query'][:80]}{'…' if len(ev['query']) > 80 else ''}`"
                        if ev and ev.get("percentile") is not None else (ev or {}).get("statistic") or "config")
            out.append(f"| {i} | {rec['title'].replace('|', '/')} | {_saving(rec)} | {rec['confidence']} | "
                       f"{evidence.replace('|', '/')} |")
        out += ["", f"Together: **{money(report.get('total_saving_usd'))} USD/month** (every patched change priced at "
                    "once; single savings can overlap, e.g. spot on a pool also scaled to zero).", ""]
        out += ["<details><summary>Risks</summary>", ""] + [f"- {r['title']}: {r['risk']}" for r in recs] + ["", "</details>", ""]
    else:
        out += ["No change proposed.", ""]
    for title, key in (("Held by guardrails", "held"), ("Not judged", "not_judged"), ("Ignored", "ignored")):
        entries = report.get(key) or []
        if entries:
            out += [f"**{title}**", ""] + [f"- `{e['target']}`: {e['reason']}" for e in entries] + [""]
    forecast = report.get("forecast")
    if forecast:
        out += ["### Month-end forecast", "", f"Method: {forecast.get('method')}.", ""]
        out += [f"- {_forecast_line(n, f)}" for n, f in (forecast.get("projects") or {}).items()] + [""]
    anomalies = report.get("anomalies")
    if anomalies:
        out += ["### Spend anomalies", ""]
        for a in anomalies:
            drivers = ", ".join(f"{d['service']} {signed(d['delta'])}" for d in a.get("drivers") or [])
            out.append(f"- {a['date']} `{a['project']}`: {money(a['amount'])} USD vs {money(a['expected'])} "
                       f"expected (robust z {a['z']:+.1f}); drivers: {drivers or '-'}")
        out.append("")
    if diff_text:
        out += ["<details><summary>Stack file change</summary>", "", "```diff", diff_text.rstrip("\n"), "```", "",
                "</details>", ""]
    return "\n".join(out)
