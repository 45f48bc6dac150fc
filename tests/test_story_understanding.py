"""Prompts in a person's words: meaning, the parse report, counts, seats, two people together.

The tests that claim to test meaning use the real text embedder (the bundled all-MiniLM-L6-v2).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stickgen.errors import StickGenError
from stickgen.schema import (
    ACTION_SPECS,
    FPS,
    ActionType,
    FacialExpression,
    Layer,
    Understanding,
    action_vocabulary,
)
from stickgen.story import parse_prompt, sample_scene
from stickgen.story.check import check_suite, load_suite

A = ActionType
E = FacialExpression
SUITE = Path(__file__).parent / "data" / "story_dev.jsonl"


def plan(prompt: str) -> list[list[ActionType]]:
    scene = parse_prompt(prompt)
    return [[s.action for s in a.segments if s.action is not A.IDLE] for a in scene.actors]


# --- meaning -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "action"),
    [
        ("She gives a rendition of the national anthem", A.SING),
        ("He puts his lips to her ear", A.WHISPER),
        ("The butler bends at the waist", A.BOW),
        ("He puts the ball through the hoop", A.SHOOT),
        ("She lowers herself onto her knees", A.KNEEL),
        ("The ace delivers a fastball", A.PITCH),
    ],
)
def test_unknown_verb_phrases_are_matched_by_meaning(prompt, action):
    scene = parse_prompt(prompt)
    assert [s.action for s in scene.actors[0].segments] == [action]
    report = scene.understanding
    assert report is not None and report.understood
    [guess] = [g for g in report.guessed if g.kind == "action"]
    assert guess.meaning == action.name.lower() and 0.4 <= guess.score <= 1.0


@pytest.mark.parametrize(
    ("prompt", "expression"),
    [
        ("An infuriated man walks", E.ANGRY),
        ("A woman walks, quaking with fright", E.SURPRISED),
        ("A tired man walks home", E.SAD),  # in the vocabulary now: tired looks sad
    ],
)
def test_words_of_feeling_set_the_face(prompt, expression):
    scene = parse_prompt(prompt)
    assert [s.expression for s in scene.actors[0].segments] == [expression]


@pytest.mark.parametrize(
    "prompt",
    [
        "asdfgh jkl",
        "The stock market closed higher today",
        "purple monkey dishwasher",
        "123",
        "The price of gold fell sharply",  # "fell" and "sharply" say nothing a figure does
        "The train leaves at noon",
    ],
)
def test_nonsense_is_reported_as_not_understood(prompt):
    scene = parse_prompt(prompt)
    report = scene.understanding
    assert report is not None and not report.understood and not report.guessed
    assert [s.action for s in scene.actors[0].segments] == [A.IDLE]
    assert report.summary().startswith("nothing understood")


def test_an_order_has_no_subject_and_is_still_done():
    assert plan("Kick the ball twice") == [[A.KICK, A.KICK]]
    assert plan("Please sit down") == [[A.SIT]]
    assert plan("I walk to school") == [[A.WALK]]


def test_names_of_things_do_not_trigger_actions():
    assert plan("A point guard bounces the basketball") == [[A.DRIBBLE]]
    assert plan("The kid eats an ice cream on the dance floor") == [[A.EAT]]
    assert plan("He watches the swimming pool") == [[A.LOOK_AROUND]]
    assert plan("The fan gives the band a standing ovation") == [[A.CLAP]]


def test_a_light_verb_with_an_action_noun_is_that_action():
    assert plan("a girl does a little dance") == [[A.DANCE]]
    assert plan("he goes for a quick jog") == [[A.RUN]]
    assert plan("she lets out a scream") == [[A.SHOUT]]


def test_misspelt_words_are_corrected_and_reported():
    scene = parse_prompt("she is dancng happly")
    [seg] = scene.actors[0].segments
    assert (seg.action, seg.expression) == (A.DANCE, E.HAPPY)
    fixes = [(g.text, g.meaning) for g in scene.understanding.guessed if g.kind == "spelling"]
    assert fixes == [("dancng", "dancing"), ("happly", "happily")]
    assert plan("the hiker walks") == [[A.WALK]]  # a real word is never "corrected"


def test_the_text_model_loads_only_when_the_rules_leave_something_unknown():
    code = (
        "from stickgen.story import parse_prompt\n"
        "from stickgen.story import meaning\n"
        "parse_prompt('A man walks to the bench, then sits down and waves happily')\n"
        "assert not meaning.loaded()\n"
        "parse_prompt('She gives a rendition of the national anthem')\n"
        "assert meaning.loaded()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_text_model_loads_once_however_many_threads_ask_and_the_server_loads_it_first():
    """Four threads asking at once get one reader; `python -m app.server` starts loading it
    before the first prompt (its warm-up thread)."""
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from stickgen.story import meaning\n"
        "built = []\n"
        "class Counted(meaning.MeaningReader):\n"
        "    def __init__(self, embedder):\n"
        "        built.append(1)\n"
        "        super().__init__(embedder)\n"
        "meaning.MeaningReader = Counted\n"
        "with ThreadPoolExecutor(4) as pool:\n"
        "    readers = list(pool.map(lambda _: meaning.reader(), range(4)))\n"
        "assert len(built) == 1 and all(r is readers[0] for r in readers), built\n"
        "meaning._load.cache_clear()\n"
        "from app.server import warm_up\n"
        "warm_up().join()\n"
        "assert meaning.loaded() and len(built) == 2, built\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_sampled_descriptions_never_need_the_meaning_reader():
    rng = np.random.default_rng(5)
    for _ in range(300):
        scene = sample_scene(rng)
        parsed = parse_prompt(scene.description, scene.duration, meaning=False)
        assert parsed.understanding.understood
        assert not parsed.understanding.guessed
        want = [(s.action, s.support) for s in scene.actors[0].segments]
        assert [(s.action, s.support) for s in parsed.actors[0].segments] == want


# --- the report ----------------------------------------------------------------------------------


def test_every_parse_reports_what_it_recognised_guessed_and_ignored():
    scene = parse_prompt("A tired programmer taps away at her keyboard, then yawns twice")
    report = scene.understanding
    recognised = {(r.text, r.kind, r.meaning) for r in report.recognised}
    assert ("tired", "expression", "sad") in recognised
    assert ("programmer", "person", "programmer") in recognised
    assert ("twice", "count", "x2") in recognised
    assert report.understood
    data = json.loads(json.dumps(report.to_json()))
    assert data["understood"] is True
    assert Understanding.from_json(data) == report
    line = report.summary()
    assert "recognised" in line and "\n" not in line


def test_ignored_words_are_listed_without_small_function_words():
    report = parse_prompt("a man walks his purple dog").understanding
    assert report.ignored == ("purple", "dog")


# --- counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("He jumps twice", [A.JUMP, A.JUMP]),
        ("punches the air three times", [A.PUNCH] * 3),
        ("The audience claps 4 times", [A.CLAP] * 4),
        ("she kicks a couple of times", [A.KICK] * 2),
        ("He kicks the ball and then does it again", [A.KICK, A.KICK]),
        ("She waves, then waves again", [A.WAVE, A.WAVE]),
        ("the girl hops three times then sits", [A.JUMP] * 3 + [A.SIT]),
    ],
)
def test_counts_and_again_repeat_a_segment(prompt, expected):
    assert plan(prompt) == [expected]


def test_each_repetition_takes_one_cycle_and_the_rest_is_idle():
    scene = parse_prompt("He jumps twice")
    jumps = [s for s in scene.actors[0].segments if s.action is A.JUMP]
    assert [round(s.duration, 2) for s in jumps] == [1.5, 1.5]
    assert scene.actors[0].segments[-1].action is A.IDLE
    assert scene.duration == 10.0
    timed = parse_prompt("He walks for 3 seconds and then runs for 5 seconds")
    assert [round(s.duration, 2) for s in timed.actors[0].segments][:2] == [3.0, 5.0]


# --- seats and beds ------------------------------------------------------------------------------


def _hip_height(scene, actor: int = 0, at: float = 5.0) -> float:
    from stickgen.motion import synthesize

    clip = synthesize(scene, actor=actor)
    return float(clip.motion[round(at * FPS), 3])


@pytest.mark.parametrize(
    ("prompt", "raised"),
    [
        ("A man sits down on a bench", True),
        ("He sits down", False),
        ("She sits on the floor", False),
        ("A girl sits on a stool at the bar", True),
        ("He walks over to the chair and sits down", True),
        ("The student sits at his desk and types", True),
        ("She lies on the bed", True),
        ("He lies down on the grass", False),
    ],
)
def test_seats_and_beds_raise_the_figure(prompt, raised):
    scene = parse_prompt(prompt)
    [resting] = [s for s in scene.actors[0].segments if s.action in (A.SIT, A.LIE_DOWN)]
    assert (resting.support > 0) == raised
    hip = _hip_height(scene, at=resting.end - 0.5)
    if raised:
        assert hip == pytest.approx(resting.support, abs=0.06)
    else:
        assert hip < 0.25


# --- two people ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected", "distance"),
    [
        ("Two people shake hands", [[A.HANDSHAKE], [A.HANDSHAKE]], 1.0),
        ("A man and a woman hug", [[A.HUG], [A.HUG]], 0.5),
        ("The two friends give each other a high five", [[A.HIGH_FIVE], [A.HIGH_FIVE]], 1.2),
        ("Sam throws the ball to Alex", [[A.THROW], [A.CATCH]], 3.0),
        ("A man punches his opponent", [[A.PUNCH], [A.DODGE]], 1.0),
        ("He dances with his wife", [[A.DANCE], [A.DANCE]], 1.1),
        ("The teacher talks to a student", [[A.TALK], []], 1.1),
    ],
)
def test_two_people_face_each_other_at_a_sensible_distance(prompt, expected, distance):
    from stickgen.animate import make_animation

    scene = parse_prompt(prompt)
    assert plan(prompt) == expected
    [first, *_] = scene.interactions
    assert first.distance == distance
    left, right = sorted(scene.actors, key=lambda a: a.start_x)
    assert (left.facing, right.facing) == (1, -1)
    animation = make_animation(prompt, seed=3)  # a random style still meets at the distance
    frame = round((first.start + 0.6) * FPS)
    hips = [float(c.motion[frame, 2]) for c in animation.clips]
    assert abs(hips[0] - hips[1]) == pytest.approx(distance, abs=0.15)


def test_a_catch_waits_for_the_throw_and_a_fight_takes_turns():
    scene = parse_prompt("Sam throws the ball to Alex")
    throw = next(s for s in scene.actors[0].segments if s.action is A.THROW)
    catch = next(s for s in scene.actors[1].segments if s.action is A.CATCH)
    assert catch.start - throw.start == pytest.approx(0.2)
    assert plan("two boxers fight") == [[A.PUNCH, A.DODGE], [A.DODGE, A.PUNCH]]
    assert plan("Two kids play catch in the park") == [[A.THROW, A.CATCH], [A.CATCH, A.THROW]]


def test_walking_up_to_someone_then_shaking_hands_lines_up_in_time():
    scene = parse_prompt("The man walks up to his friend and shakes his hand")
    man, friend = (a.segments for a in scene.actors)
    assert [s.action for s in man] == [A.WALK, A.HANDSHAKE]
    assert [s.action for s in friend] == [A.IDLE, A.HANDSHAKE]
    assert man[1].start == friend[1].start and man[1].end == friend[1].end


def test_new_actions_are_appended_with_faces_and_upper_body_motion():
    assert [a.name for a in ActionType][-3:] == ["HUG", "HANDSHAKE", "HIGH_FIVE"]
    assert len(ActionType) == 49 and action_vocabulary()[46:] == ["hug", "handshake", "high_five"]
    for action in (A.HUG, A.HANDSHAKE, A.HIGH_FIVE):
        assert ACTION_SPECS[action].layer is Layer.UPPER
        assert ACTION_SPECS[action].expression in (E.HAPPY, E.EXCITED)


def test_a_dataset_with_the_old_action_count_is_refused(tmp_path):
    from stickgen.data.store import FORMAT, Dataset

    (tmp_path / "manifest.json").write_text(
        json.dumps({"format": FORMAT, "version": 1, "actions": action_vocabulary()[:46]})
    )
    with pytest.raises(StickGenError, match="made with 46 actions; this Stick-Gen has 49"):
        Dataset(tmp_path)


# --- the development suite -----------------------------------------------------------------------


def test_the_development_suite_covers_every_action_and_expression():
    cases = load_suite(SUITE)
    assert len(cases) >= 150
    named = {a for case in cases for actor in case.actors for s in actor for a in s.actions}
    assert named == set(ActionType)
    faces = {
        e for case in cases for actor in case.actors for s in actor for e in s.expression or ()
    }
    assert faces == set(FacialExpression)
    categories = {case.category for case in cases}
    for needed in ("meaning-action", "meaning-expression", "sequence", "simultaneous", "counts",
                   "two-people", "nonsense", "misspelt", "seats"):  # fmt: skip
        assert needed in categories


def test_story_check_scores_a_suite(tmp_path, capsys):
    suite = tmp_path / "suite.jsonl"
    suite.write_text(
        '{"prompt": "A man walks then waves happily", "actors": [["walk", "wave:happy"]]}\n'
        '{"prompt": "Two people shake hands", "actors": [["handshake"], ["handshake"]],'
        ' "together": true}\n'
        '{"prompt": "He jumps twice", "actors": [["jump", "jump"]]}\n'
        '{"prompt": "123 456", "actors": [["idle"]], "understood": false}\n'
        '{"prompt": "He sits", "actors": [["walk"]]}\n'
    )
    result = check_suite(load_suite(suite))
    assert [v.passed for v in result.verdicts] == [True, True, True, True, False]
    assert result.share == pytest.approx(0.8) and result.nonsense() == (1, 1)
    from typer.testing import CliRunner

    from stickgen.cli.story import story_app

    done = CliRunner().invoke(story_app, ["check", str(suite)])
    code, out = done.exit_code, done.output
    assert code == 0, out
    assert "FAIL 5: He sits -> sit" in out and "4/5 prompts give the expected plan" in out


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """Run the CLI in-process: (exit code, stdout)."""
    from stickgen.cli import main

    with pytest.raises(SystemExit) as stop:
        main(args)
    code = stop.value.code
    captured = capsys.readouterr()
    return (0 if code is None else int(code)), captured.out + captured.err


def test_animate_prints_what_it_understood_and_a_notice_when_nothing(tmp_path, capsys):
    code, out = run_cli(
        ["animate", "A tired man sits on a bench", "-o", str(tmp_path / "a.json")], capsys
    )
    assert code == 0
    assert "understood: recognised tired -> sad, man -> man, sits -> sit" in out
    code, out = run_cli(["animate", "!!! 123", "-o", str(tmp_path / "b.json")], capsys)
    assert code == 0
    assert "notice: nothing in the prompt was understood" in out
    data = json.loads((tmp_path / "b.json").read_text())
    assert data["scene"]["understanding"]["understood"] is False


# --- grammar of movement and manner --------------------------------------------------------------


def test_a_pair_like_back_and_forth_is_a_manner_not_two_actions():
    assert plan("The guard marches back and forth by the gate") == [[A.WALK]]
    assert plan("The girl hops up and down three times") == [[A.JUMP] * 3]


def test_a_verb_before_an_action_word_is_not_part_of_the_subject():
    scene = parse_prompt("The lifeguard keeps watch over the beach")
    assert [[s.action for s in a.segments] for a in scene.actors] == [[A.LOOK_AROUND]]


def test_an_action_noun_after_with_a_is_what_the_verb_does():
    scene = parse_prompt("The cousins welcome each other with a hug")
    assert [[s.action for s in a.segments] for a in scene.actors] == [[A.HUG], [A.HUG]]
    assert plan("She replies with a shrug") == [[A.SHRUG]]
    [seg] = parse_prompt("He strolls off with a wave").actors[0].segments
    assert (seg.action, seg.upper) == (A.WALK, A.WAVE)  # moving along: both at once


def test_going_somewhere_and_then_doing_something_is_a_sequence():
    assert plan("The nurse hurries into the ward and shouts for help") == [[A.SPRINT, A.SHOUT]]
    [seg] = parse_prompt("A man strolls along and whistles a tune").actors[0].segments
    assert seg.action is A.WALK and seg.upper is not None  # no destination: at the same time


@pytest.mark.parametrize(
    ("prompt", "action"),
    [
        ("Grandpa hits the hay early", A.LIE_DOWN),
        ("The bride and groom cut a rug", A.DANCE),
        ("He pumps iron at the gym", A.LIFT),
        ("She cries her eyes out", A.CRY),
        ("The scout keeps his eyes peeled", A.LOOK_AROUND),
    ],
)
def test_everyday_idioms_name_their_action(prompt, action):
    assert {s.action for a in parse_prompt(prompt).actors for s in a.segments} == {action}


def test_two_words_of_one_action_close_together_are_it_once():
    assert plan("The old dog lies down for a nap") == [[A.LIE_DOWN]]
    assert plan("She jumps and jumps") == [[A.JUMP, A.JUMP]]  # said twice: done twice
