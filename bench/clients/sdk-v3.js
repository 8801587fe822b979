// aws-sdk-js v3 (@aws-sdk/client-s3, version pinned in tools/npm-packages) benchmark client: the
// S3 workloads of bench/clients/awspromise.lua against bench/nginx on 127.0.0.1, with a
// NodeHttpHandler over a keep-alive agent (maxSockets = <inflight>).
//
//   NODE_PATH=.deps/node/node_modules node bench/clients/sdk-v3.js <workload> <N> <port> [inflight=64]
//
// workloads: put-all, put-window, get-window, inflight, cold (see awspromise.lua).
// The client is told to add no flexible checksum (requestChecksumCalculation and
// responseChecksumValidation "WHEN_REQUIRED"), so that its requests have the same shape as the
// other clients' (Host, x-amz-content-sha256, X-Amz-Date, Authorization; no x-amz-checksum-*).
// Prints one line: RESULT n= errors= cpu_ms= wall_ms= rss_kb= [bytes=]
'use strict';
const fs = require('fs');

const [workload, nArg, portArg, inflightArg] = process.argv.slice(2);
const N = Number(nArg);
const port = Number(portArg);
const inflight = Number(inflightArg || 64);
if (!workload || !N || !port) throw new Error('usage: sdk-v3.js <workload> <N> <port> [inflight]');

const endpoint = `http://127.0.0.1:${port}`;
const credentials = { accessKeyId: 'AKID', secretAccessKey: 'SECRET' };

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

function makeClient() {
  const { S3Client } = require('@aws-sdk/client-s3');
  const { NodeHttpHandler } = require('@smithy/node-http-handler');
  const http = require('http');
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: inflight }),
    }),
  });
}

if (workload === 'cold') {
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const client = makeClient();
  const cpu = cpuMs(c0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  if (!client) throw new Error('no client');
  result({ n: 1, errors: 0, cpu_ms: cpu, wall_ms: wall });
  process.exit(0);
}

const { PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = makeClient();

const body = Buffer.alloc(1024, 'x');
let bytes = 0;
let errors = 0;
function failed(err) {
  errors++;
  if (errors <= 3) console.error('sdk-v3 client:', err && err.message ? err.message : err);
}

let make;
switch (workload) {
  case 'put-all': case 'put-window': case 'inflight':
    make = (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `k${i}`, Body: body }));
    break;
  case 'get-window':
    make = () => s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'big' }))
      .then((data) => data.Body.transformToByteArray())
      .then((array) => { bytes += array.length; });
    break;
  default:
    throw new Error(`unknown workload ${workload}`);
}

async function batches() {
  let done = 0;
  for (let base = 0; base < N; base += inflight) {
    const k = Math.min(inflight, N - base);
    const list = new Array(k);
    for (let j = 0; j < k; j++) list[j] = make(base + j + 1);
    try { await Promise.all(list); } catch (err) { failed(err); }
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
    const rejected = (err) => { failed(err); settled(); };
    const launch = () => { started++; make(started).then(settled, rejected); };
    for (let k = 0; k < Math.min(inflight, N); k++) launch();
  });
}

async function allAtOnce() {
  const list = new Array(N);
  for (let i = 0; i < N; i++) list[i] = make(i + 1);
  try { await Promise.all(list); } catch (err) { failed(err); }
  return N;
}

(async () => {
  try { await make(0); } catch (err) { failed(err); process.exit(3); }
  const run = workload === 'put-all' ? batches : workload === 'inflight' ? allAtOnce : windowed;
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const done = await run();
  const cpu = cpuMs(c0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  result({ n: done, errors, cpu_ms: cpu, wall_ms: wall, bytes: bytes || undefined });
  process.exit(0);
})();
