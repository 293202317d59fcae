"""InferenceService: one model behind a ClusterIP Service, placed on its node pool, governed and billed.

Children: a ServiceAccount (no token automount unless asked), a Deployment, a ClusterIP Service, an
``autoscaling/v2`` HorizontalPodAutoscaler and, when min replicas >= 2, a PodDisruptionBudget.

Every Kubernetes input is built by the pure ``components.inference.render.render`` from the typed
Args (``components/inference/``: resources and placement, pod, workload specs); the component only
hands those values to the resources, and ``render.manifests`` serializes the very same values the way
the SDK does for the engine (the hypothesis and schema tests use it).

GPU requests: the config holds one whole number (``resources.gpus``, a StrictInt). ``nvidia.com/gpu``
is written to ``limits`` and, equal to it, to ``requests``; nothing can express a fractional GPU, a
request without a limit, or a request that differs from the limit (Kubernetes rejects all three).

The Deployment never sets ``spec.replicas``: the HPA owns the scale (``minReplicas``/``maxReplicas``).
A replica count in the Deployment would be re-applied on every update, and under server-side apply
it conflicts with the HPA's field manager (pulumi/pulumi-kubernetes#2569).

Rollouts: a GPU service rolls with ``maxSurge: 0, maxUnavailable: 1``. At max replicas a surge pod
needs one more GPU than the project's quota and the pool's max size provide, so a surge rollout
would stall; the old pod's GPU goes to the new one instead. CPU services keep ``maxSurge: 1,
maxUnavailable: 0``. A GPU rollout may wait for a node from zero, a multi-GB image pull and the
model load, longer than Pulumi's 10-minute default: GPU Deployments get ``customTimeouts`` (create and
update, at least 30 minutes) and a ``progressDeadlineSeconds`` that leaves the same room. Outside prod,
a GPU pool that can sit at zero (``minSize: 0`` or an off-peak schedule) may have no node for hours, so
its Deployments carry ``pulumi.com/skipAwait: "true"``: ``pulumi up`` does not wait for them to become
ready (check with ``kubectl rollout status``), instead of failing after the timeout at night.

Disk and memory of real model servers: a sized ``emptyDir`` model cache (``HOME`` and ``HF_HOME`` point
at it, and its size is requested as ``ephemeral-storage``), and an in-memory ``/dev/shm`` for services
with more than one GPU (or when ``sharedMemory.enabled``): NCCL needs far more than the default 64 MiB.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.inference.args import InferenceServiceArgs
from components.inference.render import render
from components.inference.workload import deployment_timeouts

TYPE = "ai-platform:inference:InferenceService"


class InferenceService(pulumi.ComponentResource):
    """One governed model server. Pass the cluster's Kubernetes provider in ``opts``; children inherit it."""

    service_account: k8s.core.v1.ServiceAccount
    """The pods' ServiceAccount."""
    deployment: k8s.apps.v1.Deployment
    """The model server's Deployment (the HPA owns its scale)."""
    service: k8s.core.v1.Service
    """The ClusterIP Service in front of it."""
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler
    """Its HorizontalPodAutoscaler."""
    pdb: k8s.policy.v1.PodDisruptionBudget | None
    """Its PodDisruptionBudget (None below two replicas)."""
    url: pulumi.Output[str]
    """The in-cluster URL, http://<service>.<namespace>.svc.cluster.local:<port>."""

    def __init__(self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        r = render(args)
        child = pulumi.ResourceOptions(parent=self)
        svc = args.service

        self.service_account = k8s.core.v1.ServiceAccount(
            name, metadata=r.metadata, automount_service_account_token=r.automount_service_account_token, opts=child)
        self.deployment = k8s.apps.v1.Deployment(
            name, metadata=r.deployment_metadata, spec=r.deployment,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service_account, *args.depends_on],
                                        custom_timeouts=deployment_timeouts(args)))
        self.service = k8s.core.v1.Service(name, metadata=r.metadata, spec=r.service, opts=child)
        self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name, metadata=r.metadata, spec=r.hpa, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment]))
        self.pdb = None
        if r.pdb is not None:
            self.pdb = k8s.policy.v1.PodDisruptionBudget(name, metadata=r.metadata, spec=r.pdb, opts=child)

        # One apply on the namespace (the only Output in it), not a six-part Output.concat per service.
        self.url = pulumi.Output.from_input(args.namespace).apply(
            lambda namespace: f"http://{svc.name}.{namespace}.svc.cluster.local:{svc.port}")
        self.register_outputs({"deployment": svc.name, "namespace": args.namespace, "url": self.url})
