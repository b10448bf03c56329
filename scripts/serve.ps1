# The README's start command on Windows (PowerShell 5.1 or 7):
#   powershell -ExecutionPolicy Bypass -File scripts\serve.ps1
# Makes (once) or updates the project's Python environment .venv with
# scripts\project_env.py, then starts `diffjam serve` through that environment's
# interpreter. Nothing needs to be activated; after the first run nothing is installed
# unless pyproject.toml changed, so the engine starts offline.
#   $env:PYTHON = 'C:\path\to\python.exe'   use that interpreter instead of .venv
#   $env:DIFFJAM_EXTRAS = 'panel'           also install the control panel's PyQt6
# Arguments go to `diffjam serve`, e.g.: scripts\serve.ps1 --port 9100 --device cpu
$ErrorActionPreference = 'Stop'
Set-Location (Join-Path $PSScriptRoot '..')

# A Python to run the setup with: $env:PYTHON, else the py launcher, else python on PATH.
# (The setup itself looks for a Python 3.11+ when this one is older.)
$boot = @()
if ($env:PYTHON) {
    $boot = @($env:PYTHON)
} elseif (Get-Command py -ErrorAction SilentlyContinue) {
    $boot = @('py', '-3')
} elseif (Get-Command python -ErrorAction SilentlyContinue) {
    $boot = @('python')
} else {
    Write-Error ('serve.ps1: no Python found: install Python 3.11 or later from python.org ' +
                 '(tick "Add python.exe to PATH") or with: winget install Python.Python.3.12')
    exit 1
}

$bootArgs = @()
if ($boot.Count -gt 1) { $bootArgs = $boot[1..($boot.Count - 1)] }
$py = & $boot[0] @bootArgs 'scripts\project_env.py'
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
$py = ($py | Select-Object -Last 1).Trim()

& $py -m diffjam serve @args
exit $LASTEXITCODE
