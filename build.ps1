#!/usr/bin/env pwsh
# KneeOnnx build tasks. PowerShell 7 comes from the repository's local tool manifest:
#   dotnet tool restore
#   dotnet pwsh ./build.ps1 [-Task] restore|build|test|demo [-Configuration Release]
param(
    [ValidateSet('restore', 'build', 'test', 'demo')]
    [string]$Task = 'build',
    [string]$Configuration = 'Release',
    # Where the real dataset lives (its train/ split is used by the demo).
    [string]$Data = (Join-Path $PSScriptRoot '..' 'shared' 'data' 'kneeKL224')
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'restore' { Invoke-Dotnet restore KneeOnnx.sln }
    'build'   { Invoke-Dotnet build KneeOnnx.sln -c $Configuration }
    'test'    { Invoke-Dotnet test KneeOnnx.sln -c $Configuration }
    'demo'    {
        # A short training run of the tiny preset on the real data, then TorchSharp DDPM samples of every grade.
        $run = Join-Path 'runs' 'demo'
        if (Test-Path (Join-Path $run 'checkpoint.ckpt')) { Remove-Item -Recurse -Force $run }
        Invoke-Dotnet run -c $Configuration --project training/KneeOnnx.Training -- train --data $Data --preset tiny --steps 300 --batch 16 --lr 1e-3 --warmup 50 --out $run
        Invoke-Dotnet run -c $Configuration --project training/KneeOnnx.Training -- sample --checkpoint $run --grade 0,1,2,3,4 --count 4 --out (Join-Path $run 'samples')
    }
}
