// A light HTTP/1.1 load generator: C keep-alive connections, one request in flight on
// each, N requests in all. It spends far less CPU per request than fetch(), which matters
// when the load generator shares two cores with the server it measures.
//   URL=http://127.0.0.1:8000/oauth2/introspect METHOD=POST BODY='token=…' \
//   HEADERS='{"authorization":"Basic …","content-type":"application/x-www-form-urlencoded"}' \
//   EXPECT='"active":true' N=5000 C=20 node http-load.mjs
// BODIES (a JSON array of strings) instead of BODY sends them in turn, e.g. many tokens.
// Every answer must have status 200 and, when EXPECT is set, contain it; anything else
// counts as an error. Prints one JSON line like load.mjs.
import net from 'node:net';

const url = new URL(process.env.URL);
const n = Number(process.env.N || 3000);
const c = Number(process.env.C || 20);
const expect = process.env.EXPECT || '';
const headers = JSON.parse(process.env.HEADERS || '{}');
let head = `${process.env.METHOD || 'GET'} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
const requests = (process.env.BODIES ? JSON.parse(process.env.BODIES) : [process.env.BODY || '']).map((text) => {
  const body = Buffer.from(text);
  const length = body.length ? `content-length: ${body.length}\r\n` : '';
  return Buffer.concat([Buffer.from(head + length + '\r\n'), body]);
});

const lat = [];
let errors = 0;
let started = 0;
let firstError;

function fail(message) {
  errors++;
  firstError ??= message.slice(0, 300);
}

function connection() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port || 80), url.hostname);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let t = 0;
    const send = () => {
      if (started >= n) {
        socket.end();
        resolve();
        return;
      }
      const request = requests[started % requests.length];
      started++;
      t = performance.now();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('data', (chunk) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const header = buffer.subarray(0, end).toString('latin1');
      const match = /\r\ncontent-length:\s*(\d+)/i.exec(header);
      const length = match ? Number(match[1]) : 0;
      if (buffer.length < end + 4 + length) return;
      const answer = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      buffer = buffer.subarray(end + 4 + length);
      lat.push(performance.now() - t);
      if (!header.startsWith('HTTP/1.1 200')) fail(`${header.split('\r\n')[0]} ${answer}`);
      else if (expect && !answer.includes(expect)) fail(`no ${expect} in ${answer}`);
      send();
    });
    socket.on('error', (err) => {
      fail(String(err.message));
      resolve();
    });
    socket.on('close', () => {
      if (started < n) fail('connection closed by the server');
      resolve();
    });
  });
}

const t0 = performance.now();
await Promise.all(Array.from({ length: c }, connection));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
const p = (q) => +(lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : 0).toFixed(2);
const done = lat.length;
console.log(JSON.stringify({
  url: url.href, requests: done, concurrency: c, errors, rps: +(done / secs).toFixed(1),
  p50_ms: p(0.5), p95_ms: p(0.95), p99_ms: p(0.99), ...(firstError ? { first_error: firstError } : {}),
}));
