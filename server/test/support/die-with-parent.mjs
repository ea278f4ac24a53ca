// Preloaded (`node --import`) into the servers and agents a test suite starts, so none outlives
// the suite: when the process that started it is gone (killed, crashed, a runner that timed out),
// the child is re-parented and process.ppid changes. It then stops itself with SIGTERM (its own
// clean shutdown) and exits hard if that has not finished after 20 s.
const parent = process.ppid;
const watchdog = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watchdog);
  setTimeout(() => process.exit(1), 20_000).unref();
  process.kill(process.pid, "SIGTERM");
}, 500);
watchdog.unref();
