"""Speech Commands from generated wavs: the list-file splits, MFCC frames, the feature cache, 1 s of audio."""
from __future__ import annotations

import numpy as np
import torch
from data_files import KEYWORDS, sine, write_speech_commands
from scipy.io import wavfile

from lattice_lab import data


def test_speech_commands_splits_by_list_files_and_gives_mfcc_frames(tmp_path):
    expected = write_speech_commands(tmp_path)
    for split in ("train", "test"):
        ds = data.load("speech-commands", split, root=tmp_path, download=False)
        assert ds.inputs.shape == (10, 101, 40) and ds.inputs.dtype == torch.float32
        assert ds.targets.tolist() == [label for _, label in expected[split]]
        assert ds.classes == KEYWORDS and ds.num_classes == 10
        # each coefficient is normalized over time within its utterance
        assert ds.inputs.mean(dim=1).abs().max().item() < 1e-4
    assert list((tmp_path / "cache" / "features").glob("speech-commands-*.pt"))
    again = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert torch.equal(again.inputs, ds.inputs)


def test_speech_commands_features_differ_between_keywords(tmp_path):
    write_speech_commands(tmp_path)
    ds = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert not torch.allclose(ds.inputs[0], ds.inputs[1])
    assert torch.isfinite(ds.inputs).all()


def test_speech_commands_pads_and_trims_at_the_end_to_one_second(tmp_path):
    folder = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    one_second, short = sine(300, 1.0), sine(300, 0.6)
    clips = {"a": np.concatenate([one_second, sine(900, 0.3)]), "b": one_second,
             "c": short, "d": np.concatenate([short, np.zeros(6400, dtype=np.int16)])}
    for key, clip in clips.items():
        wavfile.write(folder / "yes" / f"{key}_nohash_0.wav", 16000, clip)
    (folder / "validation_list.txt").write_text("")
    (folder / "testing_list.txt").write_text(
        "\n".join(f"yes/{key}_nohash_0.wav" for key in clips))
    ds = data.load("speech-commands", "test", root=tmp_path, download=False)
    assert ds.targets.tolist() == [0, 0, 0, 0]
    assert torch.allclose(ds.inputs[0], ds.inputs[1], atol=1e-5)  # extra 0.3 s cut off
    assert torch.allclose(ds.inputs[2], ds.inputs[3], atol=1e-5)  # 0.6 s zero-padded
    assert not torch.allclose(ds.inputs[1], ds.inputs[2], atol=1e-2)
