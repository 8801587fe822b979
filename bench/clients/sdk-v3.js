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
const harness = require('./harness');

const opts = harness.args('sdk-v3.js');
const { workload, inflight, endpoint, credentials } = opts;

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

if (workload === 'cold') harness.cold(makeClient);

const { PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
const s3 = makeClient();

const body = Buffer.alloc(1024, 'x');
const stats = harness.stats('sdk-v3 client');

let make;
switch (workload) {
  case 'put-all': case 'put-window': case 'inflight':
    make = (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `k${i}`, Body: body }));
    break;
  case 'get-window':
    make = () => s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'big' }))
      .then((data) => data.Body.transformToByteArray())
      .then((array) => { stats.bytes += array.length; });
    break;
  default:
    throw new Error(`unknown workload ${workload}`);
}

harness.drive(opts, make, stats);
