"""The trusted sandbox worker, run by the grader as ``python -I -S bootstrap.py``.

This file must stay self-contained: it imports only the standard library and numpy, never
the ``autograder`` package (the reference must not be importable where student code runs).

Process tree for one submission (see docs/instructor.md, "The trust model")::

    worker      long-lived, numpy already imported; reads one job directory per line on stdin
     └ supervisor   forked per job, root: new mount, network and PID namespaces; builds a tmpfs
        │           root holding only the stdlib, the allowed packages and an empty /submission
        └ init      PID 1 of the new namespace: chroot, resource limits, unprivileged uid;
           │        runs the submission's cells once (its top-level code)
           └ runner forked per graded test from that state: resets cwd/env/stdout/recursion
                    limit, calls the student's function on each case, writes plain data;
                    limited in CPU time (``test_s``), with a wall-clock backstop

Only plain data leaves the sandbox: ``test_<k>.json`` (JSON, non-finite floats tagged) and
``test_<k>.npz`` (read by the grader with ``allow_pickle=False``). The supervisor copies
those files out with size caps and without following links. Verdicts are computed by the
grader, never here.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import resource
import select
import signal
import sys
import time
import traceback
import types

if __name__ == "__main__":
    # Started with -I -S: no site-packages on the path. The grader passes the directory
    # that holds numpy as argv[1]; the sandbox later narrows sys.path to what is allowed.
    sys.path.append(sys.argv[1])

import numpy as np

# Linux constants (sched.h, mount.h, prctl.h): Python 3.11 has no os.unshare / os.mount.
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4

#: Caps on what the supervisor copies out of the sandbox (bytes).
MAX_RESULT_BYTES = 32 * 1024 * 1024
MAX_LOG_BYTES = 64 * 1024

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None):
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def prctl(option: int, arg: int) -> None:
    _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0)


# --------------------------------------------------------------------------- plain data codec
# The same codec is used in both directions: case inputs go in, return values come out.
# Arrays travel in an .npz keyed "a<i>"; JSON carries the structure. Anything that is not
# plain data (an ndarray subclass, an object) is sent as {"__unsupported__": type name} so
# the grader can tell the student what they returned without ever unpickling it.


def encode(value, arrays: list):
    """Return a JSON-able tree for ``value``; append arrays to ``arrays``.

    >>> arrays = []
    >>> encode((np.zeros(2), float("inf"), [1, None]), arrays)
    {'__tuple__': [{'__nd__': 0}, {'__float__': 'inf'}, [1, None]]}
    >>> encode(np.zeros(2).view(np.matrix), arrays)
    {'__unsupported__': 'numpy.matrix'}
    """
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value if abs(value) < 2**53 else {"__int__": str(value)}
    if type(value) is float:
        return value if np.isfinite(value) else {"__float__": repr(value)}
    if type(value) is np.ndarray:
        if value.dtype.kind not in "biuf" or value.dtype.hasobject:
            return {"__unsupported__": f"numpy.ndarray of dtype {value.dtype}"}
        arrays.append(value)
        return {"__nd__": len(arrays) - 1}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        if value.dtype.kind in "biuf":
            arrays.append(np.asarray(value))
            return {"__np__": len(arrays) - 1}
        return {"__unsupported__": f"numpy scalar {value.dtype}"}
    if type(value) is tuple:
        return {"__tuple__": [encode(v, arrays) for v in value]}
    if type(value) is list:
        return [encode(v, arrays) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: encode(v, arrays) for k, v in value.items()}}
    if type(value).__name__ == "FunctionRef" and hasattr(value, "name"):
        return {"__fref__": value.name}
    kind = type(value)
    return {"__unsupported__": f"{kind.__module__}.{kind.__qualname__}"}


def decode(tree, arrays, shown=None):
    """Inverse of :func:`encode`; ``arrays`` maps ``"a<i>"`` to ndarrays.

    ``shown``: an optional function mapping an unsupported type's name (untrusted text from
    the sandbox) to the name feedback may show. Malformed trees raise ``ValueError``.
    """
    if isinstance(tree, list):
        return [decode(v, arrays, shown) for v in tree]
    if not isinstance(tree, dict):
        if tree is None or type(tree) in (bool, int, float, str):
            return tree
        raise ValueError("not plain data")
    if "__nd__" in tree:
        return arrays[f"a{_index(tree['__nd__'])}"]
    if "__np__" in tree:
        arr = arrays[f"a{_index(tree['__np__'])}"]
        return arr[()] if arr.ndim == 0 else arr
    if "__float__" in tree:
        return float(str(tree["__float__"]))
    if "__int__" in tree:
        return int(str(tree["__int__"]))
    if "__tuple__" in tree and isinstance(tree["__tuple__"], list):
        return tuple(decode(v, arrays, shown) for v in tree["__tuple__"])
    if "__dict__" in tree and isinstance(tree["__dict__"], dict):
        return {str(k): decode(v, arrays, shown) for k, v in tree["__dict__"].items()}
    if "__unsupported__" in tree:
        name = str(tree["__unsupported__"])
        return unsupported(shown(name) if shown is not None else name)
    if "__fref__" in tree:
        return FunctionRef(str(tree["__fref__"]))
    raise ValueError("unknown tag in plain data")


def _index(value) -> int:
    """An array index from the JSON side: a plain non-negative int of sane size."""
    if type(value) is not int or not 0 <= value < 1_000_000:
        raise ValueError("bad array index")
    return value


#: Replaced by the harness's own class once it is loaded (the markers must be its instances).
FunctionRef = None


class Unsupported:
    """Stands for a value that was not plain data (judged as a wrong return type)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def unsupported(type_name: str) -> Unsupported:
    """An :class:`Unsupported` whose class is named like the student's type (``Liar``), so
    that a judge reporting ``type(value).__name__`` names what the student returned."""
    short = type_name.rsplit(".", 1)[-1] if " " not in type_name else type_name
    return type(short[:80], (Unsupported,), {})(type_name)


# --------------------------------------------------------------------------- the supervisor


def _mkdirs(path: str, mode: int = 0o755) -> None:
    parts = [p for p in path.split("/") if p]
    current = ""
    for part in parts:
        current += "/" + part
        if not os.path.isdir(current):
            os.mkdir(current, mode)


def build_root(root: str, cfg: dict) -> None:
    """Mount a tmpfs at ``root`` holding read-only views of what Python needs, and /submission.

    Every view keeps its host path (numpy's lazily imported submodules are found through
    their host paths); the writable work directory has a path none of them uses.
    """
    mount("tmpfs", root, "tmpfs", MS_NOSUID, "size=4m,mode=0755")
    for link, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if os.path.islink("/" + link):
            os.symlink(target, os.path.join(root, link))
    ro_dirs = ["/usr", *cfg["stdlib_dirs"], *cfg["package_dirs"]]
    for src in ro_dirs:
        if not os.path.exists(src):
            continue
        dst = root + src
        if os.path.isdir(src):
            _mkdirs(dst)
        else:
            _mkdirs(os.path.dirname(dst))
            open(dst, "w").close()
        mount(src, dst, None, MS_BIND | MS_REC)
        mount("none", dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)
    for hidden in cfg["hidden_dirs"]:  # e.g. the interpreter's own site-packages
        if os.path.isdir(root + hidden):
            mount("tmpfs", root + hidden, "tmpfs", MS_RDONLY | MS_NOSUID, "size=4k")
    _mkdirs(root + "/dev")
    for dev in ("null", "zero", "urandom", "random"):
        open(f"{root}/dev/{dev}", "w").close()
        mount(f"/dev/{dev}", f"{root}/dev/{dev}", None, MS_BIND)
    _mkdirs(root + "/etc")
    if os.path.exists("/etc/ld.so.cache"):
        open(root + "/etc/ld.so.cache", "w").close()
        mount("/etc/ld.so.cache", root + "/etc/ld.so.cache", None, MS_BIND)
    work = root + cfg["work_path"]
    _mkdirs(work)
    size = int(cfg["limits"]["disk_mb"])
    mount("tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=0700")
    os.chown(work, cfg["uid"], cfg["gid"])
    # Nothing but /submission is writable from inside.
    mount("none", root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID)


def _traversable(path: str) -> bool:
    """Can any user reach ``path`` (every ancestor world-executable)?"""
    current = os.path.abspath(path)
    while True:
        if not os.stat(current).st_mode & 0o001:
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def isolate(cfg: dict, root: str) -> tuple[dict, list[str]]:
    """Enter what namespaces this machine allows; build the private root. Report each.

    ``cfg["disable"]`` (set by the operator, or by the tests) skips features on purpose.
    """
    disabled = set(cfg.get("disable", ()))
    features = {
        "mount_namespace": False,
        "network_namespace": False,
        "pid_namespace": False,
        "user_switch": False,
    }
    notes = []
    if os.geteuid() != 0:
        notes.append("the grader is not root: student code runs as the grader's own user")
        try:  # an unprivileged user namespace still gives a private network and PIDs
            unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID)
            features.update(network_namespace=True, pid_namespace=True)
        except OSError as exc:
            notes.append(f"user namespaces unavailable ({exc.strerror})")
        return features, notes
    steps = [
        ("mount_namespace", "mount", CLONE_NEWNS),
        ("network_namespace", "network", CLONE_NEWNET),
        ("pid_namespace", "pid", CLONE_NEWPID),
    ]
    for key, name, flag in steps:
        if name in disabled:
            notes.append(f"{name} namespace disabled by the operator")
            continue
        try:
            unshare(flag)
            if flag == CLONE_NEWNS:
                mount("none", "/", None, MS_REC | MS_PRIVATE)
                build_root(root, cfg)
            features[key] = True
        except OSError as exc:
            notes.append(f"{name} namespace unavailable: {exc}")
    try:  # private System V IPC and host name: nothing to share with the grader's machine
        unshare(CLONE_NEWIPC | CLONE_NEWUTS)
    except OSError as exc:
        notes.append(f"IPC/UTS namespaces unavailable: {exc}")
    if features["mount_namespace"] or all(_traversable(d) for d in cfg["stdlib_dirs"]):
        features["user_switch"] = "user" not in disabled
    else:
        notes.append(
            "no private root and the Python install is not readable by an unprivileged "
            "user: student code runs as the grader's user"
        )
    return features, notes


def _copy_out(name: str, dst: str, cap: int, dir_fd: int) -> bool:
    """Copy the regular file ``name`` of ``dir_fd`` without following links, up to ``cap``."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if not (st.st_mode & 0o170000 == 0o100000) or st.st_size > cap:
            return False
        with open(dst, "wb") as out:
            while chunk := os.read(fd, 1 << 20):
                out.write(chunk)
        return True
    finally:
        os.close(fd)


def supervise(job_dir: str) -> int:
    """Run one job; return the process exit code (0 = results are in job_dir/out)."""
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    global FunctionRef
    harness = types.ModuleType("_grader_harness")
    sys.modules[harness.__name__] = harness  # dataclasses look their module up
    exec(compile(cfg["harness"], "harness.py", "exec"), harness.__dict__)
    FunctionRef = harness.FunctionRef
    with np.load(os.path.join(job_dir, "inputs.npz"), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    tests = [{**t, "cases": [decode(c, arrays) for c in t["cases"]]} for t in cfg["tests"]]
    root = os.path.join(job_dir, "root")
    out_dir = os.path.join(job_dir, "out")
    features, notes = isolate(cfg, root)
    if features["mount_namespace"]:
        sandbox_work = root + cfg["work_path"]
    else:
        sandbox_work = os.path.join(job_dir, "work")
        os.makedirs(sandbox_work, mode=0o700, exist_ok=True)
        cfg["env"].update(HOME=sandbox_work, TMPDIR=sandbox_work, MPLCONFIGDIR=sandbox_work)
        if features["user_switch"]:
            os.chown(sandbox_work, cfg["uid"], cfg["gid"])
    # The child's stdout/stderr is a pipe drained here: output past the cap is dropped, and
    # a print never fails in the child because of it.
    read_end, write_end = os.pipe()
    # The child signals the end of its top-level code here; the test phase has its own budget.
    phase_read, phase_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(read_end)
            os.close(phase_read)
            os.dup2(write_end, 1)
            os.dup2(write_end, 2)
            os.close(write_end)
            code = init(cfg, tests, features, sandbox_work, harness, phase_write)
        finally:
            os._exit(code)
    os.close(write_end)
    os.close(phase_write)
    captured = bytearray()
    limits = cfg["limits"]
    deadline = time.monotonic() + limits["wall_s"]
    test_budget = len(tests) * (per_test_wall_s(limits["test_s"]) + 1.5) + 5
    status, detail = _wait(
        pid, deadline, drain=(read_end, captured), extend=(phase_read, test_budget)
    )
    _drain_rest(read_end, captured)
    os.makedirs(out_dir, exist_ok=True)
    # `out` was writable by the student: never follow a link there, in it, or out of it.
    try:
        out_fd = os.open(
            os.path.join(sandbox_work, "out"), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        )
    except OSError:
        out_fd = None
    if out_fd is not None:
        try:
            for name in os.listdir(out_fd)[: 4 * len(tests) + 8]:
                if name.endswith((".json", ".npz")):
                    _copy_out(name, os.path.join(out_dir, name), MAX_RESULT_BYTES, out_fd)
        finally:
            os.close(out_fd)
    with open(os.path.join(out_dir, "output.txt"), "wb") as f:
        f.write(bytes(captured[:MAX_LOG_BYTES]))
        if len(captured) > MAX_LOG_BYTES:
            f.write(b"\n[... more output cut]\n")
    summary = {
        "status": status,
        "detail": detail,
        "features": features,
        "notes": notes,
    }
    with open(os.path.join(out_dir, "supervisor.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f)
    return 0


def _read_some(fd: int, sink: bytearray) -> bool:
    """Read what is available from ``fd`` into ``sink`` (up to the cap); False at EOF."""
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if len(sink) <= MAX_LOG_BYTES:
        sink += chunk[: MAX_LOG_BYTES + 1 - len(sink)]
    return bool(chunk)


def _drain_rest(fd: int, sink: bytearray) -> None:
    """Read the pipe to EOF (every writer is dead once PID 1 of the namespace is)."""
    os.set_blocking(fd, False)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready and not _read_some(fd, sink):
            break
    os.close(fd)


def _wait(pid: int, deadline: float, drain=None, extend=None) -> tuple[str, str]:
    """Wait for ``pid`` until ``deadline``; kill it after. Return (status, detail).

    ``drain``: an optional ``(fd, bytearray)`` to keep reading the child's output from.
    ``extend``: an optional ``(fd, seconds)``: when a byte arrives on ``fd`` (the child has
    finished its top-level code), the deadline becomes ``seconds`` from then, the budget of
    the test phase, whose every test has its own limit.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    if drain is not None:
        os.set_blocking(drain[0], False)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if pidfd is not None:
                os.close(pidfd)
            return "timeout", "time limit reached"
        fds = [] if drain is None or drain[0] < 0 else [drain[0]]
        if extend is not None:
            fds.append(extend[0])
        if pidfd is not None:
            fds.append(pidfd)
        if fds:
            ready, _, _ = select.select(fds, [], [], remaining if pidfd is not None else 0.005)
            if drain is not None and drain[0] in ready and not _read_some(*drain):
                drain = (-1, drain[1])  # EOF: stop selecting on it
            if extend is not None and extend[0] in ready:
                if os.read(extend[0], 1):
                    deadline = time.monotonic() + extend[1]
                os.close(extend[0])
                extend = None
        else:
            time.sleep(min(remaining, 0.005))
        done, wstatus = os.waitpid(pid, os.WNOHANG)
        if done:
            if pidfd is not None:
                os.close(pidfd)
            if os.WIFSIGNALED(wstatus):
                sig = os.WTERMSIG(wstatus)
                return "crashed", f"killed by signal {signal.Signals(sig).name}"
            return "exited", f"exit code {os.WEXITSTATUS(wstatus)}"


# --------------------------------------------------------------------------- inside the sandbox


def _limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


def init(cfg: dict, tests: list, features: dict, work: str, harness, phase_fd: int) -> int:
    """PID 1 of the sandbox: confine, run the cells once, fork one runner per test.

    One byte on ``phase_fd`` tells the supervisor that the top-level code has finished.
    """
    limits = cfg["limits"]
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if features["mount_namespace"]:
        os.chroot(work[: -len(cfg["work_path"])])
        work = cfg["work_path"]
    os.chdir(work)
    mb = 1024 * 1024
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, limits["memory_mb"] * mb)
    _limit(resource.RLIMIT_FSIZE, limits["file_mb"] * mb)
    _limit(resource.RLIMIT_NOFILE, 64)
    _limit(resource.RLIMIT_CPU, int(limits["wall_s"]) + 1)
    if features["user_switch"]:
        _limit(resource.RLIMIT_NPROC, limits["processes"])
        os.setgroups([])
        os.setgid(cfg["gid"])
        os.setuid(cfg["uid"])
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the uid change
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap raises OSError
    out = os.path.join(work, "out")
    os.makedirs(out, exist_ok=True)
    os.environ.clear()
    os.environ.update(cfg["env"])
    sys.path[:] = cfg["sys_path"]
    sys.path_importer_cache.clear()
    import importlib

    importlib.invalidate_caches()
    console = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdout = sys.stderr = console
    state = _snapshot()  # what every test starts from, whatever the cells change
    me = os.getpid()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    main_module = types.ModuleType("__main__")
    main_module.__dict__.update(namespace)
    namespace = main_module.__dict__
    sys.modules["__main__"] = main_module
    cell_errors = []
    for number, source in cfg["cells"]:
        try:
            exec(compile(source, f"<code cell {number}>", "exec"), namespace)
        except BaseException as exc:
            if os.getpid() != me:  # a forked copy of this process must not go on
                os._exit(0)
            cell_errors.append({"cell": number, "error": _describe(exc)})
        if os.getpid() != me:
            os._exit(0)
    _restore(state)
    try:
        os.write(phase_fd, b"1")
        os.close(phase_fd)
    except OSError:  # the student's code closed it: the top-level deadline then applies
        pass
    os.makedirs(out, exist_ok=True)
    _write_json(os.path.join(out, "cells.json"), {"errors": cell_errors[:50]})
    results = []
    for k, test in enumerate(tests):
        results.append(_run_test(k, test, namespace, harness, state, limits))
    _write_json(os.path.join(out, "init.json"), {"tests": results})
    return 0


def _describe(exc: BaseException) -> str:
    """Only the exception's type name: the grader shows no text the student's code chose."""
    return type(exc).__name__[:100]


def _snapshot() -> dict:
    return {
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "recursion": max(sys.getrecursionlimit(), 1000),
        "path": list(sys.path),
        "stdout": sys.stdout,
        "numpy_err": np.geterr(),
    }


def _restore(state: dict) -> None:
    """Undo what student code may have changed in this process's global state."""
    sys.setrecursionlimit(state["recursion"])
    os.chdir(state["cwd"])
    os.environ.clear()
    os.environ.update(state["env"])
    sys.path[:] = state["path"]
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = state["stdout"]
    np.seterr(**state["numpy_err"])


def _write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _reap() -> None:
    """Collect exited children (as PID 1, orphans of the student's code are ours too)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def per_test_wall_s(test_s: float) -> float:
    """The wall-clock backstop of one test whose CPU-time limit is ``test_s``.

    Generous, because a correct function starved of CPU by other processes of the machine
    (say, another sandbox's spinning children) must still finish; it only stops a test that
    waits without computing (``time.sleep``, a blocking read).
    """
    return 3 * test_s + 10


def _run_test(k: int, test: dict, namespace: dict, harness, state: dict, limits: dict) -> dict:
    """Fork a runner for one test and wait for it with the per-test time limit."""
    try:
        sys.stdout.flush()  # or the runner would print the cells' buffered output again
    except (OSError, ValueError):
        pass
    # Processes the cells forked (a fork bomb's last generation) count against the process
    # limit until they exit and are reaped: retry for a moment before giving up.
    for attempt in range(20):
        _reap()
        try:
            pid = os.fork()
            break
        except BlockingIOError as exc:
            if attempt == 19:
                return {"status": "crashed", "detail": f"could not start the test ({exc.strerror})"}
            time.sleep(0.05)
        except OSError as exc:
            return {"status": "crashed", "detail": f"could not start the test ({exc.strerror})"}
    if pid == 0:
        code = 71
        try:
            _runner(k, test, namespace, harness, state, limits)
            code = 0
        finally:
            os._exit(code)
    status, detail = _wait(pid, time.monotonic() + per_test_wall_s(limits["test_s"]))
    return {"status": status, "detail": detail}


def _runner(k: int, test: dict, namespace: dict, harness, state: dict, limits: dict) -> None:
    """Call the student's function on every case of one test; write plain data."""
    # The test's time limit is CPU time: SIGXCPU at test_s, SIGKILL a second later (a
    # handler cannot save it). Other sandboxes starving this one cost it wall time only.
    cpu = max(1, math.ceil(limits["test_s"]))
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ValueError, OSError):  # above the inherited hard limit: keep that one
        pass
    _restore(state)
    func = namespace.get(test["function"])
    outcomes = []
    arrays: list = []
    for case in test["cases"]:
        if func is None:
            outcome = {"kind": "missing"}
        else:
            try:
                result = harness.run_case(func, test["test"], case)
            except BaseException as exc:
                result = harness.Raised(type(exc).__name__)
            if isinstance(result, harness.Returned):
                try:
                    outcome = {"kind": "returned", "value": encode(result.value, arrays)}
                except RecursionError:  # a list nested thousands deep
                    outcome = {"kind": "returned", "value": {"__unsupported__": "nested list"}}
            else:
                outcome = {"kind": "raised", "type": str(result.type_name)[:100]}
        outcomes.append(outcome)
    _restore(state)  # the student's function may have changed the directory
    out = os.path.join(state["cwd"], "out")
    try:
        np.savez(os.path.join(out, f"test_{k}.npz"), **{f"a{i}": a for i, a in enumerate(arrays)})
    except (OSError, MemoryError):  # past the file-size limit: results too large to return
        outcomes = [{"kind": "toolarge"}] * len(outcomes)
    _write_json(os.path.join(out, f"test_{k}.json"), {"outcomes": outcomes})


# --------------------------------------------------------------------------- the worker


def worker() -> int:
    """Serve jobs: one job directory per stdin line, one JSON status line per job."""
    for line in sys.stdin:
        job_dir = line.strip()
        if not job_dir:
            continue
        pid = os.fork()
        if pid == 0:
            code = 72
            try:
                code = supervise(job_dir)
            except BaseException:
                with open(os.path.join(job_dir, "supervisor-error.txt"), "w") as f:
                    f.write(traceback.format_exc()[-4000:])
            finally:
                os._exit(code)
        _, wstatus = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(wstatus)
        sys.stdout.write(json.dumps({"job": job_dir, "code": code}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(worker())
