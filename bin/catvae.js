#!/usr/bin/env node
// The `catvae` command: runs the built CLI (dist/cli/main.js); `npm run build` makes it in a clone.
const { runCli } = await import('../dist/cli/run.js').catch(() => {
  process.stderr.write("error: catvae's dist/ folder is missing: run 'npm run build' in the catvae folder\n");
  process.exit(1);
});
const { catvaeMain } = await import('../dist/cli/main.js');
await runCli(() => catvaeMain(process.argv.slice(2)));
