#!/usr/bin/env bash
# The evidence for docs/conventions.md: TorchSharp scalars made by implicit conversion, freed by
# the finalizer while libtorch reads them, against the same operations with held scalars.
#   trainer/benchmarks/scalar_race.sh [seconds per variant, default 20]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/ScalarRace"
dotnet run -c Release -v q -- "${1:-20}"
