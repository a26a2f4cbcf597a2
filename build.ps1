#!/usr/bin/env pwsh
# KneeOnnx build tasks. PowerShell 7 comes from the repository's local tool manifest:
#   dotnet tool restore
#   dotnet pwsh ./build.ps1 [-Task] restore|build|test|demo [-Configuration Release]
param(
    [ValidateSet('restore', 'build', 'test', 'demo')]
    [string]$Task = 'build',
    [string]$Configuration = 'Release'
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
        # The README's main command: a per-grade set and a contact sheet from the shipped default model.
        $run = Join-Path 'runs' 'demo'
        Invoke-Dotnet run -c $Configuration --project inference/KneeOnnx.Cli -- generate --per-grade 4 --out $run --sheet (Join-Path $run 'sheet.png')
    }
}
