"""A tiny ONVIF camera for tests: the three calls we make, behind WS-Security.

It answers GetCapabilities, GetProfiles and GetStreamUri on 127.0.0.1, checks every request's
UsernameToken (password digest or text) and answers a SOAP ``NotAuthorized`` fault, as cameras
do, when the user name or password is wrong. Anything else gets ``ActionNotSupported``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

WSSE = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd}"
WSU = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}"
SOAP = "{http://www.w3.org/2003/05/soap-envelope}"

ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:ter="http://www.onvif.org/ver10/error">'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
FAULT = (
    "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>{code}</s:Value>"
    '</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault>'
)


class OnvifCamera:
    """Serves on a free port of 127.0.0.1 while used as a context manager."""

    def __init__(self, *, user: str, password: str, stream_uri: str) -> None:
        self.user = user
        self.password = password
        self.stream_uri = stream_uri
        self.calls: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])

    def __enter__(self) -> OnvifCamera:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: bytes) -> tuple[int, str]:
        envelope = ET.fromstring(request)  # noqa: S314 - see the import
        body = envelope.find(f"{SOAP}Body")
        action = body[0].tag.rsplit("}", 1)[-1] if body is not None and len(body) else ""
        self.calls.append(action)
        if not self._authorised(envelope):
            return 400, FAULT.format(code="ter:NotAuthorized", reason="Sender not Authorized")
        base = f"http://127.0.0.1:{self.port}/onvif"
        if action == "GetCapabilities":
            return 200, (
                "<tds:GetCapabilitiesResponse><tds:Capabilities>"
                f"<tt:Device><tt:XAddr>{base}/device_service</tt:XAddr></tt:Device>"
                f"<tt:Media><tt:XAddr>{base}/media_service</tt:XAddr></tt:Media>"
                "</tds:Capabilities></tds:GetCapabilitiesResponse>"
            )
        if action == "GetProfiles":
            return 200, (
                '<trt:GetProfilesResponse><trt:Profiles token="main" fixed="true">'
                "<tt:Name>main</tt:Name></trt:Profiles></trt:GetProfilesResponse>"
            )
        if action == "GetStreamUri":
            return 200, (
                "<trt:GetStreamUriResponse><trt:MediaUri>"
                f"<tt:Uri>{self.stream_uri}</tt:Uri>"
                "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
                "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
                "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
            )
        return 400, FAULT.format(code="ter:ActionNotSupported", reason=f"no {action}")

    def _authorised(self, envelope: ET.Element) -> bool:
        token = envelope.find(f".//{WSSE}UsernameToken")
        if token is None:
            return False
        user = token.findtext(f"{WSSE}Username", "")
        given = token.find(f"{WSSE}Password")
        if given is None or user != self.user:
            return False
        if given.get("Type", "").endswith("#PasswordDigest"):
            nonce = base64.b64decode(token.findtext(f"{WSSE}Nonce", ""))
            created = token.findtext(f"{WSU}Created", "").encode()
            # SHA-1 because WS-Security UsernameToken digests are defined with it.
            digest = hashlib.sha1(nonce + created + self.password.encode()).digest()  # noqa: S324
            expected = base64.b64encode(digest).decode()
        else:
            expected = self.password
        return hmac.compare_digest(expected, given.text or "")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = camera.answer(request)
                payload = ENVELOPE.format(body=body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows failures, not every request."""

        return Handler
