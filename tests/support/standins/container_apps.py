"""Azure Container Apps' side of a deploy: each app's ingress, and the
containers of its revisions, on 127.0.0.1.

An environment hands out ingress addresses (HTTPS, a certificate that
``SSL_CERT_FILE`` trusts) to the apps that ``az containerapp create`` makes
(standins/az.py). A request to an app's address goes to its latest revision's
container, on the app's ingress *target port*: "the port your container
listens on" (https://learn.microsoft.com/en-us/azure/container-apps/ingress-overview).
A revision's container is its image's own ``CMD``, run on the host the way the
image tests run the Dockerfile's steps (test_serving_image.py); each port the
command listens on (its ``--port``) is mapped to a free port of the host, as a
container's ports are. A target port that the command does not listen on gets
no answer from the container: the ingress answers 502, as Envoy does for an
upstream that refuses the connection.
"""

from __future__ import annotations

import http.client
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from support.servers import JSONServer, free_port, stop_process, wait_for_port

LOOPBACK = "127.0.0.1"


@dataclass
class Image:
    """What a revision runs: the image's CMD (exec form), its WORKDIR's files and
    its environment, as the image tests lay them out on the host."""

    command: list[str]
    workdir: Path
    env: dict


@dataclass
class Environment:
    """A Container Apps environment with ``size`` ingress addresses; ``images``:
    image reference -> :class:`Image`, the registry's side."""

    state_dir: Path
    tls_dir: Path
    images: dict[str, Image]
    size: int = 2
    servers: list[JSONServer] = field(default_factory=list)
    containers: dict[str, tuple[subprocess.Popen, dict[int, int]]] = field(default_factory=dict)

    def __enter__(self) -> Environment:
        for index in range(self.size):
            server = JSONServer(self.route_for(index), tls_dir=self.tls_dir / str(index))
            self.servers.append(server.__enter__())
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process, _ in self.containers.values():
            stop_process(process)
        for server in self.servers:
            server.__exit__(*exc_info)

    @property
    def addresses(self) -> list[str]:
        return [server.address for server in self.servers]

    @property
    def cert(self) -> Path:
        """One file that trusts every ingress address (for ``SSL_CERT_FILE``)."""
        bundle = self.tls_dir / "bundle.pem"
        bundle.write_text("".join(Path(str(s.cert)).read_text() for s in self.servers))
        return bundle

    def cloud_entry(self) -> dict:
        """The environment as cloud.json holds it (``managed_environments``)."""
        return {"addresses": self.addresses}

    def container(self, image: str) -> dict[int, int]:
        """Start the image's CMD once; its container ports -> host ports."""
        if image not in self.containers:
            spec = self.images[image]
            command = list(spec.command)
            container_port = int(command[command.index("--port") + 1])
            host_port = free_port()
            command[command.index("--port") + 1] = str(host_port)
            if "--host" in command:
                command[command.index("--host") + 1] = LOOPBACK
            log = self.tls_dir / f"container-{len(self.containers)}.log"
            with log.open("w") as output:
                process = subprocess.Popen(
                    command,
                    cwd=spec.workdir,
                    env=spec.env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            self.containers[image] = (process, {container_port: host_port})
            wait_for_port(host_port, process, log, timeout=120)
        return self.containers[image][1]

    def route_for(self, index: int):  # noqa: ANN201
        def route(method: str, path: str, body: object) -> tuple[int, object]:
            address = self.servers[index].address
            cloud = json.loads((self.state_dir / "cloud.json").read_text())
            apps = cloud.get("container_apps", {})
            app = next((a for a in apps.values() if a.get("fqdn") == address), None)
            if app is None or not app.get("image"):
                return 404, {"error": "no container app at this address"}
            ports = self.container(app["image"])
            host_port = ports.get(app["target_port"])
            if host_port is None:
                return 502, {"error": "upstream connect error or disconnect/reset before headers"}
            connection = http.client.HTTPConnection(LOOPBACK, host_port, timeout=30)
            payload = None if body is None else json.dumps(body)
            headers = {"Content-Type": "application/json"} if payload else {}
            try:
                connection.request(method, path, body=payload, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            except OSError as error:
                return 502, {"error": f"upstream connect error: {error}"}
            finally:
                connection.close()
            return answer.status, json.loads(data) if data else None

        return route


__all__ = ["Environment", "Image"]
