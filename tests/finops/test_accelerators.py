"""The accelerator table's counts: MIG slices follow the device plugin's MIG strategy (none, single,
mixed) and fail closed (None) where a MIG layout meets an unknown strategy; Trainium2 instances
count their chips, never their LNC-dependent NeuronCores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai_platform_finops import accelerators, catalog
from ai_platform_finops.accelerators import per_instance

MIG_TYPES = sorted(t for t, s in catalog.gpu_specs().items()
                   if s.gpu_model in accelerators.MIG_CAPABLE_MODELS and catalog.gpu_count(t) > 0)
OTHER_NVIDIA = sorted(t for t, s in catalog.gpu_specs().items()
                      if s.gpu_model.startswith("NVIDIA") and s.gpu_model not in accelerators.MIG_CAPABLE_MODELS)
PROFILES = st.builds(lambda g, mem, me: f"{g}g.{mem}gb{me}", st.integers(1, 8), st.sampled_from([5, 10, 12, 18, 20, 23, 40, 45, 90]),
                     st.sampled_from(["", "+me"]))
LAYOUTS = st.one_of(st.none(), st.sampled_from(["all-disabled", "all-enabled", "all-balanced", "my-own-layout"]),
                    PROFILES.map(lambda p: f"all-{p.replace('+me', '.me')}"))
STRATEGIES = st.sampled_from([None, "none", "single", "mixed"])
GPU = "nvidia.com/gpu"


@pytest.mark.parametrize("resource, layout, strategy, expected", [
    # p4d.24xlarge: 8 A100-40GB; all-1g.5gb is 7 slices per GPU.
    (GPU, None, None, 8), (GPU, None, "single", 8), (GPU, "all-disabled", None, 8), (GPU, "all-disabled", "mixed", 8),
    (GPU, "all-1g.5gb", None, None), (GPU, "all-1g.5gb", "none", 8), (GPU, "all-1g.5gb", "single", 56),
    (GPU, "all-1g.5gb", "mixed", 0), (GPU, "all-balanced", "single", 0), (GPU, "all-balanced", "mixed", 0),
    (GPU, "all-enabled", "single", 0), (GPU, "all-enabled", "none", 8), (GPU, "my-own-layout", "single", None),
    (GPU, "all-1g.24gb.gfx", "single", None), (GPU, "all-1g.24gb.gfx", "mixed", 0),
    (GPU, "my-own-layout", "none", 8), (GPU, "all-3g.20gb", "single", 16), (GPU, "all-1g.10gb", "single", 32),
    ("nvidia.com/mig-1g.5gb", "all-1g.5gb", None, None), ("nvidia.com/mig-1g.5gb", "all-1g.5gb", "none", 0),
    ("nvidia.com/mig-1g.5gb", "all-1g.5gb", "single", 0), ("nvidia.com/mig-1g.5gb", "all-1g.5gb", "mixed", 56),
    ("nvidia.com/mig-1g.5gb", None, "mixed", None), ("nvidia.com/mig-1g.5gb", None, "single", 0),
    ("nvidia.com/mig-1g.5gb", "all-disabled", None, 0), ("nvidia.com/mig-1g.5gb", "my-own-layout", "mixed", None),
])
def test_an_a100_node_under_each_strategy(resource, layout, strategy, expected):
    assert per_instance("p4d.24xlarge", resource, layout, strategy) == expected


def test_mig_parted_names_the_media_profiles_with_a_dot():
    assert accelerators.mig_layout_profile("all-1g.10gb.me") == "1g.10gb+me"
    assert accelerators.mig_layout_profile("all-balanced") is None
    assert per_instance("p5.48xlarge", GPU, "all-1g.10gb.me", "single") == 8


@given(st.sampled_from(MIG_TYPES), LAYOUTS, PROFILES)
def test_an_unknown_strategy_never_counts_a_mig_node(instance_type, layout, profile):
    counts = (per_instance(instance_type, GPU, layout), per_instance(instance_type, f"nvidia.com/mig-{profile}", layout))
    if accelerators.mig_layout(layout) in (accelerators.ENABLED, accelerators.CUSTOM):
        assert counts == (None, None)
    else:
        assert counts[0] == catalog.gpu_count(instance_type)


@given(st.sampled_from(MIG_TYPES), LAYOUTS, PROFILES)
def test_none_advertises_whole_gpus_and_no_slices(instance_type, layout, profile):
    assert per_instance(instance_type, GPU, layout, "none") == catalog.gpu_count(instance_type)
    assert per_instance(instance_type, f"nvidia.com/mig-{profile}", layout, "none") == 0


@given(st.sampled_from(MIG_TYPES), LAYOUTS, PROFILES)
def test_single_advertises_the_slices_mixed_counts_as_nvidia_gpus(instance_type, layout, profile):
    """Under single the slices are nvidia.com/gpu: as many as mixed gives the layout's profile."""
    assert per_instance(instance_type, f"nvidia.com/mig-{profile}", layout, "single") == 0
    single = per_instance(instance_type, GPU, layout, "single")
    uniform = accelerators.mig_layout_profile(layout) if layout else None
    if accelerators.mig_layout(layout) in (None, accelerators.DISABLED):
        assert single == catalog.gpu_count(instance_type)
    elif uniform is not None:
        assert single == per_instance(instance_type, f"nvidia.com/mig-{uniform}", layout, "mixed")
        assert per_instance(instance_type, GPU, layout, "mixed") == 0
    else:
        assert single in (0, None)


@given(st.sampled_from(OTHER_NVIDIA), LAYOUTS, STRATEGIES, PROFILES)
def test_gpus_without_mig_are_whole_whatever_the_labels_say(instance_type, layout, strategy, profile):
    assert per_instance(instance_type, GPU, layout, strategy) == catalog.gpu_count(instance_type)
    assert per_instance(instance_type, f"nvidia.com/mig-{profile}", layout, strategy) == 0


@given(st.sampled_from(MIG_TYPES + OTHER_NVIDIA), LAYOUTS, STRATEGIES, PROFILES)
def test_counts_are_never_negative_and_never_above_seven_slices_per_gpu(instance_type, layout, strategy, profile):
    for resource in (GPU, f"nvidia.com/mig-{profile}"):
        n = per_instance(instance_type, resource, layout, strategy)
        assert n is None or 0 <= n <= 7 * max(catalog.gpu_count(instance_type), 1)


# --- Neuron ---------------------------------------------------------------------------------------

def test_trainium2_counts_its_chips_not_its_logical_cores():
    specs = catalog.neuron_specs()
    assert (specs["trn2.48xlarge"].devices, specs["trn2.48xlarge"].cores) == (16, None)
    assert (specs["trn2u.48xlarge"].devices, specs["trn2u.48xlarge"].cores) == (16, None)
    assert per_instance("trn2.48xlarge", "aws.amazon.com/neuron") == 16
    assert per_instance("trn2.48xlarge", "aws.amazon.com/neuroncore") is None
    assert accelerators.devices_per_instance("trn2u.48xlarge") == 16
    assert per_instance("trn1.32xlarge", "aws.amazon.com/neuroncore") == 32


def test_every_neuron_row_is_whole_and_cores_are_a_multiple_of_chips():
    for spec in catalog.neuron_specs().values():
        assert spec.devices >= 1
        assert spec.cores is None or spec.cores % spec.devices == 0, spec


def test_the_neuron_specs_name_the_trn2_source_and_why_cores_are_left_out():
    head = catalog.NEURON_SPECS_FILE.read_text(encoding="utf-8").split("instance_type,", 1)[0]
    assert "Amazon EC2 Trn2 Architecture" in head and "Logical NeuronCore" in head
    assert "ec2-neuron-specs.csv" in (catalog.DATA_DIR / "README.md").read_text(encoding="utf-8")
