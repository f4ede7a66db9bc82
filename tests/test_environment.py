"""Where results were computed (dlpipe.core.environment): what it records, and when two differ."""

from __future__ import annotations

import json

from dlpipe.core.environment import chip, cpu, describe_here, differences, parse, summary, write

EPYC_GENOA = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512bw avx512vl rdrand

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
"""
EPYC_AVX2 = EPYC_GENOA.replace("avx512f avx512dq avx512bw avx512vl ", "").replace("model\t\t: 17", "model\t\t: 1")
XEON = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz
flags\t\t: sse4_1 sse4_2 avx avx2 fma avx512f
"""
GRAVITON = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes sve
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd40
"""


def test_the_cpu_is_its_model_and_vector_isa_from_the_first_processor():
    found = cpu(EPYC_GENOA)
    assert found == {
        "vendor": "AuthenticAMD",
        "model": "AMD EPYC",
        "family": "25",
        "model_number": "17",
        "isa": [
            "avx",
            "avx2",
            "avx512bw",
            "avx512dq",
            "avx512f",
            "avx512vl",
            "f16c",
            "fma",
            "sse4_1",
            "sse4_2",
            "ssse3",
        ],
    }
    assert chip(found) == "AMD EPYC (family 25 model 17, AVX-512)"
    assert chip(cpu(EPYC_AVX2)) == "AMD EPYC (family 25 model 1, AVX2)"
    arm = cpu(GRAVITON)
    assert arm["isa"] == ["aes", "asimd", "evtstrm", "fp", "sve"] and arm["model"] == "0xd40"
    assert chip(arm).endswith("SVE)")


def test_two_epycs_with_and_without_avx512_are_different_environments():
    # The CPUs of the issue: same model name, another ISA, other bits.
    genoa, older = describe_here("jax", EPYC_GENOA), describe_here("jax", EPYC_AVX2)
    assert differences(genoa, older) == [
        "CPU AMD EPYC (family 25 model 17, AVX-512) vs AMD EPYC (family 25 model 1, AVX2)"
    ]
    assert differences(genoa, describe_here("jax", EPYC_GENOA)) == []
    assert (
        "CPU Intel(R) Xeon(R) CPU @ 2.20GHz (family 6 model 85, AVX-512)"
        in differences(describe_here("jax", XEON), genoa)[0]
    )


def test_backend_and_library_versions_are_part_of_it():
    jax, tensorflow = describe_here("jax", XEON), describe_here("tensorflow", XEON)
    assert set(jax["packages"]) == {"keras", "jax", "jaxlib", "numpy"}
    assert all(jax["packages"].values())  # all installed here
    assert "backend jax vs tensorflow" in differences(jax, tensorflow)
    upgraded = json.loads(json.dumps(jax))
    upgraded["packages"]["keras"] = "99.0"
    assert differences(jax, upgraded) == [f"keras {jax['packages']['keras']} vs 99.0"]


def test_an_unrecorded_side_is_never_taken_as_the_same_machine():
    here = describe_here("jax", XEON)
    assert differences(None, here) == ["where a side was computed is not recorded"]
    assert differences(None, None) == ["where a side was computed is not recorded"]
    assert summary(None) == "not recorded"


def test_written_twice_the_same_environment_is_the_same_bytes(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write(a, describe_here("jax", EPYC_GENOA))
    write(b, describe_here("jax", EPYC_GENOA))
    assert a.read_bytes() == b.read_bytes()
    assert parse(a.read_text()) == describe_here("jax", EPYC_GENOA)
    assert parse("") is None and parse("not json") is None and parse("[1]") is None


def test_the_summary_names_the_cpu_and_the_versions():
    text = summary(describe_here("jax", EPYC_GENOA))
    assert text.startswith("AMD EPYC (family 25 model 17, AVX-512), ")
    assert "Keras on jax: keras " in text and ", jaxlib " in text
