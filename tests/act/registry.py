"""A container registry stand-in: the part of the OCI distribution API that `podman push` uses.

Workflows push images with `podman login` and `podman push`; no registry is reachable here, so
the test serves one on localhost (plain HTTP, declared insecure through CONTAINERS_REGISTRIES_CONF)
and reads what was pushed from `Registry.manifests`.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ROUTE = re.compile(r"^/v2/(?P<name>.+)/(?P<kind>blobs/uploads|blobs|manifests)/(?P<ref>[^/]*)$")


class Registry:
    """Blobs by digest, manifests by repository and reference (tag or digest), uploads in progress."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, dict[str, tuple[str, bytes]]] = {}
        self.uploads: dict[str, bytearray] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Registry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def tags(self, name: str) -> list[str]:
        return sorted(ref for ref in self.manifests.get(name, {}) if not ref.startswith("sha256:"))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows failures
                return

            def body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return bytes(data)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def answer(self, status: int, headers: dict[str, str] | None = None, data: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def route(self) -> tuple[re.Match[str] | None, dict[str, list[str]]]:
                url = urlsplit(self.path)
                return ROUTE.match(url.path), parse_qs(url.query)

            def do_GET(self) -> None:
                if urlsplit(self.path).path in ("/v2", "/v2/"):
                    self.answer(200, {"Content-Type": "application/json"}, b"{}")
                    return
                match, _ = self.route()
                if match and match["kind"] == "blobs" and match["ref"] in registry.blobs:
                    blob = registry.blobs[match["ref"]]
                    self.answer(200, {"Docker-Content-Digest": match["ref"]}, blob)
                elif (
                    match and match["kind"] == "manifests" and match["ref"] in registry.manifests.get(match["name"], {})
                ):
                    media_type, manifest = registry.manifests[match["name"]][match["ref"]]
                    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
                    self.answer(200, {"Content-Type": media_type, "Docker-Content-Digest": digest}, manifest)
                else:
                    self.answer(404, {"Content-Type": "application/json"}, b'{"errors": [{"code": "NOT_FOUND"}]}')

            do_HEAD = do_GET

            def do_POST(self) -> None:
                match, query = self.route()
                data = self.body()
                if not match or match["kind"] != "blobs/uploads":
                    self.answer(404)
                    return
                if "digest" in query:
                    self.store(match["name"], query["digest"][0], data)
                    return
                upload = uuid.uuid4().hex
                with registry.lock:
                    registry.uploads[upload] = bytearray(data)
                location = f"/v2/{match['name']}/blobs/uploads/{upload}"
                self.answer(202, {"Location": location, "Range": "0-0", "Docker-Upload-UUID": upload})

            def do_PATCH(self) -> None:
                match, _ = self.route()
                if not match or match["ref"] not in registry.uploads:
                    self.answer(404)
                    return
                with registry.lock:
                    registry.uploads[match["ref"]] += self.body()
                    size = len(registry.uploads[match["ref"]])
                location = f"/v2/{match['name']}/blobs/uploads/{match['ref']}"
                self.answer(202, {"Location": location, "Range": f"0-{max(size - 1, 0)}"})

            def do_PUT(self) -> None:
                match, query = self.route()
                if match and match["kind"] == "manifests":
                    manifest = self.body()
                    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
                    media_type = self.headers.get("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    with registry.lock:
                        stored = registry.manifests.setdefault(match["name"], {})
                        stored[match["ref"]] = stored[digest] = (media_type, manifest)
                    location = f"/v2/{match['name']}/manifests/{digest}"
                    self.answer(201, {"Location": location, "Docker-Content-Digest": digest})
                elif match and match["kind"] == "blobs/uploads" and match["ref"] in registry.uploads:
                    with registry.lock:
                        data = bytes(registry.uploads.pop(match["ref"]) + self.body())
                    self.store(match["name"], query["digest"][0], data)
                else:
                    self.answer(404)

            def store(self, name: str, digest: str, data: bytes) -> None:
                if digest != "sha256:" + hashlib.sha256(data).hexdigest():
                    self.answer(400, {"Content-Type": "application/json"}, b'{"errors": [{"code": "DIGEST_INVALID"}]}')
                    return
                with registry.lock:
                    registry.blobs[digest] = data
                self.answer(201, {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

        return Handler
