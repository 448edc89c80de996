"""Every demo runs at its reduced size; the pictures exist; backends agree; the CLI works."""

import numpy as np
import pytest
from PIL import Image

import scratchml as sm
from scratchml.cli import main
from scratchml.demos import DEMOS

from .test_viz import _assert_animation, _png_is_not_blank

EXPECTED_GIF_FRAMES = {
    "two_spirals.gif": 2 + 3 * 2 * 3 + 2,  # holds + 3 stages × 2 frames × 3 hidden layers + holds
    "three_spirals.gif": 2 + 3 * 2 * 3 + 2,
    "linear_regression.gif": 12 // 2 + 1,  # snapshots at epochs 0, 2, …, 12
    "unit_norms.gif": 8,
}


@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_writes_its_pictures(name, tmp_path):
    result = DEMOS[name](out=tmp_path, size="small", progress=False)
    assert result.files
    for path in result.files:
        assert path.exists() and path.parent == tmp_path
        if path.suffix == ".gif":
            _assert_animation(path, EXPECTED_GIF_FRAMES[path.name])
        else:
            assert path.suffix == ".png" and _png_is_not_blank(path)
            assert Image.open(path).size[0] >= 400


@pytest.mark.parametrize("name", [n for n in DEMOS if n != "unit_norms"])
def test_strict_arrays_give_the_same_pictures_data(name, tmp_path):
    numpy_run = DEMOS[name](backend="numpy", out=tmp_path / "np", size="small", progress=False)
    strict_run = DEMOS[name](
        backend="array_api_strict", out=tmp_path / "st", size="small", progress=False
    )
    assert sm.backends.backend_name(strict_run.model.params_[0][0]) == "array_api_strict"
    for (W, b), (sW, sb) in zip(numpy_run.model.params_, strict_run.model.params_, strict=True):
        np.testing.assert_allclose(sm.backends.to_numpy(sW), W, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(sm.backends.to_numpy(sb), b, rtol=1e-5, atol=1e-6)
    for key, value in numpy_run.metrics.items():
        assert strict_run.metrics[key] == pytest.approx(value, rel=1e-4, abs=1e-6)


def test_cli_runs_a_demo_and_says_what_it_wrote(tmp_path, capsys):
    assert main(["demo", "two_spirals", "--out", str(tmp_path), "--small"]) == 0
    printed = capsys.readouterr().out
    assert "two_spirals.gif" in printed and "training accuracy" in printed
    assert (tmp_path / "two_spirals_boundary.png").exists()


def test_cli_unknown_demo_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "four_spirals"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown demo 'four_spirals'" in err and "two_spirals" in err


def test_cli_unusable_backend_says_why(capsys):
    if not sm.backends.why_unavailable("cupy"):
        pytest.skip("cupy is usable here")
    with pytest.raises(SystemExit):
        main(["demo", "unit_norms", "--backend", "cupy", "--small"])
    assert "not usable" in capsys.readouterr().err


def test_cli_lists_backends(capsys):
    assert main(["backends"]) == 0
    assert "numpy" in capsys.readouterr().out


def test_demo_rejects_unknown_size(tmp_path):
    with pytest.raises(ValueError, match="size must be one of"):
        DEMOS["unit_norms"](out=tmp_path, size="huge")
