"""The interruption benchmark's evaluation set: a stereo mix for every pair of speakers of a
multi-speaker recording, split into a dev part and a test part."""

from __future__ import annotations

import numpy as np

from tests.conftest import load_bench

accuracy = load_bench("accuracy")


def _recording():
    from pyannote.core import Annotation, Segment, Timeline

    ref = Annotation(uri="trn09")
    ref[Segment(0.0, 4.0), 0] = "A"
    ref[Segment(3.0, 6.0), 1] = "B"
    ref[Segment(6.5, 8.0), 2] = "C"
    ref[Segment(8.5, 9.0), 3] = "D"  # half a second: takes part in no pair
    samples = np.full(10 * accuracy.SR, 0.5, dtype=np.float32)
    return accuracy.Recording("trn09", samples, ref, Timeline([Segment(0.0, 10.0)], uri="trn09"))


def test_every_pair_of_speakers_who_talk_a_second_gets_its_own_mix():
    mixes = accuracy.pair_mixes(_recording())
    assert sorted(m.speakers for m in mixes) == [("A", "B"), ("A", "C"), ("B", "C")]
    for mix in mixes:
        assert set(mix.reference.labels()) == set(mix.speakers)
        assert mix.name == f"trn09:{mix.speakers[0]}+{mix.speakers[1]}"
        # the others' speech is silenced on both channels and left out of the scored region
        third = ({"A", "B", "C"} - set(mix.speakers)).pop()
        for seg in _recording().reference.label_timeline(third):
            a, b = int((seg.start + 0.05) * accuracy.SR), int((seg.end - 0.05) * accuracy.SR)
            assert not mix.samples[:, a:b].any()
            assert mix.uem.crop(seg).duration() == 0.0


def test_the_split_follows_the_ami_lists(tmp_path):
    ami = tmp_path / "diarization" / "ami_dev"
    ami.mkdir(parents=True)
    (ami / "debug.development.lst").write_text("dev00\ndev01\n")
    assert accuracy.split_of(tmp_path, "dev01") == "test"
    assert accuracy.split_of(tmp_path, "dev00:MEE009+MEE012") == "test"
    assert accuracy.split_of(tmp_path, "trn04:MEE076+MEO074") == "dev"
    assert accuracy.split_of(tmp_path, "sample") == "dev"
