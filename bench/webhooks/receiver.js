'use strict';
// The webhook receiver for bench/webhooks.sh: answers every POST with 200 at once and records,
// per delivery, the receive time and the event's createdAt (from the body). No dependencies.
//   node bench/webhooks/receiver.js PORT_FILE
// Listens on a free loopback port and writes it to PORT_FILE. GET /count -> number of deliveries
// received; GET /dump -> all of them as JSON lines: [receivedMs, createdAtMs, eventId, event].
const http = require('node:http');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');

const records = [];
const now = () => performance.timeOrigin + performance.now();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.end(String(records.length));
    return;
  }
  if (req.method === 'GET' && req.url === '/dump') {
    res.setHeader('content-type', 'application/x-ndjson');
    res.end(records.map((r) => JSON.stringify(r)).join('\n'));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const received = now();
    res.end('ok');
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      records.push([received, Date.parse(body.createdAt), body.id, body.event]);
    } catch {
      records.push([received, NaN, null, 'unparsable']);
    }
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
