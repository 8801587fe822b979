// aws-sdk-js v2 (aws-sdk@2.1693.0) benchmark client: the same workloads as
// bench/clients/awspromise.lua, against bench/nginx on 127.0.0.1, keep-alive agent with
// maxSockets = <inflight>.
//
//   NODE_PATH=.deps/node/node_modules node bench/clients/sdk-v2.js <workload> <N> <port> [inflight=64]
//
// workloads: put-all, put-window, get-window, ddb-put, ddb-get, inflight, cold (see awspromise.lua).
// Prints one line: RESULT n= errors= cpu_ms= wall_ms= rss_kb= [bytes=]
// cpu_ms is process.cpuUsage() (user+sys of the whole process, every thread) around the timed
// part only; rss_kb is VmHWM.
'use strict';
const fs = require('fs');

const [workload, nArg, portArg, inflightArg] = process.argv.slice(2);
const N = Number(nArg);
const port = Number(portArg);
const inflight = Number(inflightArg || 64);
if (!workload || !N || !port) throw new Error('usage: sdk-v2.js <workload> <N> <port> [inflight]');

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

if (workload === 'cold') {
  const w0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const AWS = require('aws-sdk');
  const s3 = new AWS.S3({
    endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentials,
    httpOptions: { agent: new (require('http').Agent)({ keepAlive: true, maxSockets: inflight }) },
  });
  const cpu = cpuMs(c0);
  const wall = Number(process.hrtime.bigint() - w0) / 1e6;
  if (!s3) throw new Error('no client');
  result({ n: 1, errors: 0, cpu_ms: cpu, wall_ms: wall });
  process.exit(0);
}

const AWS = require('aws-sdk');
const http = require('http');
const agent = new http.Agent({ keepAlive: true, maxSockets: inflight });
const s3 = new AWS.S3({
  endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentials,
  httpOptions: { agent },
});
const ddb = new AWS.DynamoDB({ endpoint, region: 'us-east-1', credentials, httpOptions: { agent } });

const body = Buffer.alloc(1024, 'x');
let bytes = 0;
let errors = 0;
function failed(err) {
  errors++;
  if (errors <= 3) console.error('sdk-v2 client:', err && err.message ? err.message : err);
}

let make;
switch (workload) {
  case 'put-all': case 'put-window': case 'inflight':
    make = (i) => s3.putObject({ Bucket: 'bench', Key: `k${i}`, Body: body }).promise();
    break;
  case 'get-window':
    make = () => s3.getObject({ Bucket: 'bench', Key: 'big' }).promise().then((data) => { bytes += data.Body.length; });
    break;
  case 'ddb-put':
    make = (i) => ddb.putItem({
      TableName: 'bench',
      Item: { pk: { S: `k${i}` }, v: { S: body.toString('latin1', 0, 32) }, n: { N: String(i) } },
    }).promise();
    break;
  case 'ddb-get':
    make = (i) => ddb.getItem({ TableName: 'bench', Key: { pk: { S: `k${i}` } } }).promise().then((data) => {
      if (!data.Item || !data.Item.pk) throw new Error('getItem: no Item in the reply');
    });
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
  // One untimed request first: opens a connection, warms the code paths.
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
