"""The README's commands: scripts/project_env.py's decisions against fakes (no venv is
made, nothing is installed), the shell scripts run with a fake interpreter, and a
syntax check of every script (PowerShell's only where ``pwsh`` is installed).

The real thing, a fresh clone started with the machine's stock python3, is .ci/run's
first step (scripts/check_serve.py): it takes minutes, so it is not a unit test.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"


def load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


project_env = load("project_env")
check_serve = load("check_serve")


class FakeMachine:
    """Plays ``python -m venv`` (it makes the interpreter file), the version probe and pip
    for :func:`project_env.prepare`, and records every command."""

    def __init__(self, *, version: str = "3.11.2", venv_error: str = "",
                 pip_fails: bool = False) -> None:
        self.version, self.venv_error, self.pip_fails = version, venv_error, pip_fails
        self.commands: list[list[str]] = []
        self.installs: list[list[str]] = []

    def run(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        if command[-3:-1] == ["-m", "venv"]:
            if self.venv_error:
                return subprocess.CompletedProcess(command, 1, "", self.venv_error)
            python = Path(command[-1]) / "bin" / "python"
            python.parent.mkdir(parents=True)
            python.write_text("")
            return subprocess.CompletedProcess(command, 0, "", "")
        if command[-2:] == ["-c", project_env.PROBE]:
            prefix = Path(command[0]).parent.parent
            return subprocess.CompletedProcess(command, 0, f"{self.version}\n{prefix}\n", "")
        raise AssertionError(f"unexpected command {command}")

    def install(self, command: list[str]) -> int:
        self.installs.append(list(command))
        return 1 if self.pip_fails else 0


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'diffjam'\n")
    return tmp_path


def prepare(machine: FakeMachine, checkout: Path, *, extras: tuple[str, ...] = (),
            environ: dict[str, str] | None = None, version: tuple[int, ...] = (3, 11, 2)) -> str:
    return project_env.prepare(extras=list(extras), environ=environ or {}, checkout=checkout,
                               windows=False, current=["/usr/bin/python3"],
                               current_version=version, run=machine.run,
                               run_install=machine.install, which=lambda name: None)


def test_first_run_makes_the_venv_and_installs_torch_before_the_project(
        checkout: Path) -> None:
    machine = FakeMachine()
    python = prepare(machine, checkout)
    assert python == str(checkout / ".venv" / "bin" / "python")
    assert machine.commands[0] == ["/usr/bin/python3", "-m", "venv", str(checkout / ".venv")]
    assert machine.installs == [
        [python, "-m", "pip", "install", "torch==2.13.0"],
        [python, "-m", "pip", "install", "-e", str(checkout)],
    ]
    record = project_env.read_record(checkout / ".venv" / project_env.RECORD_NAME)
    assert record["python"] == "3.11.2" and record["extras"] == []


def test_nothing_is_installed_again_until_pyproject_changes(checkout: Path) -> None:
    prepare(FakeMachine(), checkout, extras=("dev",))
    again = FakeMachine(pip_fails=True)  # offline: any install would fail
    prepare(again, checkout)             # fewer extras than installed: still current
    prepare(again, checkout, extras=("dev",))
    assert again.installs == []
    assert not any("venv" in command for command in again.commands)

    (checkout / "pyproject.toml").write_text("[project]\nname = 'diffjam'\n# changed\n")
    changed = FakeMachine()
    prepare(changed, checkout, extras=("panel",))
    assert changed.installs[-1][-1] == f"{checkout}[dev,panel]"  # the earlier extras stay


def test_an_offline_update_goes_on_with_what_is_installed(checkout: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    python = prepare(FakeMachine(), checkout)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'diffjam'\n# pulled\n")
    assert prepare(FakeMachine(pip_fails=True), checkout) == python
    assert "starting with what an earlier run installed" in capsys.readouterr().err


def test_a_failed_first_install_is_an_error(checkout: Path) -> None:
    with pytest.raises(project_env.SetupError, match="needs the network the first time"):
        prepare(FakeMachine(pip_fails=True), checkout)


def test_python_variable_uses_that_interpreter_and_makes_no_venv(checkout: Path,
                                                                tmp_path: Path) -> None:
    own = tmp_path / "own-env" / "bin" / "python"
    own.parent.mkdir(parents=True)
    machine = FakeMachine()
    assert prepare(machine, checkout, environ={"PYTHON": str(own)}) == str(own)
    assert not (checkout / ".venv").exists()
    assert machine.installs[0][0] == str(own)
    assert (tmp_path / "own-env" / project_env.RECORD_NAME).is_file()


def test_torch_requirement_and_venv_place_can_be_changed(checkout: Path,
                                                         tmp_path: Path) -> None:
    machine = FakeMachine()
    python = prepare(machine, checkout, environ={"DIFFJAM_VENV": str(tmp_path / "env"),
                                                 "DIFFJAM_TORCH": "torch==2.13.0+cu128"})
    assert python == str(tmp_path / "env" / "bin" / "python")
    assert machine.installs[0][-1] == "torch==2.13.0+cu128"


def test_debian_without_python3_venv_is_told_what_to_install(checkout: Path) -> None:
    machine = FakeMachine(venv_error="The virtual environment was not created successfully "
                                     "because ensurepip is not available.")
    with pytest.raises(project_env.SetupError, match="sudo apt install python3-venv"):
        prepare(machine, checkout)
    assert not (checkout / ".venv").exists()


def test_an_old_python_finds_a_newer_one_on_path() -> None:
    def which(name: str) -> str | None:
        return f"/usr/local/bin/{name}" if name in ("python3.12", "python3") else None

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        version = "3.12.4" if command[0] == "python3.12" else "3.9.6"
        return subprocess.CompletedProcess(command, 0, f"{version}\n/prefix\n", "")

    assert project_env.find_base_python(current=["/usr/bin/python3"], current_version=(3, 9, 6),
                                         windows=False, which=which, run=run) == ["python3.12"]
    with pytest.raises(project_env.SetupError, match=r"needs Python 3\.11.*python\.org"):
        project_env.find_base_python(current=["/usr/bin/python3"], current_version=(3, 9, 6),
                                     windows=False, which=lambda name: None, run=run)


def test_windows_uses_the_py_launcher_and_scripts_folder() -> None:
    seen = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(command[:2])
        return subprocess.CompletedProcess(command, 0, "3.12.1\nC:\\Python312\n", "")

    assert project_env.find_base_python(current=["python"], current_version=(3, 8, 10),
                                         windows=True, which=lambda name: name,
                                         run=run) == ["py", "-3.12"]
    assert project_env.venv_python(Path("C:/dj/.venv"), windows=True) == Path(
        "C:/dj/.venv/Scripts/python.exe")


def test_extras_are_read_from_options_and_environment() -> None:
    assert project_env.parse_extras("dev", "panel, dev") == ["dev", "panel"]
    assert project_env.parse_extras("", None) == []
    with pytest.raises(project_env.SetupError, match="not an extra"):
        project_env.parse_extras("dev;rm")


def test_project_env_reads_as_python_3_8() -> None:
    """An old python3 (macOS's own) must get to the 'install Python 3.11' message."""
    ast.parse((SCRIPTS / "project_env.py").read_text(), feature_version=(3, 8))


def test_check_serve_cuts_pip_off_every_index() -> None:
    env = check_serve.offline_environment({"PIP_FIND_LINKS": "/opt/wheels", "PATH": "/bin",
                                           "PIP_INDEX_URL": "http://mirror"})
    assert env["PIP_NO_INDEX"] == "1" and env["PIP_CONFIG_FILE"] == os.devnull
    assert env["PIP_FIND_LINKS"] == "" and "PIP_INDEX_URL" not in env and env["PATH"] == "/bin"


# ------------------------------------------------------------------------ the scripts


FAKE_PYTHON = """#!/bin/sh
# Plays an interpreter: the setup prints this file's path, the engine prints its arguments.
if [ "$1" = "scripts/project_env.py" ]; then echo "$0"; exit 0; fi
echo "engine through $0: $*"
"""


@pytest.mark.skipif(shutil.which("bash") is None or os.name == "nt", reason="needs bash")
def test_serve_sh_runs_the_engine_through_the_prepared_interpreter(tmp_path: Path) -> None:
    """The issue's exit 127: serve.sh ran `diffjam` from PATH, not the chosen Python."""
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    impostor = tmp_path / "bin" / "diffjam"
    impostor.parent.mkdir()
    impostor.write_text("#!/bin/sh\necho 'another diffjam'\nexit 3\n")
    for path in (python, impostor):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PYTHON": str(python),
           "PATH": f"{impostor.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(SCRIPTS / "serve.sh"), "--port", "9100"], env=env,
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"engine through {python}: -m diffjam serve --port 9100\n"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("script", ["scripts/serve.sh", "scripts/test.sh", ".ci/run"])
def test_shell_scripts_parse(script: str) -> None:
    subprocess.run(["bash", "-n", str(REPO / script)], check=True, timeout=60)


def test_ci_runs_the_readme_s_commands() -> None:
    # the Quick start table's Linux row: | Linux, macOS | `start` | `test` |
    row = next(line for line in (REPO / "README.md").read_text().splitlines()
               if line.startswith("| Linux, macOS |"))
    start, test = (cell.strip().strip("`") for cell in row.strip("|").split("|")[1:3])
    assert (start, test) == ("bash scripts/serve.sh", "bash scripts/test.sh")
    # .ci/run executes the test command as written (a command line, not a comment), and
    # the start command through scripts/check_serve.py, which runs scripts/serve.sh
    commands = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert any(line == test or line.startswith(f"{test} ||") for line in commands)
    assert any("scripts/check_serve.py" in line for line in commands)
    assert '"bash", str(REPO / "scripts" / "serve.sh")' in (SCRIPTS / "check_serve.py").read_text()


def test_serve_ps1_parses() -> None:
    pwsh = shutil.which("pwsh") or shutil.which("powershell")
    if pwsh is None:
        pytest.skip("PowerShell (pwsh) is not installed; none of PyPI, npm or Debian ships it")
    script = str(SCRIPTS / "serve.ps1").replace("'", "''")
    check = ("$errors = $null; [System.Management.Automation.Language.Parser]::ParseFile("
             f"'{script}', [ref]$null, [ref]$errors) | Out-Null; "
             "$errors | ForEach-Object { $_.ToString() }; exit $errors.Count")
    result = subprocess.run([pwsh, "-NoProfile", "-NonInteractive", "-Command", check],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_eval_windows_sets_the_window_policy_it_is_told(monkeypatch) -> None:
    import engine.pipeline as pipeline

    for name in ("ACCOMPANY_OVERLAP_BARS", "OVERLAP_BARS"):
        monkeypatch.setattr(pipeline, name, getattr(pipeline, name))
    monkeypatch.setattr(pipeline.Pipeline, "_infill_window", pipeline.Pipeline._infill_window)
    monkeypatch.setattr(pipeline.Pipeline, "load", pipeline.Pipeline.load)
    for key, value in {"ACC_OVERLAP": "1", "INFILL_OVERLAP": "3", "INFILL_WINDOW": "12",
                       "ACC_WINDOW": "16"}.items():
        monkeypatch.setenv(key, value)
    load("eval_windows")._override()
    assert (pipeline.ACCOMPANY_OVERLAP_BARS, pipeline.OVERLAP_BARS) == (1, 3)
    assert pipeline.Pipeline._infill_window(4) == 12


def test_infill_drafts_runs_as_a_command() -> None:
    result = subprocess.run([sys.executable, str(SCRIPTS / "infill_drafts.py"), "--help"],
                            capture_output=True, text=True, check=False, timeout=120,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert "--repeat" in result.stdout


def test_the_host_bench_times_each_request_with_the_network_taken_out(tmp_path: Path) -> None:
    out = tmp_path / "host.json"
    done = subprocess.run([sys.executable, str(SCRIPTS / "host_bench.py"), "--repeats", "2",
                           "--json", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert "8-bar accompaniment (best of 12)" in done.stdout
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 4 and all(r["p50_ms"] > 0 and r["runs"] == 2 for r in rows)


def test_the_gpu_probe_runs_on_the_cpu_too(tmp_path: Path) -> None:
    # what a GPU lease runs first (scripts/gpu_check.sh), tried here without one: the
    # default requests timed, no graphs to replay and no kernels to count
    out = tmp_path / "probe.json"
    done = subprocess.run([sys.executable, str(SCRIPTS / "gpu_probe.py"), "--device", "cpu",
                           "--repeats", "1", "--json", str(out)], capture_output=True,
                          text=True, timeout=300, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["warm_up_plans"] == 0  # no graph sampler on the CPU
    assert set(report["cases"]) == {"8-bar infill given chords", "... 8 variations",
                                    "8-bar infill without chords (best of 2)",
                                    "8-bar accompaniment (best of 12)"}
    assert all(case["request"]["n"] == 1 and "kernels" not in case
               for case in report["cases"].values())
