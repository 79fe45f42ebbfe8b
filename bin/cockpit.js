#!/usr/bin/env node
// Production mode before React (or anything else) loads: the development build leaks memory in an hour-long watch.
process.env.NODE_ENV = 'production';

let mod;
try {
  mod = await import('../dist/cockpit.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cockpit.js')) {
    process.stderr.write('cockpit: not built yet. Run `npm install` (or `npm run build`) in the cockpit folder first.\n');
    process.exit(2);
  }
  throw e;
}
const code = await mod.main(process.argv.slice(2));
process.exitCode = code;
