"""Free Spoken Digit Dataset: mono 8 kHz 16-bit WAVs named ``{digit}_{speaker}_{index}.wav``.

Official split (the data set's own rule): index 0-4 test, 5-49 train.
``load(split, data_dir)`` -> list of ``(samples float32 in [-1, 1], digit, speaker)``.
"""
from __future__ import annotations

import re
import struct
import wave
from pathlib import Path

import numpy as np

from jax_ar.data.files import resolve_data_dir
from jax_ar.errors import ConfigError, DataFileError

SAMPLE_RATE = 8000
SPEAKERS = ("george", "jackson", "lucas", "nicolas", "theo", "yweweler")
_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def read_wav(path, expected_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono 16-bit PCM WAV -> float32 in [-1, 1]; clear errors for anything else."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except FileNotFoundError:
        raise DataFileError(f"missing audio file {str(path)!r}") from None
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error, OverflowError) as e:
        why = str(e) or ("the file ends early (truncated)" if isinstance(e, EOFError) else type(e).__name__)
        raise DataFileError(f"corrupt or non-WAV audio file {str(path)!r}: {why}") from None
    if ch != 1:
        raise DataFileError(f"{str(path)!r} has {ch} channels; only mono audio is supported")
    if rate != expected_rate:
        raise DataFileError(f"{str(path)!r} has sample rate {rate} Hz; expected {expected_rate} Hz")
    if width != 2:
        raise DataFileError(f"{str(path)!r} has {8 * width}-bit samples; expected 16-bit PCM")
    if n == 0 or not raw:
        raise DataFileError(f"{str(path)!r} is an empty (zero-length) clip")
    if len(raw) % 2:
        raise DataFileError(f"corrupt audio file {str(path)!r}: {len(raw)} data bytes is not a whole "
                            f"number of 16-bit samples")
    return (np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0)


def list_files(data_dir=None) -> list[Path]:
    root = resolve_data_dir(data_dir) / "spoken_digit" / "recordings"
    if not root.is_dir():
        raise DataFileError(f"missing folder 'spoken_digit/recordings': looked for {str(root)!r}")
    files = sorted(p for p in root.iterdir() if _NAME.match(p.name))
    if not files:
        raise DataFileError(f"no '{{digit}}_{{speaker}}_{{index}}.wav' files in {str(root)!r}")
    return files


def load(split: str, data_dir=None, *, limit: int | None = None):
    """Recordings of one split: list of (float32 samples, digit, speaker index into SPEAKERS)."""
    if split not in ("train", "test"):
        raise ConfigError(f"unknown spoken digit split {split!r}; choose 'train' (index 5-49) or 'test' (0-4)")
    out = []
    for p in list_files(data_dir):
        d, spk, idx = _NAME.match(p.name).groups()
        is_test = int(idx) <= 4
        if (split == "test") != is_test:
            continue
        if spk not in SPEAKERS:       # the label would fall outside the models' speaker classes
            raise DataFileError(f"{str(p)!r}: unknown speaker {spk!r}; the Free Spoken Digit speakers are "
                                f"{', '.join(SPEAKERS)}")
        sid = SPEAKERS.index(spk)
        out.append((read_wav(p), int(d), sid))
        if limit and len(out) >= limit:
            break
    return out


def write_wav(path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    a = np.clip(np.asarray(samples, np.float32), -1.0, 1.0)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((a * 32767.0).astype("<i2").tobytes())
