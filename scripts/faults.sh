#!/usr/bin/env bash
# Fault injection (issue 9, RELIABILITY §8.3–8.4): SIGKILL PostgreSQL mid-ingest and restart it (on a
# PostgreSQL of its own), restart the API with 1,000 sockets attached, the Socket.IO adapter across a
# database restart. Slow on purpose; .ci/run calls this after `npm test`. Each test prints its figures
# as one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx vitest run --config test/faults/vitest.faults.config.ts "$@"
