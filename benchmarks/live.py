"""Cost control and tracking on live-like clips: ours beside the read-every-frame baseline.

    .venv/bin/python -m benchmarks.live [--photos 3] [DIR ...]

From labelled photos in each DIR (default: openalpr-br and openalpr-eu of the shared data),
builds 640x360 10 fps clips with ``tests.lpr.clips``: the car passing (2 s), and the car parked
while a pedestrian walks by (3 s); plus one clip of empty road (2 s). Each clip is encoded to
H.264 and decoded again, so the motion gate sees real compression noise.

- baseline: the recogniser reads every frame and every plate it reads is a sighting.
- ours: ``lpr.video.SightingPipeline``: 5 reads/s at most, motion gate, tracking and voting.

Per clip kind: frames, reads, sightings (and how many a person would count), sightings with
the labelled plate, other sightings, and wall time per frame; then ours/baseline ratios.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import print_table
from lpr.plates import normalise
from lpr.recognizer import Recognizer
from lpr.sources import iter_video
from lpr.video import SightingPipeline
from platetrace.settings import get_settings
from tests.lpr.clips import FPS, HEIGHT, fit_height, parked, passing, road, write_mp4

MIN_PLATE_HEIGHT = 16  # px at clip scale; smaller plates are unreadable for either pipeline
EXPECTED = {"passing": 1, "parked": 1, "empty road": 0}


@dataclass(frozen=True, slots=True)
class Clip:
    kind: str
    path: Path
    plate: str | None


@dataclass
class Tally:
    clips: int = 0
    frames: int = 0
    reads: int = 0
    sightings: int = 0
    correct: int = 0
    seconds: float = 0.0

    def add(self, frames: int, reads: int, plates: Sequence[str], truth: str | None) -> None:
        self.clips += 1
        self.frames += frames
        self.reads += reads
        self.sightings += len(plates)
        self.correct += sum(p == truth for p in plates)


def photos(dirs: Sequence[Path], count: int) -> list[tuple[Path, str]]:
    """Up to ``count`` labelled photos, taken from the directories in turn."""
    per_dir: list[list[tuple[Path, str]]] = []
    for folder in dirs:
        usable = []
        with (folder / "labels.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                if row["h"] and row["lines"] == "1":
                    usable.append((folder / row["image"], normalise(row["plate"]), int(row["h"])))
        per_dir.append(
            [
                (path, plate)
                for path, plate, h in sorted(usable)
                if h * HEIGHT / _height(path) >= MIN_PLATE_HEIGHT
            ]
        )
    chosen: list[tuple[Path, str]] = []
    for i in range(max(map(len, per_dir), default=0)):
        chosen += [d[i] for d in per_dir if i < len(d)]
    return chosen[:count]


def _height(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as picture:
        return int(picture.size[1])


def clips(chosen: Sequence[tuple[Path, str]], folder: Path) -> Iterator[Clip]:
    yield Clip("empty road", write_mp4(folder / "empty.mp4", [road()] * (2 * FPS)), None)
    for n, (path, plate) in enumerate(chosen):
        car = fit_height(path)
        yield Clip("passing", write_mp4(folder / f"passing{n}.mp4", passing(car)), plate)
        yield Clip("parked", write_mp4(folder / f"parked{n}.mp4", parked(car)), plate)


def run_baseline(clip: Clip, recognizer: Recognizer, tally: Tally) -> None:
    started = time.perf_counter()
    frames, plates = 0, []
    for frame in iter_video(clip.path):
        frames += 1
        plates += [r.plate for r in recognizer.read(frame.image)]
    tally.seconds += time.perf_counter() - started
    tally.add(frames, frames, plates, clip.plate)


def run_ours(clip: Clip, recognizer: Recognizer, tally: Tally) -> None:
    started = time.perf_counter()
    pipeline = SightingPipeline(recognizer, source=clip.kind)
    sightings = [s for frame in iter_video(clip.path) for s in pipeline.push(frame)]
    sightings += pipeline.close()
    tally.seconds += time.perf_counter() - started
    tally.add(pipeline.frames, pipeline.reads, [s.plate for s in sightings], clip.plate)


def main() -> None:
    shared = get_settings().shared_data_dir / "plates"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "dirs", nargs="*", type=Path, default=[shared / "openalpr-br", shared / "openalpr-eu"]
    )
    parser.add_argument("--photos", type=int, default=3, help="photos to make clips of")
    args = parser.parse_args()

    missing = [d for d in args.dirs if not (d / "labels.csv").is_file()]
    if missing:
        parser.error(f"no labels.csv in {', '.join(map(str, missing))}")
    chosen = photos(args.dirs, args.photos)
    recognizer = Recognizer()
    tallies: dict[tuple[str, str], Tally] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips(chosen, Path(tmp)):
            for name, run in (("baseline", run_baseline), ("ours", run_ours)):
                run(clip, recognizer, tallies.setdefault((clip.kind, name), Tally()))

    print(f"{len(chosen)} photos: {', '.join(p.name for p, _ in chosen)}\n")
    rows = []
    for (kind, name), t in tallies.items():
        wanted = EXPECTED[kind] * t.clips
        rows.append(
            (
                kind,
                name,
                t.clips,
                t.frames,
                t.reads,
                f"{t.sightings} ({wanted})",
                t.correct,
                t.sightings - t.correct,
                1000 * t.seconds / t.frames,
            )
        )
    print_table(
        (
            "clips",
            "pipeline",
            "n",
            "frames",
            "reads",
            "sightings (expected)",
            "right plate",
            "other",
            "ms/frame",
        ),
        rows,
    )
    print()
    ratios = []
    for kind in EXPECTED:
        base, ours = tallies[(kind, "baseline")], tallies[(kind, "ours")]
        ratios.append(
            (
                kind,
                ours.reads / base.reads,
                ours.seconds / base.seconds,
                f"{ours.sightings} vs {base.sightings}",
            )
        )
    print_table(("clips", "reads ours/baseline", "time ours/baseline", "sightings"), ratios)


if __name__ == "__main__":
    main()
