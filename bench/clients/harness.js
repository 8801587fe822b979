// What the Node benchmark clients share: their arguments, the measurements (CPU of the timed
// part, wall time, VmHWM) and the three ways of driving a workload (batches under Promise.all,
// a sliding window, everything at once). Each client only says how to make one request.
'use strict';
const fs = require('fs');

function args(script) {
  const [workload, nArg, portArg, inflightArg] = process.argv.slice(2);
  const N = Number(nArg);
  const port = Number(portArg);
  if (!workload || !N || !port) throw new Error(`usage: ${script} <workload> <N> <port> [inflight]`);
  return {
    workload, N, port,
    inflight: Number(inflightArg || 64),
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' },
  };
}

function vmhwmKb() {
  const m = /VmHWM:\s*(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m[1]);
}

function cpuMs(since) {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e3;
}

function result(fields) {
  fields.rss_kb = vmhwmKb();
  const out = ['RESULT'];
  for (const k of ['n', 'errors', 'cpu_ms', 'wall_ms', 'rss_kb', 'bytes']) {
    if (fields[k] !== undefined) out.push(`${k}=${Number.isInteger(fields[k]) ? fields[k] : fields[k].toFixed(3)}`);
  }
  console.log(out.join(' '));
}

// The cold-start workload: the time to load the SDK and construct its client.
function cold(construct) {
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const client = construct();
  const cpu = cpuMs(c0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  if (!client) throw new Error('no client');
  result({ n: 1, errors: 0, cpu_ms: cpu, wall_ms: wall });
  process.exit(0);
}

// Counters a client's request functions update.
function stats(label) {
  const s = { bytes: 0, errors: 0 };
  s.failed = (err) => {
    s.errors++;
    if (s.errors <= 3) console.error(`${label}:`, err && err.message ? err.message : err);
  };
  return s;
}

// Runs make(i) N times in the workload's pattern, timed, and prints the RESULT line.
function drive({ workload, N, inflight }, make, s) {
  async function batches() {
    let done = 0;
    for (let base = 0; base < N; base += inflight) {
      const k = Math.min(inflight, N - base);
      const list = new Array(k);
      for (let j = 0; j < k; j++) list[j] = make(base + j + 1);
      try { await Promise.all(list); } catch (err) { s.failed(err); }
      done += k;
    }
    return done;
  }

  function windowed() {
    return new Promise((resolve) => {
      let started = 0;
      let done = 0;
      const settled = () => {
        done++;
        if (started < N) launch();
        else if (done === N) resolve(done);
      };
      const rejected = (err) => { s.failed(err); settled(); };
      const launch = () => { started++; make(started).then(settled, rejected); };
      for (let k = 0; k < Math.min(inflight, N); k++) launch();
    });
  }

  async function allAtOnce() {
    const list = new Array(N);
    for (let i = 0; i < N; i++) list[i] = make(i + 1);
    try { await Promise.all(list); } catch (err) { s.failed(err); }
    return N;
  }

  (async () => {
    // One untimed request first: opens a connection, warms the code paths.
    try { await make(0); } catch (err) { s.failed(err); process.exit(3); }
    const run = workload === 'put-all' ? batches : workload === 'inflight' ? allAtOnce : windowed;
    const w0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const done = await run();
    const cpu = cpuMs(c0);
    const wall = Number(process.hrtime.bigint() - w0) / 1e6;
    result({ n: done, errors: s.errors, cpu_ms: cpu, wall_ms: wall, bytes: s.bytes || undefined });
    process.exit(0);
  })();
}

module.exports = { args, cold, stats, drive };
