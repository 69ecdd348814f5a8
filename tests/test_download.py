"""Downloads against a local HTTP server on 127.0.0.1 serving stand-in files (no network)."""

import gzip
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from functools import partial

import numpy as np
import pytest

from dominoes.cli import main
from dominoes.data.download import download, fetch
from dominoes.data.locate import locate
from dominoes.data.sources import load_real


class _Handler(http.server.SimpleHTTPRequestHandler):
    failures_left = 0  # answer 503 this many times first (a flaky server)

    def do_GET(self):
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_error(503)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = type("Handler", (_Handler,), {"failures_left": 0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/", handler
    httpd.shutdown()
    httpd.server_close()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _idx(array: np.ndarray) -> bytes:
    shape = b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return bytes([0, 0, 8, array.ndim]) + shape + array.tobytes()


def _fake_mnist(served):
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(_idx(rng.integers(0, 256, (6, 28, 28), dtype=np.uint8))),
        "train-labels-idx1-ubyte.gz": gzip.compress(_idx(np.arange(6, dtype=np.uint8))),
        "t10k-images-idx3-ubyte.gz": gzip.compress(_idx(rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx(np.array([7, 2, 1, 0], dtype=np.uint8))),
    }
    for name, data in files.items():
        (served / name).write_bytes(data)
    return {name: _md5(data) for name, data in files.items()}


def test_download_verifies_and_lays_out_files_where_the_loaders_find_them(server, tmp_path):
    served, url, _ = server
    sums = _fake_mnist(served)
    root = tmp_path / "data"
    result = download("mnist", root, mirror=url, checksums=sums, retries=0)
    assert len(result.fetched) == 4 and not result.present
    found = locate("mnist", root)
    assert found is not None and found.has_train
    train, test = load_real(found)
    assert len(train) == 6 and test.labels.tolist() == [7, 2, 1, 0]
    again = download("mnist", root, mirror=url, checksums=sums, retries=0)  # verified files are kept
    assert len(again.present) == 4 and not again.fetched


def test_bad_checksum_is_a_clear_error_and_leaves_no_partial_file(server, tmp_path):
    served, url, _ = server
    _fake_mnist(served)  # stand-in files cannot match the published MNIST md5s
    root = tmp_path / "data"
    with pytest.raises(ValueError, match="checksum mismatch .* expected f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        download("mnist", root, mirror=url, retries=0)
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_transient_server_errors_are_retried(server, tmp_path):
    served, url, handler = server
    (served / "blob").write_bytes(b"x" * 1000)
    handler.failures_left = 2
    out = fetch(url + "blob", tmp_path / "blob", _md5(b"x" * 1000), retries=3, backoff=0.01)
    assert out.read_bytes() == b"x" * 1000 and handler.failures_left == 0
    handler.failures_left = 5
    with pytest.raises(OSError, match="503"):
        fetch(url + "blob", tmp_path / "other", _md5(b"x" * 1000), retries=1, backoff=0.01)
    assert not (tmp_path / "other").exists() and not (tmp_path / "other.part").exists()


def test_cifar_archive_is_extracted_to_the_standard_folder(server, tmp_path):
    served, url, _ = server
    batch = pickle.dumps({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [3, 8]}, protocol=2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        info.size = len(batch)
        tar.addfile(info, io.BytesIO(batch))
    (served / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())
    result = download("cifar10", tmp_path / "data", mirror=url,
                      checksums={"cifar-10-python.tar.gz": _md5(buffer.getvalue())}, retries=0)
    assert result.folder.endswith("cifar-10-batches-py")
    (test,) = load_real(locate("cifar10", tmp_path / "data"))
    assert test.labels.tolist() == [3, 8]


def test_cli_download_reports_a_mismatch_on_one_line(server, tmp_path, capsys):
    served, url, _ = server
    _fake_mnist(served)
    status = main(["download", "mnist", "--root", str(tmp_path / "d"), "--mirror", url, "--retries", "0"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("dominoes: error: checksum mismatch") and err.count("\n") == 1


class _Resumable(http.server.BaseHTTPRequestHandler):
    """Serves one blob; the first answer is cut after half the bytes, later ones honour Range."""

    blob = b""
    ranges: list = []
    cut = True

    def do_GET(self):
        cls = type(self)
        start = 0
        if (header := self.headers.get("Range")) is not None:
            cls.ranges.append(header)
            start = int(header.removeprefix("bytes=").rstrip("-"))
        body = cls.blob[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if cls.cut:
            cls.cut = False
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_interrupted_download_resumes_with_a_range_request(tmp_path):
    blob = bytes(range(256)) * 400
    handler = type("Handler", (_Resumable,), {"blob": blob, "ranges": [], "cut": True})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        out = fetch(f"http://127.0.0.1:{httpd.server_address[1]}/blob", tmp_path / "blob", _md5(blob),
                    retries=2, backoff=0.01)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert out.read_bytes() == blob
    assert handler.ranges == [f"bytes={len(blob) // 2}-"]
