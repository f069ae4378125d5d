"""``platetrace cameras run``: read every enabled camera of the store until stopped."""

from __future__ import annotations

from typing import Annotated

import typer


def register(cameras: typer.Typer) -> None:
    """Attach ``run`` to the ``cameras`` command group."""

    @cameras.command("run")
    def run(
        camera: Annotated[
            list[str] | None,
            typer.Option("--camera", "-c", help="Only this camera code (repeat for more)."),
        ] = None,
        rate: Annotated[
            float,
            typer.Option(min=0.1, max=30.0, help="Plate reads per second per camera, at most."),
        ] = 5.0,
        refresh: Annotated[
            float,
            typer.Option(min=1.0, help="Seconds between looks at the camera list for changes."),
        ] = 60.0,
    ) -> None:
        """Run every enabled camera with a stream: one sighting per passage into the store.

        Prints one JSON line per sighting. Stops cleanly on Ctrl-C or SIGTERM.
        """
        import json
        import logging
        import signal
        import threading

        from sqlalchemy.exc import SQLAlchemyError

        from lpr.recognizer import Recognizer
        from lpr.types import Sighting
        from lpr.video import sighting_json
        from lpr.worker import enabled_cameras, run_cameras
        from platetrace.settings import get_settings
        from store.cameras import CameraRow
        from store.db import make_engine

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        settings = get_settings()
        engine = make_engine()
        try:
            chosen = enabled_cameras(engine, camera or ())
        except SQLAlchemyError as error:
            typer.echo(f"error: cannot read the cameras from the store: {error}", err=True)
            raise typer.Exit(2) from error
        if not chosen:
            which = ", ".join(camera) if camera else "any camera"
            typer.echo(f"error: no enabled camera with a stream URL ({which})", err=True)
            raise typer.Exit(1)

        def show(cam: CameraRow, sighting: Sighting) -> None:
            typer.echo(json.dumps({"camera": cam.code, **sighting_json(sighting)}))

        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        typer.echo(f"running {len(chosen)} camera(s); Ctrl-C stops", err=True)
        run_cameras(
            engine,
            Recognizer(),
            codes=camera or (),
            stop=stop,
            evidence_dir=settings.evidence_dir,
            max_evidence_bytes=settings.max_evidence_bytes,
            rate=rate,
            refresh=refresh,
            on_sighting=show,
        )
