"""The page at / in a real browser: headless Chromium driven over WebDriver (chromedriver, from
Debian) with Python's standard library. It opens the page served by `kiln serve`, waits for the
model and the test-image gallery, uploads a PNG of a test image through the file input, and reads
the top class off the page; it must be the class `kiln predict` gives for the same file.
Usage: browser_test.py KILN MODEL_DIR WORK_DIR [SCREENSHOT.png]; prints what it checked, exits 1
on a failure."""
import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib

kiln, model, work = sys.argv[1:4]
screenshot = sys.argv[4] if len(sys.argv) > 4 else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_test_image_png(path):
    import gzip
    with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
        pixels = f.read(16 + 784)[16:]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + pixels[r * 28:(r + 1) * 28] for r in range(28))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def wait(what, fn, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"FAIL: timed out waiting for {what}")


png = os.path.join(work, "browser-test-image.png")
first_test_image_png(png)
expected = json.loads(subprocess.run([kiln, "predict", model, png, "--json"], capture_output=True, text=True,
                                     check=True).stdout)["label"]

log = open(os.path.join(work, "browser-serve.log"), "w+")
server = subprocess.Popen([kiln, "serve", model, "--model_name", "fashion", "--rest_api_port", "0", "--quiet"],
                          stderr=log)
driver_port = free_port()
driver = subprocess.Popen(["chromedriver", f"--port={driver_port}"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
session = None
try:
    def port():
        log.seek(0)
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read())
        return m and m.group(1)
    page = f"http://127.0.0.1:{wait('kiln serve to listen', port)}/"
    wd = f"http://127.0.0.1:{driver_port}"
    wait("chromedriver", lambda: subprocess.run(["curl", "-sf", f"{wd}/status"], capture_output=True).returncode == 0)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1000,900",
            f"--user-data-dir={os.path.join(work, 'chromium-profile')}"]
    caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                             "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}}
    session = request("POST", f"{wd}/session", caps)["value"]["sessionId"]
    s = f"{wd}/session/{session}"

    def js(script):
        return request("POST", f"{s}/execute/sync", {"script": script, "args": []})["value"]

    request("POST", f"{s}/url", {"url": page})
    version = wait("the model's version on the page", lambda: js("return document.getElementById('version').textContent"))
    print(f"page loaded the model: {version}")
    samples = wait("the test-image gallery", lambda: js(
        "const c = document.querySelectorAll('#samples .sample'); return c.length ? c.length : 0"))
    right = js("return document.querySelectorAll('#samples .right').length")
    print(f"gallery shows {samples} test images, {right} predicted right")
    if samples != 8:
        raise SystemExit(f"FAIL: expected 8 test images in the gallery, saw {samples}")
    element = request("POST", f"{s}/element", {"using": "css selector", "value": "#file"})["value"]
    element_id = next(iter(element.values()))
    request("POST", f"{s}/element/{element_id}/value", {"text": png})
    top = wait("the prediction for the uploaded image", lambda: js(
        "const r = document.querySelector('#results .result'); "
        "return r ? [r.querySelector('.label').textContent, r.querySelector('.prob').textContent] : null"))
    error = js("return document.getElementById('error').textContent")
    print(f"uploaded {os.path.basename(png)}: the page says {top[0]} ({top[1]}); kiln predict says {expected}")
    if screenshot:
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(request("GET", f"{s}/screenshot")["value"]))
    if error:
        raise SystemExit(f"FAIL: the page shows an error: {error}")
    if top[0] != expected:
        raise SystemExit(f"FAIL: the page's top class {top[0]} is not kiln predict's {expected}")
    print("browser test passed")
finally:
    if session:
        try:
            request("DELETE", f"{wd}/session/{session}")
        except Exception:
            pass
    driver.terminate()
    server.terminate()
    server.wait()
