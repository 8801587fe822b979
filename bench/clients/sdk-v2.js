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
const harness = require('./harness');

const opts = harness.args('sdk-v2.js');
const { workload, inflight, endpoint, credentials } = opts;

if (workload === 'cold') {
  harness.cold(() => {
    const AWS = require('aws-sdk');
    return new AWS.S3({
      endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentials,
      httpOptions: { agent: new (require('http').Agent)({ keepAlive: true, maxSockets: inflight }) },
    });
  });
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
const stats = harness.stats('sdk-v2 client');

let make;
switch (workload) {
  case 'put-all': case 'put-window': case 'inflight':
    make = (i) => s3.putObject({ Bucket: 'bench', Key: `k${i}`, Body: body }).promise();
    break;
  case 'get-window':
    make = () => s3.getObject({ Bucket: 'bench', Key: 'big' }).promise().then((data) => { stats.bytes += data.Body.length; });
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

harness.drive(opts, make, stats);
