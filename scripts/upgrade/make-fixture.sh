#!/usr/bin/env bash
# usage: scripts/upgrade/make-fixture.sh test/fixtures/upgrade/<name>
#
# Writes <name>/data.sql: the data of a database filled by an earlier version of this project. The
# folder's fixture.json names the version (`commit`); its fill.sh says what fills it. In a scratch
# checkout of that commit (a git worktree under /tmp, removed afterwards) this installs its
# dependencies, starts its stack on a scratch data directory and free ports, runs fill.sh there
# with the stack's stack.env in the environment, and dumps the rows with this checkout's
# `npm run db:dump-data`. Needs what fill.sh uses (xtb and Open Babel for a runner) and the network
# for `npm ci`.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 test/fixtures/upgrade/<name>" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
fixture=$(cd "$1" && pwd)
commit=$(node -p "require('$fixture/fixture.json').commit")

scratch=$(mktemp -d /tmp/qf-upgrade-fixture-XXXXXX)
chmod 755 "$scratch" # a root start runs PostgreSQL as the postgres user, which must reach the data
prev="$scratch/checkout"
stack_pid=
cleanup() {
  if [ -n "$stack_pid" ]; then kill -TERM "$stack_pid" 2>/dev/null && wait "$stack_pid" 2>/dev/null || true; fi
  git -C "$repo" worktree remove --force "$prev" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

git -C "$repo" worktree add --detach "$prev" "$commit" >/dev/null
(cd "$prev" && npm ci --no-audit --no-fund >"$scratch/npm-ci.log" 2>&1) || { cat "$scratch/npm-ci.log" >&2; exit 1; }

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
(cd "$prev" && exec env QF_LOCAL_DIR="$scratch/local" node --import tsx scripts/start.ts \
  --port "$(free_port)" --db-port "$(free_port)" >"$scratch/start.log" 2>&1) &
stack_pid=$!
for _ in $(seq 600); do
  grep -qs '^SUPABASE_ACCESS_TOKEN=' "$scratch/local/stack.env" && break
  kill -0 "$stack_pid" 2>/dev/null || { cat "$scratch/start.log" >&2; exit 1; }
  sleep 0.5
done
grep -qs '^SUPABASE_ACCESS_TOKEN=' "$scratch/local/stack.env" || { echo "the stack did not start:" >&2; cat "$scratch/start.log" >&2; exit 1; }
set -a; . "$scratch/local/stack.env"; set +a

(cd "$prev" && "$fixture/fill.sh")

(cd "$repo" && node --import tsx scripts/dump-data.ts --db-url "$SUPABASE_DB_URL" --out "$fixture/data.sql" \
  --note "The data of a Quantum Forge Data database at $commit ($(git -C "$repo" log -1 --format=%cs "$commit"))," \
  --note "filled by its $(basename "$fixture")/fill.sh. Regenerate: scripts/upgrade/make-fixture.sh ${fixture#"$repo"/}")
