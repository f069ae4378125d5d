"""Subcommands of ``platetrace`` that belong to this package."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from lpr.recognizer import Recognizer
    from lpr.types import PlateRead

EXIT_BAD_INPUT = 2


def register(app: typer.Typer) -> None:
    """Attach this package's subcommands to the main app."""
    app.command("read")(read)


def read(
    sources: Annotated[
        list[str], typer.Argument(help="Image or video files, http(s) or rtsp URLs.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    country: Annotated[
        list[str] | None,
        typer.Option(help="Only this country's plate formats (repeatable), e.g. UA, RU, BR, EU."),
    ] = None,
) -> None:
    """Read the plates in images (one line each, best plate first) or videos (one per sighting)."""
    from lpr.images import ImageError
    from lpr.plates import PlateError
    from lpr.recognizer import Recognizer
    from lpr.sources import SourceError

    try:
        recognizer = Recognizer(countries=country)
        failed = False
        for source in sources:
            try:
                _read_one(recognizer, source, as_json=as_json)
            except (ImageError, SourceError) as e:
                typer.echo(f"error: {e}", err=True)
                failed = True
    except PlateError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _read_one(recognizer: Recognizer, source: str, *, as_json: bool) -> None:
    from lpr.images import load_image
    from lpr.sources import source_kind

    if source_kind(source) != "image":
        _read_video(recognizer, source, as_json=as_json)
        return
    image = load_image(source)
    start = time.perf_counter()
    plates = recognizer.read(image)
    ms = round((time.perf_counter() - start) * 1000, 1)
    if as_json:
        line = {"source": source, "plates": [plate_json(p) for p in plates], "ms": ms}
        typer.echo(json.dumps(line, ensure_ascii=False))
    else:
        found = "; ".join(_plate_text(p) for p in plates) or "no plate"
        typer.echo(f"{source}: {found} ({ms:.0f} ms)")
    sys.stdout.flush()


def _read_video(recognizer: Recognizer, source: str, *, as_json: bool) -> None:
    from lpr.video import read_video, sighting_json

    for sighting in read_video(source, recognizer):
        if as_json:
            typer.echo(json.dumps(sighting_json(sighting), ensure_ascii=False))
        else:
            typer.echo(
                f"{sighting.source} {sighting.observed_at.isoformat()}: {sighting.plate} "
                f"({sighting.country}, {sighting.confidence:.2f}, {sighting.colour or 'no colour'})"
            )


def plate_json(plate: PlateRead) -> dict[str, object]:
    return {
        "plate": plate.plate,
        "country": plate.country,
        "confidence": plate.confidence,
        "box": plate.box.as_list(),
        "colour": plate.colour,
        "colour_confidence": plate.colour_confidence,
    }


def _plate_text(plate: PlateRead) -> str:
    colour = f", {plate.colour}" if plate.colour else ""
    return f"{plate.plate} ({plate.country}, {plate.confidence:.2f}{colour})"
