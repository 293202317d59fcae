"""Pulumi resource type tokens read by the estimator and the policy pack: one constant each.

A token is ``<package>:<module>/<lowerCamelName>:<Name>``, as the engine reports ``type`` (the
pulumi-aws and pulumi-kubernetes schemas). The program registers these through the provider SDKs,
so its own spelling comes from the SDK classes, not from here.
"""

from __future__ import annotations

# --- AWS ------------------------------------------------------------------------------------------
EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SCHEDULE = "aws:autoscaling/schedule:Schedule"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EBS_VOLUME = "aws:ebs/volume:Volume"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EIP = "aws:ec2/eip:Eip"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUDGET = "aws:budgets/budget:Budget"
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
AWS_LOAD_BALANCERS = (LOAD_BALANCER, "aws:alb/loadBalancer:LoadBalancer")
"""``aws:alb`` is the older alias module of ``aws:lb``; both create the same resource."""
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
EFS_FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
SAGEMAKER_ENDPOINT = "aws:sagemaker/endpoint:Endpoint"

# --- Kubernetes -----------------------------------------------------------------------------------
NAMESPACE = "kubernetes:core/v1:Namespace"
SERVICE = "kubernetes:core/v1:Service"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
GATEWAYS = ("kubernetes:gateway.networking.k8s.io/v1:Gateway", "kubernetes:gateway.networking.k8s.io/v1beta1:Gateway")
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
HELM_RELEASES = (HELM_RELEASE, "kubernetes:helm.sh/v4:Release")
