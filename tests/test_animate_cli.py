"""`stick-gen animate` end to end: prompts to MP4/GIF/JSON, the learned-model path, user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from children import running_encoders

from stickgen.animate import Animation, animate, make_animation, write_animation
from stickgen.cli import main
from stickgen.errors import StickGenError
from stickgen.face import face_track
from stickgen.motion import synthesize
from stickgen.render import VideoEncoder
from stickgen.schema import FACE_DIM, FPS, MOTION_DIM, MotionClip, action_vocabulary
from stickgen.timeline import smoothed

# (prompt, seconds); most are short and small to keep the run fast.
PROMPTS = [
    ("A man running", 1.2),
    ("A woman jumping up and down", 1.6),
    ("Someone sits down and reads a book", 2.0),
    ("A child dancing excitedly", 1.0),
    ("Two people talking", 1.2),
    ("A boxer punching angrily", 0.8),
    ("A person crying sadly", 1.0),
    ("A kid kicks a ball", 1.2),
    ("A person climbs a ladder", 1.6),
    ("A performer bows to the crowd", 1.0),
    ("A man shouting", 0.6),
    ("A woman singing happily", 1.2),
    ("Someone whispers a secret", 0.8),
    ("A baby crawls on the floor", 1.4),
    ("A swimmer swimming", 1.0),
    ("A person stretches and then claps", 2.0),
    ("A pitcher throws a ball and then catches it", 1.6),
    ("A worker lifts a box and pushes a cart", 1.8),
    ("A surprised person looks around, then shrugs", 1.4),
]
BIG_PROMPT = "A person walking and waving happily"


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as stop:
        main(args)
    out, err = capsys.readouterr()
    code = stop.value.code
    return (0 if code is None else int(code)), out, err


def read_video(path: Path) -> tuple[np.ndarray, dict]:
    """Decode every frame and the stream's metadata with one ffmpeg run."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    return np.stack(frames), meta


@pytest.mark.parametrize(("prompt", "seconds"), PROMPTS)
def test_animate_prompts_write_valid_mp4(prompt: str, seconds: float, tmp_path, capsys) -> None:
    out = tmp_path / "clip.mp4"
    args = ["animate", prompt, "-o", str(out), "--duration", str(seconds), "--size", "128x128"]
    code, stdout, err = run_cli([*args, "--seed", "3"], capsys)
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0] == str(out)
    assert "procedural engine" in lines[1] and f"{seconds:g} s" in lines[1]
    frames, meta = read_video(out)
    assert frames.shape == (round(seconds * FPS), 128, 128, 3)
    assert meta["fps"] == pytest.approx(FPS)


def test_animate_full_size_ten_seconds(tmp_path, capsys) -> None:
    out = tmp_path / "test.mp4"
    args = ["animate", BIG_PROMPT, "--output", str(out), "--duration", "10"]
    code, stdout, err = run_cli([*args, "--width", "512", "--height", "512"], capsys)
    assert code == 0, err
    assert "walk" in stdout and "wave" in stdout
    frames, meta = read_video(out)
    assert frames.shape == (250, 512, 512, 3)
    assert meta["fps"] == pytest.approx(FPS) and meta["codec"].startswith("h264")
    # The figure moves: frames differ over time.
    assert not np.array_equal(frames[10], frames[200])


def test_json_export_holds_motion_actions_faces_and_plan(tmp_path, capsys) -> None:
    out = tmp_path / "plan.json"
    code, _, err = run_cli(["animate", BIG_PROMPT, "-o", str(out), "--duration", "2"], capsys)
    assert code == 0, err  # the format comes from the suffix
    data = json.loads(out.read_text())
    assert data["engine"] == "procedural" and data["fps"] == FPS and data["frames"] == 50
    actor = data["actors"][0]
    assert np.array(actor["motion"]).shape == (50, MOTION_DIM)
    assert np.array(actor["face"]).shape == (50, FACE_DIM)
    assert len(actor["actions"]) == 50 and set(actor["actions"]) <= set(action_vocabulary())
    segments = data["scene"]["actors"][0]["segments"]
    assert segments and {"action", "start", "end", "upper", "expression"} <= set(segments[0])
    # The face rows are the face track of the actions in the same file.
    labels = np.array([action_vocabulary().index(a) for a in actor["actions"]])
    plan = make_animation(BIG_PROMPT, duration=2.0)
    expected = face_track(
        labels, upper=plan.scene.upper_track(0), expression=plan.scene.expression_track(0)
    )
    np.testing.assert_allclose(actor["face"], expected, atol=1e-3)


def test_same_seed_same_motion(tmp_path) -> None:
    first = make_animation(BIG_PROMPT, duration=1.0, seed=11)
    second = make_animation(BIG_PROMPT, duration=1.0, seed=11)
    assert isinstance(first, Animation) and first.engine == "procedural"
    for a, b in zip(first.clips, second.clips, strict=True):
        np.testing.assert_array_equal(a.motion, b.motion)
    np.testing.assert_array_equal(first.faces[0], second.faces[0])


def test_gif_format(tmp_path, capsys) -> None:
    out = tmp_path / "wave.gif"
    args = ["animate", "A person waving", "-o", str(out), "--duration", "0.8", "--size", "96x80"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    assert iio.imread(out, index=None).shape[:3] == (20, 80, 96)


def test_library_animate_reports_progress(tmp_path) -> None:
    calls = []
    animation = animate(
        "A person jumping",
        tmp_path / "jump.mp4",
        duration=1.0,
        width=64,
        height=64,
        progress=lambda *a: calls.append(a),
    )
    assert animation.num_frames == 25
    assert calls and calls[-1][0] == calls[-1][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["animate", ""], "prompt"),
        (["animate", "   "], "prompt"),
        (["animate", "A person waving", "--duration", "1000"], "duration"),
        (["animate", "A person waving", "--duration", "0"], "duration"),
        (["animate", "A person waving", "--duration", "-3"], "duration"),
        (["animate", "A person waving", "--duration", "nan"], "duration"),
        (["animate", "A person waving", "--size", "10x10"], "width"),
        (["animate", "A person waving", "--size", "banana"], "size"),
        (["animate", "A person waving", "--width", "100", "--height", "4000"], "height"),
        (["animate", "A person waving", "--size", "129x128"], "even"),
        (["animate", "A person waving", "--size", "64x64", "--width", "64"], "size"),
        (["animate", "A person waving", "--format", "avi"], "format"),
        (["animate", "A person waving", "--checkpoint", "no/such/model.pt"], "checkpoint"),
    ],
)
def test_user_errors_are_one_line(args: list[str], message: str, tmp_path, capsys) -> None:
    out = tmp_path / "x.mp4"
    code, _, err = run_cli([*args, "-o", str(out)], capsys)
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in lines[0].lower()
    assert not out.exists()


def test_unwritable_output_fails_before_work(tmp_path, capsys) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    code, _, err = run_cli(["animate", "A person waving", "-o", str(blocker / "x.mp4")], capsys)
    assert code != 0 and err.startswith("error:") and "Traceback" not in err
    code, _, err = run_cli(["animate", "A person waving", "-o", str(tmp_path)], capsys)
    assert code != 0 and "directory" in err


@pytest.mark.slow
def test_subprocess_error_has_no_traceback(tmp_path) -> None:
    command = [sys.executable, "-c", "from stickgen.cli import main; main()"]
    args = ["animate", "A person waving", "--duration", "999", "-o", str(tmp_path / "x.mp4")]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "duration" in result.stderr


def test_library_rejects_bad_arguments(tmp_path) -> None:
    with pytest.raises(StickGenError):
        make_animation("A person waving", duration=0.1)
    with pytest.raises(StickGenError):
        animate("A person waving", tmp_path / "x.mp4", width=32)
    with pytest.raises(StickGenError):
        animate("A person waving", tmp_path / "x.webm", fmt="webm")


# ---- the learned model draws the video ----------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, text_model_path) -> Path:
    """A tiny model trained for one epoch on the tiny hand-made dataset."""
    from tiny_motion_data import embed_tiny_dataset, write_tiny_dataset

    from stickgen.train import TrainConfig, train

    root = tmp_path_factory.mktemp("model")
    data = embed_tiny_dataset(write_tiny_dataset(root / "tiny", 16, 50), text_model_path)
    config = TrainConfig(
        preset="tiny", epochs=1, batch_size=8, accumulate=1, lr=3e-3, warmup_epochs=1,
        checkpoint_every=1, precision="fp32",
    )  # fmt: skip
    result = train(data, root / "run", config, threads=1)
    return Path(result.best_checkpoint)


@pytest.mark.slow
def test_checkpoint_path_draws_what_the_model_predicts(
    checkpoint: Path, text_model_path: Path, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("STICKGEN_TEXT_MODEL", str(text_model_path))
    from stickgen.infer import load_generator

    out = tmp_path / "model.json"
    args = [
        "animate",
        BIG_PROMPT,
        "-o",
        str(out),
        "--duration",
        "2",
        "--checkpoint",
        str(checkpoint),
    ]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    assert "model engine" in stdout
    data = json.loads(out.read_text())
    assert data["engine"] == "model"
    plan = make_animation(BIG_PROMPT, duration=2.0)
    predicted = load_generator(checkpoint, text_model_path).generate(plan.scene)
    np.testing.assert_allclose(data["actors"][0]["motion"], predicted.motion, atol=1e-3)
    names = action_vocabulary()
    assert data["actors"][0]["actions"] == [names[i] for i in predicted.actions]
    faces = face_track(  # faces follow the smoothed predictions: no flicker
        smoothed(predicted.actions, predicted.fps),
        upper=plan.scene.upper_track(0),
        expression=plan.scene.expression_track(0),
    )
    np.testing.assert_allclose(data["actors"][0]["face"], faces, atol=1e-3)
    # And the same engine renders a video.
    video = tmp_path / "model.mp4"
    code, _, err = run_cli([*args[:3], str(video), *args[4:], "--size", "64x64"], capsys)
    assert code == 0, err
    assert read_video(video)[0].shape == (50, 64, 64, 3)


class _ProceduralStandIn:
    """A loaded "model" that draws with the procedural engine and logs when it is asked."""

    fps = FPS

    def __init__(self, events: list[str], fail: bool = False) -> None:
        self.events, self.fail = events, fail

    def generate(self, scene, seed=None):
        self.events.append(f"motion, {len(running_encoders())} encoder(s) running")
        if self.fail:
            raise StickGenError("the model broke")
        return synthesize(scene, rng=np.random.default_rng(seed))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_the_video_encoder_starts_before_the_model_draws(tmp_path, monkeypatch) -> None:
    events: list[str] = []
    fake = tmp_path / "model.pt"
    fake.write_bytes(b"stands for a checkpoint; the loader below never reads it")
    out = tmp_path / "out" / "clip.mp4"
    animation = animate(BIG_PROMPT, out, duration=2.0, seed=4, checkpoint=fake, width=64,
                        height=64, loader=lambda *_: _ProceduralStandIn(events))  # fmt: skip
    assert events == ["motion, 1 encoder(s) running"]
    assert animation.engine == "model"
    frames, meta = read_video(out)
    assert frames.shape == (50, 64, 64, 3) and meta["fps"] == FPS
    assert [p.name for p in out.parent.iterdir()] == ["clip.mp4"]
    assert running_encoders() == []

    events.clear()  # a model that fails leaves no file, no temporary and no encoder behind
    with pytest.raises(StickGenError, match="broke"):
        animate(BIG_PROMPT, tmp_path / "failed.mp4", duration=2.0, checkpoint=fake, width=64,
                height=64, loader=lambda *_: _ProceduralStandIn(events, fail=True))  # fmt: skip
    assert events == ["motion, 1 encoder(s) running"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "out"]
    assert running_encoders() == []


def test_a_model_drawing_at_another_frame_rate_gets_its_own_encoder(tmp_path) -> None:
    drawn = make_animation(BIG_PROMPT, duration=2.0, seed=1)
    clip = drawn.clips[0]
    slower = Animation(drawn.scene, [MotionClip(clip.motion, clip.actions, clip.physics, 20)],
                       drawn.faces, "model")  # fmt: skip
    out = tmp_path / "clip.mp4"
    write_animation(slower, out, width=64, height=64, encoder=VideoEncoder(out, 64, 64, FPS))
    frames, meta = read_video(out)
    assert frames.shape[0] == 50 and meta["fps"] == 20
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_an_encoder_handed_to_a_json_export_is_closed(tmp_path) -> None:
    drawn = make_animation(BIG_PROMPT, duration=1.0, seed=1)
    encoder = VideoEncoder(tmp_path / "clip.json", 64, 64)
    write_animation(drawn, tmp_path / "clip.json", fmt="json", encoder=encoder)
    assert json.loads((tmp_path / "clip.json").read_text())["frames"] == 25
    assert [p.name for p in tmp_path.iterdir()] == ["clip.json"]
    with pytest.raises(StickGenError, match="closed"):
        encoder.write(iter([]), 0)
