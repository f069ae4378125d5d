"""Where frames come from: video files, RTSP (and other) streams and ONVIF cameras.

Every failure is a :class:`SourceError` subclass with a reason a person can act on, so the CLI
prints one line and the live runner knows whether to retry (unavailable) or give up (unreadable,
authentication).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from lpr.types import Frame, Image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "onvif"})

SourceKind = Literal["image", "video", "stream"]


class SourceError(Exception):
    """A source could not give frames; ``reason`` says why in one line."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnreadableSourceError(SourceError, ValueError):
    """The input itself is bad (corrupt, not a video, no such profile): retrying won't help."""


class SourceUnavailableError(SourceError, ConnectionError):
    """The source cannot be reached or stopped sending; it may come back."""


class AuthenticationError(SourceError, PermissionError):
    """The camera refused the user name or password."""


def source_kind(path_or_url: str) -> SourceKind:
    """Still images (``lpr.images`` reads them, from files or http URLs), videos or streams."""
    parts = urlsplit(path_or_url)
    if Path(parts.path).suffix.lower() in IMAGE_SUFFIXES and parts.scheme in ("", "http", "https"):
        return "image"
    return "stream" if parts.scheme.lower() in STREAM_SCHEMES else "video"


def iter_video(path: str | Path, *, start: datetime | None = None) -> Generator[Frame, None, None]:
    """Frames of a video file, each stamped ``start`` + its presentation time."""
    import av

    name = str(path)
    if not Path(path).is_file():
        raise UnreadableSourceError(name, "no such file")
    origin = start or datetime.fromtimestamp(Path(path).stat().st_mtime, tz=UTC)
    try:
        container = av.open(name)
    except av.FFmpegError as error:
        raise UnreadableSourceError(
            name, f"not a readable video ({_ffmpeg_reason(error)})"
        ) from error
    with container:
        if not container.streams.video:
            raise UnreadableSourceError(name, "file has no video stream")
        try:
            for index, decoded in enumerate(container.decode(video=0)):
                offset = timedelta(seconds=float(decoded.time or 0.0))
                yield Frame(
                    image=_bgr(decoded),
                    taken_at=origin + offset,
                    source=name,
                    index=index,
                )
        except av.FFmpegError as error:
            raise UnreadableSourceError(name, f"corrupt video ({_ffmpeg_reason(error)})") from error


def iter_stream(
    url: str, *, open_timeout: float = 10.0, read_timeout: float = 10.0
) -> Generator[Frame, None, None]:
    """Frames of a live stream, stamped with the wall clock when decoded.

    ``onvif://user:password@host:port/?profile=TOKEN`` asks the camera for its RTSP URI first.
    Ends (raising :class:`SourceUnavailableError`) when the stream stops; reconnecting is the
    caller's business (see ``lpr.live``).
    """
    import av

    shown = redact(url)
    target = resolve_onvif(url, timeout=open_timeout) if url.startswith("onvif://") else url
    options = {"rtsp_transport": "tcp"} if target.startswith("rtsp") else {}
    try:
        container = av.open(target, options=options, timeout=(open_timeout, read_timeout))
    except av.error.HTTPUnauthorizedError as error:
        raise AuthenticationError(shown, "the camera refused the credentials") from error
    except (av.FFmpegError, OSError) as error:
        raise SourceUnavailableError(
            shown, f"cannot open stream ({_ffmpeg_reason(error)})"
        ) from error
    with container:
        if not container.streams.video:
            raise UnreadableSourceError(shown, "stream has no video")
        stream = container.streams.video[0]
        # Slice threads decode a frame as soon as it arrives; frame threads would add latency.
        stream.thread_type = "SLICE"
        try:
            for index, decoded in enumerate(container.decode(stream)):
                yield Frame(
                    image=_bgr(decoded),
                    taken_at=datetime.now(UTC),
                    source=shown,
                    index=index,
                )
        except (av.FFmpegError, OSError) as error:
            raise SourceUnavailableError(
                shown, f"stream broke ({_ffmpeg_reason(error)})"
            ) from error
    raise SourceUnavailableError(shown, "stream ended")


def redact(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def resolve_onvif(url: str, *, timeout: float = 10.0) -> str:
    """The RTSP URI of an ``onvif://user:password@host:port/?profile=TOKEN`` camera."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise UnreadableSourceError(redact(url), "ONVIF URL has no host")
    profile = parse_qs(parts.query).get("profile", [None])[0]
    return asyncio.run(
        onvif_stream_uri(
            parts.hostname,
            parts.port or 80,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            profile=profile,
            timeout=timeout,
        )
    )


async def onvif_stream_uri(
    host: str,
    port: int,
    user: str,
    password: str,
    *,
    profile: str | None = None,
    timeout: float = 10.0,
) -> str:
    """Ask an ONVIF camera for the RTSP URI of a media profile (the first one by default).

    The camera's URI usually lacks credentials; the ONVIF ones are added, as cameras share them.
    """
    from onvif import ONVIFCamera
    from onvif.exceptions import ONVIFAuthError, ONVIFError
    from zeep.exceptions import Fault

    shown = f"onvif://{host}:{port}"
    camera = ONVIFCamera(host, port, user, password, no_cache=True)
    try:
        async with asyncio.timeout(timeout):
            await camera.update_xaddrs()
            media = await camera.create_media_service()
            profiles = await media.GetProfiles()
            tokens = [p.token for p in profiles or []]
            if not tokens:
                raise SourceUnavailableError(shown, "camera has no media profiles")
            if profile is not None and profile not in tokens:
                raise UnreadableSourceError(
                    shown, f"no profile {profile!r} (has {', '.join(tokens)})"
                )
            answer = await media.GetStreamUri(
                {
                    "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                    "ProfileToken": profile or tokens[0],
                }
            )
    except ONVIFAuthError as error:
        raise AuthenticationError(shown, "the camera refused the user name or password") from error
    except Fault as error:
        if _is_auth_fault(error):
            raise AuthenticationError(
                shown, "the camera refused the user name or password"
            ) from error
        raise SourceUnavailableError(
            shown, f"camera answered with a fault ({error.message})"
        ) from error
    except TimeoutError as error:
        raise SourceUnavailableError(shown, f"no answer within {timeout:g} s") from error
    except (ONVIFError, OSError) as error:
        raise SourceUnavailableError(shown, f"cannot talk to the camera ({error})") from error
    finally:
        await camera.close()
    return _with_credentials(str(answer.Uri), user, password)


def _is_auth_fault(fault: Any) -> bool:
    subcodes = " ".join(str(code) for code in fault.subcodes or ())
    text = f"{fault.code} {subcodes} {fault.message}".lower()
    return any(word in text for word in ("notauthorized", "failedauthentication", "unauthorized"))


def _with_credentials(uri: str, user: str, password: str) -> str:
    parts = urlsplit(uri)
    if parts.username or not user:
        return uri
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def _bgr(decoded: Any) -> Image:
    image: Image = decoded.to_ndarray(format="bgr24")
    return image


def _ffmpeg_reason(error: BaseException) -> str:
    return str(getattr(error, "strerror", None) or error).strip() or type(error).__name__
