// `npm run runner -- [--batch ID] [--concurrency N] [--runner-id NAME] [--lease 300] [--timeout 600] [--once] [--xtb PATH]`:
// claims batch items, runs xtb on them and posts the results. See scripts/runner/main.ts.
// SIGTERM or Ctrl-C once: claim nothing more, finish the items in hand, exit 0. Twice: kill xtb now.
import { main } from './runner/main.ts';
import { killAllGroups } from './runner/process.ts';

const stop = new AbortController();
const kill = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (stop.signal.aborted) {
    process.stderr.write(`runner: ${signal} again: killing xtb; its items return to pending when their leases expire\n`);
    kill.abort();
    killAllGroups();
    return;
  }
  process.stderr.write(`runner: ${signal}: claiming nothing more, finishing the items in hand (again to stop now)\n`);
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// xtb runs in process groups of its own: if the runner dies of an error, they must not outlive it.
process.on('exit', killAllGroups);

process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stop: stop.signal,
  kill: kill.signal,
});
// supabase-js may keep sockets alive; the work is done.
process.exit();
