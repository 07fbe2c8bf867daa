"""Opens N connections to a server and leaves them idle, then times one predict request beside
them, and, after the server's read timeout, counts the idle connections it has closed.
Usage: idle_connections.py PORT BODY_FILE [N] [timeout_seconds]"""
import resource
import socket
import subprocess
import sys
import time

port, body = int(sys.argv[1]), sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 30
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def predict():
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} in %{time_total} s", "-d", f"@{body}",
                           f"http://127.0.0.1:{port}/v1/models/m:predict"], capture_output=True, text=True).stdout


idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print(f"{n} idle connections open; a predict beside them: {predict()}")
time.sleep(timeout + 1.5)
closed = 0
for s in idle:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except ConnectionResetError:
        closed += 1
print(f"after the {timeout:g} s read timeout: {closed} of them closed by the server; a predict: {predict()}")
