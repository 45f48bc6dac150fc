"""The story engine: prompt parsing and the themed scene sampler."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stickgen.errors import StickGenError
from stickgen.schema import NUM_ACTIONS, ActionType, FacialExpression, Scene
from stickgen.story import MAX_DURATION, THEMES, parse_prompt, sample_scene
from stickgen.story.themes import THEME_BY_NAME
from stickgen.story.vocabulary import VERB_PHRASES, conjugate, gerund, third_person, words

A = ActionType
E = FacialExpression


def actions(scene: Scene, actor: int = 0) -> list[ActionType]:
    return [s.action for s in scene.actors[actor].segments]


def layered(scene: Scene, actor: int = 0) -> list[tuple[ActionType, ActionType | None]]:
    return [(s.action, s.upper) for s in scene.actors[actor].segments]


def assert_tiles(scene: Scene) -> None:
    """Every actor's segments cover [0, duration) in order with no gap, overlap or empty one."""
    assert scene.actors
    for actor in scene.actors:
        segments = actor.segments
        assert segments[0].start == 0.0
        assert segments[-1].end == scene.duration
        for a, b in pairwise(segments):
            assert a.end == b.start
        assert all(s.end > s.start for s in segments)


# --- verbs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a man walks", A.WALK),
        ("walking", A.WALK),
        ("she strolls", A.WALK),
        ("he is jogging", A.RUN),
        ("he dashes", A.SPRINT),
        ("she leaps", A.JUMP),
        ("the kid hops", A.JUMP),
        ("she sits down", A.SIT),
        ("he lies down", A.LIE_DOWN),
        ("he kneels", A.KNEEL),
        ("she waves", A.WAVE),
        ("he talks", A.TALK),
        ("they chat", A.TALK),
        ("he yells", A.SHOUT),
        ("she whispers", A.WHISPER),
        ("she sings", A.SING),
        ("he points", A.POINT),
        ("the crowd claps", A.CLAP),
        ("he laughs", A.LAUGH),
        ("she cries", A.CRY),
        ("the baby sobs", A.CRY),
        ("he kicks the ball", A.KICK),
        ("he throws a ball", A.THROW),
        ("she catches it", A.CATCH),
        ("he swings a bat", A.BAT),
        ("he swung his bat", A.BAT),
        ("the pitcher pitches", A.PITCH),
        ("she dribbles", A.DRIBBLE),
        ("he shoots a basket", A.SHOOT),
        ("he punches", A.PUNCH),
        ("he throws a punch", A.PUNCH),
        ("she dodges", A.DODGE),
        ("he takes a fighting stance", A.FIGHT_STANCE),
        ("the boxer squares up", A.FIGHT_STANCE),
        ("he stands up", A.STAND),
        ("he eats", A.EAT),
        ("she drinks", A.DRINK),
        ("he reads a book", A.READ),
        ("she types", A.TYPE),
        ("he looks around", A.LOOK_AROUND),
        ("they celebrate", A.CELEBRATE),
        ("she dances", A.DANCE),
        ("he bows", A.BOW),
        ("she stretches", A.STRETCH),
        ("he pushes a cart", A.PUSH),
        ("he lifts a box", A.LIFT),
        ("she skips", A.SKIP),
        ("he thinks", A.THINK),
        ("he ponders", A.THINK),
        ("she shrugs", A.SHRUG),
        ("he climbs a ladder", A.CLIMB),
        ("the baby crawls", A.CRAWL),
        ("she swims", A.SWIM),
        ("a bird-man flies", A.FLY),
        ("he stands still", A.IDLE),
    ],
)
def test_verbs_and_synonyms(prompt, expected):
    assert actions(parse_prompt(prompt)) == [expected]


def test_every_verb_phrase_in_every_form_names_its_action():
    for action, phrases in VERB_PHRASES.items():
        for phrase in phrases:
            for text in (third_person(phrase), gerund(phrase), f"I {phrase.lstrip('=')}"):
                scene = parse_prompt(text)
                assert actions(scene) == [action], (text, actions(scene))


def test_conjugation_rules():
    assert conjugate("run") == ("runs", "running", "ran")
    assert conjugate("dance") == ("dances", "dancing", "danced")
    assert conjugate("cry") == ("cries", "crying", "cried")
    assert conjugate("lie") == ("lies", "lying", "lay")
    assert conjugate("punch") == ("punches", "punching", "punched")
    assert conjugate("shrug") == ("shrugs", "shrugging", "shrugged")
    assert conjugate("play") == ("plays", "playing", "played")


def test_verbs_that_are_objects_negated_or_quoted_are_not_actions():
    assert actions(parse_prompt("he eats a snack")) == [A.EAT]
    assert actions(parse_prompt("he does not run, he walks")) == [A.WALK]
    assert actions(parse_prompt('he says "I will run and jump"')) == [A.TALK]
    assert actions(parse_prompt("she looks happy")) == [A.IDLE]


# --- order ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("walks then waves", [A.WALK, A.WAVE]),
        ("walks, then sits down", [A.WALK, A.SIT]),
        ("first he jumps, then he claps, finally he bows", [A.JUMP, A.CLAP, A.BOW]),
        ("he runs and then kneels", [A.RUN, A.KNEEL]),
        ("he jumps. He sits. He cries.", [A.JUMP, A.SIT, A.CRY]),
        ("after jumping, he sits down", [A.JUMP, A.SIT]),
        ("he sits down after jumping", [A.JUMP, A.SIT]),
        ("before sitting, he waves", [A.WAVE, A.SIT]),
        ("he waves before sitting", [A.WAVE, A.SIT]),
        ("he walks, and after jumping, sits", [A.WALK, A.JUMP, A.SIT]),
        ("she walks, bows and sits down", [A.WALK, A.BOW, A.SIT]),
        ("he jogs, then after that he dances", [A.RUN, A.DANCE]),
    ],
)
def test_sequences(prompt, expected):
    scene = parse_prompt(prompt)
    assert actions(scene) == expected
    assert_tiles(scene)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("walking and waving", [(A.WALK, A.WAVE)]),
        ("a person waves while walking", [(A.WALK, A.WAVE)]),
        ("while walking, she talks", [(A.WALK, A.TALK)]),
        ("he sits and reads", [(A.SIT, A.READ)]),
        ("he walks and waves, then sits", [(A.WALK, A.WAVE), (A.SIT, None)]),
        ("before sitting down, she dances while singing", [(A.DANCE, A.SING), (A.SIT, None)]),
        # two upper-body or two lower-body actions cannot share the body: a sequence
        ("he talks and laughs", [(A.TALK, None), (A.LAUGH, None)]),
        ("he walks and runs", [(A.WALK, None), (A.RUN, None)]),
        # shooting needs the arms, so dribbling comes first
        ("he dribbles and shoots a basket", [(A.DRIBBLE, None), (A.SHOOT, None)]),
    ],
)
def test_simultaneous_actions(prompt, expected):
    assert layered(parse_prompt(prompt)) == expected


# --- timing -----------------------------------------------------------------------------------


def durations(scene: Scene, actor: int = 0) -> list[float]:
    return [round(s.duration, 6) for s in scene.actors[actor].segments]


@pytest.mark.parametrize(
    ("hint", "seconds"),
    [
        ("for 3 seconds", 3.0),
        ("for 2.5 s", 2.5),
        ("for 4s", 4.0),
        ("for half a second", 0.5),
        ("for a second", 1.0),
        ("for two seconds", 2.0),
        ("for one and a half seconds", 1.5),
        ("for a few seconds", 3.0),
        ("for 1500 ms", 1.5),
    ],
)
def test_timing_hints(hint, seconds):
    scene = parse_prompt(f"he walks {hint} then waves")
    assert actions(scene) == [A.WALK, A.WAVE]
    assert scene.duration == 10.0
    assert durations(scene) == [seconds, round(10.0 - seconds, 6)]


def test_untimed_segments_share_the_rest_by_typical_duration():
    scene = parse_prompt("he jumps then walks")
    jump, walk = durations(scene)
    assert jump < walk  # a jump is short; walking is open-ended and absorbs the rest
    assert jump + walk == pytest.approx(10.0)
    scene = parse_prompt("he walks for 2 seconds, jumps, then sits", duration=12)
    assert durations(scene)[0] == 2.0
    assert sum(durations(scene)) == pytest.approx(12.0)


def test_hints_that_ask_for_more_lengthen_the_default_clip():
    scene = parse_prompt("he walks for 8 seconds then dances for 6 seconds")
    assert scene.duration == 14.0
    assert durations(scene) == [8.0, 6.0]
    capped = parse_prompt("she swims for 5 minutes")
    assert capped.duration == MAX_DURATION


def test_timed_segments_shorter_than_the_clip_end_at_rest():
    scene = parse_prompt("he jumps for 2 seconds then sits for 3 seconds", duration=10)
    assert actions(scene) == [A.JUMP, A.SIT, A.IDLE]
    assert durations(scene) == [2.0, 3.0, 5.0]


def test_hints_longer_than_a_given_duration_are_scaled_down():
    scene = parse_prompt("he walks for 6 seconds then runs for 6 seconds", duration=6)
    assert durations(scene) == [3.0, 3.0]


def test_explicit_duration_is_kept():
    scene = parse_prompt("a man walks then waves", duration=4.5)
    assert scene.duration == 4.5
    assert_tiles(scene)


@pytest.mark.parametrize("duration", [0, -1, 0.1, 61, float("nan"), float("inf"), "ten"])
def test_bad_durations_are_user_errors(duration):
    with pytest.raises(StickGenError):
        parse_prompt("a man walks", duration=duration)


# --- emotions, speech, people, directions -------------------------------------------------------


def expressions(scene: Scene, actor: int = 0) -> list[FacialExpression | None]:
    return [s.expression for s in scene.actors[actor].segments]


def test_adverb_after_a_verb_qualifies_that_segment():
    assert expressions(parse_prompt("she waves excitedly, then cries sadly")) == [E.EXCITED, E.SAD]
    assert expressions(parse_prompt("he walks angrily and then sits")) == [E.ANGRY, None]
    assert expressions(parse_prompt("he walks, then happily sits")) == [None, E.HAPPY]
    assert expressions(parse_prompt("he shouts calmly")) == [E.NEUTRAL]
    assert expressions(parse_prompt("he jumps in surprise")) == [E.SURPRISED]


def test_sentence_level_emotion_applies_to_all_segments():
    assert expressions(parse_prompt("A happy man walks then sits")) == [E.HAPPY, E.HAPPY]
    scene = parse_prompt("An angry woman walks, then waves joyfully")
    assert expressions(scene) == [E.ANGRY, E.HAPPY]  # the segment's own word wins


@pytest.mark.parametrize(
    ("prompt", "action", "speech"),
    [
        ('He says "hello there" and waves', A.TALK, "hello there"),
        ("she shouts 'stop!'", A.SHOUT, "stop!"),
        ("he whispers a secret", A.WHISPER, "a secret"),
        ("she sings a song", A.SING, "a song"),
        ('"Good morning!" she says', A.TALK, "Good morning!"),
        ("he says hello to his friend", A.TALK, "hello"),
        ("he talks to a friend", A.TALK, None),
        ('"Hi!"', A.TALK, "Hi!"),
    ],
)
def test_speech(prompt, action, speech):
    first = parse_prompt(prompt).actors[0].segments[0]
    assert (first.action, first.speech) == (action, speech)


def test_speech_rides_with_a_walk():
    [segment] = parse_prompt('walking while saying "see you"').actors[0].segments
    assert (segment.action, segment.upper, segment.speech) == (A.WALK, A.TALK, "see you")


def test_several_people():
    scene = parse_prompt("two people square up")
    assert [actions(scene, i) for i in range(2)] == [[A.FIGHT_STANCE], [A.FIGHT_STANCE]]
    assert scene.actors[0].facing == -scene.actors[1].facing
    scene = parse_prompt("two people fight")  # in turns: one punches while the other dodges
    assert [actions(scene, i) for i in range(2)] == [[A.PUNCH, A.DODGE], [A.DODGE, A.PUNCH]]
    scene = parse_prompt("a man waves to a woman who dances")
    assert [a.name for a in scene.actors] == ["man", "woman"]
    assert actions(scene, 0) == [A.WAVE] and actions(scene, 1) == [A.DANCE]
    scene = parse_prompt("A man walks while a woman dances, then he bows")
    assert actions(scene, 0) == [A.WALK, A.BOW] and actions(scene, 1) == [A.DANCE]
    for s in (scene, parse_prompt("a man and a woman dance")):
        assert_tiles(s)


def test_one_subject_named_after_the_first_action_stays_one_actor():
    scene = parse_prompt("After jumping, a tall man sits down. Then the man waves.")
    assert len(scene.actors) == 1
    assert scene.actors[0].name == "man"
    assert actions(scene) == [A.JUMP, A.SIT, A.WAVE]


def test_directions_set_facing():
    assert parse_prompt("he walks to the left").actors[0].facing == -1
    assert parse_prompt("he walks to the right").actors[0].facing == 1
    assert parse_prompt("he walks").actors[0].facing == 1
    assert parse_prompt("he raises his left hand").actors[0].facing == 1


def test_prompt_without_a_known_verb_stands_idle():
    scene = parse_prompt("a purple elephant")
    assert layered(scene) == [(A.IDLE, None)]
    assert_tiles(scene)
    assert expressions(parse_prompt("a sad person")) == [E.SAD]


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t", None, 42])
def test_empty_or_non_text_prompts_are_user_errors(prompt):
    with pytest.raises(StickGenError):
        parse_prompt(prompt)


def test_prompt_length_limit():
    parse_prompt("walks " * 166 + "abcd")  # exactly 1000 characters
    with pytest.raises(StickGenError, match="1000"):
        parse_prompt("w" * 1001)


_WORDS = [
    *(p.lstrip("=") for ps in VERB_PHRASES.values() for p in ps),
    *words(
        "then and while after before as first finally , . ; for 3 seconds half a few he she who "
        "the man woman two people happily sadly left right not stops 2.5 s minutes '"
    ),
    '"hi"',
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.one_of(st.none(), st.floats(0.5, 60)))
def test_any_text_parses_or_raises_a_user_error(prompt, duration):
    try:
        scene = parse_prompt(prompt, duration)
    except StickGenError:
        assert not prompt.strip()
        return
    assert_tiles(scene)


def test_segments_of_two_phases_meet_exactly():
    assert_tiles(parse_prompt("idle climb push idle man idle", 1.5625))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=40), st.one_of(st.none(), st.floats(0.5, 60)))
def test_word_salad_from_the_vocabulary_tiles_the_clip(tokens, duration):
    prompt = " ".join(tokens) or "x"
    scene = parse_prompt(prompt, duration)
    assert_tiles(scene)
    assert 1 <= len(scene.actors) <= 4
    if duration is not None:
        assert scene.duration == duration
    else:
        assert 10.0 <= scene.duration <= MAX_DURATION


# --- the sampler ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled() -> list[Scene]:
    rng = np.random.default_rng(1234)
    return [sample_scene(rng) for _ in range(3000)]


def test_sampler_is_deterministic():
    def run(seed):
        rng = np.random.default_rng(seed)
        scenes = [sample_scene(rng, duration=8.0) for _ in range(50)]
        return [(s.description, s.theme, layered(s), durations(s)) for s in scenes]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_sampled_scenes_are_well_formed(sampled):
    for scene in sampled:
        assert_tiles(scene)
        assert len(scene.actors) == 1 and 1 <= len(scene.actors[0].segments) <= 4
        assert scene.theme in THEMES and scene.duration == 10.0
        assert not re.search(r"\b(left|right)\b", scene.description, re.IGNORECASE)
    segments = [s for scene in sampled for s in scene.actors[0].segments]
    assert any(s.upper is not None for s in segments)
    assert any(s.expression is not None for s in segments)
    assert any(s.speech for s in segments)


def test_every_action_gets_a_fair_share_of_frames(sampled):
    frames = np.zeros(NUM_ACTIONS)
    for scene in sampled:
        frames += np.bincount(scene.action_track(), minlength=NUM_ACTIONS)
    share = frames / frames.sum()
    assert share.min() >= 0.005, {A(i).name: round(float(s), 4) for i, s in enumerate(share)}


def test_descriptions_parse_back_to_the_same_plan(sampled):
    for scene in sampled[:1500]:
        parsed = parse_prompt(scene.description, scene.duration)
        assert len(parsed.actors) == 1, scene.description
        want = [(s.action, s.upper, s.expression, s.speech) for s in scene.actors[0].segments]
        got = [(s.action, s.upper, s.expression, s.speech) for s in parsed.actors[0].segments]
        assert got == want, scene.description


def test_descriptions_are_diverse(sampled):
    descriptions = [s.description for s in sampled]
    assert len(set(descriptions)) >= 0.97 * len(descriptions)


def test_themes_shape_the_action_mix():
    rng = np.random.default_rng(3)
    for theme in THEMES:
        pool = {a for a, _ in THEME_BY_NAME[theme].pool}
        scenes = [sample_scene(rng, theme=theme) for _ in range(100)]
        assert {s.theme for s in scenes} == {theme}
        labels = [seg.action for s in scenes for seg in s.actors[0].segments]
        assert sum(a in pool for a in labels) >= 0.75 * len(labels)


def test_short_clips_get_fewer_segments():
    rng = np.random.default_rng(0)
    for _ in range(200):
        scene = sample_scene(rng, duration=2.0)
        assert len(scene.actors[0].segments) == 1
        assert_tiles(scene)


def test_sampler_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(StickGenError, match="theme"):
        sample_scene(rng, theme="opera")
    with pytest.raises(StickGenError):
        sample_scene(rng, duration=0)
