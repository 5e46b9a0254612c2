#!/usr/bin/env bash
# Time the website build: a clean full build, then a rebuild with nothing changed.
#
# Usage: benchmarks/build.sh        (after `make book` has run once, so that the pinned
#                                    venv and the offline MathJax copy exist)
#
# The build runs in a scratch copy of the repository, so the timings start from a truly
# clean state (no _build/, no execution cache) and the working tree is left untouched.
# Targets: a clean build under 120 s, a rebuild with nothing changed under 15 s.
# Like every benchmark here it prints numbers and ratios and never fails on a slow run;
# it exits non-zero only when a build itself fails (after printing the timings and the
# build's warnings).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv_bin="$repo/.venv/bin"
for need in "$venv_bin/python" "$venv_bin/jupyter-book" "$repo/_static_mathjax/mathjax/tex-chtml.js"; do
    if [[ ! -e "$need" ]]; then
        echo "missing ${need#"$repo"/}: run 'make book' once first" >&2
        exit 2
    fi
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/book-benchmark.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
# Everything the build reads; generated and environment folders stay behind.
tar -C "$repo" -cf - \
    --exclude=./.git --exclude=./.venv --exclude=./node_modules --exclude=./_build \
    --exclude=./.jupyter_cache --exclude=./course --exclude=./test-artifacts \
    --exclude='__pycache__' --exclude=./.pytest_cache --exclude=./.ruff_cache . |
    tar -C "$scratch" -xf -

cd "$scratch"
export PATH="$venv_bin:$PATH"   # the notebook kernels must run the pinned Python
export PYTHONPATH="$scratch"    # and import the copied package, not the working tree's
log="$scratch/build.log"

seconds() {  # seconds <command...>: run it quietly, print its wall time in seconds
    local start end
    start=$(date +%s%N)
    if ! "$@" >>"$log" 2>&1; then
        echo "$*" >>"$scratch/failed"  # a subshell: report through a file
    fi
    end=$(date +%s%N)
    awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e9 }'
}

release=$(seconds "$venv_bin/python" -m autograder release --course course)
clean=$(seconds "$venv_bin/jupyter-book" build . -W -n --keep-going)
unchanged=$(seconds "$venv_bin/jupyter-book" build . -W -n --keep-going)

printf '%-38s %8s %8s %8s\n' "step" "seconds" "target" "ratio"
row() { printf '%-38s %8.1f %8s %8s\n' "$1" "$2" "$3" "$4"; }
row "release student notebooks" "$release" "-" "-"
ratio() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.2f", s / t }'; }
row "clean build (empty cache)" "$clean" "120" "$(ratio "$clean" 120)"
row "rebuild, nothing changed" "$unchanged" "15" "$(ratio "$unchanged" 15)"
echo "(ratio = seconds / target; above 1.00 means slower than the target; $(nproc) cores)"
if [[ -s "$scratch/failed" ]]; then
    echo "FAILED (the timings above are of failing runs):" >&2
    sed 's/^/  /' "$scratch/failed" >&2
    grep -E "WARNING|ERROR|Error" "$log" | sort -u | head -n 40 >&2 || true
    exit 1
fi
