#!/usr/bin/env bash
# The project's test command: builds everything (warnings are errors) and runs every test project,
# starting and stopping the local emulators (kinesis-local, dynalite) itself. Works from a fresh clone.
#   ./test.sh                      # everything
#   ./test.sh --filter 'FullyQualifiedName~Harness'   # extra arguments go to `dotnet test`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

# Never reach real AWS or the instance-metadata address: fixed region, dummy credentials.
export AWS_EC2_METADATA_DISABLED=true
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export NUGET_XMLDOC_MODE=skip

# Scratch and caches stay inside the (git-ignored) .tmp folder of the repository.
mkdir -p "$ROOT/.tmp/tmp" "$ROOT/.tmp/jsii-cache" "$ROOT/.tmp/TestResults"
export TMPDIR="$ROOT/.tmp/tmp"
export JSII_RUNTIME_PACKAGE_CACHE_ROOT="$ROOT/.tmp/jsii-cache"

fail() { echo "test.sh: $*" >&2; exit 1; }

# --- prerequisites ---------------------------------------------------------------------------------
command -v dotnet >/dev/null 2>&1 || fail ".NET SDK not found: install the .NET 10 SDK (https://dotnet.microsoft.com/download)."
dotnet --list-sdks | grep -Eq '^10\.' || fail ".NET 10 SDK required; found: $(dotnet --list-sdks | tr '\n' ' ')"
command -v node >/dev/null 2>&1 || fail "Node.js not found: install Node.js 20 or newer (it runs the local emulators)."
command -v npm >/dev/null 2>&1 || fail "npm not found: install Node.js 20 or newer with npm."
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$NODE_MAJOR" -ge 20 ]] || fail "Node.js 20 or newer required; found $(node --version)."

# --- headless Chromium for the dashboard's real-browser test (Debian's package; Playwright's browsers are not used)
if [[ ! -x /usr/lib/chromium/chromium && ! -x /usr/bin/chromium && -z "${CLOUD_CHROMIUM:-}" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "==> apt-get install chromium (dashboard browser test)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "test.sh: could not install chromium: the dashboard browser test will be SKIPPED." >&2
  else
    echo "test.sh: chromium not installed and not root: the dashboard browser test will be SKIPPED (apt-get install -y chromium, or set CLOUD_CHROMIUM)." >&2
  fi
fi

# --- pinned npm emulators and peers (same stamp as Cloud.Emulators.NodeTools) ----------------------
TOOLS="$ROOT/tools/emulators"
STAMP="$TOOLS/node_modules/.cloud-install.stamp"
LOCK_HASH="$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync(process.argv[1])).digest("hex"))' "$TOOLS/package-lock.json")"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$LOCK_HASH" ]]; then
  echo "==> npm ci (tools/emulators)"
  (cd "$TOOLS" && npm ci --no-audit --no-fund --loglevel=error)
  printf '%s' "$LOCK_HASH" > "$STAMP"
fi

# Build servers must not outlive a CI run (they would hold its output pipe open).
if [[ "${CI:-}" == "true" ]]; then
  trap 'dotnet build-server shutdown >/dev/null 2>&1 || true' EXIT
fi

# --- build and test ---------------------------------------------------------------------------------
echo "==> dotnet build Cloud.sln -c Release"
dotnet build Cloud.sln -c Release -warnaserror -nologo -clp:"Summary;ErrorsOnly"

echo "==> dotnet test Cloud.sln -c Release"
RESULTS="$ROOT/.tmp/TestResults"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
status=0
dotnet test Cloud.sln -c Release --no-build --nologo \
  --logger "console;verbosity=minimal" --results-directory "$RESULTS" \
  --blame-hang-timeout 15m --blame-hang-dump-type none \
  "$@" 2>&1 | tee "$RESULTS/console.log" || status=$?

# One closing line over every test project: "N passed, N failed, N skipped".
node -e '
  const text = require("fs").readFileSync(process.argv[1], "utf8");
  let projects = 0, passed = 0, failed = 0, skipped = 0;
  const re = /(?:Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+)/g;
  for (const m of text.matchAll(re)) { projects++; failed += +m[1]; passed += +m[2]; skipped += +m[3]; }
  console.log(`\n${projects} test projects ran tests`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$RESULTS/console.log"

# The performance report's machinery (bench/run): two quick sections into a scratch folder, so the report command
# cannot rot between full runs. Its figures are not checked here (speed lives in bench/, never in tests).
if [[ $# -eq 0 ]]; then
  echo "==> report smoke: bench/run --quick --only aes,client (into .tmp/report-smoke)"
  dotnet "$ROOT/bench/Cloud.Benchmarks/bin/Release/net10.0/Cloud.Benchmarks.dll" report --quick --only aes,client \
    --out "$ROOT/.tmp/report-smoke" > "$RESULTS/report-smoke.log" 2>&1 \
    || { echo "test.sh: the report smoke failed (log: .tmp/TestResults/report-smoke.log):" >&2; tail -20 "$RESULTS/report-smoke.log" >&2; status=1; }
fi

exit "$status"
