"""Alertmanager's configuration from the stack config: routing, grouping and inhibition against alert fatigue.

- **Routing**: an alert labelled ``project`` goes to that project's receiver
  (``observability.receivers``); cluster and pool incidents, and projects without a receiver, to
  ``observability.platformReceiver``. Outside prod every warning goes to the low-noise receiver.
- **Grouping**: by project, service and alert name: a burst of one alert across a service's pods
  is one notification.
- **Inhibition**: a critical cluster-level incident silences every per-service alert; a critical
  pool-level one those of services on that pool (``equal: [node_pool]``); a critical alert of a
  service silences its warnings.
- **Repeats**: criticals every ``repeatInterval``, warnings every ``warningRepeatInterval``.
"""

from __future__ import annotations

from typing import Any

from components.config.observability import ObservabilityConfig, ReceiverConfig

from .rules import CRITICAL, SCOPE_CLUSTER, SCOPE_POOL, SCOPE_SERVICE, WARNING

PLATFORM = "platform"
LOW_NOISE = "low-noise"
SECRETS_DIR = "/etc/alertmanager/secrets"
"""Where the operator mounts ``alertmanagerSpec.secrets`` (one directory per Secret)."""
SMTP_SECRET = "alertmanager-smtp"
SMTP_PASSWORD_KEY = "password"
GROUP_BY = ["project", "service", "alertname"]
GROUP_WAIT = "30s"
GROUP_INTERVAL = "5m"


def project_receiver(project: str) -> str:
    return f"project-{project}"


def receiver(name: str, spec: ReceiverConfig, sns_topic_arn: str | None, region: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if spec.emails:
        out["email_configs"] = [{"to": email, "send_resolved": True} for email in spec.emails]
    if spec.webhook_url is not None:
        out["webhook_configs"] = [{"url": spec.webhook_url, "send_resolved": True}]
    if spec.sns and sns_topic_arn:
        sns: dict[str, Any] = {"topic_arn": sns_topic_arn, "send_resolved": True,
                               "subject": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} '
                                          '{{ .CommonLabels.project }}/{{ .CommonLabels.service }}'}
        if region:
            sns["sigv4"] = {"region": region}  # credentials from the pod: Alertmanager's Pod Identity role
        out["sns_configs"] = [sns]
    return out


def alertmanager_config(obs: ObservabilityConfig, *, is_prod: bool, projects: list[str],
                        sns_topic_arn: str | None = None, region: str | None = None) -> dict[str, Any]:
    """The whole ``alertmanager.yml`` as a mapping (the kube-prometheus-stack chart's ``alertmanager.config``)."""
    receivers = [receiver(PLATFORM, obs.platform_receiver, sns_topic_arn, region),
                 receiver(LOW_NOISE, obs.low_noise_receiver, sns_topic_arn, region)]
    routes: list[dict[str, Any]] = []
    warning_route = {"matchers": [f'severity="{WARNING}"'], "repeat_interval": obs.warning_repeat_interval}
    if not is_prod:
        routes.append({**warning_route, "receiver": LOW_NOISE})
    for project in projects:
        spec = obs.receiver_for(project)
        if spec is None or spec.empty:
            continue
        name = project_receiver(project)
        receivers.append(receiver(name, spec, sns_topic_arn, region))
        routes.append({"receiver": name, "matchers": [f'project="{project}"'], "routes": [warning_route]})
    config: dict[str, Any] = {
        "route": {
            "receiver": PLATFORM,
            "group_by": GROUP_BY,
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
            "repeat_interval": obs.repeat_interval,
            "routes": routes,
        },
        "inhibit_rules": [
            {"source_matchers": [f'scope="{SCOPE_CLUSTER}"', f'severity="{CRITICAL}"'],
             "target_matchers": [f'scope="{SCOPE_SERVICE}"']},
            {"source_matchers": [f'scope="{SCOPE_POOL}"', f'severity="{CRITICAL}"'],
             "target_matchers": [f'scope="{SCOPE_SERVICE}"'], "equal": ["node_pool"]},
            {"source_matchers": [f'scope="{SCOPE_SERVICE}"', f'severity="{CRITICAL}"'],
             "target_matchers": [f'scope="{SCOPE_SERVICE}"', f'severity="{WARNING}"'],
             "equal": ["project", "service"]},
        ],
        "receivers": receivers,
    }
    if obs.smtp is not None:
        smtp: dict[str, Any] = {"smtp_smarthost": obs.smtp.smarthost, "smtp_from": obs.smtp.sender,
                                "smtp_require_tls": True}
        if obs.smtp.username:
            smtp["smtp_auth_username"] = obs.smtp.username
            smtp["smtp_auth_password_file"] = f"{SECRETS_DIR}/{SMTP_SECRET}/{SMTP_PASSWORD_KEY}"
        config["global"] = smtp
    return config


def uses_sns(obs: ObservabilityConfig) -> bool:
    return any(r.sns for r in (obs.platform_receiver, obs.low_noise_receiver, *obs.receivers.values()))
