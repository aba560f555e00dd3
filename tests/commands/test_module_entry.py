"""`python -m cosim` runs the same command line as the console script."""

import subprocess
import sys

import cosim


def test_python_m_cosim_prints_the_version():
    done = subprocess.run([sys.executable, "-m", "cosim", "--version"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0
    assert cosim.__version__ in done.stdout + done.stderr


def test_python_m_cosim_bad_command_exits_2():
    done = subprocess.run([sys.executable, "-m", "cosim", "no-such-command"], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
