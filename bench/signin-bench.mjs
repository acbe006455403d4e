// Full sign-in round trips per second: authorize → sign-in form (password) → code → token.
// Every round trip starts with an empty cookie jar, so each one checks a password.
//   ISSUER=… CLIENT_ID=… CLIENT_SECRET=… REDIRECT_URI=… USERS='[{"pin":…,"password":…}]' \
//   N=300 C=8 node signin-bench.mjs
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Browser, signInAndConsent } from '../tests/interop/hubforms.mjs';
import { load } from './load.mjs';

// fetch() costs the load generator several times the CPU of node:http, and the generator
// shares the machine's two cores with the hub: the same scripted browser over node:http.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const cookies = [].concat(res.headers['set-cookie'] ?? []);
        resolve({
          status: res.statusCode,
          headers: { get: (name) => res.headers[name.toLowerCase()] ?? null, getSetCookie: () => cookies },
          text: async () => text,
          json: async () => JSON.parse(text),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

class LightBrowser extends Browser {
  send(url, init) {
    return send(url, init);
  }
}

const issuer = process.env.ISSUER;
const clientId = process.env.CLIENT_ID;
const redirectUri = process.env.REDIRECT_URI;
const users = JSON.parse(process.env.USERS);
const basic = 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(process.env.CLIENT_SECRET)}`).toString('base64');
const b64url = (buf) => buf.toString('base64url');

const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();

async function roundTrip(i) {
  const user = users[i % users.length];
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const url = new URL(metadata.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid profile',
    state, nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  }).toString();
  const { callback, visited } = await signInAndConsent(new LightBrowser(), url, { ...user, redirectUri });
  if (!visited.includes('login')) throw new Error('no password was asked');
  if (callback.searchParams.get('state') !== state) throw new Error('state mismatch');
  const r = await send(metadata.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier }).toString(),
  });
  const j = await r.json();
  if (r.status !== 200 || !j.id_token) throw new Error(`token: ${r.status} ${JSON.stringify(j)}`);
  return visited;
}

const warm = Number(process.env.WARMUP ?? users.length);
if (warm) await load({ label: 'warm-up (first consents)', n: warm, c: 1, task: roundTrip });
const result = await load({ label: 'sign-in round trip', n: Number(process.env.N || 300), c: Number(process.env.C || 8), task: roundTrip });
console.log(JSON.stringify(result));
