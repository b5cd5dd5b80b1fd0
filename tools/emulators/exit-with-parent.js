// Preload (`node -r ./exit-with-parent.js <entry>`) that ends this process when the process that
// started it is gone, so an emulator never outlives a crashed or killed test host.
// The watched process is CLOUD_EMULATOR_PARENT_PID (set by the harness; it may already be gone by the
// time this runs) or else the parent at start-up.
'use strict';

const fromEnv = Number.parseInt(process.env.CLOUD_EMULATOR_PARENT_PID || '', 10) || 0;
const watched = fromEnv || process.ppid;
// When the watched process is our direct parent, re-parenting is the exact signal (immune to pid reuse).
const direct = process.ppid === watched;

function parentAlive() {
  if (direct) return process.ppid === watched;
  try {
    process.kill(watched, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM'; // exists but not ours to signal
  }
}

function check() {
  if (!parentAlive()) process.exit(0);
}

check();
setInterval(check, 500).unref();
