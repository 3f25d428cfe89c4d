import os
import signal
import subprocess
import sys
import textwrap

import pytest

from flows.run_lock import RunLockedError, lock_path, run_lock

HOLDER = textwrap.dedent("""
    import sys, time
    from flows.config import load_settings
    from flows.run_lock import run_lock
    with run_lock(load_settings({"PROCUREMENT_HOME": sys.argv[1]})):
        print("locked", flush=True)
        time.sleep(60)
""")


def start_holder(settings):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.home)], stdout=subprocess.PIPE, text=True,
                            cwd=os.getcwd(), env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_holder_is_refused_with_pid_in_message(settings):
    proc = start_holder(settings)
    try:
        with pytest.raises(RunLockedError, match=rf"in progress \(pid {proc.pid}, started .*\)"):
            with run_lock(settings):
                pytest.fail("acquired a lock another process holds")
    finally:
        proc.terminate()
        proc.wait()


def test_sigkilled_holder_leaves_no_stale_lock(settings):
    proc = start_holder(settings)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock_path(settings).exists()
    with run_lock(settings) as lock:
        assert lock.pid == os.getpid()
        assert str(os.getpid()) in lock_path(settings).read_text()


def test_lock_is_released_after_the_run_and_can_be_taken_again(settings):
    with run_lock(settings):
        pass
    with run_lock(settings) as lock:
        assert lock.pid == os.getpid()
    assert lock_path(settings).read_text() == ""
