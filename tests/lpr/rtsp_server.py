"""A test camera: serves H.264 over RTSP on 127.0.0.1, looping a clip forever.

Runs under Debian's own ``/usr/bin/python3``, the only interpreter with the GStreamer bindings,
as its own process; the tests start it and stop it (or freeze it) by process id.

    /usr/bin/python3 tests/lpr/rtsp_server.py UNITS --port 8554 --fps 10 [--mount /cam]

UNITS holds pre-encoded H.264 access units (Annex B), each preceded by its length as 4 bytes
big-endian. They are pushed through an ``appsrc`` that stamps them with the live clock: a file
source looping on its own gives zero timestamps after the first pass, and clients stall.
Prints ``ready rtsp://127.0.0.1:PORT/MOUNT`` once it listens.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402 - needs require_version first

LAUNCH = (
    "( appsrc name=src is-live=true do-timestamp=true format=time "
    "caps=video/x-h264,stream-format=byte-stream,alignment=au "
    "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)


def load_units(path: str) -> list[bytes]:
    units = []
    with open(path, "rb") as f:  # noqa: PTH123 - Debian python3, kept dependency-free
        while header := f.read(4):
            (size,) = struct.unpack(">I", header)
            units.append(f.read(size))
    if not units:
        raise SystemExit(f"{path}: no access units")
    return units


class LoopingClip(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
    """Each client gets its own pipeline, starting at the clip's first (key) frame."""

    def __init__(self, units: list[bytes], fps: float) -> None:
        super().__init__()
        self.units = units
        self.fps = fps
        self.set_launch(LAUNCH)
        self.connect("media-configure", self._feed)

    def _feed(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        src = media.get_element().get_child_by_name("src")
        position = iter(range(sys.maxsize))

        def push() -> bool:
            unit = self.units[next(position) % len(self.units)]
            buffer = Gst.Buffer.new_wrapped(unit)
            buffer.duration = int(Gst.SECOND / self.fps)
            # Stop feeding once the client is gone and the pipeline flushes.
            return bool(src.emit("push-buffer", buffer) == Gst.FlowReturn.OK)

        GLib.timeout_add(round(1000 / self.fps), push)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("units")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--mount", default="/cam")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.mount, LoopingClip(load_units(args.units), args.fps))
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{args.port}")
    print(f"ready rtsp://127.0.0.1:{args.port}{args.mount}", flush=True)
    loop = GLib.MainLoop()
    parent = os.getppid()

    def orphaned() -> bool:
        # The test run that started us was killed without stopping us: leave with it.
        if os.getppid() != parent:
            loop.quit()
        return True

    GLib.timeout_add_seconds(1, orphaned)
    loop.run()


if __name__ == "__main__":
    main()
